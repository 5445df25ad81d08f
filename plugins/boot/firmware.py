"""What the firmware hands Linux: the e820 map, the ACPI tables and where they sit, the
initrd placement, and the tables the initrd carries for the table upgrade.

QEMU boards follow QEMU 7.2 + SeaBIOS 1.16.2: SeaBIOS's reserved tail at the top of low
RAM and where the ACPI blob starts are modelled exactly (:mod:`.seabios`, a function of the
board, the RAM size and the socket count), and so is the RSDP address in the F segment; the
DSDT length is a formula measured on the real QEMU (``dsdt_length``).  Generic boards: RAM = the enabled boot-memory ranges, plus the
machine's ``reserved`` statements; tables laid out by the acpi backend at ``tables at``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import attrs

from fwc import boards
from fwc.boards import FOUR_G

from .kernel.e820 import E820_TYPE_ACPI as ACPI
from .kernel.e820 import E820_TYPE_NVS as NVS
from .kernel.e820 import E820_TYPE_PRAM as PRAM
from .kernel.e820 import E820_TYPE_RAM as RAM
from .kernel.e820 import E820_TYPE_RESERVED as RESERVED
from .kernel.e820 import E820_TYPE_UNUSABLE as UNUSABLE
from .kernel.e820 import e820__update_table as sanitize

if TYPE_CHECKING:
    from fwc_plugins.initrd import Upgrade

LANG_TYPES = {"reserved": RESERVED, "acpi": ACPI, "nvs": NVS, "unusable": UNUSABLE, "pmem": PRAM}

# --- QEMU 7.2 / SeaBIOS constants ------------------------------------------------------
#: QEMU's ACPI blob (seabios.high_zone: 128 KiB below the low-RAM end, lower when SeaBIOS's
#: SMBIOS table went there first): FACS at +0, then DSDT, FACP, APIC, HPET, SRAT, SLIT, MCFG
#: (q35), WAET (fwc_plugins.initrd.qemu_table_signatures), RSDT, packed without padding.
QEMU_FIXED_TABLES = {"FACS": 0x40, "HPET": 0x38, "MCFG": 0x3C, "WAET": 0x28}
QEMU_FACP_LEN = {"qemu-q35": 0xF4, "qemu-pc": 0x74}
#: Revisions of the QEMU 7.2 tables fwc has no bytes of (hw/i386/acpi-build.c: the q35 FADT is
#: revision 3, the PIIX4 one revision 1; a real q35 boot prints ``FACP … (v03``).
QEMU_FACP_REVISION = {"qemu-q35": 3, "qemu-pc": 1}


def table_revision(m, sig: str) -> int:
    """The revision of a QEMU 7.2 table fwc has no bytes of (DSDT, HPET, MCFG, WAET: 1)."""
    return QEMU_FACP_REVISION.get(m.board, 1) if sig == "FACP" else 1
#: DSDT lengths read from the goldens (case.json), keyed by
#: (board, possible CPUs, slots, memory-device window present).
QEMU_DSDT_KNOWN = {
    ("qemu-q35", 4, 0): 8607,      # a_q35_2node
    ("qemu-q35", 4, 4): 10083,     # b_q35_2node_dimm
    ("qemu-q35", 6, 0): 8794,      # c_q35_3node_slit
    ("qemu-pc", 2, 0): 6571,       # d_pc_2node_split
    ("qemu-q35", 2, 2): 9653,      # e_q35_memoryless
    # f_q35_maxcpus: the blob starts 640 bytes lower (4 sockets: SeaBIOS's 604-byte SMBIOS
    # table is above it), so FACS..FACP = 9712 bytes as /sys shows
    ("qemu-q35", 16, 0): 9712,
    ("qemu-q35", 255, 0): 31702,   # h_q35_maxcpus255
}
#: How many CPUs of each golden above sit on a node above 1 (each costs the DSDT a _PXM byte,
#: see DSDT_BASE): a machine with the same key and another CPU placement differs by as many bytes.
QEMU_DSDT_KNOWN_HIGH_CPUS = {("qemu-q35", 6, 0): 2}  # c_q35_3node_slit: node 2's two CPUs
#: The oracle's busybox initramfs (tests/oracles/qemu), used when a QEMU machine has no
#: ``initrd`` statement: its RAMDISK line spans 0xfd000 bytes.
QEMU_DEFAULT_INITRD_SIZE = 0xFC800
HT_HOLE = (0xFD00000000, 0x10000000000)  # AMD HyperTransport hole (-cpu max is AMD under TCG)


class Table(NamedTuple):
    signature: str
    address: int
    data: bytes  # empty for tables fwc does not model (DSDT, FACP, ...)
    length: int


class Firmware(NamedTuple):
    e820: list          # [(base, end, type)] as the BIOS hands it over
    tables: list        # Table, in root-table (install) order; RSDP/RSDT first
    rsdp: Table | None
    root: Table | None  # RSDT or XSDT
    initrd: tuple | None  # (base, size)
    upgrade: Upgrade | None  # the initrd archive's table upgrade (the initrd plugin decides it)
    notes: list         # what was assumed


#: The last machines' tables: the boots of one compile (both policies, both kernels) share them.
_BUILT: list = []


def _acpi_tables(m) -> dict[str, tuple[str, bytes]]:
    """The SRAT/SLIT/MADT the acpi plugin builds for ``m``: ``{name: (signature, bytes)}``
    (shared between calls for the same machine object: read it, do not change it)."""
    for mm, built in _BUILT:
        if mm is m:
            return built
    from fwc_plugins.acpi import build_tables

    built = build_tables(m)
    _BUILT.insert(0, (m, built))
    del _BUILT[2:]
    return built


#: QEMU 7.2's DSDT (default devices, NUMA), measured with the real QEMU (bench/seabios_tail.py
#: prints the kernel's ``ACPI: DSDT`` line): q35 with 1 possible CPU is 8334 bytes, 2 CPUs 8423,
#: and every further CPU adds 92 bytes (CPU 1 costs 3 bytes less: its index is AML's One), plus
#: one byte for each CPU on a NUMA node above 1 (its _PXM is a ByteConst, not Zero/One) and one
#: byte each time a package length grows a byte (at 5, 35 and 37 CPUs; at 5 slots); memory
#: slots add 984 + 123 per slot.  Measured for 1-255 CPUs and 0-16 slots, on q35 and pc (pc:
#: 6482 and 6571 bytes); outside that the length is estimated.
DSDT_BASE = {"qemu-q35": (8334, 8423), "qemu-pc": (6482, 6571)}
DSDT_PER_CPU = 92
DSDT_SLOTS = (984, 123)
#: (low, high, bytes): one package-length byte more from some count in (low, high]
DSDT_CPU_STEPS = ((4, 5, 1), (34, 35, 1), (36, 37, 1), (255, 1 << 30, 0))  # measured 1-255
DSDT_SLOT_STEPS = ((4, 5, 1), (16, 1 << 30, 0))                            # measured 0-16
#: Without NUMA QEMU gives the CPU devices no ``Name (_PXM, n)``: 6 bytes less per possible
#: CPU (measured for 1, 2, 5 and 40 CPUs on q35 and pc with tests/oracles/qemu/firmware_tables.py)
DSDT_PXM = 6
#: -machine nvdimm=on (fwc passes it with NVDIMMs): the DSDT grows by 20 bytes, an SSDT
#: ("NVDIMM", one device per memory slot) and an NFIT (per NVDIMM an SPA range, a memory-device
#: mapping and a control region) follow the MCFG.  Measured: SSDT for 1-20, 32, 64, 100, 128,
#: 200 and 256 slots; NFIT for 1-4 NVDIMMs, q35 and pc alike.
DSDT_NVDIMM = 20
SSDT_NVDIMM = (633, 394)  # base + per slot
SSDT_SLOT_STEPS = ((8, 9, 2), (200, 256, 5), (256, 1 << 30, 0))
NFIT_NVDIMM = (40, 184)  # header + per NVDIMM


def nvdimm_lengths(m) -> dict[str, tuple[int, bool]]:
    """{signature: (length, estimated)} of the SSDT and NFIT QEMU adds for NVDIMMs (none without)."""
    nv = sum(r.nonvolatile for n in m.nodes for r in n.dimms)
    if not nv:
        return {}
    extra, unsure = _steps(m.slots, SSDT_SLOT_STEPS)
    return {"SSDT": (SSDT_NVDIMM[0] + SSDT_NVDIMM[1] * m.slots + extra, unsure),
            "NFIT": (NFIT_NVDIMM[0] + NFIT_NVDIMM[1] * nv, False)}


def _steps(n: int, steps) -> tuple[int, bool]:
    extra, unsure = 0, False
    for lo, hi, b in steps:
        if n >= hi:
            extra += b
        elif n > lo:
            unsure = True
    return extra, unsure


def dsdt_length(m) -> tuple[int, bool]:
    """QEMU 7.2's DSDT length for ``m`` and whether it is estimated: the real boot's, when a
    golden has it (QEMU_DSDT_KNOWN), else DSDT_BASE etc."""
    key = qemu_key(m)
    high = sum(1 for node, _ in m.cpus if node.id >= 2)
    no_pxm = 0 if m.numa else DSDT_PXM * len(m.cpus)
    if any(r.nonvolatile for n in m.nodes for r in n.dimms):
        no_pxm -= DSDT_NVDIMM
    known = QEMU_DSDT_KNOWN.get(key)
    if known is not None:
        return known + high - QEMU_DSDT_KNOWN_HIGH_CPUS.get(key, 0) - no_pxm, False
    n = len(m.cpus)
    one, two = DSDT_BASE[m.board]
    size = one if n <= 1 else two + DSDT_PER_CPU * (n - 2)
    extra, unsure = _steps(n, DSDT_CPU_STEPS)
    size += extra + high - no_pxm
    if m.slots:
        extra, u2 = _steps(m.slots, DSDT_SLOT_STEPS)
        size += DSDT_SLOTS[0] + DSDT_SLOTS[1] * m.slots + extra
        unsure = unsure or u2
    return size, unsure


def qemu_key(m):
    return (m.board, len(m.cpus), m.slots)


def high_zone(m):
    """SeaBIOS's ZoneHigh for the machine as fwc's qemu backend runs it (seabios.high_zone)."""
    from fwc_plugins.qemu import cached_plan

    from .seabios import high_zone as hz

    plan = cached_plan(m)
    ram = plan.ram or sum(r.size for n in m.nodes for r in n.boot_memory)
    sockets = plan.cpu.sockets if plan.cpu is not None else 1
    return hz(m.board, _low_end(m), ram, sockets, any(r.nonvolatile for n in m.nodes for r in n.dimms))


def _rsdp_address(m) -> int:
    """Where SeaBIOS puts QEMU's RSDP in the F segment (seabios.rsdp_address)."""
    from fwc_plugins.qemu import cached_plan

    from .seabios import rsdp_address

    plan = cached_plan(m)
    ram = plan.ram or sum(r.size for n in m.nodes for r in n.boot_memory)
    return rsdp_address(m.board, _low_end(m), ram, plan.cpu.sockets if plan.cpu is not None else 1)


