"""The layouts are the only source of names, bits and offsets (issue 9): named subtable types
and flags, the model <-> record mapping used in both directions, the diagnostics registry."""

from __future__ import annotations

import ast
import glob
import os
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from fwc import Fwc
from fwc_plugins.acpi import (DeviceHandleType, MadtLapicFlag, MadtType, SratGenericFlag, SratMemFlag,
                              SratType, Subtable, Table, decode_table, encode, flag_bits, struct_codec)
from fwc_plugins.acpi import examples as ex
from fwc_plugins.acpi import layout as L
from fwc_plugins.acpi import model_map as M
from fwc_plugins.acpi.backend import CHECKS, DIAGNOSTICS

PLUGIN = os.path.join(ROOT, "plugins", "acpi")


# --- names ------------------------------------------------------------------------------------

def test_subtable_types_are_named_by_the_layout():
    for lay, enum in ((L.SRAT, SratType), (L.MADT, MadtType)):
        assert lay.types is enum
        for t, s in lay.subtables.items():
            assert s.type is enum(t) and isinstance(t, enum)
    assert L.SRAT.subtables[SratType.MEMORY_AFFINITY].key == "memory"
    assert MadtType.LOCAL_X2APIC_NMI == 0x0A and SratType.GENERIC_PORT_AFFINITY == 6


def test_flag_bits_come_from_the_flag_enums():
    memory = L.SRAT.subtables[SratType.MEMORY_AFFINITY]
    flags = next(f for f in memory.fields if f.kind == L.KIND_FLAGS)
    assert [(b.key, b.mask) for b in flags.bits] == [(m.name.lower(), m.value) for m in SratMemFlag]
    assert flag_bits(flags, SratMemFlag.ENABLED | SratMemFlag.NON_VOLATILE) == {
        "enabled": 1, "hot_pluggable": 0, "non_volatile": 1}
    x2 = next(f for f in L.MADT.subtables[MadtType.LOCAL_X2APIC].fields if f.kind == L.KIND_FLAGS)
    assert [b.iasl for b in x2.bits] == [True, False]  # iasl 20200925 has no Online Capable line
    handle = next(f for f in L.SRAT.subtables[SratType.GENERIC_AFFINITY].fields
                  if f.key == "device_handle_type")
    assert handle.enum is DeviceHandleType


def test_named_records_encode_like_numbers_and_decode_to_the_names():
    named = Subtable(SratType.MEMORY_AFFINITY, {"proximity_domain": 1, "base_address": 1 << 32,
                                                "address_length": 1 << 30,
                                                "flags": SratMemFlag.ENABLED | SratMemFlag.HOT_PLUGGABLE})
    plain = Subtable(1, {"proximity_domain": 1, "base_address": 1 << 32, "address_length": 1 << 30, "flags": 3})
    data = encode(Table("SRAT", ex.HEADER, {}, [named]))
    assert data == encode(Table("SRAT", ex.HEADER, {}, [plain]))
    t, problems = decode_table(data)
    assert not problems
    e = t.entries[0]
    assert SratType(e.type) is SratType.MEMORY_AFFINITY
    assert SratMemFlag(e.fields["flags"]) == SratMemFlag.ENABLED | SratMemFlag.HOT_PLUGGABLE


def test_split_proximity_domain():
    entry = M.SRAT_CPU[SratType.CPU_AFFINITY]
    assert [sp.key for sp in entry.struct.splits] == ["proximity_domain"]
    rec = entry.values(pxm=0x123456, apic_id=1, enabled=True)
    assert (rec["proximity_domain_lo"], rec["proximity_domain_hi"]) == (0x56, 0x1234)
    assert entry.read(rec)["pxm"] == 0x123456


def test_offsets_and_sizes_come_from_the_layout():
    assert struct_codec(L.SDT_HEADER).offsets["checksum"] == 9 and struct_codec(L.SDT_HEADER).size == 36
    assert L.RSDP.offset("rsdt_address") == 16 and L.RSDP.offset("xsdt_address") == 24
    assert L.RSDP.fixed_size({"revision": 0}) == 20 and L.RSDP.fixed_size({"revision": 2}) == 36
    assert L.XSDT.fixed_size() == 36 and L.SLIT.offset("localities") == 36
    assert L.signature_of(encode(ex.rsdp())) == "RSD PTR " and L.signature_of(encode(ex.slit())) == "SLIT"


