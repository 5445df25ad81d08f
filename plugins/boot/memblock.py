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

Where the kernel scans arrays linearly, the model uses binary search and
local merging: the results are identical because the arrays are always
sorted, non-overlapping and fully merged between operations (see the notes
on ``_find_top_down`` for the allocation walk).

The op-script format (``run_script``) and its ``dump`` output are those of
the project's C driver for the real allocator (tests/oracles/memblock), so
the two can be diffed line by line.  Only the standard library is used.

API in brief::

    mb = Memblock(DEBIAN_X86_64)          # or HARNESS (the oracle's build)
    mb.add_node(0, 2 << 30, 0); mb.reserve(0, 1 << 20)
    mb.set_bottom_up(True); mb.movable_node = True
    addr = mb.alloc_try_nid(size, align, min_addr, max_addr, nid)  # 0 = failure
    mb.memory.regions(), mb.reserved.regions()   # Region(base, size, flags, nid)
    mb.dump(); mb.dump_all()                     # driver format; memblock=debug format
    run_script(text) -> str                      # raises ScriptError(line, col, msg)

Known limit: ``memblock_trim_memory`` on a region within ``align`` of 2**64
makes the kernel store a region at 0 and leave its array unsorted; the model
raises MemblockBug instead of imitating the corruption.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple

__all__ = [
    "ACCESSIBLE", "ANYWHERE", "DEBIAN_X86_64", "DRIVER_MANAGED", "HARNESS",
    "HOTPLUG", "MIRROR", "NOLEAKTRACE", "NOMAP", "NONE", "NUMA_NO_NODE",
    "PAGE_SIZE", "PHYS_ADDR_MAX", "Memblock", "MemblockBug", "MemblockConfig",
    "Region", "RegionType", "ScriptError", "parse_script", "run_script",
]

MASK64 = (1 << 64) - 1
PHYS_ADDR_MAX = MASK64
ANYWHERE = MASK64          # MEMBLOCK_ALLOC_ANYWHERE
ACCESSIBLE = 0             # MEMBLOCK_ALLOC_ACCESSIBLE
NOLEAKTRACE = 1            # MEMBLOCK_ALLOC_NOLEAKTRACE
LOW_LIMIT = 0              # MEMBLOCK_LOW_LIMIT
ARCH_LOW_ADDRESS_LIMIT = 0xFFFFFFFF
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


@dataclass(frozen=True)
class MemblockConfig:
    """Build-time constants that differ between kernels and the test harness."""

    max_numnodes: int = 1024        # 1 << CONFIG_NODES_SHIFT
    smp_cache_bytes: int = 64       # used when an allocation asks for align 0
    init_regions: int = 128         # INIT_MEMBLOCK_REGIONS


#: Debian's amd64 kernel (NODES_SHIFT=10, 64-byte cache lines).
DEBIAN_X86_64 = MemblockConfig(max_numnodes=1024, smp_cache_bytes=64)
#: The kernel's tools/testing/memblock harness built with NUMA=1 (the oracle).
HARNESS = MemblockConfig(max_numnodes=16, smp_cache_bytes=32)


class Region(NamedTuple):
    base: int
    size: int
    flags: int
    nid: int

    @property
    def end(self) -> int:
        return self.base + self.size


class MemblockBug(RuntimeError):
    """A kernel BUG_ON() would have fired (the real allocator aborts)."""


