"""drivers/base/memory.c (and drivers/base/node.c's early registration): the memory block
devices of /sys/devices/system/memory -- created at boot for every block holding a present
section, created offline by a hot-add -- their node, state and ``valid_zones``, and the
sysfs ``state`` writes that online and offline them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .init_64 import probe_memory_block_size
from .zones import SECTION_PAGES, ZONE_NAMES

if TYPE_CHECKING:
    from .state import Kernel, MemoryBlock

#: online_type_to_str[] (drivers/base/memory.c), MMOP_OFFLINE first
ONLINE_TYPES = ("offline", "online", "online_kernel", "online_movable")


def memory_dev_init(k: Kernel) -> None:
    """memory_dev_init() (drivers/base/memory.c): the block size, and one online block per
    group of sections_per_block sections with a present one (add_boot_memory_block());
    then node_dev_init() -> register_memory_blocks_under_node() (drivers/base/node.c), node
    by node in ascending order: a block is the node's when one of the node's pages is in it
    (memory_block_add_nid(): the last node wins; a second node, or several zones of the
    first, leave mem->zone NULL: valid_zones ``none``).  Worked out per run of blocks."""
    from .state import MemoryBlock

    hp = k.hotplug
    bz = probe_memory_block_size(k)
    spb = bz // (SECTION_PAGES << 12)
    hp.blocks.clear()
    spans: list[list[int]] = []   # the blocks holding a present section, as spans of ids
    for lo, hi, _ in k.zones.present_sections:
        b0, b1 = lo // spb, (hi - 1) // spb + 1
        if spans and b0 <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], b1)
        else:
            spans.append([b0, b1])
    for b0, b1 in spans:
        hp.blocks.add(b0, b1, MemoryBlock(b0, -1, "online", None))
    pages = hp.block_pages
    for nid in sorted(k.numa.online):
        # the blocks of a run agree on early_node_zone_for_memory_block() between these cuts
        cuts = [c for s, sp, pr in hp.zones.get(nid, []) if sp and pr for c in (s // pages, -(-(s + sp) // pages))]
        for s, e, _ in k.mem_pfn_ranges(nid):
            for mem in hp.blocks.split(s // pages, (e - 1) // pages + 1, cuts):
                if mem.nid == nid:
                    continue
                mem.zone = early_node_zone_for_memory_block(k, mem, nid) if mem.nid < 0 else None
                mem.nid = nid


def early_node_zone_for_memory_block(k: Kernel, mem: MemoryBlock, nid: int) -> int | None:
    """early_node_zone_for_memory_block() (drivers/base/memory.c): the one populated zone of
    the node intersecting the block, else None."""
    from .memory_hotplug import zone_intersects

    pages = k.hotplug.block_pages
    zi = k.hotplug.zones.get(nid, [])
    hit = [z for z in range(len(zi)) if zi[z][2] and zone_intersects(zi, z, mem.id * pages, pages)]
    return hit[0] if len(hit) == 1 else None


def valid_zones_show(k: Kernel, mem: MemoryBlock) -> str:
    """valid_zones_show() (drivers/base/memory.c): an online block's zone (``none`` across
    zones); an offline block's default zone, then the kernel and movable zones where they differ."""
    from .memory_hotplug import zone_for_pfn_range

    if mem.state == "online":
        return ZONE_NAMES[mem.zone] if mem.zone is not None else "none"
    pages = k.hotplug.block_pages
    args = (mem.nid, mem.group, mem.id * pages, pages)
    default = zone_for_pfn_range(k, "online", *args)
    out = [ZONE_NAMES[default]]
    for t in ("online_kernel", "online_movable"):
        z = zone_for_pfn_range(k, t, *args)
        if z != default:
            out.append(ZONE_NAMES[z])
    return " ".join(out)


def memory_block_online(k: Kernel, mem: MemoryBlock, online_type: str) -> tuple[bool, str]:
    """memory_block_online() (drivers/base/memory.c): the zone zone_for_pfn_range() picks, then
    online_pages().  Returns (success, the zone's name)."""
    from .memory_hotplug import online_pages, zone_for_pfn_range

    pages = k.hotplug.block_pages
    z = zone_for_pfn_range(k, online_type, mem.nid, mem.group, mem.id * pages, pages)
    online_pages(k, mem.id * pages, pages, mem.nid, z, mem.group, mem.early)
    mem.zone, mem.state = z, "online"
    return True, ZONE_NAMES[z]


def memory_block_offline(k: Kernel, mem: MemoryBlock, force: bool = False) -> tuple[str, str]:
    """memory_block_offline() (drivers/base/memory.c) -> offline_pages(): (``ok`` | ``failed`` |
    ``not guaranteed``, why); ``force``: a *not guaranteed* offline the real kernel did."""
    from .memory_hotplug import offline_pages

    if mem.zone is None:
        return "failed", "the block spans several zones or nodes (valid_zones: none)"
    pages = k.hotplug.block_pages
    outcome, why = offline_pages(k, mem.id * pages, pages, mem.nid, mem.zone, mem.group, mem.early, force)
    if outcome == "ok":
        mem.zone, mem.state = None, "offline"
    return outcome, why


def state_store(k: Kernel, mem: MemoryBlock, online_type: str, force: bool = False) -> tuple[str, str]:
    """state_store() (drivers/base/memory.c) for one block: device_online()/device_offline();
    a block already in the state asked for is -EINVAL.  Returns (outcome, detail)."""
    if online_type == "offline":
        if mem.state == "offline":
            return "failed", "already offline (EINVAL)"
        return memory_block_offline(k, mem, force)
    if mem.state == "online":
        return "failed", "already online (EINVAL)"
    ok, zone = memory_block_online(k, mem, online_type)
    return ("ok", zone) if ok else ("failed", zone)
