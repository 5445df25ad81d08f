"""The memblock op-script language: one operation per line, run on the model.

This is the input format of the project's C driver for the real allocator
(tests/oracles/memblock/driver.c), so a script runs unchanged on both and the
outputs can be diffed line by line; ``fwc memblock run`` and the differential
oracle tests use it.  Syntax::

    # a comment runs to the end of the line
    add 0x100000 16K          # -> "add 0"
    alloc_try_nid 16 64 0 accessible none
    dump

Tokens are separated by space, tab, CR, FF or VT; at most 16 per line.  The
first token names an operation of ``OPS``; the others are its arguments, of
the kinds in ``KINDS``.  Each operation prints one line, ``NAME RESULT``
(``dump`` prints a block).  A malformed line raises ScriptError with the
1-based line and column of the offending token, as the driver reports it.

``OPS`` declares every operation once -- its arguments (name, kind,
optional), the ``Memblock`` method it calls and how the result is printed --
and drives the parser, the validation and ``help_text()``.  ``tokenize`` and
``parse_line`` check a script (``parse_script``).  ``run_script`` runs each line
as it is read, like the driver, through a handler written out per operation
(same tokens, same values); a line it cannot take goes through ``parse_line``'s
checks.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any, Callable, Iterator, NamedTuple

from .memblock import (
    ACCESSIBLE, ANYWHERE, HARNESS, MASK64, NOLEAKTRACE, NUMA_NO_NODE, Memblock, MemblockConfig,
)

__all__ = [
    "KINDS", "MAXTOK", "OPS", "Arg", "Kind", "Op", "ScriptError", "Statement", "column",
    "help_text", "parse_line", "parse_script", "run_script", "tokenize",
]


class ScriptError(ValueError):
    """An op-script could not be parsed; ``line`` and ``col`` are 1-based."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(f"line {line} col {col}: {message}")
        self.line = line
        self.col = col
        self.message = message


class _BadToken(Exception):
    """An argument token is not of its kind (message without the token)."""


class _BadLine(Exception):
    """A line is malformed at token ``index`` (0 = the operation)."""

    def __init__(self, index: int, message: str):
        self.index = index
        self.message = message


# ----------------------------------------------------------------------
# tokens

#: the C driver's token: anything up to a separator or '#'
_TOKEN_RE = re.compile(r"[^ \t\r\f\v#]+")
MAXTOK = 16


def _plain(text: str) -> bool:
    """Whether ``str.split()`` splits ``text`` exactly as the driver does: ASCII without the
    separators \\x1c-\\x1f, which Python splits at and the driver does not."""
    return (text.isascii() and "\x1c" not in text and "\x1d" not in text
            and "\x1e" not in text and "\x1f" not in text)


