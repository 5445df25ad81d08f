"""Linux 6.12's ``mm/memblock.c``, as the differences from 6.1's (:mod:`fwc_plugins.boot.memblock`).

:class:`Memblock612` overrides exactly the functions that changed between the two files
(``diff linux-source-6.1/mm/memblock.c linux-source-6.12/mm/memblock.c``); everything else
is 6.1's code, inherited.  What changed, function by function:

* ``struct memblock`` starts with ``cnt = 0``: an empty array has no dummy entry any more
  (``memblock_remove_region()`` no longer puts one back, ``memblock_add_range()`` sets
  ``cnt = 1`` on the first region), so ``cnt``, ``memblock_dump()`` and the doubling test
  see 0 regions;
* ``memblock_add_range()`` inserts directly when ``cnt * 2 + 1 <= max`` (6.1: ``< max``);
* ``memblock_merge_regions()`` scans only ``[start_rgn - 1, end_rgn]``, the regions the
  caller touched, not the whole array: two compatible regions left touching elsewhere
  (by ``memblock_cap_memory_range()``) stay apart;
* ``memblock_double_array()`` panics when resizing is not allowed yet (6.1 returned -1);
* node ids: ``numa_valid_node(nid)`` (``0 <= nid < MAX_NUMNODES``) replaces the tests
  against ``NUMA_NO_NODE`` / ``MAX_NUMNODES`` (``should_skip_region()``,
  ``memblock_alloc_range_nid()``, ``memblock_dump()``), and the ``MAX_NUMNODES`` warnings
  are gone;
* ``memblock_end_of_DRAM()`` of an empty memory array reads ``regions[cnt - 1]``, i.e.
  ``regions[-1]``, out of bounds (6.1's dummy entry made it 0): not modelled, the model says 0
  (a booting kernel always has memory; the user-space harness prints what precedes the array);
* new: ``memblock_reserved_mark_noinit()`` (``MEMBLOCK_RSRV_NOINIT`` on memblock.reserved,
  through ``memblock_setclr_flag()`` that now takes the type),
  ``memblock_validate_numa_coverage()``, ``memblock_estimated_nr_free_pages()``,
  ``memblock_has_mirror()``.

Checked as 6.1's is: the same op-scripts run through the real 6.12 file built in user space
(tests/oracles/memblock, ``version="6.12"``) and through this class give identical output,
``cap_range`` included (whose unmerged split points show the merge window).
"""

from __future__ import annotations

from typing import Any

from ..memblock import (MASK64, NUMA_NO_NODE, PAGE_SIZE, Memblock, MemblockBug, RegionType, _pa)

__all__ = ["RSRV_NOINIT", "Memblock612", "RegionType612"]

RSRV_NOINIT = 0x10      # MEMBLOCK_RSRV_NOINIT
_MASK32 = 0xFFFFFFFF


class RegionType612(RegionType):
    """``struct memblock_type`` of 6.12: ``cnt`` is the number of regions (0 when empty)."""

    __slots__ = ()

    @property
    def cnt(self) -> int:
        """The kernel's ``cnt`` (no dummy entry in 6.12)."""
        return len(self.B)


