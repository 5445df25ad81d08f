"""Backend ``initrd``: the ACPI override cpio and Linux's table-upgrade rules (acpi-tables.md §11).

The cpio format is checked against an independent oracle, GNU cpio (Debian package ``cpio``;
installed with apt-get when missing and possible; the test skips when it cannot be had,
except under CI=true where it fails).
"""

from __future__ import annotations

import gzip
import importlib.metadata
import os
import shutil
import stat
import subprocess

import pytest

import fwc
import fwc_plugins.initrd as initrd_plugin
from fwc_plugins.initrd import cpio, upgrade

from conftest import machine

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _registered(module: str) -> bool:
    return any(ep.value == module for ep in importlib.metadata.entry_points(group="fwc.backends"))


def make_fwc(**kw):
    plugins = [] if _registered("fwc_plugins.initrd") else [initrd_plugin]
    return fwc.Fwc(plugins=plugins, **kw)


@pytest.fixture(scope="module")
def F():
    return make_fwc()


QEMU2 = """board qemu-q35
    {oem}
    node 0 {{ cpus 0-1  memory size 2G }}
    node 1 {{ cpus 2-3  memory size 2G hotpluggable }}
    {extra}
    initrd at 1G size 8M {{ {overrides} }}
    cmdline "nokaslr movable_node"
"""
BOCHS = 'oem id "BOCHS " table "BXPC    " revision {rev}'


def q35(overrides="override srat", rev=2, oem=None, extra=""):
    return machine(QEMU2.format(oem=BOCHS.format(rev=rev) if oem is None else oem, overrides=overrides,
                                extra=extra))


def checks_of(F, text, prefix="initrd-"):
    r = F.check(text) if os.path.exists(text) else F.check(text=text)
    return sorted((d.check, d.severity) for d in r.diagnostics if d.check.startswith(prefix)), r


def table(sig=b"SSDT", body=b"", oem_id=b"BOCHS ", table_id=b"BXPC    ", rev=1, fix=True, length=None):
    data = bytearray(sig + (36 + len(body) if length is None else length).to_bytes(4, "little") + b"\x02\x00"
                     + oem_id + table_id + rev.to_bytes(4, "little") + b"FWC " + (1).to_bytes(4, "little") + body)
    if fix:
        data[9] = (-sum(data)) & 0xFF
    return bytes(data)


# ---- the archive ------------------------------------------------------------------------

def test_archive_layout_is_deterministic_newc(F):
    r = F.compile(text=q35("override srat  override madt revision 7"), backends=["initrd"])
    assert r.ok, r.render_diagnostics()
    blob = r.artifact("initrd/acpi-override.cpio").data
    assert blob == F.compile(text=q35("override madt revision 7  override srat"), backends=["initrd"]) \
        .artifact("initrd/acpi-override.cpio").data  # order of statements does not matter
    assert len(blob) % 4 == 0
    entries, end = cpio.read(blob)
    assert end == len(blob)
    assert [e.name for e in entries] == ["kernel", "kernel/firmware", "kernel/firmware/acpi",
                                         "kernel/firmware/acpi/madt.aml", "kernel/firmware/acpi/srat.aml"]
    assert [e.ino for e in entries] == [1, 2, 3, 4, 5]
    assert all(e.mtime == 0 and e.uid == 0 and e.gid == 0 for e in entries)
    assert [stat.S_IFMT(e.mode) for e in entries] == [stat.S_IFDIR] * 3 + [stat.S_IFREG] * 2
    # The trailer: ino 0, mode 0, name TRAILER!!!
    tail = blob[-124:]
    assert tail.startswith(b"070701" + b"0" * 16) and b"TRAILER!!!\0" in tail
    madt, srat = entries[3].data, entries[4].data
    assert madt[:4] == b"APIC" and upgrade.Header.of(madt).oem_revision == 7 and sum(madt) % 256 == 0
    assert srat[:4] == b"SRAT" and upgrade.Header.of(srat).oem_revision == 2 and sum(srat) % 256 == 0
    # exactly the machine's SRAT (the acpi backend's bytes)
    a = F.compile(text=q35("override srat"), backends=["acpi"])
    assert srat == a.artifact("acpi/SRAT.aml").data


def test_data_offsets_are_4_aligned():
    blob = cpio.tree({"kernel/firmware/acpi/a.aml": b"x" * 37, "kernel/firmware/acpi/bb.aml": b"y" * 41})
    off = 0
    while True:
        namesize, size = int(blob[off + 94:off + 102], 16), int(blob[off + 54:off + 62], 16)
        name = blob[off + 110:off + 110 + namesize - 1]
        data_off = (off + 110 + namesize + 3) & ~3
        assert data_off % 4 == 0
        off = (data_off + size + 3) & ~3
        if name == b"TRAILER!!!":
            break
    assert off == len(blob)