def tokenize(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, raw line, tokens) for each line that has tokens.

    Raises ScriptError for a line of more than MAXTOK tokens (at the first
    token too many, where the driver stops reading).
    """
    split = str.split if _plain(text) else _TOKEN_RE.findall
    for lineno, raw in enumerate(text.split("\n"), 1):
        toks = split(raw.partition("#")[0] if "#" in raw else raw)
        if not toks:
            continue
        if len(toks) > MAXTOK:
            raise ScriptError(lineno, column(raw, MAXTOK), "too many arguments")
        yield lineno, raw, toks


def column(raw: str, index: int) -> int:
    """1-based column of token ``index`` of a raw line (1 if there is none)."""
    ms = list(_TOKEN_RE.finditer(raw.split("#", 1)[0]))
    return ms[index].start() + 1 if index < len(ms) else 1


# ----------------------------------------------------------------------
# argument kinds

_SUFFIX = {"K": 10, "M": 20, "G": 30, "T": 40, "k": 10, "m": 20, "g": 30, "t": 40}
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_U64_KEYWORDS = {"anywhere": ANYWHERE, "accessible": ACCESSIBLE, "noleaktrace": NOLEAKTRACE}


def _number(s: str) -> int | None:
    """Decimal or 0x-hex with an optional K/M/G/T suffix, below 2**64; no
    octal, no sign.  None if invalid (the driver's parse_u64_raw())."""
    shift = _SUFFIX.get(s[-1:], 0)
    body = s[:-1] if shift else s
    v: int | None = None
    if body[:2] in ("0x", "0X"):
        digits = body[2:]
        if digits and _HEXDIGITS.issuperset(digits):
            v = int(digits, 16)
    elif body.isascii() and body.isdigit() and (body[0] != "0" or len(body) == 1):
        v = int(body)
    if v is not None:
        v <<= shift
        if v > MASK64:
            v = None
    return v


def _u64(s: str, max_numnodes: int) -> int:
    if s[:2] == "0x" and len(s) <= 18 and s.isalnum() and s.isascii():
        try:        # plain hex below 2**64 (int() takes the 0x; '_' and signs are not alnum)
            return int(s, 16)
        except ValueError:
            pass    # a suffix, or no digits: below
    v = _U64_KEYWORDS.get(s)
    if v is None:
        v = _number(s)
        if v is None:
            raise _BadToken("bad number")
    return v


def _nid(s: str, max_numnodes: int) -> int:
    if s == "none":
        return NUMA_NO_NODE
    if s == "max":
        return max_numnodes
    if len(s) > 1 and s[0] == "-":
        v = _number(s[1:])
        if v is None or v > 0x80000000:
            raise _BadToken("bad node id")
        return -v
    v = _number(s)
    if v is None or v > 0x7FFFFFFF:
        raise _BadToken("bad node id")
    return v


def _flags(s: str, max_numnodes: int) -> int:
    v = _number(s)
    if v is None or v > 0xFFFFFFFF:
        raise _BadToken("bad flags")
    return v


def _bool(s: str, max_numnodes: int) -> bool:
    if s in ("0", "1"):
        return s == "1"
    raise _BadToken("expected 0 or 1")


def _region_type(s: str, max_numnodes: int) -> str:
    if s not in ("memory", "reserved"):
        raise _BadToken("expected memory or reserved")
    return s


_CACHE_MAX = 65536


class _Uncached(Exception):
    """A token whose value depends on the configuration (not cached)."""


class _TokenCache(dict[str, Any]):
    """Valid tokens of one kind and their values; ``cache[token]`` parses a token not seen
    before (``__missing__``: raises _BadToken, or _Uncached for a configuration-dependent one)."""

    __slots__ = ("kind",)
    kind: "Kind"

    def __missing__(self, token: str) -> Any:
        kind = self.kind
        if token in kind.uncached:
            raise _Uncached(token)
        v = kind.parse(token, 0)
        if len(self) >= _CACHE_MAX:
            self.clear()
        self[token] = v
        return v


class Kind:
    """An argument kind: ``parse(token, max_numnodes)`` (raises _BadToken)
    and its help.  Valid tokens are cached (``cache``), except the
    ``uncached`` ones whose value depends on the configuration."""

    __slots__ = ("name", "parse", "help", "uncached", "cache")

    def __init__(self, name: str, parse: Callable[[str, int], Any], help: str,
                 uncached: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.parse = parse
        self.help = help
        self.uncached = uncached
        self.cache = _TokenCache()
        self.cache.kind = self

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"

    def value(self, token: str, max_numnodes: int) -> Any:
        if token in self.uncached:
            return self.parse(token, max_numnodes)
        return self.cache[token]


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("u64", _u64, "decimal or 0x-hex, optional K/M/G/T suffix; "
                      "anywhere (~0), accessible (0), noleaktrace (1)"),
    Kind("nid", _nid, "node id: N, -N, none (NUMA_NO_NODE), max (MAX_NUMNODES)",
         uncached=frozenset({"max"})),
    Kind("flags", _flags, "enum memblock_flags, a 32-bit number"),
    Kind("bool", _bool, "0 or 1"),
    Kind("type", _region_type, "memory or reserved"),
)}


# ----------------------------------------------------------------------
# operations

class Arg(NamedTuple):
    name: str
    kind: Kind
    optional: bool


def _result_format(name: str, shows: str) -> Callable[[Any], str]:
    if shows == "text":
        return str
    if shows == "ok":
        line = name + " ok"
        return lambda _result: line
    return (name + " " + shows).__mod__


