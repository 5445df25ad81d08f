"""Linux 6.12's own memblock test suite, ported to fwc's model of 6.12 (``Memblock612``).

6.12's tools/testing/memblock/tests keep every check of 6.1's (ported in
tests/test_memblock_kernel_suite.py) with three harness changes: ``MEM_SIZE`` is 32 KiB
(``PHYS_MEM_SIZE``, the malloc()ed buffer, 16 MiB), an empty array's ``cnt`` is 0, and the
``memblock_alloc_try_nid*`` range checks also run through ``memblock_alloc_exact_nid_raw()``
(``TEST_F_RAW | TEST_F_EXACT``).  Those shared checks run again here, from the 6.1 module,
with its ``MODEL``, ``MEM_SIZE`` and ``EMPTY_CNT`` set for 6.12 (the kernel compiles its one
source the same way against either header).  What 6.12 added is ported below under the
kernel's names: basic_api.c's memblock_add_many_check, memblock_reserve_many_check,
memblock_reserve_all_locations_check, memblock_reserve_many_may_conflict_check and
memblock_overlaps_region_check; alloc_nid_api.c's alloc_node_on_correct_nid; and
alloc_exact_nid_api.c's NUMA checks (memblock_alloc_exact_nid_raw() never falls back to
another node).  The dummy memory of the resize checks sits at ``DUMMY_BASE``, above every
address they reserve, as the harness's heap buffer does.
"""

from __future__ import annotations

import pytest

import test_memblock_kernel_suite as suite
from fwc_plugins.boot.kernel612.memblock import Memblock612
from fwc_plugins.boot.memblock import NUMA_NO_NODE, REGION_STRUCT_SIZE
from test_memblock_kernel_suite import (  # noqa: F401 - the shared checks, collected here for 6.12
    NID_RANGE, SMP, SZ_1G, SZ_1M, SZ_2, SZ_2G, SZ_2M, SZ_4M, SZ_8M, SZ_16K, SZ_64, SZ_128, SZ_128K,
    SZ_256, SZ_256M, SZ_512, END, START, _nid, node, rgn, setup_memblock, setup_numa_memblock, test_alloc_api, test_alloc_helpers_api, test_alloc_nid_numa, test_alloc_nid_range,
    test_basic_api,
)

SZ_4, SZ_32K = 4, 32 << 10
INIT_MEMBLOCK_REGIONS = 128
DUMMY_BASE = SZ_256M          # dummy_physical_memory_base(): PAGE_ALIGN()ed already
NEW_ARRAY = (INIT_MEMBLOCK_REGIONS * 2 * REGION_STRUCT_SIZE + 4095) & ~4095   # PAGE_ALIGN()


@pytest.fixture(autouse=True)
def kernel612(monkeypatch):
    """6.12's harness: the model, common.h's MEM_SIZE, no dummy entry."""
    monkeypatch.setattr(suite, "MODEL", Memblock612)
    monkeypatch.setattr(suite, "MEM_SIZE", SZ_32K)
    monkeypatch.setattr(suite, "EMPTY_CNT", 0)


def new() -> Memblock612:
    return suite.new()


def test_the_harness_is_612s():
    m = new()
    assert type(m) is Memblock612 and suite.MEM_SIZE == SZ_32K
    assert (m.memory.cnt, m.reserved.cnt) == (0, 0)


# ---------------------------------------------------------------------------
# basic_api.c: what 6.12 added
def memblock_add_many_check():
    m = new()
    m.allow_resize()
    base = DUMMY_BASE
    m.add(base, NEW_ARRAY)
    base += NEW_ARRAY + SZ_64
    for i in range(INIT_MEMBLOCK_REGIONS):
        m.add(base, SZ_64)
        base += SZ_64 + SZ_64
        assert m.memory.cnt == i + 2 and m.memory.total_size == NEW_ARRAY + (i + 1) * SZ_64
    assert m.memory.max == INIT_MEMBLOCK_REGIONS * 2
    assert m.reserved.cnt == 1 and m.reserved.total_size == NEW_ARRAY
    m.add(SZ_16K, SZ_16K)
    assert rgn(m.memory) == (SZ_16K, SZ_16K)
    assert m.memory.cnt == INIT_MEMBLOCK_REGIONS + 2
    assert m.memory.total_size == INIT_MEMBLOCK_REGIONS * SZ_64 + NEW_ARRAY + SZ_16K
    assert m.memory.max == INIT_MEMBLOCK_REGIONS * 2


