"""ACPI structure layouts, declared once as data.

Every binary structure the ACPI backend reads or writes is declared here as a tuple of
:class:`Field` records.  The structure codecs (:mod:`.codec`), the encoder and decoder
(:mod:`.binary`), the iasl data-table source writer (:mod:`.iasl_source`), the table set
(:mod:`.tableset`) and the model mapping (:mod:`.model_map`) are all driven by these
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
endian, no padding; :func:`offset` computes one).  Subtable layouts exclude the common
``type``/``length`` bytes, which are declared once in :data:`SUBTABLE_HEADER`.

Numbers are named once, like ACPICA's ``actbl1.h``/``actbl2.h`` (pyelftools attaches an
``Enum`` to a field the same way): declared in :mod:`.names` and attached to the structures
here: subtable types are :class:`SratType` and
:class:`MadtType` (``TableLayout.types``), the SRAT device-handle type is
:class:`DeviceHandleType` (``Field.enum``), and every single-bit flag is a member of an
``IntFlag`` (:class:`SratCpuFlag`, :class:`SratMemFlag`, :class:`SratGenericFlag`,
:class:`MadtLapicFlag`, :class:`MadtFlag`) from which the flag field's :class:`Bit` records
are made.  Enum members are ints, so records may hold either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from enum import IntEnum, IntFlag
from typing import Any, Mapping

from .names import (DeviceHandleType, MadtFlag, MadtLapicFlag, MadtType, SratCpuFlag,
                    SratGenericFlag, SratMemFlag, SratType)

__all__ = [
    "KIND_INT", "KIND_ASCII", "KIND_BYTES", "KIND_FLAGS", "KIND_RESERVED", "KIND_HANDLE",
    "KIND_SIGNATURE", "KIND_LENGTH", "KIND_CHECKSUM", "KIND_COUNT",
    "Bit", "Field", "Struct", "TableLayout", "HandleForms", "Split",
    "SratType", "MadtType", "DeviceHandleType",
    "SratCpuFlag", "SratMemFlag", "SratGenericFlag", "MadtLapicFlag", "MadtFlag",
    "SDT_HEADER", "SUBTABLE_HEADER", "SRAT", "SLIT", "MADT", "XSDT", "RSDT", "RSDP",
    "TABLES", "table_layout", "header_size", "offset", "bits_of", "signature_of",
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


def bits_of(flags: type[IntFlag], labels: Mapping[Any, str], *,
            not_iasl: tuple[IntFlag, ...] = ()) -> tuple[Bit, ...]:
    """The :class:`Bit` records of a one-bit-per-member ``IntFlag``: key = the member name in
    lower case, label = the iasl label; members in ``not_iasl`` have no iasl line."""
    return tuple(Bit(str(m.name).lower(), m.bit_length() - 1, labels[m], iasl=m not in not_iasl)
                 for m in flags)


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
    #: the names of the field's values (an IntEnum), when it holds an enumeration
    enum: type[IntEnum] | None = None

    @property
    def required(self) -> bool:
        return self.default is None and self.kind not in COMPUTED_KINDS


def U(key: str, width: int, label: str, default: object = None,
      enum: type[IntEnum] | None = None) -> Field:
    return Field(key, width, label, KIND_INT, default=default, enum=enum)


def R(key: str, width: int, label: str) -> Field:
    return Field(key, width, label, KIND_RESERVED, default=0 if width <= 8 else bytes(width))


def S(key: str, width: int, label: str, default: object = None) -> Field:
    return Field(key, width, label, KIND_ASCII, default=default)


def FL(key: str, width: int, bits: tuple[Bit, ...], label: str = "Flags (decoded below)") -> Field:
    return Field(key, width, label, KIND_FLAGS, bits=tuple(bits))


@dataclass(frozen=True)
class Split:
    """One logical value stored in several fields, low part first: ``parts`` are
    ``(field key, bit width)`` (the SRAT Processor Local APIC proximity domain is bits 7:0 in
    one field and 31:8 in another)."""
    key: str
    parts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Struct:
    """A fixed-size structure: a subtable body or a device-handle form."""
    key: str                 # record name, e.g. "memory"
    name: str                # human name as iasl prints it in brackets after the type
    fields: tuple[Field, ...]
    type: int | None = None  # subtable type number (a SratType / MadtType member)
    iasl: bool = True        # False: iasl 20200925 does not know this subtable
    #: logical values split over several fields
    splits: tuple[Split, ...] = ()

    @property
    def size(self) -> int:
        return sum(f.width for f in self.fields)

    @cached_property
    def all_fields(self) -> tuple[Field, ...]:
        """The subtable's fields with the common type/length header in front (one tuple
        per struct: codecs are cached by the tuple's identity)."""
        return SUBTABLE_HEADER + self.fields


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
    #: the names of the subtable types (SRAT/MADT)
    types: type[IntEnum] | None = None
    #: iasl rejects a zero item ("Error 6312 - Value must be non-zero"; root-table addresses)
    iasl_item_nonzero: bool = False

    def offset(self, key: str) -> int:
        """Byte offset of header or body field ``key`` from the start of the table."""
        try:
            return offset(self.header, key)
        except KeyError:
            return sum(f.width for f in self.header) + offset(self.body, key)

    def fixed_size(self, header: Mapping | None = None) -> int:
        """Size of the header plus the body if a table with these header values has one."""
        body = self.body if self.has_body(header or {}) else ()
        return sum(f.width for f in self.header + body)

    def has_body(self, header: Mapping) -> bool:
        """Whether a table with these header values has the fixed body (see ``body_when``)."""
        if self.body_when is None:
            return True
        key, minimum = self.body_when
        hdr_field = next(f for f in self.header if f.key == key)
        return header.get(key, hdr_field.default) >= minimum


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