def _low_end(m) -> int:
    ends = [r.end for n in m.nodes for r in n.boot_memory if r.base < FOUR_G]
    return max(ends) if ends else 0


def firmware_view(m):
    """The machine as QEMU's own ACPI builder sees it: board OEM, PXM = node id, boot RAM
    never hotpluggable (build_srat() marks only the DIMM window so), and one entry per contiguous
    piece of a node's RAM (a description may cut it where its initrd SRAT changes the flags) --
    the tables QEMU puts in memory."""
    from fwc.model import MemoryRange, Oem

    b = boards.BOARDS[m.board]
    nodes = []
    for n in m.nodes:
        mem: list = []
        for r in n.memory:
            if r.dimm:
                mem.append(r)
            elif mem and not mem[-1].dimm and mem[-1].end == r.base:
                mem[-1] = MemoryRange(mem[-1].base, mem[-1].size + r.size)
            else:
                mem.append(MemoryRange(r.base, r.size))
        nodes.append(attrs.evolve(n, pxm=n.id, memory=mem, initiators=()))
    return attrs.evolve(m, oem=Oem(*boards.qemu_oem(m.board, m.oem)), table_revisions=dict(b.table_revisions), table_overrides={},
                        nodes=nodes)


def build(m, *, dsdt_size: int | None = None) -> Firmware:
    """What the firmware of ``m`` hands Linux (``dsdt_size``: QEMU's DSDT length if known)."""
    notes: list[str] = []
    e820 = bios_e820(m)
    rsdp: Table | None
    root: Table | None
    if boards.is_qemu(m.board):
        tabs, rsdp, root = qemu_tables(m, dsdt_size, notes)
    else:
        tabs, rsdp, root = generic_tables(m)
    initrd = initrd_placement(m, notes)
    upgrade = None
    if m.initrd is not None:
        from fwc_plugins.initrd import archive_files, table_upgrade

        files = archive_files(m)
        for f in files:
            if f.problem is not None:
                notes.append(f"initrd table '{f.name}' left out of the archive: {f.problem[1]}")
        upgrade = table_upgrade(m, files)
    return Firmware(e820, tabs, rsdp, root, initrd, upgrade, notes)


