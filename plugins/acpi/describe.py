"""Decoded SRAT, SLIT and MADT records -> machine description text (``fwc decompile``).

:func:`describe` writes one candidate description of a set of decoded tables: on a board,
with the nodes numbered in one of :data:`ORDERS`; :mod:`.decompile` tries the candidates and
proves each by compiling it back.  Every value is read through :mod:`.model_map`, the
mapping ``tables`` writes through.
"""

from __future__ import annotations

from typing import Callable

from fwc import boards

from . import model_map as M
from .binary import Table
from .entries import addr_text as _addr
from .entries import oem_text as _oem_text
from .entries import quote as _q
from .entries import size_text as _size
from .names import SratType

MODELLED = {"SRAT": "srat", "SLIT": "slit", "APIC": "madt"}


class _Node:
    def __init__(self, nid: int, pxm: int) -> None:
        self.id, self.pxm = nid, pxm
        self.cpus: list[tuple[int, str]] = []  # (apic id, flags text)
        self.lines: list[str] = []


_MEMO: dict = {}


def _memo(key: str, table: Table, make: Callable[[Table], list]) -> list:
    """``make(table)``, remembered for the last table of each key: ``decompile`` describes
    one set of tables in several ways (and :func:`forget` s them when it is done)."""
    hit = _MEMO.get(key)
    if hit is None or hit[0] is not table:
        hit = _MEMO[key] = (table, make(table))
    return hit[1]


def forget() -> None:
    """Drop what :func:`_memo` remembers: a decompile's tables do not outlive it (and the
    cyclic collector does not walk them after it)."""
    _MEMO.clear()


def _mapped(signature: str, table: Table | None) -> list:
    """[(model_map entry, model values)] for the subtables of ``table`` the model maps."""
    if table is None:
        return []
    def read(t: Table) -> list:
        by_type = {k: (e, e.reader) for k, e in M.entries_of(signature).items()}
        out: list = []
        append = out.append
        for st in t.entries:
            f = st.fields
            if f is not None:
                e = by_type.get(st.type)
                if e is not None:
                    append((e[0], e[1](f)))
        return out

    return _memo(signature, table, read)


#: a Local APIC the MADT does not list: enabled, not online-capable
_PRESENT = {"enabled": True, "online_capable": False}


# Node orders tried: fwc writes SRAT entries grouped by node (processors, then memory, then
# initiators), so a node's rank shows in whichever group it first appears in.
ORDERS = ("merged", "table", "memory", "initiator", "pxm")


def _merged_order(pxms: list[tuple[int, int]]) -> list[int]:
    """The node order consistent with every group's order of first appearance (processors,
    memory, ITS, initiators): a topological merge, ties broken by table order."""
    import heapq

    first = list(dict.fromkeys(p for _, p in pxms))
    rank = {p: i for i, p in enumerate(first)}
    after: dict[int, set] = {p: set() for p in first}
    for types in M.SRAT_GROUPS:
        seq = list(dict.fromkeys(p for t, p in pxms if t in types))
        for a, b in zip(seq, seq[1:]):
            after[b].add(a)
    waiting = {p: len(after[p]) for p in first}
    users: dict[int, list] = {}
    for b, before in after.items():
        for a in before:
            users.setdefault(a, []).append(b)
    ready = [rank[p] for p in first if not waiting[p]]
    heapq.heapify(ready)
    out = []
    while ready:
        p = first[heapq.heappop(ready)]
        out.append(p)
        for b in users.get(p, ()):
            waiting[b] -= 1
            if not waiting[b]:
                heapq.heappush(ready, rank[b])
    return out if len(out) == len(first) else first  # contradictory orders: no merge exists


def _node_order(srat: Table | None, order: str) -> list[int]:
    if srat is None:
        return []
    pxms = _memo("pxms", srat, _pxm_runs)
    if order == "merged":
        return _merged_order(pxms)
    if order == "pxm":
        return sorted({p for _, p in pxms})
    groups = {"table": tuple(M.SRAT_ENTRIES), "memory": M.SRAT_GROUPS[1], "initiator": M.SRAT_GROUPS[3]}
    seen: dict[int, None] = {}
    for types in (groups[order], tuple(M.SRAT_ENTRIES)):
        for t, p in pxms:
            if t in types and p not in seen:
                seen[p] = None
    return list(seen)


