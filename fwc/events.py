"""Runtime events after boot: the ``events { … }`` block.

A machine may carry a sequence of events played after boot, in order::

    events {
        set auto_online_blocks online_movable   # also online_policy, auto_movable_ratio, …
        add dimm d1 size 1G node 1          # QMP device_add of a pc-dimm (optionally 'at ADDR')
        online_movable dimm d1              # echo online_movable > memoryN/state, per block
        offline block 40-47                 # also: 'dimm NAME', 'node N', 'memory ADDR size SIZE'
        remove dimm d1                      # QMP device_del: the guest ejects it (or refuses)
    }

``online`` / ``online_kernel`` / ``online_movable`` / ``offline`` are the words Linux's
``/sys/devices/system/memory/memoryN/state`` takes.  This module builds the block (pass 3,
called from :mod:`fwc.build`), places the DIMMs as QEMU 7.2 does (:func:`dimm_plan`: first
free slot, first free address in the device-memory window) and holds the checks of a
sequence that cannot be played (registered in :mod:`fwc.checks`).  Whether a memory block
exists, and what each step does, is the boot simulator's (plugins/boot/events.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from . import boards
from .diagnostics import Related

if TYPE_CHECKING:
    from .model import Event, Machine
    from .registry import Report

__all__ = ["build_events", "dimm_plan", "DimmPlug", "check_event_dimm", "check_event_node", "check_event_slots",
           "check_event_maxmem", "check_event_dimm_size", "check_event_address", "check_event_board"]

#: MIN_MEMORY_BLOCK_SIZE (include/linux/memory.h on x86_64: one 128 MiB section): Linux adds
#: hot-plugged memory in whole blocks (mm/memory_hotplug.c check_hotplug_memory_range())
MIN_BLOCK = boards.MEMORY_BLOCK
#: QEMU 7.2 places a pc-dimm at its memory region's alignment (QEMU_VMALLOC_ALIGN: 2 MiB)
QEMU_DIMM_ALIGN = 2 << 20


#: What a ``set`` event may change at run time, and its values (() : a number): the sysfs
#: files /sys/devices/system/memory/auto_online_blocks and
#: /sys/module/memory_hotplug/parameters/* (mm/memory_hotplug.c, drivers/base/memory.c)
SETTINGS: dict[str, tuple[str, ...]] = {
    "auto_online_blocks": ("offline", "online", "online_kernel", "online_movable"),
    "online_policy": ("contig-zones", "auto-movable"),
    "auto_movable_ratio": (),
    "auto_movable_numa_aware": ("Y", "N"),
}


def build_events(el, stmt, M) -> tuple[Event, ...]:
    """The events of an ``events { … }`` statement, in the order written."""
    out = []
    for st in stmt.args["events"]:
        a = st.args
        t = a["target"]
        action = a["action"] if isinstance(a["action"], str) else a["action"].value
        kw: dict = {"action": action, "target": t.kind, "span": st.span, "target_span": t.span}
        ok = True
        if t.kind == "dimm":
            kw["name"] = t.args["name"].value
        elif t.kind == "setting":
            name, value = t.args["name"].value, a["value"].value
            ok = name in SETTINGS and (value in SETTINGS[name] or (not SETTINGS[name] and value.isdigit()))
            if not ok:
                known = ", ".join(f"{k} {'|'.join(v) or 'N'}" for k, v in SETTINGS.items())
                el.error("unknown-value", f"unknown setting 'set {name} {value}' (known: {known})", st.span)
            kw.update(name=name, value=value)
        elif t.kind == "block":
            first, last = el.eval(t.args["first"], "block number", 0), el.eval(t.args["last"], "block number", 0)
            ok = first is not None and last is not None
            if ok and last < first:
                el.error("field-range", f"block range {first}-{last} is empty (the first block is after the last)",
                         t.span)
                ok = False
            kw.update(first=first, last=last)
        elif t.kind == "node":
            kw["first"] = el.eval(t.args["id"], "node id", 0, 1 << 16)
            ok = kw["first"] is not None
        elif t.kind == "range":
            kw["base"], kw["size"] = el.eval(t.args["base"], "address"), el.eval(t.args["size"], "size")
            ok = kw["base"] is not None and kw["size"] is not None
        if action == "add":
            kw["size"] = el.eval(a["size"], "size")
            kw["node"] = el.eval(a["node"], "node id", 0, 1 << 16) if a["node"] is not None else -1
            kw["base"] = el.eval(a["at"], "address") if a["at"] is not None else -1
            ok = ok and None not in (kw["size"], kw["node"], kw["base"])
        if ok:
            out.append(M.Event(**kw))
    return tuple(out)


class DimmPlug(NamedTuple):
    """Where QEMU 7.2 puts one DIMM a machine's events add (or why it cannot)."""

    event: int          # index in machine.events
    name: str
    node: int           # QEMU's node (the model node id)
    base: int           # -1: QEMU refuses (``problem``)
    size: int
    slot: int
    problem: str = ""   # the check name of the refusal
    message: str = ""


def _boot_ranges(m: Machine):
    return [r for n in m.nodes for r in n.boot_memory]


