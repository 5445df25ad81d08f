"""attrs' ``__repr__``, ``__eq__`` and ``__hash__`` without compiling them per class.

attrs writes and compiles a ``__repr__`` for every class it creates: half the cost of creating
one, which ``fwc check`` paid at start for every model and boot-simulation class.  A class made
with ``repr=False`` and decorated with :func:`generic_repr` prints exactly what attrs' repr
prints (fields with ``repr=False`` left out, custom field reprs, ``...`` for a cycle),
formatted when it is called.  The model's frozen classes are made with ``eq=False`` too and
decorated with :func:`generic_value`: the repr, and the equality and hash attrs writes for a
frozen class (fields with ``eq=False`` left out), without the compile that was most of the cost
of importing :mod:`fwc.model`.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable

import attrs

from .attrs_code import install

install()  # before fwc's attrs classes are created: their methods compiled at build time


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


def generic_value(cls: Any) -> Any:
    """:func:`generic_repr`, and for an attrs class made frozen with ``eq=False`` the ``__eq__``
    and ``__hash__`` attrs writes with ``eq=True``: equal when of the same class with equal
    fields (in order, those with ``eq=False`` left out; another class: ``NotImplemented``),
    the hash of a per-class value (random per process, like attrs') and those fields."""
    fields = [a for a in attrs.fields(cls) if a.eq]
    if any(a.eq_key is not None or a.hash is not None for a in fields) or "__eq__" in cls.__dict__:
        raise TypeError(f"{cls.__qualname__}: generic_value covers plain eq fields of an eq=False class")
    names = tuple(a.name for a in fields)
    key: Callable[[Any], tuple[Any, ...]] = (attrgetter(*names) if len(names) > 1 else
                                             (lambda o: (getattr(o, names[0]),)) if names else (lambda o: ()))
    salt = hash(f"<fwc generated hash {cls.__module__}.{cls.__qualname__}>")

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)

    def __hash__(self: Any) -> int:
        return hash((salt, *key(self)))

    cls.__eq__, cls.__hash__ = __eq__, __hash__
    return generic_repr(cls)
