"""Build step: compute the parser tables for the grammar into fwc/_tables.py.

Lark analyses ``grammars/fwc.lark`` (LALR(1) tables, contextual lexer, tree-building
rules) and the result is written as plain Python data, which :mod:`fwc.lalr` runs
without importing Lark (importing Lark alone costs more than starting Python), so that
``fwc check`` starts fast.  The module is generated into the build tree only, never
committed, so a grammar change can never meet stale tables; in a source tree (or an
editable install) fwc computes the same tables from the grammar on first use.

It also writes ``fwc/_attrs_code.py``: the compiled code of the methods attrs generates for
fwc's classes (:mod:`fwc.attrs_code`), which attrs would otherwise compile at every start.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py


def generate_tables(grammar_path: str) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        from fwc.lalr import export
    finally:
        sys.path.remove(here)
    with open(grammar_path, encoding="utf-8") as f:
        text = f.read()
    # The grammar itself, not a digest: comparing it costs less than importing hashlib.
    return ('"""Parser tables for grammars/fwc.lark, generated at build time by setup.py."""\n\n'
            f"GRAMMAR = {text!r}\n\nTABLES = {export(text)!r}\n")


def generate_attrs_code(build_lib: str) -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        from fwc.attrs_code import build_module
    finally:
        sys.path.remove(here)
    return build_module(build_lib)


class BuildPy(build_py):
    def run(self):
        super().run()
        if self.dry_run:
            return
        here = os.path.dirname(os.path.abspath(__file__))
        target = os.path.join(self.build_lib, "fwc", "_tables.py")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(generate_tables(os.path.join(here, "grammars", "fwc.lark")))
        code = os.path.join(self.build_lib, "fwc", "_attrs_code.py")
        if os.path.exists(code):
            os.remove(code)  # a previous build's: not to be used while recording
        text = generate_attrs_code(self.build_lib)
        if text is not None:
            with open(code, "w", encoding="utf-8") as f:
                f.write(text)
        self.byte_compile([target] + ([code] if text is not None else []))


setup(cmdclass={"build_py": BuildPy})
