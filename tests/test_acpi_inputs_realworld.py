"""What ``fwc decompile`` is given on real systems (issue 10, repro 01-04).

* acpidump text as acpica-tools' ``acpidump`` prints it (addresses, RSDP/XSDT/RSDT, or all
  addresses 0 when it read ``/sys/firmware/acpi/tables``), the ``Raw Table Data`` of
  ``iasl -d`` output (hw-probe logs), and Linux's table directory itself (with its ``data/``
  and ``dynamic/`` subdirectories), holding any set of tables;
* tables fwc does not model (FACS without a checksum field, DSDT, OEM tables, ...) are
  carried or skipped with a note, never fatal;
* a bad checksum is the same warning, same check name and wording, whatever the route;
* a SLIT longer than its locality count needs is read as Linux and iasl read it;
* XSDT and RSDT that list different tables are read as Linux uses them (the XSDT when the
  RSDP revision is >= 2 and its XSDT address is non-zero: ACPICA ``acpi_tb_parse_root_table``).

Synthetic inputs are built here; the real-world corpus (``../shared/acpi-realworld`` or
``$FWC_ACPI_REALWORLD``) is read when present: skipped otherwise, failed under ``CI=true``.
``acpixtract -a`` and ``iasl -d`` are the oracles where installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess

import pytest

from conftest import ROOT
from fwc import Fwc
from fwc_plugins.acpi import checksum, decode_table, encode_table, parse_acpidump, to_acpidump
from fwc_plugins.acpi.inputs import natural_order, read_inputs
from fwc_plugins.acpi.tableset import check_table_set

GOLDEN = os.path.join(ROOT, "tests", "golden", "qemu", "c_q35_3node_slit")
FWC = Fwc()
MODELLED = ("SRAT", "SLIT", "APIC")


def golden(sig: str) -> bytes:
    with open(os.path.join(GOLDEN, f"{sig}.aml"), "rb") as f:
        return f.read()


def fix_checksum(b: bytes | bytearray) -> bytes:
    b = bytearray(b)
    b[9] = 0
    b[9] = checksum(b[:struct.unpack_from("<I", b, 4)[0]])
    return bytes(b)


def sdt(sig: str, payload: bytes = b"", revision: int = 1, oem: bytes = b"OEMID ") -> bytes:
    """A generic table of signature ``sig`` with a correct checksum."""
    n = 36 + len(payload)
    b = sig.encode() + struct.pack("<IBB", n, revision, 0) + oem + b"OEMTABLE" + \
        struct.pack("<I", 1) + b"MSFT" + struct.pack("<I", 0x97) + payload
    return fix_checksum(b)


def facs() -> bytes:
    """A FACS: signature and length, but no checksum field (byte 9 is the hardware signature)."""
    b = bytearray(64)
    b[0:4] = b"FACS"
    struct.pack_into("<I", b, 4, 64)
    struct.pack_into("<I", b, 8, 0x50FC4A07)    # hardware signature: not a checksum
    b[32] = 1
    assert checksum(b) != 0
    return bytes(b)


def bad_checksum(data: bytes) -> bytes:
    b = bytearray(data)
    b[9] = (b[9] + 1) & 0xFF
    return bytes(b)


def errors(diags):
    return [d for d in diags if d.severity == "error"]


def tail(d) -> tuple[str, str, str]:
    """A diagnostic without its location prefix (the path, and the block for dump text)."""
    return d.severity, d.check, d.message[d.message.index("byte offset"):]


def write_routes(tmp_path, tables: dict[str, bytes]) -> dict[str, list[str]]:
    """The same tables as separate binary files, as a directory and as acpidump text."""
    files = tmp_path / "files"
    files.mkdir()
    paths = []
    for name, data in tables.items():
        p = files / f"{name}.dat"
        p.write_bytes(data)
        paths.append(str(p))
    d = tmp_path / "dir"
    d.mkdir()
    for name, data in tables.items():
        (d / name).write_bytes(data)
    dump = tmp_path / "dump.txt"
    dump.write_text(to_acpidump(list(tables.values())))
    return {"files": paths, "dir": [str(d)], "dump": [str(dump)]}


# --- repro 01: tables fwc does not model --------------------------------------------------------

def test_facs_in_acpidump_text_is_not_a_checksum_error(tmp_path):
    text = to_acpidump([golden("SRAT"), facs()])
    entries, probs = parse_acpidump(text)
    assert [e.signature for e in entries] == ["SRAT", "FACS"]
    assert not [p for p in probs if p.code == "acpi-bad-checksum"]   # ACPICA: FACS has none
    p = tmp_path / "facs-srat.txt"
    p.write_text(text)
    inp = read_inputs([str(p)])
    assert errors(inp.diags) == [] and inp.tables["SRAT"][0] == golden("SRAT")
    r = FWC.decompile([str(p)])
    assert r.ok and r.text, r.render_diagnostics()


@pytest.mark.parametrize("route", ["files", "dir", "dump"])
def test_unmodelled_tables_never_fatal(tmp_path, route):
    tables = {"SRAT": golden("SRAT"), "FACS": facs(), "OEMB": bad_checksum(sdt("OEMB", b"\x01\x02")),
              "DSDT": sdt("DSDT", b"\x10\x05\x5c\x5f\x53\x42\x5f", 2), "HPET": golden("HPET"),
              "ASF!": sdt("ASF!", b"\x00" * 4), "HMAT": sdt("HMAT", b"\x00" * 4, 2)}
    paths = write_routes(tmp_path, tables)[route]
    inp = read_inputs(paths)
    assert errors(inp.diags) == [], [d.message for d in inp.diags]
    assert inp.tables["SRAT"][0] == golden("SRAT")
    bad = [d for d in inp.diags if d.check == "acpi-bad-checksum"]
    assert [(d.severity, d.message.split("byte offset")[1]) for d in bad] == \
        [("warning", f" 0x9: incorrect checksum 0x{tables['OEMB'][9]:02X}, should be "
                     f"0x{(tables['OEMB'][9] - 1) & 0xFF:02X}")]
    assert "OEMB" in bad[0].message.split("byte offset")[0]   # the location names the table
    r = FWC.decompile(paths)
    assert r.ok and r.text, r.render_diagnostics()


def test_unmodelled_checksum_warning_is_the_same_on_every_route(tmp_path):
    tables = {"SRAT": golden("SRAT"), "OEMB": bad_checksum(sdt("OEMB", b"\x01")), "FACS": facs()}
    seen = {}
    for route, paths in write_routes(tmp_path, tables).items():
        r = FWC.decompile(paths)
        assert r.ok, (route, r.render_diagnostics())
        seen[route] = sorted(tail(d) for d in r.diagnostics if d.check == "acpi-bad-checksum")
    assert seen["files"] == seen["dir"] == seen["dump"] and len(seen["files"]) == 1


# --- repro 02: a modelled table with a bad checksum ---------------------------------------------

def test_modelled_checksum_warning_is_the_same_on_every_route(tmp_path):
    tables = {"SRAT": golden("SRAT"), "SLIT": bad_checksum(golden("SLIT")), "APIC": golden("APIC")}
    seen = {}
    for route, paths in write_routes(tmp_path, tables).items():
        r = FWC.decompile(paths)
        assert r.ok and r.text, (route, r.render_diagnostics())
        seen[route] = sorted(tail(d) for d in r.diagnostics if "byte offset" in d.message)
    assert seen["files"] == seen["dir"] == seen["dump"]
    assert [c for _, c, _ in seen["dump"]] == ["acpi-bad-checksum"]
    assert seen["dump"][0][0] == "warning"


# --- Linux's /sys/firmware/acpi/tables ----------------------------------------------------------

def test_sysfs_directory(tmp_path):
    d = tmp_path / "tables"
    (d / "data").mkdir(parents=True)
    (d / "dynamic").mkdir()
    for sig in ("APIC", "SRAT", "SLIT", "FACS", "FACP", "DSDT", "HPET", "MCFG", "WAET"):
        (d / sig).write_bytes(golden(sig))
    (d / "SSDT1").write_bytes(sdt("SSDT", b"\x00", 2))
    (d / "SSDT2").write_bytes(sdt("SSDT", b"\x01", 2))
    (d / "ASF!").write_bytes(sdt("ASF!", b"\x00" * 8))
    (d / "data" / "BERT").write_bytes(b"SRAT" + struct.pack("<I", 40) + bytes(32))  # not a table
    (d / "dynamic" / "SSDT3").write_bytes(sdt("SSDT", b"\x02", 2))
    inp = read_inputs([str(d)])
    assert errors(inp.diags) == [], [d.message for d in inp.diags]
    assert not [x for x in inp.diags if x.severity == "warning"], [x.message for x in inp.diags]
    for sig in MODELLED:
        assert inp.tables[sig][0] == golden(sig)
    assert "ASF!" in inp.tables                         # '!' is valid in a signature's last place
    assert not [x for x in inp.diags if x.check == "acpi-duplicate-table"]   # Linux loads every SSDT
    assert any(x.check == "acpi-input-skipped" and "data" in x.message for x in inp.diags)
    r = FWC.decompile([str(d)])
    assert r.ok and r.text and "verbatim" not in r.text, r.render_diagnostics()


def test_directory_with_dump_text_and_notes(tmp_path):
    # a folder where tables sit next to acpidump text and notes (like the corpus' repro/01)
    d = tmp_path / "d"
    d.mkdir()
    (d / "SRAT.dat").write_bytes(golden("SRAT"))
    (d / "FACS.dat").write_bytes(facs())
    (d / "facs-srat.acpidump.txt").write_text(to_acpidump([facs(), golden("SRAT")]))
    (d / "README.md").write_text("SRAT and FACS\n")
    inp = read_inputs([str(d)])
    assert [x for x in inp.diags if x.severity != "note"] == []
    assert not [x for x in inp.diags if x.check == "acpi-duplicate-table"]
    (d / "SLIT.dat").write_bytes(golden("SLIT")[:40])       # a truncated table is read ...
    inp = read_inputs([str(d)])
    assert inp.tables["SLIT"][0] == golden("SLIT")[:40]
    r = FWC.decompile([str(d)])                             # ... and the decoder says so
    assert {(x.check, x.message.split(": ", 1)[0]) for x in r.diagnostics if x.severity == "error"} == \
        {("acpi-truncated", str(d / "SLIT.dat"))}


SYSFS = "/sys/firmware/acpi/tables"


@pytest.mark.oracle
def test_this_machines_tables(tmp_path):
    """The machine running the tests: its /sys/firmware/acpi/tables, acpica-tools' acpidump of
    it, and acpidump -b's binaries all give the same tables, without an error."""
    try:
        names = os.listdir(SYSFS)
        with open(os.path.join(SYSFS, next(n for n in names if os.path.isfile(os.path.join(SYSFS, n)))), "rb"):
            pass
    except (OSError, StopIteration):
        pytest.skip(f"{SYSFS} is not readable here")
    direct = read_inputs([SYSFS])
    assert errors(direct.diags) == [], [d.message for d in direct.diags]
    if shutil.which("acpidump") is None:
        pytest.skip("acpidump not installed")
    text = subprocess.run(["acpidump"], capture_output=True, text=True, encoding="latin-1", timeout=60).stdout
    if " @ " not in text:
        pytest.skip("acpidump printed nothing")
    (tmp_path / "acpidump.txt").write_text(text, encoding="latin-1")
    dumped = read_inputs([str(tmp_path / "acpidump.txt")])
    assert errors(dumped.diags) == [], [d.message for d in dumped.diags]
    b = tmp_path / "b"
    b.mkdir()
    subprocess.run(["acpidump", "-b"], cwd=b, capture_output=True, timeout=60)
    binaries = read_inputs([str(b)])
    assert errors(binaries.diags) == []
    tables = {s: d for s, (d, _) in direct.tables.items()}
    assert {s: d for s, (d, _) in dumped.tables.items() if s in tables} == tables
    assert {s: d for s, (d, _) in binaries.tables.items() if s in tables} == tables


