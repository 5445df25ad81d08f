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
from collections.abc import Mapping  # the ABC: isinstance on typing.Mapping is slow
from typing import Any, Iterable

from . import layout as L

__all__ = [
    "AcpiError", "AcpiEncodeError", "Problem", "Subtable", "Table",
    "encode_table", "encode", "decode_table", "checksum", "flags_value", "flag_bits",
    "ERROR", "WARNING", "NOTE",
]

ERROR, WARNING, NOTE = "error", "warning", "note"


class AcpiError(Exception):
    """Base class of every exception raised by :mod:`fwc_plugins.acpi`."""


class AcpiEncodeError(AcpiError, ValueError):
    """A record cannot be encoded (missing/unknown field, value out of range, ...)."""


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
        return cls(type=data[0] if data else -1, fields=None, raw=data)


@dataclass
class Table:
    """A decoded (or to-be-encoded) table; see the module docstring."""
    signature: str
    header: dict
    body: dict = field(default_factory=dict)
    entries: list = field(default_factory=list)
    trailing: bytes = b""
    #: computed fields as read by the decoder (length, checksum, ...); ignored by encode
    stored: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def layout(self) -> L.TableLayout | None:
        return L.TABLES.get(self.signature)


# --- helpers ----------------------------------------------------------------------------------

def checksum(data: bytes) -> int:
    """The byte that makes ``data`` (with that byte zero) sum to 0 mod 256."""
    return (-sum(data)) & 0xFF


def flags_value(f: L.Field, value: Any) -> int:
    """A flags value given as int or as a mapping of bit keys (or labels) to values."""
    if isinstance(value, Mapping):
        out = 0
        byname = {b.key: b for b in f.bits}
        byname.update({b.label: b for b in f.bits})
        for k, v in value.items():
            b = byname.get(k)
            if b is None:
                raise AcpiEncodeError(f"{f.key}: unknown flag {k!r}")
            v = int(v)
            if not 0 <= v < (1 << b.width):
                raise AcpiEncodeError(f"{f.key}.{b.key}: value {v} does not fit {b.width} bit(s)")
            out |= v << b.shift
        return out
    return value


def flag_bits(f: L.Field, value: int) -> dict:
    """Split a flags value into its named bit fields, plus ``"unnamed"`` for other bits."""
    out = {b.key: (value & b.mask) >> b.shift for b in f.bits}
    rest = value & ~sum(b.mask for b in f.bits)
    if rest:
        out["unnamed"] = rest
    return out


_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}


