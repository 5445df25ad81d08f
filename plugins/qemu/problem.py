"""A finding of the QEMU plan: the check (``qemu-*``) that reports it, the message, where,
and notes saying why or what would fit.  Shared by :mod:`.plan` and :mod:`.cpus`."""

from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    check: str
    message: str
    span: object = None
    notes: tuple = ()