def _pxm_runs(srat: Table) -> list[tuple[int, int]]:
    """(subtable type, proximity domain) of the SRAT's mapped entries in table order, a run of
    equal pairs given once: the node orders depend only on first appearances."""
    out: list[tuple[int, int]] = []
    last = None
    for e, v in _mapped("SRAT", srat):
        pair = (e.type, v["pxm"])
        if pair != last:
            out.append(pair)
            last = pair
    return out


def describe(decoded: dict[str, Table], board: str, rsdp_address: int | None = None, name: str = "decompiled",
             order: str = "table", limit: int = 0) -> str | None:
    """Description text for decoded tables ``{signature: Table}`` on ``board`` (``limit``: its
    max-ram-below-4g), numbering nodes by ``order`` (ORDERS); None when the board cannot hold them."""
    srat, slit, madt = decoded.get("SRAT"), decoded.get("SLIT"), decoded.get("APIC")
    qemu = board.startswith("qemu-")
    first = srat or madt or slit
    lines = [f'machine {_q(name)} {{']
    if board != "generic":
        # APIC IDs of 255 or more: QEMU 7.2 built these tables under KVM (its in-kernel irqchip)
        kvm = qemu and any(v["apic_id"] >= 255 for e, v in _mapped("APIC", madt) if e in (M.LOCAL_APIC, M.LOCAL_X2APIC))
        lines.append(f"    board {board}" + (f" max-ram-below-4g {limit:#x}" if limit else "")
                     + (" accel kvm" if kvm else ""))
    arch = "x86_64"
    if is_arm(decoded):
        arch = "arm64"
        lines.append("    arch arm64")
    if first is not None:
        lines.append(f"    oem {_oem_text(first.header)}")
    opts = []
    for sig, t in (("SRAT", srat), ("SLIT", slit), ("APIC", madt)):
        if t is None or first is None:
            continue
        o = f"{MODELLED[sig]} revision {t.header['revision']}"
        if t.header != {**first.header, "revision": t.header["revision"]}:
            o += f" oem {_oem_text(t.header)}"
        raw = b"" if sig == "SLIT" else b"".join([e.raw for e in t.entries if e.raw is not None])
        if raw:
            o += f' append "{raw.hex()}"'
        opts.append(o)
    at = f" at {rsdp_address:#x}" if rsdp_address is not None and rsdp_address % 16 == 0 else ""
    if opts or at:
        lines.append(f"    tables{at} {{")
        lines += [f"        {o}" for o in opts]
        lines.append("    }")

    # Nodes: on QEMU boards the node id is the PXM; otherwise numbered by ``order``.
    nodes: dict[int, _Node] = {}

    def node(pxm: int) -> _Node:
        if pxm not in nodes:
            nid = pxm if qemu else len(nodes)
            nodes[pxm] = _Node(nid, pxm)
        return nodes[pxm]

    if not qemu:
        for pxm in _node_order(srat, order):
            node(pxm)

    present: dict = {}  # APIC ID -> the MADT entry describing it: its first enabled, else its first
    for e, v in _mapped("APIC", madt):
        if e in (M.LOCAL_APIC, M.LOCAL_X2APIC) and not (e is M.LOCAL_APIC and v["apic_id"] == 0xFF):
            if v["apic_id"] not in present or (v["enabled"] and not present[v["apic_id"]]["enabled"]):
                present[v["apic_id"]] = v
    window = None
    mem = []
    # the processor entries, each with whether it is the x2APIC one
    wide_of = {e: e.type == SratType.X2APIC_CPU_AFFINITY for e in M.SRAT_CPU.values()}
    states: dict[tuple, str] = {}  # a CPU state -> its words
    last: tuple = (None, [])  # the last proximity domain a CPU was in, its node's CPUs
    for e, v in _mapped("SRAT", srat):
        wide = wide_of.get(e)
        if wide is not None:
            apic = v["apic_id"]
            cpu = present.get(apic, _PRESENT)
            key = (cpu["enabled"], cpu["online_capable"], wide and apic < 255)
            state = states.get(key)
            if state is None:  # the words of a CPU's state, in this order
                state = states[key] = " ".join(w for w, on in zip(("disabled", "online-capable", "x2apic"),
                                                                  (not key[0], key[1], key[2])) if on)
            if v["pxm"] != last[0]:
                last = (v["pxm"], node(v["pxm"]).cpus)
            last[1].append((apic, state))
        elif e is M.MEMORY:
            mem.append(v)
        elif e is M.ITS:
            node(v["pxm"]).lines.append(f"its {v['id']}")
        elif e in (M.INITIATOR, M.PORT):
            if v["handle_type"] == "acpi":
                handle = f'acpi {_q(v["hid"])} uid {v["uid"]}'
            elif v["handle_type"] == "pci":
                d = v["devfn"]
                handle = f'pci "{v["segment"]:04x}:{v["bus"]:02x}:{d >> 3:02x}.{d & 7:x}"'
            else:
                continue
            state = ("" if v["enabled"] else " disabled") + (" arch-transactions" if v["arch_transactions"] else "")
            node(v["pxm"]).lines.append(f"{v['kind']} {handle}{state}")
    padded = 0  # QEMU pads its memory entries to nodes + 2: the padding tells the node count
    if qemu:
        # QEMU's own additions come from the board: padding and the DIMM window.
        if mem and mem[-1]["hotpluggable"] and mem[-1]["base"] >= boards.FOUR_G:
            window = mem.pop()
        entries = len(mem)
        while mem and mem[-1] == {**mem[-1], **M.NO_MEMORY, "other_flags": 0}:
            mem.pop()
        padded = entries - 2 if len(mem) < entries else 0
    nvdimms = []
    if window is not None:  # QEMU's NVDIMMs: non-volatile entries in its device-memory window
        nvdimms = [v for v in mem if v["nonvolatile"] and v["enabled"] and not v["hotpluggable"]
                   and window["base"] <= v["base"] < window["base"] + window["size"]]
        mem = [v for v in mem if not any(v is x for x in nvdimms)]
        for v in sorted(nvdimms, key=lambda v: v["base"]):
            node(v["pxm"]).lines.append(f"dimm size {_size(v['size'])} at {_addr(v['base'])} nonvolatile")
    sizes: dict[int, str] = {}
    for v in mem:
        state = "".join([" hotpluggable" if v["hotpluggable"] else "", " nonvolatile" if v["nonvolatile"] else "",
                         "" if v["enabled"] else " disabled"])
        size = sizes.get(v["size"])
        if size is None:
            size = sizes[v["size"]] = _size(v["size"])
        (nodes.get(v["pxm"]) or node(v["pxm"])).lines.append(f"memory {_addr(v['base'])} size {size}{state}")
    if window is not None:
        node(window["pxm"])
        ram = sum(v["size"] for v in mem if v["enabled"])
        ram += boards.ONE_M - boards.HOLE_640K if any(v["base"] == boards.ONE_M for v in mem) else 0
        slots = max(1, len(nvdimms))
        lines.append(f"    slots {slots} maxmem {_size(ram + window['size'] - slots * boards.GiB)}")
    if qemu and (nodes or padded):
        if max(nodes, default=0) >= 128:  # QEMU's node ids are its PXMs, below 128
            return None
        for pxm in range(max(max(nodes, default=0) + 1, padded)):
            node(pxm)
    if slit is not None:
        # Localities the SRAT never names are nodes without CPUs or memory, unless their row
        # is what fwc writes for a proximity domain without a node (10 local, 255 elsewhere).
        for i, row in enumerate(slit.entries):
            if i not in nodes and any(v != M.no_node_distance(i, j) for j, v in enumerate(row)):
                node(i)
    if not nodes:
        node(0)  # a machine has at least one node, even one the SRAT says nothing about
    # CPUs the MADT lists without SRAT affinity: machine-level 'cpus' (Linux gives them a
    # node itself); without an SRAT there is no affinity at all and they go to node 0.
    known = {apic for n in nodes.values() for apic, _ in n.cpus} if present else set()
    unaffined: list[tuple[int, str]] = []
    for apic, cpu in present.items():
        if apic not in known:
            state = " ".join(w for w, on in (("disabled", not cpu["enabled"]),
                                              ("online-capable", cpu["online_capable"])) if on)
            if srat is None:
                node(min(nodes) if nodes else 0).cpus.append((apic, state))
            else:
                unaffined.append((apic, state))
    for n in sorted(nodes.values(), key=lambda n: n.id):
        body = [f"cpus {_ids(ids)}" + (f" {state}" if state else "") for state, ids in _runs(n.cpus)]
        body += n.lines
        pxm_text = f" pxm {n.pxm}" if n.pxm != n.id else ""
        lines.append(f"    node {n.id}{pxm_text} {{")
        lines += [f"        {b}" for b in body]
        lines.append("    }")
    lines += [f"    cpus {_ids(ids)}" + (f" {state}" if state else "") for state, ids in _runs(unaffined)]

    if slit is not None:
        by_pxm = {n.pxm: n.id for n in nodes.values()}
        rows = slit.entries
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if i == j or i not in by_pxm or j not in by_pxm:
                    continue
                back = rows[j][i] if j < len(rows) and i < len(rows[j]) else None
                if i < j or back != v:
                    lines.append(f"    distance {by_pxm[i]} {by_pxm[j]} = {v}")
    if madt is not None and arch == "x86_64":
        lapic_default = M.MADT_BODY.default("lapic_address")
        lapic = M.MADT_BODY.read(madt.body)["lapic_address"] if madt.body else lapic_default
        if lapic != lapic_default:
            lines.append(f"    lapic at {lapic:#x}")
        for e, v in _mapped("APIC", madt):
            if e is M.IO_APIC:
                lines.append(f"    ioapic {v['id']} at {v['address']:#x} gsi {v['gsi_base']}")
            elif e is M.IRQ_OVERRIDE:
                lines.append(f"    irq {v['source']} gsi {v['gsi']} flags {v['flags']:#x}")
            elif e in (M.LOCAL_APIC_NMI, M.LOCAL_X2APIC_NMI):
                cpu = "all" if v["cpu"] is None else str(v["cpu"])
                lines.append(f"    nmi cpu {cpu} lint {v['lint']} flags {v['flags']:#x}")
    lines.append("}")
    return "\n".join(lines) + "\n"



