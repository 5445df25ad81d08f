"""Every error path of the front end: message, check name and exact position."""

import pytest

from fwc import Fwc
from fwc.diagnostics import render


@pytest.fixture(scope="module")
def fwc():
    return Fwc()


def diags(fwc, text):
    r = fwc.load(text=text, name="t.fwc")
    assert not r.ok
    return [(d.check, d.span.line if d.span else None, d.span.col if d.span else None, d.message)
            for d in r.diagnostics]


# (source, expected [(check, line, col, message substring)])
CASES = [
    ('machine "m" { node 0 { cpus 0- } }',
     [("syntax", 1, 32, "unexpected '}', expected '(', a name or a number")]),
    ('machine "m" {\n  node 0 { memory 0 size }\n}',
     [("syntax", 2, 26, "unexpected '}'")]),
    ('machine "m" {\n  nod 0 { }\n}',
     [("syntax", 2, 3, "unexpected 'nod', expected '}' or a statement keyword")]),
    ('machine "m" {\n  node 0 { memory 0 size 1G }\n',
     [("syntax", 3, 1, "unexpected end of input, expected '}' or a statement keyword")]),
    ('machine "m" { node 0 { memory 0 size 1G @ } }',
     [("syntax", 1, 41, "unexpected character '@'")]),
    ('machine "m {\n}',
     [("syntax", 1, 9, "unterminated string")]),
    ('machine "m" {\n  distance 0 1 20\n  node 0 { memory 0 siz 1G }\n}',
     [("syntax", 2, 16, "unexpected '20', expected '='"), ("syntax", 3, 21, "unexpected 'siz', expected 'size'")]),
    ('machine "m" { node 0 { memory 0 size X } }',
     [("undefined-name", 1, 38, "undefined name 'X'")]),
    ('let A = 1\nlet A = 2\nmachine "m" { node 0 { memory 0 size 1G } }',
     [("redefined-name", 2, 5, "'A' is already defined")]),
    ('machine "m" { node 0 { memory 0 size 1G / (2 - 2) } }',
     [("division-by-zero", 1, 44, "division by zero")]),
    ('machine "m" { node 0 { memory 0 size 3 / 2 } }',
     [("inexact-division", 1, 38, "3 / 2 is not a whole number")]),
    ('machine "m" { node 0 { memory 0 - 1 size 1G } }',
     [("field-range", 1, 31, "address -1 is out of range")]),
    ('machine "m" { node 0 { memory 0 size 0x1_0000_0000_0000_0000 } }',
     [("field-range", 1, 38, "size 0x10000000000000000 is out of range")]),
    ('machine "m" { oem id "TOOLONG" \n node 0 { memory 0 size 1G } }',
     [("field-range", 1, 22, 'OEM ID "TOOLONG" is 7 characters; the field holds 6')]),
    ('machine "m" { oem revision 0x1_0000_0000\n node 0 { memory 0 size 1G } }',
     [("field-range", 1, 28, "OEM revision 0x100000000 is out of range [0, 0xffffffff]")]),
    ('machine "m" { node 0 pxm 0x1_0000_0000 { memory 0 size 1G } }',
     [("field-range", 1, 26, "proximity domain")]),
    ('machine "m" { node 0 { cpus 0x1_0000_0000 memory 0 size 1G } }',
     [("field-range", 1, 29, "APIC ID")]),
    ('machine "m" { node 0 { cpus 5-3 memory 0 size 1G } }',
     [("empty-range", 1, 29, "CPU range 5-3 is empty")]),
    ('machine "m" { node 0 { cpus 0-0xFFFFFFFF memory 0 size 1G } }',
     [("field-range", 1, 29, "more than 262144 CPUs in the machine")]),
    ('machine "m" { distance 0 1 = 256\n node 0 { memory 0 size 1G } }',
     [("field-range", 1, 30, "distance 256 is out of range [0, 255]")]),
    ('machine "m" { board qemu-q36\n node 0 { memory 0 size 1G } }',
     [("unknown-value", 1, 21, "unknown board 'qemu-q36' (known: generic, qemu-q35, qemu-pc)")]),
    ('machine "m" { arch riscv\n node 0 { memory 0 size 1G } }',
     [("unknown-value", 1, 20, "unknown arch 'riscv'")]),
    ('machine "m" { tables { hmat revision 1 }\n node 0 { memory 0 size 1G } }',
     [("unknown-value", 1, 24, "unknown table 'hmat'")]),
    ('machine "m" { reserved 0 size 4K rom\n node 0 { memory 0 size 1G } }',
     [("unknown-value", 1, 34, "unknown e820 type 'rom'")]),
    ('machine "m" { node 0 { memory 0 size 1G } initrd at 0 size 1M { override dsdt } }',
     [("unknown-value", 1, 74, "cannot override 'dsdt'")]),
    ('machine "m" { node 0 { memory 0 size 1G } initrd at 0 size 1M { override "missing.aml" } }',
     [("include", 1, 74, "cannot find table file 'missing.aml'")]),
    ('include "nowhere.fwc"\nmachine "m" { node 0 { memory 0 size 1G } }',
     [("include", 1, 9, "cannot find include file 'nowhere.fwc'")]),
    ('machine "m" { board generic\n board generic\n node 0 { memory 0 size 1G } }',
     [("duplicate-statement", 2, 2, "'board' is given more than once")]),
    ('machine "a" { node 0 { memory 0 size 1G } }\nmachine "b" { }',
     [("duplicate-statement", 2, 1, "only one machine may be described per file")]),
    ('let X = 1', [("no-machine", 1, 1, "no machine is described")]),
    ('machine "m" { board qemu-q35\n node 0 { memory size 1G }\n node 1 { memory 1G size 1G } }',
     [("memory-layout", 2, 11, "give either every memory range a base address or none")]),
    ('machine "m" { node 0 { memory 0 size 1G  initiator pci "00:1f.0" } }',
     [("unknown-value", 1, 56, "PCI address '00:1f.0' is not of the form SSSS:BB:DD.F")]),
    ('machine "m" { node 0 { memory size 1G } }',
     [("memory-layout", 1, 24, "needs a base address")]),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_error(fwc, text, expected):
    got = diags(fwc, text)
    assert len(got) == len(expected), got
    for (check, line, col, msg), (gcheck, gline, gcol, gmsg) in zip(expected, got):
        assert (gcheck, gline, gcol) == (check, line, col), got
        assert msg in gmsg, got


def test_many_errors_in_one_run(fwc):
    text = ('machine "m" {\n'
            '  node 0 { memory 0 size A }\n'
            '  node 1 { memory 1G size B }\n'
            '  board qemu-q99\n'
            '  oem id "1234567"\n'
            '}\n')
    got = diags(fwc, text)
    assert [g[0] for g in got] == ["undefined-name", "undefined-name", "unknown-value", "field-range"]
    assert [g[1] for g in got] == [2, 3, 4, 5]


def test_include_cycle(fwc, tmp_path):
    (tmp_path / "a.fwc").write_text('include "b.fwc"\n')
    (tmp_path / "b.fwc").write_text('include "a.fwc"\n')
    main = tmp_path / "m.fwc"
    main.write_text('include "a.fwc"\nmachine "m" { node 0 { memory 0 size 1G } }\n')
    r = fwc.load(main)
    assert [d.check for d in r.diagnostics] == ["include"]
    d = r.diagnostics[0]
    assert "include cycle: m.fwc -> a.fwc -> b.fwc -> a.fwc" in d.message
    assert d.span.file == str(tmp_path / "b.fwc") and (d.span.line, d.span.col) == (1, 9)


def test_error_inside_included_file_points_there(fwc, tmp_path):
    (tmp_path / "part.fwc").write_text('node 1 {\n  memory 1G size NOPE\n}\n')
    main = tmp_path / "m.fwc"
    main.write_text('machine "m" {\n  node 0 { memory 0 size 1G }\n  include "part.fwc"\n}\n')
    r = fwc.load(main)
    (d,) = r.diagnostics
    assert (d.check, d.span.file, d.span.line, d.span.col) == ("undefined-name", str(tmp_path / "part.fwc"), 2, 18)
    text = render(d, r.sources)
    assert text.splitlines()[1:] == [" 2 |   memory 1G size NOPE", "   |                  ^~~~"]


def test_unreadable_file(fwc, tmp_path):
    r = fwc.load(tmp_path / "absent.fwc")
    assert not r.ok and r.diagnostics[0].check == "include" and "cannot read" in r.diagnostics[0].message


def test_binary_garbage_is_a_diagnostic(fwc, tmp_path):
    p = tmp_path / "bin.fwc"
    p.write_bytes(b"\xff\xfe\x00\x01garbage")
    r = fwc.load(p)
    assert not r.ok and r.machine is None


def test_rendering_with_caret(fwc):
    r = fwc.load(text='machine "m" {\n\tnode 0 { memory 0 size X }\n}\n', name="t.fwc")
    out = render(r.diagnostics[0], r.sources).splitlines()
    assert out[0] == "t.fwc:2:25: error: undefined name 'X' [undefined-name]"
    assert out[1] == " 2 | \tnode 0 { memory 0 size X }"
    assert out[2] == "   | \t" + " " * 23 + "^"


def test_related_locations_render(fwc):
    r = fwc.load(text='let A = 1\nlet A = 2\nmachine "m" { node 0 { memory 0 size 1G } }', name="t.fwc")
    out = render(r.diagnostics[0], r.sources).splitlines()
    assert out[0] == "t.fwc:2:5: error: 'A' is already defined [redefined-name]"
    assert out[3] == "t.fwc:1:5: note: first defined here"