def dimm_plan(m: Machine) -> list[DimmPlug]:
    """QEMU 7.2's placement of every DIMM the events add, in event order: the first free slot
    (hw/mem/pc-dimm.c), and ``at`` or the first gap of the device-memory window that fits
    (hw/mem/memory-device.c memory_device_get_free_addr()); cold-plugged DIMMs hold their
    slots and addresses.  A refusal (no slot, beyond maxmem, no room) has base -1."""
    out: list[DimmPlug] = []
    win = boards.window(m.board, _boot_ranges(m), m.slots, m.maxmem) if boards.is_qemu(m.board) else None
    ram = boards.ram_size(m.board, _boot_ranges(m)) if boards.is_qemu(m.board) else 0
    present: dict[str, tuple[int, int, int]] = {}  # name -> (base, size, slot)
    cold = [(r.base, r.size) for _, r in m.memory if r.dimm]
    cold_slots = set(range(len(cold)))
    for i, e in enumerate(m.events):
        if e.action == "remove":
            present.pop(e.name, None)
            continue
        if e.action != "add" or e.name in present:
            continue
        node = e.node if e.node >= 0 else 0
        used_slots = cold_slots | {s for _, _, s in present.values()}
        slot = next((s for s in range(m.slots) if s not in used_slots), -1)
        taken = sorted(cold + [(b, s) for b, s, _ in present.values()])
        plugged = sum(s for _, s in taken)
        if win is None or slot < 0:
            out.append(DimmPlug(i, e.name, node, -1, e.size, -1, "event-slots",
                                f"no free slot for DIMM '{e.name}': the machine has {m.slots} slot(s), all in use"
                                if win is not None else "hot-adding a DIMM needs 'slots N maxmem SIZE' on a QEMU board"))
            continue
        if ram + plugged + e.size > m.maxmem:
            out.append(DimmPlug(i, e.name, node, -1, e.size, slot, "event-maxmem",
                                f"DIMM '{e.name}' ({_size(e.size)}) brings the memory to "
                                f"{_size(ram + plugged + e.size)}, beyond maxmem {_size(m.maxmem)}: QEMU refuses it"))
            continue
        wb, we = win[0], win[0] + win[1]
        if e.base >= 0:
            base = e.base
            clash = [b for b, s in taken if b < base + e.size and base < b + s]
            if base % MIN_BLOCK or base < wb or base + e.size > we or clash:
                why = (f"overlaps the DIMM at {clash[0]:#x}" if clash else
                       f"is not aligned to {_size(MIN_BLOCK)}" if base % MIN_BLOCK else
                       f"is outside the DIMM window [{wb:#x}-{we - 1:#x}]")
                out.append(DimmPlug(i, e.name, node, -1, e.size, slot, "event-address",
                                    f"DIMM '{e.name}' at {base:#x} {why}"))
                continue
        else:
            base = wb
            for b, s in taken:  # first fit
                if base + e.size <= b:
                    break
                base = max(base, -(-(b + s) // QEMU_DIMM_ALIGN) * QEMU_DIMM_ALIGN)
            if base + e.size > we:
                out.append(DimmPlug(i, e.name, node, -1, e.size, slot, "event-maxmem",
                                    f"no room for DIMM '{e.name}' ({_size(e.size)}) in the DIMM window"))
                continue
        present[e.name] = (base, e.size, slot)
        out.append(DimmPlug(i, e.name, node, base, e.size, slot))
    return out


def _size(n: int) -> str:
    from .units import exact_size

    return exact_size(n)


# ---------------------------------------------------------------------------
# Checks (registered in fwc.checks)


def check_event_board(m: Machine, report: Report) -> None:
    if any(e.action == "add" for e in m.events) and not boards.is_qemu(m.board):
        e = next(e for e in m.events if e.action == "add")
        report(f"hot-adding a DIMM needs a QEMU board (this machine's board is '{m.board}')", e.span)


def check_event_dimm(m: Machine, report: Report) -> None:
    present: dict[str, Event] = {}
    gone: dict[str, Event] = {}
    for e in m.events:
        if e.target != "dimm":
            continue
        if e.action == "add":
            if e.name in present:
                report(f"DIMM '{e.name}' is added again while it is plugged", e.target_span,
                       related=(Related("added here", present[e.name].span),))
            present[e.name] = e
            gone.pop(e.name, None)
            continue
        if e.name not in present:
            rel = (Related("removed here", gone[e.name].span),) if e.name in gone else ()
            what = "was removed before" if e.name in gone else "was never added"
            report(f"DIMM '{e.name}' {what}: nothing to {e.action}", e.target_span, related=rel)
        elif e.action == "remove":
            present.pop(e.name)
            gone[e.name] = e


def check_event_node(m: Machine, report: Report) -> None:
    ids = {n.id for n in m.nodes}
    for e in m.events:
        nid = e.node if e.action == "add" else e.first if e.target == "node" else None
        if nid is not None and nid >= 0 and nid not in ids:
            report(f"node {nid} is not a node of this machine (nodes: {', '.join(str(i) for i in sorted(ids))})",
                   e.span)


def _plug_problems(m: Machine, check: str, report: Report) -> None:
    if not boards.is_qemu(m.board):
        return
    for p in dimm_plan(m):
        if p.problem == check:
            report(p.message, m.events[p.event].span)


def check_event_slots(m: Machine, report: Report) -> None:
    _plug_problems(m, "event-slots", report)


def check_event_maxmem(m: Machine, report: Report) -> None:
    _plug_problems(m, "event-maxmem", report)


def check_event_address(m: Machine, report: Report) -> None:
    _plug_problems(m, "event-address", report)


def check_event_dimm_size(m: Machine, report: Report) -> None:
    for e in m.events:
        if e.action == "add" and (not e.size or e.size % MIN_BLOCK):
            report(f"DIMM '{e.name}' of {_size(e.size)}: Linux 6.1 adds memory in whole 128 MiB memory blocks "
                   "(a size QEMU plugs but the kernel refuses)" if e.size else f"DIMM '{e.name}' has size 0", e.span)
        if e.target == "range" and e.action != "add" and (not e.size or e.size % MIN_BLOCK or e.base % MIN_BLOCK):
            report("a memory range to online or offline must be whole 128 MiB memory blocks", e.target_span)
