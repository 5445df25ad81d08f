"""Boot simulator backend: Linux 6.1 x86_64 early boot, memblock and zones.

Public API for other plugins (``__all__``, loaded on first use so that registering the
backend stays cheap): the module :mod:`.report` (``boot/boot.json``'s typed, versioned
contract: ``from_json``, ``BootReport``, ...), and from :mod:`.sim` ``simulate``, ``Boot`` and
``Alloc``.  The simulated kernel itself is :mod:`.kernel` (one module per kernel file).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Alloc", "Boot", "report", "simulate"]


def __getattr__(name: str) -> Any:
    import importlib

    if name == "report":
        return importlib.import_module(f"{__name__}.report")
    if name in ("Alloc", "Boot", "simulate"):
        return getattr(importlib.import_module(f"{__name__}.sim"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
