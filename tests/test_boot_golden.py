"""The boot simulator against real boots: QEMU 7.2 + Debian 6.1.0-56 goldens
(tests/golden/qemu/*) and the observed excerpts of shared/spec/kernel-boot-cases.md §4."""

from __future__ import annotations

import json
import pathlib

import pytest

from fwc.api import Fwc
from fwc_plugins.boot.sim import simulate
from oracles.qemu.boot import memory_lines

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "qemu"
CASES = sorted(p.stem for p in (ROOT / "examples" / "qemu").glob("*.fwc") if (GOLDEN / p.stem / "dmesg-memory.txt").exists())
_fwc = Fwc()


def machine(path=None, text=None):
    r = _fwc.load(path, text=text) if path else _fwc.load(text=text, name="<test>")
    assert r.machine is not None, r.render_diagnostics()
    return r.machine


def golden_lines(case):
    lines = (GOLDEN / case / "dmesg-memory.txt").read_text().splitlines()
    end = next(i for i, ln in enumerate(lines) if ln.startswith("Memory: "))
    return lines[:end]


@pytest.mark.parametrize("case", CASES)
def test_dmesg_equals_real_boot(case):
    m = machine(ROOT / "examples" / "qemu" / f"{case}.fwc")
    cmdline = json.loads((GOLDEN / case / "case.json").read_text())["kernel_cmdline"]
    b = simulate(m, cmdline=cmdline)
    assert memory_lines("\n".join(b.dmesg)) == golden_lines(case)


@pytest.mark.parametrize("case", CASES)
def test_zoneinfo_equals_real_boot(case):
    m = machine(ROOT / "examples" / "qemu" / f"{case}.fwc")
    cmdline = json.loads((GOLDEN / case / "case.json").read_text())["kernel_cmdline"]
    b = simulate(m, cmdline=cmdline)
    gold = [tuple(ln.split()[:5]) for ln in (GOLDEN / case / "zoneinfo.txt").read_text().splitlines()
            if ln and not ln.startswith("#")]
    assert [tuple(map(str, z)) for z in b.zones_final] == gold


@pytest.mark.parametrize("case", CASES)
def test_firmware_tables_are_qemus(case):
    from fwc_plugins.boot import firmware

    m = machine(ROOT / "examples" / "qemu" / f"{case}.fwc")
    fw = firmware.build(m)
    for t in fw.tables:
        if t.data:
            assert t.data == (GOLDEN / case / f"{t.signature}.aml").read_bytes(), t.signature


# --- kernel-boot-cases.md §4 -------------------------------------------------------------

Q35_2NODE = """
machine "m" {{
    board qemu-q35
    oem id "BOCHS " table "BXPC    " revision {rev} creator "INTL" 0x20200925
    {tables}
    {slots}
    node 0 {{ cpus 0-1  {n0} }}
    node 1 {{ cpus 2-3  {n1} }}
    initrd at 0x7FED3000 size 0xFC800 {{ override srat }}
    cmdline "console=ttyS0 nokaslr {cmd}"
}}
"""


N0 = "memory 0 size 640K  memory 1M size 2047M"


def two_node(cmd="movable_node", n0="memory size 2G", n1="memory size 2G hotpluggable", rev=2, slots="slots 4 maxmem 16G",
             tables=""):
    return machine(text=Q35_2NODE.format(cmd=cmd, n0=n0, n1=n1, rev=rev, slots=slots, tables=tables))


def subsequence(needles, hay):
    it = iter(hay)
    missing = [n for n in needles if not any(n == h for h in it)]
    return missing


