"""arch/x86/mm/numa.c (Linux 6.12): numa_init() calls numa_memblks_init() (mm/numa_memblks.c,
:mod:`.numa_memblks`), then numa_register_nodes(), here: memblock_validate_numa_coverage()
replaces 6.1's numa_meminfo_cover_memory(), and a node gets NODE_DATA when memblock.memory
holds pages of it (get_pfn_range_for_nid()), 6.1: when numa_meminfo has a block of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .memblock import Memblock612
from .mm_numa import alloc_node_data
from .numa_memblks import numa_register_meminfo

if TYPE_CHECKING:
    from ..kernel.state import Kernel

SZ_1M = 1 << 20


def numa_register_nodes(k: Kernel) -> bool:
    """numa_register_nodes() (arch/x86/mm/numa.c): every possible node with memory pages gets
    its NODE_DATA (alloc_node_data(), mm/numa.c) and goes online; memblock_dump_all()."""
    mb = k.memblock
    assert isinstance(mb, Memblock612)          # Linux612.new_memblock()
    if not mb.validate_numa_coverage(SZ_1M):
        k.pr(mb.warnings[-1])
        return False
    for nid in sorted(k.numa.possible):
        if k.mem_pfn_ranges(nid):            # get_pfn_range_for_nid(): start_pfn < end_pfn
            alloc_node_data(k, nid)
            k.numa.online.add(nid)
    k.log_dump("end of numa_register_nodes")
    return True


def numa_register(k: Kernel) -> bool:
    """The end of numa_init() (arch/x86/mm/numa.c): numa_memblks_init()'s
    numa_register_meminfo() (no NUMA emulation), then numa_register_nodes()."""
    return numa_register_meminfo(k) and numa_register_nodes(k)
