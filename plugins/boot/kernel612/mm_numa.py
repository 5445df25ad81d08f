"""mm/numa.c (Linux 6.12): alloc_node_data(), moved from arch/x86/mm/numa.c.  It allocates
``roundup(sizeof(pg_data_t), SMP_CACHE_BYTES)`` (6.1: rounded up to a page), so NODE_DATA's
end is that of a page but its start is only cache-line aligned, and the line prints the exact
size; it panics where 6.1 printed ``Cannot find … bytes``.  The rest is 6.1's function."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kernel.numa import alloc_node_data as alloc_node_data_61

if TYPE_CHECKING:
    from ..kernel.state import Kernel

#: roundup(sizeof(pg_data_t), SMP_CACHE_BYTES) of Debian's 6.12.115 amd64 kernel
#: (observed: NODE_DATA(0) allocated [mem 0x7fea9680-0x7fed3fff])
PGDAT_SIZE = 0x2A980


def alloc_node_data(k: Kernel, nid: int) -> None:
    """alloc_node_data() (mm/numa.c): pg_data_t on its own node if possible, else anywhere."""
    alloc_node_data_61(k, nid, None, "Kernel panic - not syncing: Cannot allocate {size} bytes for node {nid} data")
