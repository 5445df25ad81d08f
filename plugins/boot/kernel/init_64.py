"""arch/x86/mm/init_64.c: the memory block size (probe_memory_block_size())."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Kernel

MIN_MEMORY_BLOCK_SIZE = 128 << 20        # include/linux/memory.h: 1 << SECTION_SIZE_BITS
MAX_BLOCK_SIZE = 2 << 30                 # arch/x86/include/asm/... (init_64.c): 2 GiB
MEM_SIZE_FOR_LARGE_BLOCK = 64 << 30      # arch/x86/mm/init_64.c


def probe_memory_block_size(k: Kernel, hypervisor: bool = True) -> int:
    """probe_memory_block_size() (arch/x86/mm/init_64.c): 128 MiB below 64 GiB of boot memory
    (``max_pfn``); above, 2 GiB on bare metal, and under a hypervisor (QEMU sets the CPUID
    hypervisor bit) the largest power of two up to 2 GiB that the end of boot memory is
    aligned to.  Prints ``x86/mm: Memory block size: NMB``."""
    end = k.max_pfn << 12
    if end < MEM_SIZE_FOR_LARGE_BLOCK:
        bz = MIN_MEMORY_BLOCK_SIZE
    elif not hypervisor:
        bz = MAX_BLOCK_SIZE
    else:
        bz = MAX_BLOCK_SIZE
        while bz > MIN_MEMORY_BLOCK_SIZE and end % bz:
            bz >>= 1
    k.hotplug.block_size = bz
    k.pr(f"x86/mm: Memory block size: {bz >> 20}MB")
    return bz