class _Codec:
    """A compiled struct (list of fields) → one ``struct.Struct`` plus converters."""

    def __init__(self, fields: tuple[L.Field, ...]):
        self.fields = fields
        fmt = "<"
        self.pre: list[tuple[int, L.Field]] = []    # (index, field) needing conversion on encode
        for i, f in enumerate(fields):
            if f.kind in (L.KIND_ASCII, L.KIND_BYTES, L.KIND_HANDLE, L.KIND_SIGNATURE) or \
                    f.width not in _FMT:
                fmt += f"{f.width}s"
                self.pre.append((i, f))
            else:
                fmt += _FMT[f.width]
                if f.kind == L.KIND_FLAGS:
                    self.pre.append((i, f))
        self.st = struct.Struct(fmt)
        self.size = self.st.size
        self.keys = [f.key for f in fields]
        self.record_keys = [f.key for f in fields if f.kind not in L.COMPUTED_KINDS]
        self.record_key_set = frozenset(self.record_keys)
        self.defaults = {f.key: f.default for f in fields
                         if f.default is not None and f.kind not in L.COMPUTED_KINDS}
        self.has_computed = len(self.record_keys) != len(self.keys)
        # decode converters for "s" fields (index, field)
        self.post = [(i, f) for i, f in self.pre if f.kind != L.KIND_FLAGS]
        # A record of plain integers with every field given packs directly (encoding large
        # tables); anything else takes the checked path through values().
        plain = not self.has_computed and all(f.kind == L.KIND_FLAGS for _, f in self.pre)
        self.fast_keys = self.record_keys if plain else None

    # -- encode ---------------------------------------------------------------------------
    def values(self, rec: Mapping, where: str, computed: Mapping | None = None) -> list:
        """Record → list of struct values (raises AcpiEncodeError)."""
        if type(rec) is not dict and not isinstance(rec, Mapping):
            raise AcpiEncodeError(
                f"{where}: expected a mapping of fields, got {type(rec).__name__}")
        extra = set(rec) - self.record_key_set
        if extra:
            raise AcpiEncodeError(f"{where}: unknown field(s) {', '.join(sorted(map(str, extra)))}")
        vals = []
        for f in self.fields:
            if f.kind in L.COMPUTED_KINDS:
                v = (computed or {}).get(f.key, 0)
            else:
                v = rec.get(f.key, f.default)
                if v is None:
                    raise AcpiEncodeError(f"{where}: missing field {f.key!r} ({f.label})")
            vals.append(v)
        for i, f in self.pre:
            vals[i] = _to_struct(f, vals[i], rec, f"{where}.{f.key}")
        return vals

    def pack(self, rec: Mapping, where: str, computed: Mapping | None = None) -> bytes:
        vals = self.values(rec, where, computed)
        try:
            return self.st.pack(*vals)
        except struct.error:
            for f, v in zip(self.fields, vals):
                if isinstance(v, bytes):
                    continue
                if not isinstance(v, int):
                    raise AcpiEncodeError(
                        f"{where}.{f.key}: expected an integer, got {v!r}") from None
                if not 0 <= v < (1 << (8 * f.width)):
                    raise AcpiEncodeError(
                        f"{where}.{f.key}: value {v:#x} does not fit {f.width} byte(s)") from None
            raise AcpiEncodeError(f"{where}: cannot pack {vals!r}") from None

    # -- decode ---------------------------------------------------------------------------
    def unpack(self, data, off: int) -> dict:
        vals = list(self.st.unpack_from(data, off))
        for i, f in self.post:
            vals[i] = _from_struct(f, vals[i], vals, self.keys)
        return dict(zip(self.keys, vals))


def _to_struct(f: L.Field, v, rec, where: str):
    k = f.kind
    if k == L.KIND_FLAGS:
        return flags_value(f, v)
    if k in (L.KIND_ASCII, L.KIND_SIGNATURE):
        if isinstance(v, str):
            try:
                b = v.encode("latin-1")
            except UnicodeEncodeError:
                raise AcpiEncodeError(f"{where}: {v!r} is not a latin-1 string") from None
        elif isinstance(v, (bytes, bytearray)):
            b = bytes(v)
        else:
            raise AcpiEncodeError(f"{where}: expected a string, got {v!r}")
        if len(b) > f.width:
            raise AcpiEncodeError(f"{where}: {v!r} is longer than {f.width} bytes")
        return b
    if k == L.KIND_HANDLE:
        if isinstance(v, (bytes, bytearray)):
            if len(v) != f.width:
                raise AcpiEncodeError(f"{where}: raw handle must be {f.width} bytes")
            return bytes(v)
        sel = rec.get(f.handle.selector)
        form = f.handle.forms.get(sel)
        if form is None:
            raise AcpiEncodeError(
                f"{where}: a structured handle needs {f.handle.selector} in "
                f"{sorted(f.handle.forms)}, got {sel!r}; give raw bytes instead")
        return _codec(form).pack(v, where)
    if k in (L.KIND_BYTES, L.KIND_RESERVED):
        if isinstance(v, (bytes, bytearray)):
            if len(v) != f.width:
                raise AcpiEncodeError(f"{where}: expected {f.width} bytes, got {len(v)}")
            return bytes(v)
        if k == L.KIND_RESERVED and isinstance(v, int) and 0 <= v < (1 << (8 * f.width)):
            return v.to_bytes(f.width, "little")
        raise AcpiEncodeError(f"{where}: expected {f.width} bytes, got {v!r}")
    # 3-byte integers
    if not isinstance(v, int) or not 0 <= v < (1 << (8 * f.width)):
        raise AcpiEncodeError(f"{where}: value {v!r} does not fit {f.width} byte(s)")
    return v.to_bytes(f.width, "little")


