"""Zone types and the page-frame constants of Linux 6.1 x86_64 (include/linux/mmzone.h,
arch/x86/include/asm/dma.h, include/linux/mmzone.h's section and order sizes)."""

from __future__ import annotations

from enum import IntEnum

PAGE = 4096                       # PAGE_SIZE
PAGE_SHIFT = 12
MAX_NUMNODES = 1024               # 1 << CONFIG_NODES_SHIFT (Debian: 10)
SECTION_PAGES = 1 << 15           # PAGES_PER_SECTION: 128 MiB sections
MAX_ORDER_PAGES = 1024            # MAX_ORDER_NR_PAGES: 4 MiB
MAX_DMA_PFN = 0x1000              # 16 MiB (arch/x86/include/asm/dma.h)
MAX_DMA32_PFN = 0x100000          # 4 GiB
MAX_ARCH_PFN = 0x10000000000      # 5-level paging (observed under QEMU -cpu max)
PHYS_MAX = (1 << 64) - 1          # ULLONG_MAX as memblock ranges use it


class ZoneType(IntEnum):
    """``enum zone_type`` (include/linux/mmzone.h) as built by Debian's 6.1 x86_64 config."""

    ZONE_DMA = 0
    ZONE_DMA32 = 1
    ZONE_NORMAL = 2
    ZONE_MOVABLE = 3
    ZONE_DEVICE = 4

    @property
    def label(self) -> str:
        """The name Linux prints (``zone_names[]`` in mm/page_alloc.c)."""
        return ZONE_NAMES[self]


ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, ZONE_DEVICE = ZoneType
MAX_NR_ZONES = len(ZoneType)
#: zone_names[] of mm/page_alloc.c, indexed by ZoneType.
ZONE_NAMES = ("DMA", "DMA32", "Normal", "Movable", "Device")
#: The zones Linux sizes from the architecture's limits (free_area_init skips ZONE_MOVABLE).
ARCH_ZONES = (ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_DEVICE)
#: The zones a kernel allocation may use (below ZONE_MOVABLE).
KERNEL_ZONES = (ZONE_DMA, ZONE_DMA32, ZONE_NORMAL)


def pfn_up(x: int) -> int:
    """PFN_UP (include/linux/pfn.h)."""
    return (x + PAGE - 1) >> PAGE_SHIFT


def pfn_down(x: int) -> int:
    """PFN_DOWN (include/linux/pfn.h)."""
    return x >> PAGE_SHIFT


def roundup(x: int, a: int) -> int:
    """roundup (include/linux/math.h)."""
    return (x + a - 1) // a * a


def hex10(x: int) -> str:
    """``%#010Lx`` (or ``%#010x``) as printk formats it."""
    return f"{x:#010x}"