def offset(fields: tuple[Field, ...], key: str) -> int:
    """Byte offset of field ``key`` in a packed field tuple (KeyError if absent)."""
    pos = 0
    for f in fields:
        if f.key == key:
            return pos
        pos += f.width
    raise KeyError(key)


def _by_type(*structs: Struct) -> dict[int, Struct]:
    out: dict[int, Struct] = {}
    for s in structs:
        assert s.type is not None, f"{s.key}: a subtable declares its type"
        out[s.type] = s
    return out


# --- SRAT -------------------------------------------------------------------------------------
_CPU_FLAGS = bits_of(SratCpuFlag, {SratCpuFlag.ENABLED: "Enabled"})

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
DEVICE_HANDLE = HandleForms("device_handle_type", {DeviceHandleType.ACPI: ACPI_DEVICE_HANDLE,
                                                   DeviceHandleType.PCI: PCI_DEVICE_HANDLE})


def _generic_affinity(type_: SratType, key: str, name: str, iasl: bool) -> Struct:
    return Struct(key, name, (
        R("reserved1", 1, "Reserved1"),
        U("device_handle_type", 1, "Device Handle Type", enum=DeviceHandleType),
        U("proximity_domain", 4, "Proximity Domain"),
        Field("device_handle", 16, "Device Handle", KIND_HANDLE, handle=DEVICE_HANDLE),
        FL("flags", 4, bits_of(SratGenericFlag, {
            SratGenericFlag.ENABLED: "Enabled",
            SratGenericFlag.ARCHITECTURAL_TRANSACTIONS: "Architectural Transactions"},
            not_iasl=(SratGenericFlag.ARCHITECTURAL_TRANSACTIONS,))),
        R("reserved2", 4, "Reserved2"),
    ), type=type_, iasl=iasl)


