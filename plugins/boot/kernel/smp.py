"""The CPU lines of early boot, one kernel file each: acpi_process_madt() and acpi_parse_hpet()
(arch/x86/kernel/acpi/boot.c), prefill_possible_map() (arch/x86/kernel/smpboot.c); the
per-CPU areas are :mod:`.percpu`'s."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Kernel



def madt_cpus(k: Kernel) -> list:
    """Every CPU the MADT lists: the nodes' and those without SRAT affinity."""
    return [c for _, c in k.machine.cpus] + list(k.machine.unaffined_cpus)


def possible_cpus(k: Kernel) -> list:
    """The possible CPUs: every MADT entry in 6.1 (the disabled ones hotplug); 6.12 counts a
    disabled entry only where acpi_is_processor_usable() (arch/x86/kernel/acpi/boot.c) says so,
    which under QEMU's TCG (no hypervisor Linux recognises) is never."""
    return [c for c in madt_cpus(k) if c.enabled or k.version.disabled_cpus_possible]


def acpi_process_madt(k: Kernel) -> bool:
    """acpi_process_madt() (arch/x86/kernel/acpi/boot.c): SMP configuration from the MADT (False: no CPUs, no lines)."""
    if not madt_cpus(k):
        return False
    k.pr("ACPI: Using ACPI (MADT) for SMP configuration information")
    return True


def prefill_possible_map(k: Kernel) -> None:
    """prefill_possible_map() (arch/x86/kernel/smpboot.c): possible CPUs = every MADT entry, the disabled ones hotplug."""
    cpus = madt_cpus(k)
    hp = sum(1 for c in cpus if not c.enabled)
    k.pr(f"smpboot: Allowing {len(cpus)} CPUs, {hp} hotplug CPUs")


def acpi_parse_hpet(k: Kernel) -> None:
    """acpi_parse_hpet() (arch/x86/kernel/acpi/boot.c), from acpi_boot_init(): the HPET's resource and name."""
    if "HPET" in k.acpi.installed and not k.params.acpi_off:   # QEMU's HPET: installed, bytes not modelled
        k.alloc("alloc_try_nid", "HPET resource (acpi_parse_hpet)", 64 + 9, 64, 0, 0, -1)


def smp_lines(k: Kernel) -> None:
    """The three in boot order (fwc prints them after paging_init, where they fall in dmesg
    relative to the lines fwc models)."""
    from .percpu import setup_per_cpu_areas

    if acpi_process_madt(k):
        k.version.prefill_possible_map(k)
    setup_per_cpu_areas(k)
