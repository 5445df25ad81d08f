""""Did you mean …?" for a misspelt keyword, board, flag, check or command name."""

from __future__ import annotations

from typing import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely misspells (difflib's ratio of at least 0.75, or one
    typing slip in a short word), or None."""
    import difflib

    pool = [c for c in dict.fromkeys(candidates) if c and c != word]
    low = word.lower()
    hits = difflib.get_close_matches(low, pool, n=1, cutoff=0.75)
    if not hits and len(low) >= 3:
        hits = difflib.get_close_matches(low, pool, n=1, cutoff=0.66)
    return hits[0] if hits else None


def did_you_mean(word: str, candidates: Iterable[str], sep: str = "; ") -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, else ``""``."""
    hit = closest(word, candidates)
    return f"{sep}did you mean '{hit}'?" if hit else ""
