"""Not kernel code: what SeaBIOS 1.16.2 (Debian 12's, as QEMU 7.2 ships it) allocates at the
top of low RAM, and so where QEMU's ACPI tables land and how much low RAM the e820 map
reserves.

SeaBIOS (src/malloc.c malloc_preinit) takes ZoneHigh, BUILD_MAX_HIGHTABLE = 256 KiB, off the
top of the highest RAM entry below 4 GiB and reserves it; its allocations are made from the
top down; at the end malloc_prepboot() gives back the free space at the bottom of the zone,
page-aligned down (``Returned N bytes of ZoneHigh``).  So the reserved tail is the zone's
used part rounded up to a page.  Allocations, in order (src/fw/paravirt.c
qemu_platform_setup, then device init):

1. the SMBIOS structure table (src/fw/smbios.c smbios_romfile_setup): QEMU's
   ``etc/smbios/smbios-tables`` plus the type 0 SeaBIOS adds; in the F segment when it is
   at most BUILD_MAX_SMBIOS_FSEG = 600 bytes, else ``malloc_high`` (16-byte aligned);
2. QEMU's ACPI blob (``etc/table-loader`` ALLOCATE of ``etc/acpi/tables``, 64-byte aligned,
   ACPI_BUILD_TABLE_SIZE = 0x20000 bytes: hw/i386/acpi-build.c pads it to that);
3. on q35, the AHCI port the default CD-ROM sits on (src/hw/ahci.c ahci_port_realloc:
   ``cmd``, ``fis`` = ``memalign_high(256, 256)``, then ``list`` = ``memalign_high(1024, 1024)``;
   measured: with the ACPI blob at 0x7ffdf680 the tail stays 0x21000, which only this order
   gives).

The SMBIOS length is QEMU 7.2's hw/smbios/smbios.c tables for the machine (types 1, 3, one 4
per socket, 16, one 17 per 16 GiB of RAM, one 19 per RAM region below/above 4 GiB, 32, 127)
plus SeaBIOS's type 0.  Measured with the real QEMU (bench/seabios_tail.py: FACS address
and e820 of q35/pc with 1-255 sockets, 2-32 GiB): every case agrees with this model.
"""

from __future__ import annotations

from typing import NamedTuple

from fwc.boards import FOUR_G

ZONE_HIGH = 256 * 1024           # BUILD_MAX_HIGHTABLE
SMBIOS_FSEG_MAX = 600            # BUILD_MAX_SMBIOS_FSEG
ACPI_BLOB = 0x20000              # ACPI_BUILD_TABLE_SIZE (QEMU)
ACPI_ALIGN = 64                  # the table loader's ALLOCATE alignment for etc/acpi/tables
MALLOC_MIN_ALIGN = 16
PAGE = 4096
MAX_DIMM_SZ = 16 << 30           # hw/smbios/smbios.c: one type 17 per 16 GiB

#: QEMU 7.2's machine-type names (SMBIOS "version" strings) and type 1 product names
MACHINE_VERSION = {"qemu-q35": "pc-q35-7.2", "qemu-pc": "pc-i440fx-7.2"}
PRODUCT = {"qemu-q35": "Standard PC (Q35 + ICH9, 2009)", "qemu-pc": "Standard PC (i440FX + PIIX, 1996)"}
SEABIOS = ("SeaBIOS", "1.16.2-debian-1.16.2-1", "04/01/2014")  # BIOS_NAME, VERSION, BIOS_DATE


def _struct(formatted: int, *strings: str) -> int:
    """One SMBIOS structure: the formatted part, its strings, the terminating NUL (two NULs
    when there is no string)."""
    strs = [s for s in strings if s]
    return formatted + sum(len(s) + 1 for s in strs) + (1 if strs else 2)


