"""``fwc decompile`` reads the firmware memory map from where a user has it (issue 10):
a ``/sys/firmware/memmap`` directory, a saved dmesg (``BIOS-e820:`` lines, with or without
timestamps), a QEMU guest's serial log; the description then carries ``e820 { … }``.
Fixtures are built here (the real-firmware corpus has no memory maps)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, run_fwc
from fwc import Fwc
from fwc.e820 import e820_of
from fwc_plugins.acpi.memmap import DMESG_TYPES, SYSFS_TYPES

FWC = Fwc()
TYPES = ["usable", "reserved", "acpi", "nvs", "unusable", "pmem", "pram", "soft-reserved"]
SYSFS = {v: k for k, v in SYSFS_TYPES.items()}
DMESG = {v: k for k, v in DMESG_TYPES.items()}

#: a QEMU q35 guest's map (2 GiB below 4G, 2 GiB above), as SeaBIOS hands it over
QEMU_MAP = [(0, 0x9FC00, "usable"), (0x9FC00, 0x400, "reserved"), (0xF0000, 0x10000, "reserved"),
            (0x100000, 0x7FEE0000, "usable"), (0x7FFE0000, 0x20000, "reserved"), (0xB0000000, 0x10000000, "reserved"),
            (0xFED1C000, 0x4000, "reserved"), (0xFFFC0000, 0x40000, "reserved"), (1 << 32, 1 << 31, "usable"),
            (0xFD00000000, 0x300000000, "reserved")]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    out = tmp_path_factory.mktemp("acpi")
    r = run_fwc("compile", os.path.join(EXAMPLES, "two-node-hotplug.fwc"), "-b", "acpi", "-o", str(out))
    assert r.returncode == 0, r.stderr
    return [str(out / "acpi" / f"{s}.aml") for s in ("SRAT", "SLIT", "APIC")]


def write_memmap(d, entries):
    d.mkdir(parents=True, exist_ok=True)
    for i, (b, s, t) in enumerate(entries):
        e = d / str(i)
        e.mkdir()
        (e / "start").write_text(f"{b:#x}\n")
        (e / "end").write_text(f"{b + s - 1:#x}\n")
        (e / "type").write_text(SYSFS[t] + "\n")
    return str(d)


def dmesg_lines(entries, stamp=True):
    pre = "[    0.000000] " if stamp else ""
    out = [f"{pre}BIOS-provided physical RAM map:"]
    out += [f"{pre}BIOS-e820: [mem {b:#018x}-{b + s - 1:#018x}] {DMESG[t]}" for b, s, t in entries]
    return out


def qemu_log(entries):
    """A QEMU guest's serial output: SeaBIOS chatter, then the kernel's lines, CRLF."""
    lines = ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from ROM..", "\x1b[2J"]
    lines += dmesg_lines(entries) + ["[    0.000000] NX (Execute Disable) protection: active"]
    return "\r\n".join(lines) + "\r\n"


def decompiled_map(paths):
    r = FWC.decompile(paths)
    assert r.ok and r.text, r.render_diagnostics()
    c = FWC.check(text=r.text, name="<d>")
    assert c.ok, c.render_diagnostics() + r.text
    return [(e.base, e.size, e.type) for e in c.machine.e820], r


def test_memmap_directory(tables, tmp_path):
    d = write_memmap(tmp_path / "memmap", QEMU_MAP)
    got, r = decompiled_map(tables + [d])
    assert got == QEMU_MAP
    assert "    e820 {\n        usable   0 size 639K\n        reserved 0x9fc00 size 1K\n" in r.text


def test_dmesg_with_and_without_timestamps(tables, tmp_path):
    for stamp in (True, False):
        p = tmp_path / f"dmesg{stamp}.txt"
        p.write_text("\n".join(["[    0.000000] Linux version 6.1.0-13-amd64"] * stamp + dmesg_lines(QEMU_MAP, stamp))
                     + "\n")
        assert decompiled_map(tables + [str(p)])[0] == QEMU_MAP


def test_qemu_serial_log(tables, tmp_path):
    p = tmp_path / "serial.log"
    p.write_text(qemu_log(QEMU_MAP))
    got, r = decompiled_map(tables + [str(p)])
    assert got == QEMU_MAP
    m = FWC.check(text=r.text).machine
    assert e820_of(m)[0] == (0, 0x9FC00, 1)


def test_old_kernel_format(tables, tmp_path):
    p = tmp_path / "old.txt"
    p.write_text(" BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)\n"
                 " BIOS-e820: 0000000000100000 - 0000000080000000 (usable)\n")
    assert decompiled_map(tables + [str(p)])[0] == [(0, 0x9FC00, "usable"), (1 << 20, (2 << 30) - (1 << 20), "usable")]


def test_every_type_in_every_format(tables, tmp_path):
    entries = [(i << 30, 1 << 30, t) for i, t in enumerate(TYPES)]
    p = tmp_path / "d.txt"
    p.write_text("\n".join(dmesg_lines(entries)) + "\n")
    d = write_memmap(tmp_path / "mm", entries)
    for src in (str(p), d):
        r = FWC.decompile(tables + [src])
        assert r.text is not None, r.render_diagnostics()
        m = FWC.load(text=r.text).machine
        assert [(e.base, e.size, e.type) for e in m.e820] == entries


def test_malformed_lines_name_file_and_line(tables, tmp_path):
    p = tmp_path / "bad.txt"
    lines = dmesg_lines(QEMU_MAP[:2])
    lines.insert(2, "[    0.000000] BIOS-e820: [mem 0x00000000000a0000-0xZZ] usable")
    lines.append("[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] type 20")
    p.write_text("\n".join(lines) + "\n")
    r = FWC.decompile(tables + [str(p)])
    assert r.text is not None, r.render_diagnostics()
    bad = [d for d in r.diagnostics if d.check == "e820-input"]
    assert [d.span.line for d in bad] == [3, 5] and all(d.span.file == str(p) for d in bad)
    assert f"{p}:3:" in bad[0].message and "unknown e820 type 'type 20'" in bad[1].message
    assert "reserved 1M size 1M" in r.text  # an unknown type is not RAM, as in Linux


def test_malformed_memmap_files(tables, tmp_path):
    d = tmp_path / "mm"
    write_memmap(d, QEMU_MAP[:3])
    (d / "1" / "start").write_text("junk\n")
    (d / "2" / "type").write_text("Mystery\n")
    (d / "notes").write_text("x")
    r = FWC.decompile(tables + [str(d)])
    assert r.text is not None, r.render_diagnostics()
    msgs = [x.message for x in r.diagnostics if x.check == "e820-input"]
    assert any("1/start:1: 'junk' is not a hexadecimal address" in m for m in msgs)
    assert any("2/type:1: unknown memory type 'Mystery'" in m for m in msgs)
    assert any("not memory-map entries, not read: notes" in m for m in msgs)
    m = FWC.load(text=r.text).machine
    assert [(e.base, e.type) for e in m.e820] == [(0, "usable"), (0xF0000, "reserved")]


def test_several_boots_in_one_log_read_the_first(tables, tmp_path):
    p = tmp_path / "two.log"
    p.write_text("\n".join(dmesg_lines(QEMU_MAP) + dmesg_lines(QEMU_MAP[:2])) + "\n")
    got, r = decompiled_map(tables + [str(p)])
    assert got == QEMU_MAP
    assert any("more than one memory map" in d.message for d in r.diagnostics)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=300))
def test_garbage_after_the_marker_is_diagnostics_only(tables, tmp_path, garbage):
    p = tmp_path / "g.txt"
    p.write_bytes(b"BIOS-e820: " + garbage + b"\nBIOS-e820: [mem 0x0-" + garbage[:20] + b"] usable\n")
    r = FWC.decompile(tables + [str(p)])
    assert not any(d.check == "backend" for d in r.diagnostics), r.render_diagnostics()


@st.composite
def maps(draw):
    cursor, out = 0, []
    for _ in range(draw(st.integers(1, 10))):
        cursor += draw(st.sampled_from([0, 4096, 0x400, 1 << 20, 1 << 30]))
        size = draw(st.sampled_from([0x400, 4096, 0x9FC00, 1 << 20, 0x7FEE0000, 1 << 32, 16 << 40]))
        out.append((cursor, size, draw(st.sampled_from(TYPES))))
        cursor += size
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(entries=maps())
def test_every_format_gives_the_same_block(tables, tmp_path_factory, entries):
    """A random e820 written as a memmap directory, a dmesg and a QEMU serial log decompiles
    to the same block, whose entries are the map."""
    tmp = tmp_path_factory.mktemp("fmt")
    (tmp / "dmesg.txt").write_text("\n".join(dmesg_lines(entries)) + "\n")
    (tmp / "serial.log").write_text(qemu_log(entries))
    sources = [write_memmap(tmp / "memmap", entries), str(tmp / "dmesg.txt"), str(tmp / "serial.log")]
    blocks = []
    for src in sources:
        r = FWC.decompile(tables + [src])
        assert r.text is not None, r.render_diagnostics()
        blocks.append(r.text[r.text.index("    e820 {"):])
        m = FWC.load(text=r.text).machine
        assert [(e.base, e.size, e.type) for e in m.e820] == entries
    assert blocks[0] == blocks[1] == blocks[2]


def test_tables_still_round_trip_with_a_map(tables, tmp_path):
    d = write_memmap(tmp_path / "mm", QEMU_MAP)
    r = FWC.decompile(tables + [d])
    from fwc_plugins.acpi import tables as T

    out = {sig: data for sig, data in T.build_tables(FWC.load(text=r.text).machine).values()}
    for path in tables:
        sig = os.path.basename(path)[:4]
        assert out[sig] == open(path, "rb").read()


def test_cli_decompile_with_a_map(tables, tmp_path):
    p = tmp_path / "dmesg"
    p.write_text("\n".join(dmesg_lines(QEMU_MAP)) + "\n")
    r = run_fwc("decompile", *tables, str(p))
    assert r.returncode == 0, r.stderr
    assert "e820 {" in r.stdout


def test_the_boot_simulators_own_dmesg_reads_back(tmp_path):
    """fwc's boot simulator prints the e820 it derives as Linux does (``BIOS-e820:`` lines):
    decompiling its dmesg gives that map, entry for entry (the boot backend's
    ``firmware.bios_e820``), so a description carrying it describes the same firmware."""
    from fwc.model import E820_BLOCK_TYPES
    from fwc_plugins.boot.firmware import bios_e820

    src = os.path.join(EXAMPLES, "two-node-hotplug.fwc")
    r = run_fwc("compile", src, "-b", "acpi", "-b", "boot", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    acpi = [str(tmp_path / "acpi" / f"{s}.aml") for s in ("SRAT", "SLIT", "APIC")]
    got, _ = decompiled_map(acpi + [str(tmp_path / "boot" / "dmesg.txt")])
    expect = bios_e820(FWC.load(src).machine)
    assert [(b, b + s, E820_BLOCK_TYPES[t]) for b, s, t in got] == [tuple(x) for x in expect]
