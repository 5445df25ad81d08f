"""Zones (mm/page_alloc.c): free_area_init() with find_zone_movable_pfns_for_nodes(), the
per-zone spanned/absent pages, memmap_init()'s unavailable ranges, and
build_all_zonelists() with its ``Total pages`` line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc.model import REMOTE_DISTANCE

from ..memblock import HOTPLUG, MIRROR, NUMA_NO_NODE
from .numa import node_distance
from .state import ZoneInfo
from .zones import (ARCH_ZONES, KERNEL_ZONES, MAX_DMA32_PFN, MAX_DMA_PFN, MAX_NR_ZONES, MAX_NUMNODES,
                    MAX_ORDER_PAGES, PAGE, SECTION_PAGES, ZONE_DMA, ZONE_MOVABLE, ZONE_NAMES, ZONE_NORMAL,
                    pfn_down, pfn_up, roundup)

if TYPE_CHECKING:
    from .state import Kernel

Ranges = list[tuple[int, int, int]]  # (start_pfn, end_pfn, nid)


def free_area_init(k: Kernel) -> None:
    """free_area_init(max_zone_pfn) (mm/page_alloc.c; called by zone_sizes_init): the zone ranges, the
    movable zone start per node, the early node ranges, then free_area_init_node() for each
    possible node (pgdat of memoryless nodes included), then memmap_init()."""
    zs_ = k.zones
    max_pfn = k.max_pfn
    max_zone = [min(MAX_DMA_PFN, max_pfn), min(MAX_DMA32_PFN, max_pfn), max_pfn, 0, 0]
    start = pfn_down(k.memblock.start_of_dram())
    lowest, highest = [0] * MAX_NR_ZONES, [0] * MAX_NR_ZONES
    for z in ARCH_ZONES:
        end = max(max_zone[z], start)
        lowest[z], highest[z] = start, end
        start = end
    zs_.lowest, zs_.highest = lowest, highest
    zs_.movable_zone = find_usable_zone_for_movable(k)
    ranges = k.mem_pfn_ranges()
    zmp = k.policy.find_zone_movable_pfns_for_nodes(k, ranges)
    zs_.zone_movable_pfn = zmp
    k.pr("Zone ranges:")
    for z in ARCH_ZONES:
        if lowest[z] == highest[z]:
            k.pr(f"  {ZONE_NAMES[z]:<8} empty")
        else:
            k.pr(f"  {ZONE_NAMES[z]:<8} [mem {lowest[z] << 12:#018x}-{(highest[z] << 12) - 1:#018x}]")
    k.pr("Movable zone start for each node")
    for nid in sorted(zmp):
        if zmp[nid]:
            k.pr(f"  Node {nid}: {zmp[nid] << 12:#018x}")
    k.pr("Early memory node ranges")
    for s, e, nid in ranges:
        k.pr(f"  node {nid:3d}: [mem {s << 12:#018x}-{(e << 12) - 1:#018x}]")
    zs_.zone_info = {}
    zs_.node_span = {}
    by_nid = for_each_mem_pfn_range(ranges)
    for nid in sorted(k.numa.possible):
        if nid not in k.numa.online:
            k.pr(f"Initializing node {nid} as memoryless")
            k.alloc("alloc_try_nid", f"pgdat of memoryless node {nid} (free_area_init)",
                    k.version.memoryless_pgdat_size, 64, 0, 0,
                    NUMA_NO_NODE)
            k.pr(f"Initmem setup node {nid} as memoryless")
            continue
        free_area_init_node(k, nid, by_nid.get(nid, []))
    zs_.nr_kernel_pages = k.version.calc_nr_kernel_pages(k)
    memmap_init(k, ranges)


def find_usable_zone_for_movable(k: Kernel) -> int:
    """find_usable_zone_for_movable() (mm/page_alloc.c): the highest populated kernel zone."""
    lo, hi = k.zones.lowest, k.zones.highest
    return max((z for z in KERNEL_ZONES if hi[z] > lo[z]), default=ZONE_DMA)


def for_each_mem_pfn_range(ranges: Ranges) -> dict[int, list[tuple[int, int]]]:
    """for_each_mem_pfn_range() (include/linux/memblock.h) of every node at once, from the
    (start_pfn, end_pfn, nid) ranges: nid -> [(start_pfn, end_pfn)] in order."""
    out: dict[int, list[tuple[int, int]]] = {}
    for s, e, n in ranges:
        out.setdefault(n, []).append((s, e))
    return out


def free_area_init_node(k: Kernel, nid: int, nr: list[tuple[int, int]]) -> None:
    """free_area_init_node() (mm/page_alloc.c) -> calculate_node_totalpages(): each zone's start, spanned and
    present pages (zone_spanned_pages_in_node, zone_absent_pages_in_node) from the node's PFN ranges."""
    if not nr:
        k.pr(f"Initmem setup node {nid} as memoryless")
        k.zones.zone_info[nid] = [(0, 0, 0)] * MAX_NR_ZONES
        return
    ns, ne = nr[0][0], max(e for _, e in nr)
    k.zones.node_span[nid] = (ns, ne)
    k.pr(f"Initmem setup node {nid} [mem {ns << 12:#018x}-{(ne << 12) - 1:#018x}]")
    zi: list[ZoneInfo] = []
    for z in range(MAX_NR_ZONES):
        zs, ze = zone_spanned_pages_in_node(k, nid, z, ns, ne)
        if ze < ns or zs > ne:
            spanned = 0
            zs2 = zs
        else:
            zs2, ze2 = max(zs, ns), min(ze, ne)
            spanned = ze2 - zs2
        absent = zone_absent_pages_in_node(k, nid, z, nr, zs, ze)
        present = spanned - absent if spanned else 0
        zi.append((zs2 if spanned else 0, spanned, present))
    k.zones.zone_info[nid] = zi