def test_sysfs_duplicate_signatures_are_numbered_naturally(tmp_path):
    # Linux names two SRATs SRAT1 and SRAT2 (no plain SRAT); SSDT10 comes after SSDT9.
    d = tmp_path / "tables"
    d.mkdir()
    second = bytearray(golden("SRAT"))
    second[16] = ord("X")                                 # another OEM table ID
    (d / "SRAT1").write_bytes(golden("SRAT"))
    (d / "SRAT2").write_bytes(fix_checksum(second))
    inp = read_inputs([str(d)])
    assert inp.tables["SRAT"][0] == golden("SRAT") and inp.tables["SRAT"][1].endswith("SRAT1")
    assert [x.check for x in inp.diags] == ["acpi-duplicate-table"]
    assert natural_order([f"SSDT{i}" for i in (10, 2, 1, 9)]) == ["SSDT1", "SSDT2", "SSDT9", "SSDT10"]


def test_unreadable_directory_entry_is_skipped_with_a_warning(tmp_path, monkeypatch):
    from fwc.files import read_bytes
    from fwc_plugins.acpi import inputs

    d = tmp_path / "tables"
    d.mkdir()
    (d / "SRAT").write_bytes(golden("SRAT"))
    (d / "DSDT").write_bytes(golden("DSDT"))

    def fake_read(path, *a, **k):      # sysfs tables are mode 0400: a user cannot read them
        if str(path).endswith("DSDT"):
            raise PermissionError(13, "Permission denied")
        return read_bytes(path, *a, **k)

    monkeypatch.setattr(inputs, "read_bytes", fake_read)
    inp = read_inputs([str(d)])
    assert errors(inp.diags) == [] and "SRAT" in inp.tables
    skipped = [x for x in inp.diags if x.check == "acpi-input-skipped"]
    assert len(skipped) == 1 and skipped[0].severity == "warning"
    assert "DSDT" in skipped[0].message and "root" in skipped[0].message


