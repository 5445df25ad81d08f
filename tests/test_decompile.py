"""fwc decompile: tables -> description -> the same tables, byte for byte.

Inputs: QEMU 7.2's own tables read from real guests, fwc's own output, acpidump text,
hypothesis-generated machines and raw tables; and lying binaries, which must give
diagnostics naming byte offsets, never an exception or a hang.
"""

from __future__ import annotations

import glob
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import machine, run_fwc
from fwc import Fwc
from fwc_plugins.acpi import Subtable, Table, encode
from fwc_plugins.acpi import tables as T

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "qemu")
CASES = sorted(d for d in os.listdir(GOLDEN) if os.path.exists(os.path.join(GOLDEN, d, "SRAT.aml")))
FWC = Fwc()


def tables_of(text):
    r = FWC.load(text=text, name="<roundtrip>")
    assert r.ok, r.render_diagnostics() + "\n" + text
    return {sig: data for sig, data in T.build_tables(r.machine).values()}


def decompile(paths):
    r = FWC.decompile(paths)
    return r


@pytest.mark.parametrize("case", CASES)
def test_qemu_tables_round_trip(case):
    d = os.path.join(GOLDEN, case)
    r = decompile([d])
    assert r.ok and r.text, r.render_diagnostics()
    assert "verbatim" not in r.text  # QEMU's tables are expressed, not copied
    out = tables_of(r.text)
    for sig in ("SRAT", "SLIT", "APIC"):
        p = os.path.join(d, f"{sig}.aml")
        if os.path.exists(p):
            assert out[sig] == open(p, "rb").read(), sig


def test_qemu_decompile_recovers_the_machine():
    r = decompile([os.path.join(GOLDEN, "c_q35_3node_slit")])
    m = FWC.load(text=r.text).machine
    assert m.board == "qemu-q35"
    assert [len(n.cpus) for n in m.nodes] == [2, 2, 2]
    assert m.distance_matrix()[(1, 2)] == 17


def test_single_files_and_acpidump_text(tmp_path):
    out = tmp_path / "o"
    assert run_fwc("compile", os.path.join(os.path.dirname(__file__), os.pardir, "examples",
                                           "two-node-hotplug.fwc"), "-b", "acpi", "-o", str(out)).returncode == 0
    acpi = out / "acpi"
    for inputs in ([str(acpi / "acpidump.txt")], [str(acpi / "SRAT.aml"), str(acpi / "SLIT.aml"), str(acpi / "APIC.aml")]):
        r = decompile(inputs)
        assert r.ok, r.render_diagnostics()
        got = tables_of(r.text)
        for sig in ("SRAT", "SLIT", "APIC"):
            assert got[sig] == (acpi / f"{sig}.aml").read_bytes()
    assert "tables at 0xe0000" in decompile([str(acpi / "acpidump.txt")]).text


def test_cli_decompile(tmp_path):
    dest = tmp_path / "m.fwc"
    r = run_fwc("decompile", os.path.join(GOLDEN, "a_q35_2node"), "-o", str(dest), "--name", "again")
    assert r.returncode == 0, r.stderr
    assert dest.read_text().startswith('machine "again" {')
    r2 = run_fwc("check", str(dest))
    assert r2.returncode == 0, r2.stderr


# ---- hypothesis: machines -> tables -> description -> tables

@st.composite
def machines(draw):
    nodes = draw(st.integers(1, 5))
    pxms = draw(st.lists(st.integers(0, 40), min_size=nodes, max_size=nodes, unique=True))
    apic = 0
    base = 0
    body = []
    if draw(st.booleans()):
        body.append(f"tables {{ srat revision {draw(st.integers(1, 4))} madt revision {draw(st.integers(1, 6))} }}")
    if draw(st.booleans()):
        body.append(f'oem id "{draw(st.text("ABCXYZ ", min_size=1, max_size=6))}" revision {draw(st.integers(0, 9))}')
    for i, pxm in enumerate(pxms):
        lines = [f"node {i} pxm {pxm} {{"]
        for _ in range(draw(st.integers(0, 3))):
            n = draw(st.integers(1, 4))
            gap = draw(st.integers(0, 300))
            apic += gap
            flags = draw(st.sampled_from(["", " disabled", " online-capable", " x2apic"]))
            lines.append(f"cpus {apic}-{apic + n - 1}{flags}")
            apic += n
        for _ in range(draw(st.integers(0, 3))):
            size = draw(st.integers(1, 64)) << 20
            flags = draw(st.sampled_from(["", " hotpluggable", " nonvolatile", " disabled"]))
            lines.append(f"memory {base:#x} size {size:#x}{flags}")
            base += size + (draw(st.integers(0, 4)) << 20)
        if draw(st.integers(0, 4)) == 0:
            lines.append('initiator pci "0000:%02x:01.0"' % i)
        if draw(st.integers(0, 4)) == 0:
            lines.append('port acpi "ACPI0016" uid %d' % i)
        lines.append("}")
        body.append("\n".join(lines))
    if nodes > 1 and draw(st.booleans()):
        for a in range(nodes):
            for b in range(a + 1, nodes):
                body.append(f"distance {a} {b} = {draw(st.integers(11, 254))}")
    return machine("\n".join(body))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines())
def test_generated_machines_round_trip(tmp_path_factory, text):
    tables = tables_of(text)
    d = tmp_path_factory.mktemp("t")
    paths = []
    for sig, data in tables.items():
        p = d / f"{sig}.aml"
        p.write_bytes(data)
        paths.append(str(p))
    r = decompile(paths)
    assert r.ok, r.render_diagnostics()
    assert "verbatim" not in r.text, r.render_diagnostics()  # fwc's own tables are always expressible
    assert tables_of(r.text) == tables


