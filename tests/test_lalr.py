"""fwc's LALR runtime against Lark itself: same statements, same first error, on every
example and on fuzzed input (the runtime runs tables Lark computed; this proves it runs
them as Lark does)."""

import glob
import os

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from fwc import lalr, syntax
from test_fuzz import KEYWORDS, SEEDS, mutated

GRAMMAR = syntax.grammar_text()
TABLES = lalr.export(GRAMMAR)


def ours(text, start="start"):
    b = syntax._Builder()
    b.file = "f"
    try:
        return "ok", lalr.Parser(TABLES, b).parse(text, start=start)
    except lalr.UnexpectedToken as e:
        return "token", (e.token.type, str(e.token), e.token.line, e.token.column, sorted(e.expected))
    except lalr.UnexpectedCharacters as e:
        return "chars", (e.line, e.column)


_B = syntax._Builder()
_B.file = "f"
_LARK = lark.Lark(GRAMMAR, parser="lalr", lexer="contextual", start=["start", "body"], maybe_placeholders=True,
                  transformer=_B)


def theirs(text, start="start"):
    try:
        return "ok", _LARK.parse(text, start=start)
    except lark.exceptions.UnexpectedToken as e:
        return "token", (e.token.type, str(e.token), e.token.line, e.token.column, sorted(e.expected))
    except lark.exceptions.UnexpectedCharacters as e:
        return "chars", (e.line, e.column)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True)))
def test_examples_parse_identically(path):
    text = open(path).read()
    assert ours(text) == theirs(text) and ours(text)[0] == "ok"


def test_body_start_symbol():
    text = "node 1 { memory 0 size 1G }\ndistance 0 1 = 20\ncpus 0-3\n"
    assert ours(text, "body") == theirs(text, "body")


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mutated())
def test_mutated_inputs_agree(text):
    assert ours(text) == theirs(text)


@SETTINGS
@given(st.lists(st.sampled_from(KEYWORDS), max_size=40))
def test_token_soup_agrees(tokens):
    text = " ".join(tokens)
    assert ours(text) == theirs(text)


def test_tables_are_plain_data():
    import ast

    assert ast.literal_eval(repr(TABLES)) == TABLES


def test_first_character_lexers_match_the_whole_alternation():
    """Each lexer tries only the terminals that can begin with the next character: at every
    position of every example (and at every ASCII character), the same match as the whole
    alternation of that lexer's terminals, compiled as Lark orders them."""
    import random
    import re

    rng = random.Random(15)
    texts = [open(p).read() for p in sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True))]
    texts.append("".join(map(chr, range(128))) + "é€ 0x1_F 4KiB -- // x /* y */ \"s\\\"\"")
    parser = lalr.Parser(TABLES, syntax._Builder())
    for lexer in parser.lexers:
        whole = re.compile("|".join(f"(?P<{n}>{p})" for n, p in lexer.terms))
        for text in texts:
            for pos in rng.sample(range(len(text)), min(len(text), 300)):
                a, b = lexer.match(text, pos), whole.match(text, pos)
                assert (a and (a.span(), a.lastgroup)) == (b and (b.span(), b.lastgroup)), (lexer.terms, text[pos:pos + 20])
                # and with the whitespace after it: the same terminal, then the whitespace up to the next non-space
                c = lexer.match(text, pos, ws=True)
                assert (c and (c.span(c.lastgroup), c.lastgroup)) == (b and (b.span(), b.lastgroup))
                if c:
                    assert c.end() == len(text) - len(text[b.end():].lstrip(" \t\f\r\n"))