class ScriptError(ValueError):
    """An op-script could not be parsed; ``line`` and ``col`` are 1-based."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(f"line {line} col {col}: {message}")
        self.line = line
        self.col = col
        self.message = message


def _round_up(x: int, y: int) -> int:
    # ((x - 1) | (y - 1)) + 1 in u64 arithmetic, exactly as the kernel macro
    return ((((x - 1) & MASK64) | ((y - 1) & MASK64)) + 1) & MASK64


def _round_down(x: int, y: int) -> int:
    return x & ~((y - 1) & MASK64) & MASK64


def _page_align(x: int) -> int:
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1) & MASK64


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
                 "pending")

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

    @property
    def cnt(self) -> int:
        return len(self.B) or 1

    def __len__(self) -> int:
        return len(self.B)

    def regions(self) -> list[Region]:
        return [Region(b, e - b, f, n)
                for b, e, f, n in zip(self.B, self.E, self.F, self.N)]

    def __iter__(self) -> Iterator[Region]:
        return iter(self.regions())

    def copy(self) -> "RegionType":
        c = RegionType(self.name, self.max)
        c.B, c.E, c.F, c.N = self.B[:], self.E[:], self.F[:], self.N[:]
        c.total_size, c.addr = self.total_size, self.addr
        c.pending = self.pending[:]
        return c


class Memblock:
    """The state of ``struct memblock`` plus the sticky globals around it.

    Method names follow the kernel's ``memblock_*`` functions without the
    prefix; return values are the kernel's (0 / -errno, physical addresses
    with 0 meaning failure, booleans for the queries).
    """

    def __init__(self, config: MemblockConfig = DEBIAN_X86_64, *,
                 debug: Callable[[str], None] | None = None):
        self.config = config
        self.max_numnodes = config.max_numnodes
        self.memory = RegionType("memory", config.init_regions)
        self.reserved = RegionType("reserved", config.init_regions)
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

    # ------------------------------------------------------------------
    # helpers
    def _dbg(self, msg: str) -> None:
        if self.debug is not None:
            self.debug(msg)

    def reset(self) -> None:
        """The op-script ``reset``: empty static arrays, top-down, no limit.

        Like the C driver it cannot reset the sticky globals
        (``can_resize``, ``system_has_some_mirror``) nor mirrored_kernelcore.
        """
        n = self.config.init_regions
        self.memory = RegionType("memory", n)
        self.reserved = RegionType("reserved", n)
        self.bottom_up = False
        self.current_limit = ANYWHERE
        self.movable_node = False

    def _type(self, t: "RegionType | str") -> RegionType:
        if isinstance(t, RegionType):
            return t
        if t == "memory":
            return self.memory
        if t == "reserved":
            return self.reserved
        raise ValueError(f"unknown memblock type {t!r}")

    @staticmethod
    def _merge_span(t: RegionType, lo: int, hi: int) -> None:
        """memblock_merge_regions() restricted to regions [lo, hi).

        Equivalent to the kernel's full pass because all other neighbouring
        pairs are already unmergeable.
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

    @staticmethod
    def _merge_pending(t: RegionType) -> None:
        """The rest of the kernel's full merge pass: join pending pairs."""
        B, E, F, N = t.B, t.E, t.F, t.N
        for p in t.pending:
            i = bisect_left(E, p)
            if (i + 1 < len(B) and E[i] == p and B[i + 1] == p
                    and F[i] == F[i + 1] and N[i] == N[i + 1]):
                E[i] = E[i + 1]
                del B[i + 1], E[i + 1], F[i + 1], N[i + 1]
        t.pending = []

    @staticmethod
    def _remove_region(t: RegionType, i: int) -> None:
        if not t.B:          # removing the dummy entry: a no-op
            return
        t.total_size = (t.total_size - (t.E[i] - t.B[i])) & MASK64
        del t.B[i], t.E[i], t.F[i], t.N[i]
        # an emptied array gets its dummy back; total_size is left as is
        # (the kernel only WARNs if it is not 0)

    # ------------------------------------------------------------------
    # array doubling
    def _double_array(self, t: RegionType, new_area_start: int,
                      new_area_size: int) -> int:
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

    # ------------------------------------------------------------------
    # core range operations
    def _add_range(self, t: RegionType, base: int, size: int, nid: int,
                   flags: int) -> int:
        if size > MASK64 - base:
            size = MASK64 - base
        if not size:
            return 0
        end = base + size
        B = t.B
        if not B:
            if t.total_size:
                self.warnings.append("WARN: memblock_add_range: empty array with total_size")
            t.B.append(base)
            t.E.append(end)
            t.F.append(flags)
            t.N.append(nid)
            t.total_size = size
            return 0
        insert = len(B) * 2 + 1 < t.max
        while True:
            B, E = t.B, t.E
            i0 = i = bisect_right(E, base)
            n = len(B)
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
            if insert or len(B) + len(pieces) <= t.max:
                break
            while len(t.B) + len(pieces) > t.max:
                if self._double_array(t, base, size) < 0:
                    return -ENOMEM
            insert = True   # the kernel recounts after doubling
        i1 = i
        if len(B) + len(pieces) > t.max:
            raise MemblockBug("memblock_insert_region: array full")
        F, N = t.F, t.N
        if i1 == i0:
            # fast path: [base, end) overlaps nothing; insert or extend a
            # neighbour (same result as insert + merge pass)
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
            t.total_size = (t.total_size + size) & MASK64
            if t.pending:
                self._merge_pending(t)
            return 0
        # build the new span [lo, hi) with the pieces inserted, then merge it
        lo = i0 - 1 if i0 > 0 else 0
        hi = i1 + 1 if i1 < n else n
        nb: list[int] = []
        ne: list[int] = []
        nf: list[int] = []
        nn: list[int] = []
        added = 0
        p = 0
        np_ = len(pieces)
        j = lo
        while j < hi or p < np_:
            if p < np_ and (j >= hi or pieces[p][0] < B[j]):
                b, e = pieces[p]
                f, d = flags, nid
                added += e - b
                p += 1
            else:
                b, e, f, d = B[j], E[j], F[j], N[j]
                j += 1
            if nb and ne[-1] == b and nn[-1] == d and nf[-1] == f:
                ne[-1] = e
            else:
                if nb and ne[-1] > b:
                    raise MemblockBug("memblock_merge_regions: overlapping regions")
                nb.append(b)
                ne.append(e)
                nf.append(f)
                nn.append(d)
        B[lo:hi] = nb
        E[lo:hi] = ne
        F[lo:hi] = nf
        N[lo:hi] = nn
        t.total_size = (t.total_size + added) & MASK64
        if t.pending:
            self._merge_pending(t)
        return 0

    def _isolate_range(self, t: RegionType, base: int, size: int
                       ) -> tuple[int, int, int]:
        """Return (ret, start_rgn, end_rgn) like memblock_isolate_range()."""
        if size > MASK64 - base:
            size = MASK64 - base
        end = base + size
        if not size:
            return 0, 0, 0
        while t.cnt + 2 > t.max:
            if self._double_array(t, base, size) < 0:
                return -ENOMEM, 0, 0
        B, E, F, N = t.B, t.E, t.F, t.N
        i = bisect_right(E, base)
        n = len(B)
        if i >= n or B[i] >= end:
            return 0, 0, 0
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
        ret, s, e = self._isolate_range(t, base, size)
        if ret:
            return ret
        if s < e:
            B, E = t.B, t.E
            removed = sum(E[s:e]) - sum(B[s:e])
            del B[s:e], E[s:e], t.F[s:e], t.N[s:e]
            t.total_size = (t.total_size - removed) & MASK64
        return 0

    def _setclr_flag(self, base: int, size: int, set_: bool, flag: int) -> int:
        t = self.memory
        ret, s, e = self._isolate_range(t, base, size)
        if ret:
            return ret
        if s < e:
            F = t.F
            if set_:
                for i in range(s, e):
                    F[i] = (F[i] | flag) & _MASK32
            else:
                mask = ~flag & _MASK32
                for i in range(s, e):
                    F[i] &= mask
            self._merge_span(t, s - 1, e + 1)
        if t.pending:
            self._merge_pending(t)
        return 0

    # ------------------------------------------------------------------
    # public API: registration
    def add_node(self, base: int, size: int, nid: int, flags: int = 0) -> int:
        if self.debug is not None:
            self._dbg("memblock_add_node: [%s-%s] nid=%d flags=%x %s"
                      % (_pa(base), _pa(base + size - 1), nid, flags, self.caller))
        return self._add_range(self.memory, base, size, nid, flags)

    def add(self, base: int, size: int) -> int:
        if self.debug is not None:
            self._dbg("memblock_add: [%s-%s] %s"
                      % (_pa(base), _pa(base + size - 1), self.caller))
        return self._add_range(self.memory, base, size, self.max_numnodes, 0)

    def remove(self, base: int, size: int) -> int:
        if self.debug is not None:
            self._dbg("memblock_remove: [%s-%s] %s"
                      % (_pa(base), _pa(base + size - 1), self.caller))
        return self._remove_range(self.memory, base, size)

    def phys_free(self, base: int, size: int) -> int:
        if self.debug is not None:
            self._dbg("memblock_phys_free: [%s-%s] %s"
                      % (_pa(base), _pa(base + size - 1), self.caller))
        return self._remove_range(self.reserved, base, size)

    free = phys_free

    def reserve(self, base: int, size: int) -> int:
        if self.debug is not None:
            self._dbg("memblock_reserve: [%s-%s] %s"
                      % (_pa(base), _pa(base + size - 1), self.caller))
        return self._add_range(self.reserved, base, size, self.max_numnodes, 0)

    def mark_hotplug(self, base: int, size: int) -> int:
        return self._setclr_flag(base, size, True, HOTPLUG)

    def clear_hotplug(self, base: int, size: int) -> int:
        return self._setclr_flag(base, size, False, HOTPLUG)

    def mark_mirror(self, base: int, size: int) -> int:
        if not self.mirrored_kernelcore:
            return 0
        self.system_has_some_mirror = True
        return self._setclr_flag(base, size, True, MIRROR)

    def mark_nomap(self, base: int, size: int) -> int:
        return self._setclr_flag(base, size, True, NOMAP)

    def clear_nomap(self, base: int, size: int) -> int:
        return self._setclr_flag(base, size, False, NOMAP)

    def set_node(self, base: int, size: int, nid: int,
                 type: "RegionType | str" = "memory") -> int:
        t = self._type(type)
        ret, s, e = self._isolate_range(t, base, size)
        if ret:
            return ret
        if s < e:
            N = t.N
            for i in range(s, e):
                N[i] = nid
            self._merge_span(t, s - 1, e + 1)
        if t.pending:
            self._merge_pending(t)
        return 0

    def set_bottom_up(self, enable: bool) -> None:
        self.bottom_up = bool(enable)

    def set_current_limit(self, limit: int) -> None:
        self.current_limit = limit & MASK64

    def allow_resize(self) -> None:
        self.can_resize = True

    # ------------------------------------------------------------------
    # free-range walk and allocation
    def _skip_mask(self, flags: int) -> int:
        bad = 0
        if self.movable_node and not flags & HOTPLUG:
            bad |= HOTPLUG
        if not flags & NOMAP:
            bad |= NOMAP
        if not flags & DRIVER_MANAGED:
            bad |= DRIVER_MANAGED
        return bad

    def _find_in_range_node(self, size: int, align: int, start: int, end: int,
                            nid: int, flags: int) -> int:
        if end == ACCESSIBLE or end == NOLEAKTRACE:
            end = self.current_limit
        if start < PAGE_SIZE:
            start = PAGE_SIZE
        if end < start:
            end = start
        if nid == self.max_numnodes:
            nid = NUMA_NO_NODE
        if self.bottom_up:
            return self._find_bottom_up(start, end, size, align, nid, flags)
        return self._find_top_down(start, end, size, align, nid, flags)

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

    def _find_top_down(self, start: int, end: int, size: int, align: int,
                       nid: int, flags: int) -> int:
        mem = self.memory
        MB, ME, MF, MN = mem.B, mem.E, mem.F, mem.N
        res = self.reserved
        RB, RE = res.B, res.E
        nres = len(RB)
        bad = self._skip_mask(flags)
        want_mirror = flags & MIRROR
        if size > 0:
            mlo = bisect_right(ME, start)
            mi = bisect_left(MB, end) - 1
            fast = True
        else:
            mlo = 0
            mi = len(MB) - 1
            fast = False
        while mi >= mlo:
            mf = MF[mi]
            if ((nid != NUMA_NO_NODE and nid != MN[mi]) or mf & bad
                    or (want_mirror and not mf & MIRROR)):
                mi -= 1
                continue
            ms = MB[mi]
            me = ME[mi]
            if fast:
                ws = ms if ms > start else start
                we = me if me < end else end
                klo = bisect_right(RB, ws)
                k = bisect_left(RE, we)
            else:
                klo = bisect_right(RB, ms)
                k = bisect_left(RE, me)
            while k >= klo:
                rs = RE[k - 1] if k else 0
                re_ = RB[k] if k < nres else MASK64
                if rs < ms:
                    rs = ms
                if re_ > me:
                    re_ = me
                # clamp(x, start, end) = min(max(x, start), end)
                this_start = start if rs < start else (end if rs > end else rs)
                this_end = start if re_ < start else (end if re_ > end else re_)
                k -= 1
                if this_end < size:
                    continue
                cand = (this_end - size) & ~((align - 1) & MASK64)
                if cand >= this_start:
                    return cand
            mi -= 1
        return 0

    def _find_bottom_up(self, start: int, end: int, size: int, align: int,
                        nid: int, flags: int) -> int:
        mem = self.memory
        MB, ME, MF, MN = mem.B, mem.E, mem.F, mem.N
        res = self.reserved
        RB, RE = res.B, res.E
        nres = len(RB)
        bad = self._skip_mask(flags)
        want_mirror = flags & MIRROR
        nmem = len(MB)
        fast = False
        if align and not (align & (align - 1)) and nmem:
            last = ME[-1]
            p = start if start > (end if end < last else last) else (end if end < last else last)
            fast = p <= (1 << 64) - align
        if fast:
            mi = bisect_right(ME, start)
            mhi = bisect_left(MB, end)
        else:
            mi = 0
            mhi = nmem
        amask = (align - 1) & MASK64
        while mi < mhi:
            mf = MF[mi]
            if ((nid != NUMA_NO_NODE and nid != MN[mi]) or mf & bad
                    or (want_mirror and not mf & MIRROR)):
                mi += 1
                continue
            ms = MB[mi]
            me = ME[mi]
            if fast:
                ws = ms if ms > start else start
                we = me if me < end else end
                k = bisect_right(RB, ws)
                khi = bisect_left(RE, we)
            else:
                k = bisect_right(RB, ms)
                khi = bisect_left(RE, me)
            while k <= khi:
                rs = RE[k - 1] if k else 0
                re_ = RB[k] if k < nres else MASK64
                if rs < ms:
                    rs = ms
                if re_ > me:
                    re_ = me
                this_start = start if rs < start else (end if rs > end else rs)
                this_end = start if re_ < start else (end if re_ > end else re_)
                k += 1
                cand = ((((this_start - 1) & MASK64) | amask) + 1) & MASK64
                if cand < this_end and this_end - cand >= size:
                    return cand
            mi += 1
        return 0

    def _find_in_range(self, start: int, end: int, size: int, align: int) -> int:
        flags = MIRROR if self.system_has_some_mirror else NONE
        while True:
            ret = self._find_in_range_node(size, align, start, end,
                                           NUMA_NO_NODE, flags)
            if not ret and flags & MIRROR:
                self.warnings.append(
                    "Could not allocate %#x bytes of mirrored memory" % size)
                flags &= ~MIRROR
                continue
            return ret

    def alloc_range_nid(self, size: int, align: int, start: int, end: int,
                        nid: int, exact_nid: bool = False) -> int:
        """memblock_alloc_range_nid(): physical address or 0."""
        flags = MIRROR if self.system_has_some_mirror else NONE
        if nid == self.max_numnodes:
            self.warnings.append(
                "Usage of MAX_NUMNODES is deprecated. Use NUMA_NO_NODE instead")
            nid = NUMA_NO_NODE
        if not align:
            align = self.config.smp_cache_bytes
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
        if self.debug is not None:
            self._dbg("memblock_phys_alloc_range: %d bytes align=0x%x from=%s max_addr=%s %s"
                      % (size, align, _pa(start), _pa(end), self.caller))
        return self.alloc_range_nid(size, align, start, end, NUMA_NO_NODE, False)

    def phys_alloc_try_nid(self, size: int, align: int, nid: int) -> int:
        return self.alloc_range_nid(size, align, 0, ACCESSIBLE, nid, False)

    def phys_alloc(self, size: int, align: int) -> int:
        return self.phys_alloc_range(size, align, 0, ACCESSIBLE)

    def _alloc_internal(self, size: int, align: int, min_addr: int,
                        max_addr: int, nid: int, exact_nid: bool) -> int:
        if max_addr > self.current_limit:
            max_addr = self.current_limit
        alloc = self.alloc_range_nid(size, align, min_addr, max_addr, nid, exact_nid)
        if not alloc and min_addr:
            alloc = self.alloc_range_nid(size, align, 0, max_addr, nid, exact_nid)
        return alloc

    def _dbg_nid(self, fn: str, size: int, align: int, nid: int,
                 min_addr: int, max_addr: int) -> None:
        self._dbg("%s: %d bytes align=0x%x nid=%d from=%s max_addr=%s %s"
                  % (fn, size, align, nid, _pa(min_addr), _pa(max_addr), self.caller))

    def alloc_try_nid(self, size: int, align: int, min_addr: int,
                      max_addr: int, nid: int) -> int:
        """memblock_alloc_try_nid(); returns the *physical* address or 0."""
        if self.debug is not None:
            self._dbg_nid("memblock_alloc_try_nid", size, align, nid, min_addr, max_addr)
        return self._alloc_internal(size, align, min_addr, max_addr, nid, False)

    def alloc_try_nid_raw(self, size: int, align: int, min_addr: int,
                          max_addr: int, nid: int) -> int:
        if self.debug is not None:
            self._dbg_nid("memblock_alloc_try_nid_raw", size, align, nid, min_addr, max_addr)
        return self._alloc_internal(size, align, min_addr, max_addr, nid, False)

    def alloc_exact_nid_raw(self, size: int, align: int, min_addr: int,
                            max_addr: int, nid: int) -> int:
        if self.debug is not None:
            self._dbg_nid("memblock_alloc_exact_nid_raw", size, align, nid, min_addr, max_addr)
        return self._alloc_internal(size, align, min_addr, max_addr, nid, True)

    def alloc(self, size: int, align: int) -> int:
        return self.alloc_try_nid(size, align, LOW_LIMIT, ACCESSIBLE, NUMA_NO_NODE)

    def alloc_raw(self, size: int, align: int) -> int:
        return self.alloc_try_nid_raw(size, align, LOW_LIMIT, ACCESSIBLE, NUMA_NO_NODE)

    def alloc_from(self, size: int, align: int, min_addr: int) -> int:
        return self.alloc_try_nid(size, align, min_addr, ACCESSIBLE, NUMA_NO_NODE)

    def alloc_low(self, size: int, align: int) -> int:
        return self.alloc_try_nid(size, align, LOW_LIMIT, ARCH_LOW_ADDRESS_LIMIT,
                                  NUMA_NO_NODE)

    def alloc_node(self, size: int, align: int, nid: int) -> int:
        return self.alloc_try_nid(size, align, LOW_LIMIT, ACCESSIBLE, nid)

    def free_ranges(self, nid: int = NUMA_NO_NODE, flags: int = NONE,
                    reverse: bool = False) -> Iterator[tuple[int, int, int]]:
        """for_each_free_mem_range[_reverse]: (start, end, nid) triples."""
        if nid == self.max_numnodes:
            nid = NUMA_NO_NODE
        mem, res = self.memory, self.reserved
        RB, RE, nres = res.B, res.E, len(res.B)
        bad = self._skip_mask(flags)
        idx = range(len(mem.B))
        for mi in (reversed(idx) if reverse else idx):
            mf = mem.F[mi]
            if ((nid != NUMA_NO_NODE and nid != mem.N[mi]) or mf & bad
                    or (flags & MIRROR and not mf & MIRROR)):
                continue
            ms, me = mem.B[mi], mem.E[mi]
            ks = range(bisect_right(RB, ms), bisect_left(RE, me) + 1)
            for k in (reversed(ks) if reverse else ks):
                rs = max(ms, RE[k - 1] if k else 0)
                re_ = min(me, RB[k] if k < nres else MASK64)
                yield rs, re_, mem.N[mi]

    # ------------------------------------------------------------------
    # limits and trimming
    def trim_memory(self, align: int) -> None:
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
            else:
                self._remove_region(t, i)
                continue
            i += 1

    def _find_max_addr(self, limit: int) -> int:
        t = self.memory
        for b, e in zip(t.B, t.E):
            s = e - b
            if limit <= s:
                return b + limit
            limit -= s
        return PHYS_ADDR_MAX

    def enforce_memory_limit(self, limit: int) -> None:
        if not limit:
            return
        max_addr = self._find_max_addr(limit)
        if max_addr == PHYS_ADDR_MAX:
            return
        self._remove_range(self.memory, max_addr, PHYS_ADDR_MAX)
        self._remove_range(self.reserved, max_addr, PHYS_ADDR_MAX)

    def cap_memory_range(self, base: int, size: int) -> None:
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
        t.pending.append(base + min(size, MASK64 - base))
        B, E, F, N = t.B, t.E, t.F, t.N
        keep = [i for i in range(len(B)) if s <= i < e or F[i] & NOMAP]
        if len(keep) != len(B):
            removed = sum(E) - sum(B)
            t.B = [B[i] for i in keep]
            t.E = [E[i] for i in keep]
            t.F = [F[i] for i in keep]
            t.N = [N[i] for i in keep]
            removed -= sum(t.E) - sum(t.B)
            t.total_size = (t.total_size - removed) & MASK64
        self._remove_range(self.reserved, 0, base)
        self._remove_range(self.reserved, (base + size) & MASK64, PHYS_ADDR_MAX)

    def mem_limit_remove_map(self, limit: int) -> None:
        if not limit:
            return
        max_addr = self._find_max_addr(limit)
        if max_addr == PHYS_ADDR_MAX:
            return
        self.cap_memory_range(0, max_addr)

    # ------------------------------------------------------------------
    # queries
    @staticmethod
    def _search(t: RegionType, addr: int) -> int:
        i = bisect_right(t.B, addr) - 1
        if i >= 0 and addr < t.E[i]:
            return i
        return -1

    def is_reserved(self, addr: int) -> bool:
        return self._search(self.reserved, addr) != -1

    def is_memory(self, addr: int) -> bool:
        return self._search(self.memory, addr) != -1

    def is_map_memory(self, addr: int) -> bool:
        i = self._search(self.memory, addr)
        return i != -1 and not self.memory.F[i] & NOMAP

    def is_region_memory(self, base: int, size: int) -> bool:
        i = self._search(self.memory, base)
        if size > MASK64 - base:
            size = MASK64 - base
        if i == -1:
            return False
        return self.memory.E[i] >= base + size

    def is_region_reserved(self, base: int, size: int) -> bool:
        if size > MASK64 - base:
            size = MASK64 - base
        t = self.reserved
        i = bisect_right(t.E, base)
        return i < len(t.B) and t.B[i] < base + size

    def search_pfn_nid(self, pfn: int) -> tuple[int, int, int] | None:
        i = self._search(self.memory, (pfn << 12) & MASK64)
        if i == -1:
            return None
        t = self.memory
        return t.B[i] >> 12, t.E[i] >> 12, t.N[i]

    def phys_mem_size(self) -> int:
        return self.memory.total_size

    def reserved_size(self) -> int:
        return self.reserved.total_size

    def start_of_dram(self) -> int:
        return self.memory.B[0] if self.memory.B else 0

    def end_of_dram(self) -> int:
        return self.memory.E[-1] if self.memory.E else 0

    # ------------------------------------------------------------------
    # output
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
        """``__memblock_dump_all()`` as printed with ``memblock=debug``."""
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

    def copy(self) -> "Memblock":
        c = Memblock(self.config, debug=self.debug)
        c.__dict__.update(self.__dict__)
        c.memory = self.memory.copy()
        c.reserved = self.reserved.copy()
        c.warnings = list(self.warnings)
        return c


