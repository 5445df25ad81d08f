"""ACPI backend, binary layer: SRAT, SLIT, MADT, RSDP/XSDT/RSDT as bytes, iasl data-table
source and acpidump text, all driven by the declarations in :mod:`.layout`.

Stdlib only.  Public API::

    encode_table(signature, header, entries=(), body=None, trailing=b"") -> bytes
    encode(table: Table) -> bytes
    decode_table(data, *, base=0) -> (Table | None, list[Problem])     # never raises on bytes
    to_iasl_source(table, *, offsets=False, strict=True) -> str      # IaslSourceError
    to_acpidump(tables) -> str
    parse_acpidump(text) -> (list[DumpEntry], list[Problem])
    build_table_set(tables, *, base, header, rsdp_revision=2, ...) -> list[DumpEntry]
    check_table_set(entries) -> list[Problem]
    flat_image(entries) -> (base, bytes)                             # one buffer from a set
    checksum(data) -> int;  flags_value(field, value) -> int;  flag_bits(field, value) -> dict
    table_layout(signature) -> TableLayout | None;  TABLES
    struct_codec(struct_or_fields) -> Codec    # pack, unpack, offsets, size of one structure

Exceptions: AcpiError (base), AcpiEncodeError, IaslSourceError.

Names of numbers (:mod:`.names`, ACPICA's ``actbl*.h``): ``SratType``, ``MadtType``,
``DeviceHandleType`` and the flag enums ``SratCpuFlag``, ``SratMemFlag``, ``SratGenericFlag``,
``MadtLapicFlag``, ``MadtFlag``; records accept members or plain integers.  The machine
model <-> record mapping, both ways, is :mod:`.model_map` (``Entry.record``/``Entry.read``,
``entries_of(signature)[type].read(fields)``); ``build_tables(machine)`` gives a machine's
tables (``{name: (signature, bytes)}``).

Modules: ``layout`` (declarations), ``names`` (numbers' names), ``codec`` (compiled
structures), ``binary`` (encode/decode), ``iasl_source``, ``acpidump``, ``tableset``,
``model_map``, ``tables`` (model -> tables), ``inputs`` + ``decompile`` (tables ->
description), ``backend`` (hooks and checks), ``examples``.

Records: ``Table(signature, header, body, entries, trailing)``; ``header`` needs ``oem_id``,
``oem_table_id`` and ``creator_id`` (``revision`` defaults per table: SRAT 3, SLIT 1,
APIC 5, XSDT/RSDT 1, RSDP 2; ``oem_revision``/``creator_revision`` default to 1).  Entries
are ``Subtable(type, fields)`` (SRAT/MADT), ``bytes`` rows (SLIT) or ``int`` addresses
(XSDT/RSDT).  Field keys, widths and iasl labels are in :mod:`.layout`; :mod:`.examples`
has one record of every structure.

iasl 20200925 limits (tests/test_acpi_layout.py checks each): no SRAT type 6 (disassembled
as "Unknown SRAT subtable type 0x6", rc 0; compile fails), no line for SRAT type 5/6 flag
bit 1 or MADT type 9 Online Capable (bit lost on recompile: ``to_iasl_source`` refuses it in
strict mode), "Error 6312 - Value must be non-zero" for a zero XSDT/RSDT address, and no
disassembly of a standalone RSDP.
"""

from typing import TYPE_CHECKING

from fwc.exports import lazy_exports

if TYPE_CHECKING:  # the names below, for type checkers (at run time they load on first use)
    from .acpidump import DumpEntry, parse_acpidump, to_acpidump
    from .binary import ERROR, NOTE, WARNING, Problem, Subtable, Table, decode_table, encode, encode_table
    from .codec import (AcpiEncodeError, AcpiError, Codec, checksum, flag_bits, flags_value, read_header,
                        read_subtable_header, struct_codec, with_header)
    from .iasl_source import IaslSourceError, to_iasl_source
    from .layout import TABLES, table_layout
    from .names import (SLIT_LOCAL, SLIT_NO_PATH, DeviceHandleType, MadtFlag, MadtLapicFlag, MadtType, SratCpuFlag,
                        SratGenericFlag, SratMemFlag, SratType)
    from .tables import build_tables
    from .tableset import build_table_set, check_table_set, flat_image

# Exports load their module on first use (PEP 562), so that registering the backend
# (fwc imports fwc_plugins.acpi.backend at every start) costs nothing.
_EXPORTS = {
    "acpidump": ("DumpEntry", "parse_acpidump", "to_acpidump"),
    "binary": ("ERROR", "NOTE", "WARNING", "Problem", "Subtable", "Table", "decode_table", "encode", "encode_table"),
    "codec": ("AcpiEncodeError", "AcpiError", "Codec", "checksum", "flag_bits", "flags_value", "read_header",
              "read_subtable_header", "struct_codec", "with_header"),
    "iasl_source": ("IaslSourceError", "to_iasl_source"),
    "layout": ("TABLES", "table_layout"),
    "names": ("SLIT_LOCAL", "SLIT_NO_PATH", "DeviceHandleType", "MadtFlag", "MadtLapicFlag", "MadtType", "SratCpuFlag",
              "SratGenericFlag", "SratMemFlag", "SratType"),
    "tables": ("build_tables",),
    "tableset": ("build_table_set", "check_table_set", "flat_image"),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
