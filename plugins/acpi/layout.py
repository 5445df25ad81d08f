"""ACPI structure layouts, declared once as data.

Every binary structure the ACPI backend reads or writes is declared here as a tuple of
:class:`Field` records.  The encoder and decoder (:mod:`.binary`), the iasl data-table source
writer (:mod:`.iasl_source`) and the acpidump writer (:mod:`.acpidump`) are all driven by these
declarations; nothing else in the package knows a field offset.

A field has

* ``key``   – the Python name used in structure records (dict keys);
* ``label`` – the field label exactly as iasl 20200925 prints it in a disassembly, so that the
  generated data-table source compiles with iasl (labels are checked by iasl, in order);
* ``width`` – size in bytes;
* ``kind``  – one of the ``KIND_*`` constants below;
* ``bits``  – for flag fields, the named bit fields (:class:`Bit`); iasl prints and reads one
  line per bit field and takes the value from those lines only;
* ``default`` – value used when a record omits the field (``None``: the field is required).

Layouts follow ACPI 6.5 and acpi-tables.md; offsets are implicit (fields are packed, little
endian, no padding).  Subtable layouts exclude the common ``type``/``length`` bytes, which are
declared once in :data:`SUBTABLE_HEADER`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

__all__ = [
    "KIND_INT", "KIND_ASCII", "KIND_BYTES", "KIND_FLAGS", "KIND_RESERVED", "KIND_HANDLE",
    "KIND_SIGNATURE", "KIND_LENGTH", "KIND_CHECKSUM", "KIND_COUNT",
    "Bit", "Field", "Struct", "TableLayout", "HandleForms",
    "SDT_HEADER", "SUBTABLE_HEADER", "SRAT", "SLIT", "MADT", "XSDT", "RSDT", "RSDP",
    "TABLES", "table_layout", "header_size",
]

# --- field kinds ----------------------------------------------------------------------------
KIND_INT = "int"              # unsigned little-endian integer (width 1, 2, 3, 4 or 8)
KIND_ASCII = "ascii"          # fixed width; NUL padded on encode, trailing NULs dropped on decode
KIND_BYTES = "bytes"          # fixed-width opaque bytes
KIND_FLAGS = "flags"          # integer with named bit fields (Field.bits)
KIND_RESERVED = "reserved"    # integer (bytes if width > 8) that should be 0; kept as read
KIND_HANDLE = "handle"        # SRAT device handle: nested struct chosen by another field
KIND_SIGNATURE = "signature"  # table signature; taken from the table, not from the record
KIND_LENGTH = "length"        # computed: byte length of the enclosing structure
KIND_CHECKSUM = "checksum"    # computed: makes a byte range sum to 0 mod 256
KIND_COUNT = "count"          # computed: number of entries (SLIT localities)

COMPUTED_KINDS = frozenset({KIND_SIGNATURE, KIND_LENGTH, KIND_CHECKSUM, KIND_COUNT})


@dataclass(frozen=True)
class Bit:
    """A named bit field inside a flags field: ``width`` bits starting at bit ``shift``.

    ``iasl`` is False for bits that iasl 20200925 neither prints nor compiles (defined by a
    later ACPI revision); a value with such a bit set cannot be written as iasl source.
    """
    key: str
    shift: int
    label: str
    width: int = 1
    iasl: bool = True

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.shift


@dataclass(frozen=True)
class HandleForms:
    """Device-handle union: ``selector`` names the sibling field whose value picks a form."""
    selector: str
    forms: Mapping[int, "Struct"]


@dataclass(frozen=True)
class Field:
    key: str
    width: int
    label: str
    kind: str = KIND_INT
    bits: tuple[Bit, ...] = ()
    default: object = None
    handle: HandleForms | None = None
    #: for KIND_CHECKSUM: the byte range ``(start, end)`` the checksum covers (end None =
    #: the whole structure)
    span: tuple[int, int | None] | None = None

    @property
    def required(self) -> bool:
        return self.default is None and self.kind not in COMPUTED_KINDS


def U(key, width, label, default=None):
    return Field(key, width, label, KIND_INT, default=default)


def R(key, width, label):
    return Field(key, width, label, KIND_RESERVED, default=0 if width <= 8 else bytes(width))


def S(key, width, label, default=None):
    return Field(key, width, label, KIND_ASCII, default=default)


def FL(key, width, bits, label="Flags (decoded below)"):
    return Field(key, width, label, KIND_FLAGS, bits=tuple(bits))


@dataclass(frozen=True)
class Struct:
    """A fixed-size structure: a subtable body or a device-handle form."""
    key: str                 # record name, e.g. "memory"
    name: str                # human name as iasl prints it in brackets after the type
    fields: tuple[Field, ...]
    type: int | None = None  # subtable type number
    iasl: bool = True        # False: iasl 20200925 does not know this subtable

    @property
    def size(self) -> int:
        return sum(f.width for f in self.fields)


@dataclass(frozen=True)
class TableLayout:
    """A whole table.

    ``header`` – the common SDT header (or the RSDP's own first part);
    ``body`` – fixed table-specific fields following the header;
    ``body_when`` – (header key, minimum) : body present only if that header field ≥ minimum
    (RSDP revision ≥ 2 has the extended part);
    ``items`` – what follows: ``"subtables"`` (type/length records from ``subtables``),
    ``"matrix"`` (SLIT rows), ``"array"`` (root-table addresses of ``item_width`` bytes),
    or ``None``.
    """
    signature: str
    name: str
    header: tuple[Field, ...]
    body: tuple[Field, ...] = ()
    items: str | None = None
    subtables: Mapping[int, Struct] = field(default_factory=dict)
    item_width: int = 0
    item_label: str = ""
    default_revision: int = 1
    body_when: tuple[str, int] | None = None
    #: iasl rejects a zero item ("Error 6312 - Value must be non-zero"; root-table addresses)
    iasl_item_nonzero: bool = False


# --- common pieces ----------------------------------------------------------------------------
SDT_HEADER: tuple[Field, ...] = (
    Field("signature", 4, "Signature", KIND_SIGNATURE),
    Field("length", 4, "Table Length", KIND_LENGTH),
    U("revision", 1, "Revision"),
    Field("checksum", 1, "Checksum", KIND_CHECKSUM, span=(0, None)),
    S("oem_id", 6, "Oem ID"),
    S("oem_table_id", 8, "Oem Table ID"),
    U("oem_revision", 4, "Oem Revision", default=1),
    S("creator_id", 4, "Asl Compiler ID"),
    U("creator_revision", 4, "Asl Compiler Revision", default=1),
)

SUBTABLE_HEADER: tuple[Field, ...] = (
    U("type", 1, "Subtable Type"),
    Field("length", 1, "Length", KIND_LENGTH),
)


def header_size(layout: TableLayout) -> int:
    return sum(f.width for f in layout.header)


# --- SRAT -------------------------------------------------------------------------------------
_ENABLED = Bit("enabled", 0, "Enabled")

ACPI_DEVICE_HANDLE = Struct("acpi", "ACPI device handle", (
    S("hid", 8, "_HID"),
    U("uid", 4, "_UID"),
    R("reserved", 4, "Reserved"),
))
PCI_DEVICE_HANDLE = Struct("pci", "PCI device handle", (
    U("segment", 2, "PCI Segment"),
    U("bus", 1, "PCI Bus"),
    U("devfn", 1, "PCI Devfn"),
    R("reserved", 12, "Reserved"),
))
DEVICE_HANDLE = HandleForms("device_handle_type", {0: ACPI_DEVICE_HANDLE, 1: PCI_DEVICE_HANDLE})


def _generic_affinity(type_, key, name, iasl):
    return Struct(key, name, (
        R("reserved1", 1, "Reserved1"),
        U("device_handle_type", 1, "Device Handle Type"),
        U("proximity_domain", 4, "Proximity Domain"),
        Field("device_handle", 16, "Device Handle", KIND_HANDLE, handle=DEVICE_HANDLE),
        FL("flags", 4, (_ENABLED,
                        Bit("architectural_transactions", 1, "Architectural Transactions",
                            iasl=False))),
        R("reserved2", 4, "Reserved2"),
    ), type=type_, iasl=iasl)


SRAT_SUBTABLES: dict[int, Struct] = {s.type: s for s in (
    Struct("cpu_apic", "Processor Local APIC/SAPIC Affinity", (
        U("proximity_domain_lo", 1, "Proximity Domain Low(8)"),
        U("apic_id", 1, "Apic ID"),
        FL("flags", 4, (_ENABLED,)),
        U("local_sapic_eid", 1, "Local Sapic EID", default=0),
        U("proximity_domain_hi", 3, "Proximity Domain High(24)", default=0),
        U("clock_domain", 4, "Clock Domain", default=0),
    ), type=0),
    Struct("memory", "Memory Affinity", (
        U("proximity_domain", 4, "Proximity Domain"),
        R("reserved1", 2, "Reserved1"),
        U("base_address", 8, "Base Address"),
        U("address_length", 8, "Address Length"),
        R("reserved2", 4, "Reserved2"),
        FL("flags", 4, (_ENABLED, Bit("hot_pluggable", 1, "Hot Pluggable"),
                        Bit("non_volatile", 2, "Non-Volatile"))),
        R("reserved3", 8, "Reserved3"),
    ), type=1),
    Struct("cpu_x2apic", "Processor Local x2APIC Affinity", (
        R("reserved1", 2, "Reserved1"),
        U("proximity_domain", 4, "Proximity Domain"),
        U("apic_id", 4, "Apic ID"),
        FL("flags", 4, (_ENABLED,)),
        U("clock_domain", 4, "Clock Domain", default=0),
        R("reserved2", 4, "Reserved2"),
    ), type=2),
    Struct("gicc", "GICC Affinity", (
        U("proximity_domain", 4, "Proximity Domain"),
        U("acpi_processor_uid", 4, "Acpi Processor UID"),
        FL("flags", 4, (_ENABLED,)),
        U("clock_domain", 4, "Clock Domain", default=0),
    ), type=3),
    Struct("gic_its", "GIC ITS Affinity", (
        U("proximity_domain", 4, "Proximity Domain"),
        R("reserved", 2, "Reserved"),
        U("its_id", 4, "ITS ID"),
    ), type=4),
    _generic_affinity(5, "generic_initiator", "Generic Initiator Affinity", True),
    # iasl 20200925 does not know type 6 (added in ACPICA 20210930); labels follow type 5.
    _generic_affinity(6, "generic_port", "Generic Port Affinity", False),
)}

SRAT = TableLayout(
    "SRAT", "System Resource Affinity Table", SDT_HEADER,
    body=(U("table_revision", 4, "Table Revision", default=1),
          R("reserved", 8, "Reserved")),
    items="subtables", subtables=SRAT_SUBTABLES, default_revision=3,
)

# --- SLIT -------------------------------------------------------------------------------------
SLIT = TableLayout(
    "SLIT", "System Locality Information Table", SDT_HEADER,
    body=(Field("localities", 8, "Localities", KIND_COUNT),),
    items="matrix", item_label="Locality", default_revision=1,
)

# --- MADT -------------------------------------------------------------------------------------
_INTI = (Bit("polarity", 0, "Polarity", width=2), Bit("trigger_mode", 2, "Trigger Mode", width=2))
_LAPIC_FLAGS = (Bit("enabled", 0, "Processor Enabled"),
                Bit("online_capable", 1, "Runtime Online Capable"))

MADT_SUBTABLES: dict[int, Struct] = {s.type: s for s in (
    Struct("local_apic", "Processor Local APIC", (
        U("processor_id", 1, "Processor ID"),
        U("apic_id", 1, "Local Apic ID"),
        FL("flags", 4, _LAPIC_FLAGS),
    ), type=0),
    Struct("io_apic", "I/O APIC", (
        U("io_apic_id", 1, "I/O Apic ID"),
        R("reserved", 1, "Reserved"),
        U("address", 4, "Address"),
        U("gsi_base", 4, "Interrupt"),
    ), type=1),
    Struct("interrupt_override", "Interrupt Source Override", (
        U("bus", 1, "Bus", default=0),
        U("source_irq", 1, "Source"),
        U("gsi", 4, "Interrupt"),
        FL("flags", 2, _INTI),
    ), type=2),
    Struct("nmi_source", "NMI Source", (
        FL("flags", 2, _INTI),
        U("gsi", 4, "Interrupt"),
    ), type=3),
    Struct("local_apic_nmi", "Local APIC NMI", (
        U("processor_id", 1, "Processor ID"),
        FL("flags", 2, _INTI),
        U("lint", 1, "Interrupt Input LINT"),
    ), type=4),
    Struct("local_apic_override", "Local APIC Address Override", (
        R("reserved", 2, "Reserved"),
        U("address", 8, "APIC Address"),
    ), type=5),
    Struct("local_x2apic", "Processor Local x2APIC", (
        R("reserved", 2, "Reserved"),
        U("x2apic_id", 4, "Processor x2Apic ID"),
        # iasl 20200925 shows only bit 0 for type 9 (Online Capable, ACPI 6.3, not printed)
        FL("flags", 4, (Bit("enabled", 0, "Processor Enabled"),
                        Bit("online_capable", 1, "Runtime Online Capable", iasl=False))),
        U("processor_uid", 4, "Processor UID"),
    ), type=9),
    Struct("local_x2apic_nmi", "Local x2APIC NMI", (
        FL("flags", 2, _INTI),
        U("processor_uid", 4, "Processor UID"),
        U("lint", 1, "Interrupt Input LINT"),
        R("reserved", 3, "Reserved"),
    ), type=0x0A),
)}

MADT = TableLayout(
    "APIC", "Multiple APIC Description Table (MADT)", SDT_HEADER,
    body=(U("local_apic_address", 4, "Local Apic Address", default=0xFEE00000),
          FL("flags", 4, (Bit("pcat_compat", 0, "PC-AT Compatibility"),))),
    items="subtables", subtables=MADT_SUBTABLES, default_revision=5,
)

# --- root tables ------------------------------------------------------------------------------
XSDT = TableLayout("XSDT", "Extended System Description Table", SDT_HEADER,
                   items="array", item_width=8, item_label="ACPI Table Address",
                   iasl_item_nonzero=True)
RSDT = TableLayout("RSDT", "Root System Description Table", SDT_HEADER,
                   items="array", item_width=4, item_label="ACPI Table Address",
                   iasl_item_nonzero=True)

RSDP_SIGNATURE = "RSD PTR "
RSDP = TableLayout(
    RSDP_SIGNATURE, "Root System Description Pointer",
    header=(
        Field("signature", 8, "Signature", KIND_SIGNATURE),
        Field("checksum", 1, "Checksum", KIND_CHECKSUM, span=(0, 20)),
        S("oem_id", 6, "Oem ID"),
        U("revision", 1, "Revision", default=2),
        U("rsdt_address", 4, "RSDT Address", default=0),
    ),
    body=(
        Field("length", 4, "Length", KIND_LENGTH),
        U("xsdt_address", 8, "XSDT Address", default=0),
        Field("extended_checksum", 1, "Extended Checksum", KIND_CHECKSUM, span=(0, None)),
        R("reserved", 3, "Reserved"),
    ),
    body_when=("revision", 2),
    default_revision=2,
)

#: every table layout by signature ("RSD PTR " for the RSDP)
TABLES: dict[str, TableLayout] = {t.signature: t for t in (SRAT, SLIT, MADT, XSDT, RSDT, RSDP)}


def table_layout(signature: str) -> TableLayout | None:
    """The layout for a signature (``"RSDP"`` and ``"RSD "`` also name the RSDP)."""
    if signature in ("RSDP", "RSD ", "RSD PTR"):
        signature = RSDP_SIGNATURE
    return TABLES.get(signature)