# --- repro 03: a SLIT longer than its locality count --------------------------------------------

def x299_slit() -> bytes:
    """Real X299 firmware: Localities = 1, then 64 matrix bytes (a 108-byte table)."""
    body = struct.pack("<Q", 1) + b"\x0a" + bytes(63)
    return sdt("SLIT", body, 1, b"ALASKA")


def test_slit_longer_than_its_count_is_read_as_linux_reads_it():
    data = x299_slit()
    t, probs = decode_table(data)
    assert not [p for p in probs if p.severity == "error"], probs
    assert t.entries == [b"\x0a"] and t.trailing == bytes(63)
    assert [(p.code, p.severity, p.offset) for p in probs] == [("acpi-slit-extra-bytes", "note", 45)]
    from fwc_plugins.acpi import encode
    assert encode(t) == data                               # re-encodes byte for byte


def test_slit_count_zero_with_bytes():
    data = sdt("SLIT", struct.pack("<Q", 0) + b"\x0a\x0a", 1)
    t, probs = decode_table(data)
    assert t.entries == [] and t.trailing == b"\x0a\x0a"
    assert [p.code for p in probs] == ["acpi-slit-extra-bytes"]


def test_slit_longer_than_its_count_decompiles(tmp_path):
    p = tmp_path / "SLIT.dat"
    p.write_bytes(x299_slit())
    r = FWC.decompile([str(p)])
    assert r.ok and r.text, r.render_diagnostics()


