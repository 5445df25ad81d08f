"""acpidump text form (writer and reader), acpi-tables.md §10.

Writer: byte-for-byte the shape ``acpidump`` prints: ``SIG @ 0x%016X``, data lines
``%8.4X: `` + ``XX `` per byte (a short last line padded with three spaces per missing byte)
+ one space + the ASCII column (0x20-0x7E, else ``.``), an empty line after each table.
The RSDP header is written ``RSD  @ 0x...`` as current ACPICA does.

Reader: the rules of ``acpixtract``: a block starts at a line that does not begin with
whitespace and contains `` @ ``; data lines begin with whitespace, the hex runs from after the
``:`` to the first double space (at most 16 bytes); a block ends at an empty line or a line
not starting with whitespace; other lines are ignored.  Unlike acpixtract, the reader checks
each table's length and checksum by decoding it (:func:`~.binary.decode_table`), except the
checksum of the tables that have none (FACS, S3PT: ACPICA's ``acpi_ut_verify_checksum``
skips them too).

The reader also takes the ``Raw Table Data: Length N (0xN)`` blocks of ``iasl -d`` output (what
hw-probe saves as its "acpidump" log): the same data lines (with a ``//`` before the ASCII
column), after an empty line; the signature is the table's own first bytes and the address
is unknown (0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from . import layout as L
from .binary import NOTE, WARNING, AcpiError, Problem, decode_table

__all__ = ["DumpEntry", "to_acpidump", "parse_acpidump", "decode_problems", "NO_CHECKSUM"]


@dataclass(frozen=True)
class DumpEntry:
    """One table of a dump: its 4-character block signature, physical address and bytes."""
    signature: str
    address: int
    data: bytes


def _sig_of(data: bytes) -> str:
    return L.signature_of(data)[:4]   # "RSD " for the RSDP


_ASCII = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in range(256))


def _block(sig: str, address: int, data: bytes) -> str:
    out = [f"{sig[:4]:4.4s} @ 0x{address >> 32 & 0xFFFFFFFF:08X}{address & 0xFFFFFFFF:08X}"]
    # the whole table's hex ("XX " a byte, the last line padded) and ASCII column at once
    pad = -len(data) % 16
    hexes = (data.hex(" ").upper() + " " + "   " * pad) if data else ""
    text = data.translate(_ASCII_B).decode("latin-1")
    out += ["%8.4X: %s %s" % (off, hexes[3 * off:3 * off + 48], text[off:off + 16]) for off in range(0, len(data), 16)]
    out.append("")
    return "\n".join(out) + "\n"


_ASCII_B = _ASCII.encode("latin-1")  # bytes.translate() table: printable ASCII or "."


def to_acpidump(tables: Iterable) -> str:
    """Dump text for ``tables``: items are bytes, ``(bytes, address)`` pairs or DumpEntry."""
    out = []
    for t in tables:
        if isinstance(t, DumpEntry):
            sig, addr, data = t.signature, t.address, t.data
            if len(data) >= 4:
                sig = _sig_of(data)   # acpidump prints the table's own first 4 bytes
        elif isinstance(t, (bytes, bytearray)):
            data, addr = bytes(t), 0
            sig = _sig_of(data)
        else:
            data, addr = t
            data = bytes(data)
            sig = _sig_of(data)
        if not 0 <= addr < 1 << 64:
            raise AcpiError(f"address {addr!r} does not fit 64 bits")
        out.append(_block(sig, addr, data))
    return "".join(out)


_HEX = re.compile(r"[0-9A-Fa-f]{2}")
_ADDR = re.compile(r"@\s*0x([0-9A-Fa-f]+)")
#: iasl -d: "Raw Table Data: Length 216 (0xD8)"
_RAW = re.compile(r"Raw Table Data: Length (\d+)")
#: tables without a checksum field (ACPICA acpi_ut_verify_checksum does not check them)
NO_CHECKSUM = ("FACS", "S3PT")


def decode_problems(data: bytes) -> list[Problem]:
    """The problems :func:`~.binary.decode_table` finds in ``data``, less the checksum of a
    table that has no checksum field (FACS, S3PT)."""
    _, probs = decode_table(data)
    if L.signature_of(data)[:4] in NO_CHECKSUM:
        probs = [p for p in probs if p.code != "acpi-bad-checksum"]
    return probs


def parse_acpidump(text: str, *, decode: bool = True) -> tuple[list[DumpEntry], list[Problem]]:
    """Tables from acpidump text.  Problems carry ``line`` (1-based) and the character offset.

    With ``decode`` (the default) each recovered table is also decoded, and its decoding
    problems are returned (offsets relative to that table, ``line`` = the block header line);
    without it, only problems of the text itself are.
    """
    entries: list[DumpEntry] = []
    probs: list[Problem] = []
    sig: str | None = None
    addr = 0
    buf = bytearray()
    start_line = 0
    expect = 0
    raw_length: int | None = None   # the length an iasl "Raw Table Data" header announces

    def finish() -> None:
        nonlocal sig
        if sig is None:
            return
        data = bytes(buf)
        if raw_length is not None:
            if not data:        # a header without data lines: nothing to keep
                sig = None
                return
            sig = L.signature_of(data)[:4]
            if len(data) != raw_length:
                probs.append(Problem(0, f"{sig}: 'Raw Table Data' announces {raw_length} bytes, the "
                                        f"lines hold {len(data)}", WARNING, "acpidump-format", start_line))
        name = "RSDP" if sig in ("RSD ", "RSDP") else sig
        entries.append(DumpEntry(name, addr, data))
        if decode:
            for p in decode_problems(data):
                probs.append(Problem(p.offset, f"{name} @ 0x{addr:X}: {p.message}", p.severity,
                                     p.code, start_line))
        sig = None

    pos = 0
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        here = pos
        pos += len(line)
        line = line.rstrip("\r\n")
        if not line.strip():
            if raw_length is not None and sig is not None and not buf:
                continue        # iasl puts an empty line between the header and the data
            finish()
            continue
        if not line[0].isspace():
            finish()
            raw = _RAW.match(line)
            if raw is not None:
                sig, addr, raw_length = "", 0, int(raw.group(1))
                buf = bytearray()
                start_line, expect = lineno, 0
            elif " @ " in line:
                sig = "RSDP" if line.startswith("RSD PTR") else line[:4]
                buf = bytearray()
                start_line, expect, raw_length = lineno, 0, None
                m = _ADDR.search(line)
                addr = int(m.group(1), 16) if m else 0
                if m is None and "(nil)" not in line:
                    probs.append(Problem(here, f"no address in block header {line!r}; using 0",
                                         WARNING, "acpidump-format", lineno))
            continue
        if sig is None:
            continue
        head, colon, rest = line.partition(":")
        if not colon:
            probs.append(Problem(here, "data line without ':' ignored", WARNING,
                                 "acpidump-format", lineno))
            continue
        try:
            off = int(head.strip(), 16)
        except ValueError:
            probs.append(Problem(here, f"bad offset {head.strip()!r}; line ignored", WARNING,
                                 "acpidump-format", lineno))
            continue
        rest = rest.lstrip(" ")
        hexpart = rest.split("  ", 1)[0]
        toks = hexpart.split()[:16]
        if not all(_HEX.fullmatch(t) for t in toks):
            probs.append(Problem(here, "non-hex data ignored", WARNING, "acpidump-format", lineno))
            toks = [t for t in toks if _HEX.fullmatch(t)]
        if off != expect:
            probs.append(Problem(here, f"line offset 0x{off:X} does not follow the previous "
                                       f"data (expected 0x{expect:X})", WARNING,
                                 "acpidump-format", lineno))
        buf += bytes(int(t, 16) for t in toks)
        expect = off + len(toks)
    finish()
    if not entries:
        probs.append(Problem(0, "no tables found in dump text", NOTE, "acpidump-empty", None))
    return entries, probs
