"""iasl data-table source text, generated from the declarations in :mod:`.layout`.

The text has one ``[len] Label : value`` line per field, as ``iasl -T`` templates do (or, with
``offsets=True``, the ``[OOOh DDDD LLL]`` prefix of an ``iasl -d`` disassembly; iasl ignores
the bracket either way).  Rules followed (acpi-tables.md §9.2): labels exactly as iasl
20200925 prints them, in order; integers as upper-case hex without ``0x``; strings in double
quotes; every flag field followed by one line per named bit (iasl takes the value from those
lines); computed fields (lengths, checksums) are written but iasl recomputes them.

Compile with ``iasl -z`` so the Creator ID / Creator Revision survive; then the output is
byte-identical to :func:`fwc_plugins.acpi.binary.encode`.
"""

from __future__ import annotations

from . import layout as L
from .binary import AcpiError, Table, encode

__all__ = ["IaslSourceError", "to_iasl_source", "IASL_VERSION"]

#: the iasl release whose labels and limits the ``strict`` mode follows
IASL_VERSION = 20200925


class IaslSourceError(AcpiError):
    """The table holds something the iasl data-table language cannot express."""


class _Writer:
    def __init__(self, offsets: bool, strict: bool):
        self.offsets = offsets
        self.strict = strict
        self.lines: list[str] = []
        self.pos = 0
        self.lw = 29 if offsets else 35

    def prefix(self, width: int) -> str:
        if self.offsets:
            return f"[{self.pos:03X}h {self.pos:04d} {width:3d}]"
        return f"[{width:04d}]"

    def line(self, label: str, width: int, value: str) -> None:
        self.lines.append(f"{self.prefix(width)}{label:>{self.lw}} : {value}")
        self.pos += width

    def bit_line(self, label: str, value: int) -> None:
        pad = (15 if self.offsets else 6) + self.lw
        self.lines.append(f"{label:>{pad}} : {value:X}")

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def bytes_value(self, label: str, data: bytes, per_line: int = 16) -> None:
        """A byte list; long lists continue on backslash-terminated lines like iasl -d."""
        hexes = [f"{b:02X}" for b in data]
        chunks = [" ".join(hexes[i:i + per_line]) for i in range(0, len(hexes), per_line)] or [""]
        pad = " " * ((15 if self.offsets else 6) + self.lw + 3)
        first = f"{self.prefix(len(data))}{label:>{self.lw}} : {chunks[0]}"
        out = [first] + [pad + c for c in chunks[1:]]
        for i in range(len(out) - 1):
            out[i] += " \\"
        self.lines.extend(out)
        self.pos += len(data)

    # -- fields ---------------------------------------------------------------------------
    def field(self, f: L.Field, value, where: str, comment: str = "") -> None:
        k = f.kind
        if k in (L.KIND_ASCII, L.KIND_SIGNATURE):
            s = value if isinstance(value, str) else bytes(value).decode("latin-1")
            s = s.rstrip("\0")
            if any(not (0x20 <= ord(c) < 0x7F) or c in '"\\' for c in s):
                raise IaslSourceError(f"{where}.{f.key}: {s!r} cannot be written as an iasl "
                                      f"string (only printable ASCII without quotes/backslashes)")
            v = f'"{s}"'
            if comment:
                v += f"    [{comment}]"
            self.line(f.label, f.width, v)
        elif k in (L.KIND_BYTES, L.KIND_HANDLE) or (k == L.KIND_RESERVED and f.width > 8):
            self.bytes_value(f.label, bytes(value))
        elif k == L.KIND_FLAGS:
            v = int(value)
            known = 0
            for b in f.bits:
                if b.iasl or not self.strict:
                    known |= b.mask
            if v & ~known:
                raise IaslSourceError(
                    f"{where}.{f.key}: flag bits 0x{v & ~known:X} have no iasl "
                    f"{IASL_VERSION} line, so iasl source cannot express them")
            self.line(f.label, f.width, f"{v:0{2 * f.width}X}")
            for b in f.bits:
                if b.iasl or not self.strict:
                    self.bit_line(b.label, (v & b.mask) >> b.shift)
        else:
            v = f"{int(value):0{2 * f.width}X}"
            if comment:
                v += f" [{comment}]"
            self.line(f.label, f.width, v)


