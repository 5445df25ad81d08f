""""Did you mean …?" for a misspelt keyword, board, flag, check or command name."""

from __future__ import annotations

from typing import Any, Iterable


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


def usage_suggestion(parser: Any, message: str) -> str:
    """"did you mean" for a misspelt command or option in an argparse error message (fwc.cli)."""
    import re

    subs = [a for a in parser._actions if a.choices and isinstance(a.choices, dict)]
    commands = [name for a in subs for name in a.choices]
    options = list(parser._option_string_actions) + [o for a in subs for p in a.choices.values()
                                                     for o in p._option_string_actions]
    m = re.search(r"invalid choice: '([^']*)'", message)
    if m:
        return did_you_mean(m.group(1), commands if commands and "COMMAND" in message else
                            [str(c) for a in parser._actions if a.choices for c in a.choices])
    m = re.search(r"unrecognized arguments: (.*)", message)
    if m:
        return "".join(did_you_mean(w.partition("=")[0], options) for w in m.group(1).split() if w.startswith("-"))
    return ""
