"""ACPI tables at boot (drivers/acpi/tables.c, ACPICA tbprint.c/tbinstal.c): the initrd
table upgrade, the table list Linux prints, and the reservation of the tables' memory.

Which archive file replaces or adds which table is decided in one place, the initrd
plugin's :class:`fwc_plugins.initrd.Upgrade` (``firmware.upgrade``); this module prints and
places what that decision says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc import boards

from .e820 import E820_TYPE_NVS, e820__print_table, e820__update_table
from .zones import PAGE

if TYPE_CHECKING:
    from fwc_plugins.initrd import Upgrade

    from .state import Kernel


def _header(d: bytes) -> dict:
    """The SDT header through the acpi plugin's layout, NULs as blanks: the kernel's
    ``%-6.6s`` stops at a NUL and pads with blanks, the same for NUL-padded IDs."""
    from fwc_plugins.acpi import read_header

    return {k: v.replace("\0", " ") if isinstance(v, str) else v for k, v in read_header(d).items()}


def acpi_tb_header_line(sig, addr, length, rev, oem, tid, orev, cid, crev) -> str:
    """acpi_tb_print_table_header()'s format (ACPICA tbprint.c)."""
    return (f"ACPI: {sig:<4.4} 0x{addr:016X} {length:06X} (v{rev:02d} {oem:<6.6} {tid:<8.8} {orev:08X} "
            f"{cid:<4.4} {crev:08X})")


def acpi_tb_print_table_header(d: bytes, addr: int) -> str:
    """acpi_tb_print_table_header() (drivers/acpi/tables.c) for a table whose bytes fwc has."""
    h = _header(d)
    return acpi_tb_header_line(h["signature"], addr, len(d), h["revision"], h["oem_id"], h["oem_table_id"],
                               h["oem_revision"], h["creator_id"], h["creator_revision"])


def table_ids(d: bytes) -> str:
    """``%4.4s-%6.6s-%8.8s`` of the ``Table Upgrade:`` lines."""
    h = _header(d)
    return f"{h['signature']}-{h['oem_id']}-{h['oem_table_id']}"


def _firmware_ids(k: Kernel, signature: str = "") -> tuple:
    m = k.machine
    if boards.is_qemu(m.board):  # NUL-padded IDs print as blanks (%-6.6s stops at the NUL)
        return tuple(v.split("\0")[0] if isinstance(v, str) else v for v in boards.qemu_oem(m.board, m.oem, signature))
    o = m.oem
    return (o.id, o.table_id, o.revision, o.creator_id, o.creator_revision)


def acpi_table_upgrade(k: Kernel) -> dict[int, int]:
    """acpi_table_upgrade() (drivers/acpi/tables.c): every file under kernel/firmware/acpi/ of the initrd, accepted
    or refused with the kernel's message; the accepted ones copied into one memblock
    allocation below ``max_low_pfn_mapped``, which becomes ACPI NVS in e820.  Returns
    {outcome index: offset in the copy}."""
    up = k.firmware.upgrade if k.initrd else None
    copies: dict[int, int] = {}
    total = 0
    if up is not None:
        from fwc_plugins.initrd import ACPI_PREFIX, KERNEL_REJECTION

        for o in up.outcomes:
            path = ACPI_PREFIX + o.name
            if o.fate == "rejected" and o.check is not None:
                k.pr(f"ACPI: {KERNEL_REJECTION[o.check]} [{path}]")
            elif o.fate != "ignored":
                data = up.data(o)
                k.pr(f"ACPI: {_header(data)['signature']} ACPI table found in initrd [{path}][{len(data):#x}]")
                copies[o.index] = total
                total += len(data)
    k.acpi.upgrade_copy = 0
    if copies:
        addr = k.alloc("phys_alloc_range", "ACPI table upgrade copy (acpi_table_upgrade)", total, PAGE, 0,
                       k.direct_map.max_low_pfn_mapped << 12)
        k.acpi.upgrade_copy = addr
        if addr:
            arch_reserve_mem_area(k, addr, total)
    return copies


def arch_reserve_mem_area(k: Kernel, addr: int, size: int) -> None:
    """arch_reserve_mem_area() (arch/x86/kernel/acpi/boot.c): e820__range_add(E820_TYPE_NVS)
    and e820__update_table_print(): the copy is ACPI NVS, printed as the ``modified`` map."""
    k.e820 = e820__update_table(k.e820 + [(addr, addr + size, E820_TYPE_NVS)])
    k.pr("modified physical RAM map:")
    e820__print_table(k, "modified")


