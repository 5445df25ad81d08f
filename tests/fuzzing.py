"""fwc's own fuzz harnesses (issue 14): input generators and a runner with per-input limits.

Used by ``tests/test_fuzz_harness.py`` (a short fixed-seed run) and ``bench/fuzz.py SECONDS``
(long runs).  Generators, each ``(rng) -> input``:

* descriptions: random derivations of ``grammars/fwc.lark`` (:class:`Grammar`: every rule
  reachable, terminals mostly ordinary values and each rule's own words, sometimes extreme
  ones), half of them whole files, half statements added to an example's machine
  (:func:`grow_example`), and token mutations of the examples (:func:`mutate_tokens`);
* binaries: structure-aware mutations of every table fwc reads (:func:`mutate_table`: header
  fields, subtable type/length, SLIT locality count, truncation, duplication, checksum fixed
  or not), of acpidump text (:func:`mutate_dump`) and of directories of tables
  (:func:`make_directory`).

:func:`run` runs one input in a forked child with ``resource.setrlimit`` CPU and address-space
limits and reports what the child's ``wait4`` rusage says: an exception or an
``internal-error`` diagnostic (a bug), a CPU time over the bound (a hang), a peak RSS over the
bound.  Every finding is a failure; nothing is filtered.
"""

from __future__ import annotations

import glob
import json
import os
import random
import re
import resource
import struct
import tempfile
import traceback
from typing import Any, Callable, NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "**", "*.fwc"), recursive=True))
GOLDEN_TABLES = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "qemu", "*", "*.aml")))

NUMBERS = ["0", "1", "2", "3", "7", "10", "21", "254", "255", "256", "1023", "1024", "4096", "65535", "1K",
           "640K", "1M", "2M", "128M", "1G", "2G", "3G", "4G", "8G", "64G", "1T", "2047T", "1P", "262143",
           "0x1000", "0xfec00000", "0xffffffff", "0x100000000", "0xfffffffffffffff0", "0xffffffffffffffff",
           "18446744073709551616", "0b101", "1_000", "9" * 25]
STRINGS = ['"x"', '""', '"m"', '"srat.aml"', '"a.fwc"', '"b.fwc"', '"movable_node"', '"mem=1G memmap=2G$4G"',
           '"0000:00:01.0"', '"ACPI0004"', '"00ff"', '"0"', '"\\x1b]0;t\\x07"', '"a\\"b"', '"\\x00"',
           '"movablecore=acpi kernelcore=mirror"', '"BOCHS "', '"' + "ab" * 40 + '"']
WORDS = ["qemu-q35", "qemu-pc", "generic", "x86_64", "arm64", "srat", "slit", "madt", "hmat", "usable",
         "reserved", "acpi", "nvs", "unusable", "pmem", "fact", "x", "G"]
NAMES = ["X", "G", "N", "A0", "Y_1"]
#: ordinary values, most of the time: a statement that makes sense reaches the backends
SANE_NUMBERS = ["0", "1", "2", "3", "4", "1M", "2M", "16M", "640K", "1G", "2G", "4G", "8G", "0x100000"]
#: the words each rule takes (others: WORDS)
RULE_WORDS = {"arch": ["x86_64", "arm64"], "board": ["qemu-q35", "qemu-q35", "qemu-pc", "generic"],
              "board_opt": ["tcg", "kvm", "on", "off", "split"], "table_opt": ["srat", "slit", "madt", "hmat"],
              "reserved_type": ["reserved", "acpi", "nvs", "unusable", "pmem"],
              "e820_type": ["usable", "reserved", "acpi", "nvs", "unusable", "pmem"],
              "override": ["srat", "slit", "madt"]}
#: defines the NAMES (half the generated descriptions start with it)
PRELUDE = "let X = 1G\nlet G = 2G\nlet N = 1\nlet A0 = 0\nlet Y_1 = 3\n"
EXTRA_TOKENS = NUMBERS + STRINGS + WORDS + ["{", "}", "(", ")", "-", ",", "=", "*", "/", "+", "\n", "#", "\0",
                                             "\x1b", "\ufeff", "include", "let"]