def zone_spanned_pages_in_node(k: Kernel, nid: int, z: int, ns: int, ne: int) -> tuple[int, int]:
    """zone_spanned_pages_in_node() (mm/page_alloc.c) with adjust_zone_range_for_zone_movable(): the zone's
    [start, end) PFNs within the node (not yet clamped to the node)."""
    zs_ = k.zones
    lo, hi = zs_.lowest[z], zs_.highest[z]
    zs, ze = min(max(ns, lo), hi), min(max(ne, lo), hi)
    zm = zs_.zone_movable_pfn.get(nid, 0)
    if zm:
        if z == ZONE_MOVABLE:
            zs, ze = zm, min(ne, zs_.highest[zs_.movable_zone])
        elif not k.params.mirror and zs < zm < ze:
            ze = zm
        elif zs >= zm:
            zs = ze
    return zs, ze


def zone_absent_pages_in_node(k: Kernel, nid: int, z: int, nr: list[tuple[int, int]], zs: int, ze: int) -> int:
    """zone_absent_pages_in_node() (mm/page_alloc.c): holes in [zs, ze), plus, with kernelcore=mirror, the
    mirrored memory in ZONE_MOVABLE and the unmirrored memory in ZONE_NORMAL."""
    absent = __absent_pages_in_range(nr, zs, ze) if zs < ze else 0
    if k.params.mirror and k.zones.zone_movable_pfn.get(nid):
        mem = k.memblock.memory
        for b_, e_, f in zip(mem.B, mem.E, mem.F):
            x = min(max(pfn_up(b_), zs), ze)
            y = min(max(pfn_down(e_), zs), ze)
            if z == ZONE_MOVABLE and f & MIRROR:
                absent += y - x
            if z == ZONE_NORMAL and not f & MIRROR:
                absent += y - x
    return absent


def __absent_pages_in_range(nr: list[tuple[int, int]], s: int, e: int) -> int:
    """__absent_pages_in_range(): pages of [s, e) in no memory range of the node."""
    cov = 0
    for a, b_ in nr:
        x, y = max(a, s), min(b_, e)
        if x < y:
            cov += y - x
    return (e - s) - cov