SRAT_SUBTABLES: dict[int, Struct] = _by_type(
    Struct("cpu_apic", "Processor Local APIC/SAPIC Affinity", (
        U("proximity_domain_lo", 1, "Proximity Domain Low(8)"),
        U("apic_id", 1, "Apic ID"),
        FL("flags", 4, _CPU_FLAGS),
        U("local_sapic_eid", 1, "Local Sapic EID", default=0),
        U("proximity_domain_hi", 3, "Proximity Domain High(24)", default=0),
        U("clock_domain", 4, "Clock Domain", default=0),
    ), type=SratType.CPU_AFFINITY,
        splits=(Split("proximity_domain", (("proximity_domain_lo", 8), ("proximity_domain_hi", 24))),)),
    Struct("memory", "Memory Affinity", (
        U("proximity_domain", 4, "Proximity Domain"),
        R("reserved1", 2, "Reserved1"),
        U("base_address", 8, "Base Address"),
        U("address_length", 8, "Address Length"),
        R("reserved2", 4, "Reserved2"),
        FL("flags", 4, bits_of(SratMemFlag, {SratMemFlag.ENABLED: "Enabled",
                                             SratMemFlag.HOT_PLUGGABLE: "Hot Pluggable",
                                             SratMemFlag.NON_VOLATILE: "Non-Volatile"})),
        R("reserved3", 8, "Reserved3"),
    ), type=SratType.MEMORY_AFFINITY),
    Struct("cpu_x2apic", "Processor Local x2APIC Affinity", (
        R("reserved1", 2, "Reserved1"),
        U("proximity_domain", 4, "Proximity Domain"),
        U("apic_id", 4, "Apic ID"),
        FL("flags", 4, _CPU_FLAGS),
        U("clock_domain", 4, "Clock Domain", default=0),
        R("reserved2", 4, "Reserved2"),
    ), type=SratType.X2APIC_CPU_AFFINITY),
    Struct("gicc", "GICC Affinity", (
        U("proximity_domain", 4, "Proximity Domain"),
        U("acpi_processor_uid", 4, "Acpi Processor UID"),
        FL("flags", 4, _CPU_FLAGS),
        U("clock_domain", 4, "Clock Domain", default=0),
    ), type=SratType.GICC_AFFINITY),
    Struct("gic_its", "GIC ITS Affinity", (
        U("proximity_domain", 4, "Proximity Domain"),
        R("reserved", 2, "Reserved"),
        U("its_id", 4, "ITS ID"),
    ), type=SratType.GIC_ITS_AFFINITY),
    _generic_affinity(SratType.GENERIC_AFFINITY, "generic_initiator", "Generic Initiator Affinity", True),
    # iasl 20200925 does not know type 6 (added in ACPICA 20210930); labels follow type 5.
    _generic_affinity(SratType.GENERIC_PORT_AFFINITY, "generic_port", "Generic Port Affinity", False),
)

SRAT = TableLayout(
    "SRAT", "System Resource Affinity Table", SDT_HEADER,
    body=(U("table_revision", 4, "Table Revision", default=1),
          R("reserved", 8, "Reserved")),
    items="subtables", subtables=SRAT_SUBTABLES, default_revision=3, types=SratType,
)

# --- SLIT -------------------------------------------------------------------------------------
SLIT = TableLayout(
    "SLIT", "System Locality Information Table", SDT_HEADER,
    body=(Field("localities", 8, "Localities", KIND_COUNT),),
    items="matrix", item_label="Locality", default_revision=1,
)

# --- MADT -------------------------------------------------------------------------------------
_INTI = (Bit("polarity", 0, "Polarity", width=2), Bit("trigger_mode", 2, "Trigger Mode", width=2))
_LAPIC_LABELS = {MadtLapicFlag.ENABLED: "Processor Enabled",
                 MadtLapicFlag.ONLINE_CAPABLE: "Runtime Online Capable"}
_LAPIC_FLAGS = bits_of(MadtLapicFlag, _LAPIC_LABELS)

