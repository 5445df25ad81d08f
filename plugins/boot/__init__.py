"""Boot simulator backend: Linux 6.1 x86_64 early boot, memblock and zones.

Public API for other plugins (``__all__``, loaded on first use so that registering the
backend stays cheap): the module :mod:`.report` (``boot/boot.json``'s typed, versioned
contract: ``from_json``, ``BootReport``, ...), from :mod:`.sim` ``simulate``, ``Boot``,
``Step`` and ``Alloc``, from :mod:`.events` ``runs`` (memory blocks as runs) and ``block_ids`` (a row's blocks), and from :mod:`.firmware` what ``fwc boot`` needs to know of QEMU + SeaBIOS
(``linuxboot_initrd_base``, ``usable_low_end``, ``dsdt_length``, ``DEBIAN_INITRD_ADDR_MAX``).
The simulated kernel itself is :mod:`.kernel` (one module per kernel file).
"""

from __future__ import annotations

from fwc.exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "report": ("report",),
    "sim": ("Alloc", "Boot", "KERNELS", "Step", "simulate"),
    "kernel_build": ("cached_build",),
    "events": ("block_ids", "runs"),
    "firmware": ("DEBIAN_INITRD_ADDR_MAX", "dsdt_length", "linuxboot_initrd_base", "usable_low_end"),
})
