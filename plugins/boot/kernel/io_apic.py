"""io_apic_init_mappings() (arch/x86/kernel/apic/io_apic.c): the IOAPICs' resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Kernel

IOAPIC_RESOURCE_NAME_SIZE = 11


def io_apic_init_mappings(k: Kernel) -> None:
    """io_apic_init_mappings() (arch/x86/kernel/apic/io_apic.c): ioapic_setup_resources(), a struct
    resource and its name per IOAPIC (QEMU's boards have one)."""
    k.alloc("alloc_try_nid", "IOAPIC resources (ioapic_setup_resources)", 64 + IOAPIC_RESOURCE_NAME_SIZE, 64,
            0, 0, -1)
