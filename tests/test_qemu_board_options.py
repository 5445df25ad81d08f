"""QEMU board options (``board qemu-q35 max-ram-below-4g 1G`` ...), checked against the tables
QEMU 7.2 builds itself from fwc's own ``-b qemu`` command line (tests/oracles/qemu/
firmware_tables.py: SeaBIOS only, no kernel, well under a second per machine)."""

from __future__ import annotations

import json

import pytest

from fwc import boards
from fwc.api import Fwc

from oracles.qemu.firmware_tables import qemu_tables

G, M = 1 << 30, 1 << 20


@pytest.mark.parametrize("board, limit, ram, below", [
    # measured (shared/spec/qemu.md 1.1)
    ("qemu-q35", 1 * G, 4 * G, 1 * G),
    ("qemu-pc", 4 * G, 3968 * M, 3968 * M),
    ("qemu-pc", 2 * G, 4 * G, 2 * G),
    # QEMU's defaults are unchanged without the option
    ("qemu-q35", 0, 2815 * M, 2815 * M),
    ("qemu-q35", 0, 2816 * M, 2 * G),
    ("qemu-pc", 0, 3583 * M, 3583 * M),
    ("qemu-pc", 0, 3584 * M, 3 * G),
    # q35 only lowers its own limit; pc still caps a large machine at 3 GiB
    ("qemu-q35", 3 * G, 2816 * M, 2 * G),
    ("qemu-pc", 4 * G, 5 * G, 3 * G),
])
def test_below_4g(board, limit, ram, below):
    assert boards.below_4g(board, ram, limit) == below
    if ram > below:  # RAM above 4 GiB: the split end is recovered from the amount above
        assert boards.split_low_end(board, ram - below, limit) == below


def _compile(text: str):
    """(argv, {signature: fwc's table bytes}) of a machine."""
    r = Fwc().compile(text=text, name="m.fwc", backends=["acpi", "qemu"])
    assert not r.errors, r.render_diagnostics()
    tables = {a.path.split("/")[-1][:-4]: a.data for a in r.artifacts if a.path.endswith(".aml")}
    return json.loads(r.artifact("qemu/argv.json").text), tables


MACHINE = """machine "m" {{
  board {board} max-ram-below-4g {limit}
  slots 2 maxmem 16G
  node 0 {{ cpus 0  memory size {a} }}
  node 1 {{ cpus 1  memory size {b}  dimm size 1G }}
}}
"""


def test_option_reaches_the_command_line():
    argv, _ = _compile(MACHINE.format(board="qemu-q35", limit="1G", a="1G", b="3G"))
    assert argv[argv.index("-machine") + 1] == "q35,max-ram-below-4g=1G"


def test_option_errors():
    f = Fwc()
    r = f.check(text='machine "m" { board generic max-ram-below-4g 1G  node 0 { memory 0 size 1G } }', name="m.fwc")
    assert [d.check for d in r.errors] == ["misplaced-statement"]
    r = f.check(text='machine "m" { board qemu-pc max-ram-below-4g 5G  node 0 { memory size 1G } }', name="m.fwc")
    assert [d.check for d in r.errors] == ["field-range"]


@pytest.mark.oracle
@pytest.mark.parametrize("board, limit, a, b", [
    ("qemu-q35", "1G", "1G", "3G"),            # split at the limit
    ("qemu-q35", "0xa0000000", "1G", "1664M"),  # below q35's 0xb0000000: split at the limit
    ("qemu-q35", "0xa0000000", "2G", "2G"),     # 4 GiB of RAM: q35's own 2 GiB split
    ("qemu-pc", "2G", "1G", "3G"),
    ("qemu-pc", "4G", "1G", "2944M"),           # pc raises its limit: 3968M all below 4 GiB
    ("qemu-pc", "0xd0000000", "1G", "2560M"),
])
def test_tables_match_qemu(qemu, board, limit, a, b):
    argv, mine = _compile(MACHINE.format(board=board, limit=limit, a=a, b=b))
    argv[0] = qemu
    got = qemu_tables(argv)
    for sig in ("SRAT", "APIC"):
        assert mine[sig] == got[sig], sig


