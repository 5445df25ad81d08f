"""Named checks on the resolved machine model (dtc's checks.c, in Python).

Each check has a kebab-case name, a stable numeric code, a default level
(``error``, ``warning`` or ``off``) and a function ``fn(machine, report)``
that calls ``report(message, span, related=(), notes=())`` for each problem.
The level, not the check, decides the severity, so ``-W``/``-E`` switches
apply uniformly.  Names reported by the front end (syntax, elaboration) are
registered too, without a function, so every name a user sees is documented
and can be named on the command line.

Plugins add checks through the ``fwc_register_checks`` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

from . import boards
from .units import exact_size
from .diagnostics import ERROR, NOTE, WARNING, Diagnostic, Related, Span

if TYPE_CHECKING:
    from .model import Machine

OFF = "off"
#: Levels a check may have.  ``note`` is for diagnostic-only names that inform (such as
#: ``qemu-board``); ``-W NAME`` makes one a warning, ``-W no-NAME`` turns it off.
LEVELS = (ERROR, WARNING, NOTE, OFF)
#: Numeric codes (shown as ``FWCnnnn``): 1000-3999 fwc itself, 4000-4999 the plugins shipped
#: with fwc (one block of 100 each), 5000-9999 every other plugin (docs/plugins.md).
CODE_MIN, CODE_MAX, THIRD_PARTY_MIN = 1000, 9999, 5000


class Report(Protocol):
    """What a check function calls for each problem it finds."""

    def __call__(self, message: str, span: Span | None = None, related: Iterable[Related] = (),
                 notes: Iterable[str] = ()) -> None: ...


#: A check function: ``fn(machine, report)``.
CheckFn = Callable[["Machine", Report], None]


class Check(NamedTuple):
    """One registered name: a check (``fn`` set) or a diagnostic-only name (``fn`` None)."""

    name: str
    code: int | None  # None: the plugin declared none (or an invalid or taken one)
    level: str
    description: str
    fn: CheckFn | None = None
    plugin: str = "fwc"
    requires: tuple[str, ...] = ()  # prerequisite checks (dtc): run only after they passed


class CheckRegistry:
    """The checks known to one fwc instance (built-ins plus plugins)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._codes: dict[int, str] = {}

    def __call__(self, name: str, level: str, description: str, fn: CheckFn | None = None, *,
                 code: int | None = None, requires: Sequence[str] = (), plugin: str = "fwc") -> Check:
        """Register a check, or with ``fn=None`` a name only a front end or backend reports.

        Raises ``ValueError`` for a taken name or code, a bad level or an out-of-range code;
        the plugin host turns that into a ``plugin`` diagnostic (docs/plugins.md)."""
        if name in self._checks:
            raise ValueError(f"check '{name}' is already registered by {self._checks[name].plugin}")
        if level not in LEVELS:
            raise ValueError(f"check '{name}': level must be one of {', '.join(LEVELS)}")
        if isinstance(requires, str):
            requires = (requires,)
        if code is not None:
            if isinstance(code, bool) or not isinstance(code, int) or not CODE_MIN <= code <= CODE_MAX:
                raise ValueError(f"check '{name}': code {code!r} is not a number from {CODE_MIN} to {CODE_MAX}")
            if code in self._codes:
                other = self._checks[self._codes[code]]
                raise ValueError(f"check '{name}': code FWC{code:04d} is already used by check '{other.name}' "
                                 f"({other.plugin})")
            self._codes[code] = name
        c = Check(name, code, level, description, fn, plugin, tuple(requires))
        self._checks[name] = c
        return c

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def get(self, name: str) -> Check | None:
        return self._checks.get(name)

    def ordered(self) -> list[Check]:
        """Checks in run order: fwc's own, then plugins' (registration order within each),
        every check after its prerequisites.  A check whose prerequisites are unknown or
        form a cycle is left out (see :meth:`problems`)."""
        out: list[Check] = []
        state: dict[str, int] = {}  # 1 visiting, 2 placed, 3 unrunnable

        def visit(c: Check) -> bool:
            s = state.get(c.name)
            if s is not None:
                return s == 2
            state[c.name] = 1
            ok = True
            for r in c.requires:
                dep = self._checks.get(r)
                if dep is None or not visit(dep):
                    ok = False
            state[c.name] = 2 if ok else 3
            if ok:
                out.append(c)
            return ok

        for c in sorted(self._checks.values(), key=lambda c: c.plugin != "fwc"):
            visit(c)
        return out

    def problems(self) -> list[tuple[Check, str]]:
        """Checks that can never run: an unknown prerequisite, or prerequisites in a cycle."""
        runnable = {c.name for c in self.ordered()}
        out = []
        for c in self:
            if c.name in runnable:
                continue
            unknown = [r for r in c.requires if r not in self._checks]
            why = (f"requires unknown check(s) {', '.join(repr(u) for u in unknown)}" if unknown
                   else "its prerequisites form a cycle or cannot run")
            out.append((c, f"check '{c.name}' {why}; it never runs"))
        return out


