"""Input of ``fwc decompile``: tables from binary files, acpidump text or a directory.

:func:`read_inputs` gathers the tables by signature, the RSDP's address when a dump gives one,
and every problem found on the way as a diagnostic.  Where a table comes from does not change
what is said about it: binary files, a directory (Linux's ``/sys/firmware/acpi/tables``
included) and acpidump text (acpica-tools' ``acpidump``, or the ``Raw Table Data`` of
``iasl -d`` output) all give the same checks with the same wording, only the location differs.

* Tables with a layout (SRAT, SLIT, MADT) are decoded by the caller, which reports their
  problems; read_inputs only frames them.
* The root tables (RSDP, XSDT, RSDT) and every table fwc does not model (FACP, DSDT, OEM
  tables, HMAT, ...) are checked as ACPICA checks them when it installs a table: length, and
  the checksum (none for FACS and S3PT); a defect there is a warning, never fatal, since the
  description does not depend on those bytes.
* Which instance of a signature counts is the one Linux reads: in a dump with root tables,
  the first in the order of the root Linux walks (the XSDT when the RSDP revision is above 1
  and gives its address); otherwise the first in the input (a directory is read in natural
  name order: ``SRAT1`` before ``SRAT2``, ``SSDT9`` before ``SSDT10``).  A second SRAT, SLIT,
  MADT, XSDT or RSDT gets a note; tables Linux loads in every instance (SSDTs) do not.
* The firmware memory map (e820) comes from a ``/sys/firmware/memmap`` directory or a log
  with ``BIOS-e820:`` lines (dmesg, a QEMU guest's serial output), detected by content
  (:mod:`.memmap`); the first one given counts, a later one gets a note.
* In a directory, only files that hold a table are read (a signature and a binary length:
  not acpidump text or notes that start with a signature); subdirectories (sysfs
  ``data/`` and ``dynamic/``) are skipped with a note, an unreadable file with a warning.
"""

from __future__ import annotations

import os
import re
from typing import Iterable

from fwc.diagnostics import ERROR, NOTE, WARNING, Diagnostic
from fwc.files import read_bytes, regular_file

from . import layout as L
from .binary import Problem
from .codec import struct_codec

__all__ = ["Input", "read_inputs", "diagnostic", "natural_order", "signature_ok", "SIG_CHARS"]

#: the characters of a table signature
SIG_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
#: root tables: checked here (the decompiler regenerates them)
_ROOTS = (L.RSDP_SIGNATURE, "XSDT", "RSDT")


def diagnostic(where: str, p: Problem) -> Diagnostic:
    """A decoding problem as a diagnostic."""
    sev = {"error": ERROR, "warning": WARNING}.get(p.severity, NOTE)
    return Diagnostic(sev, p.code, f"{where}: byte offset {p.offset:#x}: {p.message}")


