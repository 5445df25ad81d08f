"""The firmware memory map (e820) for ``fwc decompile``, read from where a user has it.

* a ``/sys/firmware/memmap`` directory: one subdirectory per entry (``0/``, ``1/``, …) with
  the files ``start``, ``end`` (inclusive) and ``type`` (``System RAM``, ``Reserved``,
  ``ACPI Tables``, ``ACPI Non-volatile Storage``, ``Unusable memory``, ``Persistent
  Memory``, …: ``e820_type_to_string()``, arch/x86/kernel/e820.c);
* a saved ``dmesg``, a syslog or a QEMU guest's serial log: its ``BIOS-e820:`` lines
  (``BIOS-e820: [mem 0x…-0x…] usable``, end inclusive, with or without a ``[    0.000000] ``
  timestamp or other prefix; kernels before 3.x wrote ``BIOS-e820: 0…0 - 0…0 (usable)``,
  end exclusive).  Only the first map of a log is read (a log of several boots has several).

Every line or file fwc cannot read is an ``e820-input`` warning naming the file and line;
nothing here raises on input bytes.  The result is ``[(base, size, type name)]`` with the
names of the language's ``e820 { … }`` block (:data:`fwc.model.E820_BLOCK_TYPES`).
"""

from __future__ import annotations

import os
import re

from fwc.diagnostics import WARNING, Diagnostic, Span

__all__ = ["is_memmap_dir", "read_memmap_dir", "has_e820_lines", "read_e820_log", "SYSFS_TYPES", "DMESG_TYPES"]

Entry = tuple[int, int, str]  # (base, size, type name)

#: e820_type_to_string() (arch/x86/kernel/e820.c): the ``type`` file of /sys/firmware/memmap
SYSFS_TYPES = {"System RAM": "usable", "Reserved": "reserved", "ACPI Tables": "acpi",
               "ACPI Non-volatile Storage": "nvs", "Unusable memory": "unusable", "Persistent Memory": "pmem",
               "Persistent Memory (legacy)": "pram", "Soft Reserved": "soft-reserved"}
#: e820_print_type() (arch/x86/kernel/e820.c): the words after a ``BIOS-e820:`` range
DMESG_TYPES = {"usable": "usable", "reserved": "reserved", "ACPI data": "acpi", "ACPI NVS": "nvs",
               "unusable": "unusable", "persistent (type 7)": "pmem", "persistent (type 12)": "pram",
               "soft reserved": "soft-reserved"}

_NEW = re.compile(r"BIOS-e820: \[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\] (.*?)\s*$")
_OLD = re.compile(r"BIOS-e820: ([0-9a-fA-F]+) - ([0-9a-fA-F]+) \((.*)\)\s*$")
_HEADER = "BIOS-provided physical RAM map"


def _warn(message: str, file: str, line: int | None = None, text: str = "") -> Diagnostic:
    span = Span(file, line, 1, line, max(2, len(text) + 1)) if line is not None else None
    where = f"{file}:{line}: " if line is not None else f"{file}: "
    return Diagnostic(WARNING, "e820-input", where + message, span)


# --- /sys/firmware/memmap