def _reserve_last_and_low(m, base, before):
    """The reserve that doubles the array (``before`` regions of MEM_SIZE first), then r."""
    m.reserve(base, SZ_32K)
    assert m.reserved.cnt == INIT_MEMBLOCK_REGIONS + 2
    assert m.reserved.total_size == (before + 1) * SZ_32K + NEW_ARRAY
    assert m.reserved.max == INIT_MEMBLOCK_REGIONS * 2
    m.reserve(SZ_16K, SZ_16K)
    assert rgn(m.reserved) == (SZ_16K, SZ_16K)
    assert m.reserved.cnt == INIT_MEMBLOCK_REGIONS + 3
    assert m.reserved.total_size == (before + 1) * SZ_32K + NEW_ARRAY + SZ_16K
    assert m.reserved.max == INIT_MEMBLOCK_REGIONS * 2


def memblock_reserve_many_check():
    m = new()
    m.allow_resize()
    m.add(DUMMY_BASE, SZ_32K)
    base = SZ_128K
    for i in range(INIT_MEMBLOCK_REGIONS):
        m.reserve(base, SZ_32K)
        assert m.reserved.cnt == i + 1 and m.reserved.total_size == (i + 1) * SZ_32K
        base += SZ_32K * 2
    _reserve_last_and_low(m, base, INIT_MEMBLOCK_REGIONS)


def memory_base(idx, offset=SZ_128K):
    """MEMORY_BASE(idx) / MEMORY_BASE_OFFSET(idx, offset)."""
    return offset + SZ_32K * 2 * idx


def memblock_reserve_all_locations_check():
    for skip in range(INIT_MEMBLOCK_REGIONS + 1):
        m = new()
        m.allow_resize()
        m.add(DUMMY_BASE, SZ_32K)
        for i in range(INIT_MEMBLOCK_REGIONS + 1):
            if i == skip:
                continue
            m.reserve(memory_base(i), SZ_32K)
            n = i + 1 if i < skip else i
            assert m.reserved.cnt == n and m.reserved.total_size == n * SZ_32K
        _reserve_last_and_low(m, memory_base(skip), INIT_MEMBLOCK_REGIONS)


def memblock_reserve_many_may_conflict_check():
    """The new array must not land on the range being reserved (memory at 0 and at skip)."""
    offset = DUMMY_BASE
    for skip in range(1, INIT_MEMBLOCK_REGIONS + 2):
        m = new()
        m.allow_resize()
        m.add(memory_base(0, offset), SZ_32K)
        m.add(memory_base(skip, offset), SZ_32K)
        for i in range(1, INIT_MEMBLOCK_REGIONS + 2):
            if i == skip:
                continue
            m.reserve(memory_base(i, offset), SZ_32K)
            n = i if i < skip else i - 1
            assert m.reserved.cnt == n and m.reserved.total_size == n * SZ_32K
        m.reserve(memory_base(skip, offset), SZ_32K)
        assert m.reserved.cnt == INIT_MEMBLOCK_REGIONS + 2
        assert m.reserved.max == INIT_MEMBLOCK_REGIONS * 2
        r0 = m.reserved.regions()[0]
        assert (r0.base + r0.size, r0.size) == (memory_base(0, offset) + SZ_32K, NEW_ARRAY)
        m.reserve(SZ_16K, SZ_16K)
        assert rgn(m.reserved) == (SZ_16K, SZ_16K)
        assert m.reserved.cnt == INIT_MEMBLOCK_REGIONS + 3
        assert m.reserved.total_size == (INIT_MEMBLOCK_REGIONS + 1) * SZ_32K + NEW_ARRAY + SZ_16K


