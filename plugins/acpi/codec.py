"""Structure codecs compiled from the field declarations in :mod:`.layout`.

:func:`struct_codec` turns a tuple of :class:`~.layout.Field` records (a header, a table body, a
subtable, a device-handle form) into a :class:`Codec`: one ``struct.Struct`` plus the
converters for fields that are not plain integers.  The encoder and decoder
(:mod:`.binary`) and the iasl source writer (:mod:`.iasl_source`) read and write every
structure through it; ``Codec.offset`` gives a field's byte offset, so no module slices
bytes at hand-written offsets.  Stdlib only.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from itertools import chain, repeat
from collections.abc import Mapping  # the ABC: isinstance on typing.Mapping is slow
from typing import Any, Sequence

from . import layout as L

__all__ = ["AcpiError", "AcpiEncodeError", "Codec", "struct_codec", "checksum", "flags_value", "flag_bits"]


class AcpiError(Exception):
    """Base class of every exception raised by :mod:`fwc_plugins.acpi`."""


class AcpiEncodeError(AcpiError, ValueError):
    """A record cannot be encoded (missing/unknown field, value out of range, ...)."""


# --- helpers ----------------------------------------------------------------------------------

def checksum(data: bytes | bytearray) -> int:
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


#: ``struct`` format letter of an unsigned little-endian integer of each width
INT_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


class Codec:
    """A compiled struct (list of fields) → one ``struct.Struct`` plus converters.

    ``st`` is the ``struct.Struct``; ``keys`` the field keys in order; ``offsets`` each
    key's byte offset; ``size`` the structure size.
    """

    def __init__(self, fields: tuple[L.Field, ...]):
        self.fields = fields
        self.offsets: dict[str, int] = {}
        pos = 0
        for f in fields:
            self.offsets[f.key] = pos
            pos += f.width
        fmt = "<"
        self.pre: list[tuple[int, L.Field]] = []    # (index, field) needing conversion on encode
        for i, f in enumerate(fields):
            if f.kind in (L.KIND_ASCII, L.KIND_BYTES, L.KIND_HANDLE, L.KIND_SIGNATURE) or \
                    f.width not in INT_FORMATS:
                fmt += f"{f.width}s"
                self.pre.append((i, f))
            else:
                fmt += INT_FORMATS[f.width]
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
    def convert(self, vals: Sequence[Any]) -> list:
        """Struct values (as ``st.unpack_from`` returns them) → record values."""
        vals = list(vals)
        for i, f in self.post:
            vals[i] = _from_struct(f, vals[i], vals, self.keys)
        return vals

    def unpack(self, data: bytes, off: int = 0) -> dict:
        """The structure at ``data[off:]`` as a record (computed fields included)."""
        vals = self.convert(self.st.unpack_from(data, off))
        return dict(zip(self.keys, vals))


def record_run(data: bytes, off: int, count: int, head: int, c: Codec) -> list[dict]:
    """The records of the subtables at ``off`` (at most ``count``, each a ``head``-byte type and
    length header and the fields of ``c``, none needing conversion) as long as each has the type
    and the length of the first one: those of a large table's run of entries of one kind, read
    with one ``struct`` call (as :meth:`Codec.unpack` reads each)."""
    assert head == 2, "a type byte and a length byte"
    n = head + c.size
    span = data[off:off + count * n]
    k = min(count - len(span[0::n].lstrip(span[:1])), count - len(span[1::n].lstrip(span[1:2])))
    st = _RUNS.get(id(c))
    if st is None:
        st = _RUNS[id(c)] = struct.Struct(f"<{head}x" + c.st.format[1:])
    return list(map(dict, map(zip, repeat(c.keys), st.iter_unpack(span[:k * n]))))


_RUNS: dict[int, struct.Struct] = {}


def _to_struct(f: L.Field, v: Any, rec: Mapping, where: str) -> Any:
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
        handle = _handle(f)
        sel = rec.get(handle.selector)
        form = handle.forms.get(sel) if isinstance(sel, int) else None
        if form is None:
            raise AcpiEncodeError(
                f"{where}: a structured handle needs {handle.selector} in "
                f"{sorted(handle.forms)}, got {sel!r}; give raw bytes instead")
        return struct_codec(form).pack(v, where)
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


def _handle(f: L.Field) -> L.HandleForms:
    assert f.handle is not None, f"{f.key}: a handle field declares its forms"
    return f.handle


def _from_struct(f: L.Field, v: bytes, vals: Sequence[Any], keys: list[str]) -> Any:
    k = f.kind
    if k in (L.KIND_ASCII, L.KIND_SIGNATURE):
        return v.rstrip(b"\0").decode("latin-1")
    if k == L.KIND_HANDLE:
        handle = _handle(f)
        form = handle.forms.get(vals[keys.index(handle.selector)])
        if form is None:
            return v
        return struct_codec(form).unpack(v, 0)
    if k == L.KIND_BYTES:
        return v
    if k == L.KIND_RESERVED and f.width > 8:
        return v
    return int.from_bytes(v, "little")


_CODECS: dict[int, Codec] = {}


def struct_codec(s: L.Struct | tuple[L.Field, ...]) -> Codec:
    """The (cached) codec of a :class:`~.layout.Struct` or a tuple of fields."""
    fields = s.fields if isinstance(s, L.Struct) else s
    c = _CODECS.get(id(fields))
    if c is None:
        c = _CODECS[id(fields)] = Codec(fields)
    return c


# --- the common SDT header, for plugins that look only at headers -----------------------------

def read_header(data: bytes) -> dict[str, Any]:
    """The common SDT header of a table's first 36 bytes, keyed as :data:`~.layout.SDT_HEADER`
    (strings latin-1, NULs kept).  ``data`` must hold a whole header."""
    return struct_codec(L.SDT_HEADER).unpack(data)


def read_subtable_header(data: bytes) -> dict[str, Any]:
    """The ``type`` and ``length`` of an SRAT/MADT subtable's first bytes
    (:data:`~.layout.SUBTABLE_HEADER`); ``data`` must hold them."""
    return struct_codec(L.SUBTABLE_HEADER).unpack(data)


def with_header(data: bytes, **fields: Any) -> bytes:
    """``data`` with the given SDT header fields replaced and its checksum made right
    (signature and length stay as they are)."""
    c = struct_codec(L.SDT_HEADER)
    hdr = read_header(data)
    computed = {"signature": hdr.pop("signature").encode("latin-1"), "length": hdr.pop("length")}
    del hdr["checksum"]
    hdr.update(fields)
    out = bytearray(c.pack(hdr, "header", computed) + data[c.st.size:])
    at = c.offsets["checksum"]
    out[at] = checksum(out)
    return bytes(out)


def pack_values(s: L.Struct, values: list[tuple]) -> bytes | None:
    """Subtables of the layout ``s`` (a type byte, a length byte, then its fields) from their
    field values in order, packed as the encoder packs each one (one ``struct`` call of the
    whole subtable, :func:`~.binary._packer`), a few hundred at a time; None when ``s`` has
    fields other than plain integers or a value does not fit (the encoder then says which)."""
    c, whole = struct_codec(s), struct_codec(s.all_fields)
    body = c.st.format[1:]
    if s.type is None or not c.fast_keys or len(c.fast_keys) < 2 or whole.size >= 256 or whole.st.format != "<BB" + body:
        return None
    parts = []
    try:
        for i in range(0, len(values), 256):
            chunk = values[i:i + 256]
            parts.append(_run_struct(body, len(chunk)).pack(*chain.from_iterable(chunk)))
    except struct.error:
        return None
    n, out = whole.size, bytearray(b"".join(parts))
    out[0::n], out[1::n] = bytes((s.type,)) * len(values), bytes((n,)) * len(values)
    return bytes(out)


@lru_cache(maxsize=1024)
def _run_struct(body: str, count: int) -> struct.Struct:
    """``count`` subtables: two pad bytes for the header (written after), then the fields."""
    return struct.Struct("<" + ("2x" + body) * count)