@pytest.mark.oracle
def test_slit_extra_bytes_as_iasl_reads_them(tmp_path):
    if shutil.which("iasl") is None:
        pytest.skip("iasl not installed")
    (tmp_path / "SLIT.dat").write_bytes(x299_slit())
    subprocess.run(["iasl", "-d", "SLIT.dat"], cwd=tmp_path, capture_output=True, check=True)
    dsl = (tmp_path / "SLIT.dsl").read_text()
    assert "Localities : 0000000000000001" in dsl and "Locality   0 : 0A" in dsl
    assert "Locality   1" not in dsl


# --- repro 04: XSDT and RSDT listing different tables -------------------------------------------

def ami_set(*, rsdp_revision: int = 2, rsdt_slit: bool = True) -> list:
    """AMI-style tables: the RSDT lists an ACPI 1.0 FADT, the XSDT the current one."""
    from fwc_plugins.acpi import DumpEntry

    fadt1 = sdt("FACP", bytes(116 - 36), 1)
    fadt5 = sdt("FACP", bytes(268 - 36), 5)
    srat, slit = golden("SRAT"), golden("SLIT")
    at = {"fadt1": 0x7E202150, "fadt5": 0x7E20F268, "srat": 0x7E20F628, "slit": 0x7E20FAD8,
          "facs": 0x7E2E2040}
    x = [at["fadt5"], at["srat"], at["slit"]]
    r = [at["fadt1"], at["srat"]] + ([at["slit"]] if rsdt_slit else [])
    hdr = {"oem_id": "ALASKA", "oem_table_id": "A M I ", "oem_revision": 0x1072009,
           "creator_id": "AMI ", "creator_revision": 0x10013}
    rsdp_hdr = {"oem_id": "ALASKA", "revision": rsdp_revision, "rsdt_address": 0x7E202028}
    body = {"xsdt_address": 0x7E202098} if rsdp_revision >= 2 else None
    out = [DumpEntry("RSDP", 0xF0010, encode_table("RSD PTR ", rsdp_hdr, (), body))]
    if rsdp_revision >= 2:
        out.append(DumpEntry("XSDT", 0x7E202098, encode_table("XSDT", {**hdr, "revision": 1}, x)))
    out += [DumpEntry("RSDT", 0x7E202028, encode_table("RSDT", {**hdr, "revision": 1}, r)),
            DumpEntry("FACP", at["fadt1"], fadt1), DumpEntry("FACP", at["fadt5"], fadt5),
            DumpEntry("SRAT", at["srat"], srat), DumpEntry("SLIT", at["slit"], slit),
            DumpEntry("FACS", at["facs"], facs())]
    return out


