"""A pure-Python model of Linux 6.1 ``mm/memblock.c``.

The model keeps the kernel's two region arrays (``memory`` and ``reserved``)
with the same observable state -- ``cnt``, ``max``, ``total_size`` (including
the kernel's quirks, e.g. ``memblock_trim_memory`` not updating it), region
base/size/flags/nid -- and reproduces the kernel's algorithms exactly: the
merge rule, ``memblock_add_range`` overlap semantics, ``memblock_isolate_range``
splits, removal, flags, ``memblock_set_node``, the free-range walk behind
top-down and bottom-up allocation (including its skip rules, clamping and
``round_up``/``round_down`` arithmetic modulo 2**64), ``current_limit``, the
mirror fallback, and array doubling after ``memblock_allow_resize()``.

Reading it next to the kernel: each method models the function of
``mm/memblock.c`` (or an inline of ``include/linux/memblock.h``) named in
its docstring; the method name is the kernel's without the ``memblock_`` /
``__memblock_`` prefix, private (``_``) where the kernel's is static, and
the methods come in the order of the kernel file (the inlines of the header
last).  The docstrings say where a kernel function is fused with another or
left out.  What does not change the arrays is not modelled:
memblock_discard(), memblock_free_all() and the page freeing behind it, the
kmemleak hooks, memblock_physmem_add() (no CONFIG_HAVE_MEMBLOCK_PHYS_MAP).
Where the kernel scans arrays linearly, the model uses binary search and
local merging: the results are identical because the arrays are always
sorted, non-overlapping and fully merged between operations (see the notes
before ``_next_mem_range`` for the allocation walk).

This module is longer than fwc's usual ~500 lines on purpose: it models one
kernel file, and keeping that file's logic in one module lets it be read
side by side with ``mm/memblock.c``.  The op-script
language of the C driver (tests/oracles/memblock) lives in
``memblock_script`` (``run_script``, ``parse_script``, ``ScriptError``).
Only the standard library is used.

API in brief::

    mb = Memblock(DEBIAN_X86_64)          # or HARNESS (the oracle's build)
    mb.add_node(0, 2 << 30, 0); mb.reserve(0, 1 << 20)
    mb.set_bottom_up(True); mb.movable_node = True
    addr = mb.alloc_try_nid(size, align, min_addr, max_addr, nid)  # 0 = failure
    mb.memory.regions(), mb.reserved.regions()   # Region(base, size, flags, nid)
    mb.dump(); mb.dump_all()                     # driver format; memblock=debug format

Known limit: ``memblock_trim_memory`` on a region within ``align`` of 2**64
makes the kernel store a region at 0 and leave its array unsorted; the model
raises MemblockBug instead of imitating the corruption.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable, Iterator, NamedTuple

__all__ = [
    "ACCESSIBLE", "ANYWHERE", "DEBIAN_X86_64", "DRIVER_MANAGED", "HARNESS",
    "HOTPLUG", "MIRROR", "NOLEAKTRACE", "NOMAP", "NONE", "NUMA_NO_NODE",
    "PAGE_SIZE", "PHYS_ADDR_MAX", "Memblock", "MemblockBug", "MemblockConfig",
    "Region", "RegionType",
]

MASK64 = (1 << 64) - 1
PHYS_ADDR_MAX = MASK64
ANYWHERE = MASK64          # MEMBLOCK_ALLOC_ANYWHERE
ACCESSIBLE = 0             # MEMBLOCK_ALLOC_ACCESSIBLE
NOLEAKTRACE = 1            # MEMBLOCK_ALLOC_NOLEAKTRACE
LOW_LIMIT = 0              # MEMBLOCK_LOW_LIMIT
NUMA_NO_NODE = -1
PAGE_SIZE = 4096
REGION_STRUCT_SIZE = 24    # sizeof(struct memblock_region) on 64-bit
ENOMEM = 12

NONE = 0x0
HOTPLUG = 0x1
MIRROR = 0x2
NOMAP = 0x4
DRIVER_MANAGED = 0x8

_MASK32 = 0xFFFFFFFF


class MemblockConfig(NamedTuple):
    """Build-time constants that differ between kernels and the test harness."""

    max_numnodes: int = 1024        # 1 << CONFIG_NODES_SHIFT
    smp_cache_bytes: int = 64       # used when an allocation asks for align 0
    init_regions: int = 128         # INIT_MEMBLOCK_REGIONS


#: Debian's amd64 kernel (NODES_SHIFT=10, 64-byte cache lines).
DEBIAN_X86_64 = MemblockConfig(max_numnodes=1024, smp_cache_bytes=64)
#: The kernel's tools/testing/memblock harness built with NUMA=1 (the oracle).
HARNESS = MemblockConfig(max_numnodes=16, smp_cache_bytes=32)


class Region(NamedTuple):
    """One ``struct memblock_region``."""

    base: int
    size: int
    flags: int
    nid: int


class MemblockBug(RuntimeError):
    """A kernel BUG_ON() would have fired (the real allocator aborts)."""


def _round_up(x: int, y: int) -> int:
    # ((x - 1) | (y - 1)) + 1 in u64 arithmetic, exactly as the kernel macro
    return ((((x - 1) & MASK64) | ((y - 1) & MASK64)) + 1) & MASK64


def _round_down(x: int, y: int) -> int:
    return x & ~((y - 1) & MASK64) & MASK64


def _page_align(x: int) -> int:
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1) & MASK64


def _cap_size(base: int, size: int) -> int:
    """memblock_cap_size() (mm/memblock.c): size, clipped at PHYS_ADDR_MAX."""
    return size if size <= MASK64 - base else MASK64 - base


def _pa(x: int) -> str:
    return "0x%016x" % (x & MASK64)


class RegionType:
    """One ``struct memblock_type``: parallel sorted lists of regions.

    ``B``/``E`` hold base and end (base + size), ``F`` flags, ``N`` nid.  An
    empty type stands for the kernel's single zero-sized dummy entry
    (``cnt`` is then 1).  ``addr`` is the physical address of a
    dynamically allocated region array (None for the static one).
    """

    __slots__ = ("name", "B", "E", "F", "N", "max", "total_size", "addr",
                 "pending", "gen", "freed", "walk_index", "pfn_index", "frontiers")

    def __init__(self, name: str, max_regions: int):
        self.name = name
        self.B: list[int] = []
        self.E: list[int] = []
        self.F: list[int] = []
        self.N: list[int] = []
        self.max = max_regions
        self.total_size = 0
        self.addr: int | None = None
        #: addresses where two compatible regions may touch unmerged (left
        #: by memblock_cap_memory_range(), which isolates without merging);
        #: the kernel's next full merge pass joins them
        self.pending: list[int] = []
        #: bumped whenever a region is inserted, removed or changed: the key of
        #: ``walk_index`` (Memblock._walk_regions) and ``pfn_index`` (pfn_ranges)
        self.gen = 0
        #: bumped whenever a region is removed or shrunk (the space it covers only grows
        #: otherwise): with memory's ``gen``, the key of ``frontiers`` (of memblock.reserved)
        self.freed = 0
        #: Memblock._find_range_top_down()'s memo: (memory.gen, freed, {search: frontier})
        self.frontiers: tuple[int, int, dict[tuple[int, ...], int]] | None = None
        self.walk_index: tuple[int, dict[int, list[int]], dict] | None = None
        self.pfn_index: tuple[int, list[tuple[int, int, int]], dict[int, list[tuple[int, int, int]]]] | None = None

    def pfn_ranges(self, nid: int | None = None) -> list[tuple[int, int, int]]:
        """for_each_mem_pfn_range() (include/linux/memblock.h): (start_pfn, end_pfn, nid) of the
        regions holding a whole page, of node ``nid`` or all; kept until the regions change."""
        c = self.pfn_index
        if c is None or c[0] != self.gen:
            out: list[tuple[int, int, int]] = []
            by_nid: dict[int, list[tuple[int, int, int]]] = {}
            for b_, e_, n in zip(self.B, self.E, self.N):
                s, e = (b_ + PAGE_SIZE - 1) >> 12, e_ >> 12  # PFN_UP, PFN_DOWN
                if s < e:
                    out.append((s, e, n))
                    by_nid.setdefault(n, []).append((s, e, n))
            c = self.pfn_index = (self.gen, out, by_nid)
        return list(c[1] if nid is None else c[2].get(nid, ()))

    @property
    def cnt(self) -> int:
        """The kernel's ``cnt``: 1 for an empty array (its dummy entry)."""
        return len(self.B) or 1

    def regions(self) -> list[Region]:
        """The regions, lowest first (none for the dummy entry)."""
        return [Region(b, e - b, f, n)
                for b, e, f, n in zip(self.B, self.E, self.F, self.N)]


