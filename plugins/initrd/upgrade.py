"""Linux 6.1's initrd ACPI table upgrade, as a function of the archive and the firmware.

``drivers/acpi/tables.c`` (acpi-tables.md §11.3-§11.4), in three steps:

1. **acceptance** (``acpi_table_upgrade``): per file under ``kernel/firmware/acpi/``, in
   archive order, at most 64 files: size >= 36, signature in the allow-list, file size ==
   header Length, checksum 0;
2. **override** (``acpi_table_initrd_override``, once per firmware table): the first
   accepted table with the same signature, OEM ID and OEM Table ID (byte for byte) and a
   strictly higher OEM revision replaces it.  Every matching table met before it is
   marked used *before* the revision test, so an equal or lower revision is dropped
   without a message;
3. **install** (``acpi_table_initrd_scan``): every table not yet used, except RSDT/XSDT,
   is installed as an additional table.  Linux's NUMA and APIC code read only the first
   table of a signature, so an installed table matters only if the firmware has none.

:func:`firmware_tables` says which tables the firmware of a machine has (QEMU's own on
qemu boards, the machine's own on other boards); :func:`predict` applies the three steps;
:func:`table_upgrade` wraps them in an :class:`Upgrade`, which answers the one question both
the initrd backend and the boot simulator ask: which archive file Linux reads for a signature
(:meth:`Upgrade.reads`) -- and :meth:`Upgrade.read` lists the files Linux reads.  Every ACPI
fact (header fields, its size, the RSDP's signature) comes from the acpi plugin's public API
(:func:`fwc_plugins.acpi.read_header`, the layouts), the firmware's OEM identity on qemu
boards from :data:`fwc.boards.BOARDS`; the caller supplies the bytes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from fwc.model import Machine

MAX_FILES = 64  # NR_ACPI_INITRD_TABLES
#: table_sigs[] of drivers/acpi/tables.c (Linux 6.1).
ALLOWED = frozenset("""BERT BGRT CPEP ECDT EINJ ERST HEST APIC MSCT SBST SLIT SRAT ASF! BOOT DBGP DMAR HPET
IBFT IVRS MCFG MCHI SLIC SPCR SPMI TCPA UEFI WAET WDAT WDDT WDRT DSDT FACP PSDT RSDT XSDT SSDT IORT NFIT
HMAT PPTT NHLT AEST CEDT AGDI""".split())
ROOT_TABLES = ("RSDT", "XSDT")
#: Tables ACPICA loads every instance of (definition blocks); any other signature is read
#: once, from its first table.
MULTI = frozenset({"SSDT", "PSDT"})


@lru_cache(maxsize=None)
def header_size() -> int:
    """Bytes of the common SDT header (36), from the acpi layouts."""
    from fwc_plugins.acpi import struct_codec, table_layout

    layout = table_layout("SRAT")
    assert layout is not None
    return struct_codec(layout.header).size


def _is_rsdp(data: bytes) -> bool:
    """Whether ``data`` starts with the RSDP's signature (``RSD PTR ``), as the acpi decoder reads it."""
    from fwc_plugins.acpi import decode_table, table_layout

    rsdp = table_layout("RSDP")
    table, _ = decode_table(data)
    return rsdp is not None and table is not None and table.signature == rsdp.signature


class Header(NamedTuple):
    signature: str
    length: int
    oem_id: bytes          # NULs kept: they count when Linux compares IDs
    oem_table_id: bytes
    oem_revision: int

    @classmethod
    def of(cls, data: bytes) -> "Header":
        from fwc_plugins.acpi import read_header

        h = read_header(data)
        return cls(h["signature"], h["length"], h["oem_id"].encode("latin-1"), h["oem_table_id"].encode("latin-1"),
                   h["oem_revision"])

    @property
    def ident(self) -> str:
        """``SIG-OEMID-TABLEID`` as Linux prints it in ``Table Upgrade:`` lines."""
        return f"{self.signature}-{_show(self.oem_id)}-{_show(self.oem_table_id)}"