def test_xsdt_and_rsdt_listing_different_fadts(tmp_path):
    entries = ami_set()
    probs = check_table_set(entries)
    assert not [p for p in probs if p.severity == "error"], probs
    differ = [p for p in probs if p.code == "acpi-root-differ"]
    assert len(differ) == 1 and "Linux uses the XSDT" in differ[0].message
    assert "FACP" in differ[0].message
    p = tmp_path / "ami.txt"
    p.write_text(to_acpidump(entries))
    inp = read_inputs([str(p)])
    assert errors(inp.diags) == [], [d.message for d in inp.diags]
    assert inp.tables["FACP"][0] == entries[4].data        # the XSDT's FADT, as Linux reads it
    assert inp.rsdp_address == 0xF0010
    r = FWC.decompile([str(p)])
    assert r.ok and r.text, r.render_diagnostics()


def test_facs_and_dsdt_are_the_ones_the_fadt_in_use_points_at(tmp_path):
    from fwc_plugins.acpi import DumpEntry

    entries = ami_set()
    fadt1, fadt5 = bytearray(entries[3].data), bytearray(entries[4].data)
    struct.pack_into("<II", fadt1, 36, 0x7E2E2040, 0x7E203000)   # FIRMWARE_CTRL, DSDT
    struct.pack_into("<II", fadt5, 36, 0x7E2E2080, 0x7E203000)
    struct.pack_into("<Q", fadt5, 140, 0x7E204000)                # X_DSDT wins over DSDT
    dsdt_old, dsdt_new = sdt("DSDT", b"\x01", 2), sdt("DSDT", b"\x02", 2)
    facs_new = bytearray(facs())
    facs_new[32] = 2
    entries[3] = DumpEntry("FACP", entries[3].address, fix_checksum(fadt1))
    entries[4] = DumpEntry("FACP", entries[4].address, fix_checksum(fadt5))
    entries += [DumpEntry("FACS", 0x7E2E2080, bytes(facs_new)), DumpEntry("DSDT", 0x7E203000, dsdt_old),
                DumpEntry("DSDT", 0x7E204000, dsdt_new)]
    p = tmp_path / "ami.txt"
    p.write_text(to_acpidump(entries))
    inp = read_inputs([str(p)])
    assert errors(inp.diags) == []
    assert inp.tables["FACS"][0] == bytes(facs_new) and inp.tables["DSDT"][0] == dsdt_new


