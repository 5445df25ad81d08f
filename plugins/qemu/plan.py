"""How a machine is realized on QEMU 7.2: the plan the argv is printed from.

``plan(machine)`` decides every piece of the command line (CPU topology and
its APIC numbering, one memdev per node, DIMM devices, distances) and, while
doing so, simulates what QEMU will build from it: the below/above-4G split,
the node ranges of QEMU's SRAT (``build_srat()``), the device-memory window
and first-fit DIMM placement.  Wherever the simulation differs from the
model, or QEMU would refuse the option, a :class:`Problem` names the check
(``qemu-*``) that reports it.  Stdlib and ``fwc.boards`` only: the checks use
it on every compile of a QEMU-board machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, NamedTuple

from fwc import boards
from fwc.boards import FOUR_G, HOLE_640K, KiB, MiB, ONE_M
from fwc.units import exact_size

if TYPE_CHECKING:
    from fwc.model import Machine

#: QEMU 7.2 limits.
MAX_NODES = 128  # hw/core/numa MAX_NODES
TCG_APIC_ID_LIMIT = 255  # apic_id_limit > 255 needs KVM's x2APIC API (pc.c/x86.c)
DIMM_ALIGN = 2 * MiB  # QEMU_VMALLOC_ALIGN: the RAM backend's region alignment on x86_64 hosts
MACHINE_MAX_CPUS = {"qemu-q35": 288, "qemu-pc": 255}


class Problem(NamedTuple):
    check: str
    message: str
    span: object = None
    notes: tuple = ()


class Memdev(NamedTuple):
    node: int
    size: int  # bytes of pc.ram this node's backend holds (0: memoryless, no backend)


class Dimm(NamedTuple):
    node: int
    base: int
    size: int
    explicit: bool  # pass addr= (QEMU's first fit would put it elsewhere)
    span: object = None


class CpuPlan(NamedTuple):
    present: int  # -smp N
    maxcpus: int
    sockets: int
    cores: int
    threads: int
    # (cpu index, apic id, node id) for every possible CPU, index order
    cpus: tuple
    whole_sockets: bool  # every socket's CPUs are in one node


class Plan(NamedTuple):
    machine_type: str
    cpu: CpuPlan | None
    ram: int
    below_4g: int
    memdevs: tuple  # Memdev per node, node-id order
    slots: int
    maxmem: int
    window: tuple | None  # (base, size) of the device-memory window
    dimms: tuple  # Dimm, emission order (address order)
    distances: tuple  # (src, dst, value), what -numa dist gets
    problems: tuple


# ---------------------------------------------------------------------------
# sizes and ranges


def fmt_size(n: int, bare_unit: str = "") -> str:
    """QEMU size syntax: the largest binary suffix that divides ``n`` exactly.

    ``-m`` reads a bare number as MiB, so a byte count gets an explicit ``B``."""
    return exact_size(n, otherwise=lambda n: f"{n}{bare_unit or 'B'}")


def human(n: int) -> str:
    return exact_size(n, iec=True)


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, adjacent-merged half-open (start, end) pairs."""
    out: list[list[int]] = []
    for s, e in sorted((s, e) for s, e in ranges if e > s):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def show_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"[{s:#x}-{e - 1:#x}]" for s, e in ranges) or "nothing"


def id_ranges(ids: Iterable[int]) -> str:
    from fwc.model import id_ranges as ranges

    return ranges(ids, ",")


def overrides_srat(m: "Machine") -> bool:
    return m.initrd is not None and any(o.table == "srat" for o in m.initrd.overrides)


# ---------------------------------------------------------------------------
# CPUs: QEMU numbers possible CPUs 0..maxcpus-1 (socket-major) and derives each
# APIC ID from the socket/core/thread ids with power-of-two bit fields
# (include/hw/i386/topology.h; dies = 1).


def _width(count: int) -> int:
    return (count - 1).bit_length() if count > 1 else 0


def topo_ids(index: int, cores: int, threads: int) -> tuple[int, int, int]:
    return index // (cores * threads), (index // threads) % cores, index % threads


