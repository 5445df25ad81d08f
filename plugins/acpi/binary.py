"""Encode and decode ACPI tables from the declarations in :mod:`.layout`.

Records are plain data:

* :class:`Table` – ``signature``, ``header`` (dict of the common-header fields without the
  computed ones), ``body`` (dict of table-specific fixed fields; None only for a decoded
  table that ends inside them), ``entries`` and ``trailing`` bytes;
* ``entries`` is a list of :class:`Subtable` for SRAT/MADT, of ``bytes`` rows for the SLIT
  and of ``int`` addresses for XSDT/RSDT;
* a :class:`Subtable` has a ``type`` and a ``fields`` dict; subtables of unknown type (or
  that cannot be decoded) keep their bytes in ``raw``.

Computed fields (table length, checksums, subtable lengths, SLIT locality count) are never
part of a record: the encoder computes them and the decoder checks them and reports what it
read in ``Table.stored``.

:func:`decode_table` never raises for any input bytes; every defect becomes a
:class:`Problem` with the byte offset.  :func:`encode_table` raises :class:`AcpiEncodeError`
(a subclass of :class:`AcpiError`) for records it cannot encode.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from itertools import repeat
from collections.abc import Mapping  # the ABC: isinstance on typing.Mapping is slow
from typing import Any, Callable, Iterable

from . import layout as L
from .codec import (INT_FORMATS, AcpiEncodeError, AcpiError, checksum, flag_bits,  # noqa: F401
                    flags_value, record_run, struct_codec)

__all__ = [
    "AcpiError", "AcpiEncodeError", "Problem", "Subtable", "Table",
    "encode_table", "encode", "decode_table", "checksum", "flags_value", "flag_bits",
    "ERROR", "WARNING", "NOTE",
]

ERROR, WARNING, NOTE = "error", "warning", "note"


@dataclass(frozen=True)
class Problem:
    """A defect found while decoding.

    ``offset`` is the byte offset from the start of the decoded buffer (for text input:
    the character offset, with ``line`` set).  ``code`` is a stable kebab-case check name.
    """
    offset: int
    message: str
    severity: str = ERROR
    code: str = "acpi-malformed"
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else f"offset 0x{self.offset:X}"
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


@dataclass
class Subtable:
    """One SRAT/MADT subtable.

    ``fields`` maps the layout's field keys to values (type and length excluded).
    ``extra`` holds bytes after the declared fields when the subtable is longer than its
    layout.  For an unknown or undecodable subtable ``fields`` is None and ``raw`` holds
    the complete subtable bytes (including the type and length bytes), written verbatim.
    """
    type: int
    fields: dict | None = None
    extra: bytes = b""
    raw: bytes | None = None

    @classmethod
    def from_raw(cls, data: bytes) -> "Subtable":
        data = bytes(data)
        at = L.offset(L.SUBTABLE_HEADER, "type")
        return cls(type=data[at] if len(data) > at else -1, fields=None, raw=data)


@dataclass
class Table:
    """A decoded (or to-be-encoded) table; see the module docstring."""
    signature: str
    header: dict
    #: None only for a decoded table that ends inside its fixed body
    body: dict | None = field(default_factory=dict)
    entries: list = field(default_factory=list)
    trailing: bytes = b""
    #: computed fields as read by the decoder (length, checksum, ...); ignored by encode
    stored: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def layout(self) -> L.TableLayout | None:
        return L.TABLES.get(self.signature)


_SDT = struct_codec(L.SDT_HEADER)
_SUBTABLE_HEADER = struct_codec(L.SUBTABLE_HEADER)

# --- encoder ----------------------------------------------------------------------------------

def _layout_for(signature: str) -> L.TableLayout:
    lay = L.table_layout(signature)
    if lay is None:
        raise AcpiEncodeError(f"no layout for table signature {signature!r}")
    return lay


def encode_table(signature: str, header: Mapping, entries: Iterable = (),
                 body: Mapping | None = None, trailing: bytes = b"", *,
                 omit_body: bool = False) -> bytes:
    """Encode one table from plain records.

    ``signature`` – ``"SRAT"``, ``"SLIT"``, ``"APIC"``, ``"XSDT"``, ``"RSDT"`` or
    ``"RSD PTR "`` (also ``"RSDP"``); ``header`` – dict of header fields (``revision``,
    ``oem_id``, ``oem_table_id``, ``oem_revision``, ``creator_id``, ``creator_revision``;
    for the RSDP: ``oem_id``, ``revision``, ``rsdt_address``); ``body`` – table-specific
    fixed fields (SRAT ``table_revision``/``reserved``; MADT ``local_apic_address``/``flags``;
    RSDP ``xsdt_address``); ``entries`` – Subtable objects (or dicts ``{"type": n, ...fields}``)
    for SRAT/MADT, rows (bytes or int sequences) for SLIT, addresses for XSDT/RSDT.

    Lengths, the locality count and checksums are computed.  Two escape hatches exist
    only so that decoded *broken* tables re-encode byte-identically: a ``localities`` key in
    a SLIT body overrides the computed count (rows are then written unchecked), and
    ``omit_body=True`` leaves out the fixed body (a table that ends inside it; the decoder
    sets ``Table.body = None``).  Raises AcpiEncodeError.
    """
    lay = _layout_for(signature)
    header = dict(header)
    if "revision" not in header:
        header["revision"] = lay.default_revision
    body = dict(body or {})
    parts: list[bytes] = []
    computed: dict = {}
    sig = lay.signature

    # items
    if lay.items == "subtables":
        parts = _encode_subtables(lay, entries)
    elif lay.items == "matrix":
        rows = [_row_bytes(r, i) for i, r in enumerate(entries)]
        n = len(rows)
        forced = body.pop("localities", None)
        if forced is None:
            for i, r in enumerate(rows):
                if len(r) != n:
                    raise AcpiEncodeError(f"SLIT row {i} has {len(r)} entries, expected {n}")
        elif not isinstance(forced, int) or not 0 <= forced < 1 << 64:
            raise AcpiEncodeError(f"SLIT localities override {forced!r} does not fit 8 bytes")
        computed["localities"] = n if forced is None else forced
        parts = rows
    elif lay.items == "array":
        limit = 1 << (8 * lay.item_width)
        try:
            addrs = list(entries)
            for i, a in enumerate(addrs):
                if not isinstance(a, int) or not 0 <= a < limit:
                    raise AcpiEncodeError(f"{sig} entry {i}: address {a!r} does not fit "
                                          f"{lay.item_width} bytes")
            parts = [struct.pack(f"<{len(addrs)}{INT_FORMATS[lay.item_width]}", *addrs)]
        except struct.error as e:  # pragma: no cover - guarded above
            raise AcpiEncodeError(str(e)) from None
    elif entries:
        raise AcpiEncodeError(f"{sig} has no entries")

    has_body = lay.has_body(header) and not omit_body
    if not has_body and body:
        raise AcpiEncodeError(f"{sig}: body fields given but not present at this revision")
    hsize = L.header_size(lay)
    bsize = sum(f.width for f in lay.body) if has_body else 0
    total = hsize + bsize + sum(map(len, parts)) + len(trailing)
    computed["length"] = total
    computed["signature"] = sig.encode("latin-1")
    hdr = struct_codec(lay.header).pack(header, sig, computed)
    bdy = struct_codec(lay.body).pack(body, sig, computed) if has_body else b""
    out = bytearray(b"".join([hdr, bdy, *parts, trailing]))
    _fill_checksums(out, lay.header + (lay.body if has_body else ()))
    return bytes(out)


def _fill_checksums(out: bytearray, fields: tuple[L.Field, ...]) -> None:
    # checksums in declaration order: RSDP's 20-byte one first, then the extended one
    off = 0
    for f in fields:
        if f.kind == L.KIND_CHECKSUM:
            assert f.span is not None, f"{f.key}: a checksum field declares its span"
            start, end = f.span
            end = len(out) if end is None else end
            out[off] = 0
            out[off] = checksum(out[start:end])
        off += f.width


def encode(table: Table) -> bytes:
    """Encode a :class:`Table` record (as returned by :func:`decode_table`)."""
    if table.layout is None:
        # unknown table: header fields are kept generically, payload in trailing
        return encode_table_generic(table)
    return encode_table(table.signature, table.header, table.entries, table.body or {},
                        table.trailing, omit_body=table.body is None)


def encode_table_generic(table: Table) -> bytes:
    """Encode a table of unknown signature: SDT header + ``trailing`` payload."""
    sig = table.signature
    c = _SDT
    if len(sig.encode("latin-1")) != 4:
        raise AcpiEncodeError(f"table signature {sig!r} must be 4 characters")
    computed = {"signature": sig.encode("latin-1"), "length": c.size + len(table.trailing)}
    out = bytearray(c.pack(table.header, sig, computed) + table.trailing)
    _fill_checksums(out, L.SDT_HEADER)
    return bytes(out)


def _row_bytes(r: Any, i: int) -> bytes:
    if isinstance(r, (bytes, bytearray)):
        return bytes(r)
    try:
        return bytes(r)
    except (TypeError, ValueError):
        raise AcpiEncodeError(f"SLIT row {i}: entries must be integers 0..255") from None


def _encode_subtables(lay: L.TableLayout, entries: Iterable) -> list[bytes]:
    """Every subtable's bytes.  A :class:`Subtable` of plain integers with every field of its
    layout given is packed whole with one ``struct`` call (:func:`_packer`); anything else
    takes the checked path, which also says what is wrong."""
    packers = {t: _packer(s) for t, s in lay.subtables.items()}
    parts: list[bytes] = []
    append = parts.append
    for i, st in enumerate(entries):
        if type(st) is Subtable and st.raw is None and not st.extra and type(st.fields) is dict:
            p = packers.get(st.type)
            if p is not None and len(st.fields) == p[0]:
                try:
                    append(p[2](st.type, p[3], *p[1](st.fields)))
                    continue
                except (KeyError, struct.error):
                    pass
        append(_encode_subtable(lay, st, i))
    return parts


_PACKERS: dict[int, tuple | None] = {}


def _packer(s: L.Struct) -> tuple | None:
    """``(field count, the fields' values getter, pack, length)`` of a subtable whose fields
    are all plain integers (``pack(type, length, *values)`` gives its bytes, type/length header
    included), None for one with strings, bytes or handles."""
    key = id(s)
    if key not in _PACKERS:
        import operator

        c, whole = struct_codec(s), struct_codec(s.all_fields)
        keys = c.fast_keys or []
        get = operator.itemgetter(*keys) if len(keys) > 1 else None  # one key: not a tuple
        _PACKERS[key] = (len(keys), get, whole.st.pack, whole.size) if get and whole.size < 256 else None
    return _PACKERS[key]


def _encode_subtable(lay: L.TableLayout, st: Any, index: int) -> bytes:
    if type(st) is not Subtable and isinstance(st, Mapping):
        rec = dict(st)
        try:
            t = rec.pop("type")
        except KeyError:
            raise AcpiEncodeError(f"{lay.signature} subtable {index}: missing 'type'") from None
        st = Subtable(t, rec)
    elif not isinstance(st, Subtable):
        raise AcpiEncodeError(f"{lay.signature} subtable {index}: expected a Subtable or dict")
    if st.raw is not None:
        return bytes(st.raw)
    s = lay.subtables.get(st.type)
    where = f"{lay.signature} subtable {index}"
    if s is None:
        raise AcpiEncodeError(f"{where}: unknown type {st.type!r}; give its raw bytes")
    where += f" ({s.key})"
    c = struct_codec(s)
    vals = c.values(st.fields or {}, where)
    try:
        body = c.st.pack(*vals)
    except struct.error:
        c.pack(st.fields or {}, where)   # raises the precise error
        raise  # pragma: no cover
    n = _SUBTABLE_HEADER.size + len(body) + len(st.extra)
    if n > 255:
        raise AcpiEncodeError(f"{where}: length {n} does not fit the 1-byte length field")
    return _SUBTABLE_HEADER.st.pack(st.type, n) + body + st.extra


# --- decoder ----------------------------------------------------------------------------------

def decode_table(data: bytes, *, base: int = 0) -> tuple[Table | None, list[Problem]]:
    """Decode one table (SDT or RSDP) from ``data``.

    Returns ``(table, problems)``.  ``table`` is None only when not even the header can be
    read.  Problem offsets are relative to ``data`` plus ``base``.  Never raises for any
    bytes-like input (a non-bytes argument raises AcpiError).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise AcpiError(f"decode_table needs bytes, got {type(data).__name__}")
    data = bytes(data)
    probs: list[Problem] = []

    def P(off: int, msg: str, sev: str = ERROR, code: str = "acpi-malformed") -> None:
        probs.append(Problem(base + off, msg, sev, code))

    if L.signature_of(data) == L.RSDP_SIGNATURE:
        return _decode_rsdp(data, P), probs
    hc = _SDT
    hsize = hc.size
    if len(data) < hsize:
        P(len(data), f"truncated table header: {len(data)} bytes, need {hsize}",
          code="acpi-truncated")
        return None, probs

    hdr = hc.unpack(data, 0)
    hdr.pop("signature")             # decoded as a string field; the key is the raw bytes
    sig = L.signature_of(data)
    length = hdr.pop("length")
    csum = hdr.pop("checksum")
    stored = {"length": length, "checksum": csum}
    lay = L.TABLES.get(sig)

    end = length
    at_length, at_checksum = hc.offsets["length"], hc.offsets["checksum"]
    if length < hsize:
        P(at_length, f"table length {length} is smaller than the {hsize}-byte header; using the "
                     f"{len(data)} bytes available", code="acpi-bad-length")
        end = len(data)
    elif length > len(data):
        P(at_length, f"table length {length} exceeds the {len(data)} bytes available "
                     f"(truncated table)", code="acpi-truncated")
        end = len(data)
    elif length < len(data):
        P(length, f"{len(data) - length} byte(s) after the table length {length} ignored",
          WARNING, code="acpi-trailing-data")
    if end == length and checksum(data[:length]) != 0:
        # report as iasl does: stored value and what it should be
        good = (csum - sum(data[:length])) & 0xFF
        P(at_checksum, f"incorrect checksum 0x{csum:02X}, should be 0x{good:02X}", ERROR,
          code="acpi-bad-checksum")
    elif end != length:
        stored["checksum_unverified"] = True

    table = Table(sig, hdr, stored=stored)
    if lay is None:
        P(0, f"unknown table signature {sig!r}; payload kept as raw bytes", NOTE,
          code="acpi-unknown-table")
        table.trailing = data[hsize:end]
        return table, probs

    off = hsize
    bc = struct_codec(lay.body)
    if lay.body:
        if end - off < bc.size:
            P(off, f"{sig}: table ends at {end} inside its {bc.size}-byte fixed part",
              code="acpi-truncated")
            table.body = None
            table.trailing = data[off:end]
            return table, probs
        body = bc.unpack(data, off)
        for f in lay.body:
            if f.kind in L.COMPUTED_KINDS:
                stored[f.key] = body.pop(f.key)
        table.body = body
        off += bc.size

    if lay.items == "subtables":
        table.entries, off = _decode_subtables(data, off, end, lay, P)
    elif lay.items == "matrix":
        n = stored["localities"]
        avail = end - off
        if n * n > avail:
            # keep the bytes and the stored count so the table re-encodes identically
            P(hsize + bc.offsets["localities"], f"SLIT locality count {n} needs {n * n} matrix bytes but the table has "
                  f"{avail}", code="acpi-count-mismatch")
            body["localities"] = n
        else:
            # Linux (slit_valid, numa_set_distance) and iasl read count x count bytes whatever
            # the length says; bytes after the matrix stay in ``trailing`` (re-encoded as is).
            table.entries = [data[off + i * n: off + (i + 1) * n] for i in range(n)]
            off += n * n
            if off < end:
                P(off, f"SLIT: Localities = {n} needs {n * n} matrix byte(s); the {end - off} byte(s) after "
                       f"them up to the table length {end} are not read by Linux or iasl; kept as trailing "
                       "bytes", NOTE, code="acpi-slit-extra-bytes")
    elif lay.items == "array":
        w = lay.item_width
        avail = end - off
        cnt = avail // w
        if avail % w:
            P(off + cnt * w, f"{sig} entry area of {avail} bytes is not a multiple of {w}; "
                             f"{avail % w} byte(s) left over", code="acpi-count-mismatch")
        if cnt == 0:
            P(off, f"{sig} lists no tables", WARNING, code="acpi-empty-root")
        table.entries = list(struct.unpack_from(f"<{cnt}{INT_FORMATS[w]}", data, off))
        for i, a in enumerate(table.entries):
            if a == 0:
                P(off + i * w, f"{sig} entry {i} is a null pointer (skipped by Linux)", WARNING,
                  code="acpi-null-pointer")
        off += cnt * w
    table.trailing = data[off:end]
    return table, probs


def _decode_subtables(data: bytes, off: int, end: int, lay: L.TableLayout,
                      P: Callable[..., None]) -> tuple[list[Subtable], int]:
    entries: list[Subtable] = []
    subs = lay.subtables
    codecs = {t: struct_codec(s) for t, s in subs.items()}
    unpack = {t: (c.st.unpack_from, c.keys, c.convert if c.post else None, c.size)
              for t, c in codecs.items()}
    sig = lay.signature
    append = entries.append
    head = struct_codec(L.SUBTABLE_HEADER)
    hsize, read_head = head.size, head.st.unpack_from
    while off < end:
        if end - off < hsize:
            P(off, f"{sig}: {end - off} byte(s) at the end are too short for a subtable header",
              code="acpi-truncated")
            break
        t, n = read_head(data, off)
        if n < hsize:
            P(off, f"{sig}: invalid {'zero ' if n == 0 else ''}length {n} in subtable of type "
                   f"{t}; decoding stops", code="acpi-zero-length")
            break
        if off + n > end:
            P(off + 1, f"{sig}: subtable of type {t} with length {n} runs past the table end "
                       f"({end - off} bytes left); kept as raw bytes", code="acpi-truncated")
            append(Subtable(t, None, raw=data[off:end]))
            off = end
            break
        u = unpack.get(t)
        if u is None:
            P(off, f"{sig}: unknown subtable type {t} (length {n}) kept as raw bytes", NOTE,
              code="acpi-unknown-subtable")
            append(Subtable(t, None, raw=data[off:off + n]))
        else:
            fn, keys, convert, size = u
            need = size + hsize
            if n == need and convert is None and end - off >= 16 * n:  # a run of this type and length
                recs = record_run(data, off, (end - off) // n, hsize, codecs[t])
                entries += map(Subtable, repeat(t), recs)
                off += len(recs) * n
                continue
            if n < need:
                P(off + 1, f"{sig}: {subs[t].name} subtable length {n} is shorter than {need}; "
                           f"kept as raw bytes", code="acpi-bad-length")
                append(Subtable(t, None, raw=data[off:off + n]))
            else:
                vals = fn(data, off + hsize)
                if convert is not None:
                    vals = tuple(convert(vals))
                extra = b""
                if n > need:
                    P(off + 1, f"{sig}: {subs[t].name} subtable length {n} is longer than "
                               f"{need}; {n - need} extra byte(s) kept", WARNING,
                      code="acpi-bad-length")
                    extra = data[off + need:off + n]
                append(Subtable(t, dict(zip(keys, vals)), extra))
        off += n
    return entries, off


def _decode_rsdp(data: bytes, P: Callable[..., None]) -> Table | None:
    lay = L.RSDP
    hc, bc = struct_codec(lay.header), struct_codec(lay.body)
    v1, v2 = hc.size, hc.size + bc.size          # 20 and 36 bytes
    if len(data) < v1:
        P(len(data), f"truncated RSDP: {len(data)} bytes, need {v1}", code="acpi-truncated")
        return None
    hdr = hc.unpack(data, 0)
    hdr.pop("signature")
    stored = {"checksum": hdr.pop("checksum")}
    t = Table(L.RSDP_SIGNATURE, hdr, stored=stored)
    if checksum(data[:v1]) != 0:
        P(hc.offsets["checksum"], f"incorrect RSDP checksum 0x{stored['checksum']:02X}, should be "
          f"0x{(stored['checksum'] - sum(data[:v1])) & 0xFF:02X}", code="acpi-bad-checksum")
    rev = hdr["revision"]
    if rev == 1:
        P(hc.offsets["revision"], "RSDP revision 1 is undefined; treated as an ACPI 1.0 "
          f"({v1}-byte) RSDP", WARNING, code="acpi-rsdp-revision")
    if not lay.has_body(hdr):
        if len(data) > v1:
            P(v1, f"{len(data) - v1} byte(s) after the {v1}-byte RSDP ignored", WARNING,
              code="acpi-trailing-data")
        t.stored["length"] = v1
        return t
    if len(data) < v2:
        P(len(data), f"truncated RSDP: {len(data)} bytes, revision {rev} needs {v2}",
          code="acpi-truncated")
        t.body = None
        t.trailing = data[v1:]
        return t
    body = bc.unpack(data, v1)
    t.stored["length"] = length = body.pop("length")
    t.stored["extended_checksum"] = xc = body.pop("extended_checksum")
    t.body = body
    if length != v2:
        P(v1 + bc.offsets["length"], f"RSDP length field is {length}, expected {v2}",
          code="acpi-bad-length")
    if checksum(data[:v2]) != 0:
        P(v1 + bc.offsets["extended_checksum"], f"incorrect RSDP extended checksum 0x{xc:02X}, "
          f"should be 0x{(xc - sum(data[:v2])) & 0xFF:02X}", code="acpi-bad-checksum")
    if len(data) > v2:
        t.trailing = b""
        P(v2, f"{len(data) - v2} byte(s) after the {v2}-byte RSDP ignored", WARNING,
          code="acpi-trailing-data")
    return t