SPEC_4_1 = """\
ACPI: SRAT ACPI table found in initrd [kernel/firmware/acpi/srat.aml][0x138]
modified physical RAM map:
modified: [mem 0x0000000000000000-0x0000000000000fff] reserved
modified: [mem 0x0000000000001000-0x000000000009fbff] usable
modified: [mem 0x000000000009fc00-0x000000000009ffff] reserved
modified: [mem 0x00000000000f0000-0x00000000000fffff] reserved
modified: [mem 0x0000000000100000-0x0000000000100137] ACPI NVS
modified: [mem 0x0000000000100138-0x000000007ffdefff] usable
modified: [mem 0x000000007ffdf000-0x000000007fffffff] reserved
modified: [mem 0x00000000b0000000-0x00000000bfffffff] reserved
modified: [mem 0x00000000fed1c000-0x00000000fed1ffff] reserved
modified: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
modified: [mem 0x0000000100000000-0x000000017fffffff] usable
modified: [mem 0x000000fd00000000-0x000000ffffffffff] reserved
ACPI: RSDT 0x000000007FFE2AFB 00003C (v01 BOCHS  BXPC     00000001 BXPC 00000001)
ACPI: Table Upgrade: override [SRAT-BOCHS -BXPC    ]
ACPI: SRAT 0x000000007FFE295F Physical table override, new table: 0x0000000000100000
ACPI: SRAT 0x0000000000100000 000138 (v01 BOCHS  BXPC     00000002 INTL 20200925)
ACPI: Reserving SRAT table memory at [mem 0x100000-0x100137]
SRAT: PXM 0 -> APIC 0x00 -> Node 0
SRAT: PXM 0 -> APIC 0x01 -> Node 0
SRAT: PXM 1 -> APIC 0x02 -> Node 1
SRAT: PXM 1 -> APIC 0x03 -> Node 1
ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]
ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x7fffffff]
ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x17fffffff] hotplug
ACPI: SRAT: Node 1 PXM 1 [mem 0x180000000-0x57fffffff] hotplug
NUMA: Node 0 [mem 0x00000000-0x0009ffff] + [mem 0x00100000-0x7fffffff] -> [mem 0x00000000-0x7fffffff]
NODE_DATA(0) allocated [mem 0x7fea8000-0x7fed2fff]
NODE_DATA(1) allocated [mem 0x7fe7d000-0x7fea7fff]
    NODE_DATA(1) on node 0
Zone ranges:
  DMA      [mem 0x0000000000001000-0x0000000000ffffff]
  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]
  Normal   [mem 0x0000000100000000-0x000000017fffffff]
  Device   empty
Movable zone start for each node
  Node 1: 0x0000000100000000
Early memory node ranges
  node   0: [mem 0x0000000000001000-0x000000000009efff]
  node   0: [mem 0x0000000000100000-0x000000007ffdefff]
  node   1: [mem 0x0000000100000000-0x000000017fffffff]
Initmem setup node 0 [mem 0x0000000000001000-0x000000007ffdefff]
Initmem setup node 1 [mem 0x0000000100000000-0x000000017fffffff]
On node 0, zone DMA: 1 pages in unavailable ranges
On node 0, zone DMA: 97 pages in unavailable ranges
On node 1, zone Movable: 33 pages in unavailable ranges
Fallback order for Node 0: 0 1 
Fallback order for Node 1: 1 0 
Built 2 zonelists, mobility grouping on.  Total pages: 1031902
Policy zone: DMA32
"""


def test_spec_4_1_initrd_srat_override_makes_node1_movable():
    m = machine(ROOT / "examples" / "boot" / "q35_node1_hotplug_override.fwc")
    b = simulate(m)
    assert subsequence(SPEC_4_1.splitlines(), b.dmesg) == []
    assert [z[:5] for z in b.zones] == [(0, "DMA", 1, 4095, 3998), (0, "DMA32", 4096, 520159, 520159),
                                       (1, "Movable", 1048576, 524288, 524288)]
    assert "RAMDISK: [mem 0x7fed3000-0x7ffcffff]" in b.dmesg
    assert b.pins == []


def zmp_line(b):
    return [ln.strip() for ln in b.dmesg if ln.startswith("  Node ")]


@pytest.mark.parametrize("cmd,expect", [
    ("kernelcore=1G", ["Node 1: 0x0000000100000000"]),
    ("kernelcore=3G", ["Node 1: 0x0000000140400000"]),
    ("movablecore=1G", ["Node 1: 0x0000000140000000"]),
    ("movablecore=50%", ["Node 1: 0x0000000100000000"]),
])
def test_spec_4_2_kernelcore_movablecore(cmd, expect):
    m = machine(ROOT / "examples" / "qemu" / "a_q35_2node.fwc")
    assert zmp_line(simulate(m, cmdline="console=ttyS0 nokaslr " + cmd)) == expect


def node1(b):
    return [z for z in b.zones if z[0] == 1]


def nd1(b):
    ln = next(ln for ln in b.dmesg if ln.startswith("NODE_DATA(1)"))
    return ln.split("[mem ")[1].split("-")[0]


