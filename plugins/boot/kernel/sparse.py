"""SPARSEMEM with vmemmap (mm/sparse.c, mm/sparse-vmemmap.c; vmemmap_populate() of
arch/x86/mm/init_64.c): the present sections, the mem_section roots, per node its usemaps and
memmap, and the vmemmap page-table pages (QEMU's ``-cpu max`` has LA57: 5-level paging,
MAX_PHYSMEM_BITS 52)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc.units import MiB

from .zones import PAGE, SECTION_PAGES

if TYPE_CHECKING:
    from .state import Kernel

SMP_CACHE_BYTES = 64
MAX_PHYSMEM_BITS = 52        # 5-level paging (pgtable_l5_enabled(): QEMU -cpu max has LA57)
SECTION_SIZE_BITS = 27
#: mem_section_usage_size(): subsection_map (8) + rcu_head (16, the 6.1.y backport) + usemap (32)
USAGE_SIZE = 56
SECTION_MEMMAP = 2 * MiB     # PAGES_PER_SECTION * sizeof(struct page)
MAX_DMA_ADDRESS = 16 * MiB   # __pa(MAX_DMA_ADDRESS): vmemmap and percpu allocations start above it
#: vmemmap page-table levels below the PGD, as (name, sections one table page covers): a P4D
#: page per 256 TiB of vmemmap, a PUD page per 512 GiB, a PMD page per 1 GiB (2 MiB PMD mappings)
VMEMMAP_TABLES = (("p4d", 1 << 27), ("pud", 1 << 18), ("pmd", 1 << 9))


def _mem_section_size(k: Kernel) -> int:
    """sizeof(struct mem_section) (include/linux/mmzone.h): 32 with CONFIG_PAGE_EXTENSION."""
    return 32 if k.build.page_extension else 16


def memblocks_present(k: Kernel) -> dict[int, int]:
    """memblocks_present() (mm/sparse.c): the mem_section root array, then every section with memory
    and its node (the first one), a root page per SECTIONS_PER_ROOT sections (sparse_index_alloc)."""
    per_root = PAGE // _mem_section_size(k)
    roots = (1 << (MAX_PHYSMEM_BITS - SECTION_SIZE_BITS)) // per_root
    k.alloc("alloc_try_nid", "mem_section roots (memblocks_present)", 8 * roots, SMP_CACHE_BYTES, 0, 0, -1)
    secs: dict[int, int] = {}
    have: set[int] = set()
    for s, e, nid in k.mem_pfn_ranges():
        for sec in range(s // SECTION_PAGES, (e - 1) // SECTION_PAGES + 1):
            if sec // per_root not in have:
                have.add(sec // per_root)
                k.alloc("alloc_try_nid", f"mem_section root {sec // per_root} (sparse_index_alloc)", PAGE,
                        SMP_CACHE_BYTES, 0, 0, nid)
            secs.setdefault(sec, nid)
    k.zones.present_sections = set(secs)
    return secs


def sparse_init(k: Kernel) -> None:
    """sparse_init() (mm/sparse.c): for each run of present sections of one node, sparse_init_nid()."""
    k.note("sparse_init()")
    secs = memblocks_present(k)
    runs: list[tuple[int, list[int]]] = []
    for sec in sorted(secs):
        if runs and runs[-1][0] == secs[sec]:
            runs[-1][1].append(sec)
        else:
            runs.append((secs[sec], [sec]))
    for nid, ss in runs:
        sparse_init_nid(k, nid, ss)


def sparse_init_nid(k: Kernel, nid: int, sections: list[int]) -> None:
    """sparse_init_nid() (mm/sparse.c): the usemaps near NODE_DATA (sparse_early_usemaps_alloc_pgdat_section),
    then one memmap buffer for the run (sparse_buffer_init), each section's memmap from it or, when it
    failed, on its own (__populate_section_memmap -> vmemmap_populate)."""
    pg = k.numa.node_data.get(nid)
    purpose = f"usemap of node {nid} (sparse_init_nid)"
    if pg:
        goal = pg[0] & ~((SECTION_PAGES << 12) - 1)
        a = k.alloc("alloc_try_nid", purpose, USAGE_SIZE * len(sections), SMP_CACHE_BYTES, goal,
                    goal + (SECTION_PAGES << 12), pg[1])
        if not a:
            k.alloc("alloc_try_nid", purpose, USAGE_SIZE * len(sections), SMP_CACHE_BYTES, goal, 0, pg[1])
    else:
        k.alloc("alloc_try_nid", purpose, USAGE_SIZE * len(sections), SMP_CACHE_BYTES, 0, 0, nid)
    size = len(sections) * SECTION_MEMMAP
    buf = k.alloc("alloc_exact_nid_raw", f"memmap of node {nid} (sparse_buffer_init)", size, SECTION_MEMMAP,
                  MAX_DMA_ADDRESS, 0, nid)
    for sec in sections:
        vmemmap_populate(k, nid, sec, buffered=bool(buf))


def vmemmap_populate(k: Kernel, nid: int, sec: int, buffered: bool) -> None:
    """vmemmap_populate() (arch/x86/mm/init_64.c, 2 MiB mappings): the page-table pages the section's
    vmemmap needs first (vmemmap_alloc_block_zero on the node), then its memmap block from the node's
    buffer, or allocated alone (vmemmap_alloc_block) when there is none."""
    tables = k.zones.vmemmap_tables
    for level, span in VMEMMAP_TABLES:
        if (level, sec // span) not in tables:
            tables.add((level, sec // span))
            k.alloc("alloc_try_nid_raw", f"vmemmap page table ({level}) for node {nid} (vmemmap_populate)", PAGE,
                    PAGE, MAX_DMA_ADDRESS, 0, nid)
    if not buffered:
        k.alloc("alloc_try_nid_raw", f"memmap of node {nid} section {sec} (vmemmap_populate)",
                SECTION_MEMMAP, SECTION_MEMMAP, MAX_DMA_ADDRESS, 0, nid)