class Grammar:
    """Random derivations of the LALR grammar: past ``depth`` each nonterminal takes its
    shallowest expansion, so every derivation ends."""

    def __init__(self) -> None:
        import lark

        with open(os.path.join(ROOT, "grammars", "fwc.lark"), encoding="utf-8") as f:
            g = lark.Lark(f.read(), parser="lalr", start=["start", "body"], maybe_placeholders=False)
        self.rules: dict[str, list[list[Any]]] = {}
        for r in g.rules:
            self.rules.setdefault(r.origin.name, []).append(list(r.expansion))
        self.literal = {t.name: t.pattern.value for t in g.terminals if type(t.pattern).__name__ == "PatternStr"}
        self.height = {n: 99 for n in self.rules}
        changed = True
        while changed:  # the least derivation height of every nonterminal
            changed = False
            for n, exps in self.rules.items():
                h = min(1 + max([self.height.get(s.name, 0) if not s.is_term else 0 for s in e] or [0]) for e in exps)
                if h < self.height[n]:
                    self.height[n], changed = h, True

    def terminal(self, rng: random.Random, name: str, rule: str = "") -> str:
        if name in self.literal:
            return self.literal[name]
        if name == "WORD" and rule in RULE_WORDS and rng.random() < 0.9:
            return rng.choice(RULE_WORDS[rule])
        if name == "NUMBER" and rng.random() < 0.85:
            return rng.choice(SANE_NUMBERS)
        pool = {"NUMBER": NUMBERS, "STRING": STRINGS, "WORD": WORDS, "NAME": NAMES}.get(name, ["x"])
        return rng.choice(pool)

    def generate(self, rng: random.Random, start: str = "start", depth: int = 14, limit: int = 4000) -> str:
        out: list[str] = []
        stack: list[tuple[Any, int, str]] = [(start, 0, "")]
        while stack and len(out) < limit:
            sym, d, rule = stack.pop()
            if isinstance(sym, str) and sym not in self.rules:
                out.append(self.terminal(rng, sym, rule))
                continue
            name = sym if isinstance(sym, str) else sym.name
            if not isinstance(sym, str) and sym.is_term:
                out.append(self.terminal(rng, name, rule))
                continue
            exps = self.rules[name]
            if d >= depth:
                best = min(self.height.get(s.name, 0) if not s.is_term else 0 for e in exps for s in e[:1] or [])
                short = [e for e in exps if all(s.is_term or self.height[s.name] <= best for s in e)]
                exp = rng.choice(short or exps)
            else:  # longer expansions first: more statements, more fields, more items
                exp = rng.choices(exps, [(1 + len(e)) ** 2 for e in exps])[0]
            for s in reversed(exp):
                stack.append((s, d + 1, name))
        return " ".join(out) + "\n"


def grow_example(grammar: "Grammar", rng: random.Random, seeds: list[str]) -> str:
    """An example with generated statements added to its machine (a kind it does not have
    yet) and perhaps a generated node: derivations that often reach the backends."""
    base = rng.choice([s for s in seeds if s.rstrip().endswith("}") and "include" not in s]).rstrip()
    used = set(re.findall(r"^\s*([a-z0-9-]+)", base, re.M)) | {"memory", "dimm", "cpus", "let", "include"}
    stmts = []
    for _ in range(rng.randint(1, 3)):
        for _ in range(8):
            st = grammar.generate(rng, "stmt", depth=rng.randint(2, 3))
            if st.split()[0] not in used:
                used.add(st.split()[0])
                stmts.append(st)
                break
    if rng.random() < 0.5:
        stmts.append(f"node {rng.randint(5, 9)} {{ {grammar.generate(rng, 'node_stmt', depth=rng.randint(2, 3))} }}\n")
    return PRELUDE + base[:-1] + "".join(stmts) + "}\n"


_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*|\s+|.', re.S)


