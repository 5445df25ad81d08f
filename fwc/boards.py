"""What each board provides: defaults and QEMU 7.2's memory layout rules.

The QEMU rules are QEMU 7.2's (hw/i386/pc_q35.c and pc_piix.c for the low-RAM split,
hw/i386/pc.c for the device-memory window, hw/i386/acpi-build.c build_srat() for the SRAT),
checked against tables and e820 maps read from real guests (tests/golden/qemu):

* q35 keeps RAM below 4 GiB up to 0xb0000000 when it all fits, otherwise
  2 GiB low and the rest from 4 GiB; ``max-ram-below-4g`` can only lower that;
* pc keeps RAM below 0xe0000000 (or ``max-ram-below-4g``) when it all fits, otherwise
  3 GiB low (or the limit, if lower);
* node memory is stacked in node-id order; QEMU's SRAT skips
  [640 KiB, 1 MiB) and the hole between the low RAM end and 4 GiB;
* the DIMM window starts at ROUND_UP(4 GiB + above_4g, 1 GiB) (exactly
  4 GiB when nothing is above 4 GiB) and is (maxmem - ram) + 1 GiB per slot.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

from .units import GiB, KiB, MiB, TiB  # noqa: F401 (re-exported: board arithmetic is in these)

FOUR_G = 4 * GiB
HOLE_640K, ONE_M = 0xA0000, 0x100000
MEMORY_BLOCK = 128 * MiB  # x86 memory block size (sparsemem section)


class Board(NamedTuple):
    name: str
    description: str
    qemu_machine: str | None  # -machine type, for QEMU boards
    oem: tuple  # (id, table id, revision, creator id, creator revision)
    table_revisions: dict
    max_phys_bits: int


BOARDS = {
    "generic": Board("generic", "any x86_64/arm64 machine; every range is explicit", None,
                     ("FWC   ", "FWCMACH ", 1, "FWC ", 1),
                     {"srat": 3, "slit": 1, "madt": 5, "xsdt": 1, "rsdt": 1}, 52),
    "qemu-q35": Board("qemu-q35", "QEMU 7.2 -machine q35 (pc-q35-7.2)", "q35",
                      ("BOCHS ", "BXPC    ", 1, "BXPC", 1),
                      {"srat": 1, "slit": 1, "madt": 1, "xsdt": 1, "rsdt": 1}, 40),
    "qemu-pc": Board("qemu-pc", "QEMU 7.2 -machine pc (pc-i440fx-7.2)", "pc",
                     ("BOCHS ", "BXPC    ", 1, "BXPC", 1),
                     {"srat": 1, "slit": 1, "madt": 1, "xsdt": 1, "rsdt": 1}, 40),
}


def is_qemu(board: str) -> bool:
    return BOARDS[board].qemu_machine is not None


#: QEMU 7.2's default low-RAM limits: q35 keeps RAM below 0xb0000000 when it all fits there
#: (else 2 GiB low), pc below 0xe0000000 (else 3 GiB low, gigabyte_align).
Q35_LOWMEM, Q35_SPLIT = 0xB0000000, 0x80000000
PC_LOWMEM, PC_SPLIT = 0xE0000000, 0xC0000000


def below_4g(board: str, ram_size: int, limit: int = 0) -> int:
    """How much of ``ram_size`` bytes of QEMU RAM lies below 4 GiB, with ``-machine
    max-ram-below-4g=limit`` (0: not given): QEMU 7.2's ``below_4g_mem_size`` as
    hw/i386/pc_q35.c pc_q35_init() and pc_piix.c pc_init1() compute it.  q35 only lowers its
    own limit (``min(lowmem, limit)``); pc takes the limit as its lowmem and still caps it at
    3 GiB once RAM does not fit below it."""
    if board == "qemu-q35":
        lowmem = Q35_SPLIT if ram_size >= Q35_LOWMEM else Q35_LOWMEM
        if limit:
            lowmem = min(lowmem, limit)
    else:
        lowmem = limit or PC_LOWMEM
        if ram_size >= lowmem:
            lowmem = min(lowmem, PC_SPLIT)
    return lowmem if ram_size >= lowmem else ram_size


def split_low_end(board: str, above: int, limit: int = 0) -> int:
    """The low-RAM end QEMU gives boot RAM that has ``above`` > 0 bytes above 4 GiB: the
    ``below`` for which ``below_4g(below + above) == below``.  At most one candidate fits
    (the default split, or the limit itself); when none does, the board's default split
    (the layout checks then report the RAM QEMU cannot produce)."""
    default = Q35_SPLIT if board == "qemu-q35" else PC_SPLIT
    for low in (default, limit):
        if low and below_4g(board, low + above, limit) == low:
            return low
    return default


def low_ram_rule(board: str, limit: int = 0) -> str:
    """QEMU's below/above-4G rule in words, for diagnostics."""
    if board == "qemu-q35":
        rule = "RAM below 0xb0000000 all fits below 4 GiB, more is split at 2 GiB"
        return rule + (f", and max-ram-below-4g={limit:#x} lowers that limit" if limit else "")
    if limit:
        return f"RAM below max-ram-below-4g={limit:#x} all fits below 4 GiB, more is split at {min(limit, PC_SPLIT):#x}"
    return "RAM below 0xe0000000 all fits below 4 GiB, more is split at 3 GiB"


