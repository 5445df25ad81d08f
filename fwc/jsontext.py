"""``json.dumps(obj, indent=n, sort_keys=True)``, the same text, several times faster.

With ``indent`` set, :mod:`json` leaves its C encoder for a generator per container that
yields every bracket, separator and scalar separately: most of the time of ``boot/boot.json``
(megabytes for a thousand nodes).  :func:`dumps` builds each container's text with one join,
strings through json's own C escaper.  Anything it does not handle the way :mod:`json` does
(another type, a cycle, keys that do not sort) goes to :func:`json.dumps` itself, so errors
are json's.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _string
from typing import Any

_repr = int.__repr__


class _Other(Exception):
    """A value :func:`dumps` leaves to :func:`json.dumps`."""


def dumps(obj: Any, indent: int) -> str:
    """``json.dumps(obj, indent=indent, sort_keys=True)``."""
    try:
        return _text(obj, "\n", " " * indent)
    except (_Other, TypeError, RecursionError):
        return json.dumps(obj, indent=indent, sort_keys=True)


def _float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


def _key(k: Any) -> str:
    if isinstance(k, str):
        return _string(k)
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return '"' + int.__repr__(k) + '"'
    if isinstance(k, float):
        return '"' + _float(k) + '"'
    raise _Other


def _text(o: Any, nl: str, ind: str) -> str:
    """``o`` at the indentation ``nl`` (a newline and the current indent)."""
    t = type(o)
    if t is str:
        return _string(o)
    if t is int:
        return int.__repr__(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    inner = nl + ind
    if isinstance(o, (list, tuple)):
        if not o:
            return "[]"
        return "[" + inner + ("," + inner).join(
            [_string(x) if type(x) is str else _repr(x) if type(x) is int else _text(x, inner, ind)
             for x in o]) + nl + "]"
    if isinstance(o, dict):
        if not o:
            return "{}"
        return "{" + inner + ("," + inner).join(
            [(_string(k) if type(k) is str else _key(k)) + ": "
             + (_string(v) if type(v) is str else _repr(v) if type(v) is int else _text(v, inner, ind))
             for k, v in sorted(o.items())]) + nl + "}"
    if isinstance(o, str):
        return _string(o)
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    raise _Other
