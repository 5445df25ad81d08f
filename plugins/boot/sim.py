"""Linux x86_64 early boot (6.1 or 6.12), simulated: e820 -> memblock -> SRAT -> NUMA -> zones.

The simulation itself is the package
:mod:`fwc_plugins.boot.kernel`, one module per kernel source file; this module is its
entry point: ``simulate(machine, policy=...)`` returns a :class:`Boot` holding the dmesg
lines, the memblock debug log, the final memblock state, the zone table, every kernel
allocation with its purpose, and the pinned hotplug nodes.

Policies (:mod:`.kernel.policy`): ``upstream`` (Linux 6.1) and ``seed`` (the 2013
``movablecore=acpi`` patch set).  Kernels (:mod:`.kernel.version`): ``kernel="6.1"`` (the
default) or ``"6.12"`` (:mod:`.kernel612` overrides the steps that differ).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from fwc.attrs_repr import generic_repr

from . import firmware as fwmod
from .kernel.cmdline import KernelParams, parse_early_options
from .kernel.main import start_kernel
from .events import Step, after_boot, play
from .kernel.pins import Pin, find_pins
from .kernel.policy import policy_named
from .kernel.state import Alloc, BootLog, Kernel, OutputBound, ZoneInfo
from .kernel.memory_hotplug import ONLINE_STATES
from .kernel.version import DEFAULT_KERNEL, KERNELS, kernel_named, kernel_of
from .kernel.zones import ZONE_NAMES
from .kernel_build import BUILDS, DEBIAN_6_1, KernelBuild
from .memblock import Memblock

if TYPE_CHECKING:
    from fwc.model import Machine

__all__ = ["Alloc", "Boot", "KERNELS", "OutputBound", "Step", "simulate"]

#: (nid, zone name, start_pfn, spanned, present) of a populated zone
ZoneRow = tuple[int, str, int, int, int]


@generic_repr
@attrs.define(eq=False, repr=False)
class Boot:
    """The result of one simulated boot."""

    policy: str
    cmdline: str
    kernel: str                          # the kernel version simulated ("6.1", "6.12")
    params: KernelParams
    dmesg: list[str]                     # early boot, up to build_all_zonelists()
    log: list[str]                       # memblock=debug lines and '# ' notes
    allocs: list[Alloc]
    notes: list[str]                     # what fwc assumed
    memblock: Memblock                   # final state
    acpi_tables: dict[str, bytes]        # signature -> the table Linux reads (after the initrd upgrade)
    pxm_to_node: dict[int, int]
    kernel_nodes: set[int]
    node_data: dict[int, tuple[int, int]]  # nid -> (NODE_DATA address, the node it is on)
    zmp: dict[int, int]                  # zone_movable_pfn per node
    zones: list[ZoneRow]                 # populated zones at the end of early boot
    zones_all: dict[int, list[ZoneInfo]]  # nid -> (start_pfn, spanned, present) per zone type
    hotplug_nodes: dict[int, int]        # nid -> bytes of hotpluggable boot RAM per the SRAT used
    movable_pages: dict[int, int]        # nid -> pages in ZONE_MOVABLE
    pins: list[Pin]
    dimm_online: list[tuple[int, int, int, str]]  # (nid, base, size, state) per cold-plugged DIMM
    zones_final: list[ZoneRow]           # populated zones after the DIMMs are onlined
    dmesg_late: list[str] = attrs.field(factory=list)  # printed later: the DIMM hot-add zonelist rebuilds
    block_size: int = 0                  # memory_block_size_bytes()
    steps: list[Step] = attrs.field(factory=list)  # after boot (memory blocks, cold-plugged DIMMs), then each event
    managed: dict[str, int] = attrs.field(factory=dict)  # "nid Zone" -> managed pages userspace sees after boot
    online_nodes: list[int] = attrs.field(factory=list)  # node_online_map userspace sees (memory or CPUs)
    build: KernelBuild = DEBIAN_6_1                     # the kernel build's figures the boot used

    @property
    def movable_node(self) -> bool:
        return self.params.movable_node


#: The last simulations, by the machine (itself: a Machine is frozen) and the arguments: fwc check's
#: boot-pinned-hotplug and the boot backend of the same compile simulate the same boot.
_RECENT: list[tuple[tuple, Machine, Boot]] = []


def simulate(machine: Machine, *, policy: str = "upstream", cmdline: str | None = None, dsdt_size: int | None = None,
             given: dict[int, set[int]] | None = None, build: KernelBuild | None = None,
             kernel: str | None = None, limit: int | None = None) -> Boot:
    """Simulate Linux ``kernel``'s boot of ``machine`` (default: the version its description names,
    else 6.1; ``cmdline`` replaces the machine's), then its
    events; ``given``: per event step, the blocks whose *not guaranteed* offline the real kernel did;
    ``build``: the kernel build's figures (the version's recorded Debian build by default);
    ``limit``: the bytes the boot backend may write of it (``boot/memblock.log`` and the
    allocations of ``boot/boot.json``): a boot that needs more stops as soon as it is seen,
    raising :class:`OutputBound` (its ``floor``: the bytes counted so far).  The
    result is shared with the next caller asking for the same boot of the same machine object:
    read it, do not change it."""
    kernel = kernel or kernel_of(machine)
    kernel_named(kernel)                 # ValueError for a kernel fwc does not model
    cmdline = machine.cmdline if cmdline is None else cmdline
    build = build or BUILDS[kernel]
    if given is not None:
        return _simulate(machine, policy, cmdline, dsdt_size, given, build, kernel, limit)
    key = (policy, cmdline, dsdt_size, build, kernel)
    for k, m, b in _RECENT:
        if m is machine and k == key:
            if limit is not None:
                BootLog(log=b.log, allocs=b.allocs, limit=limit).check_bound(final=True)
            return b
    b = _simulate(machine, policy, cmdline, dsdt_size, None, build, kernel, limit)
    _RECENT.insert(0, (key, machine, b))
    del _RECENT[2:]
    return b


def _simulate(machine: Machine, policy: str, cmdline: str, dsdt_size: int | None,
              given: dict[int, set[int]] | None, build: KernelBuild | None, kernel: str = DEFAULT_KERNEL,
              limit: int | None = None) -> Boot:
    pol = policy_named(policy)
    version = kernel_named(kernel)
    fw = fwmod.build(machine, dsdt_size=dsdt_size)
    build = build or BUILDS[version.name]
    k = Kernel(machine=machine, cmdline=cmdline, params=parse_early_options(cmdline), policy=pol, firmware=fw,
               build=build, version=version)
    k.out.notes += fw.notes
    k.out.limit = limit
    start_kernel(k)
    hotplug_nodes, movable_pages, pins = find_pins(k)
    late = len(k.out.late)
    after_boot(k)
    # node_online_map after boot: memory or CPUs, and a cold-plugged DIMM's node (add_memory()
    # brings it online even while its blocks stay offline: MemTotal 0 kB)
    online_nodes = sorted(set(k.hotplug.online_nodes) | set(k.numa.online))
    state = k.params.memhp_default_state or version.memhp_default_online_type
    dimm_online = [(g.nid, g.base, g.size, state if state in ONLINE_STATES else "offline")
                   for g in sorted(k.hotplug.groups.values(), key=lambda g: g.slot)]
    zones_final = [(nid, ZONE_NAMES[z], s, sp, pr) for nid in sorted(k.hotplug.zones)
                   for z, (s, sp, pr) in enumerate(k.hotplug.zones[nid]) if pr]
    dmesg_late = k.out.late[late:]
    managed = _managed_final(k, zones_final)
    steps = play(k, given)
    k.out.check_bound(final=True)
    zi = k.zones.zone_info
    return Boot(
        policy=pol.name, cmdline=cmdline, kernel=version.name, params=k.params, dmesg=k.out.dmesg, log=k.out.log, allocs=k.out.allocs,
        notes=k.out.notes, memblock=k.memblock, acpi_tables=dict(k.acpi.tables),
        pxm_to_node=dict(k.numa.pxm_to_node), kernel_nodes=set(k.numa.kernel_nodes),
        node_data=dict(k.numa.node_data), zmp=dict(k.zones.zone_movable_pfn),
        zones=[(nid, ZONE_NAMES[z], s, sp, pr) for nid in sorted(zi) for z, (s, sp, pr) in enumerate(zi[nid]) if pr],
        zones_all={nid: list(v) for nid, v in zi.items()}, hotplug_nodes=hotplug_nodes,
        movable_pages=movable_pages, pins=pins, dimm_online=dimm_online, zones_final=zones_final,
        dmesg_late=list(dmesg_late), block_size=k.hotplug.block_size, steps=steps, managed=managed, build=build,
        online_nodes=sorted(set(online_nodes) | {int(key.split()[0]) for key in managed}))


def _managed_final(k: Kernel, zones_final: list[ZoneRow]) -> dict[str, int]:
    """The managed pages of every populated zone userspace sees after boot: the boot's
    (kernel/mem_init.py), plus every page of a cold-plugged DIMM onlined into the zone (its
    memmap is not taken from it)."""
    boot_present = {(nid, ZONE_NAMES[z]): pr for nid, zs in k.zones.zone_info.items() for z, (_, _, pr) in enumerate(zs)}
    out = {}
    for nid, name, _, _, present in zones_final:
        z = ZONE_NAMES.index(name)
        boot = k.zones.managed.get(nid, [0] * len(ZONE_NAMES))[z]
        out[f"{nid} {name}"] = boot + present - boot_present.get((nid, name), 0)
    return out
