"""mem_init() (arch/x86/mm/init_64.c) and what the running system gives back later: the pages
memblock_free_all() (mm/memblock.c) hands to the buddy allocator, zone by zone (the zones'
``managed`` pages), mem_init_print_info()'s ``Memory:`` line (mm/page_alloc.c), then the
pages freed after boot: the initrd (free_initrd_mem, arch/x86/mm/init.c), the SMP
alternatives (alternative_instructions, arch/x86/kernel/alternative.c), the unused decrypted
bss and the init sections (free_initmem, arch/x86/mm/init.c) and the gaps around rodata
(mark_rodata_ro, arch/x86/mm/init_64.c)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .page_alloc import page_zones
from .zones import MAX_NR_ZONES, PAGE, pfn_down, pfn_up, roundup

if TYPE_CHECKING:
    from .state import Kernel


def _subtract(ranges: list[tuple[int, int]], holes: list[tuple[int, int]],
              ends: list[int] | None = None) -> list[tuple[int, int]]:
    """``ranges`` minus the sorted, merged ``holes`` (half-open intervals); ``ends``: the
    holes' ends (found by bisection: the holes ending at or below a range's start are skipped)."""
    from bisect import bisect_right

    if ends is None:
        ends = [he for _, he in holes]
    out = []
    for s, e in ranges:
        cur = s
        for i in range(bisect_right(ends, cur), len(holes)):
            hs, he = holes[i]
            if hs >= e:
                break
            if hs > cur:
                out.append((cur, hs))
            cur = max(cur, he)
        if cur < e:
            out.append((cur, e))
    return out


def _add_pages(k: Kernel, nid: int, s_pfn: int, e_pfn: int) -> int:
    """Count pages [s_pfn, e_pfn) of node ``nid`` as managed, zone by zone."""
    if s_pfn >= e_pfn:
        return 0
    managed = k.zones.managed.setdefault(nid, [0] * MAX_NR_ZONES)
    owners = k.zones.page_zones.get(nid)
    if owners is not None:            # overlapping zones: each page's own zone, or none (still in totalram)
        for a, b, z in owners:
            a, b = max(s_pfn, a), min(e_pfn, b)
            if a < b:
                managed[z] += b - a
        return e_pfn - s_pfn
    for z, (start, spanned, _) in enumerate(k.zones.zone_info.get(nid, [])):
        a, b = max(s_pfn, start), min(e_pfn, start + spanned)
        if spanned and a < b:
            managed[z] += b - a
    return e_pfn - s_pfn


def memblock_free_all(k: Kernel) -> int:
    """memblock_free_all() (mm/memblock.c): free_low_memory_core_early() frees every range of
    memblock.memory not reserved (whole pages only, below max_low_pfn = max_pfn); the pages of each
    become managed by their zone.  Returns totalram_pages."""
    mb = k.memblock
    held = sorted((r.base, r.base + r.size) for r in mb.reserved.regions())
    merged: list[tuple[int, int]] = []
    for s, e in held:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    k.zones.managed = {nid: [0] * MAX_NR_ZONES for nid in k.zones.zone_info}
    k.zones.page_zones = {nid: pz for nid in k.zones.zone_info if (pz := page_zones(k, nid)) is not None}
    total = 0
    ends = [e for _, e in merged]
    for r in mb.memory.regions():
        for s, e in _subtract([(r.base, r.base + r.size)], merged, ends):
            total += _add_pages(k, r.nid, pfn_up(s), min(pfn_down(e), k.max_pfn))
    k.zones.totalram = total
    return total


def free_reserved_area(k: Kernel, start: int, end: int) -> int:
    """free_reserved_area() (mm/page_alloc.c): the whole pages of [start, end) become managed by their
    zone (adjust_managed_page_count); returns the count."""
    s, e = pfn_up(start), pfn_down(end)
    n = sum(_add_pages(k, n, max(s, a), min(e, b)) for a, b, n in k.mem_pfn_ranges() if a < e and s < b)
    k.zones.totalram += n
    return n


def mem_init_print_info(k: Kernel, totalram: int) -> None:
    """mem_init_print_info() (mm/page_alloc.c): the ``Memory:`` line.  Its first figure,
    nr_free_pages(), depends on deferred struct-page initialisation and is not modelled: fwc prints
    ``~`` there (an approximate figure)."""
    b = k.build
    physpages = sum(p for zs in k.zones.zone_info.values() for _, _, p in zs)
    code, data, ro = b.text[1] - b.text[0], b.data[1] - b.data[0], b.rodata[1] - b.rodata[0]
    init, bss = b.init[1] - b.init[0], b.bss[1] - b.bss[0]
    k.pr(f"Memory: ~K/{physpages * 4}K available ({code >> 10}K kernel code, {data >> 10}K rwdata, "
         f"{ro >> 10}K rodata, {init >> 10}K init, {bss >> 10}K bss, {(physpages - totalram) * 4}K reserved, "
         f"0K cma-reserved)")


def mem_init(k: Kernel) -> None:
    """mem_init() (arch/x86/mm/init_64.c): pci_iommu_alloc() (the swiotlb), memblock_free_all(),
    then mm_init()'s mem_init_print_info()."""
    from .swiotlb import swiotlb_init_remap

    swiotlb_init_remap(k)
    k.policy.memblock_free_all(k)
    totalram = memblock_free_all(k)
    if not k.version.memory_line_late:
        mem_init_print_info(k, totalram)


