"""Policies: where the hotpluggable memory's fate is decided.

:class:`Policy` is Linux 6.1 (``upstream``): bottom-up allocation under ``movable_node``
until the SRAT is parsed, hotplug flags on memblock.memory, kernel nodes cleared in
numa_clear_kernel_node_hotplug(), ZONE_MOVABLE from the ``movable_node`` branch of
find_zone_movable_pfns_for_nodes().

:class:`SeedPolicy` is the 2013 patch set (``movablecore=acpi``, Tang Chen et al., "x86, numa,
mem-hotplug: Hot-pluggable memory in early boot"): the
SRAT (or its initrd override) is parsed right after memblock is filled; the hotpluggable
ranges of every node the kernel does not reside in (no early reservation in it) are
*reserved* in memblock, so no early allocation can use them; they become ZONE_MOVABLE and
are freed after memory init.  It overrides exactly the steps it changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

from fwc.attrs_repr import generic_repr

from .zones import PHYS_MAX, pfn_down

if TYPE_CHECKING:
    from .state import Kernel


@generic_repr
@attrs.define(repr=False)
class Policy:
    """Linux 6.1 upstream."""

    name: ClassVar[str] = "upstream"
    #: pins.txt: a kernel node's hotpluggable memory is pinned by numa_clear_kernel_node_hotplug
    kernel_nodes_pin: ClassVar[bool] = True
    unmovable_reason: ClassVar[str] = "hotpluggable memory is not ZONE_MOVABLE (no movable_node)"

    def after_e820_memblock_setup(self, k: Kernel) -> None:
        """setup_arch() between e820__memblock_setup() and reserve_real_mode(): nothing upstream."""

    def numa_clear_kernel_node_hotplug(self, k: Kernel) -> None:
        from .numa import numa_clear_kernel_node_hotplug

        numa_clear_kernel_node_hotplug(k)

    def find_zone_movable_pfns_for_nodes(self, k: Kernel, ranges: list[tuple[int, int, int]]) -> dict[int, int]:
        from .page_alloc import find_zone_movable_pfns_for_nodes

        return find_zone_movable_pfns_for_nodes(k, ranges)

    def memblock_free_all(self, k: Kernel) -> None:
        """memblock_free_all() (mm/memblock.c): fwc models only its clearing of the hotplug flags."""
        k.note("memblock_free_all()")
        k.memblock.clear_hotplug(0, PHYS_MAX)


@generic_repr
@attrs.define(repr=False)
class SeedPolicy(Policy):
    """The 2013 seed design (movablecore=acpi)."""

    name: ClassVar[str] = "seed"
    kernel_nodes_pin: ClassVar[bool] = False
    unmovable_reason: ClassVar[str] = "hotpluggable memory is not ZONE_MOVABLE"

    srat: bytes | None = None                                        # the SRAT found early
    reserved: list[tuple[int, int]] = attrs.field(factory=list)     # (base, size) reserved hotpluggable RAM

    def after_e820_memblock_setup(self, k: Kernel) -> None:
        """The SRAT Linux will use (the initrd's override or the firmware's), parsed early;
        memblock_reserve_hotpluggable() then reserves the hotpluggable RAM of every node the
        kernel does not reside in."""
        fw = k.firmware
        self.srat = next((t.data for t in fw.tables if t.signature == "SRAT"), None)
        up = fw.upgrade if k.initrd else None
        r = up.reads("SRAT") if up is not None else None
        if up is not None and r is not None:
            self.srat = up.data(r)
        self.memblock_reserve_hotpluggable(k)

    def memblock_reserve_hotpluggable(self, k: Kernel) -> None:
        from .srat import MEM_ENABLED, MEM_HOTPLUGGABLE, srat_entries

        mb = k.memblock
        self.reserved = []
        if self.srat is None or k.params.acpi_off or k.params.numa_off:
            return
        ent = srat_entries(self.srat)
        if ent is None or ent.bad:
            return  # a bad SRAT: Linux will not use it
        ranges: dict[int, list[tuple[int, int, bool]]] = {}
        for m in ent.mems:
            if m.pxm is not None and m.flags & MEM_ENABLED and m.length:
                ranges.setdefault(m.pxm, []).append((m.base, m.base + m.length,
                                                     bool(m.flags & MEM_HOTPLUGGABLE)))
        res = mb.reserved.regions()
        k.note("seed: parse SRAT memory affinity early; reserve hotpluggable ranges of nodes the kernel "
               "does not reside in")
        for pxm, rs in ranges.items():
            resides = any(r.base < e and r.base + r.size > b for b, e, _ in rs for r in res)
            for b, e, hp in rs:
                if not hp:
                    continue
                if resides:
                    k.note(f"seed: PXM {pxm} [mem {b:#x}-{e - 1:#x}] not reserved: the kernel resides in this node")
                    continue
                # only the RAM part matters (memblock.memory)
                for mbase, mend in zip(mb.memory.B, mb.memory.E):
                    s, t = max(b, mbase), min(e, mend)
                    if s < t:
                        mb.caller = "seed: reserve hotpluggable memory (memblock_reserve_hotpluggable)"
                        mb.reserve(s, t - s)
                        self.reserved.append((s, t - s))

    def numa_clear_kernel_node_hotplug(self, k: Kernel) -> None:
        """Not in the seed: its reservations, not the hotplug flags, keep the kernel out."""

    def find_zone_movable_pfns_for_nodes(self, k: Kernel, ranges: list[tuple[int, int, int]]) -> dict[int, int]:
        """movablecore=acpi: ZONE_MOVABLE from the lowest reserved hotpluggable range per node."""
        from .page_alloc import align_zone_movable_pfn

        zmp: dict[int, int] = {}
        for base, _ in self.reserved:
            t = k.memblock.search_pfn_nid(base >> 12)
            if t:
                nid = t[2]
                zmp[nid] = min(zmp.get(nid) or (1 << 62), pfn_down(base))
        return align_zone_movable_pfn(zmp, ranges)

    def memblock_free_all(self, k: Kernel) -> None:
        """The seed frees its reservations, then the flags are cleared as upstream."""
        k.note("memblock_free_all()")
        for base, size in self.reserved:
            k.memblock.caller = "seed: free hotpluggable range after memory init"
            k.memblock.phys_free(base, size)
        k.memblock.clear_hotplug(0, PHYS_MAX)


#: Every policy by name, the upstream kernel first.
POLICIES: dict[str, type[Policy]] = {p.name: p for p in (Policy, SeedPolicy)}


def policy_named(name: str) -> Policy:
    """A fresh policy object for a name of :data:`POLICIES` (ValueError otherwise)."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy '{name}' ({' or '.join(POLICIES)})")
    return POLICIES[name]()
