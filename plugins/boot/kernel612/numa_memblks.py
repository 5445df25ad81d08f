"""mm/numa_memblks.c (Linux 6.12): the NUMA memory-block code that was arch/x86/mm/numa.c's
in 6.1, made generic.  What changed on the way: numa_cleanup_meminfo() trims the blocks to
memblock_start_of_DRAM() .. memblock_end_of_DRAM() (6.1: 0 .. max_pfn), so a node starting
at 0 now starts at the first RAM page; numa_register_meminfo() is 6.1's
numa_register_memblks() up to numa_clear_kernel_node_hotplug(), which tests
numa_valid_node() where 6.1 tested ``!= MAX_NUMNODES``; the node registration moved to
arch/x86/mm/numa.c numa_register_nodes() (:mod:`.numa`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kernel.numa import _register_meminfo
from ..kernel.numa import numa_cleanup_meminfo as numa_cleanup_meminfo_61

if TYPE_CHECKING:
    from ..kernel.state import Kernel


def numa_cleanup_meminfo(k: Kernel) -> bool:
    """numa_cleanup_meminfo() (mm/numa_memblks.c): 6.1's, between memblock_start_of_DRAM()
    and memblock_end_of_DRAM()."""
    mb = k.memblock
    return numa_cleanup_meminfo_61(k, low=mb.start_of_dram(), high=mb.end_of_dram())


def numa_register_meminfo(k: Kernel) -> bool:
    """numa_register_meminfo() (mm/numa_memblks.c): node_possible_map, node ids into
    memblock.memory, then numa_clear_kernel_node_hotplug() (the policy's; its
    memblock_set_node() on memblock.reserved and the kernel-node mask of valid node ids):
    the start of 6.1's numa_register_memblks(), shared."""
    _register_meminfo(k, "numa_register_meminfo")
    return True