MADT_SUBTABLES: dict[int, Struct] = _by_type(
    Struct("local_apic", "Processor Local APIC", (
        U("processor_id", 1, "Processor ID"),
        U("apic_id", 1, "Local Apic ID"),
        FL("flags", 4, _LAPIC_FLAGS),
    ), type=MadtType.LOCAL_APIC),
    Struct("io_apic", "I/O APIC", (
        U("io_apic_id", 1, "I/O Apic ID"),
        R("reserved", 1, "Reserved"),
        U("address", 4, "Address"),
        U("gsi_base", 4, "Interrupt"),
    ), type=MadtType.IO_APIC),
    Struct("interrupt_override", "Interrupt Source Override", (
        U("bus", 1, "Bus", default=0),
        U("source_irq", 1, "Source"),
        U("gsi", 4, "Interrupt"),
        FL("flags", 2, _INTI),
    ), type=MadtType.INTERRUPT_OVERRIDE),
    Struct("nmi_source", "NMI Source", (
        FL("flags", 2, _INTI),
        U("gsi", 4, "Interrupt"),
    ), type=MadtType.NMI_SOURCE),
    Struct("local_apic_nmi", "Local APIC NMI", (
        U("processor_id", 1, "Processor ID"),
        FL("flags", 2, _INTI),
        U("lint", 1, "Interrupt Input LINT"),
    ), type=MadtType.LOCAL_APIC_NMI),
    Struct("local_apic_override", "Local APIC Address Override", (
        R("reserved", 2, "Reserved"),
        U("address", 8, "APIC Address"),
    ), type=MadtType.LOCAL_APIC_OVERRIDE),
    Struct("local_x2apic", "Processor Local x2APIC", (
        R("reserved", 2, "Reserved"),
        U("x2apic_id", 4, "Processor x2Apic ID"),
        # iasl 20200925 shows only bit 0 for type 9 (Online Capable, ACPI 6.3, not printed)
        FL("flags", 4, bits_of(MadtLapicFlag, _LAPIC_LABELS,
                               not_iasl=(MadtLapicFlag.ONLINE_CAPABLE,))),
        U("processor_uid", 4, "Processor UID"),
    ), type=MadtType.LOCAL_X2APIC),
    Struct("local_x2apic_nmi", "Local x2APIC NMI", (
        FL("flags", 2, _INTI),
        U("processor_uid", 4, "Processor UID"),
        U("lint", 1, "Interrupt Input LINT"),
        R("reserved", 3, "Reserved"),
    ), type=MadtType.LOCAL_X2APIC_NMI),
)

MADT = TableLayout(
    "APIC", "Multiple APIC Description Table (MADT)", SDT_HEADER,
    body=(U("local_apic_address", 4, "Local Apic Address", default=0xFEE00000),
          FL("flags", 4, bits_of(MadtFlag, {MadtFlag.PCAT_COMPAT: "PC-AT Compatibility"}))),
    items="subtables", subtables=MADT_SUBTABLES, default_revision=5, types=MadtType,
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

def signature_of(data: bytes) -> str:
    """The signature a table's bytes start with: ``"RSD PTR "`` for an RSDP, else the
    first four bytes (latin-1)."""
    if data[:len(RSDP_SIGNATURE)] == RSDP_SIGNATURE.encode("latin-1"):
        return RSDP_SIGNATURE
    return bytes(data[:4]).decode("latin-1")


#: every table layout by signature ("RSD PTR " for the RSDP)
TABLES: dict[str, TableLayout] = {t.signature: t for t in (SRAT, SLIT, MADT, XSDT, RSDT, RSDP)}


def table_layout(signature: str) -> TableLayout | None:
    """The layout for a signature (``"RSDP"`` and ``"RSD "`` also name the RSDP)."""
    if signature in ("RSDP", "RSD ", "RSD PTR"):
        signature = RSDP_SIGNATURE
    return TABLES.get(signature)
