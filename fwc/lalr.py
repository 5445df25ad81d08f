"""A small LALR(1) runtime for the tables Lark computes from ``grammars/fwc.lark``.

Lark analyses the grammar (LALR(1) tables, terminal ordering, keyword "unless" rules,
child filtering and ``[...]`` placeholders) — at build time, into ``fwc/_tables.py`` —
and this module only runs the result: a contextual lexer (one alternation regex per set of
terminals a parser state accepts, narrowed to the terminals that can begin with the next
character, followed by the whitespace after the token, compiled on first use) and the
shift/reduce loop with Lark's parse-tree-builder semantics applied to the callbacks of a
transformer object; the usual token costs one regex call and no Python call.  Importing
Lark alone costs more than starting Python; this runtime imports ``re`` (and modules
Python has loaded at start-up).

:func:`export` (needs Lark) produces the tables; :class:`Parser` runs them.  The test
suite checks that both give Lark's own results on every example and fuzzed input.
"""

from __future__ import annotations

import re
from itertools import accumulate
from operator import itemgetter


class Token(str):
    """A token: its text, ``type`` and 1-based ``line``/``column`` (end exclusive)."""

    __slots__ = ("type", "start_pos", "line", "column", "end_line", "end_column", "end_pos", "allowed")

    def __new__(cls, type_, value, start_pos=0, line=1, column=1, end_line=1, end_column=1, end_pos=0):
        self = super().__new__(cls, value)
        self.type = type_
        self.start_pos, self.line, self.column = start_pos, line, column
        self.end_line, self.end_column, self.end_pos = end_line, end_column, end_pos
        self.allowed = None  # set when lexed outside the parser state's terminals
        return self

    @classmethod
    def new_borrow_pos(cls, type_, value, borrow):
        return cls(type_, value, borrow.start_pos, borrow.line, borrow.column, borrow.end_line,
                   borrow.end_column, borrow.end_pos)

    def __repr__(self):
        return f"Token({self.type!r}, {str(self)!r})"


class UnexpectedInput(Exception):
    line = column = 1
    pos_in_stream = 0


class UnexpectedToken(UnexpectedInput):
    def __init__(self, token, expected, parser):
        self.token, self.expected, self.parser = token, expected, parser
        self.line, self.column = token.line, token.column
        self.pos_in_stream = token.start_pos
        super().__init__(f"unexpected {token!r}")


class UnexpectedCharacters(UnexpectedInput):
    def __init__(self, text, pos, line, column):
        self.pos_in_stream, self.line, self.column = pos, line, column
        super().__init__(f"unexpected character at line {line}, column {column}")


class _Inline(list):
    """The children of an inlined ``_rule``, spliced into the parent by its filter."""

    @property
    def children(self):
        return self


# --------------------------------------------------------------------------------------
# Export (build time, or at first use in a source tree): needs Lark


def export(grammar: str, starts=("start", "body")) -> dict:
    """Lark's analysis of ``grammar`` as plain data for :class:`Parser`."""
    import lark
    from lark.lexer import PatternStr, _create_unless, _regexp_has_newline

    L = lark.Lark(grammar, parser="lalr", lexer="contextual", start=list(starts), maybe_placeholders=True)
    table = L.parser.parser.parser.parse_table
    rules = list(L.rules)
    rule_index = {r: i for i, r in enumerate(rules)}
    states = []
    for s in range(len(table.states)):
        acts = {}
        for sym, (action, arg) in table.states[s].items():
            acts[str(sym)] = arg if action.name == "Shift" else -1 - rule_index[arg]
        states.append(acts)
    out_rules = []
    for r in rules:
        o = r.options
        name = r.alias or o.template_source or r.origin.name
        out_rules.append((str(r.origin.name), len(r.expansion), str(name), bool(o.expand1 and not r.alias),
                          _child_filter(r.expansion, o.keep_all_tokens, o.empty_indices)))
    terms = {t.name: t for t in L.terminals}
    ignore = tuple(L.ignore_tokens)

    def lexer_def(names):
        ts = [terms[n] for n in set(names) | set(ignore) if n in terms]
        ts.sort(key=lambda x: (-x.priority, -x.pattern.max_width, -len(x.pattern.value), x.name))
        final, callbacks = _create_unless(ts, 0, re, False)
        unless = {}
        for name, cb in callbacks.items():
            unless[name] = {t.pattern.value: t.name for t in cb.scanner.terminals if isinstance(t.pattern, PatternStr)}
        return ([(t.name, t.pattern.to_regexp()) for t in final], unless)

    defs: list = []
    by_key: dict = {}
    lexers: list = []
    for s in range(len(states)):
        key = frozenset(k for k in states[s] if k.isupper())
        if key not in by_key:
            by_key[key] = len(defs)
            defs.append(lexer_def(key))
        lexers.append(by_key[key])
    root = len(defs)
    defs.append(lexer_def(terms))
    newline = tuple(sorted(n for n, t in terms.items() if _regexp_has_newline(t.pattern.to_regexp())))
    first = {p: _first_chars(p) for d in defs for _, p in d[0]}
    return {"states": states, "starts": {s: (table.start_states[s], table.end_states[s]) for s in starts},
            "rules": out_rules, "lexers": lexers, "lexer_defs": defs, "root_lexer": root,
            "ignore": ignore, "newline": newline, "first_chars": first}