def apic_id(index: int, cores: int, threads: int) -> int:
    sock, core, thread = topo_ids(index, cores, threads)
    tw = _width(threads)
    return (sock << (tw + _width(cores))) | (core << tw) | thread


def _topology_candidates(m: "Machine", n: int) -> list[tuple[int, int, int]]:
    if m.topology is not None:
        t = m.topology
        return [(t.sockets, t.cores, t.threads)]
    counts = [len(nd.cpus) for nd in m.nodes if nd.cpus]
    out = []
    if counts and len(set(counts)) == 1:
        out.append((len(counts), counts[0], 1))  # one socket per node
    if (n, 1, 1) not in out:
        out.append((n, 1, 1))  # one socket per CPU: APIC IDs 0..n-1, never split
    return out


def plan_cpus(m: "Machine", problems: list[Problem]) -> CpuPlan | None:
    pairs = sorted(((c.apic_id, n.id, c) for n in m.nodes for c in n.cpus), key=lambda t: t[0])
    n = len(pairs)
    if n == 0:
        problems.append(Problem("qemu-cpu-numbering", "the machine has no CPU; QEMU always starts at least "
                                "one (CPU 0, APIC ID 0), so give a node 'cpus 0'", m.span))
        return None
    if len({a for a, _, _ in pairs}) != n:
        return None  # duplicate-apic-id (core) reports it
    given = [a for a, _, _ in pairs]
    chosen = None
    fallback = None
    for s, c, t in _topology_candidates(m, n):
        if s * c * t != n:
            continue  # the core's 'topology' check reports it
        expected = [apic_id(i, c, t) for i in range(n)]
        if expected != given:
            if fallback is None:
                fallback = (s, c, t, expected)
            continue
        nodes_of_socket: dict[int, set] = {}
        for i, (_, nid, _) in enumerate(pairs):
            nodes_of_socket.setdefault(i // (c * t), set()).add(nid)
        whole = all(len(v) == 1 for v in nodes_of_socket.values())
        if chosen is None or (whole and not chosen[3]):
            chosen = (s, c, t, whole)
        if whole:
            break
    if chosen is None:
        if fallback is None:
            return None
        s, c, t, expected = fallback
        topo = f"sockets={s},cores={c},threads={t}"
        by_node: dict[int, list] = {}
        for (_, nid, _), want in zip(pairs, expected):
            by_node.setdefault(nid, []).append(want)
        fit = "; ".join(f"node {nid}: cpus {id_ranges(v)}" for nid, v in sorted(by_node.items()))
        bad = next(((a, w) for (a, _, _), w in zip(pairs, expected) if a != w), None)
        span = next((cpu.span for a, _, cpu in pairs if a == bad[0]), m.span) if bad else m.span
        why = ("cores and threads per socket that are powers of two number the CPUs contiguously"
               if m.topology is not None else
               "a 'topology' with power-of-two cores and threads keeps the numbering contiguous")
        problems.append(Problem(
            "qemu-cpu-numbering",
            f"QEMU cannot give these CPUs their APIC IDs: with -smp {n},{topo} it numbers them "
            f"{id_ranges(expected)} (socket, core and thread ids packed into power-of-two bit fields), "
            f"the description has {id_ranges(given)}", span,
            (f"the APIC IDs QEMU gives these nodes: {fit}", why)))
        return None
    s, c, t, whole = chosen
    # QEMU makes CPUs 0..N-1 present and the rest possible but absent (MADT flags 0).
    enabled = [cpu.enabled for _, _, cpu in pairs]
    present = sum(enabled)
    if present == 0:
        problems.append(Problem("qemu-cpu-numbering", "every CPU is disabled; QEMU starts at least one "
                                "(-smp 1): enable the CPU with the lowest APIC ID", pairs[0][2].span))
        return None
    if not all(enabled[:present]):
        first_off = next(cpu for _, _, cpu in pairs if not cpu.enabled)
        problems.append(Problem(
            "qemu-cpu-numbering",
            f"QEMU makes the first {present} CPUs present (-smp {present},maxcpus={n}) and the others "
            f"possible but absent; here disabled CPU {first_off.apic_id} lies below an enabled one",
            first_off.span,
            (f"enable APIC IDs {id_ranges(given[:present])} and disable the rest, in APIC ID order",)))
        return None
    cpus = tuple((i, a, nid) for i, (a, nid, _) in enumerate(pairs))
    return CpuPlan(present, n, s, c, t, cpus, whole)


def _cpu_problems(m: "Machine", cp: CpuPlan, problems: list[Problem]) -> None:
    top = max(a for _, a, _ in cp.cpus)
    limit = MACHINE_MAX_CPUS.get(m.board, 255)
    if top >= TCG_APIC_ID_LIMIT:
        span = next((c.span for n in m.nodes for c in n.cpus if c.apic_id == top), m.span)
        problems.append(Problem(
            "qemu-x2apic",
            f"APIC ID {top} needs x2APIC: QEMU 7.2 under TCG refuses any -smp whose highest APIC ID is "
            f"255 or more (\"current -smp configuration requires kernel irqchip and X2APIC API support\")",
            span,
            ("what fits: at most 255 possible CPUs with APIC IDs 0-254 (e.g. 'cpus 0-1' plus "
             "'cpus 2-254 disabled'); x2APIC entries can only be tried on the generic board's tables",)))
    elif cp.maxcpus > limit:
        problems.append(Problem("qemu-x2apic", f"{cp.maxcpus} possible CPUs: {m.board} allows at most {limit}",
                                m.span))
    if cp.threads > 1:
        problems.append(Problem(
            "qemu-smt",
            f"{cp.threads} threads per core: -cpu max under TCG is an AMD CPU without topoext (TCG cannot "
            "provide it), so QEMU warns \"This family of AMD CPU doesn't support hyperthreading\" and the "
            "guest may derive a different core/thread topology (APIC IDs and the SRAT are unaffected)",
            m.topology.span if m.topology is not None else m.span,
            ("'threads 1' with the same APIC IDs: e.g. twice the cores per socket",)))
    if not cp.whole_sockets:
        split = sorted({i // (cp.cores * cp.threads) for i, _, _ in cp.cpus
                        if len({nid for j, _, nid in cp.cpus
                                if j // (cp.cores * cp.threads) == i // (cp.cores * cp.threads)}) > 1})
        span = m.topology.span if m.topology is not None else m.span
        problems.append(Problem(
            "qemu-socket-split",
            f"socket{'s' if len(split) > 1 else ''} {id_ranges(split)} of -smp "
            f"{cp.present},sockets={cp.sockets},cores={cp.cores},threads={cp.threads} "
            f"span{'' if len(split) > 1 else 's'} two nodes; the guest then warns \"sched: CPU #N's llc-sibling CPU #M is not on the "
            "same node!\" and taints itself (W)", span,
            ("give each node whole sockets: 'topology sockets <nodes> cores <cpus per node> threads 1'",)))


# ---------------------------------------------------------------------------
# memory


def _node_memdevs(m: "Machine", problems: list[Problem]) -> tuple[list[Memdev] | None, int]:
    """Memdev sizes from the model's boot RAM; (memdevs, ram)."""
    boot = [(n, r) for n in m.nodes for r in n.boot_memory if r.size]
    if not boot:
        problems.append(Problem("qemu-memory-layout", "the machine has no boot RAM; QEMU needs -m (and "
                                "defaults to 128 MiB in node 0)", m.span))
        return None, 0
    if any(r.base < 0 for _, r in boot):
        return None, 0  # memory-layout (core) reports mixed layouts
    top = max(r.end for _, r in boot)
    # RAM reaching above 4 GiB implies QEMU's split low end (2 GiB q35, 3 GiB pc); the
    # layout check then verifies QEMU really splits there.
    below = boards.below_4g_of_top(m.board, top)
    spans = {}
    for n in m.nodes:
        offs = []
        for r in n.boot_memory:
            if not r.size:
                continue
            a, b = boards.phys_to_ram(r.base, below), boards.phys_to_ram(r.end - 1, below)
            if a is None:  # starts in the PCI hole: the layout check reports it
                a = below
            if b is None:
                b = below - 1
            offs.append((a, b + 1))
        if offs:
            spans[n.id] = (min(a for a, _ in offs), max(b for _, b in offs))
    memdevs, prev = [], 0
    for n in m.nodes:
        if n.id not in spans:
            memdevs.append(Memdev(n.id, 0))
            continue
        end = spans[n.id][1]
        if HOLE_640K < end < ONE_M:
            end = ONE_M  # a node never ends inside the VGA/BIOS hole in QEMU's SRAT arithmetic
        end = max(end, prev)
        memdevs.append(Memdev(n.id, end - prev))
        prev = end
    ram = prev
    return memdevs, ram


def qemu_srat_ranges(memdevs: Iterable[Memdev], below: int) -> dict[int, list[tuple[int, int]]]:
    """The node memory ranges, as (start, end), of QEMU's own SRAT for memdevs stacked in
    node order (:func:`fwc.boards.srat_ranges`)."""
    memdevs = list(memdevs)
    out: dict[int, list[tuple[int, int]]] = {}
    for md, pieces in zip(memdevs, boards.srat_ranges((md.size for md in memdevs), below)):
        out.setdefault(md.node, []).extend((b, b + s) for b, s in pieces)
    return out


def _layout_problems(m: "Machine", memdevs: list[Memdev], ram: int, below: int, problems: list[Problem]) -> None:
    qemu = qemu_srat_ranges(memdevs, below)
    size_only_hint = ("size-only memory ('memory size 2G') lets fwc lay RAM out exactly as QEMU does: "
                      "node by node in id order, [0-640K) and [1M-...) below 4 GiB, the rest from 4 GiB")
    for n in m.nodes:
        want = merge((r.base, r.end) for r in n.boot_memory if r.size)
        got = merge(qemu.get(n.id, []))
        if want != got:
            span = next((r.span for r in n.boot_memory if r.size), n.span)
            problems.append(Problem(
                "qemu-memory-layout",
                f"QEMU cannot give node {n.id} this RAM: stacking the node memdevs in id order "
                f"(-m {fmt_size(ram)}, {human(below)} below 4 GiB) gives it {show_ranges(got)}, "
                f"the description has {show_ranges(want)}", span, (size_only_hint,)))
            return
    if ram % (8 * KiB):
        problems.append(Problem("qemu-memory-layout", f"boot RAM of {ram:#x} bytes: QEMU rounds -m up to "
                                "8 KiB, so the node memdevs would not add up to it", m.span))
    for md in memdevs:
        if md.size % (4 * KiB):
            owner = m.node(md.node)
            problems.append(Problem("qemu-memory-layout", f"node {md.node}'s memdev would be {md.size:#x} "
                                    "bytes, not a whole number of 4 KiB pages", owner.span if owner else m.span))


def _dimm_problems(m: "Machine", ram: int, above: int, problems: list[Problem]
                  ) -> tuple[tuple[int, int] | None, tuple[Dimm, ...]]:
    """Slots, maxmem and DIMM addresses; returns (window, dimms)."""
    dimms = [(n, r) for n in m.nodes for r in n.dimms]
    slots, maxmem = m.slots, m.maxmem
    if slots == 0:
        if dimms:
            problems.append(Problem("qemu-hotplug-memory", "DIMMs need hotplug slots (-m ...,slots=N): "
                                    f"give 'slots {len(dimms)}' or more", dimms[0][1].span))
        elif maxmem > ram:
            problems.append(Problem("qemu-hotplug-memory",
                                    f"maxmem {human(maxmem)} without slots: QEMU refuses it (\"maxmem was "
                                    "specified, but no hotplug slots were specified\"); give 'slots N'", m.span))
        return None, ()
    if maxmem <= ram:
        problems.append(Problem("qemu-hotplug-memory",
                                f"{slots} slot(s) but maxmem {human(maxmem)} is not above the boot RAM "
                                f"({human(ram)}): QEMU refuses it (\"memory slots were specified but maximum "
                                "memory size ... is equal to the initial memory size\"); raise maxmem",
                                m.span))
        return None, ()
    if len(dimms) > slots:
        problems.append(Problem("qemu-hotplug-memory", f"{len(dimms)} DIMMs but only {slots} slots: "
                                f"give 'slots {len(dimms)}'", dimms[slots][1].span))
    base, size = boards.device_window(above, ram, slots, maxmem)
    window = (base, size)
    # Emit in address order; simulate QEMU's first fit (memory_device_get_free_addr) to decide
    # where addr= is needed.
    placed: list[tuple[int, int]] = []
    out = []
    for n, r in sorted(dimms, key=lambda x: (x[1].base, x[0].id)):
        if r.base < 0:
            problems.append(Problem("qemu-hotplug-memory", "this DIMM has no address (maxmem is below boot "
                                    "RAM plus DIMMs)", r.span))
            continue
        if r.base % DIMM_ALIGN or r.size % DIMM_ALIGN:
            problems.append(Problem("qemu-hotplug-memory", f"DIMM [{r.base:#x}-{r.end - 1:#x}]: QEMU needs "
                                    f"address and size aligned to {human(DIMM_ALIGN)}", r.span))
            continue
        if r.base < base or r.end > base + size:
            problems.append(Problem(
                "qemu-hotplug-memory",
                f"DIMM [{r.base:#x}-{r.end - 1:#x}] is outside QEMU's device-memory window "
                f"[{base:#x}-{base + size - 1:#x}] (from ROUND_UP(4 GiB + RAM above 4 GiB, 1 GiB), "
                "size maxmem - RAM + 1 GiB per slot)", r.span,
                ("leave out 'at' to have fwc place DIMMs as QEMU does, or raise maxmem/slots",)))
            continue
        auto = base
        for s, e in sorted(placed):
            if auto < e and s < auto + r.size:
                auto = (e + DIMM_ALIGN - 1) // DIMM_ALIGN * DIMM_ALIGN
        out.append(Dimm(n.id, r.base, r.size, auto != r.base, r.span))
        placed.append((r.base, r.end))
    return window, tuple(out)


def _numa_problems(m: "Machine", problems: list[Problem]) -> None:
    ids = [n.id for n in m.nodes]
    missing = sorted(set(range(max(ids) + 1)) - set(ids)) if ids else []
    if missing:
        problems.append(Problem(
            "qemu-node-ids",
            f"QEMU needs node ids 0-{max(ids)} without gaps; node {missing[0]} is missing "
            f"(QEMU: \"numa: Node ID missing: {missing[0]}\")",
            next((n.span for n in m.nodes if n.id > missing[0]), m.span),
            (f"number the nodes 0-{len(ids) - 1}; keep other proximity domains with 'pxm' and an initrd "
             "SRAT override",)))
    big = [n for n in m.nodes if n.id >= MAX_NODES]
    if big:
        problems.append(Problem("qemu-node-ids", f"node {big[0].id}: QEMU 7.2 has at most {MAX_NODES} nodes",
                                big[0].span))
    over = overrides_srat(m)
    if not over:
        for n in m.nodes:
            if n.pxm != n.id:
                problems.append(Problem(
                    "qemu-pxm",
                    f"node {n.id} has proximity domain {n.pxm}, but QEMU's SRAT uses the node id ({n.id}) "
                    "as proximity domain", n.span,
                    ("drop 'pxm', or add 'initrd ... { override srat }' so the kernel reads this machine's "
                     "SRAT (and 'override slit' for its distances)",)))
        for n in m.nodes:
            for r in n.boot_memory:
                if r.hotpluggable:
                    problems.append(Problem(
                        "qemu-hotplug-boot-ram",
                        f"node {n.id}'s boot RAM [{r.base:#x}-{r.end - 1:#x}] is hotpluggable, but QEMU's SRAT "
                        "marks only the DIMM window hotpluggable: the guest would see ordinary RAM "
                        "(no ZONE_MOVABLE from movable_node)", r.span,
                        ("add 'initrd at ... size ... { override srat }' (OEM ID and table ID as QEMU's, a "
                         "higher OEM revision) and boot with 'nokaslr'; or use a 'dimm' instead",)))
                    break
            for r in n.boot_memory:
                flags = [f for f, on in (("nonvolatile", r.nonvolatile), ("mirror", r.mirror),
                                         ("disabled", not r.enabled)) if on]
                if flags:
                    problems.append(Problem(
                        "qemu-memory-flags",
                        f"node {n.id}'s RAM [{r.base:#x}-{r.end - 1:#x}] is {', '.join(flags)}; QEMU's SRAT "
                        "marks boot RAM enabled only", r.span,
                        ("only an initrd SRAT override ('initrd ... { override srat }') can carry these "
                         "flags",)))
            if n.initiators:
                g = n.initiators[0]
                problems.append(Problem(
                    "qemu-initiators",
                    f"node {n.id} has a generic {g.kind}; QEMU 7.2 cannot put one in its SRAT "
                    "(acpi-generic-initiator arrived in QEMU 9.0)", g.span,
                    ("add 'initrd ... { override srat }' to give the guest this machine's SRAT",)))
    elif "nokaslr" not in m.params and any(r.hotpluggable for n in m.nodes for r in n.boot_memory):
        problems.append(Problem(
            "qemu-kaslr",
            "the initrd overrides the SRAT to make boot RAM hotpluggable, but the command line lacks "
            "'nokaslr': KASLR picks the kernel's address from QEMU's own SRAT before the override "
            "applies, so the kernel may land in that RAM and the node stays unmovable (2 of 3 boots)",
            m.initrd.span if m.initrd else m.span, ("add 'nokaslr' to the cmdline",)))


def distances(m: "Machine") -> tuple[tuple[int, int, int], ...]:
    """-numa dist arguments: nothing without distances; otherwise every node pair, as QEMU
    wants at least one direction of each pair (both when the matrix is asymmetric)."""
    if not m.distances or len(m.nodes) < 2:
        return ()
    d = m.distance_matrix()
    ids = [n.id for n in m.nodes]
    asym = any(d[(a, b)] != d[(b, a)] for a in ids for b in ids)
    out = []
    for a in ids:
        for b in ids:
            if a == b:
                continue
            if a < b or asym:
                out.append((a, b, d[(a, b)]))
    return tuple(out)


# ---------------------------------------------------------------------------


def plan(m: "Machine") -> Plan:
    problems: list[Problem] = []
    machine_type = boards.BOARDS[m.board].qemu_machine or ""
    _numa_problems(m, problems)
    cp = plan_cpus(m, problems)
    if cp is not None:
        _cpu_problems(m, cp, problems)
    memdevs, ram = _node_memdevs(m, problems)
    below = boards.below_4g(m.board, ram) if ram else 0
    window: tuple[int, int] | None = None
    dimms: tuple[Dimm, ...] = ()
    if memdevs is not None:
        _layout_problems(m, memdevs, ram, below, problems)
        window, dimms = _dimm_problems(m, ram, ram - below, problems)
    # slots/maxmem as described (when slots are given), so that an argv printed despite a
    # qemu-hotplug-memory error is the one QEMU refuses.
    return Plan(machine_type, cp, ram, below, tuple(memdevs or ()), m.slots,
                m.maxmem if m.slots else 0, window, dimms, distances(m), tuple(problems))


_cache: list = [None, None]


def cached_plan(m: "Machine") -> Plan:
    """The plan of ``m``, computed once for all checks of a run."""
    if _cache[0] is not m:
        _cache[0], _cache[1] = m, plan(m)
    return _cache[1]
