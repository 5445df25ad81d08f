"""NUMA initialisation (arch/x86/mm/numa.c): x86_numa_init() tries the SRAT, then a dummy
node; numa_cleanup_meminfo(), numa_register_memblks() (with numa_clear_kernel_node_hotplug
and numa_meminfo_cover_memory), alloc_node_data() and the distance table."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Callable

from fwc.model import LOCAL_DISTANCE, REMOTE_DISTANCE

from .state import NumaState
from .srat import x86_acpi_numa_init
from .zones import PAGE, PHYS_MAX, hex10, pfn_down, pfn_up

if TYPE_CHECKING:
    from .state import Kernel

PGDAT_SIZE = 0x2B000  # roundup(sizeof(pg_data_t), PAGE_SIZE), Debian 6.1 (observed)


def x86_numa_init(k: Kernel) -> None:
    """x86_numa_init() (arch/x86/mm/numa.c) (initmem_init on x86_64): numa_init(x86_acpi_numa_init) unless
    ``numa=off``/``acpi=off``, else numa_init(dummy_numa_init).  fwc has no AMD northbridge
    path (amd_numa_init) and no NUMA emulation."""
    k.note("initmem_init(): x86_numa_init()")
    k.numa = NumaState()
    p = k.params
    if not (p.numa_off or p.acpi_off) and numa_init(k, x86_acpi_numa_init):
        return
    numa_init(k, dummy_numa_init)


def _numa_init_start(k: Kernel) -> None:
    """The start of numa_init() (split out by fwc): node mappings, meminfo and hotplug marks reset."""
    mb, numa = k.memblock, k.numa
    mb.caller = "numa_init"
    mb.set_node(0, PHYS_MAX, k.version.no_node, "memory")
    mb.set_node(0, PHYS_MAX, k.version.no_node, "reserved")
    mb.clear_hotplug(0, PHYS_MAX)
    numa.pxm_to_node, numa.node_cpus, numa.nodes_parsed, numa.meminfo, numa.srat_hotplug = {}, {}, set(), [], []
    numa.distance = {}  # numa_reset_distance()


def numa_init(k: Kernel, init_func: Callable[[Kernel], bool]) -> bool:
    """numa_init() (arch/x86/mm/numa.c): reset, ``init_func``, back to top-down allocation, clean the meminfo up
    and register the nodes (the kernel version's steps: 6.12 has them in mm/numa_memblks.c)."""
    _numa_init_start(k)
    if not init_func(k):
        return False
    k.memblock.set_bottom_up(False)
    if not k.version.numa_cleanup_meminfo(k):
        return False
    return k.version.numa_register_memblks(k)


def dummy_numa_init(k: Kernel) -> bool:
    """dummy_numa_init() (arch/x86/mm/numa.c): one node 0 over all RAM, every CPU on it."""
    numa = k.numa
    k.pr("NUMA turned off" if k.params.numa_off else "No NUMA configuration found")
    end = k.max_pfn << 12
    k.pr(f"Faking a node at [mem {0:#018x}-{end - 1:#018x}]")
    numa.meminfo = [[0, end, 0]]
    numa.nodes_parsed = {0}
    numa.node_cpus = {0: [c.apic_id for _, c in k.machine.cpus]}
    numa.srat_hotplug = []
    return True


def numa_cleanup_meminfo(k: Kernel, low: int = 0, high: int | None = None) -> bool:
    """numa_cleanup_meminfo() (arch/x86/mm/numa.c): blocks without RAM go to numa_reserved_meminfo, blocks are
    trimmed to [0, max_pfn) (6.12's, in mm/numa_memblks.c, to memblock_start_of_DRAM() ..
    memblock_end_of_DRAM(): ``low`` and ``high``), overlaps between nodes fail, a node's
    blocks merge across holes no other node lies in."""
    numa = k.numa
    high = k.max_pfn << 12 if high is None else high
    mi = []
    numa.reserved_meminfo = []
    MB_, ME_ = k.memblock.memory.B, k.memblock.memory.E
    for s, e, nid in numa.meminfo:
        i = bisect_right(ME_, s)
        if not (i < len(MB_) and MB_[i] < e):
            numa.reserved_meminfo.append((s, e, nid))
            continue
        s = max(s, low)
        if e > high:
            numa.reserved_meminfo.append((high, e, nid))
            e = high
        if s < e:
            mi.append([s, e, nid])
    if _disjoint(mi):
        numa.meminfo = _merge_disjoint(k, mi)
        return True
    i = 0
    while i < len(mi):
        bi = mi[i]
        j = i + 1
        while j < len(mi):
            bj = mi[j]
            if bi[1] > bj[0] and bi[0] < bj[1]:
                if bi[2] != bj[2]:
                    k.pr(f"node {bi[2]} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] overlaps with node {bj[2]} "
                         f"[mem {hex10(bj[0])}-{hex10(bj[1] - 1)}]")
                    return False
                k.pr(f"Warning: node {bi[2]} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] overlaps with itself "
                     f"[mem {hex10(bj[0])}-{hex10(bj[1] - 1)}]")
            if bi[2] != bj[2]:
                j += 1
                continue
            s, e = min(bi[0], bj[0]), max(bi[1], bj[1])
            if any(bk[2] != bi[2] and s < bk[1] and e > bk[0] for bk in mi):
                j += 1
                continue
            k.pr(f"NUMA: Node {bi[2]} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] + [mem {hex10(bj[0])}-"
                 f"{hex10(bj[1] - 1)}] -> [mem {hex10(s)}-{hex10(e - 1)}]")
            bi[0], bi[1] = s, e
            del mi[j]
        i += 1
    numa.meminfo = mi
    return True


def _disjoint(mi: list[list[int]]) -> bool:
    """No two blocks overlap (they may touch)."""
    srt = sorted(mi)
    return all(a[1] <= b[0] for a, b in zip(srt, srt[1:]))


def _merge_disjoint(k: Kernel, mi: list[list[int]]) -> list[list[int]]:
    """numa_cleanup_meminfo()'s merge pass, when no two blocks overlap to begin with, in
    linear time: the same merges and lines as the double loop.  Merges never make blocks of
    different nodes overlap, so for each block only the later blocks of its own node matter,
    and another node's block lies in [s, e) (s the start of one of this node's blocks) exactly
    when it starts there: a count in sorted lists of starts."""
    starts = sorted(b[0] for b in mi)
    own: dict[int, list[int]] = {}
    later: dict[int, list[list[int]]] = {}
    for b in mi:
        own.setdefault(b[2], []).append(b[0])
        later.setdefault(b[2], []).append(b)
    for v in own.values():
        v.sort()
    gone: set[int] = set()

    def drop(lst: list[int], x: int) -> None:
        del lst[bisect_left(lst, x)]

    def add(lst: list[int], x: int) -> None:
        lst.insert(bisect_left(lst, x), x)

    for bi in mi:
        if id(bi) in gone:
            continue
        nid = bi[2]
        same = later[nid]
        del same[0]  # bi itself: the blocks after it, in order
        j = 0
        while j < len(same):
            bj = same[j]
            if bi[1] > bj[0] and bi[0] < bj[1]:
                k.pr(f"Warning: node {nid} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] overlaps with itself "
                     f"[mem {hex10(bj[0])}-{hex10(bj[1] - 1)}]")
            s, e = min(bi[0], bj[0]), max(bi[1], bj[1])
            mine = own[nid]
            if bisect_left(starts, e) - bisect_left(starts, s) > bisect_left(mine, e) - bisect_left(mine, s):
                j += 1
                continue
            k.pr(f"NUMA: Node {nid} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] + [mem {hex10(bj[0])}-"
                 f"{hex10(bj[1] - 1)}] -> [mem {hex10(s)}-{hex10(e - 1)}]")
            for lst in (starts, mine):
                drop(lst, bj[0])
                drop(lst, bi[0])
                add(lst, s)
            bi[0], bi[1] = s, e
            gone.add(id(bj))
            del same[j]
    return [b for b in mi if id(b) not in gone]


def numa_register_memblks(k: Kernel) -> bool:
    """numa_register_memblks() (arch/x86/mm/numa.c): node ids into memblock, numa_clear_kernel_node_hotplug()
    (the policy's), numa_meminfo_cover_memory(), then NODE_DATA for every node with memory."""
    numa = k.numa
    mi = numa.meminfo
    _register_meminfo(k, "numa_register_memblks")
    if not numa_meminfo_cover_memory(k):
        return False
    with_memory = {b[2] for b in mi}
    for nid in sorted(numa.possible):
        if nid in with_memory:
            alloc_node_data(k, nid)
    k.log_dump("end of numa_register_memblks")
    return True


def _register_meminfo(k: Kernel, caller: str) -> None:
    """The start of numa_register_memblks() (6.12: numa_register_meminfo(), mm/numa_memblks.c):
    node_possible_map, node ids into memblock.memory, numa_clear_kernel_node_hotplug() (its
    memblock_set_node() on memblock.reserved, the mask of nodes holding reservations, then
    the policy's flag clearing), and the reservations responsible, for pins.txt."""
    mb, numa = k.memblock, k.numa
    mi = numa.meminfo
    numa.possible = set(numa.nodes_parsed) | {b[2] for b in mi}
    mb.caller = caller
    for s, e, nid in mi:
        mb.set_node(s, e - s, nid, "memory")
    for s, e, nid in mi:
        mb.set_node(s, e - s, nid, "reserved")
    numa.kernel_nodes = {n for n in mb.reserved.N if n != k.version.no_node}
    k.policy.numa_clear_kernel_node_hotplug(k)
    # the reservations responsible, for pins.txt
    numa.kernel_node_reasons = {}
    for a, nids in _overlapping_blocks(k.out.allocs, mi):
        for nid in nids:
            numa.kernel_node_reasons.setdefault(nid, []).append(a)


def _overlapping_blocks(allocs, mi):
    """For each allocation, the node of every meminfo block it overlaps, in meminfo order
    (a search in the blocks sorted by address; the plain double loop when blocks overlap)."""
    order = sorted(range(len(mi)), key=lambda j: mi[j][0])
    starts = [mi[j][0] for j in order]
    ends = [mi[j][1] for j in order]
    if any(ends[i] > starts[i + 1] for i in range(len(order) - 1)):
        for a in allocs:
            yield a, [nid for s, e, nid in mi if a.base < e and a.base + a.size > s]
        return
    for a in allocs:
        lo, hi = bisect_right(ends, a.base), bisect_left(starts, a.base + a.size)
        hits = sorted(order[i] for i in range(lo, hi) if a.base < ends[i] and a.base + a.size > starts[i])
        yield a, [mi[j][2] for j in hits]


def numa_clear_kernel_node_hotplug(k: Kernel) -> None:
    """numa_clear_kernel_node_hotplug() (arch/x86/mm/numa.c): a node holding any reservation made so far loses
    the hotplug flag on all its memory (nothing in it can become ZONE_MOVABLE)."""
    numa = k.numa
    for s, e, nid in numa.meminfo:
        if nid in numa.kernel_nodes:
            k.memblock.caller = "numa_clear_kernel_node_hotplug"
            k.memblock.clear_hotplug(s, e - s)
    k.note("numa_clear_kernel_node_hotplug(): kernel nodes " + (",".join(map(str, sorted(numa.kernel_nodes)))
                                                                   or "none"))


def numa_meminfo_cover_memory(k: Kernel) -> bool:
    """numa_meminfo_cover_memory() (arch/x86/mm/numa.c): the nodes must cover all RAM to within 1 MiB."""
    mb = k.memblock
    MB_, ME_ = mb.memory.B, mb.memory.E
    covered = total = 0
    for b_, e_ in zip(MB_, ME_):
        total += pfn_down(e_) - pfn_up(b_)
    for s, e, _ in k.numa.meminfo:
        # memblock.memory is sorted and disjoint: only the regions overlapping [s, e) can add pages
        for i in range(bisect_right(ME_, s), bisect_left(MB_, e)):
            x, y = max(pfn_up(MB_[i]), pfn_up(s)), min(pfn_down(ME_[i]), pfn_down(e))
            if x < y:
                covered += y - x
    if total - covered >= 256:
        k.pr(f"NUMA: nodes only cover {covered >> 8}MB of your {total >> 8}MB e820 RAM. Not used.")
        return False
    return True


def alloc_node_data(k: Kernel, nid: int, nd_size: int | None = None,
                    failed: str = "Cannot find {size} bytes in any node (initial node: {nid})") -> None:
    """alloc_node_data() (arch/x86/mm/numa.c): pg_data_t on its own node if possible, else anywhere
    (6.12's, mm/numa.c, passes its panic message; the size is the version's pgdat_size)."""
    nd_size = nd_size or k.version.pgdat_size
    addr = k.alloc("phys_alloc_try_nid", f"NODE_DATA({nid}) (alloc_node_data)", nd_size, 64, nid)
    if not addr:
        k.pr(failed.format(size=nd_size, nid=nid))
        return
    k.pr(f"NODE_DATA({nid}) allocated [mem {hex10(addr)}-{hex10(addr + nd_size - 1)}]")
    t = k.memblock.search_pfn_nid(addr >> 12)
    tnid = t[2] if t else nid
    if tnid != nid:
        k.pr(f"    NODE_DATA({nid}) on node {tnid}")
    k.numa.node_data[nid] = (addr, tnid)
    k.numa.online.add(nid)


def numa_alloc_distance(k: Kernel) -> None:
    """numa_alloc_distance() (arch/x86/mm/numa.c): the node distance table, below max_pfn_mapped."""
    cnt = max(k.numa.pxm_to_node.values(), default=-1) + 1
    k.alloc("phys_alloc_range", "NUMA distance table (numa_alloc_distance)", cnt * cnt, PAGE, 0,
            k.direct_map.max_pfn_mapped << 12)
    k.pr(f"NUMA: Initialized distance table, cnt={cnt}")




def node_distance(k: Kernel, a: int, b: int) -> int:
    """__node_distance() (arch/x86/mm/numa.c): the distance the SLIT set, else LOCAL_DISTANCE/REMOTE_DISTANCE."""
    return k.numa.distance.get((a, b), LOCAL_DISTANCE if a == b else REMOTE_DISTANCE)