def _child_filter(expansion, keep_all_tokens, _empty_indices):
    """Lark's maybe_create_child_filter, as data: ((index, expand, nones_before), ...), nones_after."""
    if _empty_indices:
        s = "".join(str(int(b)) for b in _empty_indices)
        empty = [len(ones) for ones in s.split("0")]
    else:
        empty = [0] * (len(expansion) + 1)
    include, nones = [], 0
    for i, sym in enumerate(expansion):
        nones += empty[i]
        if keep_all_tokens or not (sym.is_term and sym.filter_out):
            include.append((i, (not sym.is_term) and sym.name.startswith("_"), nones))
            nones = 0
    nones += empty[len(expansion)]
    if _empty_indices or len(include) < len(expansion) or any(e for _, e, _ in include):
        return (tuple(include), nones)
    return None


def _first_chars(pattern: str) -> str | None:
    """The ASCII characters a match of ``pattern`` can begin with (sorted), or None when that
    is not known (any character, a non-ASCII one, an empty match, a flag): a superset."""
    try:
        from re import _constants as C, _parser as P  # type: ignore[attr-defined]
    except ImportError:  # Python < 3.11
        import sre_constants as C
        import sre_parse as P

    def seq(items):  # (chars, may the sequence match empty)
        out: set = set()
        for op, av in items:
            chars, empty = one(op, av)
            if chars is None:
                return None, False
            out |= chars
            if not empty:
                return out, False
        return out, True

    def one(op, av):
        if op is C.LITERAL:
            return ({chr(av)} if av < 128 else None), False
        if op is C.IN:
            chars: set = set()
            for o, a in av:
                if o is C.LITERAL and a < 128:
                    chars.add(chr(a))
                elif o is C.RANGE and a[1] < 128:
                    chars.update(map(chr, range(a[0], a[1] + 1)))
                else:  # NEGATE, CATEGORY, non-ASCII
                    return None, False
            return chars, False
        if op is C.SUBPATTERN:
            return seq(av[-1]) if not av[1] and not av[2] else (None, False)
        if op is C.BRANCH:
            chars, empty = set(), False
            for b in av[1]:
                c, e = seq(b)
                if c is None:
                    return None, False
                chars |= c
                empty |= e
            return chars, empty
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            c, e = seq(av[2])
            return c, e or av[0] == 0
        return None, False

    try:
        parsed = P.parse(pattern)
        if parsed.state.flags & C.SRE_FLAG_IGNORECASE:  # a global (?i)
            return None
        chars, empty = seq(parsed)
    except Exception:  # noqa: BLE001 - unknown: every character
        return None
    return None if chars is None or empty else "".join(sorted(chars))


# --------------------------------------------------------------------------------------
# Runtime