def _from_struct(f: L.Field, v: bytes, vals, keys):
    k = f.kind
    if k in (L.KIND_ASCII, L.KIND_SIGNATURE):
        return v.rstrip(b"\0").decode("latin-1")
    if k == L.KIND_HANDLE:
        sel = vals[keys.index(f.handle.selector)]
        form = f.handle.forms.get(sel)
        if form is None:
            return v
        return _codec(form).unpack(v, 0)
    if k == L.KIND_BYTES:
        return v
    if k == L.KIND_RESERVED and f.width > 8:
        return v
    return int.from_bytes(v, "little")


_CODECS: dict[int, _Codec] = {}


def _codec(s) -> _Codec:
    fields = s.fields if isinstance(s, L.Struct) else s
    c = _CODECS.get(id(fields))
    if c is None:
        c = _CODECS[id(fields)] = _Codec(fields)
    return c


# --- encoder ----------------------------------------------------------------------------------

def _layout_for(signature: str) -> L.TableLayout:
    lay = L.table_layout(signature)
    if lay is None:
        raise AcpiEncodeError(f"no layout for table signature {signature!r}")
    return lay


def _body_present(lay: L.TableLayout, header: Mapping) -> bool:
    if lay.body_when is None:
        return True
    key, minimum = lay.body_when
    hdr_field = next(f for f in lay.header if f.key == key)
    return header.get(key, hdr_field.default) >= minimum


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
        parts = [_encode_subtable(lay, st, i) for i, st in enumerate(entries)]
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
            parts = [struct.pack(f"<{len(addrs)}{_FMT[lay.item_width]}", *addrs)]
        except struct.error as e:  # pragma: no cover - guarded above
            raise AcpiEncodeError(str(e)) from None
    elif entries:
        raise AcpiEncodeError(f"{sig} has no entries")

    has_body = _body_present(lay, header) and not omit_body
    if not has_body and body:
        raise AcpiEncodeError(f"{sig}: body fields given but not present at this revision")
    hsize = L.header_size(lay)
    bsize = sum(f.width for f in lay.body) if has_body else 0
    total = hsize + bsize + sum(map(len, parts)) + len(trailing)
    computed["length"] = total
    computed["signature"] = sig.encode("latin-1")
    hdr = _codec(lay.header).pack(header, sig, computed)
    bdy = _codec(lay.body).pack(body, sig, computed) if has_body else b""
    out = bytearray(hdr + bdy)
    for p in parts:
        out += p
    out += trailing
    _fill_checksums(out, lay, has_body)
    return bytes(out)


def _fill_checksums(out: bytearray, lay: L.TableLayout, has_body: bool) -> None:
    # checksums in declaration order: RSDP's 20-byte one first, then the extended one
    off = 0
    fields = list(lay.header) + (list(lay.body) if has_body else [])
    for f in fields:
        if f.kind == L.KIND_CHECKSUM:
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
    c = _codec(L.SDT_HEADER)
    if len(sig.encode("latin-1")) != 4:
        raise AcpiEncodeError(f"table signature {sig!r} must be 4 characters")
    computed = {"signature": sig.encode("latin-1"), "length": c.size + len(table.trailing)}
    out = bytearray(c.pack(table.header, sig, computed) + table.trailing)
    out[9] = 0
    out[9] = checksum(out)
    return bytes(out)