@pytest.mark.parametrize("kw,zmp,zones,nd", [
    # override, no movable_node
    (dict(cmd=""), [], [(1, "Normal", 1048576, 524288, 524288)], "0x17ffd3000"),
    # override + movable_node (4.1)
    (dict(), ["Node 1: 0x0000000100000000"], [(1, "Movable", 1048576, 524288, 524288)], "0x7fe7d000"),
    # upper half of node 1 hotplug
    (dict(n0=N0, n1="memory 4G size 1G  memory 5G size 1G hotpluggable"), ["Node 1: 0x0000000140000000"],
     [(1, "Normal", 1048576, 262144, 262144), (1, "Movable", 1310720, 262144, 262144)], "0x13ffd5000"),
    # node 0 hotplug: kernel node
    (dict(n0="memory size 2G hotpluggable", n1="memory size 2G"), [], [(1, "Normal", 1048576, 524288, 524288)],
     "0x17ffd5000"),
    # movable_node + movablecore: movablecore ignored
    (dict(cmd="movable_node movablecore=1G"), ["Node 1: 0x0000000100000000"],
     [(1, "Movable", 1048576, 524288, 524288)], "0x7fe7d000"),
    # kernelcore=1G, override makes no difference
    (dict(cmd="kernelcore=1G"), ["Node 1: 0x0000000100000000"], [(1, "Movable", 1048576, 524288, 524288)],
     "0x17ffd3000"),
])
def test_spec_4_3_variants(kw, zmp, zones, nd):
    b = simulate(two_node(**kw))
    assert zmp_line(b) == zmp
    assert node1(b) == zones
    assert nd1(b) == nd
    assert [z for z in b.zones if z[0] == 0] == [(0, "DMA", 1, 4095, 3998), (0, "DMA32", 4096, 520159, 520159)]


@pytest.mark.parametrize("cmd,zones", [
    ("kernelcore=3G", [(1, "Normal", 1048576, 263168, 263168), (1, "Movable", 1311744, 261120, 261120)]),
    ("movablecore=1G", [(1, "Normal", 1048576, 262144, 262144), (1, "Movable", 1310720, 262144, 262144)]),
    ("movablecore=50%", [(1, "Movable", 1048576, 524288, 524288)]),
])
def test_spec_4_3_no_override(cmd, zones):
    b = simulate(machine(ROOT / "examples" / "qemu" / "a_q35_2node.fwc"), cmdline="console=ttyS0 nokaslr " + cmd)
    assert node1(b) == zones and nd1(b) == "0x17ffd3000"


@pytest.mark.parametrize("rev", [1, 0])
def test_spec_4_4_equal_or_lower_revision_ignored(rev):
    b = simulate(two_node(rev=rev))
    assert "ACPI: SRAT ACPI table found in initrd [kernel/firmware/acpi/srat.aml][0x138]" in b.dmesg
    assert not any("Table Upgrade" in ln for ln in b.dmesg)
    assert "ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x17fffffff]" in b.dmesg
    assert zmp_line(b) == [] and node1(b) == [(1, "Normal", 1048576, 524288, 524288)]


def test_spec_4_4_other_table_id_installed_and_ignored():
    b = simulate(two_node(tables='tables { srat oem id "BOCHS " table "OTHERTBL" revision 2 }'))
    assert "ACPI: Table Upgrade: install [SRAT-BOCHS -OTHERTBL]" in b.dmesg
    assert zmp_line(b) == [] and node1(b) == [(1, "Normal", 1048576, 524288, 524288)]


FOUR = """
machine "m" {{
    board qemu-q35
    oem id "BOCHS " table "BXPC    " revision 2
    topology sockets 4 cores 1 threads 1
    node 0 {{ cpus 0  memory size 1G {h0} }}
    node 1 {{ cpus 1  memory size 512M {h1} }}
    node 2 {{ cpus 2  memory size 2560M {h2} }}
    node 3 {{ cpus 3 }}
    initrd at 0x7FED3000 size 0xFC800 {{ override srat }}
    cmdline "console=ttyS0 nokaslr {cmd}"
}}
"""


def four(cmd="", hot=()):
    h = {f"h{i}": ("hotpluggable" if i in hot else "") for i in range(3)}
    return machine(text=FOUR.format(cmd=cmd, **h))


def test_spec_4_5_base4():
    b = simulate(machine(ROOT / "examples" / "boot" / "q35_4node.fwc"))
    assert subsequence(["Initializing node 3 as memoryless", "Initmem setup node 3 as memoryless"], b.dmesg) == []
    assert (2, "DMA32", 393216, 655360, 131039) in b.zones


