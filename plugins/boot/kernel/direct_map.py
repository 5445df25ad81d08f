"""The direct mapping (arch/x86/mm/init.c): init_mem_mapping() maps
all RAM, taking page-table pages first from the brk buffer, then from memblock; and
memblock_find_dma_reserve() (same file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc.units import GiB, MiB

from ..memblock import NUMA_NO_NODE
from .zones import MAX_DMA_PFN, PAGE, pfn_down, pfn_up, roundup

if TYPE_CHECKING:
    from .state import Kernel

PGT_BUF_PAGES = 16  # INIT_PGT_BUF_SIZE / PAGE_SIZE (5-level paging + RANDOMIZE_MEMORY)


def init_mem_mapping(k: Kernel) -> None:
    """init_mem_mapping() (arch/x86/mm/init.c): the first 1 MiB, then the rest bottom-up (movable_node) or top-down.
    The brk buffer follows the kernel image (early_alloc_pgt_buf)."""
    dm = k.direct_map
    k.note("init_mem_mapping()")
    base, size = k.kernel_image
    dm.pgt_buf_start = base + size
    dm.pgt_buf_top = base + size + PGT_BUF_PAGES * PAGE
    end = k.max_pfn << 12
    init_memory_mapping(k, 0, 0x100000)
    if k.memblock.bottom_up:
        memory_map_bottom_up(k, k.kernel_end, end)
        memory_map_bottom_up(k, 0x100000, k.kernel_end)
    else:
        memory_map_top_down(k, 0x100000, end)


def init_range_memory_mapping(k: Kernel, r_start: int, r_end: int) -> int:
    """init_range_memory_mapping() (arch/x86/mm/init.c): map the RAM of [r_start, r_end); the brk buffer may
    be used only when the range does not overlap it."""
    dm = k.direct_map
    mapped = 0
    t = k.memblock.memory
    for s, e in [(pfn_up(bb) << 12, pfn_down(ee) << 12) for bb, ee in zip(t.B, t.E) if pfn_up(bb) < pfn_down(ee)]:
        s, e = min(max(s, r_start), r_end), min(max(e, r_start), r_end)
        if s >= e:
            continue
        brk_end = dm.pgt_buf_start + dm.pgt_buf_used * PAGE
        dm.can_use_brk_pgt = max(s, brk_end) >= min(e, dm.pgt_buf_top)
        init_memory_mapping(k, s, e)
        mapped += e - s
        dm.can_use_brk_pgt = True
    return mapped


def memory_map_top_down(k: Kernel, start: int, end: int) -> None:
    """memory_map_top_down() (arch/x86/mm/init.c): map downwards from the top of RAM in growing steps."""
    mb, dm = k.memblock, k.direct_map
    mb.caller = "init_mem_mapping probe (memory_map_top_down)"
    addr = mb.phys_alloc_range(2 * MiB, 2 * MiB, start, end)
    if addr:
        mb.phys_free(addr, 2 * MiB)
        real_end = addr + 2 * MiB
    else:
        real_end = end
    step = 2 * MiB
    mapped = 0
    dm.max_pfn_mapped = 0
    dm.min_pfn_mapped = real_end >> 12
    last = real_end
    while last > start:
        if last > step:
            s = max((last - 1) // step * step, start)
        else:
            s = start
        mapped += init_range_memory_mapping(k, s, last)
        last = s
        dm.min_pfn_mapped = last >> 12
        if mapped >= step:
            step <<= 8
    if real_end < end:
        init_range_memory_mapping(k, real_end, end)


def memory_map_bottom_up(k: Kernel, start: int, end: int) -> None:
    """memory_map_bottom_up() (arch/x86/mm/init.c): map upwards from ``start`` in growing steps."""
    step = 2 * MiB
    mapped = 0
    k.direct_map.min_pfn_mapped = start >> 12
    while start < end:
        if step and end - start > step:
            nxt = min(roundup(start + 1, step), end)
        else:
            nxt = end
        mapped += init_range_memory_mapping(k, start, nxt)
        start = nxt
        if mapped >= step:
            step <<= 8


def split_mem_range(start: int, end: int) -> list[tuple[int, int, str]]:
    """split_mem_range() (arch/x86/mm/init.c) with 1 GiB pages: 4K head, 2M, 1G, 2M, 4K tail."""
    pieces = []
    s2 = min(roundup(start, 2 * MiB), end)
    if start < s2:
        pieces.append((start, s2, "4k"))
    g0 = min(roundup(s2, GiB), end // (2 * MiB) * (2 * MiB))
    if s2 < g0:
        pieces.append((s2, g0, "2m"))
    g1 = end // GiB * GiB
    if g0 < g1 and g0 % GiB == 0:
        pieces.append((g0, g1, "1g"))
        cur = g1
    else:
        cur = max(g0, s2)
    e2 = end // (2 * MiB) * (2 * MiB)
    if cur < e2:
        pieces.append((cur, e2, "2m"))
        cur = e2
    if cur < end:
        pieces.append((cur, end, "4k"))
    return pieces


def init_memory_mapping(k: Kernel, start: int, end: int) -> None:
    """init_memory_mapping() (arch/x86/mm/init.c): the page-table pages the range needs
    (kernel_physical_mapping_init, fused: fwc counts the tables, it does not build them)."""
    dm = k.direct_map
    need = []
    for ps, pe, kind in split_mem_range(start, end):
        for top in range(ps >> 48, ((pe - 1) >> 48) + 1):
            need.append(("p4d", top))
        for pud in range(ps >> 39, ((pe - 1) >> 39) + 1):
            need.append(("pud", pud))
        if kind in ("2m", "4k"):
            for g in range(ps >> 30, ((pe - 1) >> 30) + 1):
                need.append(("pmd", g))
        if kind == "4k":
            for t in range(ps >> 21, ((pe - 1) >> 21) + 1):
                need.append(("pte", t))
    for key in need:
        if key in dm.tables:
            continue
        dm.tables.add(key)
        alloc_low_page(k, key)
    dm.max_pfn_mapped = max(dm.max_pfn_mapped, end >> 12)
    if start < (1 << 32):
        dm.max_low_pfn_mapped = max(dm.max_low_pfn_mapped, min(end, 1 << 32) >> 12)


def alloc_low_page(k: Kernel, key: tuple[str, int]) -> None:
    """alloc_low_page() = alloc_low_pages(1) (arch/x86/mm/init.c): from the brk buffer while
    it lasts and may be used, else from memblock within the mapped range, else (nothing
    mapped yet) extend_brk."""
    dm = k.direct_map
    if dm.pgt_buf_used + 1 > PGT_BUF_PAGES or not dm.can_use_brk_pgt:
        addr = 0
        if dm.min_pfn_mapped < dm.max_pfn_mapped:
            addr = k.alloc("phys_alloc_range", f"direct-map page table ({key[0]}) (alloc_low_pages)",
                           PAGE, PAGE, dm.min_pfn_mapped << 12, dm.max_pfn_mapped << 12)
        if not addr:
            k.note(f"page table {key} from brk (extend_brk)")
        else:
            dm.pages.append(addr)
    else:
        dm.pgt_buf_used += 1


def memblock_find_dma_reserve(k: Kernel) -> None:
    """memblock_find_dma_reserve() (arch/x86/mm/init.c): pages below 16 MiB that are RAM but not free."""
    mb = k.memblock
    nr = 0
    for b_, e_ in zip(mb.memory.B, mb.memory.E):
        s, e = min(pfn_up(b_), MAX_DMA_PFN), min(pfn_down(e_), MAX_DMA_PFN)
        nr += max(0, e - s)
    free = 0
    for s, e, _ in mb.free_ranges(NUMA_NO_NODE, 0):
        s, e = min(pfn_up(s), MAX_DMA_PFN), min(pfn_down(e), MAX_DMA_PFN)
        if s < e:
            free += e - s
    k.zones.dma_reserve = nr - free
