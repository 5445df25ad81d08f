"""QEMU 7.2's CPUs for a machine: ``-smp`` topology, APIC IDs, present and absent CPUs.

QEMU numbers possible CPUs 0..maxcpus-1 (socket-major) and derives each APIC ID from the
socket/core/thread ids with power-of-two bit fields (``include/hw/i386/topology.h``;
dies = 1); the first ``-smp N`` CPUs are present.  :func:`plan_cpus` picks the topology whose
numbering gives the model's APIC IDs, :func:`cpu_problems` says what QEMU refuses or the
guest complains about.  Part of :mod:`.plan` (which calls both); stdlib and ``fwc`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, NamedTuple

from .problem import Problem

if TYPE_CHECKING:
    from fwc.model import Machine

#: QEMU 7.2 limits.
TCG_APIC_ID_LIMIT = 255  # apic_id_limit > 255 needs KVM's x2APIC API (pc.c/x86.c)
MACHINE_MAX_CPUS = {"qemu-q35": 288, "qemu-pc": 255}


class CpuPlan(NamedTuple):
    present: int  # -smp N
    maxcpus: int
    sockets: int
    cores: int
    threads: int
    # (cpu index, apic id, node id) for every possible CPU, index order
    cpus: tuple
    whole_sockets: bool  # every socket's CPUs are in one node


def id_ranges(ids: Iterable[int]) -> str:
    from fwc.model import id_ranges as ranges

    return ranges(ids, ",")


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


def cpu_problems(m: "Machine", cp: CpuPlan, problems: list[Problem]) -> None:
    top = max(a for _, a, _ in cp.cpus)
    limit = MACHINE_MAX_CPUS.get(m.board, 255)
    opts = m.board_options
    if top >= TCG_APIC_ID_LIMIT and not opts.x2apic_ok:
        span = next((c.span for n in m.nodes for c in n.cpus if c.apic_id == top), m.span)
        how = ("under TCG" if opts.accel == "tcg" else "with kernel-irqchip=off")
        problems.append(Problem(
            "qemu-x2apic",
            f"APIC ID {top} needs x2APIC: QEMU 7.2 {how} refuses any -smp whose highest APIC ID is "
            f"255 or more (\"current -smp configuration requires kernel irqchip and X2APIC API support\")",
            span,
            ("'board ... accel kvm' (KVM's in-kernel irqchip, 'on' or 'split') allows it, and QEMU then writes "
             "x2APIC SRAT/MADT entries; under TCG at most APIC IDs 0-254 (e.g. 'cpus 0-1' plus "
             "'cpus 2-254 disabled')",)))
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
        nodes_of: dict[int, set[int]] = {}  # socket -> its CPUs' nodes (one pass: linear in the CPUs)
        for i, _, nid in cp.cpus:
            nodes_of.setdefault(i // (cp.cores * cp.threads), set()).add(nid)
        split = sorted(s for s, nids in nodes_of.items() if len(nids) > 1)
        span = m.topology.span if m.topology is not None else m.span
        problems.append(Problem(
            "qemu-socket-split",
            f"socket{'s' if len(split) > 1 else ''} {id_ranges(split)} of -smp "
            f"{cp.present},sockets={cp.sockets},cores={cp.cores},threads={cp.threads} "
            f"span{'' if len(split) > 1 else 's'} two nodes; the guest then warns "
            "\"sched: CPU #N's llc-sibling CPU #M is not on the same node!\" and taints itself (W)", span,
            ("give each node whole sockets: 'topology sockets <nodes> cores <cpus per node> threads 1'",)))