def memblock_overlaps_region_check():
    m = new()
    m.add(SZ_1G, SZ_4M)
    t = m.memory
    assert not m.overlaps_region(t, SZ_1M, SZ_1M)
    assert not m.overlaps_region(t, SZ_2G, SZ_1M)
    assert not m.overlaps_region(t, SZ_1G - SZ_1M, SZ_1M)
    assert not m.overlaps_region(t, SZ_1G + SZ_4M, SZ_1M)
    assert m.overlaps_region(t, SZ_1G - SZ_1M, SZ_2M)
    assert m.overlaps_region(t, SZ_1G + SZ_2M, SZ_2M)
    assert m.overlaps_region(t, SZ_1G, SZ_4M)
    assert m.overlaps_region(t, SZ_1G - SZ_2M, SZ_8M)
    assert m.overlaps_region(t, SZ_1G + SZ_1M, SZ_1M)


BASIC612 = {f.__name__: f for f in [
    memblock_add_many_check, memblock_reserve_many_check, memblock_reserve_all_locations_check,
    memblock_reserve_many_may_conflict_check, memblock_overlaps_region_check]}


@pytest.mark.parametrize("name", sorted(BASIC612))
def test_basic_api_612(name):
    BASIC612[name]()


# ---------------------------------------------------------------------------
# alloc_nid_api.c: the range checks through memblock_alloc_exact_nid_raw(), and the new check
@pytest.mark.parametrize("check,bottom_up", NID_RANGE,
                         ids=[f"{f.__name__}-{'bu' if b else 'td'}" for f, b in NID_RANGE])
def test_alloc_exact_nid_range(check, bottom_up):
    m = setup_memblock(new())
    m.set_bottom_up(bottom_up)
    check(m, "exact")


@pytest.mark.parametrize("bottom_up", [False, True], ids=["td", "bu"])
def test_alloc_node_on_correct_nid(bottom_up):
    m = setup_numa_memblock(new())
    m.set_bottom_up(bottom_up)
    addr = m.alloc_node(SZ_512, SMP, 2)
    assert addr
    b, _, e = node(m, 2)
    assert b <= addr < e and m.memory.regions()[2].nid == 2


# ---------------------------------------------------------------------------
# alloc_exact_nid_api.c: NUMA checks (no fallback to another node)
def _exact(m, size, lo, hi, nid):
    return _nid(m, "exact", size, SMP, lo, hi, nid)


def _reserved_is(m, i, base, size, cnt, total):
    r = m.reserved.regions()[i]
    assert (r.base, r.size) == (base, size)
    assert m.reserved.cnt == cnt and m.reserved.total_size == total


def exact_top_down_simple(m):
    b, s, e = node(m, 3)
    size = s // SZ_4
    assert _exact(m, size, START(m), END(m), 3)
    _reserved_is(m, 0, e - size, size, 1, size)