def check_group(analyse: Callable[["Machine"], Sequence[tuple]]) -> Callable[[str], CheckFn]:
    """Named checks that share one analysis of the machine.

    ``analyse(machine)`` returns ``[(check name, message, span[, notes]), ...]`` and runs once
    per machine; ``check_group(analyse)(name)`` is the check function for one name::

        checks = check_group(plan_problems)
        for name, code, level, desc in CHECKS:
            register(name, level, desc, checks(name), code=code)
    """
    memo: list = [None, None]

    def for_check(name: str) -> CheckFn:
        def check(machine: "Machine", report: Report) -> None:
            if memo[0] is not machine:
                memo[0], memo[1] = machine, analyse(machine)
            for p in memo[1]:
                if p[0] == name:
                    report(p[1], p[2], notes=p[3] if len(p) > 3 else ())

        check.__name__ = "check_" + name.replace("-", "_")
        return check

    return for_check


def _overlaps(items: Sequence[Any], key: Callable[[Any], tuple[int, int]] = lambda x: (x.base, x.end)
              ) -> list[tuple[Any, Any]]:
    """Pairs of overlapping items, by sweeping ranges sorted by start: O(n log n)."""
    ordered = sorted((key(x) + (i, x) for i, x in enumerate(items)), key=lambda t: (t[0], t[1], t[2]))
    out = []
    reach_end, reach_item = None, None
    for start, end, _, item in ordered:
        if end <= start:
            continue
        if reach_end is not None and start < reach_end:
            out.append((item, reach_item))
        if reach_end is None or end > reach_end:
            reach_end, reach_item = end, item
    return out


def _size(n: int) -> str:
    return exact_size(n, iec=True)


# ---------------------------------------------------------------------------
# The checks


def check_no_nodes(m: "Machine", report: Report) -> None:
    if not m.nodes:
        report("the machine has no NUMA node", m.span)


def check_empty_range(m: "Machine", report: Report) -> None:
    for n in m.nodes:
        for r in n.memory:
            if r.size == 0 and r.enabled:
                report("memory range is empty (size 0); a disabled one may be (SRAT padding)", r.span)
    for res in m.reserved:
        if res.size == 0:
            report("reserved range is empty (size 0)", res.span)
    for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
        if p is not None and p.size == 0:
            report(f"{what} is empty (size 0)", p.span)


def check_address_width(m: "Machine", report: Report) -> None:
    limit = 1 << boards.BOARDS[m.board].max_phys_bits
    for n in m.nodes:
        for r in n.memory:
            if r.end > limit:
                report(f"memory [{r.base:#x}-{r.end - 1:#x}] ends above the {boards.BOARDS[m.board].max_phys_bits}-bit "
                       f"physical address space of board {m.board}", r.span)


def check_memory_overlap(m: "Machine", report: Report) -> None:
    ranges = [r for n in m.nodes for r in n.memory if r.size and r.enabled]
    owner = {id(r): n for n in m.nodes for r in n.memory}
    for a, b in _overlaps(ranges):
        na, nb = owner[id(a)], owner[id(b)]
        where = f"node {nb.id}'s" if na is not nb else "another"
        report(f"memory [{a.base:#x}-{a.end - 1:#x}] overlaps {where} range [{b.base:#x}-{b.end - 1:#x}]",
               a.span, related=(Related("the other range", b.span),))


def check_reserved_overlap(m: "Machine", report: Report) -> None:
    ram = [r for n in m.nodes for r in n.boot_memory if r.size and r.enabled]
    for a, b in _overlaps(list(m.reserved) + ram):
        res, mem = (a, b) if hasattr(a, "type") else (b, a)
        if hasattr(res, "type") and not hasattr(mem, "type"):
            report(f"{res.type} range [{res.base:#x}-{res.end - 1:#x}] overlaps RAM; Linux's e820 sanitiser "
                   "keeps the reserved type there", res.span, related=(Related("the RAM range", mem.span),))