def find_zone_movable_pfns_for_nodes(k: Kernel, ranges: Ranges) -> dict[int, int]:
    """find_zone_movable_pfns_for_nodes() (mm/page_alloc.c): ZONE_MOVABLE's first PFN per node, from
    movable_node (hotplug memory), kernelcore=mirror, or kernelcore=/movablecore= spread
    over the nodes (the kernel's ``required_kernelcore`` loop)."""
    o, mb = k.params, k.memblock
    zmp: dict[int, int] = {}
    nodes = sorted({n for _, _, n in ranges})
    totalpages = sum(e - s for s, e, _ in ranges)
    usable_nodes = len(nodes)
    if o.movable_node:
        for b_, f, nid in zip(mb.memory.B, mb.memory.F, mb.memory.N):
            if f & HOTPLUG:
                zmp[nid] = min(zmp.get(nid) or (1 << 62), pfn_down(b_))
        return align_zone_movable_pfn(zmp, ranges)
    if o.mirror and not k.version.kernelcore_mirror_applies(k):
        return {}
    if o.mirror:
        below = False
        for b_, f, nid in zip(mb.memory.B, mb.memory.F, mb.memory.N):
            if f & MIRROR:
                continue
            p = pfn_up(b_)
            if p < MAX_DMA32_PFN:
                below = True
                continue
            zmp[nid] = min(zmp.get(nid) or (1 << 62), p)
        if below:
            k.pr("This configuration results in unmirrored kernel memory.")
        return align_zone_movable_pfn(zmp, ranges)
    required_kernelcore, required_movablecore = o.kernelcore, o.movablecore
    if o.kernelcore_pct:
        required_kernelcore = totalpages * 100 * o.kernelcore_pct // 10000
    if o.movablecore_pct:
        required_movablecore = totalpages * 100 * o.movablecore_pct // 10000
    if required_movablecore:
        required_movablecore = min(totalpages, roundup(required_movablecore, MAX_ORDER_PAGES))
        required_kernelcore = max(required_kernelcore, totalpages - required_movablecore)
    if not required_kernelcore or required_kernelcore >= totalpages:
        return {}
    usable_startpfn = k.zones.lowest[k.zones.movable_zone]
    by_nid = for_each_mem_pfn_range(ranges)
    while True:
        kernelcore_node = required_kernelcore // usable_nodes
        for nid in nodes:
            if required_kernelcore < kernelcore_node:
                kernelcore_node = required_kernelcore // usable_nodes
            kernelcore_remaining = kernelcore_node
            for s, e in by_nid[nid]:
                s = max(s, zmp.get(nid, 0))
                if s >= e:
                    continue
                if s < usable_startpfn:
                    kernel_pages = min(e, usable_startpfn) - s
                    kernelcore_remaining -= min(kernel_pages, kernelcore_remaining)
                    required_kernelcore -= min(kernel_pages, required_kernelcore)
                    if e <= usable_startpfn:
                        zmp[nid] = e
                        continue
                    s = usable_startpfn
                size_pages = min(e - s, kernelcore_remaining)
                zmp[nid] = s + size_pages
                required_kernelcore -= min(required_kernelcore, size_pages)
                kernelcore_remaining -= size_pages
                if not kernelcore_remaining:
                    break
        usable_nodes -= 1
        if not (usable_nodes and required_kernelcore > usable_nodes):
            break
    return align_zone_movable_pfn(zmp, ranges)


def align_zone_movable_pfn(zmp: dict[int, int], ranges: Ranges) -> dict[int, int]:
    """The end of find_zone_movable_pfns_for_nodes(): each start rounded up to
    MAX_ORDER_NR_PAGES, dropped when it is past the node's last PFN."""
    out = {}
    last: dict[int, int] = {}
    for _, e, n in ranges:
        last[n] = max(last.get(n, e), e)
    for nid, v in zmp.items():
        v = roundup(v, MAX_ORDER_PAGES)
        if nid in last and v < last[nid]:
            out[nid] = v
    return out


def memmap_init(k: Kernel, ranges: Ranges) -> None:
    """memmap_init() (mm/page_alloc.c): the holes between and after memory ranges, per zone
    (init_unavailable_range), up to the end of the last section."""
    hole = 0
    zone_id, last_nid, end = 0, 0, 0
    for s, e, nid in ranges:
        zi = k.zones.zone_info.get(nid)
        if not zi:
            continue
        for z in range(MAX_NR_ZONES):
            zs, sp, pr = zi[z]
            if not pr:
                continue
            ze = zs + sp
            x, y = min(max(s, zs), ze), min(max(e, zs), ze)
            zone_id = z
            if x >= y:
                continue
            if hole < x:
                init_unavailable_range(k, hole, x, z, nid)
            hole = y
        last_nid, end = nid, e
    end = roundup(end, SECTION_PAGES)
    if hole < end:
        init_unavailable_range(k, hole, end, zone_id, last_nid)


def init_unavailable_range(k: Kernel, s: int, e: int, z: int, nid: int) -> None:
    """init_unavailable_range() (mm/page_alloc.c): count the hole's pages in present sections, print them
    (by runs of sections: a hole may span most of the address space)."""
    cnt = k.zones.present_pages(s, e, SECTION_PAGES)
    if cnt:
        k.pr(f"On node {nid}, zone {ZONE_NAMES[z]}: {cnt} pages in unavailable ranges")