def _row_bytes(r, i) -> bytes:
    if isinstance(r, (bytes, bytearray)):
        return bytes(r)
    try:
        return bytes(r)
    except (TypeError, ValueError):
        raise AcpiEncodeError(f"SLIT row {i}: entries must be integers 0..255") from None


def _encode_subtable(lay: L.TableLayout, st, index: int) -> bytes:
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
    c = _codec(s)
    body = None
    f = st.fields
    if c.fast_keys is not None and type(f) is dict and len(f) == len(c.fast_keys):
        try:
            body = c.st.pack(*[f[k] for k in c.fast_keys])
        except (KeyError, struct.error):
            body = None
    if body is None:
        vals = c.values(st.fields or {}, where)
        try:
            body = c.st.pack(*vals)
        except struct.error:
            c.pack(st.fields or {}, where)   # raises the precise error
            raise  # pragma: no cover
    n = 2 + len(body) + len(st.extra)
    if n > 255:
        raise AcpiEncodeError(f"{where}: length {n} does not fit the 1-byte length field")
    return bytes((st.type, n)) + body + st.extra


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

    def P(off, msg, sev=ERROR, code="acpi-malformed"):
        probs.append(Problem(base + off, msg, sev, code))

    if data[:8] == b"RSD PTR ":
        return _decode_rsdp(data, P), probs
    if len(data) < 36:
        P(len(data), f"truncated table header: {len(data)} bytes, need 36", code="acpi-truncated")
        return None, probs

    hc = _codec(L.SDT_HEADER)
    hdr = hc.unpack(data, 0)
    sig_b = data[:4]
    sig = sig_b.decode("latin-1")
    length = hdr.pop("length")
    csum = hdr.pop("checksum")
    hdr.pop("signature")
    stored = {"length": length, "checksum": csum}
    lay = L.TABLES.get(sig)

    end = length
    if length < 36:
        P(4, f"table length {length} is smaller than the 36-byte header; using the "
             f"{len(data)} bytes available", code="acpi-bad-length")
        end = len(data)
    elif length > len(data):
        P(4, f"table length {length} exceeds the {len(data)} bytes available (truncated table)",
          code="acpi-truncated")
        end = len(data)
    elif length < len(data):
        P(length, f"{len(data) - length} byte(s) after the table length {length} ignored",
          WARNING, code="acpi-trailing-data")
    if end == length and checksum(data[:length]) != 0:
        # report as iasl does: stored value and what it should be
        good = (csum - sum(data[:length])) & 0xFF
        P(9, f"incorrect checksum 0x{csum:02X}, should be 0x{good:02X}", ERROR,
          code="acpi-bad-checksum")
    elif end != length:
        stored["checksum_unverified"] = True

    table = Table(sig, hdr, stored=stored)
    if lay is None:
        P(0, f"unknown table signature {sig!r}; payload kept as raw bytes", NOTE,
          code="acpi-unknown-table")
        table.trailing = data[36:end]
        return table, probs

    off = 36
    bc = _codec(lay.body)
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
        if n * n != avail:
            # keep the bytes and the stored count so the table re-encodes identically
            P(36, f"SLIT locality count {n} needs {n * n} matrix bytes but the table has "
                  f"{avail}", code="acpi-count-mismatch")
            table.body["localities"] = n
        elif n:
            table.entries = [data[off + i * n: off + (i + 1) * n] for i in range(n)]
            off += n * n
    elif lay.items == "array":
        w = lay.item_width
        avail = end - off
        cnt = avail // w
        if avail % w:
            P(off + cnt * w, f"{sig} entry area of {avail} bytes is not a multiple of {w}; "
                             f"{avail % w} byte(s) left over", code="acpi-count-mismatch")
        if cnt == 0:
            P(off, f"{sig} lists no tables", WARNING, code="acpi-empty-root")
        table.entries = list(struct.unpack_from(f"<{cnt}{_FMT[w]}", data, off))
        for i, a in enumerate(table.entries):
            if a == 0:
                P(off + i * w, f"{sig} entry {i} is a null pointer (skipped by Linux)", WARNING,
                  code="acpi-null-pointer")
        off += cnt * w
    table.trailing = data[off:end]
    return table, probs


