"""mm/memory_hotplug.c: adding, onlining, offlining and removing memory at run time.

Cold-plugged DIMMs come in after early boot through ACPI memory devices
(drivers/acpi/acpi_memhotplug.c, :mod:`.acpi_memhotplug`) exactly as hot-added ones do:
add_memory_resource() creates their memory blocks offline and onlines them per
``memhp_default_state`` (Debian's 6.1 build default: offline, ``# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE
is not set``; 6.12's: online, ``CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO=y``), block by block (drivers/base/memory.c, :mod:`.drivers_base_memory`), into
the zone zone_for_pfn_range() picks: ``online_kernel``/``online_movable`` as asked,
``online`` per ``memory_hotplug.online_policy`` -- contig-zones (the zone already spanning
the block, else ZONE_MOVABLE only under movable_node) or auto-movable (ZONE_MOVABLE while
MOVABLE:KERNEL_EARLY stays within ``auto_movable_ratio`` percent, system-wide and, with
``auto_movable_numa_aware``, on the node).

The zonelists are rebuilt (``Fallback order …`` / ``Built N zonelists … Total pages`` /
``Policy zone``): add_memory_resource() -> __try_online_node() -> hotadd_init_pgdat() ->
build_all_zonelists(pgdat) for memory on a node that is not online (that node's fallback
order only; N does not count it yet); online_pages() -> build_all_zonelists(NULL) when a
zone becomes populated, offline_pages() when one becomes empty.  ``Total pages`` counts
managed pages above the high watermark of a running system, which fwc does not model:
that number is approximate.

Offlining (offline_pages()): a block with holes fails; in a kernel zone a block holding
memblock allocations (PageReserved) fails -- fwc names them -- and any other block is *not
guaranteed* (runtime kernel allocations decide); in ZONE_MOVABLE a block of free and
movable pages succeeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .zones import KERNEL_ZONES, MAX_NR_ZONES, SECTION_PAGES, ZONE_MOVABLE, ZONE_NORMAL

if TYPE_CHECKING:
    from .state import Kernel

ONLINE_STATES = ("online", "online_movable", "online_kernel")


def zone_intersects(zi: list[list[int]], z: int, pfn: int, nr: int) -> bool:
    """zone_intersects() (include/linux/mmzone.h): the zone's span overlaps [pfn, pfn + nr)."""
    s, sp, _ = zi[z]
    return bool(sp) and s < pfn + nr and pfn < s + sp


def default_kernel_zone_for_pfn(zi: list[list[int]], pfn: int, nr: int) -> int:
    """default_kernel_zone_for_pfn() (mm/memory_hotplug.c): the first kernel zone spanning the
    range, else ZONE_NORMAL."""
    return next((z for z in KERNEL_ZONES if zone_intersects(zi, z, pfn, nr)), ZONE_NORMAL)


def default_zone_for_pfn(zi: list[list[int]], pfn: int, nr: int, movable_node: bool) -> int:
    """default_zone_for_pfn() (mm/memory_hotplug.c): the one of the kernel zone and ZONE_MOVABLE that already
    spans the range; if both or neither, ZONE_MOVABLE under movable_node."""
    kz = default_kernel_zone_for_pfn(zi, pfn, nr)
    ik, im = zone_intersects(zi, kz, pfn, nr), zone_intersects(zi, ZONE_MOVABLE, pfn, nr)
    if ik != im:
        return kz if ik else ZONE_MOVABLE
    return ZONE_MOVABLE if movable_node else kz


