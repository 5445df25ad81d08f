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


def memblocks_present(k: Kernel) -> list[tuple[int, int, int]]:
    """memblocks_present() (mm/sparse.c): the mem_section root array, then every section with memory
    and its node (the first one), a root page per SECTIONS_PER_ROOT sections (sparse_index_alloc).
    The present sections are kept as runs ``(first, end, nid)`` in address order, never one by one."""
    per_root = PAGE // _mem_section_size(k)
    roots = (1 << (MAX_PHYSMEM_BITS - SECTION_SIZE_BITS)) // per_root
    k.alloc("alloc_try_nid", "mem_section roots (memblocks_present)", 8 * roots, SMP_CACHE_BYTES, 0, 0, -1)
    runs: list[tuple[int, int, int]] = []
    have: set[int] = set()
    for s, e, nid in k.mem_pfn_ranges():  # in address order, disjoint
        lo, hi = s // SECTION_PAGES, (e - 1) // SECTION_PAGES + 1
        for root in range(lo // per_root, (hi - 1) // per_root + 1):
            if root not in have:
                have.add(root)
                k.alloc("alloc_try_nid", f"mem_section root {root} (sparse_index_alloc)", PAGE,
                        SMP_CACHE_BYTES, 0, 0, nid)
        if runs and lo < runs[-1][1]:
            lo = runs[-1][1]  # a section shared with the range before keeps that range's node
        if lo >= hi:
            continue
        if runs and runs[-1][1] == lo and runs[-1][2] == nid:
            runs[-1] = (runs[-1][0], hi, nid)
        else:
            runs.append((lo, hi, nid))
    k.zones.present_sections = runs
    return runs


def sparse_init(k: Kernel) -> None:
    """sparse_init() (mm/sparse.c): for each run of present sections of one node, sparse_init_nid()."""
    k.note("sparse_init()")
    groups: list[tuple[int, list[tuple[int, int]]]] = []
    for lo, hi, nid in memblocks_present(k):
        if groups and groups[-1][0] == nid:
            groups[-1][1].append((lo, hi))
        else:
            groups.append((nid, [(lo, hi)]))
    for nid, spans in groups:
        sparse_init_nid(k, nid, spans)


def sparse_init_nid(k: Kernel, nid: int, spans: list[tuple[int, int]]) -> None:
    """sparse_init_nid() (mm/sparse.c): the usemaps near NODE_DATA (sparse_early_usemaps_alloc_pgdat_section),
    then one memmap buffer for the run (sparse_buffer_init), each section's memmap from it or, when it
    failed, on its own (__populate_section_memmap -> vmemmap_populate).  ``spans``: the run's
    sections as ``(first, end)`` spans."""
    count = sum(hi - lo for lo, hi in spans)
    pg = k.numa.node_data.get(nid)
    purpose = f"usemap of node {nid} (sparse_init_nid)"
    if pg:
        goal = pg[0] & ~((SECTION_PAGES << 12) - 1)
        a = k.alloc("alloc_try_nid", purpose, USAGE_SIZE * count, SMP_CACHE_BYTES, goal,
                    goal + (SECTION_PAGES << 12), pg[1])
        if not a:
            k.alloc("alloc_try_nid", purpose, USAGE_SIZE * count, SMP_CACHE_BYTES, goal, 0, pg[1])
    else:
        k.alloc("alloc_try_nid", purpose, USAGE_SIZE * count, SMP_CACHE_BYTES, 0, 0, nid)
    size = count * SECTION_MEMMAP
    buf = k.alloc("alloc_exact_nid_raw", f"memmap of node {nid} (sparse_buffer_init)", size, SECTION_MEMMAP,
                  MAX_DMA_ADDRESS, 0, nid)
    vmemmap_populate(k, nid, spans, buffered=bool(buf))


def vmemmap_populate(k: Kernel, nid: int, spans: list[tuple[int, int]], buffered: bool) -> None:
    """vmemmap_populate() (arch/x86/mm/init_64.c, 2 MiB mappings) for each section of ``spans`` in
    order: the page-table pages the section's vmemmap needs first (vmemmap_alloc_block_zero on the
    node), then its memmap block from the node's buffer, or allocated alone (vmemmap_alloc_block)
    when there is none.  Worked out per table page, not per section: a table page is allocated at
    the first section of the spans it covers, in level order.  The first allocation that fails
    ends the node, as sparse_init_nid() (mm/sparse.c) does: "memory map backing failed"."""
    tables = k.zones.vmemmap_tables
    todo: list[tuple[int, int, str]] = []  # (section, level index, level) in the order they are allocated
    for lo, hi in spans:
        for i, (level, span) in enumerate(VMEMMAP_TABLES):
            for key in range(lo // span, (hi - 1) // span + 1):
                if (level, key) not in tables:
                    tables.add((level, key))
                    todo.append((max(lo, key * span), i, level))
    todo.sort()
    # without a buffer, each section's memmap is allocated alone after its table pages: the
    # sections are walked in order, never listed (one allocation per section: the output is as
    # long as the loop)
    sections = (sec for lo, hi in spans for sec in range(lo, hi)) if not buffered else iter(())
    t = 0
    for sec in sections:
        while t < len(todo) and todo[t][0] <= sec:
            if not _table_page(k, nid, todo[t][2]):
                return
            t += 1
        if not k.alloc("alloc_try_nid_raw", f"memmap of node {nid} section {sec} (vmemmap_populate)",
                       SECTION_MEMMAP, SECTION_MEMMAP, MAX_DMA_ADDRESS, 0, nid):
            return _backing_failed(k, nid)
    for _, _, level in todo[t:]:
        if not _table_page(k, nid, level):
            return


def _table_page(k: Kernel, nid: int, level: str) -> int:
    a = k.alloc("alloc_try_nid_raw", f"vmemmap page table ({level}) for node {nid} (vmemmap_populate)", PAGE,
                PAGE, MAX_DMA_ADDRESS, 0, nid)
    if not a:
        _backing_failed(k, nid)
    return a


def _backing_failed(k: Kernel, nid: int) -> None:
    """sparse_init_nid()'s error path: the node's later sections get no memmap."""
    k.pr(f"sparse_init_nid: node[{nid}] memory map backing failed. Some memory will not be available.")
    k.out.notes.append(f"node {nid}: its memmap could not be allocated (memory map backing failed); fwc does not "
                       "model vmemmap_populate_basepages()'s 4 KiB fallback before it, nor the sections Linux "
                       "then marks not present: the zones predicted past this point are not Linux's")