def check_duplicate_node(m: "Machine", report: Report) -> None:
    seen: dict[Any, Any] = {}
    for n in m.nodes:
        if n.id in seen:
            report(f"node {n.id} is defined twice", n.span, related=(Related("first defined here", seen[n.id].span),))
        else:
            seen[n.id] = n


def check_duplicate_pxm(m: "Machine", report: Report) -> None:
    seen: dict[Any, Any] = {}
    for n in m.nodes:
        if n.pxm in seen and seen[n.pxm].id != n.id:
            report(f"nodes {seen[n.pxm].id} and {n.id} share proximity domain {n.pxm}", n.span,
                   related=(Related(f"node {seen[n.pxm].id} here", seen[n.pxm].span),))
        else:
            seen.setdefault(n.pxm, n)


def check_duplicate_apic_id(m: "Machine", report: Report) -> None:
    seen: dict[Any, Any] = {}
    for n in m.nodes:
        for c in n.cpus:
            if c.apic_id in seen:
                report(f"APIC ID {c.apic_id} is used twice", c.span,
                       related=(Related("first used here", seen[c.apic_id].span),))
            else:
                seen[c.apic_id] = c


def check_distance_node(m: "Machine", report: Report) -> None:
    ids = {n.id for n in m.nodes}
    for d in m.distances:
        for nid in (d.src, d.dst):
            if nid not in ids:
                report(f"distance names node {nid}, which is not defined", d.span)
                break


def check_distance_duplicate(m: "Machine", report: Report) -> None:
    seen: dict[Any, Any] = {}
    for d in m.distances:
        key = (d.src, d.dst)
        if key in seen:
            report(f"distance {d.src} {d.dst} is given twice", d.span, related=(Related("first given here", seen[key].span),))
        else:
            seen[key] = d


def check_slit_diagonal(m: "Machine", report: Report) -> None:
    for d in m.distances:
        if d.src == d.dst and d.value != 10:
            report(f"the distance from node {d.src} to itself must be 10, not {d.value}; "
                   "Linux rejects the whole SLIT otherwise", d.span)


def check_slit_value(m: "Machine", report: Report) -> None:
    for d in m.distances:
        if d.src != d.dst and d.value <= 10:
            report(f"distance {d.value} between nodes {d.src} and {d.dst} must be above 10 "
                   "(0-9 are reserved, 10 means local); Linux rejects the whole SLIT otherwise", d.span)


SLIT_MAX_LOCALITIES = 4096


def check_slit_size(m: "Machine", report: Report) -> None:
    if m.distances and m.nodes:
        n = max(x.pxm for x in m.nodes) + 1
        if n > SLIT_MAX_LOCALITIES:
            report(f"the SLIT is indexed by proximity domain: {n} localities make it {n * n} bytes "
                   f"(fwc writes at most {SLIT_MAX_LOCALITIES}; Linux reads PXMs below 1024); use small "
                   "proximity domains", m.nodes[-1].span)


def check_srat_pxm_width(m: "Machine", report: Report) -> None:
    rev = m.table_revision("srat", 3)
    if rev >= 2:
        return
    for n in m.nodes:
        if n.pxm > 0xFF:
            report(f"proximity domain {n.pxm} does not fit the SRAT revision {rev} memory entry: Linux keeps "
                   f"only the low 8 bits (PXM {n.pxm & 0xFF}); use SRAT revision 2 or later", n.span)


def check_node_id_limit(m: "Machine", report: Report) -> None:
    for n in m.nodes:
        if n.id >= 1024:
            report(f"node id {n.id} is beyond Linux's MAX_NUMNODES (1024 with Debian's NODES_SHIFT=10)", n.span)


def check_cpu_arch(m: "Machine", report: Report) -> None:
    for n in m.nodes:
        if m.arch != "arm64":
            for i in n.its:
                report("GIC ITS entries exist only on arm64", i.span)
        else:
            for c in n.cpus:
                if c.x2apic:
                    report("x2apic does not apply to arm64 CPUs (they are GICC entries)", c.span)
                    break


