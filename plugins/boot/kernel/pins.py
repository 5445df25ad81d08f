"""fwc's own analysis, not a kernel file: the kernel allocations in hotpluggable memory
(per the SRAT Linux used) and the nodes they keep from being hot-removed."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from .page_alloc import for_each_mem_pfn_range
from .zones import ZONE_MOVABLE

if TYPE_CHECKING:
    from .state import Alloc, Kernel

#: (nid, reason, the reservations responsible, kernel allocations inside its hotpluggable memory)
Pin = tuple[int, str, list["Alloc"], list["Alloc"]]


def find_pins(k: Kernel) -> tuple[dict[int, int], dict[int, int], list[Pin]]:
    """(hotpluggable boot RAM per node in bytes, ZONE_MOVABLE pages per hotpluggable node, pins)."""
    numa, zones = k.numa, k.zones
    pfn_ranges = for_each_mem_pfn_range(k.mem_pfn_ranges())
    hot: dict[int, list[tuple[int, int]]] = {}
    for nid, s, e in numa.srat_hotplug:
        for x, y in pfn_ranges.get(nid, ()):
            lo, hi = max(x << 12, s), min(y << 12, e)
            if lo < hi:
                hot.setdefault(nid, []).append((lo, hi))
    hotplug_nodes = {n: sum(h - lo for lo, h in r) for n, r in hot.items()}
    movable_pages: dict[int, int] = {}
    pins: list[Pin] = []
    inside = _allocs_inside(k.out.allocs, hot)
    for nid, rs in hot.items():
        ins = inside.get(nid, [])
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


def _allocs_inside(allocs: list[Alloc], hot: dict[int, list[tuple[int, int]]]) -> dict[int, list[Alloc]]:
    """nid -> the allocations (in order) overlapping any of the node's ranges ``hot[nid]``.
    A node's ranges lie in its own memblock.memory regions, so different nodes' ranges never
    overlap: each node's overlapping ranges joined, all are searched by address at once."""
    spans: list[tuple[int, int, int]] = []
    for nid, rs in hot.items():
        cur: list[int] | None = None
        for lo, hi in sorted(rs):
            if cur is not None and lo < cur[1]:
                cur[1] = max(cur[1], hi)
                continue
            if cur is not None:
                spans.append((cur[0], cur[1], nid))
            cur = [lo, hi]
        if cur is not None:
            spans.append((cur[0], cur[1], nid))
    spans.sort()
    los, his = [x[0] for x in spans], [x[1] for x in spans]
    out: dict[int, list[Alloc]] = {}
    if any(his[i] > los[i + 1] for i in range(len(spans) - 1)):  # not expected: the plain search
        for nid, rs in hot.items():
            out[nid] = [a for a in allocs if any(a.base < h and a.base + a.size > lo for lo, h in rs)]
        return out
    for a in allocs:
        end = a.base + a.size
        seen: set[int] = set()
        for i in range(bisect_right(his, a.base), bisect_left(los, end)):
            nid = spans[i][2]
            if nid not in seen and a.base < his[i] and end > los[i]:
                seen.add(nid)
                out.setdefault(nid, []).append(a)
    return out
