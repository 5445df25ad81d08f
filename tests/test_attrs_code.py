"""fwc.attrs_code: the methods attrs writes for fwc's classes, compiled at build time, are the
code attrs would compile, and a process using them computes the same as one compiling them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import EXAMPLES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(EXAMPLES, "two-node-hotplug.fwc")


def _python(code: str, *args: str) -> str:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _build_blob(tmp_path) -> bytes:
    """setup.py's build step (fwc.attrs_code.build_module) over this tree laid out as a build directory."""
    lib = tmp_path / "lib"
    lib.mkdir()
    os.symlink(os.path.join(ROOT, "fwc"), lib / "fwc")
    os.symlink(os.path.join(ROOT, "plugins"), lib / "fwc_plugins")
    from fwc.attrs_code import build_module

    text = build_module(str(lib))
    assert text is not None
    ns: dict = {}
    exec(text, ns)
    return ns["CODE"]


# A process that loads and checks the example, printing what it computed and whether attrs
# took each script's code from the table.
RUN = """
import json, sys
from fwc import attrs_code
used = attrs_code.install(open(sys.argv[1], "rb").read()) if sys.argv[1] else False
import attr._make as make
hits = []
if used:
    hook = make.compile
    table = __import__("marshal").loads(open(sys.argv[1], "rb").read())[1]
    make.compile = lambda s, f, m, *a: (hits.append((f, s) in table), hook(s, f, m, *a))[1]
from fwc import Fwc
r = Fwc().check(sys.argv[2])
print(json.dumps({"used": used, "hits": sum(hits), "misses": len(hits) - sum(hits), "machine": repr(r.machine),
                  "diagnostics": [d.as_dict() for d in r.diagnostics]}))
"""


def test_build_time_code_is_what_attrs_compiles_and_computes_the_same(tmp_path):
    blob = _build_blob(tmp_path)
    path = tmp_path / "code"
    path.write_bytes(blob)
    # every entry: the code compile() gives for that script, with attr._make's future flags
    same = _python("import marshal, sys, __future__\n"
                   "key, table = marshal.loads(open(sys.argv[1], 'rb').read())\n"
                   "flags = __future__.annotations.compiler_flag\n"
                   "print(len(table), all(code == compile(src, fn, 'exec', flags, True) and code.co_filename == fn\n"
                   "                      for (fn, src), code in table.items()))", str(path))
    count, ok = same.split()
    assert int(count) >= 30 and ok == "True"
    with_code = json.loads(_python(RUN, str(path), EXAMPLE))
    without = json.loads(_python(RUN, "", EXAMPLE))
    assert with_code["used"] and not without["used"]
    assert with_code["hits"] >= 30  # the model's and the boot simulation's classes
    assert {k: with_code[k] for k in ("machine", "diagnostics")} == {k: without[k] for k in ("machine", "diagnostics")}


def test_another_interpreter_build_is_not_used():
    out = _python("import marshal, sys\n"
                  "from fwc import attrs_code\n"
                  "blob = marshal.dumps((('cpython-0', sys.version, 0), {}))\n"
                  "print(attrs_code.install(blob))")
    assert out.strip() == "False"