def _runs(cpus: list[tuple[int, str]]) -> list[tuple[str, range]]:
    """(state, APIC IDs) of each run of CPUs in one state with consecutive rising APIC IDs."""
    out: list[tuple[str, range]] = []
    first = last = -2
    state = None
    for apic, s in cpus:
        if s != state or apic != last + 1:
            if state is not None:
                out.append((state, range(first, last + 1)))
            first, state = apic, s
        last = apic
    if state is not None:
        out.append((state, range(first, last + 1)))
    return out


def _ids(ids: range) -> str:
    """``id_ranges`` of a run of consecutive IDs: ``0-63`` (or ``7``)."""
    return str(ids[0]) if len(ids) == 1 else f"{ids[0]}-{ids[-1]}"


def qemu_limits(decoded: dict[str, Table]) -> tuple[int, ...]:
    """``max-ram-below-4g`` values to try: none, the end of the SRAT's RAM below 4 GiB, 4 GiB."""
    ends = [v["base"] + v["size"] for e, v in _mapped("SRAT", decoded.get("SRAT")) if e is M.MEMORY and v["size"]
            and not v["hotpluggable"] and v["base"] + v["size"] <= boards.FOUR_G]
    return tuple(dict.fromkeys((0, max(ends, default=0) or boards.FOUR_G, boards.FOUR_G)))


