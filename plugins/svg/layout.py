"""Label layout for the memory-map picture: text sizes, label rows that never overlap, wrapping.

Text widths are estimated from DejaVu Sans's advance widths, rounded up (the picture names
DejaVu Sans first; a narrower fallback font only leaves more room).  :class:`Rows` places each
label at its anchor in the first row where it overlaps nothing already placed, moving it left
when it would cross the right edge; the caller draws a leader line from the anchor to a label
that is not in the first row or was moved.  tests/test_svg.py renders the pictures with
librsvg and measures every text's real pixels to check the estimate and the layout.
"""

from __future__ import annotations

#: advance widths in em, rounded up from DejaVu Sans Book (digits 0.636, 'm' 0.974, …)
_WIDE = {"m": 0.98, "w": 0.82, "M": 0.87, "W": 1.0, "@": 1.0, "%": 0.95, "≈": 0.84, "…": 1.0, "—": 1.0}
_NARROW = {" ": 0.32, "i": 0.28, "l": 0.28, "j": 0.28, ".": 0.32, ",": 0.32, ":": 0.34, ";": 0.34, "'": 0.28,
           "|": 0.34, "(": 0.4, ")": 0.4, "[": 0.4, "]": 0.4, "-": 0.37, "·": 0.32, "!": 0.4, "f": 0.36,
           "t": 0.4, "r": 0.42, "I": 0.3}
PAD = 3.0


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An upper bound of the rendered width of ``text`` at ``size`` px."""
    em = 0.0
    for ch in text:
        if ch in _WIDE:
            em += _WIDE[ch]
        elif ch in _NARROW:
            em += _NARROW[ch]
        elif ch.isupper():
            em += 0.78
        else:
            em += 0.64
    return em * size * (1.1 if bold else 1.0)


def fit(text: str, size: float, room: float, bold: bool = False) -> str:
    """``text``, cut with '…' to fit ``room`` px."""
    if text_width(text, size, bold) <= room:
        return text
    while text and text_width(text + "…", size, bold) > room:
        text = text[:-1]
    return text + "…"


def wrap(text: str, size: float, room: float, bold: bool = False) -> list[str]:
    """``text`` in lines of at most ``room`` px, broken at spaces (a word too long is cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        cand = f"{line} {word}" if line else word
        if text_width(cand, size, bold) <= room:
            line = cand
            continue
        if line:
            lines.append(line)
        line = fit(word, size, room, bold)
    if line or not lines:
        lines.append(line)
    return lines


class Rows:
    """Labels in rows between ``left`` and ``right``: a label never overlaps another."""

    def __init__(self, left: float, right: float):
        self.left, self.right = left, right
        self.rows: list[list[tuple[float, float]]] = []

    def place(self, anchor: float, width: float) -> tuple[int, float]:
        """(row, x) for a label ``width`` px wide anchored at ``anchor`` (its left end)."""
        x = max(self.left, min(anchor, self.right - width))
        for i, row in enumerate(self.rows):
            if all(x + width + PAD <= a or b + PAD <= x for a, b in row):
                row.append((x, x + width))
                return i, x
        self.rows.append([(x, x + width)])
        return len(self.rows) - 1, x

    @property
    def count(self) -> int:
        return len(self.rows)