# ----------------------------------------------------------------------
# op-script parser and runner
#
# Syntax (one operation per line, as read by the C driver): '#' starts a
# comment; tokens are separated by space, tab, CR, FF or VT; numbers are
# decimal or 0x-hex with an optional K/M/G/T suffix (no octal, no sign);
# u64 arguments also accept anywhere (~0), accessible (0), noleaktrace (1);
# node ids accept -N, none (-1) and max (MAX_NUMNODES).
_KEYWORDS = {"anywhere": ANYWHERE, "accessible": ACCESSIBLE,
             "noleaktrace": NOLEAKTRACE}
_TOKEN_RE = re.compile(r"[^ \t\r\f\v#]+")
_MAXTOK = 16
_SUFFIX = {"K": 10, "M": 20, "G": 30, "T": 40, "k": 10, "m": 20, "g": 30, "t": 40}
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


def _parse_u64_raw(s: str) -> int | None:
    """Decimal or 0x-hex with an optional K/M/G/T suffix; None if invalid."""
    shift = _SUFFIX.get(s[-1:], 0)
    body = s[:-1] if shift else s
    v = None
    if body[:2] in ("0x", "0X"):
        digits = body[2:]
        if digits and _HEXDIGITS.issuperset(digits):
            v = int(digits, 16)
    elif body.isascii() and body.isdigit() and (body[0] != "0" or len(body) == 1):
        v = int(body)
    if v is not None:
        v <<= shift
        if v > MASK64:
            v = None
    return v