def _show(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode("latin-1")


def set_oem_revision(data: bytes, revision: int) -> bytes:
    """The table with OEM revision ``revision`` and its checksum fixed."""
    from fwc_plugins.acpi import with_header

    return with_header(data, oem_revision=revision)


#: The kernel's own message (``pr_err`` in acpi_table_upgrade, after ``ACPI: ``) for each
#: rejection, followed by `` [kernel/firmware/acpi/<name>]``.
KERNEL_REJECTION = {
    "initrd-table-size": "ACPI OVERRIDE: Table smaller than ACPI header",
    "initrd-signature": "ACPI OVERRIDE: Unknown signature",
    "initrd-table-length": "ACPI OVERRIDE: File length does not match table length",
    "initrd-checksum": "ACPI OVERRIDE: Bad table checksum",
}


def rejection(data: bytes) -> tuple[str, str] | None:
    """Why Linux rejects this file, as ``(check name, message)``, or None if accepted."""
    if len(data) < header_size():
        return "initrd-table-size", (f"the file is smaller than an ACPI header ({header_size()} bytes): "
                                     "Linux skips it ('Table smaller than ACPI header')")
    header = Header.of(data)
    sig, length = header.signature, header.length
    if sig not in ALLOWED:
        # The signature is shown only when it is one (never bytes of a file that is not a table).
        shown = f"signature {sig!r}" if all(c.isupper() or c.isdigit() or c == "_" for c in sig) \
            else "a file without an ACPI signature"
        what = "an RSDP" if _is_rsdp(data) else "a FACS" if sig == "FACS" else shown
        return "initrd-signature", (f"Linux does not take {what} from the initrd ('Unknown signature'); "
                                    "allowed: " + " ".join(sorted(ALLOWED)))
    if length != len(data):
        return "initrd-table-length", (f"the {sig} file has {len(data)} bytes but its header says {length}: "
                                       "Linux skips it ('File length does not match table length')")
    if sum(data) & 0xFF:
        return "initrd-checksum", (f"the {sig} checksum is wrong (the bytes sum to {sum(data) & 0xFF:#04x}, "
                                   "not 0): Linux skips it ('Bad table checksum')")
    return None


_LAST: list[tuple[Machine, dict[str, tuple[str, bytes]]]] = []


def machine_tables(machine: Machine) -> dict[str, tuple[str, bytes]]:
    """The machine's own SRAT/SLIT/MADT, ``{name: (signature, bytes)}``, from the acpi plugin.
    The last machine's are kept: the initrd and qemu checks of one run both ask for them, and
    encoding a large machine's tables twice doubled the cost of ``fwc check``."""
    from fwc_plugins.acpi import build_tables

    if not (_LAST and _LAST[0][0] is machine):
        _LAST[:] = [(machine, build_tables(machine))]
    return dict(_LAST[0][1])


def qemu_table_signatures(machine: Machine) -> list[str]:
    """The tables QEMU 7.2 builds for a qemu-board machine, in the order of its ACPI blob
    (FACS first; the RSDT, which lists them, follows).  The boot plugin's firmware model
    places them in this order; :func:`firmware_tables` gives their headers."""
    sigs = ["FACS", "DSDT", "FACP", "APIC", "HPET"]
    # fwc's qemu backend passes -numa for every node of a NUMA machine, so QEMU builds an SRAT
    # (a machine without NUMA has none); a SLIT exactly when there are -numa dist options.
    if machine.numa or machine.slots:
        sigs.append("SRAT")
    if machine.distances and len(machine.nodes) > 1:
        sigs.append("SLIT")
    if machine.board == "qemu-q35":
        sigs.append("MCFG")
    if any(r.nonvolatile for n in machine.nodes for r in n.dimms):  # -machine nvdimm=on (measured order)
        sigs += ["SSDT", "NFIT"]
    sigs.append("WAET")
    return sigs


def firmware_tables(machine: Machine) -> dict[str, Header] | None:
    """The tables the machine's firmware gives Linux before any upgrade, by signature
    (headers only; the FACS, which has none, left out); None when unknown.  On qemu boards
    every table carries the OEM ID and table ID fwc's command line gives QEMU and QEMU's OEM
    revision (:func:`fwc.boards.qemu_oem`)."""
    from fwc import boards

    if boards.is_qemu(machine.board):
        sigs = [s for s in qemu_table_signatures(machine) if s != "FACS"] + ["RSDT"]
        ids = {s: boards.qemu_oem(machine.board, machine.oem, s) for s in sigs}
        return {s: Header(s, 0, ids[s][0].encode("latin-1"), ids[s][1].encode("latin-1"), ids[s][2]) for s in sigs}
    out = {}
    for _, (sig, data) in machine_tables(machine).items():
        if len(data) >= header_size():
            out[sig] = Header.of(data)
    return out


class Outcome(NamedTuple):
    name: str  # file name after kernel/firmware/acpi/
    header: Header | None
    fate: str  # rejected | ignored | override | dropped | install | unused | not-installed
    check: str | None  # the check that reports it (None: does what it should)
    message: str
    index: int  # type: ignore[assignment]  # position among the archive's files (shadows tuple.index)


def predict(files: list[tuple[str, bytes]], firmware: dict[str, Header] | None) -> list[Outcome]:
    """What Linux does with each file (archive order) given the firmware's tables."""
    accepted: list[tuple[int, str, Header]] = []
    out: dict[int, Outcome] = {}
    for i, (name, data) in enumerate(files):
        if i >= MAX_FILES:
            out[i] = Outcome(name, None, "ignored", "initrd-too-many",
                             f"Linux reads at most {MAX_FILES} tables from the initrd; '{name}' is number {i + 1}", i)
            continue
        r = rejection(data)
        if r is not None:
            out[i] = Outcome(name, Header.of(data) if len(data) >= header_size() else None, "rejected", r[0], r[1],
                             i)
            continue
        accepted.append((i, name, Header.of(data)))
    used: set[int] = set()
    fw = firmware or {}
    # Step 2: ACPICA calls the override hook once per firmware table.
    for sig, f in fw.items():
        for i, name, h in accepted:
            if h.signature != sig or h.oem_id != f.oem_id or h.oem_table_id != f.oem_table_id:
                continue
            if i in used:
                continue
            used.add(i)
            if h.oem_revision <= f.oem_revision:
                out[i] = Outcome(name, h, "dropped", "initrd-revision",
                                 f"{sig} has the firmware's OEM ID and table ID but OEM revision {h.oem_revision}, "
                                 f"not above the firmware's {f.oem_revision}: Linux drops it without a message and "
                                 f"keeps the firmware's {sig} (use revision {f.oem_revision + 1})", i)
                continue
            out[i] = Outcome(name, h, "override", None,
                             f"Table Upgrade: override [{h.ident}]: replaces the firmware's {sig}", i)
            break
    # Step 3: the rest is installed after the firmware's tables.
    seen = set(fw)
    for i, name, h in accepted:
        if i in used:
            continue
        sig = h.signature
        fh = fw.get(sig)
        if sig in ROOT_TABLES:
            ids = f" (the firmware's is {fh.ident})" if fh else " (the firmware has none)"
            out[i] = Outcome(name, h, "not-installed", "initrd-root-table",
                             f"{sig} from the initrd is used only to override the firmware's {sig} with the same "
                             f"OEM IDs{ids}; otherwise Linux never installs it", i)
            continue
        if sig in seen and sig not in MULTI:
            mismatch = fh is not None and (h.oem_id, h.oem_table_id) != (fh.oem_id, fh.oem_table_id)
            if fh is not None and mismatch:
                msg = (f"{sig} has OEM ID '{_show(h.oem_id)}' and table ID '{_show(h.oem_table_id)}', the "
                       f"firmware's {sig} '{_show(fh.oem_id)}' '{_show(fh.oem_table_id)}': Linux installs it as a "
                       f"second {sig} ('Table Upgrade: install [{h.ident}]') and keeps reading the firmware's; "
                       f"to replace it use the firmware's IDs and OEM revision {fh.oem_revision + 1} or more")
            else:
                msg = (f"another {sig} from the initrd comes first; Linux installs this one as an extra {sig} "
                       "that it never reads")
            out[i] = Outcome(name, h, "unused", "initrd-oem-mismatch" if mismatch else "initrd-duplicate", msg, i)
            continue
        seen.add(sig)
        why = "an additional definition block" if sig in MULTI else f"the firmware has no {sig}, so Linux uses this one"
        out[i] = Outcome(name, h, "install", None, f"Table Upgrade: install [{h.ident}]: {why}", i)
    return [out[i] for i in sorted(out)]


#: Fates of a file Linux copies out of the initrd (acpi_table_upgrade accepted it).
ACCEPTED = frozenset({"override", "dropped", "install", "unused", "not-installed"})
#: Fates of a file Linux installs as an additional table (``Table Upgrade: install``).
INSTALLED = frozenset({"install", "unused"})
#: Fates of a file whose table Linux reads: it replaces the firmware's, or is the first
#: installed table of a signature the firmware lacks (every SSDT/PSDT).
READ = frozenset({"override", "install"})


class Upgrade:
    """One archive upgraded against one firmware: the outcome of every file (archive order)
    and, per signature, the archive file Linux reads (:meth:`reads`)."""

    __slots__ = ("files", "outcomes", "firmware")

    def __init__(self, files: list[tuple[str, bytes]], outcomes: list[Outcome], firmware: dict[str, Header]):
        self.files = files
        self.outcomes = outcomes
        self.firmware = firmware

    def data(self, o: Outcome) -> bytes:
        """The bytes of the file of outcome ``o``."""
        return self.files[o.index][1]

    def accepted(self) -> list[Outcome]:
        """The files acpi_table_upgrade copies (``... ACPI table found in initrd``), in order."""
        return [o for o in self.outcomes if o.fate in ACCEPTED]

    def override_of(self, signature: str) -> Outcome | None:
        """The file that replaces the firmware's ``signature`` table (acpi_table_initrd_override)."""
        return next((o for o in self.outcomes if o.fate == "override" and o.header is not None
                     and o.header.signature == signature), None)

    def installed(self) -> list[Outcome]:
        """The files acpi_table_initrd_scan installs as additional tables, in order."""
        return [o for o in self.outcomes if o.fate in INSTALLED]

    def read(self) -> list[Outcome]:
        """The files whose tables Linux reads (each is :meth:`reads` of its signature, or an
        additional SSDT/PSDT), in archive order."""
        return [o for o in self.outcomes if o.fate in READ]

    def reads(self, signature: str) -> Outcome | None:
        """The archive file Linux reads for ``signature`` (its first table of that signature),
        or None when Linux reads the firmware's table (or has none)."""
        o = self.override_of(signature)
        if o is None and signature not in self.firmware:
            o = next((x for x in self.outcomes if x.fate == "install" and x.header is not None
                      and x.header.signature == signature), None)
        return o


def table_upgrade(files: list[tuple[str, bytes]], firmware: dict[str, Header] | None) -> Upgrade:
    """:func:`predict` as an :class:`Upgrade` (``files``: ``[(name, bytes)]`` in archive order)."""
    return Upgrade(list(files), predict(files, firmware), dict(firmware or {}))
