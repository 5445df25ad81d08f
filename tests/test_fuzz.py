"""Hypothesis fuzzing of the front end: random and mutated inputs only ever
produce diagnostics, never an exception."""

import glob
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from fwc import Fwc

FWC = Fwc()
SEEDS = [open(p).read() for p in sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True))]
SEEDS.append('let G = 1G\nmachine "m" { board qemu-q35\n node 0 pxm 3 { cpus 0-3, 7 disabled memory size 2*G }\n'
             ' node 1 { memory size 2G hotpluggable dimm size 1G }\n distance 0 1 = 21\n tables { srat revision 3 }\n'
             ' initrd at 1G size 8M { override srat revision 9 }\n cmdline "movable_node" }\n')
KEYWORDS = ["machine", "node", "cpus", "memory", "size", "at", "{", "}", "=", "-", ",", "(", ")", "0x10", "1G",
            "hotpluggable", "distance", "kernel", "initrd", "override", "srat", "let", "X", '"s"', "board",
            "qemu-q35", "qemu-pc", "pxm", "dimm", "slots", "maxmem", "/", "*", "+", "0", "255", "include",
            "tables", "revision", "oem", "id", "table", "initiator", "port", "acpi", "pci", "uid", "its", "#", "\n"]


def assert_only_diagnostics(text):
    r = FWC.check(text=text, name="fuzz.fwc")  # must not raise
    for d in r.diagnostics:
        assert d.severity in ("error", "warning", "note")
        assert d.check and d.message
        if d.span is not None and d.span.file == "fuzz.fwc":
            assert 1 <= d.span.line <= text.count("\n") + 2
    assert r.machine is not None or not r.ok


SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.text(max_size=200))
def test_random_text(text):
    assert_only_diagnostics(text)


@SETTINGS
@given(st.lists(st.sampled_from(KEYWORDS), max_size=60))
def test_random_token_soup(tokens):
    assert_only_diagnostics(" ".join(tokens))


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        i = draw(st.integers(0, max(0, len(text) - 1)))
        j = min(len(text), i + draw(st.integers(0, 12)))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(KEYWORDS + ["\x00", "\"", "9" * 30, "0x"])) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(st.text(max_size=6)) + text[j:]
        else:
            text = text[:i] + text[i:j] + text[i:]
    return text


@SETTINGS
@given(mutated())
def test_mutated_examples(text):
    assert_only_diagnostics(text)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**70), st.integers(0, 2**70), st.sampled_from(["+", "-", "*", "/"]))
def test_arithmetic_never_escapes(a, b, op):
    assert_only_diagnostics(f'machine "m" {{ node 0 {{ memory 0 size {a} {op} {b} }} }}')


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20000), st.sampled_from(["9", "0x", "1_"]))
def test_long_literals(n, prefix):
    assert_only_diagnostics(f'machine "m" {{ node 0 {{ memory 0 size {prefix}{"9" * n} }} }}')


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 30000), st.sampled_from(["*", "+", "-", "/"]))
def test_long_operator_chains(n, op):
    assert_only_diagnostics(f'machine "m" {{ node 0 {{ memory 0 size 1G{f" {op} 1" * n} }} }}')


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 80))
def test_growing_constants(n):
    lets = ["let A0 = 1G"] + [f"let A{i} = A{i - 1} * A{i - 1}" for i in range(1, n)]
    assert_only_diagnostics("\n".join(lets) + f'\nmachine "m" {{ node 0 {{ memory 0 size A{n - 1} }} }}')


def test_deep_include_chain(tmp_path):
    for i in range(300):
        (tmp_path / f"f{i}.fwc").write_text(f'include "f{i + 1}.fwc"\n')
    (tmp_path / "f300.fwc").write_text("let X = 1G\n")
    (tmp_path / "top.fwc").write_text('include "f0.fwc"\nmachine "m" { node 0 { memory 0 size 1G } }\n')
    r = FWC.check(tmp_path / "top.fwc")
    assert [d.check for d in r.diagnostics] == ["include"] and "nested more than 64 deep" in r.diagnostics[0].message


def test_unreadable_inputs(tmp_path):
    (tmp_path / "z.fwc").write_text('include "/dev/zero"\nmachine "m" { node 0 { memory 0 size 1G } }\n')
    assert "outside the description's directory" in FWC.check(tmp_path / "z.fwc").diagnostics[0].message
    (tmp_path / "z.fwc").write_text('include "/dev/zero"\nmachine "m" { node 0 { memory 0 size 1G } }\n')
    assert "included file is fwc source" in Fwc(read_anywhere=True).check(tmp_path / "z.fwc").diagnostics[0].message
    os.symlink("/dev/zero", tmp_path / "zero.fwc")
    (tmp_path / "z.fwc").write_text('include "zero.fwc"\nmachine "m" { node 0 { memory 0 size 1G } }\n')
    assert "a device, not a regular file" in Fwc(read_anywhere=True).check(tmp_path / "z.fwc").diagnostics[0].message
    (tmp_path / "u.fwc").write_bytes(b'machine "m" {\n node 0 { memory 0 size 1G } } \xff\n')
    assert "line 2, column 32" in FWC.check(tmp_path / "u.fwc").diagnostics[0].message
    assert "a directory, not a regular file" in FWC.check(tmp_path).diagnostics[0].message


def test_include_cycle_from_a_relative_top_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "self.fwc").write_text('include "self.fwc"\nmachine "m" { node 0 { memory 0 size 1G } }\n')
    r = FWC.check("self.fwc")
    assert [(d.check, d.message) for d in r.diagnostics] == [("include", "include cycle: self.fwc -> self.fwc")]