class _ArgError(Exception):
    def __init__(self, index: int, message: str):
        self.index = index
        self.message = message


#: token -> u64 value (keywords included); invalid tokens are never cached
_U64: dict[str, int] = dict(_KEYWORDS)


def _u64(t: list[str], i: int) -> int:
    s = t[i]
    v = _U64.get(s)
    if v is None:
        v = _parse_u64_raw(s)
        if v is None:
            raise _ArgError(i, f"bad number '{s}'")
        if len(_U64) > 65536:
            _U64.clear()
            _U64.update(_KEYWORDS)
        _U64[s] = v
    return v


def _nid(t: list[str], i: int, max_numnodes: int) -> int:
    s = t[i]
    if s == "none":
        return NUMA_NO_NODE
    if s == "max":
        return max_numnodes
    if len(s) > 1 and s[0] == "-":
        v = _parse_u64_raw(s[1:])
        if v is None or v > 0x80000000:
            raise _ArgError(i, f"bad node id '{s}'")
        return -v
    v = _parse_u64_raw(s)
    if v is None or v > 0x7FFFFFFF:
        raise _ArgError(i, f"bad node id '{s}'")
    return v


def _flags(t: list[str], i: int) -> int:
    v = _parse_u64_raw(t[i])
    if v is None or v > _MASK32:
        raise _ArgError(i, f"bad flags '{t[i]}'")
    return v