# --- the model <-> record mapping, both ways ----------------------------------------------------

U8, U16, U32 = st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
U64, FLAG = st.integers(0, 2**64 - 1), st.booleans()
ATTRS = {"pxm": U32, "apic_id": U32, "enabled": FLAG, "online_capable": FLAG, "base": U64, "size": U64,
         "hotpluggable": FLAG, "nonvolatile": FLAG, "arch_transactions": FLAG, "id": U8, "address": U32,
         "gsi_base": U32, "source": U8, "gsi": U32, "flags": U16, "lint": U8, "bus": U8, "uid": U32,
         "segment": U16, "devfn": U8, "hid": st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1,
                                                    max_size=8)}


def _attributes(entry: M.Entry) -> set[str]:
    names = set(entry.flags.values())
    for key, attr in entry.fields.items():
        if attr == M.HANDLE:
            names |= {"hid", "uid", "segment", "bus", "devfn"}
        else:
            names.add(attr[0] if isinstance(attr, tuple) else attr)
    return names


def _narrow(entry: M.Entry, values: dict) -> dict:
    """Fit each value to the width of the field it lands in."""
    for key, attr in entry.fields.items():
        if isinstance(attr, str) and attr != M.HANDLE and key in entry._by_key:
            values[attr] &= (1 << (8 * entry._by_key[key].width)) - 1
    return values


SUBTABLE_ENTRIES = [e for e in {**M.SRAT_ENTRIES, **{100 + t: e for t, e in M.MADT_ENTRIES.items()}}.values()]


@pytest.mark.parametrize("entry", SUBTABLE_ENTRIES, ids=lambda e: e.struct.key)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_mapping_round_trips_through_bytes(entry, data):
    values = {a: data.draw(ATTRS[a]) for a in sorted(_attributes(entry)) if a not in ("handle_type", "cpu")}
    if "cpu" in _attributes(entry):
        values["cpu"] = data.draw(st.one_of(st.none(), st.integers(0, 0xFE)))
    if "handle_type" in _attributes(entry):
        values["handle_type"] = data.draw(st.sampled_from(["acpi", "pci"]))
    values = _narrow(entry, values)
    obj = SimpleNamespace(**values)
    srat = entry in M.SRAT_ENTRIES.values()
    t, problems = decode_table(encode(Table("SRAT" if srat else "APIC", ex.HEADER, {} if srat else {"flags": 0},
                                            [entry.record(obj)])))
    assert not problems
    back = entry.read(t.entries[0].fields)
    assert back.pop("other_flags", 0) == 0
    for k, v in entry.const.items():
        assert back.pop(k) == v
    if values.get("handle_type") == "acpi":
        for k in ("segment", "bus", "devfn"):
            values.pop(k)
    elif values.get("handle_type") == "pci":
        for k in ("hid", "uid"):
            values.pop(k)
    assert back == values


def test_mapping_names_and_special_values():
    nmi = M.LOCAL_APIC_NMI.values(cpu=None, flags=0, lint=1)
    assert nmi["processor_id"] == 0xFF and M.LOCAL_APIC_NMI.read(nmi)["cpu"] is None
    x2 = M.LOCAL_X2APIC_NMI.values(cpu=None, flags=0, lint=1)
    assert x2["processor_uid"] == 0xFFFFFFFF and M.LOCAL_X2APIC_NMI.read(x2)["cpu"] is None
    lapic = M.LOCAL_APIC.values(uid=3, apic_id=7, enabled=False, online_capable=True)
    assert lapic["flags"] == MadtLapicFlag.ONLINE_CAPABLE
    gi = M.INITIATOR.values(pxm=1, handle_type="pci", segment=1, bus=2, devfn=3, enabled=True,
                            arch_transactions=True)
    assert gi["device_handle_type"] == DeviceHandleType.PCI
    assert gi["flags"] == SratGenericFlag.ENABLED | SratGenericFlag.ARCHITECTURAL_TRANSACTIONS
    unknown = dict(gi, device_handle_type=7, device_handle=bytes(16))
    read = M.INITIATOR.read(unknown)
    assert read["handle_type"] == 7 and "segment" not in read
    oem = SimpleNamespace(id="BOCHS ", table_id="BXPC    ", revision=1, creator_id="BXPC", creator_revision=1)
    h = M.OEM.values(oem)
    assert h == {"oem_id": "BOCHS ", "oem_table_id": "BXPC    ", "oem_revision": 1, "creator_id": "BXPC",
                 "creator_revision": 1}
    assert M.OEM.read(h) == vars(oem)
    assert M.MADT_BODY.default("lapic_address") == 0xFEE00000
    assert M.no_node_distance(2, 2) == 10 and M.no_node_distance(2, 3) == 0xFF


