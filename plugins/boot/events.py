"""After boot: the memory blocks, cold-plugged DIMMs, and the machine's runtime events
(``events { … }``, fwc/events.py) played step by step on the simulated kernel.

Not kernel code: the driver that stands where QEMU (``device_add``/``device_del``) and the
guest's sysfs writes stand, calling the kernel functions of
:mod:`.kernel.acpi_memhotplug`, :mod:`.kernel.drivers_base_memory` and
:mod:`.kernel.memory_hotplug`.  Each step records what ``fwc boot`` reads back from the real
guest after it: the outcome of every block write, the memory blocks, the zones and the
DIMMs QEMU lists, and the zonelist lines printed meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from fwc.attrs_repr import generic_repr

from .kernel.acpi_memhotplug import acpi_memory_device_add, acpi_scan_hot_remove
from .kernel.drivers_base_memory import memory_dev_init, state_store, valid_zones_show
from .kernel.zones import KERNEL_ZONES, MAX_NR_ZONES, ZONE_NAMES

if TYPE_CHECKING:
    from fwc.model import Event

    from .kernel.state import Kernel


@generic_repr
@attrs.define(repr=False)
class Step:
    """One step: ``event`` is its text (``after boot`` for step 0)."""

    index: int
    event: str
    blocks_touched: list[int]               # the blocks the guest writes (online/offline)
    writes: list[str]                       # per block "N ok|failed|not guaranteed", or the DIMM's outcome
    detail: list[str]                       # why (failures named), for people
    blocks: list[str]                       # /sys/devices/system/memory after the step
    zones: dict[str, list[int]]             # "N Zone": [start_pfn, spanned, present, managed change]
    dimms: list[str]                        # QEMU's memory devices: "id slot=… addr=… size=… node=…"
    lines: list[str]                        # zonelist lines printed during the step
    problem: str = ""                       # an event the machine cannot play (event-block)
    span: object = attrs.field(default=None, eq=False, repr=False)
    dimm: tuple = ()                        # add: (qmp id, size, node, base or -1); remove: (qmp id,)


def event_text(e: Event) -> str:
    """The event as the description writes it."""
    if e.action == "add":
        at = f" at {e.base:#x}" if e.base >= 0 else ""
        return f"add dimm {e.name} size {_sz(e.size)}" + (f" node {e.node}" if e.node >= 0 else "") + at
    if e.action == "remove":
        return f"remove dimm {e.name}"
    if e.action == "set":
        return f"set {e.name} {e.value}"
    tgt = {"dimm": f"dimm {e.name}", "node": f"node {e.first}", "range": f"memory {e.base:#x} size {_sz(e.size)}",
           "block": f"block {e.first}" + (f"-{e.last}" if e.last != e.first else "")}[e.target]
    return f"{e.action} {tgt}"


def _sz(n: int) -> str:
    from fwc.units import exact_size

    return exact_size(n)


def qmp_id(name: str) -> str:
    """The QMP id fwc boot gives an event's DIMM (cold-plugged ones are ``dN``)."""
    return "ev-" + name


def after_boot(k: Kernel) -> None:
    """The run-time memory state at the end of boot: zones, present early pages, online
    nodes, the memory blocks (memory_dev_init()), then the cold-plugged DIMMs in slot order."""
    hp = k.hotplug
    hp.zones = {nid: [list(z) for z in zi] for nid, zi in k.zones.zone_info.items()}
    hp.present_early = {nid: [zi[z][2] if z in KERNEL_ZONES else 0 for z in range(MAX_NR_ZONES)]
                        for nid, zi in k.zones.zone_info.items()}
    numa = k.numa
    hp.online_nodes = set(numa.online) | {n for n in numa.possible if numa.node_cpus.get(n)}
    # at run time cpumask_of_node() holds the online CPUs: a node whose CPUs are all absent
    # (not present, -smp N,maxcpus=M) gets no PENALTY_FOR_NODE_WITH_CPUS in a rebuild
    present = {c.apic_id for _, c in k.machine.cpus if c.enabled}
    hp.running = {n for n, apics in numa.node_cpus.items() if present & set(apics)}
    memory_dev_init(k)
    # the ACPI memory devices in slot order (QEMU numbers the DIMMs in address order)
    cold = sorted(((n, r) for n in k.machine.nodes for r in n.dimms), key=lambda x: x[1].base)
    for slot, (n, r) in enumerate(cold):
        if r.nonvolatile:  # an NVDIMM takes a slot but is an NFIT region, not an ACPI memory device
            continue
        acpi_memory_device_add(k, f"d{slot}", n.id, r.base, r.size, slot, booting=True)
    hp.managed_delta = {}  # fwc boot compares managed pages as the change since this point


