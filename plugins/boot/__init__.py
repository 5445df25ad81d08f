"""Boot simulator backend: Linux 6.1 x86_64 early boot, memblock and zones.

Public API for other plugins (``__all__``, loaded on first use so that registering the
backend stays cheap): the module :mod:`.report` (``boot/boot.json``'s typed, versioned
contract: ``from_json``, ``BootReport``, ...), and from :mod:`.sim` ``simulate``, ``Boot`` and
``Alloc``.  The simulated kernel itself is :mod:`.kernel` (one module per kernel file).
"""

from __future__ import annotations

from fwc.exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"report": ("report",), "sim": ("Alloc", "Boot", "simulate")})