class _Lexer:
    """One alternation of terminals (the first that matches wins, as in Lark's lexer).

    ``match`` looks at the character at ``pos`` and tries only the terminals that can begin
    with it, in their order (``first``: pattern -> :func:`_first_chars`): the same first
    match as the whole alternation, without trying every keyword before each space.  The
    alternations are compiled on first use, per first character, and shared between lexers."""

    def __init__(self, terms, unless, first):
        self.terms = terms
        self.unless = unless
        self.names = {n for n, _ in terms}
        self._by_char: dict = {}
        self._first = first
        self._by_ws: dict = {}  # the same followed by the whitespace (set by the Parser) they skip
        self.suffix = ""
        self.slow: frozenset = frozenset(unless)

    def match(self, text, pos, ws=False):
        """The whole alternation's ``match`` at ``pos``; with ``ws``, the whitespace after it
        too (``suffix``), the terminal's text being its group."""
        return ((self._by_ws if ws else self._by_char).get(text[pos]) or self._for_char(text[pos], ws))(text, pos)

    def _for_char(self, ch, ws=False):
        if ord(ch) >= 128:
            terms = tuple(self.terms)
        else:
            terms = tuple(t for t in self.terms if self._first[t[1]] is None or ch in self._first[t[1]])
        fn = _compiled(terms, self.suffix if ws else "").match
        (self._by_ws if ws else self._by_char)[ch] = fn
        return fn


_COMPILED: dict = {}


def _compiled(terms, suffix=""):
    """The alternation of ``terms`` ((name, pattern), ...), then ``suffix``, compiled once."""
    r = _COMPILED.get((terms, suffix))
    if r is None:
        alt = "|".join(f"(?P<{n}>{p})" for n, p in terms) or "(?!)"
        r = _COMPILED[terms, suffix] = re.compile(f"(?:{alt}){suffix}" if suffix else alt)
    return r


