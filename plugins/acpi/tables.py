"""From the machine model to SRAT, SLIT and MADT records, through the mapping declared in
:mod:`.model_map` (``decompile`` reads records back through the same declarations).

One writer, two entry orders:

* **QEMU boards** write what QEMU 7.2's ``build_srat``/``build_madt`` write for the same
  machine, entry for entry: every possible CPU in APIC-ID order (SRAT flags always
  Enabled, MADT Enabled only for present CPUs), each node's memory in node order, disabled
  zero entries padding the memory entries to ``nodes + 2``, then the device-memory (DIMM)
  window as one hot-pluggable entry of the last node when there are slots.
* **Other boards** write processor entries (node order, then listed order), memory entries
  (node order), GIC ITS entries, then Generic Initiator/Port entries last, since Linux
  stops calling SRAT handlers after a failing one (acpi-tables.md §8.2).

Processor UIDs are CPU indices in that order.  The SRAT Enabled bit of a CPU entry means
"this affinity is valid" and is always set (Linux ignores disabled CPU entries, which would
leave hot-added CPUs without a node); presence is the MADT's business.  CPUs without SRAT
affinity (machine-level ``cpus``) follow the node CPUs in the MADT.

A table with an entry list (``tables { srat { … } }``, :class:`fwc.model.TableEntry`) is
written in that order instead: references to the machine's CPUs, memory and ITS, the
placeholders Linux ignores, the interrupt entries and bytes in place.
"""

from __future__ import annotations

from itertools import groupby
from typing import Collection, Iterator

from fwc import boards
from fwc.model import Cpu, Machine, Node, TableEntry

from . import model_map as M
from .binary import Subtable, Table
from .codec import pack_values
from .names import SratType


def header(machine: Machine, table: str, default_revision: int) -> dict:
    return {"revision": machine.table_revision(table, default_revision),
            **M.OEM.values(machine.table_oem(table))}


def ordered_cpus(machine: Machine) -> list[tuple[Node, Cpu]]:
    """(node, cpu) in table order: APIC-ID order on QEMU boards, else node then listed order."""
    pairs = [(n, c) for n in machine.nodes for c in n.cpus]
    if boards.is_qemu(machine.board):
        pairs.sort(key=lambda p: p[1].apic_id)
    return pairs


def _cpu_entry(machine: Machine, node: Node, cpu: Cpu) -> Subtable:
    if machine.arch == "arm64":
        kind = SratType.GICC_AFFINITY
    elif cpu.needs_x2apic:
        kind = SratType.X2APIC_CPU_AFFINITY
    else:
        kind = SratType.CPU_AFFINITY
    # Enabled means "this affinity is valid" (module docstring), whatever the CPU's state
    return _clock(M.SRAT_CPU[kind].record(cpu, pxm=node.pxm, enabled=True), cpu.clock_domain)


def _cpu_entries(machine: Machine, pairs: list[tuple[Node, Cpu]], packed: bool = False) -> list[Subtable]:
    """:func:`_cpu_entry` of each (node, cpu), with one generated function a subtable type
    (``packed``: see :func:`_records`)."""
    arm = machine.arch == "arm64"
    gicc, x2apic, apic = (M.SRAT_CPU[k] for k in (SratType.GICC_AFFINITY, SratType.X2APIC_CPU_AFFINITY,
                                                   SratType.CPU_AFFINITY))
    cpus = [cpu for _, cpu in pairs]
    entries = [gicc if arm else x2apic if cpu.x2apic or cpu.apic_id >= 255 else apic for cpu in cpus]  # needs_x2apic
    clocks = [cpu.clock_domain for cpu in cpus]
    # Enabled means "this affinity is valid" (module docstring), whatever the CPU's state
    out = _records(entries, cpus, ([node.pxm for node, _ in pairs], [True] * len(cpus)), ("pxm", "enabled"),
                   packed and not any(clocks))
    if any(clocks):
        for st, clock in zip(out, clocks):
            _clock(st, clock)
    return out


