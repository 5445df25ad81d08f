"""The ``e820 { … }`` block: the firmware memory map given apart from the SRAT (issue 10,
"Real servers' memory map").  Syntax, model, its checks (with positions), the text form the
decompiler writes, and that canonical machines do not change."""

from __future__ import annotations

import glob
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, machine
from fwc import Fwc
from fwc.e820 import block_text, e820_of
from fwc.model import E820_BLOCK_TYPES

FWC = Fwc()

SERVER = """
    e820 {
        usable   0 size 639K
        reserved 0x9fc00 size 1K
        reserved 0xf0000 size 64K
        usable   1M size 2046M
        acpi     0x7ff00000 size 1M
        nvs      0xfed00000 size 4K
        unusable 0xfee00000 size 4K
        usable   4G size 6G
        pmem     16G size 4G
        pram     20G size 1G
        soft-reserved 24G size 1G
    }
    node 0 { cpus 0-1  memory 0 size 640K  memory 1M size 2047M  memory 4G size 2G }
    node 1 { cpus 2-3  memory 6G size 4G  memory 64G size 16T hotpluggable }
    kernel at 16M size 52M
"""


def load(body: str):
    r = FWC.check(text=machine(body), name="<t>")
    return r


def names(r, check):
    return [d for d in r.diagnostics if d.check == check]


def test_block_is_the_model_and_e820_of():
    r = load(SERVER)
    assert r.ok, r.render_diagnostics()
    m = r.machine
    assert [e.type for e in m.e820][:4] == ["usable", "reserved", "reserved", "usable"]
    got = e820_of(m)
    assert got[0] == (0, 639 << 10, 1)
    assert got[1] == (0x9FC00, 0xA0000, 2)
    assert (0x7FF00000, 0x80000000, 3) in got and (0xFED00000, 0xFED01000, 4) in got
    assert (0xFEE00000, 0xFEE01000, 5) in got and (16 << 30, 20 << 30, 7) in got and (20 << 30, 21 << 30, 12) in got
    assert (24 << 30, 25 << 30, 0xEFFFFFFF) in got
    assert not r.warnings, r.render_diagnostics()  # the 16 TiB of hot-pluggable SRAT space is no e820 RAM


def test_canonical_machines_have_no_block():
    for path in sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True)):
        r = FWC.load(path)
        if r.machine is not None:
            assert r.machine.e820 == () and e820_of(r.machine) is None, path


def test_expressions_units_and_constants():
    r = load("let B = 4G\n e820 { usable 0 size 1M  reserved B - 1M size 512K * 2  usable B size 2 * 1G }\n"
             "node 0 { memory 0 size 1M  memory 4G size 2G }")
    assert r.ok, r.render_diagnostics()
    assert e820_of(r.machine) == [(0, 1 << 20, 1), ((4 << 30) - (1 << 20), 4 << 30, 2), (4 << 30, 6 << 30, 1)]


def test_block_in_an_included_fragment(tmp_path):
    (tmp_path / "map.fwc").write_text("e820 { usable 0 size 1G }\n")
    (tmp_path / "m.fwc").write_text(machine('include "map.fwc"\nnode 0 { memory 0 size 1G }'))
    r = FWC.check(str(tmp_path / "m.fwc"))
    assert r.ok and e820_of(r.machine) == [(0, 1 << 30, 1)], r.render_diagnostics()


def test_unknown_type_is_reported_at_the_word():
    r = load("e820 { usable 0 size 1G\n  ram 1G size 1G }\nnode 0 { memory 0 size 2G }")
    d = names(r, "unknown-value")
    assert d and "unknown e820 type 'ram'" in d[0].message and d[0].span.line == 3 and d[0].span.col == 3


def test_two_blocks_are_a_duplicate():
    r = load("e820 { usable 0 size 1G }\ne820 { usable 0 size 1G }\nnode 0 { memory 0 size 1G }")
    assert names(r, "duplicate-statement")


def test_overlap_is_an_error_with_both_positions():
    r = load("e820 {\n usable 0 size 2G\n reserved 1G size 4K\n}\nnode 0 { memory 0 size 2G }")
    d = names(r, "e820-overlap")
    assert len(d) == 1 and d[0].severity == "error"
    assert {d[0].span.line, d[0].related[0].span.line} == {3, 4}


def test_uncovered_ram_is_what_linux_refuses():
    r = load("e820 {\n usable 0 size 2G\n usable 4G size 2G\n}\nnode 0 { memory 0 size 2G }")
    d = names(r, "e820-uncovered")
    assert len(d) == 1 and d[0].severity == "warning" and d[0].span.line == 4
    assert "nodes only cover 2048MB of your 4096MB e820 RAM. Not used." in d[0].message
    # less than 1 MiB uncovered: Linux accepts the SRAT
    r = load("e820 { usable 0 size 2G  usable 2G size 1020K }\nnode 0 { memory 0 size 2G }")
    assert not names(r, "e820-uncovered"), r.render_diagnostics()
    # disabled SRAT ranges cover nothing
    r = load("e820 { usable 0 size 2G }\nnode 0 { memory 0 size 1G  memory 1G size 1G disabled }")
    assert names(r, "e820-uncovered")


def test_reserved_beside_the_block_is_a_conflict():
    r = load("e820 { usable 0 size 1G }\nnode 0 { memory 0 size 1G }\nreserved 0xfed1c000 size 16K")
    d = names(r, "e820-conflict")
    assert len(d) == 1 and d[0].span.line == 4 and d[0].related[0].span.line == 2


