"""arch/x86/kernel/cpu/topology.c (Linux 6.12, the 6.9 topology rework): the possible CPUs are
the present ones plus the disabled MADT entries acpi_is_processor_usable()
(arch/x86/kernel/acpi/boot.c) accepts -- with MADT revisions before 5 only under a hypervisor
Linux recognises, and QEMU's TCG is not one (``CPU topo: Allowing 2 present CPUs plus 0 hotplug
CPUs`` on a ``-smp 2,maxcpus=255`` machine).  6.1's prefill_possible_map() counted them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..kernel.state import Kernel


def topology_init_possible_cpus(k: Kernel) -> None:
    """topology_init_possible_cpus() (arch/x86/kernel/cpu/topology.c): its ``Allowing`` line."""
    from ..kernel.smp import madt_cpus, possible_cpus

    present = sum(1 for c in madt_cpus(k) if c.enabled)
    k.pr(f"CPU topo: Allowing {present} present CPUs plus {len(possible_cpus(k)) - present} hotplug CPUs")