class Op:
    """One operation: ``NAME ARG...`` calls ``call(memblock, *args)``.

    ``signature`` is ``"name:kind ..."`` with ``?`` after each optional
    (trailing) argument; omitted arguments take ``call``'s defaults.
    ``shows`` is how the result is printed after the name: ``%d``, ``0x%x``,
    ``ok`` (result ignored) or ``text`` (printed alone, for ``dump``).
    ``kernel`` says what it does in the kernel's terms (the function of
    mm/memblock.c or the global it sets), for the help text.
    """

    __slots__ = ("name", "signature", "call", "shows", "kernel", "args", "render", "_kinds", "_caches", "_min")

    def __init__(self, name: str, signature: str, call: Callable[..., Any], shows: str, kernel: str) -> None:
        self.name, self.signature, self.call, self.shows, self.kernel = name, signature, call, shows, kernel
        args = []
        for word in signature.split():
            arg, _, kind = word.partition(":")
            args.append(Arg(arg, KINDS[kind.rstrip("?")], kind.endswith("?")))
        required = [a for a in args if not a.optional]
        assert args[:len(required)] == required, f"{name}: optional arguments go last"
        self.args: tuple[Arg, ...] = tuple(args)
        self._kinds = tuple(a.kind for a in args)
        self._caches = tuple(a.kind.cache for a in args)
        self._min = len(required)
        self.render: Callable[[Any], str] = _result_format(name, shows)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.signature!r})"

    def bind(self, mb: Memblock) -> Callable[..., Any]:
        """``call`` bound to ``mb``: its own method when ``call`` is a Memblock method (so another
        kernel's model, a subclass, runs its override), else ``call`` with ``mb`` first."""
        name = getattr(self.call, "__name__", "")
        if getattr(self.call, "__qualname__", "") == f"Memblock.{name}":
            return getattr(mb, name)
        return partial(self.call, mb)

    def usage(self) -> str:
        """``add base:u64 size:u64 [nid:nid [flags:flags]]``."""
        words = [self.name]
        opened = 0
        for a in self.args:
            words.append(("[" if a.optional else "") + f"{a.name}:{a.kind.name}")
            opened += a.optional
        return " ".join(words) + "]" * opened

    def parse_args(self, toks: list[str], max_numnodes: int) -> list[Any]:
        """The values of ``toks[1:]``; raises _BadLine at the driver's token."""
        n = len(toks) - 1
        if not self._min <= n <= len(self._kinds):
            lo, hi = self._min, len(self._kinds)
            want = (str(lo) if lo == hi else f"{lo} or {hi}" if hi == lo + 1 else f"{lo} to {hi}")
            raise _BadLine(0, f"wrong number of arguments ({n}, expected {want}) for '{toks[0]}'")
        values = []
        for i, kind in enumerate(self._kinds[:n]):
            try:
                values.append(kind.value(toks[i + 1], max_numnodes))
            except _BadToken as e:   # the first bad token, as the driver reads them
                raise _BadLine(i + 1, f"{e} '{toks[i + 1]}'") from None
        return values


def _add(mb: Memblock, base: int, size: int, nid: int | None = None, flags: int = 0) -> int:
    """memblock_add(), or memblock_add_node() when a node is given."""
    if nid is None:
        return mb.add(base, size)
    return mb.add_node(base, size, nid, flags)


def _bottom_up(mb: Memblock, enable: bool) -> bool:
    mb.set_bottom_up(enable)
    return mb.bottom_up


def _movable_node(mb: Memblock, enable: bool) -> bool:
    mb.movable_node = enable
    return mb.movable_node


def _mirrored_kernelcore(mb: Memblock, enable: bool) -> bool:
    mb.mirrored_kernelcore = enable
    return mb.mirrored_kernelcore


def _current_limit(mb: Memblock, limit: int) -> int:
    mb.set_current_limit(limit)
    return mb.current_limit


_RANGE = "base:u64 size:u64"
_NID_ALLOC = "size:u64 align:u64 min_addr:u64 max_addr:u64 nid:nid"
M = Memblock

