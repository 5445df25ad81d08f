"""fwc's own named checks on the resolved machine model, and every name fwc itself reports.

Each check is a function ``fn(machine, report)``; :data:`BUILTIN_CHECKS` gives each its
name, stable code, default level and description.  Names reported by the front end
(syntax, elaboration) and the command line are registered too, without a function, so
every name a user sees is documented and can be named on the command line.  The registry,
levels and runner live in :mod:`fwc.registry` (re-exported here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from . import boards
from .diagnostics import ERROR, WARNING, Related
from .e820 import check_e820_board, check_e820_conflict, check_e820_overlap, check_e820_uncovered
from . import events as ev
from .mistakes import check_hotplug_not_movable
from .model import LOCAL_DISTANCE
from .registry import (CODE_MAX, CODE_MIN, LEVELS, OFF, THIRD_PARTY_MIN, Check, CheckFn, CheckRegistry, Levels,
                       Report, check_group, run_checks, traceback_note)
from .units import exact_size, memparse

if TYPE_CHECKING:
    from .model import Machine

__all__ = ["BUILTIN_CHECKS", "builtin_registry", "CODE_MAX", "CODE_MIN", "LEVELS", "OFF", "THIRD_PARTY_MIN", "Check",
           "CheckFn", "CheckRegistry", "Levels", "Report", "check_group", "run_checks", "traceback_note"]


def _overlaps(items: Sequence[Any], key: Callable[[Any], tuple[int, int]] = lambda x: (x.base, x.end)
              ) -> list[tuple[Any, Any]]:
    """Pairs of overlapping items, by sweeping ranges sorted by start: O(n log n)."""
    ordered = sorted([key(x) + (i, x) for i, x in enumerate(items)])  # (i is unique: items are never compared)
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
    for e in m.e820:
        if e.size == 0:
            report(f"e820 {e.type} entry is empty (size 0)", e.span)
    for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
        if p is not None and p.size == 0:
            report(f"{what} is empty (size 0)", p.span)


def _placed(ranges: Iterable[Any]) -> list[Any]:
    """The ranges that have an address: a DIMM QEMU's window cannot take keeps none (base -1),
    and [board-memory] reports it once; no other check speaks of it."""
    return [r for r in ranges if r.base >= 0]


def check_address_width(m: "Machine", report: Report) -> None:
    limit = 1 << boards.BOARDS[m.board].max_phys_bits
    for n in m.nodes:
        for r in _placed(n.memory):
            if r.end > limit:
                report(f"memory [{r.base:#x}-{r.end - 1:#x}] ends above the {boards.BOARDS[m.board].max_phys_bits}-bit "
                       f"physical address space of board {m.board}", r.span)


def check_memory_overlap(m: "Machine", report: Report) -> None:
    ranges = [r for n in m.nodes for r in _placed(n.memory) if r.size and r.enabled]
    owner = {id(r): n for n in m.nodes for r in n.memory}
    for a, b in _overlaps(ranges):
        na, nb = owner[id(a)], owner[id(b)]
        if (na is nb or a.nonvolatile or b.nonvolatile) and (a.hotpluggable or b.hotpluggable):
            # Linux merges a node's ranges, and moves ranges without boot RAM aside before it
            # looks for overlaps (numa_cleanup_meminfo): QEMU's DIMM window over its NVDIMMs
            continue
        where = f"node {nb.id}'s" if na is not nb else "another"
        report(f"memory [{a.base:#x}-{a.end - 1:#x}] overlaps {where} range [{b.base:#x}-{b.end - 1:#x}]",
               a.span, related=(Related("the other range", b.span),))


def check_reserved_overlap(m: "Machine", report: Report) -> None:
    ram = [r for n in m.nodes for r in n.boot_memory if r.size and r.enabled] if m.reserved else []  # none to meet
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
    for c in [c for n in m.nodes for c in n.cpus] + list(m.unaffined_cpus):
        if True:
            if c.apic_id in seen:
                report(f"APIC ID {c.apic_id} is used twice", c.span,
                       related=(Related("first used here", seen[c.apic_id].span),))
            else:
                seen[c.apic_id] = c


def check_table_entries(m: "Machine", report: Report) -> None:
    """A table's entry list (``tables { srat { … } }``) names each described CPU, memory range
    and ITS of that table exactly once, and nothing else."""
    from .diagnostics import Related

    node_cpus = {c.apic_id: c for n in m.nodes for c in n.cpus}
    every_cpu = {**{c.apic_id: c for c in m.unaffined_cpus}, **node_cpus}
    wanted: dict[str, dict[str, dict[int, Any]]] = {
        "srat": {"cpus": node_cpus, "memory": {r.base: r for n in m.nodes for r in n.memory if not r.dimm},
                 "its": {i.id: i for n in m.nodes for i in n.its}},
        "madt": {"cpus": every_cpu} if m.arch == "x86_64" else {}, "slit": {},
    }
    what = {"cpus": "CPU with APIC ID", "memory": "memory range at", "its": "ITS"}
    for table, o in m.table_overrides.items():
        if o.entries is None:
            continue
        if table not in wanted:
            report(f"the {table} has no entry list (only srat, slit and madt have)", o.span)
            continue
        need = wanted[table]
        seen: dict[tuple[str, int], Any] = {}
        for e in o.entries:
            if table == "slit" and e.kind != "bytes":
                report("a SLIT's entry list holds only 'bytes' (after the matrix)", e.span)
                continue
            if e.kind not in need and e.kind in what:
                report(f"the {table} has no {e.kind} entries", e.span)
                continue
            if table == "madt" and e.kind in ("placeholder-memory", "its", "memory", "initiators"):
                report(f"the madt has no {e.kind} entries", e.span)
                continue
            if table == "srat" and e.kind == "interrupts":
                report("the srat has no interrupt entries", e.span)
                continue
            if table == "madt" and e.uids is not None and e.kind in ("cpus", "placeholder-cpus"):
                for i, uid in zip(e.ids, e.uids):
                    c = every_cpu.get(i) if e.kind == "cpus" else None
                    wide = c.needs_x2apic if c is not None else (e.x2apic or i > 255)
                    if uid > 255 and not wide:
                        report(f"processor UID {uid} does not fit the 8-bit UID of a Local APIC entry "
                               f"(APIC ID {i}); an x2APIC entry holds 32 bits", e.span)
                        break
            if e.kind not in need:
                continue
            for i in e.ids:
                shown = f"{i:#x}" if e.kind == "memory" and i >= 4096 else str(i)
                if i not in need[e.kind]:
                    hint = "; write 'placeholder' for an entry Linux ignores" if e.kind == "cpus" else ""
                    report(f"{table} entry: no {what[e.kind]} {shown} is described{hint}", e.span)
                elif (e.kind, i) in seen:
                    report(f"{table} entry: {what[e.kind]} {shown} is listed twice", e.span,
                           related=(Related("first listed here", seen[(e.kind, i)].span),))
                else:
                    seen[(e.kind, i)] = e
        if table == "madt":
            irq = m.interrupts
            total = len(irq.ioapics) + len(irq.overrides) + len(irq.nmis)
            runs = [e for e in o.entries if e.kind == "interrupts"]
            written = sum(e.count for e in runs if e.count is not None)
            if any(e.count is None for e in runs):
                written = max(written, total)
            if written != total:
                report(f"the madt entry list writes {written} interrupt entries, but the machine has {total} "
                       "ioapic, irq and nmi statements", o.span)
        for kind, items in need.items():
            for i, x in items.items():
                if (kind, i) not in seen:
                    shown = f"{i:#x}" if kind == "memory" and i >= 4096 else str(i)
                    report(f"the {table} entry list does not name the {what[kind]} {shown}", x.span or o.span)


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
        if d.src == d.dst and d.value != LOCAL_DISTANCE:
            report(f"the distance from node {d.src} to itself must be {LOCAL_DISTANCE}, not {d.value}; "
                   "Linux rejects the whole SLIT otherwise", d.span)


def check_slit_value(m: "Machine", report: Report) -> None:
    for d in m.distances:
        if d.src != d.dst and d.value <= LOCAL_DISTANCE:
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
        for r in _placed(n.memory):
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
    where = "the machine's RAM"
    if m.e820:  # the firmware memory map is given: the boot loader places into its usable RAM
        from .e820 import usable_ranges

        ram, where = usable_ranges(m), "the e820's usable RAM"
    for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
        if p is None or not p.size:
            continue
        covered = p.base
        for base, end in ram:
            if base <= covered < end:
                covered = end
        if covered < p.end:
            report(f"the {what} [{p.base:#x}-{p.end - 1:#x}] is not inside {where} "
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
    limit = m.board_options.max_ram_below_4g
    below = boards.below_4g_of_top(m.board, top, limit)
    for n, r in boot:
        if r.base < boards.ONE_M and r.end > boards.HOLE_640K:
            report(f"[{r.base:#x}-{r.end - 1:#x}] covers [0xa0000-0xfffff], which is never RAM on a PC "
                   "(VGA and BIOS area)", r.span)
        elif r.base < boards.FOUR_G and r.end > below:
            report(f"[{r.base:#x}-{r.end - 1:#x}] reaches into the PCI hole: on {m.board} with this much RAM "
                   f"QEMU puts RAM below {below:#x} and the rest from 4 GiB", r.span,
                   notes=(f"{m.board}: {boards.low_ram_rule(m.board, limit)}",))
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
        ram = boards.ram_size(m.board, [r for _, r in boot], limit)  # QEMU's -m
        if m.maxmem and m.maxmem < ram + total:
            report(f"maxmem {_size(m.maxmem)} is less than boot RAM plus DIMMs ({_size(ram)} + {_size(total)})",
                   dimm[0][1].span)
        for _, r in dimm:
            if r.base < 0:
                continue
            if r.base % boards.MEMORY_BLOCK or r.size % boards.MEMORY_BLOCK:
                report("DIMM size and address must be multiples of 128 MiB, or Linux refuses to hot-add it", r.span)
                break


def check_cmdline(m: "Machine", report: Report) -> None:
    limit = memparse(m.params.get("mem", ""))
    if limit:
        for what, p in (("kernel image", m.kernel), ("initrd", m.initrd)):
            if p is not None and p.end > limit:
                report(f"mem={m.params['mem']} drops all RAM above {limit:#x}, but the {what} ends at "
                       f"{p.end:#x}", p.span)
    for name, value in m.params.items():
        if name in ("kernelcore", "movablecore"):
            pct = value.endswith("%") and value[:-1].isdigit()
            if not (memparse(value) is not None or pct or (name == "kernelcore" and value == "mirror")):
                report(f"{name}={value} is not a size (nn[KMGTPE]), a percentage (nn%)"
                       + (" or 'mirror'" if name == "kernelcore" else ""), m.span)
        elif name == "mem" and memparse(value) is None:
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
    ("output-size", 1016, ERROR, "a compile's outputs would pass the bound (64 MiB; Fwc(max_output=))", None),
    ("e820-input", 1015, WARNING, "a memory map given to fwc decompile has a line or file fwc cannot read", None),
    ("plugin", 1012, WARNING, "a plugin failed to load or raised; the others keep working", None),
    ("backend", 1013, ERROR, "a backend failed or was misused", None),
    ("internal-error", 1090, ERROR, "fwc or one of its own plugins raised: a bug (the command exits 3)", None),
    ("empty-range", 1100, ERROR, "a memory, reserved, e820 or placement range has size 0", check_empty_range),
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
    ("e820-overlap", 1125, ERROR, "two entries of the e820 block overlap", check_e820_overlap),
    ("e820-uncovered", 1126, WARNING, "e820 usable RAM that no node's memory covers (Linux drops the SRAT)",
     check_e820_uncovered),
    ("e820-conflict", 1127, ERROR, "'reserved' statements beside an e820 block", check_e820_conflict),
    ("e820-board", 1128, WARNING, "an e820 block on a QEMU board, which builds its own", check_e820_board),
    # Events after boot (fwc/events.py)
    ("event-board", 1150, ERROR, "a DIMM hot-add on a board without DIMM slots", ev.check_event_board),
    ("event-dimm", 1151, ERROR, "an event names a DIMM that is not plugged (never added, or removed)",
     ev.check_event_dimm),
    ("event-node", 1152, ERROR, "an event names a node the machine does not have", ev.check_event_node),
    ("event-slots", 1153, ERROR, "more DIMMs plugged than the machine has slots", ev.check_event_slots),
    ("event-maxmem", 1154, ERROR, "a DIMM hot-add beyond maxmem or the DIMM window", ev.check_event_maxmem),
    ("event-address", 1155, ERROR, "a DIMM address QEMU refuses (unaligned, outside the window, overlapping)",
     ev.check_event_address),
    ("event-dimm-size", 1156, ERROR, "a DIMM or range size that is not whole 128 MiB memory blocks",
     ev.check_event_dimm_size),
    ("hotplug-not-movable", 1129, WARNING, "hot-pluggable boot memory without movable_node, kernelcore= or "
     "movablecore=: it cannot be hot-removed", check_hotplug_not_movable),
    ("memory-size", 1130, WARNING, "a memory size not a whole number of pages or below 64 KiB (a number without "
     "a unit is bytes)", None),
    # Reported by the command line itself (FWC45xx: the fwc command and fwc boot).
    ("output", 4500, ERROR, "an output file or directory cannot be written", None),
]


def builtin_registry() -> CheckRegistry:
    reg = CheckRegistry()
    for name, code, level, desc, fn in BUILTIN_CHECKS:
        reg(name, level, desc, fn, code=code)
    return reg