def test_acpi_1_rsdp_uses_the_rsdt(tmp_path):
    entries = ami_set(rsdp_revision=0)
    assert not [p for p in check_table_set(entries) if p.severity != "note"]
    p = tmp_path / "v1.txt"
    p.write_text(to_acpidump(entries))
    inp = read_inputs([str(p)])
    assert errors(inp.diags) == [] and inp.tables["FACP"][0] == entries[2].data


def test_roots_disagreeing_on_a_modelled_table_stay_an_error():
    # fwc writes both root tables listing the same tables: a SLIT only the XSDT lists cannot
    # be described (an OS reading the RSDT sees no SLIT).
    probs = check_table_set(ami_set(rsdt_slit=False))
    assert [p.code for p in probs if p.severity == "error"] == ["acpi-count-mismatch"]
    assert any("SLIT" in p.message for p in probs if p.severity == "error")


def test_bad_pointers_of_both_roots_reported_once():
    from fwc_plugins.acpi import DumpEntry
    entries = [e for e in ami_set() if e.signature != "FACS"]
    x = decode_table(entries[1].data)[0]
    r = decode_table(entries[2].data)[0]
    x.entries.append(0x7E2E0EB0)
    r.entries.append(0x7E2E0EB0)
    from fwc_plugins.acpi import encode
    entries[1] = DumpEntry("XSDT", entries[1].address, encode(x))
    entries[2] = DumpEntry("RSDT", entries[2].address, encode(r))
    bad = [p for p in check_table_set(entries) if p.code == "acpi-bad-pointer"]
    assert len(bad) == 1 and "XSDT" in bad[0].message


def test_dump_without_addresses_does_not_check_pointers(tmp_path):
    # acpidump reading /sys/firmware/acpi/tables prints every address as 0
    entries = ami_set()
    text = to_acpidump([e.data for e in entries])
    p = tmp_path / "sysfs-acpidump.txt"
    p.write_text(text)
    inp = read_inputs([str(p)])
    assert errors(inp.diags) == [] and not [d for d in inp.diags if d.check == "acpi-bad-pointer"]
    assert inp.rsdp_address is None


# --- iasl -d output (hw-probe logs): the "Raw Table Data" blocks --------------------------------

def iasl_text(tables: dict[str, bytes]) -> str:
    """hw-probe's ``acpidump`` log: an acpixtract listing, then per table the iasl -d text."""
    out = ["", "Intel ACPI Component Architecture",
           "ACPI Binary Table Extraction Utility version 20190816", "", "",
           " Signature  Length    Version Oem       Oem         Oem         Compiler Compiler", ""]
    out += [f" {i:02d})  {s}  0x{len(d):08X}  0x01" for i, s, d in
            ((i, s, d) for i, (s, d) in enumerate(tables.items(), 1))]
    out += ["", f"Found {len(tables)} ACPI tables", ""]
    for sig, data in tables.items():
        out += [sig, "----", f'[000h 0000   4]                    Signature : "{sig}"', "",
                f"Raw Table Data: Length {len(data)} (0x{len(data):X})", ""]
        for off in range(0, len(data), 16):
            chunk = data[off:off + 16]
            hx = "".join(f"{b:02X} " for b in chunk) + "   " * (16 - len(chunk))
            asc = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
            out.append(f"    {off:04X}: {hx} // {asc}")
        out += ["", ""]
    out += ["DSDT", "----", 'DefinitionBlock ("", "DSDT", 1, "AS373", "AS373156", 0x00000156)', "{", "}", ""]
    return "\n".join(out) + "\n"


