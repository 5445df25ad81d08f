"""setup_arch() (arch/x86/kernel/setup.c) in Linux 6.1's order, with the early
reservations it makes itself (early_reserve_memory, reserve_brk, trim_bios_range) and
reserve_real_mode() (arch/x86/realmode/init.c).  The other steps live in the module of
their kernel file; :func:`setup_arch` here calls them in the kernel's order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc import boards

from .acpi_tables import acpi_tables_init
from .direct_map import init_mem_mapping, memblock_find_dma_reserve
from .e820 import (E820_TYPE_RAM, E820_TYPE_RESERVED, e820__end_of_ram_pfn, e820__finish_early_params,
                   e820__memblock_setup, e820__memory_setup, e820__range_remove, e820__register_nosave_regions,
                   e820__reserve_resources, e820__update_table, parse_memopt)
from .io_apic import io_apic_init_mappings
from .numa import x86_numa_init
from .smp import acpi_parse_hpet
from .page_alloc import free_area_init
from .sparse import sparse_init
from .zones import PAGE, hex10, roundup

if TYPE_CHECKING:
    from .state import Kernel

#: The used part of brk that reserve_brk() keeps: INIT_PGT_BUF_SIZE (16 pages, RANDOMIZE_MEMORY) and
#: the DMI strings dmi_alloc() copies (under a page with QEMU's SMBIOS): seen as 0x11000 with memblock=debug
BRK_USED = 0x11000
REALMODE_SIZE = 0x6000            # page-aligned real-mode blob (approximate; lands in [0, 1M) anyway)
BIOS_START = 0x9F000              # reserve_bios_regions() with SeaBIOS's BDA (639 KiB -> clamped)
ISA_END_ADDRESS = 0x100000


def setup_arch(k: Kernel) -> None:
    """setup_arch() (arch/x86/kernel/setup.c): from its ``Command line`` line to paging_init()."""
    mb = k.memblock
    k.pr(f"Command line: {k.cmdline}")
    early_reserve_memory(k)
    e820__memory_setup(k)
    parse_early_param(k)
    e820__finish_early_params(k)
    trim_bios_range(k)
    e820__end_of_ram_pfn(k)
    reserve_brk(k)
    mb.set_current_limit(ISA_END_ADDRESS)
    e820__memblock_setup(k)
    efi_find_mirror(k)
    k.policy.after_e820_memblock_setup(k)
    reserve_real_mode(k)
    init_mem_mapping(k)
    mb.set_current_limit(k.direct_map.max_pfn_mapped << 12)
    reserve_initrd(k)
    acpi_tables_init(k)
    x86_numa_init(k)          # initmem_init()
    k.stage = "late"
    memblock_find_dma_reserve(k)
    paging_init(k)
    acpi_parse_hpet(k)        # acpi_boot_init()
    io_apic_init_mappings(k)
    e820__reserve_resources(k)
    e820__register_nosave_regions(k)


def early_reserve_memory(k: Kernel) -> None:
    """early_reserve_memory() (arch/x86/kernel/setup.c): the kernel image, the first 64 KiB, the initrd
    (early_reserve_initrd) and the BIOS regions (reserve_bios_regions), fused."""
    m, b = k.machine, k.build
    ksize = b.kernel_reserve_end - b.text[0]
    kbase, ksize = (m.kernel.base, m.kernel.size) if m.kernel else (b.text[0], ksize)
    k.kernel_image = (kbase, ksize)
    k.kernel_end = kbase + ksize + b.end - b.kernel_reserve_end
    k.note("early_reserve_memory()")
    k.reserve(kbase, ksize, "kernel image (_text..__end_of_kernel_reserve)")
    k.reserve(0, 0x10000, "low 64K (early_reserve_memory)")
    k.initrd = k.firmware.initrd
    if k.initrd:
        ib, isz = k.initrd
        k.reserve(ib, roundup(ib + isz, PAGE) - ib, "initrd (early_reserve_initrd)", permanent=False)
    k.reserve(BIOS_START, 0x100000 - BIOS_START, "BIOS regions (reserve_bios_regions)")


def parse_early_param(k: Kernel) -> None:
    """parse_early_param() (init/main.c)'s effects on early boot: ``mem=`` (parse_memopt), ``movable_node``
    (cmdline_parse_movable_node -> memblock_set_bottom_up) and ``kernelcore=mirror``.  The
    words themselves were parsed once, into ``k.params`` (cmdline.parse_early_options)."""
    p, mb = k.params, k.memblock
    parse_memopt(k)
    if p.movable_node:
        mb.movable_node = True
        mb.set_bottom_up(True)
        k.note("movable_node: memblock_set_bottom_up(true)")
    if p.mirror:
        mb.mirrored_kernelcore = True


def trim_bios_range(k: Kernel) -> None:
    """trim_bios_range() (arch/x86/kernel/setup.c): page 0 reserved, the legacy hole [640K, 1M) not RAM."""
    k.pr("e820: update [mem 0x00000000-0x00000fff] usable ==> reserved")
    if any(t == E820_TYPE_RAM and bb < PAGE for bb, ee, t in k.e820):
        k.e820 = e820__update_table(k.e820 + [(0, PAGE, E820_TYPE_RESERVED)])
    k.pr("e820: remove [mem 0x000a0000-0x000fffff] usable")
    k.e820 = e820__range_remove(k.e820, 0xA0000, 0x100000, E820_TYPE_RAM)


def reserve_brk(k: Kernel) -> None:
    """reserve_brk() (arch/x86/kernel/setup.c): the part of brk used so far (the early page-table buffer)."""
    kbase, ksize = k.kernel_image
    k.reserve(kbase + ksize, BRK_USED, "brk (reserve_brk: early page-table buffer)")


def efi_find_mirror(k: Kernel) -> None:
    """efi_find_mirror() (arch/x86/platform/efi/efi.c) under kernelcore=mirror: EFI's
    mirrored ranges, here the description's ``mirror`` ranges, marked in memblock.  QEMU boards
    boot SeaBIOS: no EFI memory map (efi_enabled(EFI_MEMMAP) is false), so nothing is marked."""
    if k.params.mirror and not boards.is_qemu(k.machine.board):
        for n in k.machine.nodes:
            for r in n.boot_memory:
                if r.mirror:
                    k.memblock.mark_mirror(r.base, r.size)


def reserve_real_mode(k: Kernel) -> None:
    """reserve_real_mode() (arch/x86/realmode/init.c): the trampoline below 1 MiB, then all
    of the first 1 MiB reserved."""
    k.alloc("phys_alloc_range", "real-mode trampoline (reserve_real_mode)", REALMODE_SIZE, PAGE, 0, 0x100000)
    k.reserve(0, 0x100000, "low 1M (reserve_real_mode)")


def reserve_initrd(k: Kernel) -> None:
    """reserve_initrd() (arch/x86/kernel/setup.c): the RAMDISK line; the initrd stays where the
    loader put it when the direct map covers it (pfn_range_is_mapped), else relocate_initrd()
    moves it (``mem=`` below it) and the old range is freed."""
    if k.initrd:
        ib, isz = k.initrd
        end = roundup(ib + isz, PAGE)
        k.pr(f"RAMDISK: [mem {hex10(ib)}-{hex10(end - 1)}]")
        if not pfn_range_is_mapped(k, ib, end):
            relocate_initrd(k, ib, isz)
            k.memblock.caller = "initrd (reserve_initrd: moved)"
            k.memblock.phys_free(ib, end - ib)


def pfn_range_is_mapped(k: Kernel, start: int, end: int) -> bool:
    """pfn_range_is_mapped() (arch/x86/mm/init.c): init_mem_mapping() mapped every memblock memory
    region below max_pfn_mapped; the range must lie in one of them."""
    limit = k.direct_map.max_pfn_mapped << 12
    return end <= limit and any(r.base <= start and end <= r.base + r.size for r in _merged_memory(k))


def _merged_memory(k: Kernel) -> list:
    out: list = []
    for r in k.memblock.memory.regions():
        if out and out[-1].base + out[-1].size == r.base:
            out[-1] = out[-1]._replace(size=out[-1].size + r.size)
        else:
            out.append(r)
    return out


def relocate_initrd(k: Kernel, ib: int, isz: int) -> None:
    """relocate_initrd() (arch/x86/kernel/setup.c): a new home below max_pfn_mapped, top-down."""
    new = k.alloc("phys_alloc_range", "initrd (relocate_initrd)", roundup(isz, PAGE), PAGE, 0,
                  k.direct_map.max_pfn_mapped << 12, permanent=False)
    if new:
        k.pr(f"Allocated new RAMDISK: [mem {new:#010x}-{new + isz - 1:#010x}]")
        k.pr(f"Move RAMDISK from [mem {ib:#010x}-{ib + isz - 1:#010x}] to [mem {new:#010x}-{new + isz - 1:#010x}]")
        k.initrd = (new, isz)


def paging_init(k: Kernel) -> None:
    """paging_init() (arch/x86/mm/init_64.c): sparse_init(), then zone_sizes_init() ->
    free_area_init()."""
    sparse_init(k)
    free_area_init(k)