def _bool(t: list[str], i: int) -> int:
    s = t[i]
    if s == "0":
        return 0
    if s == "1":
        return 1
    raise _ArgError(i, f"expected 0 or 1 '{s}'")


def _type(t: list[str], i: int) -> str:
    if t[i] not in ("memory", "reserved"):
        raise _ArgError(i, f"expected memory or reserved '{t[i]}'")
    return t[i]


def _arity(t: list[str], *allowed: int) -> None:
    n = len(t) - 1
    if n not in allowed:
        want = (str(allowed[0]) if len(allowed) == 1 else
                f"{allowed[0]} or {allowed[1]}" if len(allowed) == 2 else
                f"{allowed[0]} to {allowed[-1]}")
        raise _ArgError(0, f"wrong number of arguments ({n}, expected {want}) for '{t[0]}'")


def _op_add(mb, t):
    n = len(t)
    if n == 3:
        return "add %d" % mb.add(_u64(t, 1), _u64(t, 2))
    if n != 4 and n != 5:
        _arity(t, 2, 3, 4)
    b, s = _u64(t, 1), _u64(t, 2)
    nid = _nid(t, 3, mb.max_numnodes)
    fl = _flags(t, 4) if n == 5 else 0
    return "add %d" % mb.add_node(b, s, nid, fl)


