"""vfs_caches_init_early() (fs/dcache.c): with one node of memory page_alloc_init() clears
hashdist, and the dentry and inode hash tables (dcache_init_early(), inode_init_early() of
fs/inode.c) come from memblock at boot; with more nodes they are vmalloc'ed later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .page_alloc import alloc_large_system_hash

if TYPE_CHECKING:
    from .state import Kernel


def vfs_caches_init_early(k: Kernel) -> None:
    """vfs_caches_init_early() (fs/dcache.c): dcache_init_early() ("Dentry cache", 8-byte buckets,
    scale 13) and inode_init_early() (fs/inode.c: "Inode-cache", scale 14) when hashdist is 0
    (``dhash_entries=``/``ihash_entries=``/``hashdist=`` are not modelled)."""
    nodes = [n for n, zi in k.zones.zone_info.items() if any(pr for _, _, pr in zi)]
    if len(nodes) != 1:
        return
    alloc_large_system_hash(k, "Dentry cache", 8, 13)
    alloc_large_system_hash(k, "Inode-cache", 8, 14)