def build_all_zonelists(k: Kernel) -> None:
    """build_all_zonelists() (mm/page_alloc.c): each node's fallback order (build_zonelists), then the
    ``Built N zonelists`` line with nr_free_pagecache_pages() of the boot CPU's node and
    the policy zone."""
    numa = k.numa
    has_cpu = {n for n, c in numa.node_cpus.items() if c}
    online = len(numa.online | {n for n in numa.possible if n in has_cpu})
    # At this point of start_kernel() no CPU is in any cpumask_of_node(): numa_add_cpu() runs in
    # identify_cpu() (arch/x86/kernel/cpu/common.c), for the boot CPU from check_bugs(), later.
    k.zones.policy_zone = zonelists(k, k.out.dmesg, k.zones.zone_info, sorted(numa.possible), online, 0,
                                    set())


def zonelists(k: Kernel, out: list[str], zi_all: dict, nodes: list[int], online: int, policy: int,
              has_cpu: set[int] | None = None, n_memory: list[int] | None = None) -> int:
    """The lines build_all_zonelists() (mm/page_alloc.c) prints for a zone table: ``Fallback order`` for each node of
    ``nodes`` (__build_all_zonelists(): every possible node, or only a hot-added node's own
    pgdat while it is not online yet), ``Built {nr_online_nodes} zonelists … Total pages`` and
    ``Policy zone`` (policy_zone only grows: check_highest_zone()).  ``has_cpu``: the nodes
    whose cpumask_of_node() is not empty (find_next_best_node()'s PENALTY_FOR_NODE_WITH_CPUS;
    default: every node with a CPU in the SRAT; at early boot: none).  ``n_memory``: the nodes
    in N_MEMORY (default: those with present pages).  Returns the policy zone."""
    numa = k.numa
    if n_memory is None:
        n_memory = sorted(n for n, zi in zi_all.items() if any(pr for _, _, pr in zi))
    if has_cpu is None:
        has_cpu = {n for n, c in numa.node_cpus.items() if c}
    node_load: dict[int, int] = {}  # memset(node_load, 0, ...) in __build_all_zonelists()
    orders = {}
    # (6.12 skips a memoryless local node: the general path for those)
    skip = k.version.memoryless_local_node_skipped and not set(nodes) <= set(n_memory)
    same = None if numa.distance or skip else _Uniform(n_memory, has_cpu, node_load)
    for local in nodes:
        orders[local] = same.order(k, local) if same else build_zonelists(k, local, n_memory, has_cpu, node_load)
        out.append(f"Fallback order for Node {local}: " + " ".join(map(str, orders[local])) + " ")
    boot_nid = _boot_cpu_node(k)
    order = orders[boot_nid] if boot_nid in orders else build_zonelists(k, boot_nid, n_memory, has_cpu, {})
    total = 0
    for nid in order:
        for z, (zs, sp, pr) in enumerate(zi_all.get(nid, [])):
            if not pr:
                continue
            # 6.12 mm/mm_init.c free_area_init_core(): managed = present
            total += pr if k.version.managed_pages_are_present else zone_freesize(k, z, sp, pr)
            if z != ZONE_MOVABLE:
                policy = max(policy, z)
    out.append(f"Built {online} zonelists, mobility grouping on.  Total pages: {total}")
    out.append(f"Policy zone: {ZONE_NAMES[policy]}")
    return policy


def zone_freesize(k: Kernel, z: int, spanned: int, present: int) -> int:
    """A zone's ``freesize`` in free_area_init_core() (mm/page_alloc.c): present pages less its memmap
    (calc_memmap_size) and, for ZONE_DMA, dma_reserve; the boot's first managed estimate, summed
    into nr_kernel_pages and nr_all_pages."""
    pages = present if spanned > present + (present >> 4) else spanned
    memmap = roundup(pages * 64, PAGE) >> 12
    free = present - memmap if present >= memmap else present
    if z == ZONE_DMA and free > k.zones.dma_reserve:
        free -= k.zones.dma_reserve
    return free


def nr_kernel_pages(k: Kernel) -> int:
    """nr_kernel_pages as free_area_init_core() (mm/page_alloc.c) sums it: every zone's freesize
    (x86_64 has no highmem, so nr_all_pages is the same sum)."""
    return sum(zone_freesize(k, z, sp, pr) for zi in k.zones.zone_info.values() for z, (_, sp, pr) in enumerate(zi)
               if pr)