class _SubtableTemplate:
    """One subtable's text as a single %-format string plus a generated argument function.

    Generated from the layout declaration; used because the 557 KB benchmark SRAT has 20480
    subtables and per-line Python formatting dominated the run time.
    """

    def __init__(self, s: L.Struct, offsets: bool, strict: bool):
        from .binary import _codec
        fields = L.SUBTABLE_HEADER + s.fields
        self.codec = _codec(fields)
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
            if f.kind in (L.KIND_BYTES, L.KIND_HANDLE) or (f.kind == L.KIND_RESERVED
                                                           and f.width > 8):
                assert f.width <= 16
                lines[-1] += "%s"
                args.append(f"{v}.hex(' ').upper()")
            else:
                if f.width not in (1, 2, 4, 8):
                    v = f"int.from_bytes({v}, 'little')"
                lines[-1] += f"%0{2 * f.width}X"
                args.append(v)
                if k == 0:
                    lines[-1] += f" [{s.name.replace('%', '%%')}]"
            if f.kind == L.KIND_FLAGS:
                known = 0
                for b in f.bits:
                    if b.iasl or not strict:
                        known |= b.mask
                        lines.append(f"{b.label:>{pad}} : %X")
                        args.append(f"({v} >> {b.shift}) & {(1 << b.width) - 1}")
                checks.append(f"{v} & {~known & ((1 << (8 * f.width)) - 1)}")
            if k == 1:
                lines.append("")
            rel += f.width
        lines.append("")
        self.fmt = "\n".join(lines) + "\n"
        self.args = eval(f"lambda v, o: ({', '.join(args)},)")           # noqa: S307
        self.bad_flags = eval(f"lambda v: ({' or '.join(checks) or '0'})")  # noqa: S307
        self.size = self.codec.size


_TEMPLATES: dict = {}


def _template(s: L.Struct, offsets: bool, strict: bool) -> _SubtableTemplate:
    key = (id(s), offsets, strict)
    t = _TEMPLATES.get(key)
    if t is None:
        t = _TEMPLATES[key] = _SubtableTemplate(s, offsets, strict)
    return t


