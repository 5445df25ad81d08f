"""SPARSEMEM with vmemmap (mm/sparse.c): the present sections and, per node, its usemaps
and memmap (vmemmap page-table pages are not modelled)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc.units import MiB

from .zones import SECTION_PAGES

if TYPE_CHECKING:
    from .state import Kernel

USEMAP_SIZE = 40             # usemap_size() per section
SECTION_MEMMAP = 2 * MiB     # PAGES_PER_SECTION * sizeof(struct page)


def memblocks_present(k: Kernel) -> dict[int, int]:
    """memblocks_present() (mm/sparse.c): every section with memory, and its node (the first one)."""
    secs: dict[int, int] = {}
    for s, e, nid in k.mem_pfn_ranges():
        for sec in range(s // SECTION_PAGES, (e - 1) // SECTION_PAGES + 1):
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
    then one memmap buffer for the run (sparse_buffer_init), else one per section
    (__populate_section_memmap -> vmemmap_populate)."""
    pg = k.numa.node_data.get(nid)
    if pg:
        goal = pg[0] & ~((SECTION_PAGES << 12) - 1)
        gnid = pg[1]
        purpose = f"usemap of node {nid} (sparse_init)"
        a = k.alloc("alloc_try_nid", purpose, USEMAP_SIZE * len(sections), 64, goal, goal + (SECTION_PAGES << 12),
                    gnid)
        if not a:
            k.alloc("alloc_try_nid", purpose, USEMAP_SIZE * len(sections), 64, goal, 0, gnid)
    size = len(sections) * SECTION_MEMMAP
    buf = k.alloc("alloc_exact_nid_raw", f"memmap of node {nid} (sparse_buffer_init)", size, SECTION_MEMMAP,
                  16 * MiB, 0, nid)
    if not buf:
        for sec in sections:
            k.alloc("alloc_try_nid_raw", f"memmap of node {nid} section {sec} (vmemmap_populate)",
                    SECTION_MEMMAP, SECTION_MEMMAP, 16 * MiB, 0, nid)
