"""attrs' ``__repr__`` text without compiling one per class.

attrs writes and compiles a ``__repr__`` for every class it creates: half the cost of creating
one, which ``fwc check`` paid at start for every model and boot-simulation class.  A class made
with ``repr=False`` and decorated with :func:`generic_repr` prints exactly what attrs' repr
prints (fields with ``repr=False`` left out, custom field reprs, ``...`` for a cycle),
formatted when it is called.
"""

from __future__ import annotations

from typing import Any

import attrs


def generic_repr(cls: Any) -> Any:
    """Give an attrs class made with ``repr=False`` the ``__repr__`` attrs would write (unless
    it defines its own)."""
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _attrs_repr
    return cls


_REPRING: Any = None


def _attrs_repr(self: Any) -> str:
    global _REPRING
    if _REPRING is None:
        import threading

        _REPRING = threading.local()
    seen = getattr(_REPRING, "ids", None)
    if seen is None:
        seen = _REPRING.ids = set()
    if id(self) in seen:
        return "..."
    seen.add(id(self))
    try:
        cls = type(self)
        return cls.__qualname__.rsplit(">.", 1)[-1] + "(" + ", ".join(
            f"{a.name}={(repr if a.repr is True else a.repr)(getattr(self, a.name, attrs.NOTHING))}"
            for a in attrs.fields(cls) if a.repr is not False) + ")"
    finally:
        seen.discard(id(self))
