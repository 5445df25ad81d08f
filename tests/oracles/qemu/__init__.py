"""Oracle 3: boot the real Debian 6.1 kernel under QEMU 7.2 TCG (oracles.md §4).

    from oracles.qemu import ensure_tools, boot, inspect_layout, OracleUnavailable

``ensure_tools()`` installs qemu-system-x86 and busybox-static with apt-get and unpacks the
Debian kernel into ``$FWC_ORACLE_CACHE`` (default ``~/.cache/fwc-oracles``).
``boot(qemu_args, cmdline, early_cpio, timeout)`` boots and returns a ``BootResult``
(ACPI tables, dmesg, zoneinfo, memory blocks, iomem, ...).  ``inspect_layout(qemu_args)``
asks a paused QEMU's monitor for the memory layout (under a second, no boot).
"""

from .boot import (DEFAULT_CMDLINE, BootError, BootResult, MemoryBlock, boot,
                   memory_lines, parse_zoneinfo, strip_timestamps)
from .initramfs import CpioWriter, acpi_override_cpio, build_initramfs_bytes
from .layout import Layout, QemuConfigError, inspect_layout
from .tools import OracleUnavailable, Tools, cache_dir, ensure_tools

__all__ = [
    "DEFAULT_CMDLINE", "BootError", "BootResult", "MemoryBlock", "boot", "memory_lines",
    "parse_zoneinfo", "strip_timestamps", "CpioWriter", "acpi_override_cpio",
    "build_initramfs_bytes", "Layout", "QemuConfigError", "inspect_layout",
    "OracleUnavailable", "Tools", "cache_dir", "ensure_tools",
]