# ---- hypothesis: arbitrary SRATs (any order, any fields) still come back byte for byte

def _srat_entry():
    pxm = st.integers(0, 2000)
    return st.one_of(
        st.builds(lambda p, a, f: Subtable(0, {"proximity_domain_lo": p & 0xFF, "apic_id": a, "flags": f,
                                              "local_sapic_eid": 0, "proximity_domain_hi": p >> 8,
                                              "clock_domain": 0}), pxm, st.integers(0, 254), st.sampled_from([0, 1])),
        st.builds(lambda p, a: Subtable(2, {"reserved1": 0, "proximity_domain": p, "apic_id": a, "flags": 1,
                                           "clock_domain": 0, "reserved2": 0}), pxm, st.integers(0, 70000)),
        st.builds(lambda p, b, s, f: Subtable(1, {"proximity_domain": p, "reserved1": 0, "base_address": b << 20,
                                                 "address_length": s << 20, "reserved2": 0, "flags": f,
                                                 "reserved3": 0}),
                  pxm, st.integers(0, 1 << 20), st.integers(0, 4096), st.integers(0, 7)),
        st.binary(min_size=0, max_size=10).map(lambda b: Subtable.from_raw(bytes([9, 2 + len(b)]) + b)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_srat_entry(), max_size=12), st.integers(1, 3))
def test_arbitrary_srat_round_trips(tmp_path_factory, entries, rev):
    hdr = {"revision": rev, "oem_id": "OEMXYZ", "oem_table_id": "TABLE123", "oem_revision": 5,
           "creator_id": "ABCD", "creator_revision": 7}
    data = encode(Table("SRAT", hdr, {"table_revision": 1, "reserved": 0}, entries))
    p = tmp_path_factory.mktemp("s") / "SRAT"
    p.write_bytes(data)
    r = decompile([str(p)])
    assert r.ok, r.render_diagnostics()
    assert tables_of(r.text)["SRAT"] == data


# ---- lying binaries

def test_truncated_table_names_the_offset(tmp_path):
    data = open(os.path.join(GOLDEN, "a_q35_2node", "SRAT.aml"), "rb").read()
    p = tmp_path / "SRAT"
    p.write_bytes(data[:100])
    r = decompile([str(p)])
    assert not r.ok and r.text is None
    assert any("byte offset" in d.message and d.severity == "error" for d in r.diagnostics)


def test_zero_length_subtable_is_an_error_not_a_hang(tmp_path):
    data = bytearray(open(os.path.join(GOLDEN, "a_q35_2node", "SRAT.aml"), "rb").read())
    data[48 + 1] = 0  # first subtable's length
    p = tmp_path / "SRAT"
    p.write_bytes(bytes(data))
    r = decompile([str(p)])
    assert not r.ok
    assert any("byte offset 0x30" in d.message for d in r.diagnostics), [d.message for d in r.diagnostics]


def test_bad_checksum_is_a_warning_and_kept(tmp_path):
    data = bytearray(open(os.path.join(GOLDEN, "a_q35_2node", "SRAT.aml"), "rb").read())
    data[9] ^= 0xFF
    p = tmp_path / "SRAT"
    p.write_bytes(bytes(data))
    r = decompile([str(p)])
    assert r.ok
    assert any(d.severity == "warning" and "byte offset 0x9" in d.message for d in r.diagnostics)
    assert tables_of(r.text)["SRAT"] == bytes(data)  # kept verbatim, so nothing is silently "fixed"


def test_root_table_count_mismatch_in_a_dump(tmp_path):
    from fwc_plugins.acpi import parse_acpidump, to_acpidump

    out = tmp_path / "o"
    assert run_fwc("compile", os.path.join(os.path.dirname(__file__), os.pardir, "examples", "qemu",
                                           "c_q35_3node_slit.fwc"), "-b", "acpi", "-o", str(out)).returncode == 0
    entries, _ = parse_acpidump((out / "acpi" / "acpidump.txt").read_text())
    # Drop the last pointer from the RSDT (fixing its length and checksum): now XSDT and RSDT disagree.
    rsdt = next(e for e in entries if e.signature == "RSDT")
    body = bytearray(rsdt.data[:-4])
    struct.pack_into("<I", body, 4, len(body))
    body[9] = 0
    body[9] = (-sum(body)) & 0xFF
    text = to_acpidump([(bytes(body) if e is rsdt else e.data, e.address) for e in entries])
    p = tmp_path / "dump.txt"
    p.write_text(text)
    r = decompile([str(p)])
    assert not r.ok
    assert any(d.check == "acpi-count-mismatch" for d in r.diagnostics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), st.sampled_from(["SRAT", "APIC"]), st.data())
def test_mutated_binaries_only_give_diagnostics(tmp_path_factory, case, sig, data):
    raw = bytearray(open(os.path.join(GOLDEN, case, f"{sig}.aml"), "rb").read())
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    p = tmp_path_factory.mktemp("m") / sig
    p.write_bytes(bytes(raw[:cut] if data.draw(st.booleans()) else raw))
    r = decompile([str(p)])  # must not raise
    for d in r.diagnostics:
        assert d.severity in ("error", "warning", "note")
    if r.ok:
        assert tables_of(r.text)[sig] == p.read_bytes()