def _range_op(name, fn):
    fmt = name + " %d"

    def op(mb, t):
        if len(t) != 3:
            _arity(t, 2)
        return fmt % fn(mb, _u64(t, 1), _u64(t, 2))
    return op


def _op_set_node(mb, t):
    n = len(t)
    if n != 4 and n != 5:
        _arity(t, 3, 4)
    b, s = _u64(t, 1), _u64(t, 2)
    nid = _nid(t, 3, mb.max_numnodes)
    typ = _type(t, 4) if n == 5 else "memory"
    return "set_node %d" % mb.set_node(b, s, nid, typ)


def _op_bottom_up(mb, t):
    _arity(t, 1)
    mb.set_bottom_up(_bool(t, 1))
    return "bottom_up %d" % mb.bottom_up


def _op_movable_node(mb, t):
    _arity(t, 1)
    mb.movable_node = bool(_bool(t, 1))
    return "movable_node %d" % mb.movable_node


def _op_mirrored_kernelcore(mb, t):
    _arity(t, 1)
    mb.mirrored_kernelcore = bool(_bool(t, 1))
    return "mirrored_kernelcore %d" % mb.mirrored_kernelcore


def _op_current_limit(mb, t):
    _arity(t, 1)
    mb.set_current_limit(_u64(t, 1))
    return "current_limit 0x%x" % mb.current_limit