def test_iasl_raw_table_data(tmp_path):
    tables = {"APIC": golden("APIC"), "FACS": facs(), "SRAT": golden("SRAT"), "SLIT": x299_slit()}
    p = tmp_path / "hw-probe-acpidump.txt"
    p.write_text(iasl_text(tables))
    entries, probs = parse_acpidump(p.read_text())
    assert [(e.signature, e.data) for e in entries] == list(tables.items())
    assert not [x for x in probs if x.severity == "error"]
    inp = read_inputs([str(p)])
    assert errors(inp.diags) == [], [d.message for d in inp.diags]
    for sig in ("APIC", "SRAT", "SLIT"):
        assert inp.tables[sig][0] == tables[sig]


@pytest.mark.oracle
def test_iasl_disassembly_is_read(tmp_path):
    if shutil.which("iasl") is None:
        pytest.skip("iasl not installed")
    text = []
    for sig in ("APIC", "SRAT", "SLIT", "FACS", "HPET"):
        (tmp_path / f"{sig}.dat").write_bytes(golden(sig))
        subprocess.run(["iasl", "-d", f"{sig}.dat"], cwd=tmp_path, capture_output=True, check=True)
        text.append(f"{sig}\n----\n" + (tmp_path / f"{sig}.dsl").read_text())
    entries, probs = parse_acpidump("\n".join(text))
    assert [(e.signature, e.data) for e in entries] == \
        [(s, golden(s)) for s in ("APIC", "SRAT", "SLIT", "FACS", "HPET")]


# --- acpixtract as the oracle for acpidump text -------------------------------------------------

def acpixtract(tmp_path, text: str) -> list[bytes] | None:
    if shutil.which("acpixtract") is None:
        return None
    d = tmp_path / "x"
    d.mkdir(exist_ok=True)
    (d / "dump.txt").write_text(text, encoding="latin-1")
    subprocess.run(["acpixtract", "-a", "dump.txt"], cwd=d, capture_output=True)
    return sorted(open(f, "rb").read() for f in glob.glob(str(d / "*.dat")))


@pytest.mark.oracle
def test_reader_agrees_with_acpixtract(tmp_path):
    entries = ami_set()
    text = to_acpidump(entries) + to_acpidump([sdt("OEMB", b"\x01"), sdt("SSDT", b"\x02", 2),
                                               sdt("SSDT", b"\x03", 2)])
    got = acpixtract(tmp_path, text)
    if got is None:
        pytest.skip("acpixtract not installed")
    mine, _ = parse_acpidump(text)
    assert sorted(e.data for e in mine) == got


# --- the real-world corpus ----------------------------------------------------------------------

def corpus() -> str | None:
    for d in (os.environ.get("FWC_ACPI_REALWORLD"), os.path.join(ROOT, os.pardir, "shared", "acpi-realworld")):
        if d and os.path.isdir(os.path.join(d, "machines")):
            return os.path.abspath(d)
    return None


def need_corpus() -> str:
    d = corpus()
    if d is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the real-world ACPI corpus is missing (set FWC_ACPI_REALWORLD)")
        pytest.skip("the real-world ACPI corpus (../shared/acpi-realworld) is not here")
    return d


def corpus_texts() -> list[str]:
    d = corpus()
    if d is None:
        return ["<no corpus>"]
    found = sorted(glob.glob(os.path.join(d, "machines", "*", "source.txt")) +
                   glob.glob(os.path.join(d, "machines", "*", "clover-acpidump.txt")))
    return [os.path.relpath(p, d) for p in found]


def expected_tables(machine_dir: str) -> dict[str, bytes]:
    out = {}
    for p in sorted(glob.glob(os.path.join(machine_dir, "tables", "*.dat"))):
        with open(p, "rb") as f:
            out[os.path.basename(p)[:-4]] = f.read()
    return out


def extracted(inp) -> dict[str, bytes]:
    got = {sig: data for sig, (data, _) in inp.tables.items()}
    if inp.rsdp is not None:
        got["RSDP"] = inp.rsdp[0]
    return got