def fwc_shape(decoded: dict[str, Table]) -> bool:
    """Whether the tables can be in fwc's own order at all (a cheap test that spares compiling
    every node numbering of a table in the firmware's order): SRAT entries grouped as fwc
    groups them with every processor entry enabled, MADT processor entries first."""
    srat, madt = decoded.get("SRAT"), decoded.get("APIC")
    if srat is not None:
        rank = {t: i for i, group in enumerate(M.SRAT_GROUPS) for t in group}
        last = 0
        for e in srat.entries:
            r = rank.get(e.type, len(M.SRAT_GROUPS)) if e.fields is not None else len(M.SRAT_GROUPS)
            if r < last or (e.type in M.SRAT_CPU and e.fields is not None and not e.fields["flags"] & 1):
                return False
            last = r
    if madt is not None:
        cpu_types = (M.LOCAL_APIC.type, M.LOCAL_X2APIC.type)
        seen_other = False
        for e in madt.entries:
            if e.type in cpu_types:
                if seen_other:
                    return False
            else:
                seen_other = True
    return True


def is_arm(decoded: dict[str, Table]) -> bool:
    srat = decoded.get("SRAT")
    return srat is not None and any(t == SratType.GICC_AFFINITY for t, _ in _memo("pxms", srat, _pxm_runs))