def mutate_tokens(rng: random.Random, text: str, pool: list[str]) -> str:
    """Token-level mutations of ``text``: delete, duplicate, swap, replace or insert tokens
    (from ``pool``: the examples' tokens and extreme values)."""
    toks = _TOKEN.findall(text)
    numbers = [i for i, t in enumerate(toks) if t[:1].isdigit()]
    if numbers and rng.random() < 0.5:  # values only: the text still parses and reaches the backends
        for _ in range(rng.randint(1, 3)):
            toks[rng.choice(numbers)] = rng.choice(NUMBERS[:30])
        return "".join(toks)
    for _ in range(rng.randint(1, 6)):
        if not toks:
            toks = [rng.choice(pool)]
        i = rng.randrange(len(toks))
        op = rng.randrange(6)
        if op == 0:
            del toks[i:i + rng.randint(1, 4)]
        elif op == 1:
            j = min(len(toks), i + rng.randint(1, 30))
            toks[i:i] = toks[i:j]
        elif op == 2:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        elif op == 3:
            toks[i] = rng.choice(pool)
        elif op == 4:
            toks.insert(i, " " + rng.choice(pool) + " ")
        else:  # a value at an extreme
            toks[i] = rng.choice(NUMBERS)
    return "".join(toks)


def token_pool() -> list[str]:
    pool = set(EXTRA_TOKENS)
    for p in EXAMPLES:
        with open(p, encoding="utf-8") as f:
            pool.update(t for t in _TOKEN.findall(f.read()) if t.strip())
    return sorted(pool)


# --- binaries ----------------------------------------------------------------------------

#: where each table's subtables start (SRAT, MADT) or its fixed count lies (SLIT, XSDT, RSDT)
_SUBTABLES = {b"SRAT": 48, b"APIC": 44}
_INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 32,
                0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFF0]


def fix_checksum(data: bytearray) -> None:
    if len(data) >= 10 and data[:8] != b"RSD PTR ":
        data[9] = 0
        data[9] = (-sum(data)) & 0xFF
    elif len(data) >= 20:
        data[8] = 0
        data[8] = (-sum(data[:20])) & 0xFF
        if len(data) >= 36:
            data[32] = 0
            data[32] = (-sum(data)) & 0xFF


def _subtables(data: bytes) -> list[tuple[int, int]]:
    start = _SUBTABLES.get(bytes(data[:4]))
    out = []
    if start is None:
        return out
    at = start
    while at + 2 <= len(data) and data[at + 1] >= 2 and len(out) < 4096:
        out.append((at, data[at + 1]))
        at += data[at + 1]
    return out


