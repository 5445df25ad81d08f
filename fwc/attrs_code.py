"""attrs' generated methods compiled at build time.

attrs writes the source of a class's ``__init__`` (and ``__eq__``/``__hash__`` where it makes
them) when the class is created and compiles it then: most of the cost of creating a class,
and creating fwc's model and boot-simulation classes was about a tenth of a cold ``fwc check``.
``setup.py`` imports fwc's modules under :func:`record` and writes the code of every script attrs
compiled into ``fwc/_attrs_code.py`` (in the build tree only, like ``fwc/_tables.py``).
:func:`install` (run by :mod:`fwc.attrs_repr`, before fwc creates its attrs classes) lets attrs
take a script's code from there when the script and its file name are one it compiled and
the interpreter (bytecode, optimisation level) is the build's, and compile it as before
otherwise: the same code object either way.  A script holding a random per-process value (the
hash salt of a frozen class with a generated ``__hash__``) never matches and is compiled.
"""

# attr._make has exactly this future import: its compile() calls inherit the flag, and so do
# the ones made here for it (install() checks that the two agree).
from __future__ import annotations

import builtins
import sys
from typing import Any, Callable, Iterable

def _key() -> tuple[str, str, int]:
    """What else the code of a script depends on: the interpreter and its optimisation level
    (the script itself is the table's key, so attrs' version does not matter)."""
    return (sys.implementation.cache_tag or "", sys.version, sys.flags.optimize)


def _future_flags(module: Any) -> int:
    import __future__

    flags = 0
    for name in __future__.all_feature_names:
        feature = getattr(__future__, name)
        if module.__dict__.get(name) is feature:
            flags |= feature.compiler_flag
    return flags


def _hook(make: Any, table: dict[tuple[str, str], Any], record: bool) -> Callable[..., Any]:
    compile_ = builtins.compile

    def compile(source: Any, filename: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and mode == "exec" and type(source) is str and type(filename) is str:
            code = table.get((filename, source))
            if code is None:
                code = compile_(source, filename, mode)
                if record:
                    table[(filename, source)] = code
            return code
        return compile_(source, filename, mode, *args, **kwargs)
    return compile


def _make_module() -> Any:
    """attr._make when its compile() is the built-in one this module knows how to stand in
    for (same future flags), else None."""
    import attr._make as make

    if make.__dict__.get("compile", builtins.compile) is not builtins.compile:
        return None  # someone else's stand-in: leave it
    if _future_flags(make) != _future_flags(sys.modules[__name__]):
        return None
    return make


def install(blob: bytes | None = None) -> bool:
    """Let attrs use the build's compiled scripts (``blob``: :func:`record`'s bytes; default:
    ``fwc/_attrs_code.py`` of a normal install).  Whether they are used."""
    import marshal

    if blob is None:
        try:
            from . import _attrs_code
        except ImportError:  # a source tree or an editable install: attrs compiles, as always
            return False
        blob = _attrs_code.CODE
    make = _make_module()
    if make is None:
        return False
    key, table = marshal.loads(blob)
    if tuple(key) != _key():
        return False
    make.compile = _hook(make, table, record=False)
    return True


def record(modules: Iterable[str]) -> bytes:
    """Import ``modules`` (those that fail to import are left out) and return the code of every
    script attrs compiled meanwhile, with the key :func:`install` checks."""
    import importlib
    import marshal

    make = _make_module()
    if make is None:
        raise RuntimeError("attr._make.compile is not the built-in compile")
    table: dict[tuple[str, str], Any] = {}
    make.compile = _hook(make, table, record=True)
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:
                continue
    finally:
        del make.compile
    return marshal.dumps((_key(), table))


def build_module(build_lib: str) -> str | None:
    """The text of ``fwc/_attrs_code.py`` for the built tree ``build_lib`` (setup.py): every
    module of ``fwc`` and ``fwc_plugins`` imported under :func:`record` in a fresh interpreter;
    None when that cannot run (attrs not installed where fwc is built: attrs then compiles the
    methods at every start, as in a source tree)."""
    import os
    import subprocess
    import tempfile

    names = []
    for top in ("fwc", "fwc_plugins"):
        for root, _, files in sorted(os.walk(os.path.join(build_lib, top), followlinks=True)):
            package = os.path.relpath(root, build_lib).replace(os.sep, ".")
            if "__pycache__" in package:
                continue
            names += [package] + [f"{package}.{f[:-3]}" for f in sorted(files)
                                  if f.endswith(".py") and f != "__init__.py" and f != "_attrs_code.py"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "code")
        run = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                              "from fwc.attrs_code import record; open(sys.argv[2], 'wb').write(record(sys.argv[3:]))",
                              os.path.abspath(build_lib), out, *names], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            print(f"fwc: attrs' methods not compiled at build time: {run.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        with open(out, "rb") as f:
            blob = f.read()
    return ('"""The methods attrs writes for fwc\'s classes, compiled at build time by setup.py '
            f'(fwc.attrs_code)."""\n\nCODE = {blob!r}\n')
