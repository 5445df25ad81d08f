"""Diagnostics: one record for every problem fwc reports, and its renderings.

A diagnostic carries a severity, a stable kebab-case check name (and numeric
code), a message, a primary source span and optional related spans and notes.
It renders GCC-style::

    machine.fwc:12:5: error: memory range overlaps node 1 [memory-overlap]
       12 |     memory 1G size 2G
          |     ^~~~~~~~~~~~~~~~~

This module imports nothing heavy: it is on every command's path.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

ERROR = "error"
WARNING = "warning"
NOTE = "note"


class Span(NamedTuple):
    """A 1-based source position; ``end_col`` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @classmethod
    def cover(cls, first: "Span | None", last: "Span | None") -> "Span | None":
        """The span from the start of ``first`` to the end of ``last``."""
        if first is None:
            return last
        if last is None or last.file != first.file:
            return first
        return cls(first.file, first.line, first.col, last.end_line, last.end_col)


class Related(NamedTuple):
    message: str
    span: Span | None


class Diagnostic(NamedTuple):
    severity: str
    check: str
    message: str
    span: Span | None = None
    related: tuple[Related, ...] = ()
    notes: tuple[str, ...] = ()

    def with_severity(self, severity: str) -> "Diagnostic":
        return self._replace(severity=severity)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        s = self.span
        return (s.file, s.line, s.col, self.check, self.message) if s else ("", 0, 0, self.check, self.message)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (as ``--json`` prints it)."""

        def span(s: Span | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"file": s.file, "line": s.line, "column": s.col,
                    "end_line": s.end_line, "end_column": s.end_col}

        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "span": span(self.span),
            "related": [{"message": r.message, "span": span(r.span)} for r in self.related],
            "notes": list(self.notes),
        }


def malformed(d: object) -> str | None:
    """Why ``d`` is not a well-formed :class:`Diagnostic` (a plugin may build one badly),
    or None: every field of the type it is declared with."""
    def bad_span(s: object) -> bool:
        return s is not None and not (isinstance(s, Span) and isinstance(s.file, str) and
                                      all(type(v) is int for v in s[1:]))

    if not isinstance(d, Diagnostic):
        return f"a diagnostic is a fwc.plugin.Diagnostic, not {type(d).__name__}"
    if d.severity not in (ERROR, WARNING, NOTE):
        return f"severity {d.severity!r} is not error, warning or note"
    if not isinstance(d.check, str) or not d.check or not isinstance(d.message, str):
        return "the check name and the message are strings"
    if bad_span(d.span):
        return f"span= is a fwc.plugin.Span or None, not {type(d.span).__name__}"
    if not isinstance(d.related, tuple) or any(not isinstance(r, Related) or not isinstance(r.message, str)
                                                or bad_span(r.span) for r in d.related):
        return "related= holds fwc.plugin.Related(message, span)"
    if not isinstance(d.notes, tuple) or any(not isinstance(n, str) for n in d.notes):
        return "notes= holds strings"
    return None


class Sources:
    """The text of every file read in a run, for echoing source lines."""

    def __init__(self) -> None:
        self._text: dict[str, str] = {}
        self._lines: dict[str, list[str]] = {}

    def add(self, name: str, text: str) -> None:
        self._text[name] = text
        self._lines.pop(name, None)

    def __contains__(self, name: str) -> bool:
        return name in self._text

    def line(self, name: str, lineno: int) -> str | None:
        if name not in self._text:
            return None
        lines = self._lines.get(name)
        if lines is None:
            lines = self._lines[name] = self._text[name].split("\n")
        if 1 <= lineno <= len(lines):
            return lines[lineno - 1].rstrip("\r")
        return None


def _escape(c: str) -> str:
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows.
_CONTROLS = {i: _escape(chr(i)) for i in [*range(0x20), 0x7F, *range(0x80, 0xA0),
                                          *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_KEEP_TAB = {k: v for k, v in _CONTROLS.items() if k != 0x09}
_KEEP_NEWLINE = {k: v for k, v in _KEEP_TAB.items() if k != 0x0A}


def visible(text: str, keep: str = "") -> str:
    """``text`` with control characters shown as ``\\x1b`` (``keep``: ``"\\t"`` or
    ``"\\t\\n"`` left as they are): what every human-readable output prints of
    text that came from an input, so that no input can drive the terminal."""
    table = _KEEP_NEWLINE if "\n" in keep else _KEEP_TAB if "\t" in keep else _CONTROLS
    return text.translate(table)


_COLOURS = {ERROR: "\x1b[1;31m", WARNING: "\x1b[1;35m", NOTE: "\x1b[1;36m"}
_BOLD, _RESET, _GREEN = "\x1b[1m", "\x1b[0m", "\x1b[1;32m"


WINDOW = 100  # longer source lines are shown around the column


def _caret_lines(src: str, span: Span, colour: bool) -> list[str]:
    num = str(span.line)
    pad = " " * len(num)
    if len(src) > WINDOW + 40:
        start = max(0, span.col - 1 - 40)
        end = min(len(src), start + WINDOW)
        shown = ("…" if start else "") + src[start:end] + ("…" if end < len(src) else "")
        shift = start - (1 if start else 0)
        end_col = min(span.end_col, end + 1) if span.end_line == span.line else span.col + 1
        span = span._replace(col=span.col - shift, end_col=max(span.col - shift + 1, end_col - shift),
                             end_line=span.line)
        src = shown
    # Expand tabs identically in the echoed line and the caret line; control characters
    # are shown escaped, and the caret spans what is shown.
    prefix = visible(src[: span.col - 1], "\t")
    width = 1
    if span.end_line == span.line and span.end_col > span.col:
        width = len(visible(src[span.col - 1: span.end_col - 1], "\t")) or 1
    elif span.end_line != span.line:
        width = max(1, len(visible(src[span.col - 1:], "\t")))
    src = visible(src, "\t")
    marker_pad = "".join("\t" if c == "\t" else " " for c in prefix)
    marker = "^" + "~" * (width - 1)
    if colour:
        marker = _GREEN + marker + _RESET
    return [f" {num} | {src}", f" {pad} | {marker_pad}{marker}"]


def render(diag: Diagnostic, sources: Sources | None = None, colour: bool = False) -> str:
    """Render one diagnostic with its source line, caret, related spans and notes."""
    out: list[str] = []
    where = visible(f"{diag.span}: ") if diag.span else "fwc: "
    sev = diag.severity
    message, check = visible(diag.message), visible(diag.check)
    if colour:
        head = f"{_BOLD}{where}{_RESET}{_COLOURS[sev]}{sev}:{_RESET} {_BOLD}{message}{_RESET} [{check}]"
    else:
        head = f"{where}{sev}: {message} [{check}]"
    out.append(head)
    if diag.span and sources is not None:
        src = sources.line(diag.span.file, diag.span.line)
        if src is not None:
            out.extend(_caret_lines(src, diag.span, colour))
    for rel in diag.related:
        loc = visible(f"{rel.span}: ") if rel.span else ""
        out.append(f"{loc}note: {visible(rel.message)}")
        if rel.span and sources is not None:
            src = sources.line(rel.span.file, rel.span.line)
            if src is not None:
                out.extend(_caret_lines(src, rel.span, colour))
    for note in diag.notes:
        out.append(f"  note: {visible(note, chr(9) + chr(10))}")
    return "\n".join(out)


def summary(diags: Iterable[Diagnostic]) -> str:
    """``"1 error, 2 warnings"``."""
    diags = list(diags)
    errors = sum(1 for d in diags if d.severity == ERROR)
    warnings = sum(1 for d in diags if d.severity == WARNING)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}" + ("" if n == 1 else "s")
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