def alloc_large_system_hash(k: Kernel, name: str, bucketsize: int, scale: int) -> None:
    """alloc_large_system_hash() (mm/page_alloc.c) with HASH_EARLY | HASH_ZERO and no size given: about
    one bucket per 2^scale bytes of nr_kernel_pages (scale grows by one per factor 4 above 64 GiB), a
    power of two, at most 1/16 of nr_all_pages; from memblock.  6.12's (mm/mm_init.c) is the same
    function over 6.12's nr_kernel_pages (:meth:`~.version.Linux61.calc_nr_kernel_pages`)."""
    nr = k.zones.nr_kernel_pages
    n = roundup(nr, 256)
    adapt = (64 << 30) >> 12
    while adapt < n:
        scale += 1
        adapt <<= 2
    n = n >> (scale - 12) if scale > 12 else n << (12 - scale)
    if n * bucketsize < PAGE:
        n = PAGE // bucketsize
    n = 1 << (n - 1).bit_length()
    n = min(n, (nr << 12) // 16 // bucketsize, 0x80000000)
    if not n:  # no kernel pages: ilog2(0) makes the size undefined and the allocation fails (a panic)
        k.note(f"allocation failed: {name} hash table (alloc_large_system_hash): nr_kernel_pages is {nr}")
        return
    n = 1 << (n.bit_length() - 1)
    k.alloc("alloc_try_nid", f"{name} hash table (alloc_large_system_hash)", bucketsize * n, 64, 0, 0, -1)


def build_zonelists(k: Kernel, local: int, n_memory: list[int], has_cpu: set[int],
                    node_load: dict[int, int]) -> list[int]:
    """build_zonelists() (mm/page_alloc.c): find_next_best_node() scores the remaining nodes by distance
    (+1 below the local node, +1 with CPUs) and node_load; node_load only changes for nodes
    already taken, so within one node's loop the scores are fixed and the kernel's repeated
    minimum search is one sort (ties: lowest id)."""
    table = k.numa.distance.get  # node_distance() of two different nodes, inlined: N x N calls
    dist = {n: table((local, n), REMOTE_DISTANCE) for n in n_memory if n != local}
    load = node_load.get
    # one int per node: the score, then the node id for ties
    rest = sorted(((d + (n < local) + (n in has_cpu)) * MAX_NUMNODES + load(n, 0)) << 20 | n for n, d in dist.items())
    # 6.12's find_next_best_node() skips a memoryless local node
    order = [local] if local in n_memory or not k.version.memoryless_local_node_skipped else []
    dprev = node_distance(k, local, local)
    for key in rest:
        best = key & 0xFFFFF
        d = dist[best]
        if d != dprev:
            node_load[best] = load(best, 0) + 1
        order.append(best)
        dprev = d
    return order


class _Uniform:
    """build_zonelists() for every node when no SLIT gives distances: every other node is
    REMOTE_DISTANCE away, so a node's score changes only with the local node (+1 below it)
    and its node_load (which changes for one node per build).  The scores are kept as ints in
    two arrays (above and below the local node) and each build is one sort of them: the same
    order as build_zonelists(), in C."""

    def __init__(self, n_memory: list[int], has_cpu: set[int], node_load: dict[int, int]) -> None:
        self.nodes, self.node_load = n_memory, node_load
        self.pos = {n: i for i, n in enumerate(n_memory)}
        score = [(((REMOTE_DISTANCE + (n in has_cpu)) * MAX_NUMNODES) << 20) | n for n in n_memory]
        self.above = score
        self.below = [x + (MAX_NUMNODES << 20) for x in score]  # (n < local): one more
        self.load = [node_load.get(n, 0) << 20 for n in n_memory]

    def order(self, k: Kernel, local: int) -> list[int]:
        import operator
        from bisect import bisect_left

        i = bisect_left(self.nodes, local)
        j = i + 1 if i < len(self.nodes) and self.nodes[i] == local else i
        keys = sorted([*map(operator.add, self.below[:i], self.load[:i]),
                       *map(operator.add, self.above[j:], self.load[j:])])
        order = [local, *map(operator.and_, keys, [0xFFFFF] * len(keys))]
        if len(order) > 1 and node_distance(k, local, local) != REMOTE_DISTANCE:
            best = order[1]  # the only distance change along the order: its node_load grows
            self.node_load[best] = self.node_load.get(best, 0) + 1
            self.load[self.pos[best]] += 1 << 20
        return order


def _boot_cpu_node(k: Kernel) -> int:
    """cpu_to_node(0): the node of the first enabled CPU's APIC id (apicid_to_node)."""
    cpus = [c for _, c in k.machine.cpus]
    if not cpus:
        return 0
    first = min((c.apic_id for c in cpus if c.enabled), default=cpus[0].apic_id)
    for nid, apics in k.numa.node_cpus.items():
        if first in apics:
            return nid
    return 0


def defer_init(k: Kernel, nid: int) -> tuple[list[tuple[int, int, int]], int | None]:
    """defer_init() (mm/page_alloc.c) as memmap_init() meets it on node ``nid``: memmap_init()
    walks each memory range and, in it, each populated zone; a zone ending at pgdat_end_pfn() is
    deferred at the first section-aligned pfn after its first section (the count runs on while
    the zone end stays the same), first_deferred_pfn, and so is every later page of a zone ending
    there.  6.1's pgdat_end_pfn() is the node's start plus its zones' spanned pages, beyond every
    zone when two overlap: nothing is deferred then.  (start_pfn, end_pfn, zone) initialised at
    boot in that order (a later one sets a page's zone again), and first_deferred_pfn (None:
    nothing deferred)."""
    info = k.zones.zone_info.get(nid, [])
    zones = [(z, s, s + sp) for z, (s, sp, pr) in enumerate(info) if pr]
    node_end = max((e for _, _, e in zones), default=0)
    if k.version.node_spanned_is_zone_sum and zones:
        node_end = min(s for s, sp, _ in info if sp) + sum(sp for _, sp, _ in info)
    out: list[tuple[int, int, int]] = []
    fd: int | None = None
    prev_end, count = None, 0
    for s, e, _ in k.mem_pfn_ranges(nid):
        for z, zs, ze in zones:
            a, b = max(s, zs), min(e, ze)
            if a >= b:
                continue
            if ze != prev_end:
                prev_end, count = ze, 0
            if ze < node_end:                  # "Always populate low zones"
                out.append((a, b, z))
            elif fd is None:
                p = roundup(max(a + SECTION_PAGES - count, a), SECTION_PAGES)
                out.append((a, min(p, b), z))
                if p < b:
                    fd = p
                count += b - a
    return out, fd


def deferred_init_memmap(k: Kernel, nid: int, fd: int) -> tuple[int, int, int] | None:
    """deferred_init_memmap() (mm/page_alloc.c; 6.12 mm/mm_init.c): the zone the pages from
    first_deferred_pfn are initialised (and freed) in, (start_pfn, end_pfn, zone): 6.1 the first
    zone ending above first_deferred_pfn, 6.12 the highest zone of the node ("Only the highest
    zone is deferred")."""
    zones = [(z, s, s + sp) for z, (s, sp, _) in enumerate(k.zones.zone_info.get(nid, [])) if sp]
    pick = zones[-1:] if k.version.deferred_highest_zone_only else [x for x in zones if fd < x[2]][:1]
    return (max(fd, pick[0][1]), pick[0][2], pick[0][0]) if pick else None


def page_zones(k: Kernel, nid: int) -> list[tuple[int, int, int]] | None:
    """The zone of each page memblock_free_all() and deferred_init_memmap() free on a node whose
    zones overlap (a kernel zone spanning the Movable one: kernelcore=mirror keeps
    adjust_zone_range_for_zone_movable() from trimming it), as (start_pfn, end_pfn, zone); pages
    in none are never initialised.  None when the zones do not overlap (each page's zone is the
    one spanning it)."""
    spans = sorted((s, s + sp) for s, sp, pr in k.zones.zone_info.get(nid, []) if pr)
    if all(a[1] <= b[0] for a, b in zip(spans, spans[1:])):
        return None
    early, fd = defer_init(k, nid)
    cut = [(a, b if fd is None else min(b, fd), z) for a, b, z in early if fd is None or a < fd]
    late = deferred_init_memmap(k, nid, fd) if fd is not None else None
    points = sorted({p for a, b, _ in cut for p in (a, b)} | (set(late[:2]) if late else set()))
    out = []
    for a, b in zip(points, points[1:]):
        z = next((z for s, e, z in reversed(cut) if s <= a < e), None)
        if late and late[0] <= a < late[1]:
            z = late[2]
        if z is not None:
            out.append((a, b, z))
    return out