def block_rows(k: Kernel) -> list[str]:
    """fwc's rendering of /sys/devices/system/memory: ``N node=… state=… zones=…`` per block, or
    ``A-B …`` for a run of online blocks alike (an offline block's zones depend on its address:
    one row each)."""
    out = []
    for a, e, m in k.hotplug.blocks.runs():
        for mem in [m] if m.state == "online" else [k.hotplug.blocks[b] for b in range(a, e)]:
            ids = f"{a}-{e - 1}" if m.state == "online" and e - a > 1 else f"{mem.id}"
            out.append(f"{ids} node={mem.nid} state={mem.state} zones={valid_zones_show(k, mem).replace(' ', '+')}")
    return out


def zone_rows(k: Kernel) -> dict[str, list[int]]:
    """Populated zones: ``{"N ZONE": [start_pfn, spanned, present, managed change since boot]}``."""
    hp = k.hotplug
    out = {}
    for nid in sorted(hp.zones):
        for z in range(MAX_NR_ZONES):
            s, sp, pr = hp.zones[nid][z]
            if pr:
                out[f"{nid} {ZONE_NAMES[z]}"] = [s, sp, pr, hp.managed_delta.get(nid, [0] * MAX_NR_ZONES)[z]]
    return out


def dimm_rows(k: Kernel) -> list[str]:
    """QEMU's query-memory-devices, as fwc boot prints it: id, slot, address, size, node."""
    return [f"{g.name} slot={g.slot} addr={g.base:#x} size={g.size:#x} node={g.pxm}"
            for g in sorted(k.hotplug.groups.values(), key=lambda g: g.slot)]


def snapshot(k: Kernel, index: int, text: str, touched: list[int], writes: list[str], detail: list[str],
             mark: int) -> Step:
    return Step(index, text, touched, writes, detail, block_rows(k), zone_rows(k), dimm_rows(k),
                list(k.out.late[mark:]))


def set_param(k: Kernel, name: str, value: str) -> None:
    """A write to /sys/devices/system/memory/auto_online_blocks (auto_online_blocks_store(),
    drivers/base/memory.c: mhp_default_online_type) or /sys/module/memory_hotplug/parameters/."""
    import attrs as _attrs

    if name == "auto_movable_ratio":
        k.params = _attrs.evolve(k.params, auto_movable_ratio=int(value))
    elif name == "auto_movable_numa_aware":
        k.params = _attrs.evolve(k.params, auto_movable_numa_aware=value == "Y")
    elif name == "online_policy":
        k.params = _attrs.evolve(k.params, online_policy=value)
    else:
        k.params = _attrs.evolve(k.params, memhp_default_state=value)