#: every operation of the op-script format, in the driver's order
OPS: dict[str, Op] = {op.name: op for op in (
    Op("add", _RANGE + " nid:nid? flags:flags?", _add, "%d",
       "memblock_add(); memblock_add_node() with a node"),
    Op("reserve", _RANGE, M.reserve, "%d", "memblock_reserve()"),
    Op("remove", _RANGE, M.remove, "%d", "memblock_remove()"),
    Op("free", _RANGE, M.phys_free, "%d", "memblock_phys_free()"),
    Op("mark_hotplug", _RANGE, M.mark_hotplug, "%d", "memblock_mark_hotplug()"),
    Op("clear_hotplug", _RANGE, M.clear_hotplug, "%d", "memblock_clear_hotplug()"),
    Op("mark_nomap", _RANGE, M.mark_nomap, "%d", "memblock_mark_nomap()"),
    Op("clear_nomap", _RANGE, M.clear_nomap, "%d", "memblock_clear_nomap()"),
    Op("mark_mirror", _RANGE, M.mark_mirror, "%d", "memblock_mark_mirror()"),
    Op("set_node", _RANGE + " nid:nid type:type?", M.set_node, "%d",
       "memblock_set_node() on memblock.memory or .reserved"),
    Op("bottom_up", "enable:bool", _bottom_up, "%d", "memblock_set_bottom_up()"),
    Op("movable_node", "enable:bool", _movable_node, "%d", "movable_node_enabled = enable"),
    Op("mirrored_kernelcore", "enable:bool", _mirrored_kernelcore, "%d",
       "mirrored_kernelcore = enable"),
    Op("current_limit", "limit:u64", _current_limit, "0x%x", "memblock_set_current_limit()"),
    Op("allow_resize", "", M.allow_resize, "ok", "memblock_allow_resize()"),
    Op("reset", "", M.reset, "ok", "empty static arrays, top-down, no limit, no movable_node"),
    Op("alloc", "size:u64 align:u64 start:u64 end:u64 nid:nid exact_nid:bool?",
       M.alloc_range_nid, "0x%x", "memblock_alloc_range_nid()"),
    Op("phys_alloc_range", "size:u64 align:u64 start:u64 end:u64", M.phys_alloc_range,
       "0x%x", "memblock_phys_alloc_range()"),
    Op("phys_alloc_try_nid", "size:u64 align:u64 nid:nid", M.phys_alloc_try_nid, "0x%x",
       "memblock_phys_alloc_try_nid()"),
    Op("alloc_try_nid", _NID_ALLOC, M.alloc_try_nid, "0x%x",
       "memblock_alloc_try_nid(), as a physical address"),
    Op("alloc_try_nid_raw", _NID_ALLOC, M.alloc_try_nid_raw, "0x%x",
       "memblock_alloc_try_nid_raw(), as a physical address"),
    Op("alloc_exact_nid_raw", _NID_ALLOC, M.alloc_exact_nid_raw, "0x%x",
       "memblock_alloc_exact_nid_raw(), as a physical address"),
    Op("trim", "align:u64", M.trim_memory, "ok", "memblock_trim_memory()"),
    Op("enforce_limit", "limit:u64", M.enforce_memory_limit, "ok",
       "memblock_enforce_memory_limit()"),
    Op("cap_range", _RANGE, M.cap_memory_range, "ok", "memblock_cap_memory_range()"),
    Op("mem_limit_remove_map", "limit:u64", M.mem_limit_remove_map, "ok",
       "memblock_mem_limit_remove_map()"),
    Op("is_memory", "addr:u64", M.is_memory, "%d", "memblock_is_memory()"),
    Op("is_reserved", "addr:u64", M.is_reserved, "%d", "memblock_is_reserved()"),
    Op("is_map_memory", "addr:u64", M.is_map_memory, "%d", "memblock_is_map_memory()"),
    Op("is_region_memory", _RANGE, M.is_region_memory, "%d", "memblock_is_region_memory()"),
    Op("is_region_reserved", _RANGE, M.is_region_reserved, "%d",
       "memblock_is_region_reserved()"),
    Op("phys_mem_size", "", M.phys_mem_size, "0x%x", "memblock_phys_mem_size()"),
    Op("reserved_size", "", M.reserved_size, "0x%x", "memblock_reserved_size()"),
    Op("start_of_dram", "", M.start_of_dram, "0x%x", "memblock_start_of_DRAM()"),
    Op("end_of_dram", "", M.end_of_dram, "0x%x", "memblock_end_of_DRAM()"),
    Op("dump", "", M.dump, "text", "both arrays in the driver's dump format"),
)}
del M


def help_text() -> str:
    """The operations and argument kinds, one per line (for ``--help``)."""
    width = max(len(op.usage()) for op in OPS.values())
    lines = ["operations (each prints 'NAME RESULT'; dump prints the arrays):"]
    lines += [f"  {op.usage():{width}}  {op.kernel}" for op in OPS.values()]
    lines.append("argument kinds:")
    lines += [f"  {k.name:5}  {k.help}" for k in KINDS.values()]
    return "\n".join(lines)


# ----------------------------------------------------------------------
# parsing and running

class Statement(NamedTuple):
    """One parsed line: its number, tokens, operation and argument values."""

    line: int
    tokens: list[str]
    op: Op
    args: list[Any]


def _parse(lineno: int, raw: str, toks: list[str], max_numnodes: int) -> tuple[Op, list[Any]]:
    op = OPS.get(toks[0])
    try:
        if op is None:
            raise _BadLine(0, f"unknown operation '{toks[0]}'")
        return op, op.parse_args(toks, max_numnodes)
    except _BadLine as e:
        raise ScriptError(lineno, column(raw, e.index), e.message) from None


def parse_line(lineno: int, raw: str, toks: list[str], max_numnodes: int) -> Statement:
    """The statement of one tokenised line; raises ScriptError."""
    return Statement(lineno, toks, *_parse(lineno, raw, toks, max_numnodes))


