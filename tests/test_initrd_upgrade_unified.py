"""One initrd table upgrade (issue 9): the boot simulator and the initrd backend read the same
archive (same names, same order) and agree on which table Linux 6.1 reads for each signature
(drivers/acpi/tables.c: acpi_table_upgrade, acpi_table_initrd_override, acpi_table_initrd_scan).
"""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fwc
import fwc_plugins.initrd as initrd_plugin
from fwc_plugins.boot import firmware
from fwc_plugins.boot.sim import simulate
from fwc_plugins.initrd import upgrade
from test_initrd import table  # one helper for a test table

QEMU2 = """machine "m" {{
    board qemu-q35
    oem id "BOCHS " table "BXPC    " revision 2
    node 0 {{ cpus 0-1  memory size 2G }}
    node 1 {{ cpus 2-3  memory size 2G hotpluggable }}
    initrd at 1G size 8M {{ {overrides} }}
    cmdline "nokaslr movable_node"
}}
"""

_F = fwc.Fwc(read_anywhere=True)  # the tests write table files to tmp_path, outside any description directory


def load(text):
    r = _F.load(text=text, name="<test>")
    assert r.machine is not None, r.render_diagnostics()
    return r.machine


def machine_srat() -> bytes:
    """This machine's SRAT as the initrd would carry it (``override srat``)."""
    m = load(QEMU2.format(overrides="override srat"))
    (f,) = initrd_plugin.archive_files(m)
    return f.data


def found_lines(b):
    return [ln for ln in b.dmesg if "found in initrd" in ln]


def test_two_srat_overrides_archive_order(tmp_path):
    """z-srat.aml (revision 3) listed before a-srat.aml (revision 2): the archive is sorted by
    name, so Linux meets a-srat first, which overrides QEMU's SRAT; z-srat is installed as a
    second SRAT that nothing reads.  The initrd backend warns about z; the simulator must use a."""
    srat = machine_srat()
    (tmp_path / "z-srat.aml").write_bytes(upgrade.set_oem_revision(srat, 3))
    (tmp_path / "a-srat.aml").write_bytes(upgrade.set_oem_revision(srat, 2))
    text = QEMU2.format(overrides=f'override "{tmp_path}/z-srat.aml" override "{tmp_path}/a-srat.aml"')
    r = _F.compile(text=text, name="<test>", backends=["boot"])
    dup = [d for d in r.diagnostics if d.check == "initrd-duplicate"]
    assert len(dup) == 1 and "z-srat.aml" in dup[0].message
    dmesg = r.artifact("boot/dmesg.txt").text.splitlines()
    assert [ln for ln in dmesg if "found in initrd" in ln] == [
        f"ACPI: SRAT ACPI table found in initrd [kernel/firmware/acpi/a-srat.aml][{len(srat):#x}]",
        f"ACPI: SRAT ACPI table found in initrd [kernel/firmware/acpi/z-srat.aml][{len(srat):#x}]"]
    # the SRAT Linux prints after the override is a-srat's (OEM revision 2)
    over = dmesg.index("ACPI: Table Upgrade: override [SRAT-BOCHS -BXPC    ]")
    assert " 00000002 " in dmesg[over + 2] and dmesg[over + 2].startswith("ACPI: SRAT ")
    assert "ACPI: Table Upgrade: install [SRAT-BOCHS -BXPC    ]" in dmesg


@pytest.mark.parametrize("sig", [b"XXXX", b"MADT", b"FACS", b"RSD "])
def test_signature_allow_list(tmp_path, sig):
    """Linux takes only the signatures of table_sigs[] from the initrd."""
    (tmp_path / "t.aml").write_bytes(table(sig, b"\x11" * 8))
    b = simulate(load(QEMU2.format(overrides=f'override srat override "{tmp_path}/t.aml"')))
    assert [ln for ln in found_lines(b) if "acpi/t.aml]" in ln] == []
    assert "ACPI: ACPI OVERRIDE: Unknown signature [kernel/firmware/acpi/t.aml]" in b.dmesg
    # nothing of the refused file is installed: the signature's lines are the firmware's own
    # (QEMU's FACS is listed like any table), exactly as without the file
    base = simulate(load(QEMU2.format(overrides="override srat")))
    same_sig = [ln for ln in b.dmesg if ln.startswith(f"ACPI: {sig.decode()} ")]
    assert same_sig == [ln for ln in base.dmesg if ln.startswith(f"ACPI: {sig.decode()} ")]


def test_archive_name_is_the_one_in_the_cpio():
    m = load(QEMU2.format(overrides="override srat"))
    b = simulate(m)
    (f,) = initrd_plugin.archive_files(m)
    assert f.name == "srat.aml"
    assert found_lines(b) == [f"ACPI: SRAT ACPI table found in initrd [kernel/firmware/acpi/{f.name}]"
                              f"[{len(f.data):#x}]"]


def _srat_with_short_memory_entry(srat: bytes, at_end: bool = True) -> bytes:
    d = bytearray(srat)
    sub = bytes([1, 10]) + bytes(8)  # a memory affinity subtable of 10 bytes (needs 40)
    d = d + sub if at_end else d[:48] + sub + d[48:]
    d[4:8] = len(d).to_bytes(4, "little")
    d[9] = 0
    d[9] = (-sum(d)) & 0xFF
    return upgrade.set_oem_revision(bytes(d), 3)


