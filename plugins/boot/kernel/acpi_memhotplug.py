"""drivers/acpi/acpi_memhotplug.c and drivers/acpi/scan.c: a DIMM is an ACPI memory device
(PNP0C80).  Plugging one (at boot or later) adds its memory as one static memory group;
an eject request (QEMU ``device_del``) offlines its blocks and removes it, or is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Kernel


def acpi_memory_device_add(k: Kernel, name: str, pxm: int, base: int, size: int, slot: int,
                           booting: bool = False) -> tuple[int, list[int]]:
    """acpi_memory_device_add() -> acpi_memory_enable_device() (drivers/acpi/acpi_memhotplug.c):
    the node of the device's _PXM (acpi_get_node(), which maps no new node at run time; none:
    memory_add_physaddr_to_nid()), a static memory group (memory_group_register_static()) and
    __add_memory().  Returns (nid, the block ids: none when the add failed).  ``booting``: a
    cold-plugged DIMM, probed before system_state is SYSTEM_RUNNING."""
    from .memory_hotplug import add_memory_resource, memory_add_physaddr_to_nid, register_memory_resource
    from .state import MemoryGroup

    nid = k.numa.pxm_to_node.get(pxm, -1)
    if nid < 0:
        nid = memory_add_physaddr_to_nid(k, base)
    if not register_memory_resource(k, base, size, booting):
        k.out.notes.append(f"acpi PNP0C80: add_memory failed for the DIMM at {base:#x} (beyond mem=, while booting)")
        return nid, []
    k.hotplug.groups[name] = MemoryGroup(name, nid, base, size, slot, pxm)
    return nid, add_memory_resource(k, nid, base, size, name)


def acpi_scan_hot_remove(k: Kernel, name: str, forced: set[int] | None = None) -> tuple[str, str]:
    """acpi_scan_hot_remove() -> acpi_scan_try_to_offline() (drivers/acpi/scan.c): a first
    pass offlines every online block of the device, ignoring failures; a second pass retries
    the failed ones; one failing again puts the blocks the first pass offlined back online
    (acpi_bus_online() -> device_online(): the default online type, so the zone may differ)
    and refuses the eject (EBUSY: QEMU keeps the DIMM).  Else acpi_memory_device_remove() ->
    __remove_memory(), and _EJ0.  ``forced``: blocks whose *not guaranteed* offline succeeded
    on the real kernel.  Returns (outcome, why)."""
    from .drivers_base_memory import memory_block_offline, memory_block_online
    from .memory_hotplug import try_remove_memory

    hp = k.hotplug
    done: list = []
    failed: list[tuple[int, str, str]] = []
    for mem in [hp.blocks[b] for b in hp.blocks.ids(lambda b: b.group == name)]:
        if mem.state != "online":
            continue
        outcome, why = memory_block_offline(k, mem, force=mem.id in (forced or set()))
        if outcome == "ok":
            done.append(mem)
        else:
            failed.append((mem.id, outcome, why))
    if failed:
        for back in done:
            memory_block_online(k, back, "online")
        worst = "failed" if any(o == "failed" for _, o, _ in failed) else "not guaranteed"
        return worst, "; ".join(f"block {b}: {why}" for b, _, why in failed)
    try_remove_memory(k, name)
    return "ok", ""