def is_memmap_dir(path: str) -> bool:
    """A directory of numbered entries holding ``start``, ``end`` and ``type`` files."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    numbered = [n for n in names if n.isdigit() and os.path.isdir(os.path.join(path, n))]
    return bool(numbered) and any(os.path.isfile(os.path.join(path, n, "type")) for n in numbered)


def _read_text(full: str, diags: list[Diagnostic]) -> str | None:
    from fwc.files import read_bytes

    try:
        return read_bytes(full, 4096).decode("latin-1").strip()
    except OSError as e:
        diags.append(_warn(f"cannot read: {e.strerror or e}", full))
        return None


def read_memmap_dir(path: str) -> tuple[list[Entry], list[Diagnostic]]:
    """The entries of a ``/sys/firmware/memmap``-style directory, in entry-number order."""
    diags: list[Diagnostic] = []
    out: list[Entry] = []
    names = sorted((n for n in os.listdir(path) if n.isdigit()), key=int)
    others = sorted(n for n in os.listdir(path) if not n.isdigit())
    if others:
        diags.append(_warn(f"not memory-map entries, not read: {', '.join(others)}", path))
    for n in names:
        d = os.path.join(path, n)
        if not os.path.isdir(d):
            diags.append(_warn("not a directory of start, end and type files; not read", d))
            continue
        values = {}
        for f in ("start", "end", "type"):
            values[f] = _read_text(os.path.join(d, f), diags)
        if any(v is None for v in values.values()):
            continue
        nums = []
        for f in ("start", "end"):
            try:
                nums.append(int(values[f] or "", 16))
            except ValueError:
                diags.append(_warn(f"'{values[f]}' is not a hexadecimal address; entry {n} not read",
                                   os.path.join(d, f), 1, values[f] or ""))
                break
        if len(nums) < 2:
            continue
        typ = SYSFS_TYPES.get(values["type"] or "")
        if typ is None:
            diags.append(_warn(f"unknown memory type '{values['type']}' (known: {', '.join(SYSFS_TYPES)}); "
                               "described as reserved, which is what Linux makes of it", os.path.join(d, "type"), 1,
                               values["type"] or ""))
            typ = "reserved"
        entry = _entry(nums[0], nums[1] + 1, typ, os.path.join(d, "end"), 1, values["end"] or "", diags)
        if entry is not None:
            out.append(entry)
    return out, diags


def _entry(start: int, end: int, typ: str, file: str, line: int, text: str, diags: list[Diagnostic]) -> Entry | None:
    if end <= start or end > 1 << 64:
        diags.append(_warn(f"the range [{start:#x}, {end:#x}) is empty or beyond 64 bits; not read", file, line, text))
        return None
    return (start, end - start, typ)


# --- dmesg, syslog, QEMU serial logs


def has_e820_lines(data: bytes) -> bool:
    return b"BIOS-e820:" in data


def read_e820_log(data: bytes, path: str) -> tuple[list[Entry], list[Diagnostic]]:
    """The first map of ``BIOS-e820:`` lines in a log."""
    diags: list[Diagnostic] = []
    out: list[Entry] = []
    done = False
    later = 0
    for i, raw in enumerate(data.decode("latin-1").splitlines(), 1):
        line = raw.rstrip("\r")
        if _HEADER in line and out:
            done = True
        at = line.find("BIOS-e820:")
        if at < 0:
            continue
        if done:
            later += 1
            continue
        text = line[at:]
        m = _NEW.match(text)
        if m is not None:
            start, end, word = int(m.group(1), 16), int(m.group(2), 16) + 1, m.group(3)
        else:
            m = _OLD.match(text)
            if m is None:
                diags.append(_warn("not a 'BIOS-e820: [mem 0xSTART-0xEND] TYPE' line; not read", path, i, line))
                continue
            start, end, word = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if out and start < out[-1][0]:  # Linux prints the map sorted: a lower start is the next boot's map
            done = True
            later += 1
            continue
        typ = DMESG_TYPES.get(word)
        if typ is None:
            diags.append(_warn(f"unknown e820 type '{word}' (known: {', '.join(DMESG_TYPES)}); described as "
                               "reserved, which is what Linux makes of it", path, i, line))
            typ = "reserved"
        entry = _entry(start, end, typ, path, i, line, diags)
        if entry is not None:
            out.append(entry)
    if later:
        diags.append(Diagnostic(WARNING, "e820-input", f"{path}: the log holds more than one memory map (several "
                                                       f"boots?): the first is read, {later} later lines are not"))
    return out, diags


# --- into the description


def with_e820(text: str, entries: list[Entry], fwc) -> tuple[str, list[Diagnostic]]:
    """The description ``text`` with the ``e820 { … }`` block before its closing brace, and
    what fwc's checks say about the map (as warnings: the map is the firmware's, and a
    description that says what the firmware says is still the right one)."""
    from fwc.e820 import block_text

    lines = text.rstrip("\n").split("\n")
    end = max(i for i, line in enumerate(lines) if line == "}")
    out = "\n".join(lines[:end] + block_text(entries) + lines[end:]) + "\n"
    diags = []
    r = fwc.check(text=out, name="<decompiled>")
    for d in r.diagnostics:
        if d.check.startswith("e820") or d.check == "placement-memory":
            diags.append(Diagnostic(WARNING, d.check, f"the memory map: {d.message}"))
    return out, diags
