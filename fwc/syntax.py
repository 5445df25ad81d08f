"""The syntax layer: text -> statements (with spans), or syntax diagnostics.

The grammar lives in ``grammars/fwc.lark``.  Lark analyses it (LALR(1), contextual lexer) and
:mod:`fwc.lalr` runs the resulting tables; the parse-time callbacks below build light statement
records directly, without a parse tree; every span comes from tokens, which carry positions.

Start-up cost matters (``fwc check`` should cost little more than starting Python), so the
tables are computed at build time into ``fwc/_tables.py`` (see ``setup.py``) and the runtime
does not import Lark; in a source tree they are computed from the grammar on first use.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from .diagnostics import Diagnostic, Span
from .syntax_errors import MAX_RECOVERIES, MAX_SYNTAX_ERRORS, repair, syntax_diagnostic

GRAMMAR_FILE = "fwc.lark"
_new = tuple.__new__  # records built as their NamedTuple __new__ does, without its frame

# --------------------------------------------------------------------------
# Statement and expression records


class Num(NamedTuple):
    value: int
    span: Span


class Name(NamedTuple):
    name: str
    span: Span


class BinOp(NamedTuple):
    op: str
    left: Any
    right: Any
    span: Span


class Str(NamedTuple):
    value: str
    span: Span


class Word(NamedTuple):
    value: str
    span: Span


class CpuItem(NamedTuple):
    first: Any
    last: Any  # None for a single id
    span: Span


class Stmt(NamedTuple):
    """One statement: ``kind`` is the grammar rule, ``args`` its fields."""

    kind: str
    span: Span | None  # None only for a statement with no positioned child
    args: dict


_UNITS = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}


def parse_number(text: str) -> int:
    if text.isdecimal() and text.isascii():
        return int(text)
    t = text.replace("_", "")
    low = t.lower()
    if low.startswith("0x"):
        return int(t[2:], 16)
    if low.startswith("0b"):
        return int(t[2:], 2)
    if t.endswith("iB"):
        t = t[:-2]
        return int(t[:-1]) << _UNITS[t[-1]]
    if t[-1] in _UNITS:
        return int(t[:-1]) << _UNITS[t[-1]]
    return int(t)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"'}


def parse_string(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n == "x" and i + 3 < len(body) + 0 and all(ch in "0123456789abcdefABCDEF" for ch in body[i + 2:i + 4]) and len(body[i + 2:i + 4]) == 2:
                out.append(chr(int(body[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(_ESCAPES.get(n, "\\" + n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def quote_string(s: str) -> str:
    """``s`` as an fwc string literal that :func:`parse_string` reads back as ``s``: the one
    function every string fwc writes into fwc source goes through (a decompiled machine's
    name, ...).  Quotes and backslashes are escaped, control characters (C0, DEL, C1) written
    as ``\\xNN``; other characters, ASCII or not, are written as they are."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif o < 0x20 or 0x7F <= o < 0xA0:
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class _Builder:
    """Parse-time callbacks, one per grammar rule.  ``file`` is set per parse."""

    file = "<input>"

    # -- helpers
    def _tspan(self, tok) -> Span:
        return _new(Span, (self.file, tok.line, tok.column, tok.end_line, tok.end_column))

    def _span(self, children) -> Span | None:
        """From the first child that has a position to the last one."""
        if children and isinstance(children[0], str) and (s := self._child_span(children[-1])) and s.file == self.file:
            return _new(Span, (s.file, children[0].line, children[0].column, s.end_line, s.end_col))  # type: ignore[attr-defined]
        first = last = None
        for c in children:
            first = self._child_span(c)
            if first is not None:
                break
        for c in reversed(children):
            last = self._child_span(c)
            if last is not None:
                break
        return Span.cover(first, last)

    def _child_span(self, c):
        if c is None:
            return None
        if isinstance(c, str):  # a Token
            return self._tspan(c)
        if isinstance(c, list):
            return self._span(c)
        return c.span

    def _stmt(self, _kind, children, **args) -> Stmt:
        return _new(Stmt, (_kind, self._span(children), args))

    def _word(self, tok):
        return Word(str(tok), self._tspan(tok)) if tok is not None else None

    def _str(self, tok):
        return Str(parse_string(str(tok)), self._tspan(tok)) if tok is not None else None

    # -- files
    def start(self, c):
        return c

    body = start

    # -- expressions
    def number(self, c):
        tok = c[0]  # (a literal far beyond any field is not int()ed: slow or refused)
        value = 1 << 1024 if len(tok) > 60 else parse_number(tok)
        return _new(Num, (value, _new(Span, (self.file, tok.line, tok.column, tok.end_line, tok.end_column))))

    def name(self, c):
        return _new(Name, (str(c[0]), self._tspan(c[0])))

    def binop(self, c):
        return BinOp(str(c[1]), c[0], c[2], Span.cover(c[0].span, c[2].span))

    # -- statements
    def machine(self, c):
        return self._stmt("machine", c[:2], name=self._str(c[1]), body=c[2:])

    def let(self, c):
        return _new(Stmt, ("let", self._span(c), {"name": _new(Name, (str(c[1]), self._tspan(c[1]))), "expr": c[2]}))

    def include(self, c):
        return self._stmt("include", c, path=self._str(c[1]))

    def arch(self, c):
        return self._stmt("arch", c, value=self._word(c[1]))

    def board(self, c):
        return self._stmt("board", c, value=self._word(c[1]), options=c[2:])

    def board_max_ram_below_4g(self, c):
        return self._stmt("max-ram-below-4g", c, value=c[1])

    def board_word(self, c):  # accel, kernel-irqchip
        return self._stmt(str(c[0]), c, value=self._word(c[1]))

    def oem(self, c):
        return self._stmt("oem", c, fields=c[1:])

    def oem_id(self, c):
        return self._stmt("id", c, value=self._str(c[1]))

    def oem_table(self, c):
        return self._stmt("table", c, value=self._str(c[1]))

    def oem_revision(self, c):
        return self._stmt("revision", c, value=c[1])

    def oem_creator(self, c):
        return self._stmt("creator", c, value=self._str(c[1]), revision=c[2])

    def tables(self, c):
        return self._stmt("tables", c[:3], at=c[2], options=[x for x in c[3:] if x is not None])

    def table_opt(self, c):
        oem = [x for x in c[4:] if isinstance(x, Stmt) and x.kind in ("id", "table", "revision", "creator")]
        data = [x for x in c[4:] if isinstance(x, Stmt) and x.kind in ("append", "verbatim", "body")]
        entries = next((x for x in c[4:] if isinstance(x, list)), None)
        return self._stmt("table_opt", [x for x in c if not isinstance(x, list)], table=self._word(c[0]),
                          revision=c[2], oem=oem, data=data, entries=entries)

    def table_body(self, c):
        return self._stmt("body", c, value=self._str(c[1]))

    def entries(self, c):
        return [x for x in c if isinstance(x, Stmt)]

    def _entry(self, kind, c, **args):
        attrs = [x for x in c if isinstance(x, Stmt) and x.kind.startswith("attr_")]
        return self._stmt(kind, c, attrs=attrs, **args)

    def entry_cpus(self, c):
        return self._entry("entry_cpus", c, items=[x for x in c if isinstance(x, CpuItem)])

    def placeholder_cpus(self, c):
        return self._entry("placeholder_cpus", c, items=[x for x in c if isinstance(x, CpuItem)])

    def entry_memory(self, c):
        values = list(c[1:-2])
        return self._stmt("entry_memory", c, values=values, reserved=c[-1])

    def entry_its(self, c):
        return self._stmt("entry_its", c, values=list(c[1:]))

    def placeholder_memory(self, c):
        return self._entry("placeholder_memory", c, base=c[2], size=c[4])

    def entry_interrupts(self, c):
        return self._stmt("entry_interrupts", c, count=c[1])

    def entry_initiators(self, c):
        return self._stmt("entry_initiators", c)

    def entry_bytes(self, c):
        return self._stmt("entry_bytes", c, value=self._str(c[1]))

    def attr_pxm(self, c):
        return self._stmt("attr_pxm", c, value=c[1])

    def attr_uid(self, c):
        return self._stmt("attr_uid", c, items=list(c[1:]))

    def attr_clock(self, c):
        return self._stmt("attr_clock", c, value=c[1])

    def attr_times(self, c):
        return self._stmt("attr_times", c, value=c[1])

    def attr_flag(self, c):
        return self._stmt("attr_flag", c, value=self._word(c[0]))

    def table_append(self, c):
        return self._stmt("append", c, value=self._str(c[1]))

    def table_verbatim(self, c):
        return self._stmt("verbatim", c, value=self._str(c[1]))

    def node(self, c):
        return self._stmt("node", c[:4], id=c[1], pxm=c[3], body=[x for x in c[4:] if x is not None])

    def cpus(self, c):
        items = [x for x in c[1:] if isinstance(x, CpuItem)]
        flags = [x for x in c[1:] if isinstance(x, Word)]
        clock = [x.args["value"] for x in c[1:] if isinstance(x, Stmt) and x.kind == "clock"]
        return self._stmt("cpus", c, items=items, flags=flags, clock=clock[-1] if clock else None)

    def cpu_one(self, c):
        return CpuItem(c[0], None, c[0].span)

    def cpu_range(self, c):
        return CpuItem(c[0], c[1], Span.cover(c[0].span, c[1].span))

    def cpu_flag(self, c):
        if len(c) == 2:  # clock N
            return self._stmt("clock", c, value=c[1])
        return self._word(c[0])

    def mem_flag(self, c):
        return _new(Word, (str(c[0]), self._tspan(c[0])))

    gi_flag = mem_flag

    def memory(self, c):
        return _new(Stmt, ("memory", self._span(c), {"base": c[1], "size": c[3], "flags": c[4:]}))

    def dimm(self, c):
        return self._stmt("dimm", c, size=c[2], at=c[4], nonvolatile=c[5] is not None)

    def initiator(self, c):
        return self._stmt("initiator", c, kind=self._word(c[0]), handle=c[1], flags=list(c[2:]))

    def acpi_handle(self, c):
        return self._stmt("acpi", c, hid=self._str(c[1]), uid=c[3])

    def pci_handle(self, c):
        return self._stmt("pci", c, bdf=self._str(c[1]))

    def its(self, c):
        return self._stmt("its", c, id=c[1])

    def distance(self, c):
        return self._stmt("distance", c, src=c[1], dst=c[2], value=c[3])

    def reserved(self, c):
        return self._stmt("reserved", c, base=c[1], size=c[3], type=self._word(c[4]))

    def e820(self, c):
        return self._stmt("e820", c[:1], entries=[x for x in c[1:] if isinstance(x, Stmt)])

    def e820_entry(self, c):
        return self._stmt("e820_entry", c, type=self._word(c[0]), base=c[1], size=c[3])

    def kernel(self, c):  # kernel at ADDR size SIZE, or kernel "6.12" (the version predicted)
        return self._stmt("kernel", c, **({"version": self._str(c[1])} if len(c) == 2 else {"base": c[2], "size": c[4]}))

    def initrd(self, c):
        return self._stmt("initrd", c[:5], base=c[2], size=c[4], overrides=[x for x in c[5:] if x is not None])

    def override_table(self, c):
        return self._stmt("override", c, table=self._word(c[1]), file=None, revision=c[3])

    def override_file(self, c):
        return self._stmt("override", c, table=None, file=self._str(c[1]), revision=None)

    def cmdline(self, c):
        return self._stmt("cmdline", c, parts=[self._str(t) for t in c[1:]])

    # -- events after boot (fwc/events.py)
    def events(self, c):
        return self._stmt("events", c[:1], events=[x for x in c[1:] if isinstance(x, Stmt)])

    def event_add(self, c):
        return self._stmt("event", c, action="add", target=Stmt("dimm", self._tspan(c[2]), {"name": self._word(c[2])}),
                          size=c[4], node=c[6], at=c[8])

    def event_remove(self, c):
        return self._stmt("event", c, action="remove", target=Stmt("dimm", self._tspan(c[2]),
                                                                   {"name": self._word(c[2])}))

    def event_state(self, c):
        return self._stmt("event", c, action=self._word(c[0]), target=c[1])

    def event_set(self, c):
        return self._stmt("event", c, action="set", target=Stmt("setting", self._tspan(c[1]), {"name": self._word(c[1])}),
                          value=self._word(c[2]))

    def target_block(self, c):
        nums = [x for x in c[1:] if x is not None and not isinstance(x, str)]
        return self._stmt("block", c, first=nums[0], last=nums[-1])

    def target_dimm(self, c):
        return self._stmt("dimm", c, name=self._word(c[1]))

    def target_node(self, c):
        return self._stmt("node", c, id=c[1])

    def target_range(self, c):
        return self._stmt("range", c, base=c[1], size=c[3])

    def slots(self, c):
        return self._stmt("slots", c, count=c[1], maxmem=c[3])

    def topology(self, c):
        return self._stmt("topology", c, sockets=c[2], cores=c[4], threads=c[6])

    def ioapic(self, c):
        return self._stmt("ioapic", c, id=c[1], address=c[3], gsi_base=c[5])

    def irq(self, c):
        return self._stmt("irq", c, source=c[1], gsi=c[3], flags=c[5])

    def nmi(self, c):
        cpu = c[2]
        if isinstance(cpu, str):  # the ALL token
            cpu = None
        return self._stmt("nmi", c, cpu=cpu, lint=c[4], flags=c[6], x2apic=len(c) > 7 and c[7] is not None)

    def lapic(self, c):
        return self._stmt("lapic", c, address=c[2], flags=c[4] if len(c) > 4 else None)


