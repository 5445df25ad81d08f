"""The e820 table (arch/x86/kernel/e820.c): types, update/remove, printing, the end of RAM,
and handing RAM to memblock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .zones import MAX_ARCH_PFN, MAX_DMA32_PFN, PAGE, PHYS_MAX, hex10, pfn_down, pfn_up

if TYPE_CHECKING:
    from .state import Kernel

#: enum e820_type (arch/x86/include/asm/e820/types.h)
E820_TYPE_RAM, E820_TYPE_RESERVED, E820_TYPE_ACPI, E820_TYPE_NVS, E820_TYPE_UNUSABLE = 1, 2, 3, 4, 5
E820_TYPE_PMEM, E820_TYPE_PRAM = 7, 12
#: e820_type_to_string()
TYPE_NAMES = {E820_TYPE_RAM: "usable", E820_TYPE_RESERVED: "reserved", E820_TYPE_ACPI: "ACPI data",
              E820_TYPE_NVS: "ACPI NVS", E820_TYPE_UNUSABLE: "unusable", E820_TYPE_PMEM: "persistent (type 7)",
              E820_TYPE_PRAM: "persistent (type 12)"}

E820Table = list[tuple[int, int, int]]  # [(start, end, type)], end exclusive


def e820__update_table(entries: E820Table) -> E820Table:
    """e820__update_table() (arch/x86/kernel/e820.c): overlaps resolved in favour of the higher
    type, then merged."""
    points = sorted({b for b, e, t in entries} | {e for b, e, t in entries})
    # A sweep over the points (the kernel sorts change points too): the types of the entries
    # covering [a, b), counted; entries that start at or after their end cover nothing.
    starting: dict[int, list[int]] = {}
    ending: dict[int, list[int]] = {}
    for s, e, t in entries:
        if s < e:
            starting.setdefault(s, []).append(t)
            ending.setdefault(e, []).append(t)
    active: dict[int, int] = {}
    out: E820Table = []
    for a, b in zip(points, points[1:]):
        for t in ending.get(a, ()):
            active[t] -= 1
            if not active[t]:
                del active[t]
        for t in starting.get(a, ()):
            active[t] = active.get(t, 0) + 1
        if not active:
            continue
        t = max(active)
        if out and out[-1][1] == a and out[-1][2] == t:
            out[-1] = (out[-1][0], b, t)
        else:
            out.append((a, b, t))
    return out


def e820__range_remove(table: E820Table, start: int, end: int, typ: int) -> E820Table:
    """e820__range_remove() (arch/x86/kernel/e820.c): cut [start, end) out of the entries of type ``typ``."""
    out = []
    for bb, ee, t in table:
        if t != typ or ee <= start or bb >= end:
            out.append((bb, ee, t))
            continue
        if bb < start:
            out.append((bb, start, t))
        if ee > end:
            out.append((end, ee, t))
    return out


def e820_print_type(t: int) -> str:
    """e820_print_type() (arch/x86/kernel/e820.c): the type's name in e820 lines."""
    return TYPE_NAMES.get(t, f"type {t}")


def e820__print_table(k: Kernel, who: str, table: E820Table | None = None) -> None:
    """e820__print_table(who) (arch/x86/kernel/e820.c): one ``who: [mem a-b] type`` line
    per entry."""
    for b, e, t in k.e820 if table is None else table:
        k.pr(f"{who}: [mem {b:#018x}-{e - 1:#018x}] {e820_print_type(t)}")


def e820__memory_setup(k: Kernel) -> None:
    """e820__memory_setup() (arch/x86/kernel/e820.c): take the firmware's map (fwc's firmware model
    is already sanitized)."""
    k.e820 = list(k.firmware.e820)
    k.pr("BIOS-provided physical RAM map:")
    e820__print_table(k, "BIOS-e820")


def parse_memopt(k: Kernel) -> None:
    """parse_memopt() (arch/x86/kernel/e820.c) for ``mem=``: remove the RAM above the limit."""
    mem = k.params.mem
    if mem:
        k.pr(f"e820: remove [mem {hex10(mem)}-{PHYS_MAX - 1:#010x}] usable")
        k.e820 = e820__range_remove(k.e820, mem, PHYS_MAX, E820_TYPE_RAM)


def e820__finish_early_params(k: Kernel) -> None:
    """e820__finish_early_params() (arch/x86/kernel/e820.c): print the user-defined map after ``mem=``."""
    if k.params.mem:
        k.pr("user-defined physical RAM map:")
        e820__print_table(k, "user")


def e820__end_of_ram_pfn(k: Kernel) -> None:
    """e820__end_of_ram_pfn() (arch/x86/kernel/e820.c) and, above 4 GiB, e820__end_of_low_ram_pfn(): ``max_pfn``
    and their ``last_pfn`` lines (setup_arch calls both)."""
    ram = [(bb, ee) for bb, ee, t in k.e820 if t == E820_TYPE_RAM]
    k.max_pfn = min(max((pfn_down(ee) for _, ee in ram), default=0), MAX_ARCH_PFN)
    k.pr(f"last_pfn = {k.max_pfn:#x} max_arch_pfn = {MAX_ARCH_PFN:#x}")
    if k.max_pfn > MAX_DMA32_PFN:
        low = max((pfn_down(min(ee, 1 << 32)) for bb, ee in ram if bb < (1 << 32)), default=0)
        k.pr(f"last_pfn = {low:#x} max_arch_pfn = {MAX_ARCH_PFN:#x}")


def e820__memblock_setup(k: Kernel) -> None:
    """e820__memblock_setup() (arch/x86/kernel/e820.c): every RAM entry into memblock.memory, trimmed to pages."""
    mb = k.memblock
    mb.allow_resize()
    k.note("e820__memblock_setup()")
    mb.caller = "e820__memblock_setup"
    for bb, ee, t in k.e820:
        if t == E820_TYPE_RAM:
            mb.add(bb, ee - bb)
    mb.trim_memory(PAGE)
    k.log_dump("end of e820__memblock_setup")


def e820__reserve_resources(k: Kernel) -> None:
    """e820__reserve_resources() (arch/x86/kernel/e820.c): a struct resource (64 bytes) per entry of
    the kernel's table, then firmware_map_add_early() (104 bytes) per entry of the firmware's."""
    k.alloc("alloc_try_nid", "e820 resources (e820__reserve_resources)", 64 * len(k.e820), 64, 0, 0, -1)
    for _ in k.firmware.e820:
        k.alloc("alloc_try_nid", "firmware memmap entry (firmware_map_add_early)", 104, 64, 0, 0, -1)


def e820__register_nosave_regions(k: Kernel) -> None:
    """e820__register_nosave_regions() (arch/x86/kernel/e820.c): each gap and non-RAM entry below
    max_pfn is a nosave region; one not adjoining the previous one is a new 32-byte record
    (register_nosave_region, kernel/power/snapshot.c)."""
    pfn, last_end = 0, -1

    def register(s: int, e: int) -> None:
        nonlocal last_end
        if s >= e:
            return
        if last_end != s:
            k.alloc("alloc_try_nid", "nosave region (register_nosave_region)", 32, 64, 0, 0, -1)
        last_end = e

    for bb, ee, t in k.e820:
        if pfn < pfn_up(bb):
            register(pfn, pfn_up(bb))
        pfn = pfn_down(ee)
        if t != E820_TYPE_RAM:
            register(pfn_up(bb), pfn)
        if pfn >= k.max_pfn:
            break