def _put(data: bytearray, at: int, width: int, value: int) -> None:
    if at + width <= len(data):
        data[at:at + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")


def mutate_table(rng: random.Random, table: bytes) -> bytes:
    """A structure-aware mutation of one ACPI table (or RSDP)."""
    d = bytearray(table)
    for _ in range(rng.randint(1, 4)):
        subs = _subtables(d)
        op = rng.randrange(11)
        if op == 0:      # the header's length
            _put(d, 4, 4, rng.choice([0, 35, 36, len(d) - 1, len(d) + 1, len(d) * 2] + _INTERESTING))
        elif op == 1:    # revision
            _put(d, 8, 1, rng.choice([0, 1, 2, 3, 4, 5, 0xFF]))
        elif op == 2 and subs:    # a subtable's type
            at, _ = rng.choice(subs)
            d[at] = rng.choice([0, 1, 2, 3, 4, 5, 9, 10, 11, 0x7F, 0xFF])
        elif op == 3 and subs:    # a subtable's length
            at, _ = rng.choice(subs)
            d[at + 1] = rng.choice([0, 1, 2, 8, 10, 16, 24, 40, 0xFF])
        elif op == 4 and subs:    # a field inside a subtable
            at, n = rng.choice(subs)
            w = rng.choice([1, 2, 4, 8])
            _put(d, at + rng.randrange(2, max(3, n)), w, rng.choice(_INTERESTING))
        elif op == 5 and subs:    # duplicate subtables (a MADT with >255 processors, ...)
            at, n = rng.choice(subs)
            d[at:at] = d[at:at + n] * rng.choice([1, 2, 16, 300])
            _put(d, 4, 4, len(d))
        elif op == 6 and subs:    # drop a subtable
            at, n = rng.choice(subs)
            del d[at:at + n]
            _put(d, 4, 4, len(d))
        elif op == 7:    # truncate or extend
            if rng.random() < 0.5:
                del d[rng.randrange(len(d) + 1):]
            else:
                d += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif op == 8 and d[:4] == b"SLIT" and len(d) >= 44:
            _put(d, 36, 8, rng.choice([0, 1, 2, 3, 255, 256, 1 << 32]))
        elif op == 9 and d[:4] in (b"XSDT", b"RSDT") and len(d) > 36:
            w = 8 if d[:4] == b"XSDT" else 4
            _put(d, 36 + w * rng.randrange(max(1, (len(d) - 36) // w)), w, rng.choice(_INTERESTING + [0xE0000]))
        else:            # bytes anywhere
            for _ in range(rng.randint(1, 8)):
                if d:
                    d[rng.randrange(len(d))] = rng.randrange(256)
    if rng.random() < 0.7:
        fix_checksum(d)
    return bytes(d)


def table_sets() -> list[dict[str, bytes]]:
    """Seeds: each golden QEMU table set, and fwc's own tables for every example."""
    sets: dict[str, dict[str, bytes]] = {}
    for p in GOLDEN_TABLES:
        with open(p, "rb") as f:
            sets.setdefault(os.path.dirname(p), {})[os.path.basename(p)[:-4]] = f.read()
    out = list(sets.values())
    from fwc import Fwc

    f = Fwc()
    for p in EXAMPLES:
        r = f.compile(p, backends=["acpi"])
        tables = {a.path.split("/")[-1][:-4]: a.data for a in r.artifacts if a.path.endswith(".aml")}
        if tables:
            out.append(tables)
    return out


def render_dump(tables: dict[str, bytes]) -> str:
    """The tables as acpidump text (the acpi plugin's renderer), laid out from 0xE0000."""
    from fwc_plugins.acpi.acpidump import to_acpidump

    items, addr = [], 0xE0000
    for data in tables.values():
        items.append((data, addr))
        addr += (len(data) + 15) // 16 * 16
    return to_acpidump(items)


def mutate_dump(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 5)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(7)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2 and " @ 0x" in lines[i]:
            sig = rng.choice(["RSD ", "XSDT", "RSDT", "SRAT", "APIC", "SLIT", "junk", "FACP"])
            lines[i] = f"{sig} @ 0x{rng.choice(_INTERESTING + [0xE0000, 0xE0030]):016X}"
        elif op == 3 and ":" in lines[i]:
            head, _, rest = lines[i].partition(":")
            lines[i] = rng.choice(["    0000", "    FFFF", "    0010", head, "  zz"]) + ":" + rest
        elif op == 4:
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif op == 5:
            lines.insert(i, rng.choice(["Raw Table Data: Length 36 (0x24)", "BIOS-e820: [mem 0x0-0x9fbff] usable",
                                        "\x1b[2J", "", "    0000: 53 52 41 54"]))
        else:
            lines[i] = "".join(c if rng.random() > 0.05 else rng.choice("0123456789ABCDEFxz ") for c in lines[i])
    return "\n".join(lines)


def make_directory(rng: random.Random, tables: dict[str, bytes], path: str) -> None:
    """A directory of table files (as /sys/firmware/acpi/tables), mutated: renamed, numbered,
    emptied, mutated, subdirectories and non-table files beside them."""
    os.makedirs(path, exist_ok=True)
    for name, data in tables.items():
        if rng.random() < 0.1:
            continue
        if rng.random() < 0.3:
            data = mutate_table(rng, data)
        fname = name + rng.choice(["", "", "1", "2", "10", ".aml", ".dat"])
        with open(os.path.join(path, fname), "wb") as f:
            f.write(data if rng.random() > 0.05 else b"")
    if rng.random() < 0.3:
        os.makedirs(os.path.join(path, rng.choice(["data", "dynamic", "sub"])), exist_ok=True)
    if rng.random() < 0.3:
        with open(os.path.join(path, "notes.txt"), "w") as f:
            f.write("SRAT and MADT from a server\n")
    if rng.random() < 0.1:
        os.mkfifo(os.path.join(path, "FIFO"))


# --- running one input under limits --------------------------------------------------------

class Outcome(NamedTuple):
    ok: bool
    what: str          # "ok", "exception", "internal-error", "cpu", "memory", "crash"
    detail: str
    cpu: float
    peak_mib: float


def run(target: Callable[[], None], cpu_seconds: float = 2.0, memory_mib: int = 512) -> Outcome:
    """Run ``target`` in a forked child limited by ``setrlimit`` (CPU: the bound + 1 s, so a
    hang is measured rather than guessed; address space: 4x the memory bound) and judge it by
    the child's own rusage."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(rfd)
        code, msg = 0, ""
        try:
            lim = int(cpu_seconds) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (lim, lim + 1))
            resource.setrlimit(resource.RLIMIT_AS, (memory_mib * 4 << 20, memory_mib * 4 << 20))
            target()
        except Finding as e:
            code, msg = 2, str(e)
        except BaseException:  # noqa: BLE001 - every escape is a finding
            code, msg = 1, traceback.format_exc()[-4000:]
        try:
            os.write(wfd, msg.encode("utf-8", "replace"))
        finally:
            os._exit(code)
    os.close(wfd)
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    _, status, ru = os.wait4(pid, 0)
    cpu = ru.ru_utime + ru.ru_stime
    peak = ru.ru_maxrss / 1024
    msg = b"".join(chunks).decode("utf-8", "replace")
    if os.WIFSIGNALED(status):
        what = "cpu" if os.WTERMSIG(status) in (9, 24) else "crash"
        return Outcome(False, what, f"signal {os.WTERMSIG(status)}", cpu, peak)
    code = os.WEXITSTATUS(status)
    if code == 1:
        return Outcome(False, "memory" if "MemoryError" in msg else "exception", msg, cpu, peak)
    if code == 2:
        return Outcome(False, "internal-error", msg, cpu, peak)
    if cpu > cpu_seconds:
        return Outcome(False, "cpu", f"{cpu:.2f} s CPU", cpu, peak)
    if peak > memory_mib:
        return Outcome(False, "memory", f"{peak:.0f} MiB peak", cpu, peak)
    return Outcome(True, "ok", "", cpu, peak)


#: Small descriptions that once cost much (issue 14, "Small input, huge cost"): (name, text,
#: check or compile, the error expected (None: none), CPU seconds and MiB allowed).  Before the
#: fix: 43 s / 1.5 GB, 11 s / 1.2 GB refused only at the end, 5 s, 36 s / 1 GB refused at the
#: end, 0.9 s, 0.8 s.
COSTLY = [
    ("memory 1P", 'machine "direct" { node 0 { memory 0 size 1P } }', "compile", None, 12, 900),
    # before: 3.1 s and 250 MiB (refused after its first boot was simulated whole)
    ("memory 4P", 'machine "direct" { node 0 { memory 0 size 4P } }', "compile", "output-size", 4, 512),
    # before: 4.5 s and 500 MiB (grammar seed 7052850): e820 RAM no node covers, so Linux drops
    # NUMA and one node holds 2047 TiB; the boot stops when its outputs pass the bound
    ("2047 TiB of e820 RAM in no node", 'machine "m" { node 0 { memory 0 size 1G } e820 { usable 0 size 2G '
     'usable 4G size 2047T } }', "compile", "output-size", 4, 512),
    # before: 42 s and 4 GiB (tokens seed 9015975), 47 s (seed 10000793): a boot whose memmap of
    # the hot-pluggable PiB cannot be allocated went on failing for each of its 8M sections; Linux's
    # sparse_init_nid() stops at the first.  Now the kernel's own work: 60 MB of boot output
    ("1 PiB hot-pluggable under movable_node", 'machine "m" { node 0 { cpus 0-3 memory 0 size 2G } node 1 { '
     'memory 4G size 1P hotpluggable } kernel at 4G size 52M cmdline "movable_node" }', "compile", "output-size",
     12, 900),
    ("memory at 2047T", 'machine "m" { node 0 { memory 2047T size 1G } }', "compile", None, 2, 512),
    ("2^18 CPUs in one node", 'machine "c" { node 0 { cpus 0-262143 memory 0 size 1G } }', "compile", "output-size",
     5, 900),
    ("2^18 CPUs in one node", 'machine "c" { node 0 { cpus 0-262143 memory 0 size 1G } }', "check", None, 5, 900),
    ("16 nodes of 2^18 CPUs", 'machine "c" { ' + " ".join(
        f"node {i} {{ cpus {i << 18}-{((i + 1) << 18) - 1} memory {i << 30:#x} size 1G }}" for i in range(16))
     + " }", "check", "field-range", 5, 900),
    # before: > 100 s (QEMU's socket-split warning compared every CPU with every other)
    ("a socket split over 2 nodes of 10^4 CPUs", 'machine "c" { board qemu-q35 accel kvm topology sockets 1 cores '
     '20000 threads 1 node 0 { cpus 0-9999 memory size 1G } node 1 { cpus 10000-19999 memory size 1G } }',
     "check", "qemu-x2apic", 5, 512),
    # before: 3.4 s (the initrd check and QEMU's plan encoded the SRAT of QEMU refuses anyway)
    ("2^18 CPUs on q35 with an SRAT override", 'machine "c" { board qemu-q35 node 0 { cpus 0-262142 memory size 1G '
     '} node 1 { memory size 1G } initrd at 512M size 8M { override srat } }', "check", "qemu-x2apic", 5, 900),
]


def costly_target(text: str, what: str, expect_error: str | None) -> Callable[[], None]:
    """Check or compile ``text`` (every backend, outputs kept in memory); a Finding unless the
    errors are exactly ``expect_error`` (or none)."""
    def target() -> None:
        from fwc import Fwc

        f = Fwc()
        r = f.check(text=text, name="m.fwc") if what == "check" else f.compile(text=text, name="m.fwc")
        if r.internal_error:
            raise Finding(r.render_diagnostics()[-2000:])
        names = sorted({d.check for d in r.errors})
        if names != ([expect_error] if expect_error else []):
            raise Finding(f"expected {expect_error or 'no error'}, got {names}")
    return target


class Finding(Exception):
    """A defect the target found without an exception (an internal-error, an escape char...)."""


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _no_controls(text: str, what: str) -> None:
    """A human-readable output must show control characters as ``\\x1b`` (rich's own SGR
    colour sequences aside)."""
    bare = _SGR.sub("", text)
    if any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in bare):
        raise Finding(f"a control character in {what}: " + json.dumps(bare[:400]))


def _judge(r: Any) -> None:
    text = r.render_diagnostics()
    if r.internal_error:
        raise Finding(text[-3000:])
    _no_controls(text, "rendered diagnostics")


def show(machine: Any, boot_json: bytes | None = None) -> None:
    """``fwc show`` of ``machine``, on a terminal (colours) and piped: no control character."""
    import io

    from rich.console import Console

    from fwc.show import render

    boot = json.loads(boot_json) if boot_json else None
    for terminal in (True, False):
        out = io.StringIO()
        render(machine, boot, Console(file=out, force_terminal=terminal, width=80, color_system="truecolor",
                                      highlight=False, soft_wrap=not terminal))
        _no_controls(out.getvalue(), "fwc show")


def compile_description(text: str, workdir: str, backends: list[str] | None = None,
                        options: dict[str, str] | None = None) -> None:
    """The description target: compile with every backend (includes resolve in ``workdir``;
    ``options`` such as ``boot.kernel=6.12``), then ``fwc show`` the machine."""
    from fwc import Fwc

    os.chdir(workdir)
    r = Fwc().compile(text=text, name="fuzz.fwc", backends=backends, options=options)
    _judge(r)
    boot_json = None
    for a in r.artifacts:
        if a.path.endswith(".svg"):
            from xml.dom.minidom import parseString

            parseString(a.data)
        elif a.path.endswith(".json"):
            json.loads(a.data)
            boot_json = a.data if a.path == "boot/boot.json" else boot_json
        elif a.path.endswith((".txt", ".log", ".dsl")):
            _no_controls(a.data.decode("utf-8"), a.path)
    if r.machine is not None:
        show(r.machine, boot_json)


def decompile_paths(paths: list[str]) -> None:
    """The binary target: decompile; a description it prints must compile."""
    from fwc import Fwc

    r = Fwc().decompile(paths)
    _judge(r)
    if r.text is not None:
        back = Fwc().compile(text=r.text, name="decompiled.fwc", backends=["acpi", "model"])
        _judge(back)
        if not back.ok:
            raise Finding("fwc decompile printed a description that does not compile:\n" +
                          back.render_diagnostics()[:2000] + "\n---\n" + r.text[:2000])
        show(back.machine)


def include_fixtures(workdir: str) -> None:
    """Files the generated ``include "a.fwc"`` / ``override "srat.aml"`` statements find."""
    files = {"a.fwc": "let X = 1G\n", "b.fwc": 'include "a.fwc"\ninclude "a.fwc"\n', "x": "",
             "m": 'machine "m" { node 0 { memory 0 size 1G } }\n'}
    for name, text in files.items():
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
    with open(os.path.join(workdir, "srat.aml"), "wb") as f:
        f.write(struct.pack("<4sIBB6s8sI4sI", b"SRAT", 36, 3, 0, b"FWCOEM", b"FWCTABLE", 1, b"FWC ", 1))


def kernel_option(rng: random.Random) -> dict[str, str]:
    """A third of the descriptions boot the simulated Linux 6.12 (``-O boot.kernel=6.12``)."""
    return {"boot.kernel": "6.12"} if rng.random() < 1 / 3 else {}


class Campaign:
    """One harness: ``make(rng, workdir) -> target`` and the tally of outcomes."""

    def __init__(self, name: str, make: Callable[[random.Random, str], Callable[[], None]]) -> None:
        self.name, self.make = name, make
        self.count, self.worst_cpu, self.worst_peak = 0, 0.0, 0.0
        self.worst_cpu_seed = self.worst_peak_seed = -1
        self.findings: list[tuple[int, Outcome]] = []

    def step(self, seed: int, cpu_seconds: float = 2.0, memory_mib: int = 512) -> Outcome:
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory(prefix="fwc-fuzz-") as work:
            include_fixtures(work)
            target = self.make(rng, work)
            o = run(target, cpu_seconds, memory_mib)
        self.count += 1
        if o.cpu > self.worst_cpu:
            self.worst_cpu, self.worst_cpu_seed = o.cpu, seed
        if o.peak_mib > self.worst_peak:
            self.worst_peak, self.worst_peak_seed = o.peak_mib, seed
        if not o.ok:
            self.findings.append((seed, o))
        return o


def campaigns() -> list[Campaign]:
    """The four harnesses, their seeds loaded once."""
    grammar = Grammar()
    pool = token_pool()
    seeds = []
    for p in EXAMPLES:
        with open(p, encoding="utf-8") as f:
            seeds.append(f.read())
    sets = table_sets()
    dumps = [render_dump(s) for s in sets]

    def generated(rng: random.Random, work: str) -> Callable[[], None]:
        if rng.random() < 0.5:   # whole files: the front end's every rule
            text = (PRELUDE if rng.random() < 0.5 else "") + grammar.generate(rng, "start", depth=rng.randint(6, 16))
        else:                    # generated statements in an example's machine: the backends
            text = grow_example(grammar, rng, seeds)
        opts = kernel_option(rng)
        return lambda: compile_description(text, work, options=opts)

    def mutated(rng: random.Random, work: str) -> Callable[[], None]:
        text = mutate_tokens(rng, rng.choice(seeds), pool)
        opts = kernel_option(rng)
        return lambda: compile_description(text, work, options=opts)

    def tables(rng: random.Random, work: str) -> Callable[[], None]:
        s = rng.choice(sets)
        paths = []
        for name, data in s.items():
            p = os.path.join(work, name + ".aml")
            with open(p, "wb") as f:
                f.write(mutate_table(rng, data) if rng.random() < 0.5 else data)
            paths.append(p)
        return lambda: decompile_paths(paths)

    def dump_or_dir(rng: random.Random, work: str) -> Callable[[], None]:
        i = rng.randrange(len(sets))
        if rng.random() < 0.5:
            p = os.path.join(work, "acpidump.txt")
            with open(p, "w", encoding="latin-1") as f:
                f.write(mutate_dump(rng, dumps[i]).encode("latin-1", "replace").decode("latin-1"))
        else:
            p = os.path.join(work, "tables")
            make_directory(rng, sets[i], p)
        return lambda: decompile_paths([p])

    return [Campaign("grammar", generated), Campaign("tokens", mutated), Campaign("tables", tables),
            Campaign("acpidump+dirs", dump_or_dir)]