def below_4g_of_top(board: str, top: int, limit: int = 0) -> int:
    """The low-RAM end for boot RAM whose highest address is ``top``: RAM reaching above
    4 GiB implies QEMU's split low end; otherwise it is ``below_4g`` of that much RAM."""
    return below_4g(board, top, limit) if top <= FOUR_G else split_low_end(board, top - FOUR_G, limit)


def phys_to_ram(addr: int, below: int) -> int | None:
    """pc.ram offset of a guest-physical address, or None in the PCI hole."""
    if addr < below:
        return addr
    if addr >= FOUR_G:
        return addr - FOUR_G + below
    return None


def srat_ranges(sizes: Iterable[int], below: int) -> list[list[tuple[int, int]]]:
    """QEMU 7.2's SRAT memory ranges (hw/i386/acpi-build.c build_srat()) for RAM blocks of
    these sizes stacked in this order from address 0: for each block its ``(base, size)``
    pieces, cut at 640 KiB (resuming at 1 MiB) and at the low-RAM end ``below`` (resuming at
    4 GiB).  QEMU's own walk, quirks included: a block that ends inside [640K, 1M) makes the
    next one start at 1 MiB."""
    out = []
    next_base = 0
    for size in sizes:
        mem_base, mem_len = next_base, size
        next_base = mem_base + mem_len
        pieces: list[tuple[int, int]] = []
        out.append(pieces)
        if mem_base <= HOLE_640K < next_base:
            mem_len -= next_base - HOLE_640K
            if mem_len > 0:
                pieces.append((mem_base, mem_len))
            if next_base <= ONE_M:
                next_base = ONE_M
                continue
            mem_base, mem_len = ONE_M, next_base - ONE_M
        if mem_base <= below < next_base:
            mem_len -= next_base - below
            if mem_len > 0:
                pieces.append((mem_base, mem_len))
            mem_base, mem_len = FOUR_G, next_base - below
            next_base = mem_base + mem_len
        if mem_len > 0:
            pieces.append((mem_base, mem_len))
    return out


#: QEMU 7.2's ``acpi_data_size`` below the low-RAM end, which x86_load_linux() keeps the
#: initrd clear of.  Calibrated on the recorded boots (tests/golden/qemu, a 1032526-byte
#: initrd): q35 RAMDISK 0x7fed3000 (2 GiB below 4 GiB) needs 0x30000, pc 0xbfee3000 0x20000.
#: Not exact yet (issue 11): QEMU's source sets ``pcmc->acpi_data_size = 0x20000 + 0x8000`` for
#: both boards (hw/i386/pc.c pc_machine_class_init), but Debian's kernel has
#: XLF_CAN_BE_LOADED_ABOVE_4G, so QEMU's placement is (below_4g - acpi_data_size - 1 - size) &
#: -4096, and the linuxboot_dma option ROM keeps it (its end page is the initrd_addr_max page
#: QEMU wrote into the header); real boots then bound the value to [0x1fc89, 0x20c88] on pc and
#: [0x2fc89, 0x30c88] on q35 (RAMDISK 0xbfee4000 and 0x7fed4000 for a 1028983-byte initrd,
#: 2026-12-02), which no single 0x28000 satisfies: where the difference comes from in QEMU is
#: not found, so the measured values stay.
QEMU_ACPI_DATA_SIZE = {"qemu-q35": 0x30000, "qemu-pc": 0x20000}


def qemu_initrd_base(board: str, below: int, size: int, initrd_max: int = 0xFFFFFFFF) -> int:
    """Where QEMU 7.2's -kernel loader (hw/i386/x86.c x86_load_linux()) puts an initrd of
    ``size`` bytes: page-aligned down, ending at ``initrd_max`` (the kernel's limit) or just
    below the low-RAM end ``below`` less ``acpi_data_size``, whichever is lower."""
    acpi = QEMU_ACPI_DATA_SIZE[board]
    if initrd_max >= below - acpi:
        initrd_max = below - acpi - 1
    return (initrd_max - size) & ~4095


def ram_size(board: str, boot_ranges, limit: int = 0) -> int:
    """QEMU's ``-m`` for boot RAM at these addresses: the end of the highest range in
    pc.ram terms (the 640K-1M gap and the PCI hole are inside pc.ram, in no range)."""
    top = max((r.base + r.size for r in boot_ranges), default=0)
    if top <= FOUR_G:
        return top
    return split_low_end(board, top - FOUR_G, limit) + (top - FOUR_G)


def window(board: str, boot_ranges, slots: int, maxmem: int, limit: int = 0) -> tuple[int, int] | None:
    """(base, size) of QEMU's DIMM window for this boot RAM, or None without slots."""
    if not slots:
        return None
    ram = ram_size(board, boot_ranges, limit)
    return device_window(ram - below_4g(board, ram, limit), ram, slots, maxmem)