def bios_e820(m) -> list[tuple[int, int, int]]:
    """The e820 map: the description's ``e820 { … }`` block when it gives one (the firmware
    memory map apart from the SRAT); else SeaBIOS's on QEMU boards, the boot-memory ranges
    elsewhere, plus the machine's ``reserved`` statements; sanitized."""
    from fwc.e820 import e820_of

    given = e820_of(m)
    if given is not None:
        return sanitize(given)
    e820 = []
    if boards.is_qemu(m.board):
        low = _low_end(m)
        above = [(r.base, r.end) for n in m.nodes for r in n.boot_memory if r.base >= FOUR_G]
        tail = high_zone(m).reserved_tail
        e820 += [(0, 0x9FC00, RAM), (0x9FC00, 0xA0000, RESERVED), (0xF0000, 0x100000, RESERVED)]
        if low > 0x100000:
            e820 += [(0x100000, low - tail, RAM), (low - tail, low, RESERVED)]
        if m.board == "qemu-q35":
            e820 += [(0xB0000000, 0xC0000000, RESERVED), (0xFED1C000, 0xFED20000, RESERVED)]
        e820.append((0xFFFC0000, FOUR_G, RESERVED))
        if above:
            e820.append((FOUR_G, max(e for _, e in above), RAM))
        e820.append((HT_HOLE[0], HT_HOLE[1], RESERVED))
    else:
        for n in m.nodes:
            for r in n.boot_memory:
                if r.enabled and r.size:
                    e820.append((r.base, r.end, PRAM if r.nonvolatile else RAM))
    for r in m.reserved:
        e820.append((r.base, r.end, LANG_TYPES.get(r.type, RESERVED)))
    return sanitize(e820)