NO_NUMA = """machine "m" {
  board qemu-q35
  cpus 0-3
  memory size 128M
}
"""


def test_machine_without_numa():
    """Memory outside any node: no SRAT, no -numa; Linux fakes node 0 (the model's node 0)."""
    argv, mine = _compile(NO_NUMA)
    assert "SRAT" not in mine and "-numa" not in argv and argv[argv.index("-m") + 1] == "128M"
    r = Fwc().check(text=NO_NUMA, name="m.fwc")
    assert not r.machine.numa and [len(n.cpus) for n in r.machine.nodes] == [4]
    r = Fwc().check(text=NO_NUMA.replace("memory size 128M", "memory size 128M  slots 2 maxmem 4G"), name="m.fwc")
    assert [d.check for d in r.errors] == ["qemu-hotplug-memory"]  # QEMU would create node 0 itself
    r = Fwc().check(text=NO_NUMA.replace("cpus 0-3", "node 0 { cpus 0 }"), name="m.fwc")
    assert "misplaced-statement" in [d.check for d in r.errors]


OEM = """machine "m" {
  board qemu-pc
  oem id "TE,ST" table "OEM"
  node 0 { cpus 0-1  memory size 1G }
}
"""


def test_oem_identity_on_the_command_line():
    argv, _ = _compile(OEM)
    assert argv[argv.index("-machine") + 1] == "pc,x-oem-id=TE,,ST,x-oem-table-id=OEM"
    r = Fwc().check(text=OEM.replace('table "OEM"', 'table "OEM" revision 3'), name="m.fwc")
    assert [d.check for d in r.warnings if d.check.startswith("qemu")] == ["qemu-oem"]


@pytest.mark.oracle
@pytest.mark.parametrize("text", [NO_NUMA, OEM], ids=["no-numa", "oem"])
def test_more_tables_match_qemu(qemu, text):
    argv, mine = _compile(text)
    argv[0] = qemu
    got = qemu_tables(argv)
    for sig in ("SRAT", "APIC", "SLIT"):
        assert mine.get(sig) == got.get(sig), sig
    assert got["APIC"][10:16] == mine["APIC"][10:16]


def test_qom_child_order_as_measured():
    """The NVDIMM order QEMU 7.2 wrote for devices d0-d5 and d0-d4 (read from its SRAT)."""
    assert boards.qom_child_order([f"d{k}" for k in range(6)]) == ["d1", "d3", "d5", "d0", "d2", "d4"]
    assert boards.qom_child_order([f"d{k}" for k in range(5)]) == ["d1", "d3", "d0", "d2", "d4"]


NVDIMMS = """machine "m" {
  board qemu-pc
  slots 12 maxmem 16G
  node 0 { cpus 0  memory size 1G  dimm size 512M nonvolatile  dimm size 256M  dimm size 128M nonvolatile }
  node 1 { cpus 1  memory size 1G  dimm size 1G nonvolatile  dimm size 128M nonvolatile  dimm size 128M }
  node 2 { dimm size 256M nonvolatile  dimm size 128M nonvolatile  dimm size 128M nonvolatile
           dimm size 128M nonvolatile  dimm size 128M nonvolatile  dimm size 128M }
}
"""


def test_nvdimms_on_the_command_line():
    argv, mine = _compile(NVDIMMS)
    assert argv[argv.index("-machine") + 1] == "pc,nvdimm=on"
    devices = [argv[i + 1].split(",")[0] for i, a in enumerate(argv) if a == "-device"]
    assert devices.count("nvdimm") == 9 and devices.count("pc-dimm") == 3
    r = Fwc().compile(text=NVDIMMS, name="m.fwc", backends=["boot"])
    assert not r.errors, r.render_diagnostics()
    # NVDIMMs are not ACPI memory devices: Linux hot-adds only the 3 pc-dimms
    assert r.artifact("boot/zones.txt").text.count("# dimm [mem") == 3