def test_block_on_a_qemu_board_is_a_warning():
    r = load("board qemu-q35\ne820 { usable 0 size 639K  usable 1M size 1023M }\nnode 0 { cpus 0 memory size 1G }")
    d = names(r, "e820-board")
    assert len(d) == 1 and d[0].severity == "warning" and d[0].span.line == 3


def test_placement_must_be_in_e820_usable_ram():
    # the SRAT says node 0 has 4 GiB, but the firmware map has a reserved hole at 16 MiB
    body = ("e820 { usable 0 size 16M  reserved 16M size 64M  usable 80M size 4016M }\n"
            "node 0 { memory 0 size 4G }\nkernel at 16M size 52M\ninitrd at 1G size 8M")
    r = load(body)
    d = names(r, "placement-memory")
    assert len(d) == 1 and "e820's usable RAM" in d[0].message and d[0].span.line == 4
    # without the block the SRAT's RAM is the RAM, as before
    r = load("node 0 { memory 0 size 4G }\nkernel at 16M size 52M")
    assert not names(r, "placement-memory")


def test_empty_entry_and_empty_block():
    r = load("e820 { usable 0 size 1G  reserved 1G size 0 }\nnode 0 { memory 0 size 1G }")
    assert any("e820 reserved entry is empty" in d.message for d in names(r, "empty-range"))
    r = load("e820 { }\nnode 0 { memory 0 size 1G }")
    assert any("the e820 block has no entry" in d.message for d in names(r, "empty-range")) and not r.ok


def test_model_json_of_a_canonical_machine_is_unchanged():
    """The new fields are left out of the model backend's JSON when not given."""
    from fwc.model import to_dict

    assert not {"e820", "e820_span"} & set(to_dict(FWC.load(os.path.join(EXAMPLES, "two-node-hotplug.fwc")).machine))
    d = to_dict(load(SERVER).machine)
    assert d["e820"][0] == {"base": 0, "size": 639 << 10, "type": "usable", "span": "<t>:4:9"} and "e820_span" not in d


def test_show_prints_the_map():
    import io

    from rich.console import Console

    from fwc.show import render

    buf = io.StringIO()
    render(load(SERVER).machine, None, Console(file=buf, width=100))
    out = buf.getvalue()
    assert "e820 (firmware memory map, given)" in out and "soft-reserved" in out and "0x9fc00-0x9ffff" in out


_TYPES = sorted(E820_BLOCK_TYPES)


@st.composite
def maps(draw):
    n = draw(st.integers(1, 12))
    cursor, out = 0, []
    for _ in range(n):
        cursor += draw(st.sampled_from([0, 1, 4096, 1 << 20, 1 << 30, 0x9FC00]))
        size = draw(st.sampled_from([1, 1024, 4096, 639 << 10, 1 << 20, 0x1234000, 1 << 30, 3 << 40]))
        out.append((cursor, size, draw(st.sampled_from(_TYPES))))
        cursor += size
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(maps())
def test_round_trip_text_model_text(entries):
    """block text -> model -> block text is the identity (what the decompiler writes is read back)."""
    text = "\n".join(block_text(entries)) + "\n    node 0 { memory 0 size 1G }"
    r = FWC.load(text=machine(text), name="<t>")
    assert r.ok, r.render_diagnostics() + text
    assert [(e.base, e.size, e.type) for e in r.machine.e820] == entries
    assert block_text((e.base, e.size, e.type) for e in r.machine.e820) == block_text(entries)


@pytest.mark.parametrize("kw", ["reserved", "acpi"])
def test_keyword_type_names_after_an_expression(kw):
    """'reserved' and 'acpi' are keywords elsewhere; after an expression they still start an entry."""
    r = load(f"e820 {{ usable 0 size 1M + 0 {kw} 1M size 4K }}\nnode 0 {{ memory 0 size 1M }}")
    assert r.ok and r.machine.e820[1].type == kw, r.render_diagnostics()


def test_the_boot_simulator_boots_the_given_memory_map_not_the_srat():
    """A server whose SRAT describes 16 TiB of hot-pluggable address space but whose firmware
    memory map has 10 GiB: Linux sizes memory from the e820, the SRAT only assigns nodes."""
    import fwc

    text = '''machine "srv" {
        node 0 { cpus 0-1  memory 0 size 640K  memory 1M size 2047M  memory 4G size 4G }
        node 1 { cpus 2-3  memory 8G size 16T hotpluggable }
        e820 {
            usable 0 size 639K
            reserved 0x9fc00 size 1K
            usable 1M size 2047M
            usable 4G size 6G
        }
        kernel at 16M size 52M
        cmdline "console=ttyS0 nokaslr movable_node"
    }'''
    r = fwc.Fwc().compile(text=text, name="<srv>", backends=["boot"])
    assert r.artifact("boot/dmesg.txt") is not None, r.render_diagnostics()
    dmesg = r.artifact("boot/dmesg.txt").text.splitlines()
    bios = [ln for ln in dmesg if ln.startswith("BIOS-e820:")]
    assert bios == ["BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
                    "BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
                    "BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable",
                    "BIOS-e820: [mem 0x0000000100000000-0x000000027fffffff] usable"]
    zones = r.artifact("boot/zones.txt").text
    assert "Movable" in zones  # node 1's 2 GiB of real RAM is hot-pluggable: ZONE_MOVABLE