# --------------------------------------------------------------------------
# Parser construction (lazy, memoised)

_lock = threading.Lock()
_parser = None


def grammar_text() -> str:
    """The grammar: package data when installed, ``grammars/`` in a source tree."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "grammars", GRAMMAR_FILE), os.path.join(here, os.pardir, "grammars", GRAMMAR_FILE)):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    from importlib import resources  # zip installs and other loaders

    return resources.files("fwc.grammars").joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")


class _Parser:
    """The memoised LALR parser: tables generated at build time (``fwc/_tables.py``) when
    they match the grammar, else computed from the grammar with Lark (a source tree)."""

    def __init__(self) -> None:
        from . import lalr

        self.builder = _Builder()
        self.errors = lalr
        self.Token = lalr.Token
        tables = None
        self.prebuilt = False
        try:
            from . import _tables

            if _tables.GRAMMAR == grammar_text():
                tables, self.prebuilt = _tables.TABLES, True
        except ImportError:
            pass
        if tables is None:
            tables = lalr.export(grammar_text())
        self.parser = lalr.Parser(tables, self.builder)


def _get_parser() -> _Parser:
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = _Parser()
    return _parser


def parse(text: str, file: str = "<input>", start: str = "start") -> tuple[list | None, list[Diagnostic]]:
    """Parse ``text``; return (statements or None, diagnostics).

    Several syntax errors are reported per run: after an error the offending
    token is dropped and parsing resumes; further errors on the same line are
    not reported (they are nearly always consequences of the first).
    """
    p = _get_parser()
    errors = p.errors
    diags: list[Diagnostic] = []
    last_line = [0]
    dropped_braces = [0]  # '{' dropped by recovery: their '}' must not count as errors
    recoveries = [0]

    def on_error(e) -> bool:
        recoveries[0] += 1
        if recoveries[0] > MAX_RECOVERIES:  # the cost of recovery stays bounded
            return False
        d = syntax_diagnostic(e, errors, file, text)
        is_token = isinstance(e, errors.UnexpectedToken)
        quiet = is_token and dropped_braces[0] and e.token.type in ("RBRACE", "$END")
        if quiet:
            if e.token.type == "RBRACE":
                dropped_braces[0] -= 1
        elif d.span is not None and d.span.line != last_line[0]:
            diags.append(d)
            last_line[0] = d.span.line
        if len(diags) >= MAX_SYNTAX_ERRORS:
            return False
        if is_token and e.token.type != "$END" and not quiet and not repair(p, e):
            if e.token.type == "LBRACE":
                dropped_braces[0] += 1
        return not (isinstance(e, errors.UnexpectedToken) and e.token.type == "$END")

    with _lock:
        p.builder.file = file
        try:
            result = p.parser.parse(text, start=start, on_error=on_error)
        except errors.UnexpectedInput as e:
            d = syntax_diagnostic(e, errors, file, text)
            if not diags or diags[-1].span != d.span:
                diags.append(d)
            return None, diags
        except Exception:  # a callback failed on a tree left broken by recovery
            if diags:
                return None, diags
            raise
    if diags:
        return None, diags
    return result, diags