def qemu_tables(m, dsdt_size: int | None, notes: list[str]) -> tuple[list[Table], Table, Table]:
    """QEMU 7.2's tables where SeaBIOS puts them: (install order, RSDP, RSDT)."""
    from fwc_plugins.acpi import TABLES

    built = _acpi_tables(firmware_view(m))
    key = qemu_key(m)
    if dsdt_size is None:
        dsdt_size, estimated = dsdt_length(m)
        if estimated:
            notes.append(f"DSDT length {dsdt_size} estimated (not measured for {key}): ACPI table addresses "
                         "printed for this QEMU machine are approximate")
    from fwc_plugins.initrd import qemu_table_signatures

    addr = high_zone(m).acpi_base
    lengths = dict(QEMU_FIXED_TABLES, DSDT=dsdt_size, FACP=QEMU_FACP_LEN[m.board])
    for sig, (ln, estimated) in nvdimm_lengths(m).items():
        lengths[sig] = ln
        if estimated:
            notes.append(f"{sig} length {ln} estimated (not measured for {m.slots} slots)")
    modelled = {sig: data for sig, data in built.values()}
    order = []
    for sig in qemu_table_signatures(m):
        if sig in lengths:
            order.append((sig, b"", lengths[sig]))
        elif sig in modelled:
            order.append((sig, modelled[sig], len(modelled[sig])))
    placed = {}
    for sig, data, ln in order:
        placed[sig] = Table(sig, addr, data, ln)
        addr += ln
    rsdt_entries = [s for s, _, _ in order if s not in ("FACS", "DSDT")]
    rsdt = TABLES["RSDT"]
    root = Table("RSDT", addr, b"", rsdt.fixed_size() + rsdt.item_width * len(rsdt_entries))
    rsdp_addr = _rsdp_address(m)
    rsdp = Table("RSDP", rsdp_addr, b"", TABLES["RSD PTR "].fixed_size({"revision": 0}))  # ACPI 1.0 RSDP
    # root-table install order: FACP, then DSDT and FACS (from the FADT), then the rest
    tabs = [placed["FACP"], placed["DSDT"], placed["FACS"]] + [placed[s] for s in rsdt_entries if s != "FACP"]
    return tabs, rsdp, root


