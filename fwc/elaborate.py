"""Reading and evaluating descriptions: the first two passes of elaboration.

1. read files: parse the root file, follow ``include`` (relative to the including file,
   then the include path), refuse include cycles (:class:`Loader`, :meth:`Elaborator.expand`);
2. evaluate: constants (``let``) in order, expressions and units, each value range-checked
   against the field it lands in (:class:`Elaborator`).

:mod:`fwc.build` turns the evaluated statements into the model.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from . import syntax
from .diagnostics import ERROR, WARNING, Diagnostic, Related, Sources
from .syntax import Name, Num, Stmt

# The widest value any field takes: 64-bit addresses and sizes.
U64 = (1 << 64) - 1
VALUE_BITS = 128  # no field is wider than 64 bits; intermediate values may not pass 128
MAX_INCLUDE_DEPTH = 64


class Loader:
    """Reads files (root and includes) into statements, keeping their text.  Every file is
    read through :mod:`fwc.files` (the file policy); each file is parsed once."""

    def __init__(self, sources: Sources, include_path=(), read: Callable[[str], str] | None = None,
                 top: str | None = None, anywhere: bool = False):
        from .files import Roots

        self.sources = sources
        self.include_path = list(include_path)
        self.roots = Roots(self.include_path, top, anywhere)
        self.read = read or _read_file
        self.files: list[str] = []
        self._parsed: dict[tuple[str, str], tuple[list | None, list]] = {}
        self.includes = 0  # include statements expanded so far
        self.included = 0  # statements they brought in

    def parse(self, text: str, name: str, start: str, diags: list) -> list | None:
        cached = self._parsed.get((name, start))
        if cached is not None:  # an included file is parsed (and its syntax errors reported) once
            return cached[0]
        if text.startswith("\ufeff"):  # a UTF-8 byte-order mark is not part of the text
            text = text[1:]
        self.sources.add(name, text)
        if name not in self.files:
            self.files.append(name)
        stmts, d = syntax.parse(text, name, start)
        self._parsed[(name, start)] = (stmts, d)
        diags.extend(d)
        return stmts

    def parsed(self, name: str, start: str) -> bool:
        return (name, start) in self._parsed

    def forget(self) -> None:
        """Drop the parsed statements (the load is over)."""
        self._parsed.clear()

    def resolve(self, path: str, including: str | None) -> str | None:
        return self.roots.resolve(path, including)[0]


def undecodable(path: str, e: UnicodeDecodeError) -> str:
    """Where a UTF-8 decoding error is, as ``line L, column C``."""
    from .files import MAX_SOURCE, read_bytes

    try:
        head = read_bytes(path, MAX_SOURCE)[:e.start]
    except OSError:
        return f"byte {e.start}"
    line = head.count(b"\n") + 1
    column = e.start - (head.rfind(b"\n") + 1) + 1
    return f"line {line}, column {column}"


def _read_file(path: str) -> str:
    from .files import read_text

    return read_text(path)


class Elaborator:
    def __init__(self, loader: Loader):
        self.loader = loader
        self.diags: list[Diagnostic] = []
        self.stack: list[str] = []  # include chain, for cycle detection
        # Constants: name -> (value, span); lookups walk the scope chain.
        self.scopes: list[dict] = [{}]

    # ---- diagnostics
    def error(self, check: str, message: str, span, **kw) -> None:
        self.diags.append(Diagnostic(ERROR, check, message, span, **kw))

    def warning(self, check: str, message: str, span, **kw) -> None:
        self.diags.append(Diagnostic(WARNING, check, message, span, **kw))

    # ---- expressions
    def eval(self, expr, what: str = "value", lo: int = 0, hi: int = U64) -> int | None:
        """Evaluate ``expr``; report and return None if it fails or is out of [lo, hi]."""
        if expr is None:
            return None
        v = self._eval(expr)
        if v is None:
            return None
        if not lo <= v <= hi:
            self.error("field-range", f"{what} {_show(v)} is out of range [{_show(lo)}, {_show(hi)}]", expr.span)
            return None
        return v

    def _eval(self, e) -> int | None:
        """Evaluate an expression tree without recursion (a long chain of operators is a
        deep tree); values beyond 2**128 stop with an error instead of growing on."""
        if type(e) is Num:  # the usual expression: a number
            return e.value
        stack: list[tuple[Any, bool]] = [(e, False)]
        values: list[int | None] = []
        while stack:
            node, visited = stack.pop()
            if isinstance(node, Num):
                values.append(node.value)
            elif isinstance(node, Name):
                values.append(self._lookup(node))
            elif not visited:
                stack.append((node, True))
                stack.append((node.right, False))
                stack.append((node.left, False))
            else:
                b, a = values.pop(), values.pop()
                values.append(None if a is None or b is None else self._apply(node, a, b))
        return values[0]

    def _lookup(self, e) -> int | None:
        for scope in reversed(self.scopes):
            if e.name in scope:
                return scope[e.name][0]
        self.error("undefined-name", f"undefined name '{e.name}'", e.span)
        return None

    def _apply(self, e, a: int, b: int) -> int | None:
        if e.op == "+":
            v = a + b
        elif e.op == "-":
            v = a - b
        elif e.op == "*":
            if a.bit_length() + b.bit_length() > 2 * VALUE_BITS:
                v = 1 << (2 * VALUE_BITS)
            else:
                v = a * b
        elif b == 0:
            self.error("division-by-zero", "division by zero", e.right.span)
            return None
        elif a % b:
            self.error("inexact-division", f"{_show(a)} / {_show(b)} is not a whole number", e.span)
            return None
        else:
            v = a // b
        if abs(v).bit_length() > VALUE_BITS:
            self.error("field-range", f"the value of this expression is beyond {VALUE_BITS} bits", e.span)
            return None
        return v

    def define(self, stmt: Stmt) -> None:
        name = stmt.args["name"]
        value = self._eval(stmt.args["expr"])
        for scope in self.scopes:
            if name.name in scope:
                prev = scope[name.name][1]
                self.error("redefined-name", f"'{name.name}' is already defined", name.span,
                           related=(Related("first defined here", prev),))
                return
        if value is not None:
            self.scopes[-1][name.name] = (value, name.span)

    # ---- includes
    def include(self, stmt: Stmt, start: str) -> list:
        from .files import MAX_INCLUDED_STATEMENTS, MAX_INCLUDES, SOURCE_SUFFIX, regular_file

        path = stmt.args["path"]
        including = (stmt.span or path.span).file
        full, why = self.loader.roots.resolve(path.value, including)
        if full is None:
            self.error("include", f"cannot include '{path.value}': {why}" if why
                       else f"cannot find include file '{path.value}'", path.span)
            return []
        if full in self.stack:
            chain = " -> ".join(os.path.basename(p) for p in self.stack + [full])
            self.error("include", f"include cycle: {chain}", path.span)
            return []
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            self.error("include", f"includes nested more than {MAX_INCLUDE_DEPTH} deep", path.span)
            return []
        self.loader.includes += 1
        if self.loader.includes > MAX_INCLUDES:
            if self.loader.includes == MAX_INCLUDES + 1:
                self.error("include", f"more than {MAX_INCLUDES} includes in one description "
                                      "(a file included from many places?)", path.span)
            return []
        if not full.endswith(SOURCE_SUFFIX):
            self.error("include", f"cannot include '{path.value}': an included file is fwc source, "
                                  f"named *{SOURCE_SUFFIX}", path.span)
            return []
        if not self.loader.parsed(full, start):
            why = regular_file(full)
            if why is not None:
                self.error("include", f"cannot include '{path.value}': {why}", path.span)
                return []
            try:
                text = self.loader.read(full)
            except OSError as e:
                self.error("include", f"cannot read '{path.value}': {e.strerror or e}", path.span)
                return []
            except UnicodeDecodeError as e:
                self.error("include", f"'{path.value}' is not UTF-8 text ({undecodable(full, e)})", path.span)
                return []
        else:
            text = ""
        stmts = self.loader.parse(text, full, start, self.diags) or []
        self.loader.included += len(stmts)
        if self.loader.included > MAX_INCLUDED_STATEMENTS:
            self.loader.includes = MAX_INCLUDES + 2  # report once, include no more
            self.error("include", f"the includes expand to more than {MAX_INCLUDED_STATEMENTS} statements "
                                  "(a file included from many places?)", path.span)
            return []
        return [(s, full) for s in stmts]

    def expand(self, stmts, start: str, file: str):
        """Yield statements with includes expanded in place (depth first)."""
        self.stack.append(file if file.startswith("<") else os.path.normpath(os.path.abspath(file)))
        try:
            for s in stmts:
                if s.kind == "include":
                    inner = self.include(s, start)
                    if inner:
                        full = inner[0][1]
                        yield from self.expand([x for x, _ in inner], start, full)
                else:
                    yield s
        finally:
            self.stack.pop()


def _show(v: int) -> str:
    if v.bit_length() > VALUE_BITS:
        return f"(a {v.bit_length()}-bit number)"
    return hex(v) if v >= 4096 else str(v)