def smbios_length(board: str, ram: int, below_4g: int, sockets: int) -> int:
    """The SMBIOS structure table SeaBIOS installs for a QEMU 7.2 machine."""
    ver = MACHINE_VERSION[board]
    n = _struct(0x18, *SEABIOS)                                 # type 0 (SeaBIOS smbios_new_type_0)
    n += _struct(0x1B, "QEMU", PRODUCT[board], ver)             # type 1
    n += _struct(0x16, "QEMU", ver)                             # type 3
    n += sockets * _struct(0x2A, "CPU 0", "QEMU", ver)          # type 4 per socket ("%s%2x")
    n += _struct(0x17)                                          # type 16
    dimms = max(1, -(-ram // MAX_DIMM_SZ))
    n += sum(_struct(0x28, f"DIMM {i}", "QEMU") for i in range(dimms))  # type 17
    n += _struct(0x1F) * (1 + (ram > below_4g))                 # type 19 per region
    n += _struct(0x0B) + _struct(0x04)                          # type 32, type 127
    return n


class HighZone(NamedTuple):
    acpi_base: int      # where QEMU's ACPI blob (FACS first) starts
    reserved_tail: int  # bytes SeaBIOS keeps reserved below the low-RAM end
    smbios: int         # SMBIOS table length
    smbios_high: bool   # the SMBIOS table is in ZoneHigh (else in the F segment)


def high_zone(board: str, low_end: int, ram: int, sockets: int, nvdimm: bool = False) -> HighZone:
    """SeaBIOS's ZoneHigh for a QEMU 7.2 machine whose RAM below 4 GiB ends at ``low_end``.
    ``nvdimm``: QEMU's NVDIMM DSM buffer (``etc/acpi/nvdimm-mem``, one 4 KiB page) lies above the
    ACPI blob (a real pc boot with NVDIMMs: the blob and the reserved tail 0x1000 lower)."""
    top = low_end
    below = min(ram, low_end) if low_end <= FOUR_G else low_end
    smb = smbios_length(board, ram, below, sockets)
    high = smb > SMBIOS_FSEG_MAX
    if high:
        top = (top - smb) & ~(MALLOC_MIN_ALIGN - 1)
    if nvdimm:
        top = (top - PAGE) & ~(PAGE - 1)
    acpi = (top - ACPI_BLOB) & ~(ACPI_ALIGN - 1)
    lowest = acpi
    if board == "qemu-q35":  # ahci_port_realloc(): cmd 256@256, fis 256@256, list 1024@1024
        fis = ((acpi - 256) & ~255) - 256
        lowest = (fis - 1024) & ~1023
    used = low_end - lowest
    return HighZone(acpi, (used + PAGE - 1) & ~(PAGE - 1), smb, high)


#: SeaBIOS's F segment (measured: q35 and pc alike): the MP table (src/fw/mptable.c, one CPU
#: entry per package, i.e. per socket) fits up to 20 packages, else malloc_fseg() fails and
#: there is none; then the SMBIOS table when at most 600 bytes, its entry point, the RSDP.
FSEG_RSDP_TOP = 0xF5B80     # RSDP address with an MP table of no CPU entry and SMBIOS high
FSEG_RSDP_NO_MPTABLE = 0xF5C40
MPTABLE_MAX_PACKAGES = 20


def rsdp_address(board: str, low_end: int, ram: int, sockets: int) -> int:
    """Where SeaBIOS copies QEMU's RSDP (``etc/acpi/rsdp``, malloc_fseg), allocations being made
    from the top of the F-segment zone down, 16-byte aligned: measured for 1-22 sockets and
    1-255 CPUs (bench/seabios_tail.py)."""
    below = min(ram, low_end) if low_end <= FOUR_G else low_end
    smb = smbios_length(board, ram, below, sockets)
    smb_fseg = (smb + 15) & ~15 if smb <= SMBIOS_FSEG_MAX else 0
    if sockets > MPTABLE_MAX_PACKAGES:
        return FSEG_RSDP_NO_MPTABLE - smb_fseg
    mp = 20 * sockets - (4 * sockets) % 16 + 16  # the CPU entries' share of the 16-byte-aligned table
    return FSEG_RSDP_TOP - mp - smb_fseg