class Memblock:
    """The state of ``struct memblock`` plus the sticky globals around it.

    Method names follow the kernel's ``memblock_*`` functions without the
    prefix, and each docstring names the function it models; return values are the kernel's (0 / -errno, physical addresses
    with 0 meaning failure, booleans for the queries).
    """

    #: memblock_add_range() inserts directly when ``cnt * 2 + slack <= max`` (6.1: ``cnt * 2 + 1 < max``)
    _insert_slack = 2
    #: the class of ``memory`` and ``reserved`` (another kernel's may differ)
    _region_type = RegionType
    #: memblock_double_array() returns -1 and leaves no trace when resizing is not allowed
    #: (6.1; 6.12 panics instead): memblock_alloc_range_nid()'s fast path below relies on it
    _double_fails_quietly = True

    def __init__(self, config: MemblockConfig = DEBIAN_X86_64, *,
                 debug: Callable[[str], None] | None = None):
        self.config = config
        self.max_numnodes = config.max_numnodes
        self.memory = self._region_type("memory", config.init_regions)
        self.reserved = self._region_type("reserved", config.init_regions)
        self.bottom_up = False
        self.current_limit = ANYWHERE
        self.movable_node = False          # movable_node_is_enabled()
        self.mirrored_kernelcore = False
        self.can_resize = False            # sticky (static in memblock.c)
        self.system_has_some_mirror = False  # sticky
        #: receives memblock_dbg()-style lines (``memblock=debug``) if set
        self.debug = debug
        #: what memblock_dbg prints for %pS (the caller)
        self.caller = "?"
        self.warnings: list[str] = []

    def _dbg(self, msg: str) -> None:
        """memblock_dbg() (mm/memblock.c): to ``debug`` if set."""
        if self.debug is not None:
            self.debug(msg)

    def reset(self) -> None:
        """The op-script ``reset`` (the C driver's do_reset(), not a kernel
        function): empty static arrays, top-down, no limit.

        Like the C driver it cannot reset the sticky globals
        (``can_resize``, ``system_has_some_mirror``) nor mirrored_kernelcore.
        """
        n = self.config.init_regions
        self.memory = self._region_type("memory", n)
        self.reserved = self._region_type("reserved", n)
        self.bottom_up = False
        self.current_limit = ANYWHERE
        self.movable_node = False

    def _type(self, t: "RegionType | str") -> RegionType:
        """``&memblock.memory`` / ``&memblock.reserved`` from a name."""
        if isinstance(t, RegionType):
            return t
        if t == "memory":
            return self.memory
        if t == "reserved":
            return self.reserved
        raise ValueError(f"unknown memblock type {t!r}")

    # ------------------------------------------------------------------
    # mm/memblock.c, in the kernel's order: finding free ranges
    @staticmethod
    def overlaps_region(t: RegionType, base: int, size: int) -> bool:
        """memblock_overlaps_region() (mm/memblock.c): whether [base, base + size) overlaps a
        region of ``t`` (the first region ending above ``base``, found by bisection)."""
        size = _cap_size(base, size)
        i = bisect_right(t.E, base)
        return i < len(t.B) and t.B[i] < base + size

    def _choose_memblock_flags(self) -> int:
        """choose_memblock_flags() (mm/memblock.c)."""
        return MIRROR if self.system_has_some_mirror else NONE

    def _find_range_bottom_up(self, start: int, end: int, size: int, align: int,
                              nid: int, flags: int) -> int:
        """__memblock_find_range_bottom_up() (mm/memblock.c)."""
        window = None
        ME = self.memory.E
        if align and not (align & (align - 1)) and ME:
            last = ME[-1]
            p = start if start > (end if end < last else last) else (end if end < last else last)
            if p <= (1 << 64) - align:
                window = (start, end)
        amask = (align - 1) & MASK64
        # without a wrap of round_up() (the window's condition) a candidate lies in
        # [this_start, this_end - size]: gaps shorter than size never hold one
        for rs, re_, _ in self._next_mem_range(nid, flags, False, window, size if window else 0):
            this_start = start if rs < start else (end if rs > end else rs)
            this_end = start if re_ < start else (end if re_ > end else re_)
            cand = ((((this_start - 1) & MASK64) | amask) + 1) & MASK64
            if cand < this_end and this_end - cand >= size:
                return cand
        return 0

    def _find_range_top_down(self, start: int, end: int, size: int, align: int,
                             nid: int, flags: int) -> int:
        """__memblock_find_range_top_down() (mm/memblock.c).

        The walk goes down from the top and returns in the first free range that holds the
        block.  Every range above that one held none, and while memory is unchanged and
        memblock.reserved only grows, the free ranges there are parts of those and hold none
        either: the same search starts at the end of the range it last returned in (its
        frontier; ``start`` when it found nothing), not at the top again.  A boot's many
        small allocations would otherwise walk every gap they left above (O(n^2))."""
        memo: dict[tuple[int, ...], int] | None = None
        window = None
        if size > 0:
            res = self.reserved
            c = res.frontiers
            if c is None or c[0] != self.memory.gen or c[1] != res.freed:
                c = res.frontiers = (self.memory.gen, res.freed, {})
            memo = c[2]
            key = (start, end, size, align, nid, flags, self.movable_node)
            top = memo.get(key, end)
            if top <= start:
                return 0
            window = (start, top)
        amask = ~((align - 1) & MASK64)
        # a candidate lies in [this_start, this_end - size]: gaps shorter than size never hold one
        for rs, re_, _ in self._next_mem_range(nid, flags, True, window, size):
            # clamp(x, start, end) = min(max(x, start), end)
            this_start = start if rs < start else (end if rs > end else rs)
            this_end = start if re_ < start else (end if re_ > end else re_)
            if this_end < size:
                continue
            cand = (this_end - size) & amask
            if cand >= this_start:
                if memo is not None:
                    if len(memo) >= 4096:
                        memo.clear()
                    memo[key] = this_end
                return cand
        if memo is not None:
            memo[key] = start
        return 0

    def _find_in_range_node(self, size: int, align: int, start: int, end: int,
                            nid: int, flags: int) -> int:
        """memblock_find_in_range_node() (mm/memblock.c)."""
        if end == ACCESSIBLE or end == NOLEAKTRACE:
            end = self.current_limit
        if start < PAGE_SIZE:
            start = PAGE_SIZE
        if end < start:
            end = start
        if nid == self.max_numnodes:
            nid = NUMA_NO_NODE
        if self.bottom_up:
            return self._find_range_bottom_up(start, end, size, align, nid, flags)
        return self._find_range_top_down(start, end, size, align, nid, flags)

    def _find_in_range(self, start: int, end: int, size: int, align: int) -> int:
        """memblock_find_in_range() (mm/memblock.c)."""
        flags = self._choose_memblock_flags()
        while True:
            ret = self._find_in_range_node(size, align, start, end,
                                           NUMA_NO_NODE, flags)
            if not ret and flags & MIRROR:
                self.warnings.append(
                    "Could not allocate %#x bytes of mirrored memory" % size)
                flags &= ~MIRROR
                continue
            return ret

    # ------------------------------------------------------------------
    # the region arrays: removal, doubling, merging, adding
    @staticmethod
    def _remove_region(t: RegionType, i: int) -> None:
        """memblock_remove_region() (mm/memblock.c)."""
        if not t.B:          # removing the dummy entry: a no-op
            return
        t.total_size = (t.total_size - (t.E[i] - t.B[i])) & MASK64
        del t.B[i], t.E[i], t.F[i], t.N[i]
        t.gen += 1
        t.freed += 1
        # an emptied array gets its dummy back; total_size is left as is
        # (the kernel only WARNs if it is not 0)

    def _double_array(self, t: RegionType, new_area_start: int,
                      new_area_size: int) -> int:
        """memblock_double_array() (mm/memblock.c); the array's memory is
        not modelled, only its address and reservation (no slab path)."""
        if not self.can_resize:
            return -1
        old_size = t.max * REGION_STRUCT_SIZE
        new_size = old_size << 1
        old_alloc_size = _page_align(old_size)
        new_alloc_size = _page_align(new_size)
        if t is not self.reserved:
            new_area_start = new_area_size = 0
        addr = self._find_in_range(new_area_start + new_area_size,
                                   self.current_limit, new_alloc_size, PAGE_SIZE)
        if not addr and new_area_size:
            addr = self._find_in_range(0, min(new_area_start, self.current_limit),
                                       new_alloc_size, PAGE_SIZE)
        if not addr:
            self.warnings.append(
                "memblock: Failed to double %s array from %d to %d entries !"
                % (t.name, t.max, t.max * 2))
            return -1
        self._dbg("memblock: %s is doubled to %d at [%s-%s]"
                  % (t.name, t.max * 2, _pa(addr), _pa(addr + new_size - 1)))
        old_addr = t.addr
        t.addr = addr
        t.max <<= 1
        if old_addr is not None:
            # memblock_free(old_array, old_alloc_size)
            self.phys_free(old_addr, old_alloc_size)
        if self.reserve(addr, new_alloc_size):
            raise MemblockBug("memblock_double_array: reserving the new array failed")
        return 0

    @staticmethod
    def _merge_regions(t: RegionType, lo: int, hi: int) -> None:
        """memblock_merge_regions() (mm/memblock.c) restricted to regions
        [lo, hi) (clipped to the array).

        Equivalent to the kernel's full pass because all other neighbouring
        pairs are already unmergeable (or listed in ``pending``).
        """
        B, E, F, N = t.B, t.E, t.F, t.N
        if lo < 0:
            lo = 0
        if hi > len(B):
            hi = len(B)
        if hi - lo < 2:
            return
        nb = [B[lo]]
        ne = [E[lo]]
        nf = [F[lo]]
        nn = [N[lo]]
        changed = False
        for i in range(lo + 1, hi):
            b = B[i]
            if ne[-1] == b and nn[-1] == N[i] and nf[-1] == F[i]:
                ne[-1] = E[i]
                changed = True
            else:
                if ne[-1] > b:
                    raise MemblockBug("memblock_merge_regions: overlapping regions")
                nb.append(b)
                ne.append(E[i])
                nf.append(F[i])
                nn.append(N[i])
        if changed:
            B[lo:hi] = nb
            E[lo:hi] = ne
            F[lo:hi] = nf
            N[lo:hi] = nn
            t.gen += 1

    @staticmethod
    def _merge_pending(t: RegionType) -> None:
        """The rest of memblock_merge_regions()' full pass (mm/memblock.c):
        join the pending pairs."""
        B, E, F, N = t.B, t.E, t.F, t.N
        for p in t.pending:
            i = bisect_left(E, p)
            if (i + 1 < len(B) and E[i] == p and B[i + 1] == p
                    and F[i] == F[i + 1] and N[i] == N[i + 1]):
                E[i] = E[i + 1]
                del B[i + 1], E[i + 1], F[i + 1], N[i + 1]
                t.gen += 1
        t.pending = []

    def _add_range(self, t: RegionType, base: int, size: int, nid: int,
                   flags: int) -> int:
        """memblock_add_range() (mm/memblock.c), memblock_insert_region()
        fused: the kernel's first counting pass and its insertion pass are
        one walk that collects the uncovered pieces of [base, base + size).
        The merge covers the kernel's window, from the region before the first
        inserted piece to the one after the last."""
        if size > MASK64 - base:        # memblock_cap_size()
            size = MASK64 - base
        if not size:
            return 0
        end = base + size
        B = t.B
        if not B:
            if t.total_size:
                self.warnings.append("WARN: memblock_add_range: empty array with total_size")
            B.append(base)
            t.E.append(end)
            t.F.append(flags)
            t.N.append(nid)
            t.gen += 1
            t.total_size = size
            return 0
        doubled = False
        while True:
            B, E = t.B, t.E
            n = len(B)
            i0 = i = bisect_right(E, base)
            if i == n or B[i] >= end:
                pieces = None          # [base, end) overlaps nothing: one piece at i0
                count = 1
            else:
                cur = base
                pieces = []
                while i < n:
                    rb = B[i]
                    if rb >= end:
                        break
                    if rb > cur:
                        pieces.append((cur, rb))
                    re_ = E[i]
                    cur = re_ if re_ < end else end
                    i += 1
                if cur < end:
                    pieces.append((cur, end))
                if not pieces:
                    return 0
                count = len(pieces)
            if n + count <= t.max:
                break
            if doubled:
                raise MemblockBug("memblock_insert_region: array full")
            # the counting pass found the array too small (direct insertion needs cnt * 2 + slack <= max)
            while len(t.B) + count > t.max:
                if self._double_array(t, base, size) < 0:
                    return -ENOMEM
            doubled = True      # the kernel recounts after doubling
        F, N = t.F, t.N
        if pieces is None:
            # insert, or extend a neighbour (same result as insert + merge of the window)
            left = i0 > 0 and E[i0 - 1] == base and F[i0 - 1] == flags and N[i0 - 1] == nid
            right = i0 < n and B[i0] == end and F[i0] == flags and N[i0] == nid
            if left and right:
                E[i0 - 1] = E[i0]
                del B[i0], E[i0], F[i0], N[i0]
            elif left:
                E[i0 - 1] = end
            elif right:
                B[i0] = base
            else:
                B.insert(i0, base)
                E.insert(i0, end)
                F.insert(i0, flags)
                N.insert(i0, nid)
            t.gen += 1
            t.total_size = (t.total_size + size) & MASK64
            if t.pending:
                self._merge_pending(t)
            return 0
        # memblock_insert_region() for each piece, then memblock_merge_regions()
        i1 = i
        span = sorted([(b, e, flags, nid) for b, e in pieces]
                      + list(zip(B[i0:i1], E[i0:i1], F[i0:i1], N[i0:i1])))
        B[i0:i1] = [r[0] for r in span]
        E[i0:i1] = [r[1] for r in span]
        F[i0:i1] = [r[2] for r in span]
        N[i0:i1] = [r[3] for r in span]
        t.gen += 1
        t.total_size = (t.total_size + sum(e - b for b, e in pieces)) & MASK64
        # start_rgn / end_rgn: the first inserted piece, one past the last
        first, last = pieces[0][0], pieces[-1][0]
        start_rgn = i0 + next(k for k, r in enumerate(span) if r[0] == first)
        end_rgn = i0 + next(k for k in range(len(span) - 1, -1, -1) if span[k][0] == last) + 1
        self._merge_regions(t, start_rgn - 1, end_rgn + 1)
        if t.pending:
            self._merge_pending(t)
        return 0

    def _dbg_range(self, fn: str, base: int, size: int, extra: str = "") -> None:
        """The memblock_dbg() line of the range functions."""
        if self.debug is None:
            return
        self._dbg("%s: [%s-%s]%s %s"
                  % (fn, _pa(base), _pa(base + size - 1), extra, self.caller))

    def add_node(self, base: int, size: int, nid: int, flags: int = 0) -> int:
        """memblock_add_node() (mm/memblock.c)."""
        if self.debug is not None:
            self._dbg_range("memblock_add_node", base, size, " nid=%d flags=%x" % (nid, flags))
        return self._add_range(self.memory, base, size, nid, flags)

    def add(self, base: int, size: int) -> int:
        """memblock_add() (mm/memblock.c)."""
        if self.debug is not None:
            self._dbg_range("memblock_add", base, size)
        return self._add_range(self.memory, base, size, self.max_numnodes, 0)

    # ------------------------------------------------------------------
    # isolating and removing ranges
    def _isolate_range(self, t: RegionType, base: int, size: int
                       ) -> tuple[int, int, int]:
        """memblock_isolate_range() (mm/memblock.c): (ret, start_rgn, end_rgn)."""
        if size > MASK64 - base:        # memblock_cap_size()
            size = MASK64 - base
        end = base + size
        if not size:
            return 0, 0, 0
        B = t.B
        if len(B) + 3 > t.max:          # (cnt is at most len(B) + 1)
            while t.cnt + 2 > t.max:
                if self._double_array(t, base, size) < 0:
                    return -ENOMEM, 0, 0
            B = t.B
        E, F, N = t.E, t.F, t.N
        i = bisect_right(E, base)
        n = len(B)
        if i >= n or B[i] >= end:
            return 0, 0, 0
        t.gen += 1
        if B[i] < base:
            # intersects from below: split off [rbase, base)
            B.insert(i, B[i])
            E.insert(i, base)
            F.insert(i, F[i])
            N.insert(i, N[i])
            B[i + 1] = base
            i += 1
            n += 1
        j = bisect_left(B, end, i) - 1
        if E[j] > end:
            # intersects from above: split off [rbase, end)
            B.insert(j, B[j])
            E.insert(j, end)
            F.insert(j, F[j])
            N.insert(j, N[j])
            B[j + 1] = end
        return 0, i, j + 1

    def _remove_range(self, t: RegionType, base: int, size: int) -> int:
        """memblock_remove_range() (mm/memblock.c)."""
        ret, s, e = self._isolate_range(t, base, size)
        if ret:
            return ret
        if s < e:
            B, E = t.B, t.E
            removed = sum(E[s:e]) - sum(B[s:e])
            del B[s:e], E[s:e], t.F[s:e], t.N[s:e]
            t.gen += 1
            t.freed += 1
            t.total_size = (t.total_size - removed) & MASK64
        return 0

    def remove(self, base: int, size: int) -> int:
        """memblock_remove() (mm/memblock.c)."""
        if self.debug is not None:
            self._dbg_range("memblock_remove", base, size)
        return self._remove_range(self.memory, base, size)

    def phys_free(self, base: int, size: int) -> int:
        """memblock_phys_free() (mm/memblock.c)."""
        if self.debug is not None:
            self._dbg_range("memblock_phys_free", base, size)
        return self._remove_range(self.reserved, base, size)

    def reserve(self, base: int, size: int) -> int:
        """memblock_reserve() (mm/memblock.c)."""
        if self.debug is not None:
            self._dbg_range("memblock_reserve", base, size)
        return self._add_range(self.reserved, base, size, self.max_numnodes, 0)

    # ------------------------------------------------------------------
    # flags
    def _update_range(self, t: RegionType, base: int, size: int, column: str,
                      update: Callable[[int], int]) -> int:
        """The body shared by memblock_setclr_flag() and memblock_set_node()
        (mm/memblock.c): isolate [base, base + size), ``update`` the flags
        (``column`` "F") or node ids ("N") of the regions in it, merge."""
        ret, s, e = self._isolate_range(t, base, size)
        if ret:
            return ret
        if s < e:
            values = getattr(t, column)
            values[s:e] = [update(v) for v in values[s:e]]
            t.gen += 1
            self._merge_regions(t, s - 1, e + 1)
        if t.pending:
            self._merge_pending(t)
        return 0

    def _setclr_flag(self, base: int, size: int, set_: bool, flag: int) -> int:
        """memblock_setclr_flag() (mm/memblock.c), on memblock.memory."""
        if set_:
            return self._update_range(self.memory, base, size, "F",
                                      lambda f: (f | flag) & _MASK32)
        mask = ~flag & _MASK32
        return self._update_range(self.memory, base, size, "F", lambda f: f & mask)

    def mark_hotplug(self, base: int, size: int) -> int:
        """memblock_mark_hotplug() (mm/memblock.c)."""
        return self._setclr_flag(base, size, True, HOTPLUG)

    def clear_hotplug(self, base: int, size: int) -> int:
        """memblock_clear_hotplug() (mm/memblock.c)."""
        return self._setclr_flag(base, size, False, HOTPLUG)

    def mark_mirror(self, base: int, size: int) -> int:
        """memblock_mark_mirror() (mm/memblock.c)."""
        if not self.mirrored_kernelcore:
            return 0
        self.system_has_some_mirror = True
        return self._setclr_flag(base, size, True, MIRROR)

    def mark_nomap(self, base: int, size: int) -> int:
        """memblock_mark_nomap() (mm/memblock.c); no kmemleak to tell."""
        return self._setclr_flag(base, size, True, NOMAP)

    def clear_nomap(self, base: int, size: int) -> int:
        """memblock_clear_nomap() (mm/memblock.c)."""
        return self._setclr_flag(base, size, False, NOMAP)

    # ------------------------------------------------------------------
    # the free-range walk, node ids
    def _skip_mask(self, flags: int) -> int:
        """The flag tests of should_skip_region() (mm/memblock.c) as one mask:
        a memory region with any of these flags is skipped."""
        bad = 0
        if self.movable_node and not flags & HOTPLUG:
            bad |= HOTPLUG
        if not flags & NOMAP:
            bad |= NOMAP
        if not flags & DRIVER_MANAGED:
            bad |= DRIVER_MANAGED
        return bad

    # The kernel walks for_each_free_mem_range[_reverse]: every memory region
    # that is not skipped, intersected with every gap between reserved
    # regions (gap k = [end of reserved[k-1] or 0, base of reserved[k] or
    # PHYS_ADDR_MAX)).  Its lock-step walk yields, for memory region
    # [ms, me), exactly the gaps k with r_start < me and r_end > ms, in order;
    # those are k in [bisect_right(RB, ms), bisect_left(RE, me)].
    #
    # Ranges that clamp to a single point [p, p] (outside [start, end], or
    # empty gaps between touching reserved regions of different nid) can
    # only be returned when the candidate arithmetic wraps or size == 0:
    # top-down needs size > 0; bottom-up needs a power-of-two align and no
    # wrap of round_up() at any such point (all are <= P below).  Under
    # those conditions the walk is narrowed to regions and gaps overlapping
    # the window; otherwise the literal walk is used.

    def _next_mem_range(self, nid: int, flags: int, reverse: bool,
                        window: tuple[int, int] | None = None, min_gap: int = 0
                        ) -> Iterator[tuple[int, int, int]]:
        """__next_mem_range() / __next_mem_range_rev() (mm/memblock.c) with
        type_a = memory and type_b = reserved: the free ranges as
        (start, end, nid), lowest first or (``reverse``) highest first.

        With ``window`` = (start, end), only the regions and gaps that
        overlap it are visited (see the notes above).  With ``min_gap``,
        gaps between two reserved regions shorter than it are not yielded
        (a caller that needs that many bytes could not use them).
        """
        if nid == self.max_numnodes:
            nid = NUMA_NO_NODE
        mem = self.memory
        MB, ME, MN = mem.B, mem.E, mem.N
        res = self.reserved
        RB, RE = res.B, res.E
        nres = len(RB)
        # the regions should_skip_region() keeps, found in an index instead of one by one
        idx = self._walk_regions(nid, flags)
        if window is not None:
            lo, hi = window
            plo, phi = bisect_right(ME, lo), bisect_left(MB, hi)
            if len(idx) != len(MB):     # (else idx[p] == p)
                plo, phi = bisect_left(idx, plo), bisect_left(idx, phi)
        else:
            lo, hi = 0, MASK64          # (no region or gap reaches outside)
            plo, phi = 0, len(idx)
        for p in (range(phi - 1, plo - 1, -1) if reverse else range(plo, phi)):
            mi = idx[p]
            ms = MB[mi]
            me = ME[mi]
            klo = bisect_right(RB, ms if ms > lo else lo)
            khi = bisect_left(RE, me if me < hi else hi)
            for k in (range(khi, klo - 1, -1) if reverse else range(klo, khi + 1)):
                rs = RE[k - 1] if k else 0
                re_ = RB[k] if k < nres else MASK64
                if re_ - rs < min_gap:
                    continue
                yield (rs if rs > ms else ms), (re_ if re_ < me else me), MN[mi]

    def _walk_regions(self, nid: int, flags: int) -> list[int]:
        """The indices of the memory regions a free-range walk for node ``nid`` (or any) and
        ``flags`` does not skip (should_skip_region()), ascending; kept until the regions change
        (``gen``): a walk costs what it visits, not the whole array."""
        t = self.memory
        c = t.walk_index
        if c is None or c[0] != t.gen:
            by_nid: dict[int, list[int]] = {}
            for i, n in enumerate(t.N):
                by_nid.setdefault(n, []).append(i)
            c = t.walk_index = (t.gen, by_nid, {})
        key = (nid, flags, self.movable_node)
        got = c[2].get(key)
        if got is None:
            MF = t.F
            bad = self._skip_mask(flags)
            want_mirror = flags & MIRROR
            cand = range(len(MF)) if nid == NUMA_NO_NODE else c[1].get(nid, ())
            got = c[2][key] = [i for i in cand if not MF[i] & bad and (not want_mirror or MF[i] & MIRROR)]
        return got

    def set_node(self, base: int, size: int, nid: int,
                 type: "RegionType | str" = "memory") -> int:
        """memblock_set_node() (mm/memblock.c); ``type`` may be named."""
        return self._update_range(self._type(type), base, size, "N", lambda _: nid)

    # ------------------------------------------------------------------
    # allocation
    def alloc_range_nid(self, size: int, align: int, start: int, end: int,
                        nid: int, exact_nid: bool = False) -> int:
        """memblock_alloc_range_nid() (mm/memblock.c): physical address or 0.

        The kernel's kmemleak calls have no model."""
        flags = self._choose_memblock_flags()
        if nid == self.max_numnodes:
            self.warnings.append(
                "Usage of MAX_NUMNODES is deprecated. Use NUMA_NO_NODE instead")
            nid = NUMA_NO_NODE
        if not align:
            align = self.config.smp_cache_bytes
        res = self.reserved
        if (size and len(res.B) >= res.max and not self.can_resize and self.debug is None
                and self._double_fails_quietly):
            # A found range lies in a gap of memblock.reserved, so memblock_reserve() of it needs
            # one more region; the array is full and cannot double: the reservation fails
            # (-ENOMEM, no trace) whatever the searches find, and the result is 0.
            if flags & MIRROR:
                self.warnings.append("Could not allocate %#x bytes of mirrored memory" % size)
            return 0
        while True:
            found = self._find_in_range_node(size, align, start, end, nid, flags)
            if found and not self.reserve(found, size):
                return found
            if nid != NUMA_NO_NODE and not exact_nid:
                found = self._find_in_range_node(size, align, start, end,
                                                 NUMA_NO_NODE, flags)
                if found and not self.reserve(found, size):
                    return found
            if flags & MIRROR:
                flags &= ~MIRROR
                self.warnings.append(
                    "Could not allocate %#x bytes of mirrored memory" % size)
                continue
            return 0

    def phys_alloc_range(self, size: int, align: int, start: int, end: int) -> int:
        """memblock_phys_alloc_range() (mm/memblock.c)."""
        if self.debug is not None:
            self._dbg("memblock_phys_alloc_range: %d bytes align=0x%x from=%s max_addr=%s %s"
                      % (size, align, _pa(start), _pa(end), self.caller))
        return self.alloc_range_nid(size, align, start, end, NUMA_NO_NODE, False)

    def phys_alloc_try_nid(self, size: int, align: int, nid: int) -> int:
        """memblock_phys_alloc_try_nid() (mm/memblock.c)."""
        return self.alloc_range_nid(size, align, 0, ACCESSIBLE, nid, False)

    def _alloc_internal(self, size: int, align: int, min_addr: int,
                        max_addr: int, nid: int, exact_nid: bool) -> int:
        """memblock_alloc_internal() (mm/memblock.c) without the slab check."""
        if max_addr > self.current_limit:
            max_addr = self.current_limit
        alloc = self.alloc_range_nid(size, align, min_addr, max_addr, nid, exact_nid)
        if not alloc and min_addr:
            alloc = self.alloc_range_nid(size, align, 0, max_addr, nid, exact_nid)
        return alloc

    def _dbg_nid(self, fn: str, size: int, align: int, nid: int,
                 min_addr: int, max_addr: int) -> None:
        """The memblock_dbg() line of the memblock_alloc_*nid*() functions."""
        self._dbg("%s: %d bytes align=0x%x nid=%d from=%s max_addr=%s %s"
                  % (fn, size, align, nid, _pa(min_addr), _pa(max_addr), self.caller))

    def alloc_exact_nid_raw(self, size: int, align: int, min_addr: int,
                            max_addr: int, nid: int) -> int:
        """memblock_alloc_exact_nid_raw() (mm/memblock.c): the physical address."""
        if self.debug is not None:
            self._dbg_nid("memblock_alloc_exact_nid_raw", size, align, nid, min_addr, max_addr)
        return self._alloc_internal(size, align, min_addr, max_addr, nid, True)

    def alloc_try_nid_raw(self, size: int, align: int, min_addr: int,
                          max_addr: int, nid: int) -> int:
        """memblock_alloc_try_nid_raw() (mm/memblock.c): the physical address."""
        if self.debug is not None:
            self._dbg_nid("memblock_alloc_try_nid_raw", size, align, nid, min_addr, max_addr)
        return self._alloc_internal(size, align, min_addr, max_addr, nid, False)

    def alloc_try_nid(self, size: int, align: int, min_addr: int,
                      max_addr: int, nid: int) -> int:
        """memblock_alloc_try_nid() (mm/memblock.c): the *physical* address
        or 0 (the kernel returns it mapped and zeroed)."""
        if self.debug is not None:
            self._dbg_nid("memblock_alloc_try_nid", size, align, nid, min_addr, max_addr)
        return self._alloc_internal(size, align, min_addr, max_addr, nid, False)

    # ------------------------------------------------------------------
    # sizes, limits, queries, trimming
    def phys_mem_size(self) -> int:
        """memblock_phys_mem_size() (mm/memblock.c)."""
        return self.memory.total_size

    def reserved_size(self) -> int:
        """memblock_reserved_size() (mm/memblock.c)."""
        return self.reserved.total_size

    def start_of_dram(self) -> int:
        """memblock_start_of_DRAM() (mm/memblock.c)."""
        return self.memory.B[0] if self.memory.B else 0

    def end_of_dram(self) -> int:
        """memblock_end_of_DRAM() (mm/memblock.c)."""
        return self.memory.E[-1] if self.memory.E else 0

    def _find_max_addr(self, limit: int) -> int:
        """__find_max_addr() (mm/memblock.c)."""
        t = self.memory
        for b, e in zip(t.B, t.E):
            s = e - b
            if limit <= s:
                return b + limit
            limit -= s
        return PHYS_ADDR_MAX

    def enforce_memory_limit(self, limit: int) -> None:
        """memblock_enforce_memory_limit() (mm/memblock.c)."""
        if not limit:
            return
        max_addr = self._find_max_addr(limit)
        if max_addr == PHYS_ADDR_MAX:
            return
        self._remove_range(self.memory, max_addr, PHYS_ADDR_MAX)
        self._remove_range(self.reserved, max_addr, PHYS_ADDR_MAX)

    def cap_memory_range(self, base: int, size: int) -> None:
        """memblock_cap_memory_range() (mm/memblock.c)."""
        if not size:
            return
        t = self.memory
        if not t.total_size:
            self.warnings.append("memblock_cap_memory_range: No memory registered yet")
            return
        ret, s, e = self._isolate_range(t, base, size)
        if ret:
            return
        # the split points stay unmerged if both sides survive (NOMAP)
        t.pending.append(base)
        t.pending.append(base + _cap_size(base, size))
        B, E, F, N = t.B, t.E, t.F, t.N
        keep = [i for i in range(len(B)) if s <= i < e or F[i] & NOMAP]
        if len(keep) != len(B):
            removed = sum(E) - sum(B)
            t.B = [B[i] for i in keep]
            t.E = [E[i] for i in keep]
            t.F = [F[i] for i in keep]
            t.N = [N[i] for i in keep]
            t.gen += 1
            removed -= sum(t.E) - sum(t.B)
            t.total_size = (t.total_size - removed) & MASK64
        self._remove_range(self.reserved, 0, base)
        self._remove_range(self.reserved, (base + size) & MASK64, PHYS_ADDR_MAX)

    def mem_limit_remove_map(self, limit: int) -> None:
        """memblock_mem_limit_remove_map() (mm/memblock.c)."""
        if not limit:
            return
        max_addr = self._find_max_addr(limit)
        if max_addr == PHYS_ADDR_MAX:
            return
        self.cap_memory_range(0, max_addr)

    @staticmethod
    def _search(t: RegionType, addr: int) -> int:
        """memblock_search() (mm/memblock.c): region index or -1."""
        i = bisect_right(t.B, addr) - 1
        if i >= 0 and addr < t.E[i]:
            return i
        return -1

    def is_reserved(self, addr: int) -> bool:
        """memblock_is_reserved() (mm/memblock.c)."""
        return self._search(self.reserved, addr) != -1

    def is_memory(self, addr: int) -> bool:
        """memblock_is_memory() (mm/memblock.c)."""
        return self._search(self.memory, addr) != -1

    def is_map_memory(self, addr: int) -> bool:
        """memblock_is_map_memory() (mm/memblock.c)."""
        i = self._search(self.memory, addr)
        return i != -1 and not self.memory.F[i] & NOMAP

    def search_pfn_nid(self, pfn: int) -> tuple[int, int, int] | None:
        """memblock_search_pfn_nid() (mm/memblock.c)."""
        i = self._search(self.memory, (pfn << 12) & MASK64)
        if i == -1:
            return None
        t = self.memory
        return t.B[i] >> 12, t.E[i] >> 12, t.N[i]

    def is_region_memory(self, base: int, size: int) -> bool:
        """memblock_is_region_memory() (mm/memblock.c)."""
        i = self._search(self.memory, base)
        size = _cap_size(base, size)
        if i == -1:
            return False
        return self.memory.E[i] >= base + size

    def is_region_reserved(self, base: int, size: int) -> bool:
        """memblock_is_region_reserved() (mm/memblock.c)."""
        return self.overlaps_region(self.reserved, base, size)

    def trim_memory(self, align: int) -> None:
        """memblock_trim_memory() (mm/memblock.c)."""
        t = self.memory
        B, E = t.B, t.E
        i = 0
        while i < len(B):
            orig_start, orig_end = B[i], E[i]
            start = _round_up(orig_start, align)
            end = _round_down(orig_end, align)
            if start < orig_start and start < end:
                # round_up() wrapped past 2**64: the kernel would store a
                # region at 0 and leave its array unsorted (and later BUG).
                raise MemblockBug("memblock_trim_memory: round_up(0x%x, 0x%x) wraps"
                                  % (orig_start, align))
            if start == orig_start and end == orig_end:
                i += 1
                continue
            if start < end:
                # note: the kernel does not update total_size here
                B[i] = start
                E[i] = end
                t.gen += 1
            else:
                self._remove_region(t, i)
                continue
            i += 1

    def set_current_limit(self, limit: int) -> None:
        """memblock_set_current_limit() (mm/memblock.c)."""
        self.current_limit = limit & MASK64

    # ------------------------------------------------------------------
    # output and resizing
    def dump(self) -> str:
        """The op-script ``dump`` block (same text as the C driver)."""
        out = ["dump bottom_up=%d current_limit=0x%x movable_node=%d"
               % (self.bottom_up, self.current_limit, self.movable_node)]
        for t in (self.memory, self.reserved):
            name = t.name
            out.append("%s.type cnt=%d max=%d total_size=0x%x"
                       % (name, t.cnt, t.max, t.total_size))
            fmt = name + " 0x%x 0x%x 0x%x %d"
            out.extend([fmt % (b, e - b, f, n)
                        for b, e, f, n in zip(t.B, t.E, t.F, t.N)])
        out.append("end")
        return "\n".join(out)

    def dump_all(self) -> str:
        """__memblock_dump_all() (mm/memblock.c) as printed with
        ``memblock=debug``."""
        out = ["MEMBLOCK configuration:",
               " memory size = %s reserved size = %s"
               % (_pa(self.memory.total_size), _pa(self.reserved.total_size))]
        for t in (self.memory, self.reserved):
            out.append(" %s.cnt  = 0x%x" % (t.name, t.cnt))
            regs = t.regions() or [Region(0, 0, 0, self.max_numnodes)]
            for idx, r in enumerate(regs):
                nid = "" if r.nid == self.max_numnodes else " on node %d" % r.nid
                out.append(" %s[0x%x]\t[%s-%s], %s bytes%s flags: 0x%x"
                           % (t.name, idx, _pa(r.base), _pa(r.base + r.size - 1),
                              _pa(r.size), nid, r.flags))
        return "\n".join(out)

    def allow_resize(self) -> None:
        """memblock_allow_resize() (mm/memblock.c)."""
        self.can_resize = True

    # ------------------------------------------------------------------
    # include/linux/memblock.h inlines
    def set_bottom_up(self, enable: bool) -> None:
        """memblock_set_bottom_up() (include/linux/memblock.h)."""
        self.bottom_up = bool(enable)

    def free_ranges(self, nid: int = NUMA_NO_NODE, flags: int = NONE,
                    reverse: bool = False) -> Iterator[tuple[int, int, int]]:
        """for_each_free_mem_range[_reverse]() (include/linux/memblock.h):
        (start, end, nid) triples."""
        return self._next_mem_range(nid, flags, reverse)

    def alloc(self, size: int, align: int) -> int:
        """memblock_alloc() (include/linux/memblock.h)."""
        return self.alloc_try_nid(size, align, LOW_LIMIT, ACCESSIBLE, NUMA_NO_NODE)

    def alloc_raw(self, size: int, align: int) -> int:
        """memblock_alloc_raw() (include/linux/memblock.h)."""
        return self.alloc_try_nid_raw(size, align, LOW_LIMIT, ACCESSIBLE, NUMA_NO_NODE)

    def alloc_node(self, size: int, align: int, nid: int) -> int:
        """memblock_alloc_node() (include/linux/memblock.h)."""
        return self.alloc_try_nid(size, align, LOW_LIMIT, ACCESSIBLE, nid)

    def alloc_from(self, size: int, align: int, min_addr: int) -> int:
        """memblock_alloc_from() (include/linux/memblock.h)."""
        return self.alloc_try_nid(size, align, min_addr, ACCESSIBLE, NUMA_NO_NODE)