def check_hotplug_alignment(m: "Machine", report: Report) -> None:
    blk = boards.MEMORY_BLOCK
    for n in m.nodes:
        for r in n.memory:
            if r.hotpluggable and r.size and (r.base % blk or r.end % blk):
                report(f"hotpluggable range [{r.base:#x}-{r.end - 1:#x}] is not aligned to the 128 MiB memory "
                       "block: Linux can only hot-remove whole blocks", r.span)


def _containing(m: "Machine", p: Any) -> Iterator[tuple[Any, Any]]:
    for n in m.nodes:
        for r in n.boot_memory:
            if r.enabled and r.base < p.end and p.base < r.end:
                yield n, r


def check_kernel_in_hotplug(m: "Machine", report: Report) -> None:
    for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
        if p is None or not p.size:
            continue
        for n, r in _containing(m, p):
            if r.hotpluggable:
                report(f"the {what} lies in hotpluggable memory of node {n.id}: Linux clears the hotplug flag of "
                       f"every node holding kernel reservations, so node {n.id} will not be movable",
                       p.span, related=(Related("the hotpluggable range", r.span),))
                break


def check_placement_memory(m: "Machine", report: Report) -> None:
    ram = sorted((r.base, r.end) for n in m.nodes for r in n.boot_memory if r.enabled and r.size)
    for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
        if p is None or not p.size:
            continue
        covered = p.base
        for base, end in ram:
            if base <= covered < end:
                covered = end
        if covered < p.end:
            report(f"the {what} [{p.base:#x}-{p.end - 1:#x}] is not inside the machine's RAM "
                   f"(no RAM at {covered:#x})", p.span)


def check_placement_overlap(m: "Machine", report: Report) -> None:
    k, i = m.kernel, m.initrd
    if k and i and k.size and i.size and k.base < i.end and i.base < k.end:
        report("the initrd overlaps the kernel image", i.span, related=(Related("the kernel image", k.span),))


def check_kernel_alignment(m: "Machine", report: Report) -> None:
    k = m.kernel
    if k is not None and k.base % (2 << 20):
        report(f"kernel load address {k.base:#x} is not aligned to 2 MiB (CONFIG_PHYSICAL_ALIGN); "
               "the boot loader will move it", k.span)


def check_override_table(m: "Machine", report: Report) -> None:
    if m.initrd is None:
        return
    seen: dict[Any, Any] = {}
    for o in m.initrd.overrides:
        key = o.table or o.file
        if key in seen:
            report(f"'{key}' is overridden twice", o.span, related=(Related("first here", seen[key].span),))
        seen[key] = o
        if o.table == "slit" and not m.distances:
            report("the initrd overrides the SLIT, but the machine has no distances", o.span)


def check_topology(m: "Machine", report: Report) -> None:
    t = m.topology
    if t is None:
        return
    n = sum(len(x.cpus) for x in m.nodes)
    if t.sockets * t.cores * t.threads != n:
        report(f"topology gives {t.sockets}x{t.cores}x{t.threads} = {t.sockets * t.cores * t.threads} CPUs, "
               f"the nodes have {n}", t.span)