class Memblock612(Memblock):
    """``struct memblock`` and the functions of Linux 6.12's mm/memblock.c."""

    _insert_slack = 1
    _region_type = RegionType612
    _double_fails_quietly = False   # memblock_double_array() panics

    def numa_valid_node(self, nid: int) -> bool:
        """numa_valid_node() (include/linux/numa.h): ``0 <= nid < MAX_NUMNODES``."""
        return 0 <= nid < self.max_numnodes

    def memblock_has_mirror(self) -> bool:
        """memblock_has_mirror() (mm/memblock.c)."""
        return self.system_has_some_mirror

    def _double_array(self, t: RegionType, new_area_start: int, new_area_size: int) -> int:
        """memblock_double_array() (mm/memblock.c): 6.12 panics when it may not resize."""
        if not self.can_resize:
            raise MemblockBug(f"panic: memblock: cannot resize {t.name} array")
        return super()._double_array(t, new_area_start, new_area_size)

    @staticmethod
    def _merge_pending(t: RegionType) -> None:
        """memblock_merge_regions() (mm/memblock.c) of 6.12 scans only the regions its caller
        touched (which :meth:`Memblock._merge_regions` already did): pairs left touching
        elsewhere stay apart."""
        t.pending = []

    def _find_in_range_node(self, size: int, align: int, start: int, end: int, nid: int, flags: int) -> int:
        """memblock_find_in_range_node() (mm/memblock.c): any invalid node id means any node."""
        if not self.numa_valid_node(nid):
            nid = NUMA_NO_NODE
        return super()._find_in_range_node(size, align, start, end, nid, flags)

    def _next_mem_range(self, nid: int, *args: Any, **kw: Any) -> Any:
        """__next_mem_range() / __next_mem_range_rev() (mm/memblock.c): should_skip_region()
        tests ``numa_valid_node(nid)``."""
        if not self.numa_valid_node(nid):
            nid = NUMA_NO_NODE
        return super()._next_mem_range(nid, *args, **kw)

    def alloc_range_nid(self, size: int, align: int, start: int, end: int, nid: int,
                        exact_nid: bool = False) -> int:
        """memblock_alloc_range_nid() (mm/memblock.c): no MAX_NUMNODES warning; the any-node
        retry only for a valid ``nid``."""
        if not self.numa_valid_node(nid):
            nid = NUMA_NO_NODE   # (so 6.1's MAX_NUMNODES warning never fires)
        return super().alloc_range_nid(size, align, start, end, nid, exact_nid)

    def _setclr_flag_type(self, t: RegionType, base: int, size: int, set_: bool, flag: int) -> int:
        """memblock_setclr_flag() (mm/memblock.c) of 6.12, on the given type."""
        if set_:
            return self._update_range(t, base, size, "F", lambda f: (f | flag) & _MASK32)
        mask = ~flag & _MASK32
        return self._update_range(t, base, size, "F", lambda f: f & mask)

    def reserved_mark_noinit(self, base: int, size: int) -> int:
        """memblock_reserved_mark_noinit() (mm/memblock.c)."""
        return self._setclr_flag_type(self.reserved, base, size, True, RSRV_NOINIT)

    def validate_numa_coverage(self, threshold_bytes: int) -> bool:
        """memblock_validate_numa_coverage() (mm/memblock.c): at most ``threshold_bytes`` of
        memory without a valid node."""
        pages = sum(max(0, (e >> 12) - ((b + PAGE_SIZE - 1) >> 12))
                    for b, e, n in zip(self.memory.B, self.memory.E, self.memory.N) if not self.numa_valid_node(n))
        if pages << 12 > threshold_bytes:
            self.warnings.append("NUMA: no nodes coverage for %dMB of %dMB RAM"
                                 % ((pages << 12) >> 20, self.phys_mem_size() >> 20))
            return False
        return True

    def estimated_nr_free_pages(self) -> int:
        """memblock_estimated_nr_free_pages() (mm/memblock.c)."""
        return ((self.phys_mem_size() - self.reserved_size()) & MASK64) >> 12

    def dump_all(self) -> str:
        """__memblock_dump_all() (mm/memblock.c): no dummy entry; " on node" for a valid node."""
        out = ["MEMBLOCK configuration:",
               " memory size = %s reserved size = %s" % (_pa(self.memory.total_size), _pa(self.reserved.total_size))]
        for t in (self.memory, self.reserved):
            out.append(" %s.cnt  = 0x%x" % (t.name, t.cnt))
            for idx, r in enumerate(t.regions()):
                nid = " on node %d" % r.nid if self.numa_valid_node(r.nid) else ""
                out.append(" %s[0x%x]\t[%s-%s], %s bytes%s flags: 0x%x"
                           % (t.name, idx, _pa(r.base), _pa(r.base + r.size - 1), _pa(r.size), nid, r.flags))
        return "\n".join(out)