@pytest.mark.parametrize("at_end", [True, False])
def test_truncated_memory_subtable_is_kernel_faithful(tmp_path, at_end):
    """A 10-byte memory affinity entry: Linux prints 'SRAT: Unexpected header length: 10',
    marks the SRAT bad (bad_srat) and falls back to a dummy node -- no exception."""
    (tmp_path / "s.aml").write_bytes(_srat_with_short_memory_entry(machine_srat(), at_end))
    text = QEMU2.format(overrides=f'override "{tmp_path}/s.aml"')
    r = _F.compile(text=text, name="<test>", backends=["boot"])
    assert r.artifact("boot/dmesg.txt") is not None, r.render_diagnostics()
    dmesg = r.artifact("boot/dmesg.txt").text.splitlines()
    assert "ACPI: SRAT: Unexpected header length: 10" in dmesg
    assert "ACPI: SRAT: SRAT not used." in dmesg
    assert "No NUMA configuration found" in dmesg
    assert not any(d.severity == "error" for d in r.diagnostics), r.render_diagnostics()


# ---- the property: both views agree -------------------------------------------------------

_SIGS = [b"SRAT", b"SLIT", b"APIC", b"SSDT", b"XXXX", b"FACS"]
_NAMES = ["a", "b", "srat", "z", "x-1", "slit"]


@st.composite
def archives(draw):
    srat = machine_srat()
    files = []
    for i in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(_NAMES)) + f"{i}.aml"
        kind = draw(st.sampled_from(["srat", "table"]))
        rev = draw(st.integers(0, 4))
        if kind == "srat":
            data = upgrade.set_oem_revision(srat, rev)
            if draw(st.booleans()):
                data = data[:4] + data[4:8] + data[8:10] + b"OTHER " + data[16:]  # other OEM ID, bad sum
                if draw(st.booleans()):
                    data = upgrade.set_oem_revision(data, rev)
        else:
            sig = draw(st.sampled_from(_SIGS))
            tid = draw(st.sampled_from([b"BXPC    ", b"OTHERTBL"]))
            body = bytes([draw(st.integers(0, 255))]) * draw(st.integers(0, 8))
            data = table(sig, body, table_id=tid, rev=rev, fix=draw(st.booleans()))
            if draw(st.booleans()) and len(data) > 40:
                data = data[:30]
        files.append((name, data))
    return files


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(files=archives())
def test_simulator_and_initrd_backend_agree(tmp_path_factory, files):
    d = tmp_path_factory.mktemp("arc")
    for name, data in files:
        (d / name).write_bytes(data)
    overrides = " ".join(f'override "{d}/{name}"' for name, _ in files) or "override srat"
    m = load(QEMU2.format(overrides=overrides))
    b = simulate(m)
    view = initrd_plugin.linux_view(m)
    accepted = [f.name for f, o in view if o.fate not in ("rejected", "ignored")]
    assert [ln.split("[kernel/firmware/acpi/")[1].split("]")[0] for ln in found_lines(b)] == accepted
    # which table Linux reads, per signature: the initrd plugin's answer is the simulator's
    eff = initrd_plugin.effective_tables(m)
    for sig in ("SRAT", "SLIT", "APIC"):
        if sig in eff:
            assert b.acpi_tables.get(sig) == eff[sig], sig
    # ... and where the archive replaces nothing, both read the firmware's table
    fw = {t.signature: t.data for t in firmware.build(m).tables if t.data}
    for sig in ("SRAT", "SLIT"):
        assert b.acpi_tables.get(sig) == eff.get(sig, fw.get(sig)), sig


@pytest.mark.parametrize("path", sorted(pathlib.Path(__file__).resolve().parent.parent.glob("examples/*/*.fwc")),
                         ids=lambda p: p.stem)
def test_one_list_of_firmware_tables(path):
    """The tables the boot simulator places are the tables the initrd plugin upgrades against."""
    r = _F.load(path)
    m = r.machine
    if m is None or not m.nodes or m.arch != "x86_64":
        pytest.skip("no boot simulation")
    fw = firmware.build(m)
    assert {t.signature for t in fw.tables} - {"FACS"} == set(upgrade.firmware_tables(m)) - {"RSDT", "XSDT"}


@pytest.mark.parametrize("policy", ["upstream", "seed"])
def test_zero_length_subtable_makes_linux_drop_the_srat(tmp_path, policy):
    """A zero-length subtable ends acpi_parse_entries_array() with -EINVAL (drivers/acpi/tables.c:
    "[%4.4s:0x%02x] Invalid zero length" with the id of the pass's first handler, 0x00 for the
    CPU pass and 0x01 for the memory pass); acpi_numa_init() fails and Linux fakes one node.
    The seed design reads the same SRAT, so it reserves nothing either: no ZONE_MOVABLE."""
    d = bytearray(machine_srat())
    d = d[:48] + bytes([1, 0]) + bytes(38) + d[48:]
    d[4:8] = len(d).to_bytes(4, "little")
    d[9] = 0
    d[9] = (-sum(d)) & 0xFF
    (tmp_path / "s.aml").write_bytes(upgrade.set_oem_revision(bytes(d), 3))
    b = simulate(load(QEMU2.format(overrides=f'override "{tmp_path}/s.aml"')), policy=policy)
    i = b.dmesg.index("ACPI: [SRAT:0x00] Invalid zero length")
    assert b.dmesg[i + 1:i + 4] == ["ACPI: [SRAT:0x01] Invalid zero length", "No NUMA configuration found",
                                     "Faking a node at [mem 0x0000000000000000-0x000000017fffffff]"]
    assert {z[0] for z in b.zones} == {0} and not any(z[1] == "Movable" for z in b.zones)
