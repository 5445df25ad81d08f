"""fwc's own analysis, not a kernel file: the kernel allocations in hotpluggable memory
(per the SRAT Linux used) and the nodes they keep from being hot-removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .zones import ZONE_MOVABLE

if TYPE_CHECKING:
    from .state import Alloc, Kernel

#: (nid, reason, the reservations responsible, kernel allocations inside its hotpluggable memory)
Pin = tuple[int, str, list["Alloc"], list["Alloc"]]


def find_pins(k: Kernel) -> tuple[dict[int, int], dict[int, int], list[Pin]]:
    """(hotpluggable boot RAM per node in bytes, ZONE_MOVABLE pages per hotpluggable node, pins)."""
    numa, zones = k.numa, k.zones
    hot: dict[int, list[tuple[int, int]]] = {}
    for nid, s, e in numa.srat_hotplug:
        for x, y, _ in k.mem_pfn_ranges(nid):
            lo, hi = max(x << 12, s), min(y << 12, e)
            if lo < hi:
                hot.setdefault(nid, []).append((lo, hi))
    hotplug_nodes = {n: sum(h - lo for lo, h in r) for n, r in hot.items()}
    movable_pages: dict[int, int] = {}
    pins: list[Pin] = []
    for nid, rs in hot.items():
        ins = [a for a in k.out.allocs if any(a.base < h and a.base + a.size > lo for lo, h in rs)]
        zm = zones.zone_movable_pfn.get(nid, 0)
        movable = sum(pr for z, (s, sp, pr) in enumerate(zones.zone_info.get(nid, [])) if z == ZONE_MOVABLE)
        movable_pages[nid] = movable
        hot_pages = sum((h >> 12) - (lo >> 12) for lo, h in rs)
        if k.policy.kernel_nodes_pin and nid in numa.kernel_nodes:
            why = [a for a in numa.kernel_node_reasons.get(nid, []) if a.stage == "early"]
            pins.append((nid, "kernel node: reservations made before the SRAT was parsed cleared its "
                              "hotplug flags, so none of its memory is ZONE_MOVABLE", why, ins))
        elif ins:
            pins.append((nid, "permanent kernel allocations in its hotpluggable memory", ins, ins))
        elif movable < hot_pages and not zm:
            pins.append((nid, k.policy.unmovable_reason, [], []))
    return hotplug_nodes, movable_pages, pins