def test_model_tables_read_back_to_the_model(tmp_path):
    """tables.py (model -> records) and model_map.read (records -> model) agree on a machine
    using every mapped entry."""
    from fwc_plugins.acpi import tables as T

    text = """machine "m" {
        node 0 { cpus 0-1 memory 0 size 1G initiator acpi "ACPI0016" uid 5 }
        node 1 pxm 7 { cpus 300 disabled memory 1G size 1G hotpluggable nonvolatile
                       port pci "0001:02:03.4" disabled }
    }"""
    r = Fwc().check(text=text, name="m.fwc")
    assert r.ok, r.render_diagnostics()
    m = r.machine
    srat, _ = decode_table(encode(T.srat(m)))
    got = [M.entries_of("SRAT")[e.type].read(e.fields) for e in srat.entries]
    cpus = [(v["pxm"], v["apic_id"]) for v in got if "apic_id" in v]
    assert cpus == [(0, 0), (0, 1), (7, 300)]
    memory = [(v["pxm"], v["base"], v["size"], v["hotpluggable"], v["nonvolatile"]) for v in got if "base" in v]
    assert memory == [(0, 0, 1 << 30, False, False), (7, 1 << 30, 1 << 30, True, True)]
    generic = [(v["kind"], v["handle_type"], v["enabled"]) for v in got if "kind" in v]
    assert generic == [("initiator", "acpi", True), ("port", "pci", False)]
    madt, _ = decode_table(encode(T.madt(m)))
    apics = [(v["apic_id"], v["enabled"]) for v in (M.entries_of("APIC")[e.type].read(e.fields) for e in madt.entries)
             if "apic_id" in v]
    assert apics == [(0, True), (1, True), (300, False)]


# --- diagnostics and module boundaries ---------------------------------------------------------

def _emitted_names() -> set[str]:
    """Every diagnostic-name-like string literal in the plugin's code."""
    import re

    names = set()
    for path in glob.glob(os.path.join(PLUGIN, "*.py")):
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.fullmatch(r"acpi(dump)?-[a-z0-9]+(-[a-z0-9]+)*", node.value):
                names.add(node.value)
    return names


def test_every_diagnostic_name_is_registered_with_a_stable_code():
    registered = {name: code for name, code, *_ in CHECKS + DIAGNOSTICS}
    assert len(registered) == len(CHECKS) + len(DIAGNOSTICS)
    assert _emitted_names() <= set(registered), _emitted_names() - set(registered)
    codes = list(registered.values())
    assert len(set(codes)) == len(codes) and all(4300 <= c <= 4399 for c in codes)
    checks = {c.name: c for c in Fwc().checks}
    for name, code in registered.items():
        assert checks[name].code == code and checks[name].plugin == "acpi"


@pytest.mark.parametrize("name", ["acpi-iasl-source", "acpi-verbatim", "acpidump-format"])
def test_w_no_name_is_accepted(name):
    assert Fwc(warn=[f"no-{name}"]).levels is not None


def test_modules_use_no_private_name_of_another_module():
    for path in glob.glob(os.path.join(PLUGIN, "*.py")):
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.ImportFrom):
                bad = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not bad, f"{os.path.basename(path)} imports {bad} from {node.module}"


def test_w_no_acpi_iasl_source_silences_the_backend_warning():
    text = 'machine "m" { node 0 { cpus 0 memory 0 size 1G port acpi "ACPI0016" uid 1 } }'
    names = lambda r: [d.check for d in r.diagnostics]  # noqa: E731
    r = Fwc().compile(text=text, name="m.fwc", backends=["acpi"])
    assert "acpi-iasl-source" in names(r) and r.ok
    r = Fwc(warn=["no-acpi-iasl-source"]).compile(text=text, name="m.fwc", backends=["acpi"])
    assert "acpi-iasl-source" not in names(r) and r.ok
    assert r.artifact("acpi/SRAT.aml") is not None
