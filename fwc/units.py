"""Sizes in binary units, written the ways fwc writes them (one helper for every output)."""

from __future__ import annotations

from typing import Callable

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40

#: The binary units, largest first: (letter, shift).
UNITS = (("T", 40), ("G", 30), ("M", 20), ("K", 10))


def exact_size(n: int, *, iec: bool = False, otherwise: Callable[[int], str] = hex) -> str:
    """``n`` in the largest binary unit that divides it exactly: ``2G`` (QEMU's and the
    language's syntax) or, with ``iec``, ``2 GiB`` (prose); ``otherwise(n)`` when no unit does."""
    for letter, shift in UNITS:
        if n and n % (1 << shift) == 0:
            return f"{n >> shift} {letter}iB" if iec else f"{n >> shift}{letter}"
    return otherwise(n)


def approx_size(n: int, *, precision: str = ".3g", sixteenths: bool = False,
                otherwise: Callable[[int], str] = lambda n: f"{n}B") -> str:
    """``n`` in the largest binary unit not above it, as a decimal (``1.5G``), for pictures
    and summaries.  With ``sixteenths`` a unit is used only when ``n`` is a multiple of a
    sixteenth of it (KiB: of a whole KiB), so the figure is exact."""
    for letter, shift in UNITS:
        if n < 1 << shift:
            continue
        if sixteenths and n % (1 << (shift - 4 if shift > 10 else shift)):
            continue
        return f"{n / (1 << shift):{precision}}{letter}"
    return otherwise(n)


_MEMPARSE = None


def memparse(text: str) -> int | None:
    """Linux's memparse() (lib/cmdline.c) for a whole command-line value: a number as
    simple_strtoull(…, 0) reads it (``0x`` hex, a leading ``0`` octal, else decimal) with an
    optional K/M/G/T/P/E suffix (either case).  Unlike the kernel, None for anything else,
    so a check can say the value is not a size."""
    global _MEMPARSE
    if _MEMPARSE is None:
        import re

        _MEMPARSE = re.compile(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([KkMmGgTtPpEe]?)")
    g = _MEMPARSE.fullmatch(text.strip())
    if g is None:
        return None
    return int(g.group(1), 16 if g.group(1)[:2] in ("0x", "0X") else 8 if g.group(1).startswith("0") else 10) \
        << _SHIFTS.get(g.group(2).lower(), 0)


_SHIFTS = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}