def _decode_subtables(data: bytes, off: int, end: int, lay: L.TableLayout, P):
    entries = []
    subs = lay.subtables
    codecs = {t: _codec(s) for t, s in subs.items()}
    unpack = {t: (c.st.unpack_from, c.keys, c.post, c.size) for t, c in codecs.items()}
    sig = lay.signature
    append = entries.append
    while off < end:
        if end - off < 2:
            P(off, f"{sig}: {end - off} byte(s) at the end are too short for a subtable header",
              code="acpi-truncated")
            break
        t = data[off]
        n = data[off + 1]
        if n < 2:
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
            fn, keys, post, size = u
            need = size + 2
            if n < need:
                P(off + 1, f"{sig}: {subs[t].name} subtable length {n} is shorter than {need}; "
                           f"kept as raw bytes", code="acpi-bad-length")
                append(Subtable(t, None, raw=data[off:off + n]))
            else:
                vals = fn(data, off + 2)
                if post:
                    vals = list(vals)
                    for i, f in post:
                        vals[i] = _from_struct(f, vals[i], vals, keys)
                extra = b""
                if n > need:
                    P(off + 1, f"{sig}: {subs[t].name} subtable length {n} is longer than "
                               f"{need}; {n - need} extra byte(s) kept", WARNING,
                      code="acpi-bad-length")
                    extra = data[off + need:off + n]
                append(Subtable(t, dict(zip(keys, vals)), extra))
        off += n
    return entries, off


def _decode_rsdp(data: bytes, P) -> Table | None:
    lay = L.RSDP
    hc = _codec(lay.header)
    if len(data) < hc.size:
        P(len(data), f"truncated RSDP: {len(data)} bytes, need 20", code="acpi-truncated")
        return None
    hdr = hc.unpack(data, 0)
    hdr.pop("signature")
    stored = {"checksum": hdr.pop("checksum")}
    t = Table(L.RSDP_SIGNATURE, hdr, stored=stored)
    if checksum(data[:20]) != 0:
        P(8, f"incorrect RSDP checksum 0x{stored['checksum']:02X}, should be "
             f"0x{(stored['checksum'] - sum(data[:20])) & 0xFF:02X}", code="acpi-bad-checksum")
    rev = hdr["revision"]
    if rev == 1:
        P(15, "RSDP revision 1 is undefined; treated as an ACPI 1.0 (20-byte) RSDP", WARNING,
          code="acpi-rsdp-revision")
    if not _body_present(lay, hdr):
        if len(data) > 20:
            P(20, f"{len(data) - 20} byte(s) after the 20-byte RSDP ignored", WARNING,
              code="acpi-trailing-data")
        t.stored["length"] = 20
        return t
    bc = _codec(lay.body)
    if len(data) < 20 + bc.size:
        P(len(data), f"truncated RSDP: {len(data)} bytes, revision {rev} needs 36",
          code="acpi-truncated")
        t.body = None
        t.trailing = data[20:]
        return t
    body = bc.unpack(data, 20)
    t.stored["length"] = length = body.pop("length")
    t.stored["extended_checksum"] = xc = body.pop("extended_checksum")
    t.body = body
    if length != 36:
        P(20, f"RSDP length field is {length}, expected 36", code="acpi-bad-length")
    if checksum(data[:36]) != 0:
        P(32, f"incorrect RSDP extended checksum 0x{xc:02X}, should be "
              f"0x{(xc - sum(data[:36])) & 0xFF:02X}", code="acpi-bad-checksum")
    if len(data) > 36:
        t.trailing = b""
        P(36, f"{len(data) - 36} byte(s) after the 36-byte RSDP ignored", WARNING,
          code="acpi-trailing-data")
    return t
