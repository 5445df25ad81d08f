"""The Python API: results and diagnostics, never printing or exiting; the wheel works."""

import json
import os
import subprocess
import sys
import sysconfig

import pytest

import fwc
from conftest import EXAMPLES, ROOT

EXAMPLE = os.path.join(EXAMPLES, "two-node-hotplug.fwc")


def test_compile_returns_artifacts_and_never_prints(capsys):
    r = fwc.compile(EXAMPLE, backends=["model"])
    assert r.ok and r.diagnostics == []
    data = json.loads(r.artifact("machine.json").text)
    assert data["name"] == "two-node-hotplug"
    assert r.machine.nodes[1].memory[0].hotpluggable
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_errors_are_returned_not_raised(capsys):
    r = fwc.compile(text='machine "m" { node 0 { memory 0 size 1G } node 0 { memory 1G size 1G } }')
    assert not r.ok and r.artifacts == []
    assert [d.check for d in r.errors] == ["duplicate-node"]
    assert "duplicate-node" in r.render_diagnostics()
    assert capsys.readouterr() == ("", "")


def test_load_check_compile_layers():
    text = 'machine "m" { node 0 { memory 0 size 1G } kernel at 17M size 1M }'
    assert fwc.load(text=text).diagnostics == []  # elaboration only: checks not run
    assert [d.check for d in fwc.check(text=text).diagnostics] == ["kernel-alignment"]


def test_instances_do_not_share_settings():
    text = 'machine "m" { node 0 { memory 0 size 1G } kernel at 17M size 1M }'
    strict, lax = fwc.Fwc(werror=True), fwc.Fwc(warn=["no-kernel-alignment"])
    assert not strict.check(text=text).ok
    assert lax.check(text=text).diagnostics == []
    assert fwc.check(text=text).ok


def test_diagnostics_as_dict_are_json_ready():
    r = fwc.check(text='machine "m" { node 0 { memory 0 size Q } }', name="x.fwc")
    d = json.loads(json.dumps([x.as_dict() for x in r.diagnostics]))
    assert d[0]["span"] == {"file": "x.fwc", "line": 1, "column": 38, "end_line": 1, "end_column": 39}


def test_backend_options_through_api():
    r = fwc.compile(EXAMPLE, backends=["model"], options={"model.spans": True})
    assert json.loads(r.artifact("machine.json").text)["span"].endswith(":4:1")
    r = fwc.compile(EXAMPLE, backends=["model"], options={"model.nope": 1})
    assert not r.ok and "unknown backend option 'model.nope'" in r.errors[0].message


@pytest.mark.slow
def test_wheel_installs_and_runs_without_the_source_tree(tmp_path):
    """Build the wheel, install it in a fresh environment, run fwc away from the source."""
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), ROOT],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (wheel,) = [p for p in dist.iterdir() if p.name.startswith("fwc-")]
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "fwc/grammars/fwc.lark" in names and "fwc/_tables.py" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The test environment's packages (lark, attrs, ...) without its fwc: only the wheel's.
    target = tmp_path / "fwc-only"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    deps = sysconfig.get_paths()["purelib"]
    with open(os.path.join(site, "zz_deps.pth"), "w") as f:
        f.write(f"{target}\n{deps}\n")
    code = ("import sys, fwc, fwc.syntax as s; from fwc.cli import main; p = s._get_parser(); "
            "print(fwc.__file__); print('prebuilt', p.prebuilt); sys.exit(main(['check', sys.argv[1]]))")
    r = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", code, EXAMPLE], capture_output=True, text=True,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith(str(target))
    assert r.stdout.splitlines()[1] == "prebuilt True"
    assert "lark" not in subprocess.run([str(venv / "bin" / "python"), "-I", "-c",
                                         "import sys, fwc.syntax as s; s.parse('machine \"m\" { }'); "
                                         "print(sorted(m for m in sys.modules if m.startswith('lark')))"],
                                        capture_output=True, text=True, cwd=str(tmp_path)).stdout.replace("[]", "")


def test_generic_repr_is_attrs_own_repr():
    """fwc.attrs_repr.generic_repr (the repr attrs would compile, formatted at call time) gives
    attrs' own text: fields left out of the repr, custom reprs, nesting, cycles."""
    import attrs

    from fwc import attrs_repr

    def pair(**opts):
        def body():
            return {"a": attrs.field(default=1), "b": attrs.field(default="x", repr=False),
                    "c": attrs.field(default=(2, 3), repr=lambda v: f"<{len(v)}>"), "d": attrs.field(default=None)}
        theirs = attrs.make_class("Thing", body(), **opts)
        ours = attrs_repr.generic_repr(attrs.make_class("Thing", body(), repr=False, **opts))
        return theirs, ours

    for opts in ({}, {"slots": False}, {"frozen": True}):
        theirs, ours = pair(**opts)
        assert repr(ours(d=ours(a=[1]))) == repr(theirs(d=theirs(a=[1])))
        if not opts.get("frozen"):
            t, o = theirs(), ours()
            t.d, o.d = t, o
            assert repr(o) == repr(t) == "Thing(a=1, c=<2>, d=...)"
    m = fwc.Fwc().load(text='machine "m" { node 0 { cpus 0 memory 0 size 1G } }').machine
    assert type(m).__repr__ is attrs_repr._attrs_repr and repr(m).startswith("Machine(name='m', ")


def test_jsontext_is_json_dumps():
    """fwc.jsontext.dumps gives json.dumps(indent=n, sort_keys=True)'s text (boot.json and
    machine.json are written with it): nested values, escapes, every scalar type, and json's
    own errors for what json refuses."""
    import collections
    import enum
    import math

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from fwc.jsontext import dumps

    class Flag(enum.IntEnum):
        A = 3

    Pair = collections.namedtuple("Pair", "a b")
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.just(Flag.A))
    keys = st.one_of(st.text(), st.integers())
    values = st.recursive(scalars, lambda c: st.one_of(
        st.lists(c, max_size=4), st.lists(c, max_size=3).map(tuple), st.tuples(c, c).map(lambda t: Pair(*t)),
        st.dictionaries(st.text(max_size=3), c, max_size=4), st.dictionaries(st.integers(), c, max_size=3)),
        max_leaves=30)

    @settings(max_examples=300, deadline=None)
    @given(values, st.sampled_from([1, 2]))
    def agree(v, indent):
        assert dumps(v, indent) == json.dumps(v, indent=indent, sort_keys=True)

    agree()
    for key in ("x", 1, 1.5, True, None, math.inf):
        assert dumps({key: [float("nan"), -math.inf]}, 1) == json.dumps({key: [float("nan"), -math.inf]}, indent=1,
                                                                         sort_keys=True)
    for bad in ({"a": 1, 2: 3}, {"a": object()}, {(1, 2): 3}):
        with pytest.raises(TypeError):
            dumps(bad, 1)
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError):
        dumps(loop, 1)