def parse_script(text: str, *, config: MemblockConfig = HARNESS) -> list[Statement]:
    """Check an op-script without running it.

    Raises ScriptError for unknown operations, wrong arity and bad arguments,
    at the same line and column as running it would.
    """
    max_numnodes = config.max_numnodes
    return [parse_line(lineno, raw, toks, max_numnodes) for lineno, raw, toks in tokenize(text)]


_FACTORIES: dict[tuple[Any, ...], Callable[..., Callable[[list[str]], str | None]]] = {}
#: the result printed after ``call(...)`` by how an op shows it (its render, in line)
_SHOWS = {"ok": "  call({})\n  return fmt\n", "text": "  return str(call({}))\n"}


def _handler(op: Op, call: Callable[..., Any], caches: tuple[dict[str, Any], ...], plain: bool
             ) -> Callable[[list[str]], str | None]:
    """A line's work for an op and a number of tokens: the output line, or None for a token not a
    valid cached value (the line then takes the checking path).  Written out per signature (a loop
    over the arguments costs more than most ops): ``a0 = c0(t[1]); ...; return fmt % call(a0,
    ...)``, a plain hex u64 converted directly (int() succeeds: "0x", 1-16 hex digits, ASCII)."""
    shape = (op.shows if op.shows in _SHOWS else "%",) + tuple(plain and c is KINDS["u64"].cache for c in caches)
    make = _FACTORIES.get(shape)
    if make is None:
        n = len(caches)
        src = "".join([f"def make(call, fmt{''.join(f', c{i}' for i in range(n))}):\n def run(t):\n  try:\n"]
                      + [f'   x = t[{i + 1}]\n   a{i} = int(x, 16) if x[1:2] == "x" and len(x) <= 18 and "_" not in x '
                         f"else c{i}(x)\n" if hx else f"   a{i} = c{i}(t[{i + 1}])\n" for i, hx in enumerate(shape[1:])]
                      + ["   pass\n  except MISS:\n   return None\n",
                         _SHOWS.get(str(shape[0]), "  return fmt % call({})\n").format(", ".join(f"a{i}" for i in range(n))),
                         " return run\n"])
        ns: dict[str, Any] = {"MISS": (_BadToken, _Uncached, ValueError)}
        exec(compile(src, f"<memblock_script handler {n}>", "exec"), ns)
        make = _FACTORIES[shape] = ns["make"]
    return make(call, op.name + " " + op.shows, *(c.__getitem__ for c in caches))


def run_script(text: str, *, config: MemblockConfig = HARNESS,
               memblock: Memblock | None = None, echo: bool = False) -> str:
    """Run an op-script and return its output (one line per op, plus dumps).

    The default configuration is the kernel test harness's (MAX_NUMNODES 16,
    SMP_CACHE_BYTES 32), i.e. the one the C oracle is built with.  Raises
    ScriptError (with 1-based line and column) for a malformed script; the
    script is executed as it is read, so ``memblock`` (if given) keeps the
    effect of the lines before the error.  A state the kernel would BUG_ON()
    on raises MemblockBug.  With ``echo``, each op is preceded by
    ``> OP ARG...``.
    """
    mb = memblock if memblock is not None else Memblock(config)
    plain = _plain(text)
    split = str.split if plain else _TOKEN_RE.findall
    table = {}  # per operation and number of tokens: the line's work (None: wrong number of arguments)
    for name, op in OPS.items():
        call, caches = op.bind(mb), op._caches
        table[name] = tuple(_handler(op, call, caches[:n - 1], plain)
                            if op._min <= n - 1 <= len(caches) else None for n in range(MAXTOK + 1))
    out: list[str] = []
    append = out.append
    for lineno, raw in enumerate(text.split("\n"), 1):
        toks = split(raw.partition("#")[0] if "#" in raw else raw)
        if not toks:
            continue
        entries = table.get(toks[0], ())
        run = entries[len(toks)] if len(toks) < len(entries) else None
        if echo:
            append("> " + " ".join(toks))
        line = run(toks) if run is not None else None
        if line is None:    # malformed, a token not seen before, or a configuration-dependent one
            if len(toks) > MAXTOK:
                raise ScriptError(lineno, column(raw, MAXTOK), "too many arguments")
            op, args = _parse(lineno, raw, toks, mb.max_numnodes)
            line = op.render(op.bind(mb)(*args))
        append(line)
    return "\n".join(out) + "\n" if out else ""
