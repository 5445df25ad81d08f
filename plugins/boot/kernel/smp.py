"""The CPU lines of early boot, one kernel file each: acpi_process_madt()
(arch/x86/kernel/acpi/boot.c), prefill_possible_map() (arch/x86/kernel/smpboot.c) and
setup_per_cpu_areas() (arch/x86/kernel/setup_percpu.c)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Kernel

NR_CPUS = 8192  # Debian's CONFIG_NR_CPUS


def madt_cpus(k: Kernel) -> list:
    """Every CPU the MADT lists: the nodes' and those without SRAT affinity."""
    return [c for _, c in k.machine.cpus] + list(k.machine.unaffined_cpus)


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


def setup_per_cpu_areas(k: Kernel) -> None:
    """setup_per_cpu_areas() (arch/x86/kernel/setup_percpu.c): its first line (nr_node_ids = highest possible node + 1)."""
    n = len(madt_cpus(k))
    possible = k.numa.possible
    nr_node_ids = max(possible) + 1 if possible else 1
    k.pr(f"setup_percpu: NR_CPUS:{NR_CPUS} nr_cpumask_bits:{n} nr_cpu_ids:{n} nr_node_ids:{nr_node_ids}")


def smp_lines(k: Kernel) -> None:
    """The three in boot order (fwc prints them after paging_init, where they fall in dmesg
    relative to the lines fwc models)."""
    if acpi_process_madt(k):
        prefill_possible_map(k)
        setup_per_cpu_areas(k)