def _records(entries: list[M.Entry], objs: list, columns: tuple[list, ...], given: tuple[str, ...],
             packed: bool) -> list[Subtable]:
    """``entries[i].recorder(*given)(objs[i], *(c[i] for c in columns))`` for each ``i``.
    ``packed`` (the encoder's case): a run of one entry whose records are plain integers is
    instead one subtable of raw bytes, those the encoder writes for them, made without the
    records (:meth:`~.model_map.Entry.flat`, :func:`~.codec.pack_values`)."""
    out: list[Subtable] = []
    i = 0
    for e, group in groupby(entries):  # (entries compare by identity)
        k = len(list(group))
        run, cols = objs[i:i + k], [c[i:i + k] for c in columns]
        i += k
        if packed and k > 1:
            flat = e.flat(*given)
            data = pack_values(e.struct, flat(run, *cols)) if flat is not None else None
            if data is not None and e.type is not None:
                out.append(Subtable(e.type, None, raw=data))
                continue
        out += map(e.recorder(*given), run, *cols)
    return out


def _clock(st: Subtable, clock_domain: int) -> Subtable:
    """A processor affinity entry with its clock domain (a field of the entry, not of the model
    mapping: most descriptions never give one)."""
    if clock_domain:
        assert st.fields is not None
        st.fields["clock_domain"] = clock_domain
    return st


def _cpu_kind(machine: Machine, x2apic: bool) -> int:
    if machine.arch == "arm64":
        return SratType.GICC_AFFINITY
    return SratType.X2APIC_CPU_AFFINITY if x2apic else SratType.CPU_AFFINITY


def _listed(machine: Machine, name: str) -> tuple[TableEntry, ...] | None:
    o = machine.table_overrides.get(name)
    return o.entries if o is not None else None


def _srat_listed(machine: Machine, listed: tuple[TableEntry, ...]) -> Iterator[Subtable]:
    """SRAT entries in the order of an entry list (references resolved by :func:`check_entries`)."""
    cpus = {c.apic_id: (n, c) for n in machine.nodes for c in n.cpus}
    memory = {r.base: (n, r) for n in machine.nodes for r in n.memory if not r.dimm}
    its = {i.id: (n, i) for n in machine.nodes for i in n.its}
    for e in listed:
        if e.kind == "cpus":
            for i in e.ids:
                n, c = cpus[i]
                yield _cpu_entry(machine, n, c)
        elif e.kind == "placeholder-cpus":
            for i in e.ids:
                entry = M.SRAT_CPU[_cpu_kind(machine, e.x2apic or i > 255)]
                yield _clock(entry.record(apic_id=i, pxm=e.pxm, enabled=e.enabled), e.clock_domain)
        elif e.kind == "memory":
            for b in e.ids:
                n, r = memory[b]
                st = M.MEMORY.record(r, pxm=n.pxm)
                if e.reserved:
                    assert st.fields is not None
                    st.fields["reserved2"] = e.reserved
                yield st
        elif e.kind == "placeholder-memory":
            for b in e.ids:
                yield M.MEMORY.record(base=b, size=e.size, pxm=e.pxm, enabled=e.enabled,
                                      hotpluggable=e.hotpluggable, nonvolatile=e.nonvolatile)
        elif e.kind == "its":
            for i in e.ids:
                n, t = its[i]
                yield M.ITS.record(t, pxm=n.pxm)
        elif e.kind == "initiators":
            for n in machine.nodes:
                for g in n.initiators:
                    yield M.GENERIC[g.kind].record(g, pxm=n.pxm)
        elif e.kind == "bytes":
            yield Subtable.from_raw(e.data)


def _body(machine: Machine, name: str, default: dict, fields: tuple) -> dict:
    """The table's fixed body: ``default``, or the bytes a ``body`` option gives."""
    o = machine.table_overrides.get(name)
    if o is None or o.body is None:
        return default
    from .codec import struct_codec

    c = struct_codec(fields)
    return c.unpack(o.body.ljust(c.size, b"\0")[:c.size], 0)


