"""No module in fwc/ or plugins/ is much over 500 lines unless its docstring says why
(issue 9): a reader finds one idea per module."""

import ast
import pathlib

from conftest import ROOT

LIMIT = 520
#: Longer on purpose; each says why in its docstring (the word "lines" and the reason).
STATED = {"plugins/boot/memblock.py", "plugins/boot/report.py"}


def _modules():
    root = pathlib.Path(ROOT)
    for d in ("fwc", "plugins"):
        for p in sorted((root / d).rglob("*.py")):
            yield p.relative_to(root).as_posix(), p


def test_modules_are_small_or_say_why():
    for rel, p in _modules():
        text = p.read_text(encoding="utf-8")
        n = len(text.splitlines())
        if rel in STATED:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "lines" in doc, f"{rel}: {n} lines and no reason in its docstring"
        else:
            assert n <= LIMIT, f"{rel}: {n} lines (split it, or state the reason and list it in STATED)"


def test_stated_exceptions_are_still_long():
    """The allow-list does not outlive its reason."""
    files = dict(_modules())
    for rel in STATED:
        assert len(files[rel].read_text(encoding="utf-8").splitlines()) > 500, rel