@pytest.mark.parametrize("rel", corpus_texts())
def test_corpus_acpidump_text(rel):
    d = need_corpus()
    path = os.path.join(d, rel)
    inp = read_inputs([path])
    assert errors(inp.diags) == [], "\n".join(x.message for x in errors(inp.diags))
    got = extracted(inp)
    for sig in ("FACP", "FACS", "DSDT"):    # the instance Linux reads (Clover dumps have two)
        p = os.path.join(os.path.dirname(path), "all", f"{sig}.dat")
        if os.path.exists(p) and sig in got:
            n = struct.unpack_from("<I", got[sig], 4)[0]     # fwts logs pad the FACS to 80 bytes
            assert got[sig][:n] == open(p, "rb").read(), sig
    for sig, data in expected_tables(os.path.dirname(path)).items():
        assert got.get(sig) == data, sig
        if sig in MODELLED:
            _, probs = decode_table(data)
            assert not [p for p in probs if p.severity == "error" and p.code != "acpi-bad-checksum"], probs


@pytest.mark.parametrize("rel", corpus_texts())
def test_corpus_acpidump_text_agrees_with_acpixtract(tmp_path, rel):
    d = need_corpus()
    path = os.path.join(d, rel)
    with open(path, encoding="latin-1") as f:
        text = f.read()
    got = acpixtract(tmp_path, text)
    if got is None:
        pytest.skip("acpixtract not installed")
    mine, _ = parse_acpidump(text)
    if not got:      # iasl -d output (hw-probe): acpixtract finds no acpidump blocks in it
        assert "Raw Table Data" in text and mine
        return
    assert sorted(e.data for e in mine) == got


@pytest.mark.parametrize("rel", corpus_texts())
def test_corpus_acpidump_text_decompiles(rel):
    d = need_corpus()
    r = FWC.decompile([os.path.join(d, rel)])
    assert r.ok and r.text, r.render_diagnostics()


def test_corpus_table_directories():
    d = need_corpus()
    dirs = sorted(glob.glob(os.path.join(d, "machines", "*", "all")))
    assert dirs
    for a in dirs:
        inp = read_inputs([a])
        assert errors(inp.diags) == [], (a, [x.message for x in errors(inp.diags)])
        got = extracted(inp)
        for sig, data in expected_tables(os.path.dirname(a)).items():
            # Clover's dumps also hold its patched copies (APIC-p.dat): compare where the
            # directory has one table of the signature
            copies = [p for p in glob.glob(os.path.join(a, "*")) if open(p, "rb").read(4) == sig.encode()]
            if sig in MODELLED and len(copies) == 1:
                assert got.get(sig) == data, (a, sig)


REPRO = {"01-acpidump-unmodelled-checksum": ["srat-only.acpidump.txt", "facs-srat.acpidump.txt",
                                           "oemb-srat.acpidump.txt", "."],
         "02-modelled-checksum-route-dependent": ["SLIT.dat", "slit.acpidump.txt"],
         "03-slit-count-vs-length": ["SLIT.dat"],
         "04-xsdt-rsdt-differ": ["x9dai-roots.acpidump.txt"]}


@pytest.mark.parametrize("case", sorted(REPRO))
def test_corpus_repro(case):
    d = os.path.join(need_corpus(), "repro", case)
    for name in REPRO[case]:
        r = FWC.decompile([os.path.normpath(os.path.join(d, name))])
        assert r.ok and r.text, (name, r.render_diagnostics())
        assert not [x for x in r.diagnostics if x.severity == "error"]
        if case.startswith("01"):   # only the OEMB's checksum is wrong
            assert [x.check for x in r.diagnostics if x.severity == "warning"] == \
                (["acpi-bad-checksum"] if "oemb" in name or name == "." else [])
    if case.startswith("02"):
        a = FWC.decompile([os.path.join(d, "SLIT.dat")])
        b = FWC.decompile([os.path.join(d, "slit.acpidump.txt")])
        assert sorted(tail(x) for x in a.diagnostics if "byte offset" in x.message) == \
            sorted(tail(x) for x in b.diagnostics if "byte offset" in x.message)