def exact_top_down_part_reserved(m):
    b, s, e = node(m, 4)
    r1 = (b, s // SZ_2)
    size = r1[1] // SZ_4
    m.reserve(*r1)
    assert _exact(m, size, START(m), END(m), 4)
    _reserved_is(m, 1, e - size, size, 2, size + r1[1])


def exact_top_down_split_range_low(m):
    _, _, e = node(m, 2)
    lo = e - SZ_256
    assert _exact(m, SZ_512, lo, lo + SZ_512, 2)
    _reserved_is(m, 0, e - SZ_512, SZ_512, 1, SZ_512)


def exact_top_down_no_overlap_split(m):
    lo = node(m, 6)[0] - SZ_256
    assert _exact(m, SZ_512, lo, lo + SZ_512, 2)
    _reserved_is(m, 0, node(m, 2)[2] - SZ_512, SZ_512, 1, SZ_512)


def exact_top_down_no_overlap_low(m):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert _exact(m, SZ_64, lo, hi, 0)
    _reserved_is(m, 0, node(m, 0)[2] - SZ_64, SZ_64, 1, SZ_64)


def exact_bottom_up_simple(m):
    b, s, _ = node(m, 3)
    size = s // SZ_4
    assert _exact(m, size, START(m), END(m), 3)
    _reserved_is(m, 0, b, size, 1, size)


def exact_bottom_up_part_reserved(m):
    b, s, _ = node(m, 4)
    r1 = (b, s // SZ_2)
    size = r1[1] // SZ_4
    m.reserve(*r1)
    assert _exact(m, size, START(m), END(m), 4)
    _reserved_is(m, 0, b, size + r1[1], 1, size + r1[1])


def exact_bottom_up_split_range_low(m):
    b, _, e = node(m, 2)
    lo = e - SZ_256
    assert _exact(m, SZ_512, lo, lo + SZ_512, 2)
    _reserved_is(m, 0, b, SZ_512, 1, SZ_512)


def exact_bottom_up_no_overlap_split(m):
    lo = node(m, 6)[0] - SZ_256
    assert _exact(m, SZ_512, lo, lo + SZ_512, 2)
    _reserved_is(m, 0, node(m, 2)[0], SZ_512, 1, SZ_512)


def exact_bottom_up_no_overlap_low(m):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert _exact(m, SZ_64, lo, hi, 0)
    _reserved_is(m, 0, node(m, 0)[0], SZ_64, 1, SZ_64)


def exact_small_node(m):
    assert not _exact(m, SZ_2 * node(m, 1)[1], START(m), END(m), 1)


def exact_node_reserved(m):
    b, s, _ = node(m, 2)
    m.reserve(b, s)
    assert not _exact(m, s, START(m), END(m), 2)


def exact_part_reserved_fail(m):
    b, s, _ = node(m, 4)
    size = s // SZ_2
    m.reserve(b + size // SZ_2, size)
    assert not _exact(m, size, START(m), END(m), 4)


def exact_split_range_high(m):
    lo = node(m, 3)[0] - SZ_256
    assert not _exact(m, SZ_512, lo, lo + SZ_512, 3)


def exact_no_overlap_high(m):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert not _exact(m, SZ_64, lo, hi, 7)


def exact_large_region(m):
    assert not _exact(m, suite.MEM_SIZE // SZ_2, START(m), END(m), 3)


def exact_reserved_full_merge(m):
    b6, size, e6 = node(m, 6)
    r1 = (node(m, 7)[0], SZ_128)
    r2 = (r1[0] - (size + SZ_128), SZ_128)
    total = r1[1] + r2[1] + size
    m.reserve(*r1)
    m.reserve(*r2)
    assert _exact(m, size, r2[0] + r2[1], r1[0], 6)
    _reserved_is(m, 0, r2[0], total, 1, total)
    assert r2[0] <= b6 and e6 <= r2[0] + total


def exact_split_all_reserved(m):
    r2b = node(m, 7)[0] + SZ_128
    r2 = (r2b, END(m) - r2b)
    r1 = (START(m), suite.MEM_SIZE - (r2[1] + SZ_256))
    m.reserve(*r1)
    m.reserve(*r2)
    assert not _exact(m, SZ_256, r1[0] + r1[1], r2[0], NUMA_NO_NODE)


EXACT = ([(f, False) for f in (exact_top_down_simple, exact_top_down_part_reserved,
                               exact_top_down_split_range_low, exact_top_down_no_overlap_split,
                               exact_top_down_no_overlap_low)]
         + [(f, True) for f in (exact_bottom_up_simple, exact_bottom_up_part_reserved,
                                exact_bottom_up_split_range_low, exact_bottom_up_no_overlap_split,
                                exact_bottom_up_no_overlap_low)]
         + [(f, b) for f in (exact_small_node, exact_node_reserved, exact_part_reserved_fail,
                             exact_split_range_high, exact_no_overlap_high, exact_large_region,
                             exact_reserved_full_merge, exact_split_all_reserved) for b in (False, True)])


@pytest.mark.parametrize("movable", [False, True], ids=["", "movable"])
@pytest.mark.parametrize("check,bottom_up", EXACT,
                         ids=[f"{f.__name__}-{'bu' if b else 'td'}" for f, b in EXACT])
def test_alloc_exact_nid_numa(check, bottom_up, movable):
    """alloc_exact_nid_api.c's 13 NUMA checks, top-down and bottom-up, with and without -m."""
    m = new()
    m.movable_node = movable
    setup_numa_memblock(m)
    m.set_bottom_up(bottom_up)
    check(m)
