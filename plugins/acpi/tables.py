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
leave hot-added CPUs without a node); presence is the MADT's business.
"""

from __future__ import annotations

from typing import Collection

from fwc import boards
from fwc.model import Cpu, Machine, Node

from . import model_map as M
from .binary import Subtable, Table
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
    return M.SRAT_CPU[kind].record(cpu, pxm=node.pxm, enabled=True)


def qemu_window(machine: Machine) -> tuple[int, int] | None:
    """(base, size) of QEMU's DIMM window, or None without slots."""
    return boards.window(machine.board, [r for n in machine.nodes for r in n.boot_memory], machine.slots,
                         machine.maxmem)


def srat(machine: Machine) -> Table:
    qemu = boards.is_qemu(machine.board)
    entries = [_cpu_entry(machine, n, c) for n, c in ordered_cpus(machine)]
    mem = [M.MEMORY.record(r, pxm=n.pxm) for n in machine.nodes for r in n.boot_memory]
    if qemu:
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
    return Table("SRAT", header(machine, "srat", 3), {"table_revision": 1, "reserved": 0}, entries)


def slit(machine: Machine) -> Table | None:
    if not machine.distances:
        return None
    d = machine.distance_matrix()
    by_pxm = {n.pxm: n.id for n in machine.nodes}
    size = max(by_pxm) + 1
    rows = []
    for i in range(size):
        row = bytearray()
        for j in range(size):
            if i in by_pxm and j in by_pxm:
                row.append(d[(by_pxm[i], by_pxm[j])])
            else:
                row.append(M.no_node_distance(i, j))
        rows.append(bytes(row))
    return Table("SLIT", header(machine, "slit", 1), {}, rows)


def madt(machine: Machine) -> Table | None:
    if machine.arch != "x86_64":
        return None
    cpus = ordered_cpus(machine)
    entries = [(M.LOCAL_X2APIC if c.needs_x2apic else M.LOCAL_APIC).record(c, uid=uid)
               for uid, (_, c) in enumerate(cpus)]
    i = machine.interrupts
    entries += [M.IO_APIC.record(a) for a in i.ioapics]
    entries += [M.IRQ_OVERRIDE.record(o) for o in i.overrides]
    x2 = any(c.apic_id > 254 for _, c in cpus)
    entries += [(M.LOCAL_X2APIC_NMI if x2 or (nmi.cpu is not None and nmi.cpu > 254) else M.LOCAL_APIC_NMI)
                .record(nmi) for nmi in i.nmis]
    entries += _append(machine, "madt")
    return Table("APIC", header(machine, "madt", 5), M.MADT_BODY.values(i), entries)


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
        t = make(machine)
        if t is not None:
            out[name] = (sig, encode(t))
    return out