def _op_allow_resize(mb, t):
    _arity(t, 0)
    mb.allow_resize()
    return "allow_resize ok"


def _op_reset(mb, t):
    _arity(t, 0)
    mb.reset()
    return "reset ok"


def _op_alloc(mb, t):
    n = len(t)
    if n != 6 and n != 7:
        _arity(t, 5, 6)
    s, a, mn, mx = _u64(t, 1), _u64(t, 2), _u64(t, 3), _u64(t, 4)
    nid = _nid(t, 5, mb.max_numnodes)
    exact = _bool(t, 6) if n == 7 else 0
    return "alloc 0x%x" % mb.alloc_range_nid(s, a, mn, mx, nid, bool(exact))


def _op_phys_alloc_range(mb, t):
    if len(t) != 5:
        _arity(t, 4)
    s, a, st, en = _u64(t, 1), _u64(t, 2), _u64(t, 3), _u64(t, 4)
    return "phys_alloc_range 0x%x" % mb.phys_alloc_range(s, a, st, en)


def _op_phys_alloc_try_nid(mb, t):
    if len(t) != 4:
        _arity(t, 3)
    s, a = _u64(t, 1), _u64(t, 2)
    nid = _nid(t, 3, mb.max_numnodes)
    return "phys_alloc_try_nid 0x%x" % mb.phys_alloc_try_nid(s, a, nid)


def _nid_alloc_op(name, fn):
    fmt = name + " 0x%x"

    def op(mb, t):
        if len(t) != 6:
            _arity(t, 5)
        s, a, mn, mx = _u64(t, 1), _u64(t, 2), _u64(t, 3), _u64(t, 4)
        nid = _nid(t, 5, mb.max_numnodes)
        return fmt % fn(mb, s, a, mn, mx, nid)
    return op


def _unary_ok(name, fn):
    def op(mb, t):
        _arity(t, 1)
        fn(mb, _u64(t, 1))
        return name + " ok"
    return op


def _op_cap_range(mb, t):
    _arity(t, 2)
    b, s = _u64(t, 1), _u64(t, 2)
    mb.cap_memory_range(b, s)
    return "cap_range ok"


def _query1(name, fn):
    fmt = name + " %d"

    def op(mb, t):
        if len(t) != 2:
            _arity(t, 1)
        return fmt % fn(mb, _u64(t, 1))
    return op


def _query2(name, fn):
    fmt = name + " %d"

    def op(mb, t):
        if len(t) != 3:
            _arity(t, 2)
        return fmt % fn(mb, _u64(t, 1), _u64(t, 2))
    return op


def _query0(name, fn):
    fmt = name + " 0x%x"

    def op(mb, t):
        _arity(t, 0)
        return fmt % fn(mb)
    return op


def _op_dump(mb, t):
    _arity(t, 0)
    return mb.dump()


_OPS: dict[str, Callable[[Memblock, list], str]] = {
    "add": _op_add,
    "reserve": _range_op("reserve", Memblock.reserve),
    "remove": _range_op("remove", Memblock.remove),
    "free": _range_op("free", Memblock.phys_free),
    "mark_hotplug": _range_op("mark_hotplug", Memblock.mark_hotplug),
    "clear_hotplug": _range_op("clear_hotplug", Memblock.clear_hotplug),
    "mark_nomap": _range_op("mark_nomap", Memblock.mark_nomap),
    "clear_nomap": _range_op("clear_nomap", Memblock.clear_nomap),
    "mark_mirror": _range_op("mark_mirror", Memblock.mark_mirror),
    "set_node": _op_set_node,
    "bottom_up": _op_bottom_up,
    "movable_node": _op_movable_node,
    "mirrored_kernelcore": _op_mirrored_kernelcore,
    "current_limit": _op_current_limit,
    "allow_resize": _op_allow_resize,
    "reset": _op_reset,
    "alloc": _op_alloc,
    "phys_alloc_range": _op_phys_alloc_range,
    "phys_alloc_try_nid": _op_phys_alloc_try_nid,
    "alloc_try_nid": _nid_alloc_op("alloc_try_nid", Memblock.alloc_try_nid),
    "alloc_try_nid_raw": _nid_alloc_op("alloc_try_nid_raw", Memblock.alloc_try_nid_raw),
    "alloc_exact_nid_raw": _nid_alloc_op("alloc_exact_nid_raw", Memblock.alloc_exact_nid_raw),
    "trim": _unary_ok("trim", Memblock.trim_memory),
    "enforce_limit": _unary_ok("enforce_limit", Memblock.enforce_memory_limit),
    "cap_range": _op_cap_range,
    "mem_limit_remove_map": _unary_ok("mem_limit_remove_map", Memblock.mem_limit_remove_map),
    "is_memory": _query1("is_memory", Memblock.is_memory),
    "is_reserved": _query1("is_reserved", Memblock.is_reserved),
    "is_map_memory": _query1("is_map_memory", Memblock.is_map_memory),
    "is_region_memory": _query2("is_region_memory", Memblock.is_region_memory),
    "is_region_reserved": _query2("is_region_reserved", Memblock.is_region_reserved),
    "phys_mem_size": _query0("phys_mem_size", Memblock.phys_mem_size),
    "reserved_size": _query0("reserved_size", Memblock.reserved_size),
    "start_of_dram": _query0("start_of_dram", Memblock.start_of_dram),
    "end_of_dram": _query0("end_of_dram", Memblock.end_of_dram),
    "dump": _op_dump,
}

