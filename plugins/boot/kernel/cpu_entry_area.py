"""setup_cpu_entry_areas() (arch/x86/mm/cpu_entry_area.c), from trap_init(): every possible
CPU's entry area is mapped (nokaslr: CPU i's area follows CPU i-1's, after the read-only IDT
page), and set_pte_vaddr() takes each missing page-table page from memblock (spp_getpage() of
arch/x86/mm/init_64.c): a PUD and a PMD page, then one PTE page per 2 MiB of areas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .zones import PAGE

if TYPE_CHECKING:
    from .state import Kernel


def setup_cpu_entry_areas(k: Kernel) -> None:
    """setup_cpu_entry_areas() (arch/x86/mm/cpu_entry_area.c): the page-table pages its mappings need
    (sizeof(struct cpu_entry_area) is the build's cpu_entry_area_pages)."""
    pages = 1 + len(k.cpus.cpu_node) * k.build.cpu_entry_area_pages
    for i in range(2 + -(-pages // 512)):
        k.alloc("alloc_try_nid", "cpu entry area page table (spp_getpage)", PAGE, PAGE, 0, 0, -1)
