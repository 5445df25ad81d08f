"""After early boot: cold-plugged DIMMs come in through ACPI memory devices
(drivers/acpi/acpi_memhotplug.c -> add_memory(), mm/memory_hotplug.c) and are onlined per
``memhp_default_state`` (default: offline), memory block by memory block
(drivers/base/memory.c memory_block_online -> online_pages), with the zone
default_zone_for_pfn() picks; zones grow to span them (resize_zone_range).

The zonelists are rebuilt twice over (mm/memory_hotplug.c, Linux 6.1), each time printing
``Fallback order …`` / ``Built N zonelists … Total pages`` / ``Policy zone``:
add_memory_resource() -> __try_online_node() -> hotadd_init_pgdat() ->
build_all_zonelists(pgdat) for a DIMM on a node that is not online (only that node's
fallback order; it goes online afterwards, so N does not count it yet), and online_pages()
-> build_all_zonelists(NULL) when a block is onlined into a zone that was not populated
(``need_zonelists_rebuild``; every possible node, after node_states_set_node()).  The
``Total pages`` of those lines counts managed pages above the high watermark of a running
system, which fwc does not model: that number is approximate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .zones import KERNEL_ZONES, MAX_NR_ZONES, SECTION_PAGES, ZONE_MOVABLE, ZONE_NAMES, ZONE_NORMAL

if TYPE_CHECKING:
    from .state import Kernel

ONLINE_STATES = ("online", "online_movable", "online_kernel")


def zone_intersects(zi: list[list[int]], z: int, pfn: int, nr: int) -> bool:
    """zone_intersects() (include/linux/mmzone.h): the zone's span overlaps [pfn, pfn + nr)."""
    s, sp, _ = zi[z]
    return bool(sp) and s < pfn + nr and pfn < s + sp


def default_kernel_zone_for_pfn(zi: list[list[int]], pfn: int, nr: int) -> int:
    """default_kernel_zone_for_pfn() (mm/memory_hotplug.c): the first kernel zone spanning the
    range, else ZONE_NORMAL."""
    return next((z for z in KERNEL_ZONES if zone_intersects(zi, z, pfn, nr)), ZONE_NORMAL)


def default_zone_for_pfn(zi: list[list[int]], pfn: int, nr: int, movable_node: bool) -> int:
    """default_zone_for_pfn() (mm/memory_hotplug.c): the one of the kernel zone and ZONE_MOVABLE that already
    spans the range; if both or neither, ZONE_MOVABLE under movable_node."""
    kz = default_kernel_zone_for_pfn(zi, pfn, nr)
    ik, im = zone_intersects(zi, kz, pfn, nr), zone_intersects(zi, ZONE_MOVABLE, pfn, nr)
    if ik != im:
        return kz if ik else ZONE_MOVABLE
    return ZONE_MOVABLE if movable_node else kz


def zone_for_pfn_range(state: str, zi: list[list[int]], pfn: int, nr: int, movable_node: bool) -> int:
    """zone_for_pfn_range() (mm/memory_hotplug.c) for MMOP_ONLINE_MOVABLE / _KERNEL / _ONLINE."""
    if state == "online_movable":
        return ZONE_MOVABLE
    if state == "online_kernel":
        return default_kernel_zone_for_pfn(zi, pfn, nr)
    return default_zone_for_pfn(zi, pfn, nr, movable_node)


def hot_add_dimms(k: Kernel) -> tuple[list[tuple[int, int, int, str]], list[tuple[int, str, int, int, int]]]:
    """add_memory() + online_pages() for every DIMM, fused (fwc onlines in 128 MiB sections,
    the memory block size of these machines).  Returns (per DIMM: (nid, base, size, state),
    the populated zones afterwards: (nid, zone name, start_pfn, spanned, present))."""
    from .page_alloc import zonelists

    state = k.params.memhp_default_state
    zones = {nid: [list(z) for z in zi] for nid, zi in k.zones.zone_info.items()}
    dimm_online = []
    numa = k.numa
    online = set(numa.online) | {n for n in numa.possible if numa.node_cpus.get(n)}
    policy = k.zones.policy_zone
    # at run time cpumask_of_node() holds the online CPUs: a node whose CPUs are all absent
    # (not present, -smp N,maxcpus=M) gets no PENALTY_FOR_NODE_WITH_CPUS in a rebuild
    present = {c.apic_id for _, c in k.machine.cpus if c.enabled}
    running = {n for n, apics in numa.node_cpus.items() if present & set(apics)}
    # the ACPI memory devices in slot order (QEMU numbers the DIMMs in address order)
    for n, r in sorted(((n, r) for n in k.machine.nodes for r in n.dimms), key=lambda x: x[1].base):
        # acpi_memory_enable_device(): acpi_get_node() of the device's _PXM (QEMU's node id),
        # which maps no new node at run time; NUMA_NO_NODE -> memory_add_physaddr_to_nid()
        nid = k.numa.pxm_to_node.get(n.id, -1)
        if nid < 0:
            nid = memory_add_physaddr_to_nid(k, r.base)
        if nid not in online:  # __try_online_node() -> hotadd_init_pgdat()
            policy = zonelists(k, k.out.late, _tuples(zones), [nid], len(online), policy, running)
            online.add(nid)
        if state not in ONLINE_STATES:
            dimm_online.append((nid, r.base, r.size, "offline"))
            continue
        zi = zones.setdefault(nid, [[0, 0, 0] for _ in range(MAX_NR_ZONES)])
        pfn, end = r.base >> 12, r.end >> 12
        while pfn < end:
            nr = min(SECTION_PAGES, end - pfn)
            z = zone_for_pfn_range(state, zi, pfn, nr, k.params.movable_node)
            s, sp, pr = zi[z]
            if not sp:
                zi[z] = [pfn, nr, pr + nr]
            else:
                lo, hi = min(s, pfn), max(s + sp, pfn + nr)
                zi[z] = [lo, hi - lo, pr + nr]
            if not pr:  # online_pages(): !populated_zone(zone) -> build_all_zonelists(NULL)
                policy = zonelists(k, k.out.late, _tuples(zones), sorted(numa.possible), len(online), policy,
                                   running)
            pfn += nr
        dimm_online.append((nid, r.base, r.size, state))
    k.zones.policy_zone = policy
    final = [(nid, ZONE_NAMES[z], s, sp, pr) for nid in sorted(zones) for z, (s, sp, pr) in enumerate(zones[nid])
             if pr]
    return dimm_online, final


def memory_add_physaddr_to_nid(k: Kernel, start: int) -> int:
    """memory_add_physaddr_to_nid() (arch/x86/mm/numa.c): the node of numa_meminfo's block holding
    ``start`` (numa_reserved_meminfo, where the SRAT's hot-pluggable space above the RAM went,
    is not searched), else the first block's node."""
    mi = k.numa.meminfo
    for s, e, nid in mi:
        if s <= start < e:
            return nid
    return mi[0][2] if mi else 0


def _tuples(zones: dict[int, list[list[int]]]) -> dict[int, list[tuple[int, int, int]]]:
    return {nid: [(a, b, c) for a, b, c in zi] for nid, zi in zones.items()}