def qemu_window(machine: Machine) -> tuple[int, int] | None:
    """(base, size) of QEMU's DIMM window, or None without slots (or without room for one:
    ``maxmem`` below the RAM, which QEMU refuses and the qemu plugin reports)."""
    w = boards.window(machine.board, [r for n in machine.nodes for r in n.boot_memory], machine.slots,
                         machine.maxmem, machine.board_options.max_ram_below_4g)
    return w if w is not None and w[1] > 0 else None


def srat(machine: Machine, packed: bool = False) -> Table | None:
    """The SRAT's records (``packed``: runs of plain entries as their bytes, :func:`_records`)."""
    from . import layout as L

    if not machine.numa and "srat" not in machine.table_overrides:
        return None  # a machine without NUMA: no SRAT

    body = _body(machine, "srat", {"table_revision": 1, "reserved": 0}, L.SRAT.body)
    listed = _listed(machine, "srat")
    if listed is not None:
        return Table("SRAT", header(machine, "srat", 3), body,
                     list(_srat_listed(machine, listed)) + _append(machine, "srat"))
    qemu = boards.is_qemu(machine.board)
    entries = _cpu_entries(machine, ordered_cpus(machine), packed)
    # (QEMU pads the memory entries to a count: one record each there)
    ranges = [(n.pxm, r) for n in machine.nodes for r in n.boot_memory]
    mem = _records([M.MEMORY] * len(ranges), [r for _, r in ranges], ([p for p, _ in ranges],), ("pxm",),
                   packed and not qemu)
    if qemu:
        # NVDIMMs (hw/acpi/nvdimm.c nvdimm_build_srat()) before the padding, in QEMU's order
        pxm = {id(r): n.pxm for n in machine.nodes for r in n.dimms}
        # a DIMM QEMU could not place (no slots or maxmem: a qemu-hotplug-memory error) has no entry
        dimms = sorted((r for n in machine.nodes for r in n.dimms if r.base >= 0), key=lambda r: r.base)
        mem += [M.MEMORY.record(r, pxm=pxm[id(r)]) for r in boards.nvdimm_srat_order(dimms)]
        while len(mem) < len(machine.nodes) + 2:
            mem.append(M.MEMORY.record(pxm=0, **M.NO_MEMORY))
        window = qemu_window(machine)
        if window and machine.nodes:
            mem.append(M.MEMORY.record(**{**M.NO_MEMORY, "pxm": machine.nodes[-1].pxm, "base": window[0],
                                          "size": window[1], "enabled": True, "hotpluggable": True}))
    entries += mem
    entries += [M.ITS.record(i, pxm=n.pxm) for n in machine.nodes for i in n.its]
    entries += [M.GENERIC[g.kind].record(g, pxm=n.pxm) for n in machine.nodes for g in n.initiators]
    entries += _append(machine, "srat")
    return Table("SRAT", header(machine, "srat", 3), body, entries)


def slit(machine: Machine, packed: bool = False) -> Table | None:
    """The SLIT's rows (``packed`` changes nothing: a SLIT has no subtables)."""
    if not machine.distances and "slit" not in machine.table_overrides:
        return None
    d = machine.distance_matrix()
    by_pxm = {n.pxm: n.id for n in machine.nodes}
    size = max(by_pxm) + 1
    ids = [by_pxm.get(j) for j in range(size)]  # the node of each proximity domain, or None
    rows = []
    for i, a in enumerate(ids):
        rows.append(bytes(d[(a, b)] if a is not None and b is not None else M.no_node_distance(i, j)
                          for j, b in enumerate(ids)))
    listed = _listed(machine, "slit") or ()
    return Table("SLIT", header(machine, "slit", 1), {}, rows, trailing=b"".join(e.data for e in listed))