@pytest.mark.oracle
def test_nvdimm_srat_matches_qemu(qemu):
    """12 devices: QEMU's GHashTable grows once; the NVDIMM entries come in its bucket order."""
    argv, mine = _compile(NVDIMMS)
    argv[0] = qemu
    got = qemu_tables(argv)
    assert mine["SRAT"] == got["SRAT"]
    assert "NFIT" in got  # nvdimm=on reached QEMU


X2APIC = """machine "x2" {{
  board qemu-q35{opts}
  topology sockets 2 cores 144 threads 1
  node 0 {{ cpus 0-1  cpus 2-143 disabled  memory size 1G }}
  node 1 {{ cpus 256-399 disabled  memory size 1G }}
}}
"""


@pytest.mark.parametrize("opts, errors", [
    ("", ["qemu-x2apic"]),                                   # TCG: APIC IDs 0-254 only
    (" accel kvm", []),                                      # KVM's in-kernel irqchip (on)
    (" accel kvm kernel-irqchip split", []),
    (" accel kvm kernel-irqchip off", ["qemu-x2apic"]),      # QEMU: "requires kernel irqchip"
    (" kernel-irqchip split", ["misplaced-statement"]),      # not a TCG option
    (" accel hvf", ["unknown-value"]),
])
def test_accelerator(opts, errors):
    r = Fwc().check(text=X2APIC.format(opts=opts), name="m.fwc")
    assert [d.check for d in r.errors] == errors, r.render_diagnostics()


def test_kvm_command_line():
    argv, mine = _compile(X2APIC.format(opts=" accel kvm kernel-irqchip split"))
    assert argv[1:5] == ["-accel", "kvm", "-cpu", "host"]
    assert argv[argv.index("-machine") + 1] == "q35,kernel-irqchip=split"
    assert mine["APIC"][44] == 0  # the first CPU: a Local APIC entry ...
    assert 9 in {mine["APIC"][i] for i in range(44, len(mine["APIC"]))}  # ... later ones x2APIC


@pytest.mark.oracle
def test_x2apic_tables_match_qemu_under_kvm(qemu):
    """QEMU 7.2 under KVM (kernel-irqchip=split) builds the same x2APIC SRAT and MADT."""
    from oracles.qemu.firmware_tables import kvm_runs_firmware

    why = kvm_runs_firmware(qemu)
    if why is not None:
        pytest.skip(f"KVM cannot run SeaBIOS here: {why}")
    argv, mine = _compile(X2APIC.format(opts=" accel kvm kernel-irqchip split"))
    argv[0] = qemu
    got = qemu_tables(argv)
    assert mine["SRAT"] == got["SRAT"] and mine["APIC"] == got["APIC"]


def test_decompile_of_x2apic_tables_says_kvm(tmp_path):
    _, mine = _compile(X2APIC.format(opts=" accel kvm"))
    for sig in ("SRAT", "APIC"):
        (tmp_path / f"{sig}.aml").write_bytes(mine[sig])
    d = Fwc().decompile(str(tmp_path))
    assert "board qemu-q35 accel kvm" in d.text
    assert not Fwc().check(text=d.text, name="d.fwc").errors


def test_generic_board_cpu_257_gets_an_x2apic_entry():
    """A Local APIC entry's processor ID is one byte: from the 257th CPU on fwc writes x2APIC
    entries (it crashed before), and the decompile gives the machine back."""
    text = 'machine "big" {\n node 0 { cpus 300-309  memory 0 size 1G }\n node 1 { cpus 0-254  memory 1G size 1G }\n}\n'
    r = Fwc().compile(text=text, name="m.fwc", backends=["acpi"])
    assert not r.errors, r.render_diagnostics()
    madt = r.artifact("acpi/APIC.aml").data
    off, kinds = 44, []
    while off < len(madt):
        # (type, processor UID): x2APIC entries carry it at offset 12, Local APIC ones at 2
        kinds.append((madt[off], int.from_bytes(madt[off + 12:off + 16], "little") if madt[off] == 9 else madt[off + 2]))
        off += madt[off + 1]
    cpus = [k for k in kinds if k[0] in (0, 9)]
    assert cpus[255] == (0, 255) and cpus[256] == (9, 256) and len(cpus) == 265