def test_base_initramfs_is_appended(F, tmp_path):
    base = tmp_path / "initrd.img"
    base.write_bytes(gzip.compress(b"whatever", mtime=0))
    r = F.compile(text=q35(), backends=["initrd"], options={"initrd.base": str(base)})
    assert r.ok
    arch = r.artifact("initrd/acpi-override.cpio").data
    img = r.artifact("initrd/initrd.img").data
    assert img == arch + base.read_bytes()
    found = cpio.scan_acpi(img)  # Linux's scan stops at the gzip data
    assert [f.name for f in found] == ["srat.aml"]
    r = F.compile(text=q35(), backends=["initrd"], options={"initrd.base": str(tmp_path / "missing")})
    assert not r.ok and "cannot read the base initramfs" in r.render_diagnostics()


def test_no_overrides_writes_nothing(F):
    r = F.compile(text=machine("board qemu-q35 node 0 { cpus 0 memory size 1G }"), backends=["initrd"])
    assert r.ok and r.artifacts == []
    assert [d.check for d in r.diagnostics] == ["initrd-none"] and r.diagnostics[0].severity == "note"


def test_scan_like_linux():
    a = cpio.tree({"kernel/firmware/acpi/srat.aml": b"S" * 40, "etc/x": b"no"})
    b = cpio.tree({"kernel/firmware/acpi/slit.aml": b"L" * 44, "./kernel/firmware/acpi/no.aml": b"N",
                   "kernel/firmware/acpi/sub/deep.aml": b"D"})
    found = cpio.scan_acpi(a + b"\0" * 8 + b + gzip.compress(cpio.tree({"kernel/firmware/acpi/z.aml": b"Z"})))
    assert [(f.name, len(f.data)) for f in found] == [("srat.aml", 40), ("slit.aml", 44), ("sub/deep.aml", 1)]
    long = cpio.scan_acpi(cpio.tree({"kernel/firmware/acpi/" + "n" * 30 + ".aml": b"1"}))
    assert long[0].name == "n" * 17  # truncated to MAX_CPIO_FILE_NAME - 1


def test_external_file_names_are_short_and_unique(F, tmp_path):
    t = table(b"SSDT", b"\0" * 8)
    (tmp_path / "a-very-long-table-file-name.aml").write_bytes(t)
    (tmp_path / "srat.bin").write_bytes(table(b"SRAT", bytes(12), oem_id=b"OTHER ", table_id=b"OTHERTBL"))
    text = q35('override srat override "a-very-long-table-file-name.aml" override "srat.bin"')
    path = tmp_path / "m.fwc"
    path.write_text(text)
    r = F.compile(path, backends=["initrd"], options={})
    names = [f.name for f in cpio.scan_acpi(r.artifact("initrd/acpi-override.cpio").data)]
    assert all(len(n) <= cpio.MAX_NAME for n in names) and len(set(names)) == 3, names
    assert "srat.aml" in names and "srat-1.aml" in names


# ---- independent oracle: GNU cpio ------------------------------------------------------

