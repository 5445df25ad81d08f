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
