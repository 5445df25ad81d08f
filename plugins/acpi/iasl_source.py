"""iasl data-table source text, generated from the declarations in :mod:`.layout`.

The text has one ``[len] Label : value`` line per field, as ``iasl -T`` templates do (or, with
``offsets=True``, the ``[OOOh DDDD LLL]`` prefix of an ``iasl -d`` disassembly; iasl ignores
the bracket either way).  Rules followed (acpi-tables.md §9.2): labels exactly as iasl
20200925 prints them, in order; integers as upper-case hex without ``0x``; strings in double
quotes; every flag field followed by one line per named bit (iasl takes the value from those
lines); computed fields (lengths, checksums) are written but iasl recomputes them.

One writer, :class:`_Template`, writes every structure: the header, the fixed body, each
subtable, the SLIT matrix and the root tables' address lists (their rows declared as
fields on the fly).

Compile with ``iasl -z`` so the Creator ID / Creator Revision survive; then the output is
byte-identical to :func:`fwc_plugins.acpi.binary.encode`.
"""

from __future__ import annotations

from . import layout as L
from .binary import Table, encode
from .codec import AcpiError, checksum, struct_codec

__all__ = ["IaslSourceError", "to_iasl_source", "IASL_VERSION"]

#: the iasl release whose labels and limits the ``strict`` mode follows
IASL_VERSION = 20200925

_PER_LINE = 16  # bytes per line of a byte list, as iasl -d prints them


class IaslSourceError(AcpiError):
    """The table holds something the iasl data-table language cannot express."""


def _string(raw: bytes, where: str) -> str:
    s = raw.decode("latin-1").rstrip("\0")
    if any(not (0x20 <= ord(c) < 0x7F) or c in '"\\' for c in s):
        raise IaslSourceError(f"{where}: {s!r} cannot be written as an iasl string (only printable "
                              f"ASCII without quotes/backslashes)")
    return f'"{s}"'


def _byte_list(raw: bytes, cont: str) -> str:
    """A byte list; long lists continue on backslash-terminated lines like iasl -d."""
    hexes = raw.hex(" ").upper()
    if len(raw) <= _PER_LINE:
        return hexes
    step = 3 * _PER_LINE
    return (" \\\n" + cont).join(hexes[i:i + step - 1] for i in range(0, len(hexes), step))


class _Template:
    """The text of one structure as a single %-format string plus a generated argument
    function, built from its field declarations.

    ``comment`` = ``(field index, text)`` puts ``[text]`` after that field's value (the table
    name after the signature, the subtable name after its type); ``blank_after`` lists the
    field indexes followed by an empty line; the text always ends with one.  Generated once
    per structure because the 557 KB benchmark SRAT has 20480 subtables and per-line Python
    formatting dominated the run time.
    """

    def __init__(self, fields: tuple[L.Field, ...], offsets: bool, strict: bool,
                 comment: tuple[int, str] | None = None, blank_after: tuple[int, ...] = ()):
        self.codec = struct_codec(fields)
        self.size = self.codec.size
        lw = 29 if offsets else 35
        pad = (15 if offsets else 6) + lw
        lines: list[str] = []
        args: list[str] = []
        checks: list[str] = []
        rel = 0
        for k, f in enumerate(fields):
            label = f.label.replace("%", "%%")
            if offsets:
                lines.append(f"[%03Xh %04d {f.width:3d}]{label:>{lw}} : ")
                args += [f"o+{rel}", f"o+{rel}"]
            else:
                lines.append(f"[{f.width:04d}]{label:>{lw}} : ")
            v = f"v[{k}]"
            note = comment[1].replace("%", "%%") if comment and comment[0] == k else None
            if f.kind in (L.KIND_ASCII, L.KIND_SIGNATURE):
                lines[-1] += "%s" + (f"    [{note}]" if note else "")
                args.append(f"_string({v}, w + {'.' + f.key!r})")
            elif f.kind in (L.KIND_BYTES, L.KIND_HANDLE) or (f.kind == L.KIND_RESERVED
                                                             and f.width > 8):
                lines[-1] += "%s"
                args.append(f"{v}.hex(' ').upper()" if f.width <= _PER_LINE
                            else f"_byte_list({v}, {' ' * (pad + 3)!r})")
            else:
                if f.width not in (1, 2, 4, 8):
                    v = f"int.from_bytes({v}, 'little')"
                lines[-1] += f"%0{2 * f.width}X" + (f" [{note}]" if note else "")
                args.append(v)
            if f.kind == L.KIND_FLAGS:
                known = 0
                for b in f.bits:
                    if b.iasl or not strict:
                        known |= b.mask
                        lines.append(f"{b.label:>{pad}} : %X")
                        args.append(f"({v} >> {b.shift}) & {(1 << b.width) - 1}")
                checks.append(f"{v} & {~known & ((1 << (8 * f.width)) - 1)}")
            if k in blank_after:
                lines.append("")
            rel += f.width
        lines.append("")
        self.fmt = "\n".join(lines) + "\n"
        env = {"_string": _string, "_byte_list": _byte_list}
        self.args = eval(f"lambda v, o, w: ({', '.join(args)},)", env)        # noqa: S307
        self.bad_flags = eval(f"lambda v: ({' or '.join(checks) or '0'})")   # noqa: S307

    def values(self, data: bytes, off: int) -> tuple:
        return self.codec.st.unpack_from(data, off)

    def text(self, values: tuple, off: int, where: str) -> str:
        bad = self.bad_flags(values)
        if bad:
            raise IaslSourceError(f"{where}: flag bits 0x{bad:X} have no iasl {IASL_VERSION} line, "
                                  f"so iasl source cannot express them")
        return self.fmt % self.args(values, off, where)