def auto_movable_can_online_movable(k: Kernel, nid: int, group: str | None, nr_pages: int) -> bool:
    """auto_movable_can_online_movable() (mm/memory_hotplug.c): would MOVABLE + nr_pages stay
    within auto_movable_ratio% of KERNEL_EARLY (present early pages of the kernel zones), over
    all nodes (nid -1) or on ``nid``?  Static memory groups (ACPI DIMMs) add no allowance."""
    hp = k.hotplug
    kernel_early = movable = 0
    for n, zi in hp.zones.items():
        if nid >= 0 and n != nid:
            continue
        for z in range(MAX_NR_ZONES):
            if not zi[z][2]:
                continue
            if z == ZONE_MOVABLE:
                movable += zi[z][2]
            else:
                kernel_early += hp.present_early.get(n, [0] * MAX_NR_ZONES)[z]
    if kernel_early <= 0:
        return False
    return movable + nr_pages <= k.params.auto_movable_ratio * kernel_early // 100


def auto_movable_zone_for_pfn(k: Kernel, nid: int, group: str | None, pfn: int, nr: int) -> int:
    """auto_movable_zone_for_pfn() (mm/memory_hotplug.c): for a static group (one DIMM), all of
    it that is not online yet must fit MOVABLE; anything of it onlined to a kernel zone keeps the
    rest there."""
    zi = k.hotplug.zones[nid]
    if not k.params.auto_movable_ratio:
        return default_kernel_zone_for_pfn(zi, pfn, nr)
    g = k.hotplug.groups.get(group) if group else None
    if g is not None:
        if g.present_kernel_pages:
            return default_kernel_zone_for_pfn(zi, pfn, nr)
        nr = (g.size >> 12) - g.present_movable_pages
    if not auto_movable_can_online_movable(k, -1, group, nr):
        return default_kernel_zone_for_pfn(zi, pfn, nr)
    if k.params.auto_movable_numa_aware and not auto_movable_can_online_movable(k, nid, group, nr):
        return default_kernel_zone_for_pfn(zi, pfn, nr)
    return ZONE_MOVABLE


def zone_for_pfn_range(k: Kernel, online_type: str, nid: int, group: str | None, pfn: int, nr: int) -> int:
    """zone_for_pfn_range() (mm/memory_hotplug.c) for MMOP_ONLINE_KERNEL / _MOVABLE / _ONLINE."""
    zi = k.hotplug.zones.setdefault(nid, [[0, 0, 0] for _ in range(MAX_NR_ZONES)])
    if online_type == "online_kernel":
        return default_kernel_zone_for_pfn(zi, pfn, nr)
    if online_type == "online_movable":
        return ZONE_MOVABLE
    if k.params.online_policy == "auto-movable":
        return auto_movable_zone_for_pfn(k, nid, group, pfn, nr)
    return default_zone_for_pfn(zi, pfn, nr, k.params.movable_node)


def build_all_zonelists(k: Kernel, nodes: list[int] | None = None, n_memory: list[int] | None = None) -> None:
    """build_all_zonelists() (mm/page_alloc.c) at run time: every possible node (NULL), or a
    hot-added node's own pgdat before it is online."""
    from .page_alloc import zonelists

    hp = k.hotplug
    zt = {nid: [(a, b, c) for a, b, c in zi] for nid, zi in hp.zones.items()}
    k.zones.policy_zone = zonelists(k, k.out.late, zt, nodes if nodes is not None else sorted(k.numa.possible),
                                    len(hp.online_nodes), k.zones.policy_zone, hp.running, n_memory)


def online_pages(k: Kernel, pfn: int, nr: int, nid: int, z: int, group: str | None, early: bool) -> None:
    """online_pages() (mm/memory_hotplug.c): move_pfn_range_to_zone() (resize_zone_range()),
    adjust_present_page_count() (present, present_early_pages for early sections, the group's
    kernel/movable pages), managed pages, and build_all_zonelists(NULL) when the zone was
    not populated."""
    hp = k.hotplug
    zi = hp.zones[nid]
    s, sp, pr = zi[z]
    lo, hi = (pfn, pfn + nr) if not sp else (min(s, pfn), max(s + sp, pfn + nr))
    zi[z] = [lo, hi - lo, pr + nr]
    if early:
        hp.present_early.setdefault(nid, [0] * MAX_NR_ZONES)[z] += nr
    g = hp.groups.get(group) if group else None
    if g is not None:
        if z == ZONE_MOVABLE:
            g.present_movable_pages += nr
        else:
            g.present_kernel_pages += nr
    hp.managed_delta.setdefault(nid, [0] * MAX_NR_ZONES)[z] += nr
    if not pr:
        build_all_zonelists(k)


