"""Build step: generate fwc/_lalr.py, a stand-alone LALR parser for the grammar.

The stand-alone module parses without importing Lark (Lark's import alone
costs more than starting Python), which keeps ``fwc check`` fast.  It is
generated into the build tree only, never committed: Lark's generator output
is MPL-2.0 licensed, and a grammar change must never meet a stale parser.
fwc falls back to building the parser with Lark when the module is missing
or was made from another grammar (editable installs, source checkouts).
"""

import hashlib
import io
import os

from setuptools import setup
from setuptools.command.build_py import build_py


# The generated module imports logging only to configure a logger it never
# uses while parsing; importing logging costs several milliseconds at every
# start, so it gets a stand-in.
_LOGGING_SHIM = """
class _NullLogger:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class logging:  # stand-in: the parser never logs at run time
    Logger = _NullLogger
    CRITICAL = 50
    DEBUG = 10

    @staticmethod
    def getLogger(name):
        return _NullLogger()

    @staticmethod
    def StreamHandler():
        return None
"""


def generate_parser(grammar_path: str) -> str:
    from lark import Lark
    from lark.tools.standalone import gen_standalone

    with open(grammar_path, encoding="utf-8") as f:
        text = f.read()
    lark_inst = Lark(text, parser="lalr", lexer="contextual", start=["start", "body"], maybe_placeholders=True)
    out = io.StringIO()
    gen_standalone(lark_inst, out=out)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    code = out.getvalue()
    if "\nimport logging\n" in code:
        code = code.replace("\nimport logging\n", "\n" + _LOGGING_SHIM + "\n", 1)
    return code + f"\n\nGRAMMAR_SHA256 = {digest!r}\n"


class BuildPy(build_py):
    def run(self):
        super().run()
        if self.dry_run:
            return
        here = os.path.dirname(os.path.abspath(__file__))
        target = os.path.join(self.build_lib, "fwc", "_lalr.py")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(generate_parser(os.path.join(here, "grammars", "fwc.lark")))
        self.byte_compile([target])


setup(cmdclass={"build_py": BuildPy})
