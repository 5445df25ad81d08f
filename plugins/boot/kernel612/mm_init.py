"""mm/mm_init.c (Linux 6.12): the memory-model initialisation 6.1 had in mm/page_alloc.c
(free_area_init(), find_zone_movable_pfns_for_nodes(), memmap_init()).  The shared steps stay
in :mod:`fwc_plugins.boot.kernel.page_alloc`; what 6.12 does differently:
find_zone_movable_pfns_for_nodes() ignores kernelcore=mirror when memblock has no mirrored
memory, nr_kernel_pages (what the dentry and inode hash tables of a one-node machine are sized
by) counts the pages memblock has free at the end of free_area_init(), and free_area_init_core() sets each zone's managed pages to its present pages (the
memmap is no longer subtracted: ``Total pages`` of the boot-time zonelist line is the sum of
present pages), which is a flag of the version object
(:attr:`~fwc_plugins.boot.kernel612.version.Linux612.managed_pages_are_present`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..kernel.state import Kernel


def kernelcore_mirror_applies(k: Kernel) -> bool:
    """The ``mirrored_kernelcore`` branch of find_zone_movable_pfns_for_nodes() (mm/mm_init.c):
    ``if (!memblock_has_mirror())`` it warns and leaves ZONE_MOVABLE empty."""
    if k.memblock.system_has_some_mirror:      # memblock_has_mirror()
        return True
    k.pr("The system has no mirror memory, ignore kernelcore=mirror.")
    return False


def calc_nr_kernel_pages(k: Kernel) -> int:
    """calc_nr_kernel_pages() (mm/mm_init.c), called by free_area_init() before memmap_init():
    the whole pages of every free memblock range (``for_each_free_mem_range(NUMA_NO_NODE,
    MEMBLOCK_NONE)``); 6.1 summed each zone's present pages less its memmap instead."""
    from ..memblock import NONE, NUMA_NO_NODE

    nr = 0
    for start, end, _ in k.memblock.free_ranges(NUMA_NO_NODE, NONE):
        s, e = (start + 4095) >> 12, end >> 12
        if s < e:
            nr += e - s
    return nr
