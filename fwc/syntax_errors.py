"""Syntax errors: what the parser expected, said in words, and the token repairs that let
one run report many errors (used by :func:`fwc.syntax.parse`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .diagnostics import ERROR, Diagnostic, Span

if TYPE_CHECKING:
    from .syntax import _Parser

_TOKEN_NAMES = {
    "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "EQUAL": "'='",
    "COMMA": "','", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "NUMBER": "a number", "STRING": "a string", "NAME": "a name", "WORD": "a word",
    "$END": "end of input",
}


def _describe(term: str) -> str:
    if term in _TOKEN_NAMES:
        return _TOKEN_NAMES[term]
    if term.isupper():
        return "'" + term.lower().replace("_", "-") + "'"
    return term


#: statement keywords with digits (flags such as 'x2apic' are listed by name)
_DIGIT_KEYWORDS = ("'e820'",)


def _expected(names) -> str:
    items = sorted({_describe(n) for n in names if not n.startswith("__")})
    # Long keyword lists are summarised: a statement was expected.
    keywords = [i for i in items if i.startswith("'") and (i[1:-1].replace("-", "").isalpha() or i in _DIGIT_KEYWORDS)]
    if len(keywords) > 6:
        others = [i for i in items if i not in keywords]
        items = others + ["a statement keyword"]
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def syntax_diagnostic(e, errors, file: str, text: str) -> Diagnostic:
    line = getattr(e, "line", None) or 1
    col = getattr(e, "column", None) or 1
    if isinstance(e, errors.UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            lines = text.split("\n")
            line = len(lines)
            col = len(lines[-1]) + 1
            msg = f"unexpected end of input, expected {_expected(e.expected)}"
            span = Span(file, line, col, line, col + 1)
        else:
            shown = str(tok)
            if len(shown) > 30:
                shown = shown[:27] + "..."
            msg = f"unexpected {shown!r}, expected {_expected(e.expected)}"
            if str(tok).replace("-", "").replace("_", "").isalnum() and len(e.expected) > 1:  # a misspelt keyword?
                from .suggest import did_you_mean

                msg += did_you_mean(str(tok), (n.lower().replace("_", "-") for n in e.expected
                                               if n.isupper() and n not in _TOKEN_NAMES))
            span = Span(file, tok.line, tok.column, tok.end_line or tok.line,
                        tok.end_column or tok.column + 1)
        return Diagnostic(ERROR, "syntax", msg, span)
    if isinstance(e, errors.UnexpectedCharacters):
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else "?"
        if ch == '"':
            msg = "unterminated string"
        else:
            msg = f"unexpected character {ch!r}"
        return Diagnostic(ERROR, "syntax", msg, Span(file, line, col, line, col + 1))
    return Diagnostic(ERROR, "syntax", str(e).splitlines()[0], Span(file, line, col, line, col + 1))


MAX_SYNTAX_ERRORS = 20
#: Unexpected tokens recovery handles per file before it gives up: each costs a repair attempt,
#: and a long bad line (160 KB of '(') reports one error but would repair every token.
MAX_RECOVERIES = 500

# Tokens tried, in order, to repair the input after an unexpected token: a
# missing value or a missing closing brace is the usual mistake.
_REPAIRS = (("NUMBER", "0"), ("STRING", '""'), ("WORD", "x"), ("RBRACE", "}"), ("EQUAL", "="))


def repair(p: _Parser, e) -> bool:
    """Repair the input at an unexpected token, if one small edit lets parsing go on.

    Insertions: the usual missing values (a number, a string, a word, '}',
    '='), or the one keyword the parser expects; an insertion must let the
    unexpected token itself be parsed next.  Replacement: a misspelt word
    where exactly one keyword fits."""
    parser = e.parser
    inserts = [(t, v) for t, v in _REPAIRS if t in e.expected]
    replaces = []
    if len(e.expected) == 1:
        (only,) = e.expected
        if only.isupper() and only not in dict(_REPAIRS):
            replaces.append((only, only.lower().replace("_", "-")))
    wordy = e.token.type in ("NAME", "WORD") or (e.token.type.isupper() and str(e.token).isalpha())
    edits = [(c, False) for c in inserts + replaces]
    if wordy:
        edits = [(c, True) for c in replaces] + edits
    saved = parser.copy_state()
    for (type_, value), replace in edits:
        parser.set_state(saved)
        try:
            parser.feed(p.Token.new_borrow_pos(type_, value, e.token))
            if not replace:
                parser.feed(e.token)
        except p.errors.UnexpectedToken:
            continue
        return True
    parser.set_state(saved)
    return False