def _interrupts(machine: Machine, x2: bool, start: int = 0, count: int | None = None) -> list[Subtable]:
    """The interrupt entries (statement order, else grouped by kind), ``count`` from ``start``."""
    i = machine.interrupts
    order = i.order or ([("ioapic", k) for k in range(len(i.ioapics))] + [("irq", k) for k in range(len(i.overrides))]
                        + [("nmi", k) for k in range(len(i.nmis))])
    out = []
    for kind, k in order[start:None if count is None else start + count]:
        if kind == "ioapic":
            out.append(M.IO_APIC.record(i.ioapics[k]))
        elif kind == "irq":
            out.append(M.IRQ_OVERRIDE.record(i.overrides[k]))
        else:
            nmi = i.nmis[k]
            wide = nmi.x2apic if nmi.x2apic is not None else x2 or (nmi.cpu is not None and nmi.cpu > 254)
            out.append((M.LOCAL_X2APIC_NMI if wide else M.LOCAL_APIC_NMI).record(nmi))
    return out


def _lapic(c: Cpu | None, apic_id: int, uid: int, e: TableEntry | None = None) -> Subtable:
    if c is None:  # a placeholder
        assert e is not None
        wide = e.x2apic or apic_id > 255 or uid > 255  # 0xFF placeholders are Local APIC entries
        return (M.LOCAL_X2APIC if wide else M.LOCAL_APIC).record(apic_id=apic_id, uid=uid, enabled=e.enabled,
                                                                 online_capable=e.online_capable)
    # a Local APIC entry's processor ID is one byte: from the 257th CPU on, x2APIC entries
    # (as firmware for large machines writes them; Linux accepts IDs below 255 from either)
    return (M.LOCAL_X2APIC if c.needs_x2apic or uid > 255 else M.LOCAL_APIC).record(c, uid=uid)


def madt(machine: Machine, packed: bool = False) -> Table | None:
    """The MADT's records (``packed``: runs of plain entries as their bytes, :func:`_records`)."""
    listed = _listed(machine, "madt")
    if machine.arch != "x86_64" and listed is None:
        return None
    node_cpus = [c for _, c in ordered_cpus(machine)] + list(machine.unaffined_cpus)
    x2 = any(c.apic_id > 254 for c in node_cpus)
    if listed is None:
        lapic, x2apic = M.LOCAL_APIC, M.LOCAL_X2APIC
        entries = _records([x2apic if c.x2apic or c.apic_id >= 255 or uid > 255 else lapic  # as _lapic (needs_x2apic)
                            for uid, c in enumerate(node_cpus)], node_cpus, (list(range(len(node_cpus))),),
                           ("uid",), packed)
        entries += _interrupts(machine, x2)
    else:
        by_id = {c.apic_id: c for c in node_cpus}
        entries, index, done = [], 0, 0
        for e in listed:
            if e.kind in ("cpus", "placeholder-cpus"):
                for k, apic in enumerate(e.ids):
                    uid = e.uids[k] if e.uids is not None else index
                    entries.append(_lapic(by_id[apic] if e.kind == "cpus" else None, apic, uid, e))
                    index += 1
            elif e.kind == "interrupts":
                more = _interrupts(machine, False, done, e.count)  # a list says which NMIs are x2APIC
                done += len(more)
                entries += more
            elif e.kind == "bytes":
                entries.append(Subtable.from_raw(e.data))
    entries += _append(machine, "madt")
    return Table("APIC", header(machine, "madt", 5), M.MADT_BODY.values(machine.interrupts), entries)


def _append(machine: Machine, name: str) -> list:
    """Subtables fwc does not model, kept as bytes after the modelled ones."""
    o = machine.table_overrides.get(name)
    return [Subtable.from_raw(o.append)] if o is not None and o.append else []


# Table names in the language, in the order they are written.
TABLES = (("srat", "SRAT", srat), ("slit", "SLIT", slit), ("madt", "APIC", madt))


def build_tables(machine: Machine, only: Collection[str] | None = None) -> dict[str, tuple[str, bytes]]:
    """``{name: (signature, bytes)}`` for every table the machine has (or those of ``only``,
    a set of signatures)."""
    from .binary import encode

    out = {}
    for name, sig, make in TABLES:
        if only is not None and sig not in only:
            continue
        o = machine.table_overrides.get(name)
        if o is not None and o.verbatim is not None:
            out[name] = (sig, o.verbatim)
            continue
        t = make(machine, packed=True)
        if t is not None:
            out[name] = (sig, encode(t))
    return out