def acpi_boot_table_init(k: Kernel, copies: dict[int, int]) -> None:
    """acpi_boot_table_init() (arch/x86/kernel/acpi/boot.c) -> acpi_table_init(): the root table
    and every table it lists (acpi_tb_parse_root_table; each one through
    acpi_table_initrd_override), their reservations (acpi_reserve_initial_tables), then the
    initrd's additional tables (acpi_table_initrd_scan).  Fills ``k.acpi.tables`` with the table
    Linux reads per signature."""
    fw = k.firmware
    up = fw.upgrade if copies else None
    rsdp = fw.rsdp
    if rsdp is not None:
        oem6 = _firmware_ids(k)[0][:6].ljust(6)
        k.pr(f"ACPI: RSDP 0x{rsdp.address:016X} {rsdp.length:06X} (v{2 if rsdp.length > 20 else 0:02d} "
             f"{oem6:<6.6})")
    root = fw.root
    if root is not None:
        k.pr(acpi_tb_header_line(root.signature, root.address, root.length, 1, *_firmware_ids(k)))
    installed = []
    for t in fw.tables:
        addr, length, data = t.address, t.length, t.data
        o = up.override_of(t.signature) if up is not None else None
        if up is not None and o is not None:
            cd = up.data(o)
            k.pr(f"ACPI: Table Upgrade: override [{table_ids(cd)}]")
            new = k.acpi.upgrade_copy + copies[o.index]
            k.pr(f"ACPI: {t.signature} 0x{addr:016X} Physical table override, new table: 0x{new:016X}")
            addr, length, data = new, len(cd), cd
        if data:
            k.pr(acpi_tb_print_table_header(data, addr))
        else:
            k.pr(_unmodelled_header(k, t.signature, addr, length))
        installed.append((t.signature, addr, length, data))
    acpi_reserve_initial_tables(k, installed)
    if up is not None:
        acpi_table_initrd_scan(k, up, copies)
    k.acpi.installed = {sig for sig, _, _, _ in installed}
    for sig, _, _, data in installed:
        if data:
            k.acpi.tables[sig] = data
    # The table Linux reads for each signature the archive provides: the Upgrade's answer.
    for o in up.accepted() if up is not None else ():
        r = up.reads(o.header.signature) if up is not None and o.header is not None else None
        if up is not None and r is not None and o.header is not None:
            k.acpi.tables[o.header.signature] = up.data(r)


def _unmodelled_header(k: Kernel, sig: str, addr: int, length: int) -> str:
    """acpi_tb_print_table_header() for a firmware table fwc has no bytes of (QEMU's FACP, DSDT,
    FACS, HPET, MCFG, WAET): the FACS line has no OEM part (ACPICA tbprint.c); the others carry
    the board's OEM IDs and QEMU 7.2's revision (fwc_plugins.boot.firmware.table_revision)."""
    from ..firmware import table_revision

    if sig == "FACS":
        return f"ACPI: FACS 0x{addr:016X} {length:06X}"
    return acpi_tb_header_line(sig, addr, length, table_revision(k.machine, sig), *_firmware_ids(k, sig))


def acpi_reserve_initial_tables(k: Kernel, installed: list[tuple[str, int, int, bytes]]) -> None:
    """acpi_reserve_initial_tables() (drivers/acpi/tables.c): memblock_reserve() every table's memory."""
    for sig, addr, length, _ in installed:
        k.reserve(addr, length, f"ACPI {sig} table (acpi_reserve_initial_tables)")
        k.pr(f"ACPI: Reserving {sig:>4} table memory at [mem {addr:#x}-{addr + length - 1:#x}]")


def acpi_table_initrd_scan(k: Kernel, up: Upgrade, copies: dict[int, int]) -> None:
    """acpi_table_initrd_scan() (drivers/acpi/tables.c): install every copied table no override
    used (not RSDT/XSDT)."""
    for o in up.installed():
        cd = up.data(o)
        k.pr(f"ACPI: Table Upgrade: install [{table_ids(cd)}]")
        k.pr(acpi_tb_print_table_header(cd, k.acpi.upgrade_copy + copies[o.index]))


def acpi_tables_init(k: Kernel) -> None:
    """setup_arch's ACPI steps: acpi_table_upgrade() then acpi_boot_table_init().
    With ``acpi=off`` fwc skips both; Linux skips only acpi_boot_table_init() (it returns
    early when acpi_disabled) and still copies the initrd's tables -- a known gap, kept so
    that outputs stay as they were."""
    k.acpi.tables = {}
    if k.params.acpi_off:
        return
    acpi_boot_table_init(k, acpi_table_upgrade(k))