#: the operation names of the op-script format
OPERATIONS = tuple(_OPS)

# argument kinds, for parse_script: u = u64, n = nid, f = flags, b = 0|1,
# t = memory|reserved
_ARGS = {
    "add": "uunf", "reserve": "uu", "remove": "uu", "free": "uu",
    "mark_hotplug": "uu", "clear_hotplug": "uu", "mark_nomap": "uu",
    "clear_nomap": "uu", "mark_mirror": "uu", "set_node": "uunt",
    "bottom_up": "b", "movable_node": "b", "mirrored_kernelcore": "b",
    "current_limit": "u", "allow_resize": "", "reset": "", "alloc": "uuuunb",
    "phys_alloc_range": "uuuu", "phys_alloc_try_nid": "uun",
    "alloc_try_nid": "uuuun", "alloc_try_nid_raw": "uuuun",
    "alloc_exact_nid_raw": "uuuun", "trim": "u", "enforce_limit": "u",
    "cap_range": "uu", "mem_limit_remove_map": "u", "is_memory": "u",
    "is_reserved": "u", "is_map_memory": "u", "is_region_memory": "uu",
    "is_region_reserved": "uu", "phys_mem_size": "", "reserved_size": "",
    "start_of_dram": "", "end_of_dram": "", "dump": "",
}
_ARITY = {"add": (2, 3, 4), "set_node": (3, 4), "alloc": (5, 6)}
assert set(_ARGS) == set(_OPS)


def _col(raw: str, i: int) -> int:
    body = raw.split("#", 1)[0]
    ms = list(_TOKEN_RE.finditer(body))
    return ms[i].start() + 1 if i < len(ms) else 1


def _lines(text: str) -> Iterator[tuple[int, str, list[str]]]:
    findall = _TOKEN_RE.findall
    for lineno, raw in enumerate(text.split("\n"), 1):
        body = raw.split("#", 1)[0] if "#" in raw else raw
        if (body.isascii() and "\x1c" not in body and "\x1d" not in body
                and "\x1e" not in body and "\x1f" not in body):
            toks = body.split()          # the C driver's separators
        else:
            toks = findall(body)
        if not toks:
            continue
        if len(toks) > _MAXTOK:
            raise ScriptError(lineno, _col(raw, _MAXTOK), "too many arguments")
        yield lineno, raw, toks


def parse_script(text: str) -> list[tuple[int, list[str]]]:
    """Check an op-script without running it: (line number, tokens) per op.

    Raises ScriptError for unknown operations, wrong arity and bad arguments,
    at the same line and column as running it would.
    """
    ops = []
    for lineno, raw, t in _lines(text):
        kinds = _ARGS.get(t[0])
        try:
            if kinds is None:
                raise _ArgError(0, f"unknown operation '{t[0]}'")
            _arity(t, *_ARITY.get(t[0], (len(kinds),)))
            for i in range(1, len(t)):
                k = kinds[i - 1]
                if k == "u":
                    _u64(t, i)
                elif k == "n":
                    _nid(t, i, HARNESS.max_numnodes)
                elif k == "f":
                    _flags(t, i)
                elif k == "b":
                    _bool(t, i)
                else:
                    _type(t, i)
        except _ArgError as e:
            raise ScriptError(lineno, _col(raw, e.index), e.message) from None
        ops.append((lineno, t))
    return ops


def run_script(text: str, *, config: MemblockConfig = HARNESS,
               memblock: Memblock | None = None, echo: bool = False) -> str:
    """Run an op-script and return its output (one line per op, plus dumps).

    The default configuration is the kernel test harness's (MAX_NUMNODES 16,
    SMP_CACHE_BYTES 32), i.e. the one the C oracle is built with.  Raises
    ScriptError (with 1-based line and column) for a malformed script; the
    script is executed as it is read, so ``memblock`` (if given) keeps the
    effect of the lines before the error.  A state the kernel would BUG_ON()
    on raises MemblockBug.
    """
    mb = memblock if memblock is not None else Memblock(config)
    out: list[str] = []
    append = out.append
    ops = _OPS
    findall = _TOKEN_RE.findall
    lineno = 0
    for raw in text.split("\n"):
        lineno += 1
        body = raw.split("#", 1)[0] if "#" in raw else raw
        if (body.isascii() and "\x1c" not in body and "\x1d" not in body
                and "\x1e" not in body and "\x1f" not in body):
            t = body.split()             # the C driver's separators
        else:
            t = findall(body)
        if not t:
            continue
        try:
            if len(t) > _MAXTOK:
                raise _ArgError(_MAXTOK, "too many arguments")
            fn = ops.get(t[0])
            if fn is None:
                raise _ArgError(0, f"unknown operation '{t[0]}'")
            if echo:
                append("> " + " ".join(t))
            append(fn(mb, t))
        except _ArgError as e:
            raise ScriptError(lineno, _col(raw, e.index), e.message) from None
    if not out:
        return ""
    return "\n".join(out) + "\n"