def check_board_memory(m: "Machine", report: Report) -> None:
    """Memory QEMU cannot provide on this board."""
    if not boards.is_qemu(m.board):
        return
    boot = sorted(((n, r) for n in m.nodes for r in n.boot_memory if r.size), key=lambda x: x[1].base)
    if not boot:
        return
    top = max(r.end for _, r in boot)
    low_end = boards.low_ram_end(m.board)
    below = boards.below_4g_of_top(m.board, top)
    for n, r in boot:
        if r.base < boards.ONE_M and r.end > boards.HOLE_640K:
            report(f"[{r.base:#x}-{r.end - 1:#x}] covers [0xa0000-0xfffff], which is never RAM on a PC "
                   "(VGA and BIOS area)", r.span)
        elif r.base < boards.FOUR_G and r.end > below:
            report(f"[{r.base:#x}-{r.end - 1:#x}] reaches into the PCI hole: on {m.board} with this much RAM "
                   f"QEMU puts RAM below {below:#x} and the rest from 4 GiB", r.span,
                   notes=(f"{m.board}: {_size(low_end)} below 4 GiB once RAM does not fit below "
                          f"{'0xb0000000' if m.board == 'qemu-q35' else '0xe0000000'}",))
    # QEMU stacks node memory in node-id order: each node's RAM must follow the previous node's.
    order = [n.id for n, _ in boot]
    last = {}
    for i, nid in enumerate(order):
        last[nid] = i
    prev = None
    for n, r in boot:
        if prev is not None and prev.id > n.id:
            report(f"QEMU lays node memory out in node-id order: node {n.id}'s range "
                   f"[{r.base:#x}-{r.end - 1:#x}] cannot lie above node {prev.id}'s", r.span)
            break
        prev = n
    # Gaps other than the 640K-1M hole and the PCI hole cannot be produced.
    cursor = 0
    for n, r in boot:
        expect = cursor
        if expect == boards.HOLE_640K:
            expect = boards.ONE_M
        if expect == below:
            expect = boards.FOUR_G
        if r.base != expect and r.base != cursor:
            report(f"QEMU RAM is contiguous: [{r.base:#x}-{r.end - 1:#x}] should start at {expect:#x}", r.span)
            break
        cursor = r.end
    dimm = [(n, r) for n in m.nodes for r in n.dimms]
    if dimm:
        total = sum(r.size for _, r in dimm)
        ram = sum(r.size for _, r in boot)
        if m.maxmem and m.maxmem < ram + total:
            report(f"maxmem {_size(m.maxmem)} is less than boot RAM plus DIMMs ({_size(ram + total)})", dimm[0][1].span)
        for _, r in dimm:
            if r.base % boards.MEMORY_BLOCK or r.size % boards.MEMORY_BLOCK:
                report("DIMM size and address must be multiples of 128 MiB, or Linux refuses to hot-add it", r.span)
                break


def _cmdline_size(text: str) -> int | None:
    import re

    g = re.match(r"^(\d+)([KMGTPEkmgtpe]?)$", text)
    if not g:
        return None
    return int(g.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}[g.group(2).upper()]


def check_cmdline(m: "Machine", report: Report) -> None:
    import re

    limit = _cmdline_size(m.params.get("mem", ""))
    if limit:
        for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
            if p is not None and p.end > limit:
                report(f"mem={m.params['mem']} drops all RAM above {limit:#x}, but the {what} ends at "
                       f"{p.end:#x}", p.span)
    size = re.compile(r"^(\d+[KMGTPEkmgtpe]?|\d+%)$")
    for name, value in m.params.items():
        if name in ("kernelcore", "movablecore"):
            if not (size.match(value) or (name == "kernelcore" and value == "mirror")):
                report(f"{name}={value} is not a size (nn[KMGTPE]), a percentage (nn%)"
                       + (" or 'mirror'" if name == "kernelcore" else ""), m.span)
        elif name == "mem" and not re.match(r"^\d+[KMGTPEkmgtpe]?$", value):
            report(f"mem={value} is not a size", m.span)