def to_iasl_source(table: Table | bytes, *, offsets: bool = False, strict: bool = True) -> str:
    """iasl data-table source for ``table`` (a :class:`Table` record or encoded bytes).

    ``offsets=True`` writes the ``[OOOh DDDD LLL]`` prefix of ``iasl -d`` instead of
    ``[LLLL]`` (usable as a field-per-line dump; iasl compiles both).  ``strict=True``
    (default) refuses what iasl 20200925 cannot compile (SRAT type 6, flag bits it has no
    line for, zero root-table addresses); ``strict=False`` writes them, with the labels of
    later ACPICA releases.  Raises :class:`IaslSourceError` for content no iasl source can
    express (unknown subtables, subtables whose length differs from the layout, trailing
    bytes, non-printable strings, a wrong length or checksum in given bytes) and
    :class:`~fwc_plugins.acpi.binary.AcpiEncodeError` for records that cannot be encoded.
    """
    from .binary import _codec, checksum
    if isinstance(table, (bytes, bytearray, memoryview)):
        data = bytes(table)
        sig = "RSD PTR " if data[:8] == b"RSD PTR " else data[:4].decode("latin-1")
    else:
        data = encode(table)
        sig = table.signature
    lay = L.TABLES.get(sig)
    if lay is None:
        raise IaslSourceError(f"no layout for table signature {sig!r}")
    is_rsdp = lay is L.RSDP
    hc = _codec(lay.header)
    if len(data) < hc.size:
        raise IaslSourceError(f"{sig}: {len(data)} bytes is shorter than the header")
    hdr = hc.unpack(data, 0)
    if is_rsdp:
        if hdr["revision"] == 1:
            raise IaslSourceError("RSDP revision 1: iasl compiles the extended part for any "
                                  "revision > 0, fwc only for revision >= 2")
        end = 36 if hdr["revision"] >= 2 else 20
        sums = [(0, 20), (0, end)]
    else:
        end = hdr["length"]
        sums = [(0, end)]
    if end != len(data):
        raise IaslSourceError(f"{sig}: length {end} differs from the {len(data)} bytes given")
    if any(checksum(data[a:b]) != 0 for a, b in sums if b <= len(data)):
        raise IaslSourceError(f"{sig}: bad checksum (iasl would write a different one)")

    w = _Writer(offsets, strict)
    w.lines += ["/*",
                f" * {lay.name} ({sig.strip()}): iasl data-table source written by fwc.",
                " * Compile with `iasl -z` to keep the Creator ID and Creator Revision.",
                " */", ""]

    def block(fields, vals, where, sig_comment=""):
        for f in fields:
            if f.kind == L.KIND_SIGNATURE:
                w.field(f, sig, where, sig_comment)
            elif f.kind in (L.KIND_HANDLE, L.KIND_BYTES) or (f.kind == L.KIND_RESERVED
                                                               and f.width > 8):
                w.field(f, data[w.pos:w.pos + f.width], where)
            else:
                w.field(f, vals[f.key], where)

    block(lay.header, hdr, sig, "" if is_rsdp else lay.name)
    w.blank()
    if lay.body and (not is_rsdp or end > 20):
        bc = _codec(lay.body)
        if w.pos + bc.size > end:
            raise IaslSourceError(f"{sig}: table ends inside its fixed fields")
        body = bc.unpack(data, w.pos)
        block(lay.body, body, sig)
        w.blank()
    off = w.pos

    if lay.items == "subtables":
        parts = ["\n".join(w.lines), "\n"]
        subs = lay.subtables
        while off < end:
            where = f"{sig} subtable at offset {off}"
            if end - off < 2:
                raise IaslSourceError(f"{where}: {end - off} trailing byte(s)")
            t, n = data[off], data[off + 1]
            s = subs.get(t)
            if s is None:
                raise IaslSourceError(f"{where}: unknown subtable type {t} cannot be "
                                      f"expressed in iasl source")
            if strict and not s.iasl:
                raise IaslSourceError(f"{where}: iasl {IASL_VERSION} does not know {sig} "
                                      f"subtable type {t} ({s.name})")
            tpl = _template(s, offsets, strict)
            if n != tpl.size:
                raise IaslSourceError(f"{where}: length {n} differs from the {s.name} layout "
                                      f"({tpl.size}); iasl source cannot express that")
            v = tpl.codec.st.unpack_from(data, off)
            if tpl.bad_flags(v):
                raise IaslSourceError(f"{where}: flag bits that iasl {IASL_VERSION} has no line "
                                      f"for are set, so iasl source cannot express them")
            parts.append(tpl.fmt % tpl.args(v, off))
            off += n
        text = "".join(parts).rstrip("\n")
        return text + "\n"
    if lay.items == "matrix":
        n = hdr_n = int.from_bytes(data[36:44], "little")
        if n * n != end - off:
            raise IaslSourceError(f"SLIT: locality count {hdr_n} does not match the "
                                  f"{end - off} matrix bytes")
        for i in range(n):
            w.bytes_value(f"{lay.item_label} {i:3d}", data[off + i * n:off + (i + 1) * n])
        off = end
    elif lay.items == "array":
        iw = lay.item_width
        if (end - off) % iw:
            raise IaslSourceError(f"{sig}: {(end - off) % iw} trailing byte(s)")
        for i in range((end - off) // iw):
            a = int.from_bytes(data[off + i * iw:off + (i + 1) * iw], "little")
            if a == 0 and lay.iasl_item_nonzero and strict:
                raise IaslSourceError(f"{sig} entry {i}: iasl rejects a zero table address "
                                      f"(Error 6312 - Value must be non-zero)")
            w.line(f"{lay.item_label} {i:3d}", iw, f"{a:0{2 * iw}X}")
        off = end
    if off != end:
        raise IaslSourceError(f"{sig}: {end - off} trailing byte(s) cannot be expressed in "
                              f"iasl source")
    while w.lines and w.lines[-1] == "":
        w.lines.pop()
    return "\n".join(w.lines) + "\n"