def target_blocks(k: Kernel, e: Event) -> list[int] | None:
    """The memory blocks an online/offline event writes, in ascending order (None: a block the
    event names does not exist)."""
    hp = k.hotplug
    pages = hp.block_pages
    if e.target == "block":
        ids = list(range(e.first, e.last + 1))
    elif e.target == "dimm":
        ids = hp.blocks.ids(lambda b: b.group == qmp_id(e.name))
    elif e.target == "node":
        ids = hp.blocks.ids(lambda b: b.nid == e.first)
    else:
        ids = list(range((e.base >> 12) // pages, ((e.base + e.size) >> 12) // pages))
    return ids if all(i in hp.blocks for i in ids) else None


def play(k: Kernel, given: dict[int, set[int]] | None = None) -> list[Step]:
    """Step 0 (after boot), then one step per event.  ``given``: per step, the blocks whose *not
    guaranteed* offline succeeded on the real kernel (the prediction then follows them)."""
    from fwc.events import dimm_plan

    given = given or {}
    m = k.machine
    steps = [snapshot(k, 0, "after boot", [], [], [], len(k.out.late))]
    plugs = {p.event: p for p in dimm_plan(m)} if m.events else {}
    for i, e in enumerate(m.events, 1):
        mark = len(k.out.late)
        text = event_text(e)
        writes: list[str] = []
        detail: list[str] = []
        touched: list[int] = []
        forced = given.get(i, set())
        dimm: tuple = ()
        if e.action == "add":
            p = plugs.get(i - 1)
            if p is None or p.base < 0:
                writes.append("refused by QEMU")
                detail.append(p.message if p else "not plugged")
            else:
                dimm = (qmp_id(e.name), e.size, p.node, e.base)
                nid, ids = acpi_memory_device_add(k, qmp_id(e.name), p.node, p.base, p.size, p.slot)
                touched = ids
                writes.append(f"added blocks {ids[0]}-{ids[-1]} on node {nid}" if ids else "added")
        elif e.action == "set":
            set_param(k, e.name, e.value)
            writes.append("set ok")
        elif e.action == "remove":
            dimm = (qmp_id(e.name),)
            if qmp_id(e.name) not in k.hotplug.groups:
                writes.append("not plugged")
            else:
                outcome, why = acpi_scan_hot_remove(k, qmp_id(e.name), forced)
                writes.append({"ok": "removed", "failed": "eject refused"}.get(outcome, outcome))
                if why:
                    detail.append(why)
        else:
            found = target_blocks(k, e)
            if found is None:
                step = snapshot(k, i, text, [], [], [], mark)
                step.problem = f"'{text}': no such memory block (blocks: {_ranges(k.hotplug.blocks.runs())})"
                step.span = e.span
                steps.append(step)
                continue
            touched = found
            for bid in found:
                outcome, why = state_store(k, k.hotplug.blocks[bid], e.action, bid in forced)
                writes.append(f"{bid} {outcome}")
                if outcome != "ok" or e.action != "offline":
                    detail.append(f"block {bid}: {why}")
        step = snapshot(k, i, text, touched, writes, detail, mark)
        step.span, step.dimm = e.span, dimm
        steps.append(step)
    return steps


def _ranges(spans: list) -> str:
    """The block ids of ``(first, end, …)`` spans as ``A-B, C``."""
    out: list[list[int]] = []
    for a, e, *_ in spans:
        if out and out[-1][1] == a - 1:
            out[-1][1] = e - 1
        else:
            out.append([a, e - 1])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in out)


def block_ids(row: str) -> range:
    """The block ids of a ``block_rows()`` row (``N …`` or ``A-B …``)."""
    first, _, last = row.split(None, 1)[0].partition("-")
    return range(int(first), int(last or first) + 1)


def runs(rows: list[str]) -> list[str]:
    """Consecutive blocks with the same node, state and zones as one ``blocks A-B …`` line
    (``rows``: one per block, or per run of blocks alike as ``A-B …``)."""
    out: list[list] = []
    for row in rows:
        ids = block_ids(row)
        rest = row.split()[1:]
        if out and out[-1][1] == ids[0] - 1 and out[-1][2] == rest:
            out[-1][1] = ids[-1]
        else:
            out.append([ids[0], ids[-1], rest])
    return [f"blocks {a}-{b} {' '.join(r)}" if a != b else f"block {a} {' '.join(r)}" for a, b, r in out]