_TEMPLATES: dict = {}
_ROWS: dict = {}


def _template(fields: tuple[L.Field, ...], offsets: bool, strict: bool,
              comment: tuple[int, str] | None = None, blank_after: tuple[int, ...] = ()) -> _Template:
    key = (id(fields), offsets, strict, comment, blank_after)
    t = _TEMPLATES.get(key)
    if t is None:
        t = _TEMPLATES[key] = _Template(fields, offsets, strict, comment, blank_after)
    return t


def _rows(lay: L.TableLayout, count: int, width: int) -> tuple[L.Field, ...]:
    """The item rows of a SLIT (byte lists) or root table (addresses) as fields (kept alive
    here: codecs and templates are cached by the identity of their field tuple)."""
    key = (lay.signature, count, width)
    rows = _ROWS.get(key)
    if rows is None:
        kind = L.KIND_BYTES if lay.items == "matrix" else L.KIND_INT
        rows = _ROWS[key] = tuple(L.Field(f"item{i}", width, f"{lay.item_label} {i:3d}", kind)
                                  for i in range(count))
    return rows


def to_iasl_source(table: Table | bytes, *, offsets: bool = False, strict: bool = True) -> str:
    """iasl data-table source for ``table`` (a :class:`Table` record or encoded bytes).

    ``offsets=True`` writes the ``[OOOh DDDD LLL]`` prefix of ``iasl -d`` instead of
    ``[LLLL]`` (usable as a field-per-line dump; iasl compiles both).  ``strict=True``
    (default) refuses what iasl 20200925 cannot compile (SRAT type 6, flag bits it has no
    line for, zero root-table addresses); ``strict=False`` writes them, with the labels of
    later ACPICA releases.  Raises :class:`IaslSourceError` for content no iasl source can
    express (unknown subtables, subtables whose length differs from the layout, trailing
    bytes, non-printable strings, a wrong length or checksum in given bytes) and
    :class:`~fwc_plugins.acpi.codec.AcpiEncodeError` for records that cannot be encoded.
    """
    if isinstance(table, (bytes, bytearray, memoryview)):
        data = bytes(table)
        sig = L.signature_of(data)
    else:
        data = encode(table)
        sig = table.signature
    lay = L.TABLES.get(sig)
    if lay is None:
        raise IaslSourceError(f"no layout for table signature {sig!r}")
    hc = struct_codec(lay.header)
    if len(data) < hc.size:
        raise IaslSourceError(f"{sig}: {len(data)} bytes is shorter than the header")
    hdr = hc.unpack(data, 0)
    if lay is L.RSDP and hdr["revision"] == 1:
        raise IaslSourceError("RSDP revision 1: iasl compiles the extended part for any "
                              "revision > 0, fwc only for revision >= 2")
    has_body = lay.has_body(hdr)
    fixed = lay.header + (lay.body if has_body else ())
    end = hdr["length"] if "length" in hdr else struct_codec(fixed).size
    if end != len(data):
        raise IaslSourceError(f"{sig}: length {end} differs from the {len(data)} bytes given")
    spans = [f.span for f in fixed if f.kind == L.KIND_CHECKSUM and f.span is not None]
    if any(checksum(data[a:end if b is None else b]) != 0 for a, b in spans):
        raise IaslSourceError(f"{sig}: bad checksum (iasl would write a different one)")

    parts = ["/*\n",
             f" * {lay.name} ({sig.strip()}): iasl data-table source written by fwc.\n",
             " * Compile with `iasl -z` to keep the Creator ID and Creator Revision.\n",
             " */\n\n"]
    name = None if lay is L.RSDP else (0, lay.name)
    tpl = _template(lay.header, offsets, strict, name)
    parts.append(tpl.text(tpl.values(data, 0), 0, sig))
    off = hc.size
    body = {}
    if lay.body and has_body:
        tpl = _template(lay.body, offsets, strict)
        if off + tpl.size > end:
            raise IaslSourceError(f"{sig}: table ends inside its fixed fields")
        body = tpl.codec.unpack(data, off)
        parts.append(tpl.text(tpl.values(data, off), off, sig))
        off += tpl.size

    if lay.items == "subtables":
        off = _subtables(parts, data, off, end, lay, offsets, strict)
    elif lay.items == "matrix":
        n = body["localities"]
        if n * n != end - off:
            raise IaslSourceError(f"SLIT: locality count {n} does not match the "
                                  f"{end - off} matrix bytes")
        off = _items(parts, data, off, lay, n, n, offsets, strict)
    elif lay.items == "array":
        iw = lay.item_width
        if (end - off) % iw:
            raise IaslSourceError(f"{sig}: {(end - off) % iw} trailing byte(s)")
        off = _items(parts, data, off, lay, (end - off) // iw, iw, offsets, strict)
    if off != end:
        raise IaslSourceError(f"{sig}: {end - off} trailing byte(s) cannot be expressed in "
                              f"iasl source")
    return "".join(parts).rstrip("\n") + "\n"


def _items(parts: list, data: bytes, off: int, lay: L.TableLayout, count: int, width: int,
           offsets: bool, strict: bool) -> int:
    if not count:
        return off
    tpl = _template(_rows(lay, count, width), offsets, strict)
    values = tpl.values(data, off)
    if lay.iasl_item_nonzero and strict and 0 in values:
        raise IaslSourceError(f"{lay.signature} entry {values.index(0)}: iasl rejects a zero "
                              f"table address (Error 6312 - Value must be non-zero)")
    parts.append(tpl.text(values, off, lay.signature))
    return off + tpl.size


def _subtables(parts: list, data: bytes, off: int, end: int, lay: L.TableLayout, offsets: bool,
               strict: bool) -> int:
    sig, subs = lay.signature, lay.subtables
    head = struct_codec(L.SUBTABLE_HEADER)
    while off < end:
        where = f"{sig} subtable at offset {off}"
        if end - off < head.size:
            raise IaslSourceError(f"{where}: {end - off} trailing byte(s)")
        t, n = head.st.unpack_from(data, off)
        s = subs.get(t)
        if s is None:
            raise IaslSourceError(f"{where}: unknown subtable type {t} cannot be "
                                  f"expressed in iasl source")
        if strict and not s.iasl:
            raise IaslSourceError(f"{where}: iasl {IASL_VERSION} does not know {sig} "
                                  f"subtable type {t} ({s.name})")
        tpl = _template(s.all_fields, offsets, strict, (0, s.name), (1,))
        if n != tpl.size:
            raise IaslSourceError(f"{where}: length {n} differs from the {s.name} layout "
                                  f"({tpl.size}); iasl source cannot express that")
        parts.append(tpl.text(tpl.values(data, off), off, where))
        off += n
    return off
