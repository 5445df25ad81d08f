"""Input of ``fwc decompile``: tables from binary files, acpidump text or a directory.

:func:`read_inputs` gathers the tables by signature (the first of each wins, as Linux reads
only the first), the RSDP's address when a dump gives one, and every problem found on the
way as a diagnostic.
"""

from __future__ import annotations

import os
from typing import Iterable

from fwc.diagnostics import ERROR, NOTE, WARNING, Diagnostic

from . import layout as L
from .binary import Problem
from .codec import struct_codec

__all__ = ["Input", "read_inputs", "diagnostic", "SIG_CHARS"]

#: the characters of a table signature
SIG_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def diagnostic(where: str, p: Problem) -> Diagnostic:
    """A decoding problem as a diagnostic."""
    sev = {"error": ERROR, "warning": WARNING}.get(p.severity, NOTE)
    return Diagnostic(sev, p.code, f"{where}: byte offset {p.offset:#x}: {p.message}")


class Input:
    """Tables read from files: ``{signature: (bytes, where)}`` (first instance wins)."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[bytes, str]] = {}
        self.rsdp_address: int | None = None
        self.diags: list[Diagnostic] = []

    def problem(self, where: str, p: Problem) -> None:
        self.diags.append(diagnostic(where, p))

    def add(self, data: bytes, where: str, address: int | None = None) -> None:
        sig = L.signature_of(data) if len(data) >= 4 else "?"
        if sig == L.RSDP_SIGNATURE:
            self.rsdp_address = address
            return
        if sig in self.tables:
            self.diags.append(Diagnostic(NOTE, "acpi-duplicate-table",
                                         f"{where}: a second {sig} is ignored (Linux reads only the first)"))
            return
        self.tables[sig] = (data, where)


def read_inputs(paths: Iterable[str]) -> Input:
    from .acpidump import parse_acpidump
    from .tableset import check_table_set

    inp = Input()
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if os.path.isfile(full) and _looks_like_table(full):
                    data = _read(inp, full)
                    if data is not None:
                        inp.add(data, full)
            continue
        data = _read(inp, path)
        if data is None:
            continue
        if _looks_like_dump(data):
            entries, problems = parse_acpidump(data.decode("latin-1"))
            for p in problems:
                inp.problem(path, p)
            for p in check_table_set(entries):
                inp.problem(path, p)
            for e in entries:
                inp.add(e.data, f"{path}: {e.signature} @ {e.address:#x}", e.address)
        else:
            inp.add(data, path)
    return inp


def _looks_like_table(path: str) -> bool:
    """In a directory, only files that start like an ACPI table are read (sysfs and dumps
    hold other files too)."""
    at = _SDT.offsets["length"]
    need = max(at + 4, len(L.RSDP_SIGNATURE))
    try:
        with open(path, "rb") as f:
            head = f.read(need)
    except OSError:
        return False
    sig = L.signature_of(head)
    if sig == L.RSDP_SIGNATURE:
        return True
    sig_ok = len(head) == need and all(c in SIG_CHARS for c in sig)
    return sig_ok and int.from_bytes(head[at:at + 4], "little") >= _SDT.size


_SDT = struct_codec(L.SDT_HEADER)


def _looks_like_dump(data: bytes) -> bool:
    head = data[:200].decode("latin-1", "replace")
    return " @ 0x" in head.split("\n", 1)[0]


def _read(inp: Input, path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        inp.diags.append(Diagnostic(ERROR, "include", f"cannot read '{path}': {e.strerror or e}"))
        return None