class Input:
    """Tables read from files: ``{signature: (bytes, where)}`` (the instance Linux reads),
    the RSDP apart (``rsdp``, ``rsdp_address``)."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[bytes, str]] = {}
        self.rsdp: tuple[bytes, str] | None = None
        self.rsdp_address: int | None = None
        self.diags: list[Diagnostic] = []
        #: the firmware memory map, ``[(base, size, type name)]``, when an input gives one
        self.e820: list[tuple[int, int, str]] | None = None

    def add_e820(self, entries: list[tuple[int, int, str]], diags: list[Diagnostic], where: str) -> None:
        self.diags += diags
        if not entries:
            self.diags.append(Diagnostic(WARNING, "e820-input", f"{where}: no memory-map entry could be read"))
        elif self.e820 is not None:
            self.diags.append(Diagnostic(NOTE, "e820-input", f"{where}: a second memory map is ignored "
                                                             "(the first one given is used)"))
        else:
            self.e820 = entries

    def problem(self, where: str, p: Problem) -> None:
        self.diags.append(diagnostic(where, p))

    def add(self, data: bytes, where: str, address: int | None = None) -> None:
        sig = L.signature_of(data) if len(data) >= 4 else "?"
        self.check(data, where)
        if sig == L.RSDP_SIGNATURE:
            if self.rsdp is None:
                self.rsdp, self.rsdp_address = (data, where), address
            return
        if sig in self.tables:
            if sig in L.TABLES:
                self.diags.append(Diagnostic(NOTE, "acpi-duplicate-table",
                                             f"{where}: a second {sig} is ignored (Linux reads only the first)"))
            return
        self.tables[sig] = (data, where)

    def check(self, data: bytes, where: str) -> None:
        """ACPICA's checks of a table it installs, for the tables the caller does not decode:
        length and checksum (warnings)."""
        from .acpidump import decode_problems

        sig = L.signature_of(data) if len(data) >= 4 else "?"
        if sig in L.TABLES and sig not in _ROOTS:
            return          # the caller decodes SRAT, SLIT and MADT and reports their problems
        for p in decode_problems(data):
            if p.code == "acpi-unknown-table":
                continue    # the decompiler lists the tables it leaves out
            if p.severity == ERROR:
                p = Problem(p.offset, p.message, WARNING, p.code, p.line)
            self.problem(where, p)


def read_inputs(paths: Iterable[str]) -> Input:
    from .acpidump import parse_acpidump
    from .tableset import addresses_known, check_table_set, linux_order

    from .memmap import has_e820_lines, is_memmap_dir, read_e820_log, read_memmap_dir

    inp = Input()
    for path in paths:
        if os.path.isdir(path):
            if is_memmap_dir(path):
                inp.add_e820(*read_memmap_dir(path), path)
            else:
                _read_directory(inp, path)
            continue
        data = _read(inp, path)
        if data is None:
            continue
        if not _is_binary_table(data) and not data.startswith(b"RSD PTR ") and has_e820_lines(data):
            inp.add_e820(*read_e820_log(data, path), path)
        elif _looks_like_dump(data):
            entries, problems = parse_acpidump(data.decode("latin-1"), decode=False)
            for p in problems:
                inp.problem(path, p)
            for p in check_table_set(entries):
                inp.problem(path, p)
            known = addresses_known(entries)
            for e in linux_order(entries):
                inp.add(e.data, f"{path}: {e.signature} @ 0x{e.address:X}", e.address if known else None)
        else:
            inp.add(data, path)
    return inp


def natural_order(names: Iterable[str]) -> list[str]:
    """Directory entries in natural order (``SSDT2`` before ``SSDT10``), as Linux numbers
    the instances of a signature in sysfs."""
    def key(name: str) -> list:
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]

    return sorted(names, key=key)


def _read_directory(inp: Input, path: str) -> None:
    try:
        names = natural_order(os.listdir(path))
    except OSError as e:
        inp.diags.append(Diagnostic(ERROR, "include", f"cannot read '{path}': {e.strerror or e}"))
        return
    subdirs: list[str] = []
    unread: dict[str, list[str]] = {}      # reason -> names
    for name in names:
        full = os.path.join(path, name)
        if os.path.isdir(full):
            try:
                if os.listdir(full):
                    subdirs.append(name)     # an empty one (sysfs data/, dynamic/) is no news
            except OSError:
                subdirs.append(name)
            continue
        if regular_file(full) is not None:
            continue        # a fifo or a device in a directory is not read (it could block or never end)
        try:
            data = read_bytes(full)
        except OSError as e:
            unread.setdefault(str(e.strerror or e), []).append(name)
            continue
        if _looks_like_table(data):
            inp.add(data, full)
    for why, which in unread.items():
        hint = " (the tables in /sys/firmware/acpi/tables are readable by root only)" \
            if "ermission" in why else ""
        inp.diags.append(Diagnostic(WARNING, "acpi-input-skipped",
                                    f"{path}: not read: {', '.join(which)}: {why}{hint}"))
    if subdirs:
        why = (" (Linux's data/ holds data tables point at, dynamic/ the tables loaded at run time; "
               "neither holds an SRAT, SLIT or MADT)" if set(subdirs) & {"data", "dynamic"} else "")
        inp.diags.append(Diagnostic(NOTE, "acpi-input-skipped",
                                    f"{path}: subdirectories not read: {', '.join(subdirs)}{why}"))


_SDT = struct_codec(L.SDT_HEADER)


def signature_ok(sig: str) -> bool:
    """A table signature as ACPICA accepts one (``acpi_ut_valid_name_char``): A-Z, 0-9, '_',
    and '!' in the last place (``ASF!``)."""
    return len(sig) == 4 and all(c in SIG_CHARS or (c == "!" and i == 3) for i, c in enumerate(sig))


def _looks_like_table(data: bytes) -> bool:
    """In a directory, only files that hold an ACPI table are read (sysfs and dumps hold
    other files too): a valid signature and a length from the header size to the file size,
    or a binary length beyond it (a truncated table, which the decoder then reports).  Text
    that starts with a signature (``SRAT @ 0x...``, ``SRAT and ...``) is not a table."""
    if data.startswith(L.RSDP_SIGNATURE.encode("latin-1")):
        return True
    return _is_binary_table(data) or _truncated_table(data)


def _truncated_table(data: bytes) -> bool:
    """A table header (signature, binary length) in a file shorter than that length; text
    that starts with a signature has printable characters where the length would be."""
    if len(data) < 8 or not signature_ok(L.signature_of(data)):
        return False
    return not all(0x20 <= b < 0x7F or b in b"\t\r\n" for b in data[4:8])


def _is_binary_table(data: bytes) -> bool:
    at = _SDT.offsets["length"]
    if len(data) < _SDT.size or not signature_ok(L.signature_of(data)):
        return False
    return _SDT.size <= int.from_bytes(data[at:at + 4], "little") <= len(data)


_BLOCK = re.compile(rb"(?m)^[^\s\n][^\n]* @ |^Raw Table Data: Length \d")


def _looks_like_dump(data: bytes) -> bool:
    """acpidump text: a block header on the first line (as before), or, for a file that is not
    a binary table, a block header or an ``iasl -d`` ``Raw Table Data`` line anywhere."""
    head = data[:200].decode("latin-1", "replace")
    if " @ 0x" in head.split("\n", 1)[0]:
        return True
    if data.startswith(L.RSDP_SIGNATURE.encode("latin-1")) or _is_binary_table(data):
        return False
    return _BLOCK.search(data) is not None


def _read(inp: Input, path: str) -> bytes | None:
    try:
        return read_bytes(path)
    except OSError as e:
        inp.diags.append(Diagnostic(ERROR, "include", f"cannot read '{path}': {e.strerror or e}"))
        return None