# (name, code, default level, description, function)
BUILTIN_CHECKS = [
    ("syntax", 1000, ERROR, "the text does not follow the grammar", None),
    ("undefined-name", 1001, ERROR, "a name is used that no 'let' defines", None),
    ("redefined-name", 1002, ERROR, "a 'let' name is defined twice", None),
    ("division-by-zero", 1003, ERROR, "an expression divides by zero", None),
    ("inexact-division", 1004, ERROR, "an expression divides with a remainder", None),
    ("field-range", 1005, ERROR, "a value does not fit the field it lands in", None),
    ("include", 1006, ERROR, "an include or table file is missing, unreadable or cyclic", None),
    ("unknown-value", 1007, ERROR, "an unknown board, arch, table or e820 type", None),
    ("duplicate-statement", 1008, ERROR, "a statement that may appear once appears twice", None),
    ("misplaced-statement", 1009, ERROR, "a statement appears where it does not belong", None),
    ("no-machine", 1010, ERROR, "the file describes no machine", None),
    ("memory-layout", 1011, ERROR, "explicit and QEMU-computed memory layouts are mixed", None),
    ("bad-bytes", 1014, ERROR, "a byte string is not hexadecimal", None),
    ("plugin", 1012, WARNING, "a plugin failed to load or raised; the others keep working", None),
    ("backend", 1013, ERROR, "a backend failed or was misused", None),
    ("empty-range", 1100, ERROR, "a memory, reserved or placement range has size 0", check_empty_range),
    ("no-nodes", 1101, ERROR, "the machine has no NUMA node", check_no_nodes),
    ("memory-overlap", 1102, ERROR, "two memory ranges overlap", check_memory_overlap),
    ("reserved-overlap", 1103, WARNING, "a reserved e820 range overlaps RAM", check_reserved_overlap),
    ("duplicate-node", 1104, ERROR, "two nodes share an id", check_duplicate_node),
    ("duplicate-pxm", 1105, ERROR, "two nodes share a proximity domain", check_duplicate_pxm),
    ("duplicate-apic-id", 1106, ERROR, "two CPUs share an APIC ID", check_duplicate_apic_id),
    ("distance-node", 1107, ERROR, "a distance names an undefined node", check_distance_node),
    ("distance-duplicate", 1108, ERROR, "the same distance is given twice", check_distance_duplicate),
    ("slit-diagonal", 1109, ERROR, "a node's distance to itself is not 10", check_slit_diagonal),
    ("slit-value", 1110, ERROR, "a distance between two nodes is 10 or less", check_slit_value),
    ("slit-size", 1111, ERROR, "the SLIT would be too large for its length field", check_slit_size),
    ("srat-pxm-width", 1112, ERROR, "a proximity domain does not fit SRAT revision 1", check_srat_pxm_width),
    ("node-id-limit", 1113, ERROR, "a node id beyond Linux's MAX_NUMNODES", check_node_id_limit),
    ("address-width", 1114, ERROR, "memory beyond the board's physical address width", check_address_width),
    ("cpu-arch", 1115, ERROR, "a CPU or interrupt controller entry that the arch does not have", check_cpu_arch),
    ("hotplug-alignment", 1116, WARNING, "a hotpluggable range not aligned to the 128 MiB memory block",
     check_hotplug_alignment),
    ("kernel-in-hotplug", 1117, WARNING, "the kernel or initrd sits in hotpluggable memory", check_kernel_in_hotplug),
    ("placement-memory", 1118, ERROR, "the kernel or initrd is not inside RAM", check_placement_memory),
    ("placement-overlap", 1119, ERROR, "the kernel image and initrd overlap", check_placement_overlap),
    ("kernel-alignment", 1120, WARNING, "the kernel load address is not 2 MiB aligned", check_kernel_alignment),
    ("override-table", 1121, ERROR, "an initrd override that cannot take effect", check_override_table),
    ("topology", 1122, ERROR, "sockets x cores x threads differs from the CPU count", check_topology),
    ("board-memory", 1123, ERROR, "memory the board cannot provide", check_board_memory),
    ("cmdline", 1124, WARNING, "a malformed memory option on the kernel command line", check_cmdline),
    # Reported by the command line itself (FWC45xx: the fwc command and fwc boot).
    ("output", 4500, ERROR, "an output file or directory cannot be written", None),
]


def builtin_registry() -> CheckRegistry:
    reg = CheckRegistry()
    for name, code, level, desc, fn in BUILTIN_CHECKS:
        reg(name, level, desc, fn, code=code)
    return reg