def test_a_dimm_maxmem_cannot_hold_gets_one_error():
    """The DIMMs get no address: one error, none about a range [-0x1-…] (issue 16)."""
    text = ('machine "m" {\n board qemu-q35\n slots 2 maxmem 1G\n'
            ' node 0 { cpus 0  memory size 2G  dimm size 1G  dimm size 512M }\n}\n')
    r = Fwc().check(text=text, name="m.fwc")
    assert [(d.check, d.message) for d in r.diagnostics if d.severity in ("error", "warning")] == [
        ("board-memory", "maxmem 1 GiB is less than boot RAM plus DIMMs (2 GiB + 1536 MiB)")]


def test_hand_split_qemu_srat_keeps_its_padding_entry(tmp_path):
    """QEMU's SRAT edited by hand for an initrd override (shared/spec/qemu.md 5.1): node 1's
    range split in two, the second half hotpluggable, QEMU's disabled padding entry kept where
    it was, with the proximity domain the editor left in it.  The decompile describes it (the
    padding as node 1's disabled empty range, in place), not as verbatim bytes, and the
    description compiles back to these bytes."""
    import struct

    _, mine = _compile('machine "m" {\n board qemu-q35\n node 0 { cpus 0  memory size 2G }\n'
                       ' node 1 { cpus 1  memory size 2G }\n}\n')
    srat = bytearray(mine["SRAT"])
    entries, off = [], 48
    while off < len(srat):
        entries.append(bytes(srat[off:off + srat[off + 1]]))
        off += srat[off + 1]
    mem = [e for e in entries if e[0] == 1]
    assert [struct.unpack_from("<Q", e, 8)[0] for e in mem] == [0, 0x100000, 0x100000000, 0]  # QEMU's padding last

    def entry(pxm, base, size, flags):
        return bytes([1, 40]) + struct.pack("<IHQQIIQ", pxm, 0, base, size, 0, flags, 0)

    split = [entry(1, 0x100000000, 0x40000000, 1), entry(1, 0, 0, 0), entry(1, 0x140000000, 0x40000000, 3)]
    body = b"".join(e for e in entries if e[0] != 1) + mem[0] + mem[1] + b"".join(split)
    table = bytearray(srat[:48] + body)
    struct.pack_into("<I", table, 4, len(table))
    table[9] = 0
    table[9] = -sum(table) & 0xFF
    (tmp_path / "SRAT.aml").write_bytes(bytes(table))
    d = Fwc().decompile(str(tmp_path))
    assert not d.errors and "verbatim" not in d.text, d.render_diagnostics()
    node1 = d.text[d.text.index("node 1"):]
    assert "memory 4G size 1G\n        memory 0 size 0 disabled\n        memory 5G size 1G hotpluggable" in node1
    back = Fwc().compile(text=d.text, name="d.fwc", backends=["acpi"])
    assert back.artifact("acpi/SRAT.aml").data == bytes(table)
    # the same table as a QEMU-board description (what an initrd override is written as): an
    # entry list places QEMU's padding entry and gives its proximity domain
    text = """machine "m" {
  board qemu-q35
  tables { srat { cpus 0-1  memory 0, 0x100000, 0x100000000  placeholder memory 0 size 0 pxm 1 disabled
                  memory 0x140000000 } }
  node 0 { cpus 0  memory size 2G }
  node 1 { cpus 1  memory size 1G  memory size 1G hotpluggable }
  initrd at 1G size 8M { override srat }
  cmdline "nokaslr movable_node"
}
"""
    r = Fwc().compile(text=text, name="m.fwc", backends=["acpi"])
    assert not r.errors, r.render_diagnostics()
    assert r.artifact("acpi/SRAT.aml").data == bytes(table)