def free_after_boot(k: Kernel) -> None:
    """What the booted kernel frees before userspace reads /proc/zoneinfo: the initrd
    (free_initrd_mem, arch/x86/mm/init.c: up to the page-aligned end), .smp_locks
    (alternative_instructions, arch/x86/kernel/alternative.c, with more than one possible CPU the
    kernel still frees it), the unused decrypted bss and the init sections (free_initmem,
    arch/x86/mm/init.c), the text/rodata and rodata/data gaps (mark_rodata_ro,
    arch/x86/mm/init_64.c)."""
    b = k.build
    kbase = k.kernel_image[0]
    off = kbase - b.text[0]          # the image where the description's 'kernel' puts it
    from .smp import possible_cpus

    cpus = possible_cpus(k)
    if sum(1 for c in cpus if c.enabled) != 1 or len(cpus) == 1:   # !uniproc_patched || one possible CPU
        free_reserved_area(k, off + b.smp_locks[0], off + b.smp_locks[1])
    if k.version.memory_line_late:   # 6.12: page_alloc_init_late() prints it, after arch_cpu_finalize_init()
        mem_init_print_info(k, k.zones.totalram)
    if k.initrd:
        ib, isz = k.initrd
        free_reserved_area(k, ib, roundup(ib + isz, PAGE))
    dec_end = b.bss[1]
    dec_start = (dec_end - 1) & ~(2 * 1024 * 1024 - 1)
    free_reserved_area(k, off + dec_start + b.bss_decrypted_used, off + dec_end)
    free_reserved_area(k, off + b.init[0], off + b.init[1])
    free_reserved_area(k, off + roundup(b.text[1], PAGE), off + b.rodata[0])
    free_reserved_area(k, off + roundup(b.rodata[1], PAGE), off + b.data[0])
    memblock_discard(k)


def memblock_discard(k: Kernel) -> None:
    """memblock_discard() (mm/memblock.c), from page_alloc_init_late(): a region array that
    memblock_double_array() moved into memblock is given back (memblock_free_late)."""
    from ..memblock import REGION_STRUCT_SIZE

    for t in (k.memblock.reserved, k.memblock.memory):
        if t.addr is not None:
            free_reserved_area(k, t.addr, t.addr + roundup(t.max * REGION_STRUCT_SIZE, PAGE))