class Levels:
    """Per-run check levels: defaults adjusted by -W / -E / --Werror.

    Enabling a check (``-W NAME``, ``-E NAME``) also enables its prerequisites that are off,
    as warnings (dtc).  Raises ``ValueError`` for an unknown name or an attempt to disable or
    downgrade a check whose default level is ``error``."""

    def __init__(self, registry: CheckRegistry, warn: Iterable[str] = (), error: Iterable[str] = (),
                 werror: bool = False) -> None:
        self.registry = registry
        self.level: dict[str, str] = {c.name: c.level for c in registry}
        self.switched: set[str] = set()  # names a switch set: their level overrides the emitter's
        problems = []
        for spec, target in [(s, WARNING) for s in warn] + [(s, ERROR) for s in error]:
            # "no-NAME" negates NAME; a check whose own name starts with "no-" ("no-nodes") is
            # named as it is, and negated as "no-no-nodes".
            neg = spec.startswith("no-") and (spec[3:] in registry or spec not in registry)
            name = spec[3:] if neg else spec
            c = registry.get(name)
            if c is None:
                problems.append(f"unknown check '{name}'")
                continue
            if c.level == ERROR and (neg or target == WARNING):
                problems.append(f"check '{name}' is an error and cannot be disabled or downgraded")
                continue
            if neg:
                self._set(name, OFF if target == WARNING else WARNING)
            else:
                self._set(name, target)
                self._enable_prerequisites(c)
        self.werror = werror
        if problems:
            raise ValueError("; ".join(problems))

    def _set(self, name: str, level: str) -> None:
        self.level[name] = level
        self.switched.add(name)

    def _enable_prerequisites(self, c: Check, seen: set[str] | None = None) -> None:
        seen = set() if seen is None else seen
        for r in c.requires:
            dep = self.registry.get(r)
            if dep is None or r in seen:
                continue
            seen.add(r)
            if self.level.get(r) == OFF:
                self._set(r, WARNING)
            self._enable_prerequisites(dep, seen)

    def apply(self, diag: Diagnostic) -> Diagnostic | None:
        """The diagnostic at its run level, or None when its check is off.

        Without a switch naming it, a diagnostic keeps the severity its emitter gave it (a
        backend may report one name as a warning here and a note there; ``ctx.run`` turns
        another backend's errors into warnings); a check whose level is ``off`` drops it.
        A switch sets the level, but never downgrades an error; ``--Werror`` makes every
        warning an error."""
        lvl = self.level.get(diag.check)
        if lvl == OFF:
            return None
        if lvl is None or diag.check not in self.switched:
            lvl = diag.severity
        if lvl in (WARNING, NOTE) and diag.severity == ERROR:
            lvl = ERROR  # never downgrade an error
        if self.werror and lvl == WARNING:
            lvl = ERROR
        return diag.with_severity(lvl) if lvl != diag.severity else diag


def _traceback(e: BaseException) -> str:
    import traceback

    return "traceback:\n" + "".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip()


def run_checks(machine: "Machine", registry: CheckRegistry, levels: Levels, debug: bool = False) -> list[Diagnostic]:
    """Run every enabled check; return its diagnostics (with their levels applied).

    fwc's own checks run first; plugins' checks (which may simulate, lay out or encode the
    machine) run only on a machine with no error so far — their implicit prerequisite, as in
    dtc.  A check with ``requires`` runs only when each prerequisite is enabled and reported
    no error (a failed prerequisite leaves a note).  A plugin check that raises is reported
    as a ``plugin`` warning and its own diagnostics are dropped: that check is disabled for
    this run, every other check and backend keeps working (``debug``: the note carries the
    traceback).  A raising fwc check is an error under its own name: a bug in fwc."""
    out: list[Diagnostic] = []
    failed: set[str] = set()  # ran and reported an error, or raised
    ran: set[str] = set()
    error_so_far = False
    for c in registry.ordered():
        if c.fn is None or levels.level.get(c.name) == OFF:
            continue
        if c.plugin != "fwc" and error_so_far:
            break
        if any(r not in ran for r in c.requires):
            continue  # a prerequisite is off (or did not run): so is this check
        bad = [r for r in c.requires if r in failed]
        if bad:
            out.append(Diagnostic(NOTE, c.name, f"check '{c.name}' skipped: its prerequisite "
                                                f"'{bad[0]}' failed"))
            continue
        mine: list[Diagnostic] = []
        level = levels.level[c.name]

        def report(message: str, span: Span | None = None, related: Iterable[Related] = (),
                   notes: Iterable[str] = (), _level: str = level, _name: str = c.name) -> None:
            mine.append(Diagnostic(_level, _name, message, span, tuple(related), tuple(notes)))

        try:
            c.fn(machine, report)
        except Exception as e:  # noqa: BLE001 - a broken check must not stop the run
            failed.add(c.name)
            ran.add(c.name)
            notes = (_traceback(e),) if debug else ()
            if c.plugin == "fwc":
                d = Diagnostic(ERROR, c.name, f"check '{c.name}' from {c.plugin} failed: "
                               f"{type(e).__name__}: {e}", None, (), notes)
                error_so_far = True
            else:
                d = Diagnostic(WARNING, "plugin", f"plugin '{c.plugin}': check '{c.name}' raised "
                                                  f"{type(e).__name__}: {e}; the check is disabled for this run",
                               None, (), notes + ("the other checks and backends keep working",))
            applied = levels.apply(d)
            if applied is not None:
                out.append(applied)
            continue
        ran.add(c.name)
        for d in mine:
            error_so_far = error_so_far or d.severity == ERROR
            applied = levels.apply(d)
            if applied is not None:
                out.append(applied)
                if applied.severity == ERROR:
                    failed.add(c.name)
    return out