def _cpio_tool():
    exe = shutil.which("cpio")
    if exe is None and os.geteuid() == 0 and not os.environ.get("FWC_ORACLE_NO_INSTALL"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for argv in (["apt-get", "install", "-y", "-q", "--no-install-recommends", "cpio"],
                     ["apt-get", "update", "-q"],
                     ["apt-get", "install", "-y", "-q", "--no-install-recommends", "cpio"]):
            subprocess.run(argv, capture_output=True, env=env, timeout=900)
            exe = shutil.which("cpio")
            if exe:
                break
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU cpio is not available under CI")
        pytest.skip("GNU cpio is not available (apt-get install cpio)")
    return exe


@pytest.mark.oracle
def test_gnu_cpio_extracts_identical_files(F, tmp_path):
    exe = _cpio_tool()
    ext = tmp_path / "t.aml"
    ext.write_bytes(table(b"SSDT", b"\x10" * 7))
    desc = tmp_path / "m.fwc"
    desc.write_text(q35('override srat override slit revision 9 override madt override "t.aml"',
                        extra="distance 0 1 = 21"))
    r = F.compile(desc, backends=["initrd"])
    assert r.ok, r.render_diagnostics()
    blob = r.artifact("initrd/acpi-override.cpio").data
    out = tmp_path / "x"
    out.mkdir()
    p = subprocess.run([exe, "-i", "-d", "--quiet", "--no-absolute-filenames"], input=blob, cwd=out,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    listed = subprocess.run([exe, "-t", "--quiet"], input=blob, capture_output=True, timeout=60)
    assert listed.stdout.decode().split() == [e.name for e in cpio.read(blob)[0]]
    got = {str(pth.relative_to(out)): pth.read_bytes() for pth in out.rglob("*") if pth.is_file()}
    want = {f.path: f.data for f in cpio.scan_acpi(blob)}
    assert got == want and len(want) == 4
    # and GNU cpio's own archive of the extracted tree is read back identically by our reader
    names = subprocess.run("find kernel | LC_ALL=C sort", shell=True, cwd=out, capture_output=True).stdout
    made = subprocess.run([exe, "-o", "-H", "newc", "-R", "0:0", "--quiet"], input=names, cwd=out,
                          capture_output=True, timeout=60).stdout
    assert {f.path: f.data for f in cpio.scan_acpi(made)} == want
    assert [e.name for e in cpio.read(made)[0]] == [e.name for e in cpio.read(blob)[0]]


# ---- acceptance rules (errors) -----------------------------------------------------------

@pytest.mark.parametrize("data, check", [
    (b"SSDT" + bytes(20), "initrd-table-size"),
    (table(b"RSD "), "initrd-signature"),
    (table(b"FACS"), "initrd-signature"),
    (table(b"XXXX"), "initrd-signature"),
    (table(b"SSDT", b"\0" * 4) + b"\0" * 4, "initrd-table-length"),  # padded by 4 bytes
    (table(b"SSDT", b"\0" * 4, length=36), "initrd-table-length"),
    (table(b"SSDT", b"\1" * 4, fix=False), "initrd-checksum"),
])
def test_rejected_files_are_errors(F, tmp_path, data, check):
    (tmp_path / "t.aml").write_bytes(data)
    (tmp_path / "m.fwc").write_text(q35('override srat override "t.aml"'))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [(check, "error")], r.render_diagnostics()
    assert upgrade.rejection(data)[0] == check


def test_accepted_file_is_quiet(F, tmp_path):
    (tmp_path / "t.aml").write_bytes(table(b"SSDT", b"\x11" * 9))
    (tmp_path / "m.fwc").write_text(q35('override srat override "t.aml"'))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [], r.render_diagnostics()  # QEMU has no SSDT: installed and used


def test_unreadable_file(F, tmp_path):
    (tmp_path / "t.aml").mkdir()  # exists, but cannot be read as a file
    (tmp_path / "m.fwc").write_text(q35('override "t.aml"'))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [("initrd-file", "error")], r.render_diagnostics()


def test_more_than_64_tables(F, tmp_path):
    for i in range(65):
        (tmp_path / f"t{i:02d}.aml").write_bytes(table(b"SSDT", bytes([i]) * 4, table_id=b"T%06d " % i))
    files = " ".join(f'override "t{i:02d}.aml"' for i in range(65))
    (tmp_path / "m.fwc").write_text(q35(files))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [("initrd-too-many", "error")], r.render_diagnostics()
    (tmp_path / "m.fwc").write_text(q35(" ".join(f'override "t{i:02d}.aml"' for i in range(64))))
    assert checks_of(F, str(tmp_path / "m.fwc"))[0] == []


def test_slit_without_distances(F):
    got, r = checks_of(F, q35("override slit"), prefix="")
    # fwc's own check reports it; plugin checks do not run on a machine with errors.
    assert got == [("override-table", "error")], r.render_diagnostics()


# ---- what Linux would do (warnings) -------------------------------------------------------

def test_override_with_higher_revision_is_quiet(F):
    got, r = checks_of(F, q35(rev=2))
    assert got == []
    view = initrd_plugin.linux_view(r.machine)
    assert [o.fate for _, o in view] == ["override"]
    assert view[0][1].header.ident == "SRAT-BOCHS -BXPC    "
    assert initrd_plugin.effective_tables(r.machine)["SRAT"][:4] == b"SRAT"


@pytest.mark.parametrize("rev", [0, 1])
def test_equal_or_lower_revision_is_dropped(F, rev):
    got, r = checks_of(F, q35(rev=rev))
    assert got == [("initrd-revision", "warning")]
    assert "use revision 2" in r.render_diagnostics()
    got, _ = checks_of(F, q35("override srat revision 2", rev=rev))  # the override's own revision wins
    assert got == []


def test_other_oem_ids_install_a_second_table(F):
    # the override table's own identity ('tables { srat oem … }'): QEMU's tables keep the machine's
    got, r = checks_of(F, q35(oem='oem revision 2\ntables { srat oem id "FWC   " table "FWCMACH " revision 2 }'))
    assert got == [("initrd-oem-mismatch", "warning")]
    assert "second SRAT" in r.render_diagnostics()
    got, _ = checks_of(F, q35(oem='oem revision 5\ntables { srat oem id "BOCHS " table "OTHERTBL" revision 5 }'))
    assert got == [("initrd-oem-mismatch", "warning")]
    got, _ = checks_of(F, q35(oem='oem revision 5\ntables { srat oem id "BOCHS" table "BXPC" revision 5 }'))
    assert got == [("initrd-oem-mismatch", "warning")]  # NUL-padded: no match


def test_machine_oem_ids_reach_qemu_so_the_override_matches(F):
    # the machine's OEM IDs go on QEMU's command line (-machine x-oem-id, x-oem-table-id: issue
    # 16), so QEMU's own tables carry them too and the override replaces QEMU's SRAT
    got, _ = checks_of(F, q35(oem='oem id "FWC   " table "FWCMACH " revision 2'))
    assert got == []


def test_qemu_board_defaults_to_qemu_ids(F):
    # without an 'oem' statement a qemu-board machine's tables carry QEMU's IDs and revision 1
    got, r = checks_of(F, q35(oem=""))
    assert got == [("initrd-revision", "warning")]
    text = machine("""board qemu-q35
        node 0 { cpus 0 memory size 1G }
        node 1 { cpus 1 memory size 1G }
        distance 0 1 = 21
        initrd at 512M size 8M { override slit revision 2 }""")
    assert checks_of(F, text)[0] == []  # QEMU has a SLIT (-numa dist): replaced


def test_table_the_firmware_lacks_is_installed_and_used():
    fw = {"SRAT": upgrade.Header("SRAT", 0, b"BOCHS ", b"BXPC    ", 1)}
    out = upgrade.predict([("slit.aml", table(b"SLIT", bytes(12)))], fw)
    assert [(o.fate, o.check) for o in out] == [("install", None)]


def test_duplicates_and_root_tables():
    fw = {"SRAT": upgrade.Header("SRAT", 0, b"BOCHS ", b"BXPC    ", 1),
          "RSDT": upgrade.Header("RSDT", 0, b"BOCHS ", b"BXPC    ", 1)}
    s1 = table(b"SRAT", bytes(12), rev=1)  # equal: dropped (marked used)
    s2 = table(b"SRAT", bytes(12), rev=3)  # overrides
    s3 = table(b"SRAT", bytes(12), rev=4)  # after the override: extra table, never read
    r1 = table(b"RSDT", rev=1)
    out = upgrade.predict([("a", s1), ("b", s2), ("c", s3), ("d", r1), ("e", table(b"XSDT", rev=9))], fw)
    assert [(o.fate, o.check) for o in out] == [
        ("dropped", "initrd-revision"), ("override", None), ("unused", "initrd-duplicate"),
        ("dropped", "initrd-revision"), ("not-installed", "initrd-root-table")]
    # two tables for a signature the firmware lacks: the first is used, the second never read
    out = upgrade.predict([("a", table(b"HMAT", rev=1)), ("b", table(b"HMAT", rev=2))], {})
    assert [(o.fate, o.check) for o in out] == [("install", None), ("unused", "initrd-duplicate")]
    # every SSDT is loaded
    out = upgrade.predict([("a", table(b"SSDT", rev=1)), ("b", table(b"SSDT", rev=1))], fw)
    assert [(o.fate, o.check) for o in out] == [("install", None), ("install", None)]


def test_generic_board_firmware_is_the_machine(F):
    text = machine("""node 0 { cpus 0-1 memory 0 size 2G }
        node 1 { cpus 2-3 memory 4G size 2G hotpluggable }
        initrd at 1G size 8M { override srat }""")
    got, r = checks_of(F, text)
    assert got == [("initrd-revision", "warning")]  # the same table as the firmware's, same revision
    got, _ = checks_of(F, text.replace("override srat", "override srat revision 2"))
    assert got == []


def test_checks_are_registered_with_codes(F):
    names = {c.name: c for c in F.checks}
    for name, code, level, _ in initrd_plugin.CHECKS:
        assert names[name].code == code and names[name].level == level
    # warnings can be silenced like any check
    G = make_fwc(warn=["no-initrd-revision"])
    assert checks_of(G, q35(rev=1))[0] == []


def test_example_two_node_hotplug(F):
    r = F.compile(os.path.join(REPO, "examples", "two-node-hotplug.fwc"), backends=["initrd"])
    assert r.ok and not [d for d in r.diagnostics if d.check.startswith("initrd-")]
    assert [f.name for f in cpio.scan_acpi(r.artifact("initrd/acpi-override.cpio").data)] == ["srat.aml"]


# ---- a table Linux reads but cannot parse (issue 9) ---------------------------------------

def _machine_srat(F, rev=2):
    (f,) = initrd_plugin.archive_files(F.load(text=q35(rev=rev)).machine)
    return f.data


def _with_short_memory_subtable(srat: bytes, rev: int, at_end: bool = True) -> bytes:
    """``srat`` with a 10-byte memory affinity subtable (the layout needs 40), length and
    checksum fixed: Linux accepts the file and then drops the SRAT it cannot parse."""
    d = bytearray(srat)
    sub = bytes([1, 10]) + bytes(8)
    d = d + sub if at_end else d[:48] + sub + d[48:]
    d[4:8] = len(d).to_bytes(4, "little")
    return upgrade.set_oem_revision(bytes(d), rev)


@pytest.mark.parametrize("at_end", [True, False])
def test_malformed_table_linux_reads_is_a_warning(F, tmp_path, at_end):
    (tmp_path / "s.aml").write_bytes(_with_short_memory_subtable(_machine_srat(F), 3, at_end))
    (tmp_path / "m.fwc").write_text(q35('override "s.aml"'))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [("initrd-malformed", "warning")], r.render_diagnostics()
    (d,) = [d for d in r.diagnostics if d.check == "initrd-malformed"]
    assert "'s.aml'" in d.message and "SRAT" in d.message and "length 10" in d.message
    assert d.span is not None and F.checks.get("initrd-malformed").code == 4213
    # the same table under the name Linux would not read (dropped: revision 1) says only that
    (tmp_path / "s.aml").write_bytes(_with_short_memory_subtable(_machine_srat(F), 1, at_end))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [("initrd-revision", "warning")], r.render_diagnostics()


def test_malformed_table_warning_is_switchable(tmp_path):
    (tmp_path / "s.aml").write_bytes(_with_short_memory_subtable(_machine_srat(make_fwc()), 3))
    (tmp_path / "m.fwc").write_text(q35('override "s.aml"'))
    got, r = checks_of(make_fwc(warn=["no-initrd-malformed"]), str(tmp_path / "m.fwc"))
    assert got == [] and r.ok, r.render_diagnostics()


def test_well_formed_table_files_are_not_malformed(F, tmp_path):
    (tmp_path / "s.aml").write_bytes(_machine_srat(F))
    (tmp_path / "t.aml").write_bytes(table(b"SSDT", b"\x11" * 9))  # no layout: nothing to decode
    (tmp_path / "m.fwc").write_text(q35('override "s.aml" override "t.aml"'))
    got, r = checks_of(F, str(tmp_path / "m.fwc"))
    assert got == [], r.render_diagnostics()


# ---- ACPI facts come from the acpi plugin, QEMU's identity from fwc.boards (issue 9) --------

def test_rsdp_file_is_named_an_rsdp(F, tmp_path):
    from fwc_plugins.acpi import encode_table

    rsdp = encode_table("RSDP", {"oem_id": "BOCHS ", "revision": 2, "rsdt_address": 0x1000},
                        body={"xsdt_address": 0x2000})
    assert upgrade.rejection(rsdp)[0] == "initrd-signature" and "an RSDP" in upgrade.rejection(rsdp)[1]
    assert upgrade.header_size() == 36
    short = table(b"SSDT")[:35]
    assert upgrade.rejection(short) == ("initrd-table-size", "the file is smaller than an ACPI header (36 bytes): "
                                        "Linux skips it ('Table smaller than ACPI header')")


@pytest.mark.parametrize("board", ["qemu-q35", "qemu-pc"])
def test_qemu_firmware_identity_is_the_boards(F, board):
    from fwc import boards

    m = F.load(text=q35().replace("qemu-q35", board)).machine
    oid, tid, rev = boards.BOARDS[board].oem[:3]
    fw = upgrade.firmware_tables(m)
    assert {(h.oem_id, h.oem_table_id, h.oem_revision) for h in fw.values()} == {
        (oid.encode("latin-1"), tid.encode("latin-1"), rev)}
    assert "SRAT" in fw and "RSDT" in fw and "FACS" not in fw