class Parser:
    """Runs exported tables, calling ``transformer.<rule>(children)`` on every reduction."""

    def __init__(self, tables: dict, transformer):
        self.t = tables
        self.states = tables["states"]
        self.ignore = frozenset(tables["ignore"])
        self.newline = frozenset(tables["newline"])
        self.lexers = [_Lexer(terms, unless, tables["first_chars"]) for terms, unless in tables["lexer_defs"]]
        self.root = self.lexers[tables["root_lexer"]]
        self.state_lexer = [self.lexers[i] for i in tables["lexers"]]
        suffix, slow = self._suffix(tables), self.ignore | self.newline
        for lx in self.lexers:
            lx.suffix, lx.slow = suffix, slow | frozenset(lx.unless) if lx.unless else slow
        self.callbacks = [self._callback(r, transformer) for r in tables["rules"]]
        #: per rule: (origin, size, callback), callback None for a rule whose value is its one child
        self.reduce = [(r[0], r[1], None if r[1] == 1 and r[3] and r[4] is None else cb)
                       for r, cb in zip(tables["rules"], self.callbacks)]
        self._units: dict = {}  # (state below, state, terminal) -> :meth:`_unit_chain`

    def _suffix(self, tables) -> str:
        """The regex of the whitespace a token is followed by, for ``match(ws=True)``: an ignored
        terminal that is in every lexer and the only terminal able to begin with its first
        characters (so every lexer matches it there), as many times as it follows.  Every
        lexer's terminals are some of the root lexer's: checking those is enough."""
        first, terms = tables["first_chars"], dict(self.root.terms)
        for name in sorted(self.ignore):
            chars = first.get(terms.get(name))
            if chars and all(n == name or (first[p] is not None and set(chars).isdisjoint(first[p]))
                             for n, p in self.root.terms) and all(name in lx.names for lx in self.lexers):
                one = re.fullmatch(r"\(\?:(\[[^\]]*\])\)\+|(\[[^\]]*\])\+", terms[name])  # [...]+: [...]*
                return f"{one[1] or one[2]}*" if one else f"(?:{terms[name]})*"
        return ""

    @staticmethod
    def _callback(rule, transformer):
        origin, size, name, expand1, filt = rule
        user = getattr(transformer, name, None)
        if user is None:
            user = _Inline
        if expand1:
            inner = user

            def user(children, inner=inner):
                return children[0] if len(children) == 1 else inner(children)
        if filt is None:
            return user
        include, after = filt
        inline = user is _Inline

        def call(children):
            out = []
            for i, expand, nones in include:
                if nones:
                    out += [None] * nones
                if expand:
                    if out or type(children[i]) is not _Inline:
                        out += children[i]
                    else:  # left recursion (``x*``): grow the list in place, as Lark does
                        out = children[i]
                else:
                    out.append(children[i])
            if after:
                out += [None] * after
            return out if inline and type(out) is _Inline else user(out)

        # The same, faster, for the usual shapes: some children kept (tokens filtered out) ...
        if not after and not any(expand or nones for _, expand, nones in include):
            if len(include) < 2:
                if not include:
                    return lambda children: user([])
                i0 = include[0][0]
                return lambda children: user([children[i0]])
            get = itemgetter(*(i for i, _, _ in include))
            return lambda children: user(list(get(children)))
        # ... and ``x*`` growing by one: the list grows in place
        if not after and len(include) == 2 and include[0] == (0, True, 0) and not include[1][1] and not include[1][2]:
            i1 = include[1][0]

            def grow(children):
                out = children[0]
                if type(out) is not _Inline:
                    return call(children)
                out.append(children[i1])
                return out if inline else user(out)
            return grow
        return call

    # -- lexing
    def _lex(self, text, pos, line, col):
        """The next token from ``pos`` (lexed with the terminals the parser state accepts,
        ignored ones skipped) and where lexing goes on: ``(token, end, line, column)``; the
        token is None at the end of the text."""
        lexer = self.state_lexer[self._stack[-1]]
        ignore, n = self.ignore, len(text)
        while pos < n:  # (the regexes :meth:`parse` compiled: the terminal's text is its group)
            m = lexer.match(text, pos, True)
            allowed, found = None, lexer
            if m is None:
                # Not a terminal of this state: lex it with every terminal for a better error.
                allowed = lexer.names - ignore
                m = self.root.match(text, pos, True)
                if m is None:
                    raise UnexpectedCharacters(text, pos, line, col)
                found = self.root
            type_ = m.lastgroup
            value = m.group(type_)
            if type_ in found.unless:
                type_ = found.unless[type_].get(value, type_)
            end = pos + len(value)
            if type_ in self.newline and "\n" in value:
                eline, ecol = line + value.count("\n"), len(value) - value.rfind("\n")
            else:
                eline, ecol = line, col + len(value)
            if type_ not in ignore:
                tok = Token(type_, value, pos, line, col, eline, ecol, end)
                if allowed is not None:
                    tok.allowed = allowed
                return tok, end, eline, ecol
            pos, line, col = end, eline, ecol
        return None, pos, line, col

    # -- parsing
    def parse(self, text: str, start: str = "start", on_error=None):
        """Lex and parse ``text``, calling ``on_error(exception)`` on a syntax error (true: go on)."""
        try:
            return self._parse(text, start, on_error)
        finally:  # the parser is shared: it keeps nothing of the parse (no statement) alive
            self._stack: list = []
            self._values: list = []

    def _parse(self, text, start, on_error):  # (untyped: Token's slots are set here)
        """:meth:`_lex` and :meth:`feed` inlined for the usual token (a terminal of the state's
        lexer, no newline in it; the whitespace after it skipped with it); any other goes
        through :meth:`_lex`, which handles it as it always does."""
        start_state, end_state = self.t["starts"][start]
        stack = self._stack = [start_state]
        values: list = []
        self._values = values
        self.end_state = end_state
        states, reduce, state_lexer, ignore = self.states, self.reduce, self.state_lexer, self.ignore
        new, Tok, units = str.__new__, Token, self._units
        pos, last, n = 0, None, len(text)
        # where lines end: the line of ``pos`` is the first with ends[line - 1] > pos
        ends = list(accumulate(map((1).__add__, map(len, text.split("\n")))))
        line, line_start, line_end = 1, 0, ends[0]
        while True:
            # -- the next token
            tok = None
            while pos < n:
                if pos >= line_end:
                    while ends[line - 1] <= pos:
                        line += 1
                    line_start, line_end = ends[line - 2], ends[line - 1]
                lexer, ch = state_lexer[stack[-1]], text[pos]
                m = (lexer._by_ws.get(ch) or lexer._for_char(ch, True))(text, pos)
                if m is not None:  # a token and the whitespace after it
                    type_ = m.lastgroup
                    if type_ not in lexer.slow:
                        end = m.end(type_)
                        tok = new(Tok, text[pos:end])
                        col = pos - line_start + 1
                        tok.type, tok.start_pos, tok.line, tok.column = type_, pos, line, col
                        tok.end_line, tok.end_column, tok.end_pos, tok.allowed = line, col + end - pos, end, None
                        pos = m.end()
                        break
                    if type_ in ignore and type_ not in lexer.unless:  # whitespace, a comment
                        pos = m.end()
                        continue
                try:  # a string, a character no terminal of the state begins with...
                    tok, pos, _, _ = self._lex(text, pos, line, pos - line_start + 1)
                except UnexpectedCharacters as e:
                    if on_error is None or not on_error(e):
                        raise
                    pos, last = e.pos_in_stream + 1, None
                    stack, values = self._stack, self._values
                    continue
                break
            if tok is not None:
                last = tok
            else:
                tok = Tok.new_borrow_pos("$END", "", last) if last is not None else Tok("$END", "")
            # -- feed it (as :meth:`feed`)
            type_ = tok.type
            while True:
                act = states[stack[-1]].get(type_)
                if act is None:
                    try:
                        self.feed(tok)  # raises UnexpectedToken
                    except UnexpectedToken as e:
                        if on_error is None or not on_error(e) or type_ == "$END":
                            raise
                    stack, values = self._stack, self._values
                    break
                if act >= 0:
                    stack.append(act)
                    values.append(tok)
                    break
                origin, size, callback = reduce[-1 - act]
                if callback is None:  # ``?rule`` of one child: the child is the value (a chain at once)
                    top = units.get(key := (stack[-2], stack[-1], type_))
                    stack[-1] = top if top is not None else units.setdefault(key, self._unit_chain(key, origin))
                else:
                    if size:
                        children = values[-size:]
                        del stack[-size:]
                        del values[-size:]
                    else:
                        children = []
                    values.append(callback(children))
                    stack.append(states[stack[-1]][origin])
                if type_ == "$END" and stack[-1] == end_state:
                    return values[-1]
            if type_ == "$END":  # shifted
                return None

    def _unit_chain(self, key, origin):
        """The state after a ``?rule`` reduction to ``origin`` (``key``: the states below and on
        top, the terminal) and the ``?rule`` reductions that follow it on that terminal."""
        (below, _, type_), states, reduce = key, self.states, self.reduce
        top = states[below][origin]
        while type_ != "$END" and (a := states[top].get(type_)) is not None and a < 0 and reduce[-1 - a][2] is None:
            top = states[below][reduce[-1 - a][0]]
        return top

    def copy_state(self):
        return list(self._stack), self._values_copy(self._values)

    def set_state(self, state):
        self._stack, self._values = list(state[0]), self._values_copy(state[1])

    @staticmethod
    def _values_copy(values):
        # Reductions grow an inlined list in place: a saved state keeps its own copies.
        return [_Inline(v) if type(v) is _Inline else v for v in values]

    def expected(self):
        return {s for s in self.states[self._stack[-1]] if s.isupper()}

    def feed(self, tok):
        """Feed one token; returns the result when ``$END`` completes the parse."""
        stack, values, states, reduce = self._stack, self._values, self.states, self.reduce
        type_ = tok.type
        while True:
            act = states[stack[-1]].get(type_)
            if act is None:
                expected = tok.allowed if tok.allowed is not None else {s for s in states[stack[-1]] if s.isupper()}
                raise UnexpectedToken(tok, expected, self)
            if act >= 0:
                stack.append(act)
                values.append(tok)
                return None
            origin, size, callback = reduce[-1 - act]
            if callback is None:  # ``?rule`` of one child: the child is the value
                stack[-1] = states[stack[-2]][origin]
            else:
                if size:
                    children = values[-size:]
                    del stack[-size:]
                    del values[-size:]
                else:
                    children = []
                values.append(callback(children))
                stack.append(states[stack[-1]][origin])
            if type_ == "$END" and stack[-1] == self.end_state:
                return values[-1]