def offline_pages(k: Kernel, pfn: int, nr: int, nid: int, z: int, group: str | None,
                  early: bool, force: bool = False) -> tuple[str, str]:
    """offline_pages() (mm/memory_hotplug.c): (``ok``/``failed``/``not guaranteed``, why).
    Holes (walk_system_ram_range) fail; a kernel-zone block with memblock allocations fails
    at start_isolate_page_range() (has_unmovable_pages(): PageReserved); on success the zone
    shrinks (remove_pfn_range_from_zone()) after an empty zone's build_all_zonelists().
    ``force``: a *not guaranteed* offline that did succeed on the real kernel."""
    hp = k.hotplug
    verdict = _offline_verdict(k, pfn, nr, z, early)
    if verdict[0] != "ok" and not (force and verdict[0] == "not guaranteed"):
        return verdict
    zi = hp.zones[nid]
    zi[z][2] -= nr
    if early:
        hp.present_early[nid][z] -= nr
    g = hp.groups.get(group) if group else None
    if g is not None:
        if z == ZONE_MOVABLE:
            g.present_movable_pages -= nr
        else:
            g.present_kernel_pages -= nr
    hp.managed_delta.setdefault(nid, [0] * MAX_NR_ZONES)[z] -= nr
    if not zi[z][2]:
        if k.version.offline_clears_node_first:   # 6.12: node_states_clear_node(), then the rebuild
            build_all_zonelists(k)
        else:   # 6.1: node_states_clear_node() comes after the rebuild: the node still has N_MEMORY
            build_all_zonelists(k, n_memory=sorted(set(_n_memory(k)) | {nid}))
    remove_pfn_range_from_zone(k, nid, z, pfn, nr)
    return "ok", verdict[1]


def _offline_verdict(k: Kernel, pfn: int, nr: int, z: int, early: bool) -> tuple[str, str]:
    if early:
        ram = sum(max(0, min(e, pfn + nr) - max(s, pfn)) for s, e, _ in k.mem_pfn_ranges())
        if ram != nr:
            return "failed", "memory holes"
        pins = [a for a in k.out.allocs if a.permanent and a.base < (pfn + nr) << 12 and (pfn << 12) < a.base + a.size]
        if pins and z != ZONE_MOVABLE:
            what = ", ".join(sorted({a.purpose for a in pins}))
            return "failed", f"unmovable pages (EBUSY): {what}"
        if pins:
            return "not guaranteed", "boot allocations in ZONE_MOVABLE: offlining retries without end"
    if z != ZONE_MOVABLE:
        return "not guaranteed", "a kernel zone: runtime kernel allocations decide"
    return "ok", ""


def _n_memory(k: Kernel) -> list[int]:
    return sorted(n for n, zi in k.hotplug.zones.items() if any(x[2] for x in zi))


