"""From the machine model to SRAT, SLIT and MADT records (and back: see ``decompile``).

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

from fwc import boards

from .binary import Subtable, Table

MEM_ENABLED, MEM_HOTPLUG, MEM_NONVOLATILE = 1, 2, 4


def header(machine, table: str, default_revision: int) -> dict:
    oem = machine.table_oem(table)
    return {"revision": machine.table_revision(table, default_revision), "oem_id": oem.id,
            "oem_table_id": oem.table_id, "oem_revision": oem.revision, "creator_id": oem.creator_id,
            "creator_revision": oem.creator_revision}


def ordered_cpus(machine):
    """(node, cpu) in table order: APIC-ID order on QEMU boards, else node then listed order."""
    pairs = [(n, c) for n in machine.nodes for c in n.cpus]
    if boards.is_qemu(machine.board):
        pairs.sort(key=lambda p: p[1].apic_id)
    return pairs


def _mem_flags(r) -> int:
    return (MEM_ENABLED if r.enabled else 0) | (MEM_HOTPLUG if r.hotpluggable else 0) | \
        (MEM_NONVOLATILE if r.nonvolatile else 0)


def _memory(pxm, base, size, flags) -> Subtable:
    return Subtable(1, {"proximity_domain": pxm, "reserved1": 0, "base_address": base,
                        "address_length": size, "reserved2": 0, "flags": flags, "reserved3": 0})


def _cpu_entry(machine, node, cpu, index) -> Subtable:
    if machine.arch == "arm64":
        return Subtable(3, {"proximity_domain": node.pxm, "acpi_processor_uid": cpu.apic_id, "flags": 1,
                            "clock_domain": 0})
    if cpu.needs_x2apic:
        return Subtable(2, {"reserved1": 0, "proximity_domain": node.pxm, "apic_id": cpu.apic_id, "flags": 1,
                            "clock_domain": 0, "reserved2": 0})
    return Subtable(0, {"proximity_domain_lo": node.pxm & 0xFF, "apic_id": cpu.apic_id, "flags": 1,
                        "local_sapic_eid": 0, "proximity_domain_hi": node.pxm >> 8, "clock_domain": 0})


def _initiator(node, g) -> Subtable:
    if g.handle_type == "acpi":
        handle, htype = {"hid": g.hid, "uid": g.uid, "reserved": 0}, 0
    else:
        handle, htype = {"segment": g.segment, "bus": g.bus, "devfn": g.devfn, "reserved": bytes(12)}, 1
    flags = (1 if g.enabled else 0) | (2 if g.arch_transactions else 0)
    return Subtable(5 if g.kind == "initiator" else 6,
                    {"reserved1": 0, "device_handle_type": htype, "proximity_domain": node.pxm,
                     "device_handle": handle, "flags": flags, "reserved2": 0})


def qemu_window(machine):
    """(base, size) of QEMU's DIMM window, or None without slots."""
    return boards.window(machine.board, [r for n in machine.nodes for r in n.boot_memory], machine.slots,
                         machine.maxmem)


def srat(machine) -> Table:
    qemu = boards.is_qemu(machine.board)
    entries = [_cpu_entry(machine, n, c, i) for i, (n, c) in enumerate(ordered_cpus(machine))]
    mem = [_memory(n.pxm, r.base, r.size, _mem_flags(r)) for n in machine.nodes for r in n.boot_memory]
    if qemu:
        while len(mem) < len(machine.nodes) + 2:
            mem.append(_memory(0, 0, 0, 0))
        window = qemu_window(machine)
        if window and machine.nodes:
            mem.append(_memory(machine.nodes[-1].pxm, window[0], window[1], MEM_ENABLED | MEM_HOTPLUG))
    entries += mem
    entries += [Subtable(4, {"proximity_domain": n.pxm, "reserved": 0, "its_id": i.id})
                for n in machine.nodes for i in n.its]
    entries += [_initiator(n, g) for n in machine.nodes for g in n.initiators]
    entries += _append(machine, "srat")
    return Table("SRAT", header(machine, "srat", 3), {"table_revision": 1, "reserved": 0}, entries)


def slit(machine) -> Table | None:
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
                row.append(10 if i == j else 0xFF)
        rows.append(bytes(row))
    return Table("SLIT", header(machine, "slit", 1), {}, rows)


def madt(machine) -> Table | None:
    if machine.arch != "x86_64":
        return None
    cpus = ordered_cpus(machine)
    entries = []
    for uid, (_, c) in enumerate(cpus):
        flags = (1 if c.enabled else 0) | (2 if c.online_capable else 0)
        if c.needs_x2apic:
            entries.append(Subtable(9, {"reserved": 0, "x2apic_id": c.apic_id, "flags": flags, "processor_uid": uid}))
        else:
            entries.append(Subtable(0, {"processor_id": uid, "apic_id": c.apic_id, "flags": flags}))
    i = machine.interrupts
    entries += [Subtable(1, {"io_apic_id": a.id, "reserved": 0, "address": a.address, "gsi_base": a.gsi_base})
                for a in i.ioapics]
    entries += [Subtable(2, {"bus": o.bus, "source_irq": o.source, "gsi": o.gsi, "flags": o.flags})
                for o in i.overrides]
    x2 = any(c.apic_id > 254 for _, c in cpus)
    for nmi in i.nmis:
        if x2 or (nmi.cpu is not None and nmi.cpu > 254):
            uid = 0xFFFFFFFF if nmi.cpu is None else nmi.cpu
            entries.append(Subtable(0x0A, {"flags": nmi.flags, "processor_uid": uid, "lint": nmi.lint, "reserved": 0}))
        else:
            entries.append(Subtable(4, {"processor_id": 0xFF if nmi.cpu is None else nmi.cpu, "flags": nmi.flags,
                                        "lint": nmi.lint}))
    entries += _append(machine, "madt")
    body = {"local_apic_address": i.lapic_address, "flags": 1 if i.pcat_compat else 0}
    return Table("APIC", header(machine, "madt", 5), body, entries)


def _append(machine, name) -> list:
    """Subtables fwc does not model, kept as bytes after the modelled ones."""
    o = machine.table_overrides.get(name)
    return [Subtable.from_raw(o.append)] if o is not None and o.append else []


# Table names in the language, in the order they are written.
TABLES = (("srat", "SRAT", srat), ("slit", "SLIT", slit), ("madt", "APIC", madt))


def build(machine, only=None) -> dict[str, tuple[str, bytes]]:
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