def test_spec_4_5_T1a_movable_below_4g():
    b = simulate(four("movable_node", hot=(1,)))
    assert zmp_line(b) == ["Node 1: 0x0000000040000000"]
    assert node1(b) == [(1, "Movable", 262144, 131072, 131072)]
    assert subsequence(["NODE_DATA(1) allocated [mem 0x17ffd5000-0x17fffffff]", "    NODE_DATA(1) on node 2"],
                       b.dmesg) == []


def test_spec_4_5_T1c_initrd_pins_node2():
    b = simulate(four("movable_node", hot=(2,)))
    assert zmp_line(b) == [] and 2 in b.kernel_nodes
    assert any(nid == 2 and any("initrd" in a.purpose for a in why) for nid, _, why, _ in b.pins)


def test_spec_4_5_T1k_kernelcore_three_nodes():
    assert zmp_line(simulate(four("kernelcore=3G"))) == ["Node 2: 0x0000000140400000"]


THREE = """
machine "m" {{
    board qemu-q35
    oem id "BOCHS " table "BXPC    " revision 2
    topology sockets 3 cores 1 threads 1
    node 0 {{ cpus 0  memory 0 size 640K  memory 1M size 2047M }}
    node 1 {{ cpus 1  memory 4G size 1G {h1} }}
    node 2 {{ cpus 2  {n2} }}
    initrd at 0x7FED3000 size 0xFC800 {{ override srat }}
    cmdline "console=ttyS0 nokaslr movable_node {cmd}"
}}
"""


def three(n2, h1="hotpluggable", cmd=""):
    return machine(text=THREE.format(n2=n2, h1=h1, cmd=cmd))


@pytest.mark.parametrize("cmd", ["", "kernelcore=1G"])
def test_spec_4_5_T2a_T2b(cmd):
    b = simulate(three("memory 5G size 512M  memory 0x160000000 size 512M hotpluggable", cmd=cmd))
    assert zmp_line(b) == ["Node 1: 0x0000000100000000", "Node 2: 0x0000000160000000"]
    assert subsequence(["NODE_DATA(1) allocated [mem 0x15ffd5000-0x15fffffff]", "    NODE_DATA(1) on node 2",
                        "NODE_DATA(2) allocated [mem 0x15ffaa000-0x15ffd4fff]"], b.dmesg) == []
    assert sum(1 for ln in b.dmesg if ln.startswith("  node   2:")) == 2


def test_spec_4_5_T2c_unaligned_hotplug_boundary():
    b = simulate(three("memory 5G size 0x11234567  memory 0x161234567 size 0x1EDCBA99 hotpluggable", h1=""))
    assert subsequence(["NODE_DATA(2) allocated [mem 0x161209540-0x16123453f]"], b.dmesg) == []
    assert "  node   2: [mem 0x0000000140000000-0x0000000161233fff]" in b.dmesg
    assert "  node   2: [mem 0x0000000161235000-0x000000017fffffff]" in b.dmesg
    assert zmp_line(b) == ["Node 2: 0x0000000161400000"]
    assert "On node 2, zone Normal: 1 pages in unavailable ranges" in b.dmesg
    assert [z for z in b.zones if z[0] == 2] == [(2, "Normal", 1310720, 136192, 136191),
                                                 (2, "Movable", 1446912, 125952, 125952)]


def test_spec_4_5_T2e_nodedata_in_nonhotplug_half_inside_movable():
    b = simulate(three("memory 5G size 512M hotpluggable  memory 0x160000000 size 512M", h1=""))
    assert zmp_line(b) == ["Node 2: 0x0000000140000000"]
    assert [z for z in b.zones if z[0] == 2] == [(2, "Movable", 1310720, 262144, 262144)]
    assert "NODE_DATA(2) allocated [mem 0x17ffd5000-0x17fffffff]" in b.dmesg


def test_spec_4_5_T3k_kernelcore_all_low():
    b = simulate(machine(ROOT / "examples" / "boot" / "q35_2node_low.fwc"))
    assert zmp_line(b) == ["Node 0: 0x0000000010400000", "Node 1: 0x0000000050000000"]
    rows = {(z[0], z[1]): z[2:4] for z in b.zones}
    assert rows[(0, "DMA32")] == (4096, 62464) and rows[(0, "Movable")] == (66560, 195584)
    assert rows[(1, "DMA32")] == (262144, 65536) and rows[(1, "Movable")] == (327680, 196575)
    assert "On node 1, zone Movable: 33 pages in unavailable ranges" in b.dmesg