def device_window(above_4g: int, ram_size: int, slots: int, maxmem: int) -> tuple[int, int]:
    """(base, size) of QEMU's device-memory (DIMM) window."""
    if above_4g:
        base = (FOUR_G + above_4g + GiB - 1) // GiB * GiB
    else:
        base = FOUR_G
    return base, (maxmem - ram_size) + GiB * slots


def qemu_id(value: str) -> str | None:
    """The -machine x-oem-id/x-oem-table-id value QEMU 7.2 pads (with NULs) back to ``value``,
    commas doubled as QEMU's option syntax wants; None when none does (a NUL before another
    character, or nothing but NULs: QEMU then keeps its own ID)."""
    text = value.rstrip("\0")
    if not text or "\0" in text:
        return None
    return text.replace(",", ",,")


#: Tables QEMU 7.2 names itself whatever x-oem-table-id says (hw/acpi/nvdimm.c: the NVDIMM SSDT)
QEMU_OWN_TABLE_IDS = {"SSDT": "NVDIMM\0\0"}


def qemu_oem(board: str, oem, signature: str = "") -> tuple:
    """The identity in the headers of QEMU 7.2's tables for a machine with this ``oem``
    (id, table id, revision, creator id, creator revision): the OEM ID and table ID fwc's
    command line gives QEMU (-machine x-oem-id/x-oem-table-id), the rest QEMU's own."""
    dflt = BOARDS[board].oem
    oid = oem.id if oem.id != dflt[0] and qemu_id(oem.id) is not None else dflt[0]
    tid = oem.table_id if oem.table_id != dflt[1] and qemu_id(oem.table_id) is not None else dflt[1]
    return (oid, QEMU_OWN_TABLE_IDS.get(signature, tid), *dflt[2:])


def device_ids(count: int) -> list[str]:
    """The ``-device …,id=`` fwc's command line gives its DIMMs and NVDIMMs, in address order."""
    return [f"d{k}" for k in range(count)]


_PRIME_MOD = (1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521)


def qom_child_order(names: list[str]) -> list[str]:
    """The order ``object_child_foreach()`` visits children added under these names (QEMU
    7.2 keeps an object's properties in a GLib 2.74 ``GHashTable``: g_str_hash, index
    ``(hash * 11) % mod``, quadratic probing, in-place resize; iteration is by bucket).  QEMU's
    SRAT lists NVDIMMs in this order (hw/acpi/nvdimm.c nvdimm_get_device_list() over
    /machine/peripheral), which the tables read from QEMU confirm."""
    shift = 3
    size, mod = 1 << shift, _PRIME_MOD[shift]
    hashes, keys = [0] * size, [""] * size
    nnodes = 0
    for name in names:
        h = 5381
        for c in name.encode():
            h = (h * 33 + (c if c < 128 else c - 256)) & 0xFFFFFFFF
        h = max(h, 2)
        i, step = (h * 11 & 0xFFFFFFFF) % mod, 0
        while hashes[i]:
            step += 1
            i = (i + step) & (size - 1)
        hashes[i], keys[i] = h, name
        nnodes += 1
        if size <= nnodes + nnodes // 16:  # g_hash_table_maybe_resize(): grow (no removals here)
            old = size
            shift = max(3, int(nnodes * 1.333).bit_length())
            size, mod = 1 << shift, _PRIME_MOD[shift]
            hashes += [0] * (size - old)
            keys += [""] * (size - old)
            done = [False] * size
            for j in range(old):  # resize_set(): relocate in place, evicting as it goes
                if hashes[j] < 2 or done[j]:
                    continue
                hv, kv = hashes[j], keys[j]
                hashes[j] = 0
                while True:
                    k, step = (hv * 11 & 0xFFFFFFFF) % mod, 0
                    while done[k]:
                        step += 1
                        k = (k + step) & (size - 1)
                    done[k] = True
                    hv, kv, hashes[k], keys[k] = hashes[k], keys[k], hv, kv
                    if hv < 2:
                        break
    return [k for h, k in zip(hashes, keys) if h >= 2]


def nvdimm_srat_order(dimms: list) -> list:
    """QEMU's SRAT order of the NVDIMMs among ``dimms`` (every DIMM and NVDIMM, address order,
    named by :func:`device_ids`)."""
    ids = device_ids(len(dimms))
    by_id = dict(zip(ids, dimms))
    return [by_id[i] for i in qom_child_order(ids) if getattr(by_id[i], "nonvolatile", False)]


class Interrupts(NamedTuple):
    """Board MADT defaults: what QEMU 7.2 emits for a PC."""

    ioapics: tuple = ((0, 0xFEC00000, 0),)
    # (source IRQ, GSI, INTI flags): IRQ0 -> GSI 2, PCI IRQs level/active high.
    overrides: tuple = ((0, 2, 0x0), (5, 5, 0xD), (9, 9, 0xD), (10, 10, 0xD), (11, 11, 0xD))
    nmis: tuple = ((None, 1, 0x0),)  # (processor UID or None = all, LINT#, flags)


PC_INTERRUPTS = Interrupts()