def _section_in_zone(k: Kernel, nid: int, z: int, pfn: int) -> bool:
    """online_section_nr() and pfn_to_nid() == nid and page_zone() == zone, for a section."""
    hp = k.hotplug
    mem = hp.blocks.get(pfn // hp.block_pages)
    return mem is not None and mem.state == "online" and mem.nid == nid and mem.zone == z


def remove_pfn_range_from_zone(k: Kernel, nid: int, z: int, pfn: int, nr: int) -> None:
    """remove_pfn_range_from_zone() -> shrink_zone_span() (mm/memory_hotplug.c): a zone shrinks
    only from its ends, to the nearest online section of it (find_smallest_section_pfn() /
    find_biggest_section_pfn()); empty, it spans nothing."""
    zi = k.hotplug.zones[nid]
    s, sp, pr = zi[z]
    end = pfn + nr
    if s == pfn:
        new = next((p for p in range(end, s + sp, SECTION_PAGES) if _section_in_zone(k, nid, z, p)), 0)
        zi[z] = [new, s + sp - new, pr] if new else [0, 0, pr]
    elif s + sp == end:
        top = next((p for p in range(pfn - SECTION_PAGES, s - 1, -SECTION_PAGES) if _section_in_zone(k, nid, z, p)),
                   -1)
        zi[z] = [s, top + SECTION_PAGES - s, pr] if top >= 0 else [0, 0, pr]


def hotadd_init_pgdat(k: Kernel, nid: int) -> None:
    """__try_online_node() -> hotadd_init_pgdat() (mm/memory_hotplug.c): a node that is not
    online gets its pgdat and its own zonelist (build_all_zonelists(pgdat)), then goes online."""
    hp = k.hotplug
    if nid in hp.online_nodes:
        return
    hp.zones.setdefault(nid, [[0, 0, 0] for _ in range(MAX_NR_ZONES)])
    build_all_zonelists(k, [nid])
    hp.online_nodes.add(nid)


def register_memory_resource(k: Kernel, base: int, size: int, booting: bool) -> bool:
    """register_memory_resource() (mm/memory_hotplug.c): while booting (system_state <
    SYSTEM_RUNNING) memory beyond max_mem_size -- set by ``mem=`` (arch/x86/kernel/e820.c
    parse_memopt()) -- is refused with -E2BIG, so a cold-plugged DIMM above ``mem=`` is not
    added ("acpi PNP0C80:00: add_memory failed"); a hot-add after boot is not limited."""
    return not (booting and k.params.mem and base + size > k.params.mem)


def add_memory_resource(k: Kernel, nid: int, base: int, size: int, group: str) -> list[int]:
    """add_memory_resource() (mm/memory_hotplug.c): the node online (hotadd_init_pgdat()), one
    offline memory block per block of the range (create_memory_block_devices()), onlined at
    once unless memhp_default_state is offline (online_memory_block()).  Returns the block ids."""
    from .drivers_base_memory import memory_block_online
    from .state import MemoryBlock

    hp = k.hotplug
    hotadd_init_pgdat(k, nid)
    pages = hp.block_pages
    ids = list(range((base >> 12) // pages, ((base + size) >> 12) // pages))
    if ids:
        hp.blocks.add(ids[0], ids[-1] + 1, MemoryBlock(ids[0], nid, "offline", None, group, early=False))
    state = k.params.memhp_default_state or k.version.memhp_default_online_type   # 6.12: online
    if state in ONLINE_STATES:
        for bid in ids:
            memory_block_online(k, hp.blocks[bid], state)
    return ids


def try_remove_memory(k: Kernel, group: str) -> None:
    """try_remove_memory() (mm/memory_hotplug.c), its blocks all offline: the blocks go
    (remove_memory_block_devices()), and try_offline_node() takes a node with no memory block
    left, no present pages and no present CPU offline."""
    hp = k.hotplug
    g = hp.groups.pop(group)
    hp.blocks.remove(lambda b: b.group == group)
    nid = g.nid
    if hp.blocks.any(lambda b: b.nid == nid) or nid in hp.running:
        return
    if any(x[2] for x in hp.zones.get(nid, [])):
        return
    hp.online_nodes.discard(nid)


def memory_add_physaddr_to_nid(k: Kernel, start: int) -> int:
    """memory_add_physaddr_to_nid() (arch/x86/mm/numa.c): the node of numa_meminfo's block holding
    ``start`` (numa_reserved_meminfo, where the SRAT's hot-pluggable space above the RAM went,
    is not searched), else the first block's node."""
    mi = k.numa.meminfo
    for s, e, nid in mi:
        if s <= start < e:
            return nid
    return mi[0][2] if mi else 0