def generic_tables(m) -> tuple[list[Table], Table | None, Table | None]:
    """The machine's own tables laid out by the acpi backend at ``tables at`` (default
    0xE0000): (install order, RSDP, XSDT)."""
    from fwc_plugins.acpi import build_table_set

    base = m.tables_base if m.tables_base is not None else 0xE0000
    oem = m.oem
    entries = build_table_set([d for _, d in _acpi_tables(m).values()], base=base, header={
        "oem_id": oem.id, "oem_table_id": oem.table_id, "oem_revision": oem.revision,
        "creator_id": oem.creator_id, "creator_revision": oem.creator_revision})
    tabs, rsdp, root = [], None, None
    for e in entries:
        t = Table(e.signature if e.signature != "RSD " else "RSDP", e.address, e.data, len(e.data))
        if t.signature == "RSDP":
            rsdp = t
        elif t.signature == "XSDT":
            root = t
        elif t.signature != "RSDT":
            tabs.append(t)
    return tabs, rsdp, root


#: The Debian 6.1 kernel's boot-header initrd_addr_max (0x22c)
DEBIAN_INITRD_ADDR_MAX = 0x7FFFFFFF


def usable_low_end(m) -> int:
    """The end of the usable RAM below 4 GiB in SeaBIOS's e820 (the low-RAM end less its tail)."""
    return _low_end(m) - high_zone(m).reserved_tail


def linuxboot_initrd_base(qemu_base: int, size: int, usable_end: int,
                          initrd_addr_max: int = DEBIAN_INITRD_ADDR_MAX) -> int:
    """Where the initrd really lands: QEMU 7.2's linuxboot_dma option ROM
    (pc-bios/optionrom/linuxboot_dma.c load_kernel) moves it unless its last page is the kernel's
    initrd_addr_max page: to (e801 top - size) & -4096, where INT 15h E801 reports SeaBIOS's
    usable RAM in 64 KiB units ((DX + 256) << 16).  So it ends below the e820 reserved tail,
    rounded down to 64 KiB (a pc machine with 20 sockets: 64 KiB lower than with 2)."""
    end_page = (qemu_base + size) & ~4095
    max_page = initrd_addr_max & ~4095
    if end_page and max_page and end_page != max_page:
        return ((usable_end & ~0xFFFF) - size) & ~4095
    return qemu_base


def initrd_placement(m, notes: list[str]) -> tuple[int, int] | None:
    """(start, size) of the initrd: the ``initrd`` statement's, else on QEMU boards where
    QEMU's -initrd puts the oracle's busybox initramfs."""
    if m.initrd is not None:
        return (m.initrd.base, m.initrd.size)
    if not boards.is_qemu(m.board):
        return None
    size = QEMU_DEFAULT_INITRD_SIZE
    initrd = (linuxboot_initrd_base(boards.qemu_initrd_base(m.board, _low_end(m), size), size, usable_low_end(m)),
              size)
    notes.append("no 'initrd' statement: assumed QEMU -initrd of the oracle's busybox initramfs "
                 f"({size:#x} bytes) at {initrd[0]:#x}")
    return initrd
