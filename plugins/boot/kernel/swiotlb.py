"""The software IO TLB (kernel/dma/swiotlb.c), set up from mem_init() by pci_iommu_alloc()
(arch/x86/kernel/pci-dma.c) when memory may lie above 4 GiB: a 64 MiB bounce buffer below
4 GiB and its slot and area tables.  QEMU's machines fwc boots have no IOMMU, so it stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc.units import MiB

from .sparse import SMP_CACHE_BYTES
from .zones import PAGE, roundup

if TYPE_CHECKING:
    from .state import Kernel

IO_TLB_SHIFT = 11
IO_TLB_SEGSIZE = 128
DEFAULT_NSLABS = (64 * MiB) >> IO_TLB_SHIFT
IO_TLB_SLOT_SIZE = 24    # sizeof(struct io_tlb_slot)
IO_TLB_AREA_SIZE = 16    # sizeof(struct io_tlb_area)
ARCH_LOW_ADDRESS_LIMIT = 0xFFFFFFFF


def pci_swiotlb_detect(k: Kernel) -> bool:
    """pci_swiotlb_detect() (arch/x86/kernel/pci-dma.c): needed when max_possible_pfn (max_pfn, or the
    end of an SRAT memory range, acpi_numa_memory_affinity_init) is above 4 GiB (``iommu=off`` and
    ``swiotlb=`` are not modelled)."""
    return max(k.max_pfn, k.numa.max_possible_pfn) > (1 << 20)


def swiotlb_init_remap(k: Kernel) -> None:
    """swiotlb_init_remap() (kernel/dma/swiotlb.c): nareas = possible CPUs rounded up to a power of
    two; the buffer (memblock_alloc_low), the slots, the areas."""
    k.cpus.swiotlb = pci_swiotlb_detect(k)
    if not k.cpus.swiotlb:
        return
    n = max(len(k.cpus.cpu_node), 1)
    nareas = 1 << (n - 1).bit_length()
    nslabs = max(DEFAULT_NSLABS, IO_TLB_SEGSIZE * nareas)
    if nslabs & (nslabs - 1):
        nslabs = 1 << nslabs.bit_length()
    k.alloc("alloc_try_nid", "swiotlb bounce buffer (swiotlb_init_remap)", roundup(nslabs << IO_TLB_SHIFT, PAGE),
            PAGE, 0, ARCH_LOW_ADDRESS_LIMIT, -1)
    k.alloc("alloc_try_nid", "swiotlb slots (swiotlb_init_remap)", roundup(nslabs * IO_TLB_SLOT_SIZE, PAGE), PAGE,
            0, 0, -1)
    k.alloc("alloc_try_nid", "swiotlb areas (swiotlb_init_remap)", nareas * IO_TLB_AREA_SIZE, SMP_CACHE_BYTES,
            0, 0, -1)
