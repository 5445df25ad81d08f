"""The kernel's own memblock test suite, ported to fwc's model.

Linux 6.1 tools/testing/memblock/tests/{basic_api,alloc_api,
alloc_helpers_api,alloc_nid_api}.c were written by the kernel developers;
their expectations are an oracle independent of our C driver.  Each
``*_check`` below keeps the kernel's name and arithmetic.  The harness's
16 KiB "physical memory" (a malloc()ed buffer) is placed at 0x100000, and
the harness constants apply (SMP_CACHE_BYTES 32, MAX_NUMNODES 16).  Every
check also runs as an op-script through ``run_script`` in the top-level
tests at the end of the file.
"""

from __future__ import annotations

import pytest

from fwc_plugins.boot.memblock import (
    ACCESSIBLE, ANYWHERE, HARNESS, HOTPLUG, NUMA_NO_NODE, PHYS_ADDR_MAX,
    Memblock, MemblockBug,
)
from fwc_plugins.boot.memblock_script import ScriptError, parse_script, run_script

SZ_2, SZ_8, SZ_16, SZ_32, SZ_64, SZ_128, SZ_256, SZ_512 = 2, 8, 16, 32, 64, 128, 256, 512
SZ_1K, SZ_2K, SZ_4K, SZ_8K, SZ_16K = 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10
SZ_64K, SZ_128K, SZ_512K = 64 << 10, 128 << 10, 512 << 10
SZ_1M, SZ_2M, SZ_4M, SZ_8M, SZ_16M, SZ_32M, SZ_64M = (x << 20 for x in (1, 2, 4, 8, 16, 32, 64))
SZ_128M, SZ_256M, SZ_512M = 128 << 20, 256 << 20, 512 << 20
SZ_1G, SZ_2G = 1 << 30, 2 << 30
SMP = HARNESS.smp_cache_bytes
# What differs between the kernels' harnesses: tests/test_memblock612_kernel_suite.py sets these
# (6.12: Memblock612, MEM_SIZE SZ_32K, cnt 0) and runs the same checks again
MODEL: type[Memblock] = Memblock
MEM_SIZE = SZ_16K
EMPTY_CNT = 1                # cnt of an empty array (6.1 keeps a dummy entry)
DRAM = 0x100000              # where our "malloc()ed" 16 KiB buffer lives
NUMA_NODES = 8
NODE_FRACTIONS = [2500, 625, 1250, 1250, 625, 625, 2500, 625]


def new() -> Memblock:
    return MODEL(HARNESS)


def setup_memblock(m: Memblock) -> Memblock:
    m.memory = new().memory
    m.reserved = new().reserved
    m.add(DRAM, MEM_SIZE)
    return m


def setup_numa_memblock(m: Memblock) -> Memblock:
    """tests/common.c: 8 nodes; HOTPLUG unless movable_node is on."""
    m.memory = new().memory
    m.reserved = new().reserved
    flags = 0 if m.movable_node else HOTPLUG
    base = DRAM
    for i, frac in enumerate(NODE_FRACTIONS):
        size = MEM_SIZE * frac // 10000
        m.add_node(base, size, i, flags)
        base += size
    return m


def rgn(t, i=0):
    regs = t.regions()
    if not regs:
        return (0, 0)
    return regs[i].base, regs[i].size


def node(m, i):
    r = m.memory.regions()[i]
    return r.base, r.size, r.base + r.size


# ---------------------------------------------------------------------------
# basic_api.c
def memblock_initialization_check():
    m = new()
    assert m.memory.cnt == EMPTY_CNT and m.memory.max == 128 and m.memory.name == "memory"
    assert m.reserved.cnt == EMPTY_CNT and m.reserved.max == 128 and m.reserved.name == "reserved"
    assert m.bottom_up is False and m.current_limit == ANYWHERE


def memblock_add_simple_check():
    m = new()
    m.add(SZ_1G, SZ_4M)
    assert rgn(m.memory) == (SZ_1G, SZ_4M)
    assert m.memory.cnt == 1 and m.memory.total_size == SZ_4M


def memblock_add_node_simple_check():
    m = new()
    m.add_node(SZ_1M, SZ_16M, 1, HOTPLUG)
    r = m.memory.regions()[0]
    assert (r.base, r.size, r.nid, r.flags) == (SZ_1M, SZ_16M, 1, HOTPLUG)
    assert m.memory.cnt == 1 and m.memory.total_size == SZ_16M


def memblock_add_disjoint_check():
    m = new()
    m.add(SZ_1G, SZ_8K)
    m.add(SZ_1G + SZ_16K, SZ_8K)
    assert rgn(m.memory, 0) == (SZ_1G, SZ_8K)
    assert rgn(m.memory, 1) == (SZ_1G + SZ_16K, SZ_8K)
    assert m.memory.cnt == 2 and m.memory.total_size == 2 * SZ_8K


def memblock_add_overlap_top_check():
    m = new()
    r1, r2 = (SZ_512M, SZ_1G), (SZ_256M, SZ_512M)
    total = (r1[0] - r2[0]) + r1[1]
    m.add(*r1)
    m.add(*r2)
    assert rgn(m.memory) == (r2[0], total)
    assert m.memory.cnt == 1 and m.memory.total_size == total


def memblock_add_overlap_bottom_check():
    m = new()
    r1, r2 = (SZ_128M, SZ_512M), (SZ_256M, SZ_1G)
    total = (r2[0] - r1[0]) + r2[1]
    m.add(*r1)
    m.add(*r2)
    assert rgn(m.memory) == (r1[0], total)
    assert m.memory.cnt == 1 and m.memory.total_size == total


def memblock_add_within_check():
    m = new()
    m.add(SZ_8M, SZ_32M)
    m.add(SZ_16M, SZ_1M)
    assert rgn(m.memory) == (SZ_8M, SZ_32M)
    assert m.memory.cnt == 1 and m.memory.total_size == SZ_32M


def memblock_add_twice_check():
    m = new()
    m.add(SZ_16K, SZ_2M)
    m.add(SZ_16K, SZ_2M)
    assert m.memory.cnt == 1 and m.memory.total_size == SZ_2M


def memblock_add_between_check():
    m = new()
    m.add(SZ_1G, SZ_8K)
    m.add(SZ_1G + SZ_16K, SZ_8K)
    m.add(SZ_1G + SZ_8K, SZ_8K)
    assert rgn(m.memory) == (SZ_1G, 3 * SZ_8K)
    assert m.memory.cnt == 1 and m.memory.total_size == 3 * SZ_8K


def memblock_add_near_max_check():
    m = new()
    base = PHYS_ADDR_MAX - SZ_1M
    m.add(base, SZ_2M)
    assert rgn(m.memory) == (base, PHYS_ADDR_MAX - base)
    assert m.memory.cnt == 1 and m.memory.total_size == PHYS_ADDR_MAX - base


def memblock_reserve_simple_check():
    m = new()
    m.reserve(SZ_2G, SZ_128M)
    assert rgn(m.reserved) == (SZ_2G, SZ_128M)


def memblock_reserve_disjoint_check():
    m = new()
    m.reserve(SZ_256M, SZ_16M)
    m.reserve(SZ_512M, SZ_512M)
    assert rgn(m.reserved, 0) == (SZ_256M, SZ_16M)
    assert rgn(m.reserved, 1) == (SZ_512M, SZ_512M)
    assert m.reserved.cnt == 2 and m.reserved.total_size == SZ_16M + SZ_512M


def memblock_reserve_overlap_top_check():
    m = new()
    r1, r2 = (SZ_1G, SZ_1G), (SZ_128M, SZ_1G)
    total = (r1[0] - r2[0]) + r1[1]
    m.reserve(*r1)
    m.reserve(*r2)
    assert rgn(m.reserved) == (r2[0], total)
    assert m.reserved.cnt == 1 and m.reserved.total_size == total


def memblock_reserve_overlap_bottom_check():
    m = new()
    r1, r2 = (SZ_2K, SZ_128K), (SZ_128K, SZ_128K)
    total = (r2[0] - r1[0]) + r2[1]
    m.reserve(*r1)
    m.reserve(*r2)
    assert rgn(m.reserved) == (r1[0], total)
    assert m.reserved.cnt == 1 and m.reserved.total_size == total


def memblock_reserve_within_check():
    m = new()
    m.reserve(SZ_1M, SZ_8M)
    m.reserve(SZ_2M, SZ_64K)
    assert rgn(m.reserved) == (SZ_1M, SZ_8M)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_8M


def memblock_reserve_twice_check():
    m = new()
    m.reserve(SZ_16K, SZ_2M)
    m.reserve(SZ_16K, SZ_2M)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_2M


def memblock_reserve_between_check():
    m = new()
    m.reserve(SZ_1G, SZ_8K)
    m.reserve(SZ_1G + SZ_16K, SZ_8K)
    m.reserve(SZ_1G + SZ_8K, SZ_8K)
    assert rgn(m.reserved) == (SZ_1G, 3 * SZ_8K)
    assert m.reserved.cnt == 1 and m.reserved.total_size == 3 * SZ_8K


def memblock_reserve_near_max_check():
    m = new()
    base = PHYS_ADDR_MAX - SZ_1M
    m.reserve(base, SZ_2M)
    assert rgn(m.reserved) == (base, PHYS_ADDR_MAX - base)
    assert m.reserved.cnt == 1 and m.reserved.total_size == PHYS_ADDR_MAX - base


def _remove_free_checks(kind):
    """remove_* (memory) and free_* (reserved) checks share their layouts."""
    def add(m, b, s):
        return m.add(b, s) if kind == "remove" else m.reserve(b, s)

    def drop(m, b, s):
        return m.remove(b, s) if kind == "remove" else m.phys_free(b, s)

    def t(m):
        return m.memory if kind == "remove" else m.reserved

    checks = {}

    def simple():
        m = new()
        if kind == "remove":
            r1, r2 = (SZ_2K, SZ_4K), (SZ_128K, SZ_4M)
        else:
            r1, r2 = (SZ_4M, SZ_1M), (SZ_8M, SZ_1M)
        add(m, *r1)
        add(m, *r2)
        drop(m, *r1)
        assert rgn(t(m)) == r2 and t(m).cnt == 1 and t(m).total_size == r2[1]

    def absent():
        m = new()
        if kind == "remove":
            r1, r2 = (SZ_512K, SZ_4M), (SZ_64M, SZ_1G)
        else:
            r1, r2 = (SZ_2M, SZ_8K), (SZ_16M, SZ_128M)
        add(m, *r1)
        drop(m, *r2)
        assert rgn(t(m)) == r1 and t(m).cnt == 1 and t(m).total_size == r1[1]

    def overlap_top():
        m = new()
        if kind == "remove":
            r1, r2 = (SZ_32M, SZ_32M), (SZ_16M, SZ_32M)
            total = (r1[0] + r1[1]) - (r2[0] + r2[1])
            want = (r1[0] + r2[0], total)
        else:
            r1, r2 = (SZ_8M, SZ_32M), (SZ_1M, SZ_8M)
            total = (r1[1] + r1[0]) - (r2[0] + r2[1])
            want = (r2[0] + r2[1], total)
        add(m, *r1)
        drop(m, *r2)
        assert rgn(t(m)) == want and t(m).cnt == 1 and t(m).total_size == total

    def overlap_bottom():
        m = new()
        if kind == "remove":
            r1, r2 = (SZ_2M, SZ_64M), (SZ_32M, SZ_256M)
        else:
            r1, r2 = (SZ_8M, SZ_32M), (SZ_32M, SZ_32M)
        total = r2[0] - r1[0]
        add(m, *r1)
        drop(m, *r2)
        assert rgn(t(m)) == (r1[0], total) and t(m).cnt == 1 and t(m).total_size == total

    def within():
        m = new()
        if kind == "remove":
            r1, r2 = (SZ_1M, SZ_32M), (SZ_16M, SZ_1M)
        else:
            r1, r2 = (SZ_1M, SZ_8M), (SZ_4M, SZ_1M)
        s1 = r2[0] - r1[0]
        s2 = (r1[0] + r1[1]) - (r2[0] + r2[1])
        add(m, *r1)
        drop(m, *r2)
        assert rgn(t(m), 0) == (r1[0], s1)
        assert rgn(t(m), 1) == (r2[0] + r2[1], s2)
        assert t(m).cnt == 2 and t(m).total_size == s1 + s2

    def only_region():
        m = new()
        add(m, SZ_2K, SZ_4K)
        drop(m, SZ_2K, SZ_4K)
        assert rgn(t(m)) == (0, 0) and t(m).cnt == EMPTY_CNT and t(m).total_size == 0

    def near_max():
        m = new()
        r1, r2 = (PHYS_ADDR_MAX - SZ_2M, SZ_2M), (PHYS_ADDR_MAX - SZ_1M, SZ_2M)
        total = r1[1] - (PHYS_ADDR_MAX - r2[0])
        add(m, *r1)
        drop(m, *r2)
        assert rgn(t(m)) == (r1[0], total) and t(m).cnt == 1 and t(m).total_size == total

    def overlap_two():
        m = new()
        r1, r2, r3 = (SZ_16M, SZ_32M), (SZ_64M, SZ_64M), (SZ_32M, SZ_64M)
        r3_end = r3[0] + r3[1]
        n1 = r3[0] - r1[0]
        n2 = (r2[0] + r2[1]) - r3_end
        add(m, *r1)
        add(m, *r2)
        drop(m, *r3)
        assert rgn(t(m), 0) == (r1[0], n1)
        assert rgn(t(m), 1) == (r3_end, n2)
        assert t(m).cnt == 2 and t(m).total_size == n1 + n2

    for f in (simple, absent, overlap_top, overlap_bottom, within, only_region,
              near_max, overlap_two):
        checks[f"memblock_{kind}_{f.__name__}_check"] = f
    return checks


def memblock_set_bottom_up_check():
    m = new()
    m.set_bottom_up(False)
    assert m.bottom_up is False
    m.set_bottom_up(True)
    assert m.bottom_up is True


def memblock_trim_memory_aligned_check():
    m = new()
    m.add(SMP, SMP * 4)
    m.trim_memory(SMP)
    assert rgn(m.memory) == (SMP, SMP * 4) and m.memory.cnt == 1


def memblock_trim_memory_too_small_check():
    m = new()
    m.add(SMP, SMP * 2)
    m.add(SMP * 4, SMP - SZ_2)
    m.trim_memory(SMP)
    assert rgn(m.memory) == (SMP, SMP * 2) and m.memory.cnt == 1


def memblock_trim_memory_unaligned_base_check():
    m = new()
    off = SZ_2
    r2 = (SMP * 4 + off, SMP * 2 - off)
    m.add(SMP, SMP * 2)
    m.add(*r2)
    m.trim_memory(SMP)
    assert rgn(m.memory, 0) == (SMP, SMP * 2)
    assert rgn(m.memory, 1) == (r2[0] + (SMP - off), r2[1] - (SMP - off))
    assert m.memory.cnt == 2


def memblock_trim_memory_unaligned_end_check():
    m = new()
    off = SZ_2
    r2 = (SMP * 4, SMP * 2 - off)
    m.add(SMP, SMP * 2)
    m.add(*r2)
    m.trim_memory(SMP)
    assert rgn(m.memory, 0) == (SMP, SMP * 2)
    assert rgn(m.memory, 1) == (r2[0], r2[1] - (SMP - off))
    assert m.memory.cnt == 2


BASIC = {f.__name__: f for f in [
    memblock_initialization_check, memblock_add_simple_check,
    memblock_add_node_simple_check, memblock_add_disjoint_check,
    memblock_add_overlap_top_check, memblock_add_overlap_bottom_check,
    memblock_add_within_check, memblock_add_twice_check, memblock_add_between_check,
    memblock_add_near_max_check, memblock_reserve_simple_check,
    memblock_reserve_disjoint_check, memblock_reserve_overlap_top_check,
    memblock_reserve_overlap_bottom_check, memblock_reserve_within_check,
    memblock_reserve_twice_check, memblock_reserve_between_check,
    memblock_reserve_near_max_check, memblock_set_bottom_up_check,
    memblock_trim_memory_aligned_check, memblock_trim_memory_too_small_check,
    memblock_trim_memory_unaligned_base_check, memblock_trim_memory_unaligned_end_check,
]}
BASIC.update(_remove_free_checks("remove"))
BASIC.update(_remove_free_checks("free"))


@pytest.mark.parametrize("name", sorted(BASIC))
def test_basic_api(name):
    BASIC[name]()


# ---------------------------------------------------------------------------
# alloc_api.c (memblock_alloc / memblock_alloc_raw), top-down and bottom-up
def _alloc(m, raw, size, align):
    return (m.alloc_raw if raw else m.alloc)(size, align)


def END(m):
    return m.end_of_dram()


def START(m):
    return m.start_of_dram()


def alloc_top_down_simple_check(m, raw):
    expected = END(m) - SMP
    assert _alloc(m, raw, SZ_2, SMP)
    assert rgn(m.reserved) == (expected, SZ_2)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_2


def alloc_top_down_disjoint_check(m, raw):
    r1 = (END(m) - SZ_2, SZ_2)
    align = SMP * 2
    m.reserve(*r1)
    assert _alloc(m, raw, SZ_16, align)
    assert rgn(m.reserved, 1) == r1
    assert rgn(m.reserved, 0) == (END(m) - align, SZ_16)
    assert m.reserved.cnt == 2 and m.reserved.total_size == SZ_2 + SZ_16


def alloc_top_down_before_check(m, raw):
    total = SMP + SZ_512
    m.reserve(END(m) - total, SMP)
    assert _alloc(m, raw, SZ_512, SMP)
    assert rgn(m.reserved) == (END(m) - total, total)
    assert m.reserved.cnt == 1 and m.reserved.total_size == total


def alloc_top_down_after_check(m, raw):
    r1 = (END(m) - SMP, SZ_8)
    m.reserve(*r1)
    assert _alloc(m, raw, SZ_512, SMP)
    assert rgn(m.reserved) == (r1[0] - SZ_512, SZ_8 + SZ_512)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_8 + SZ_512


def alloc_top_down_second_fit_check(m, raw):
    r1 = (END(m) - SZ_512, SZ_512)
    r2 = (r1[0] - SZ_512, SZ_256)
    m.reserve(*r1)
    m.reserve(*r2)
    assert _alloc(m, raw, SZ_1K, SMP)
    assert rgn(m.reserved, 0) == (r2[0] - SZ_1K, r2[1] + SZ_1K)
    assert m.reserved.cnt == 2 and m.reserved.total_size == SZ_512 + SZ_256 + SZ_1K


def alloc_in_between_generic_check(m, raw):
    gap, r3 = SMP, SZ_64
    size = (MEM_SIZE - (2 * gap + r3)) // 2
    r1 = (END(m) - (gap + size), size)
    r2 = (START(m) + gap, size)
    total = 2 * size + r3
    m.reserve(*r1)
    m.reserve(*r2)
    assert _alloc(m, raw, r3, SMP)
    assert rgn(m.reserved) == (r1[0] - r2[1] - r3, total)
    assert m.reserved.cnt == 1 and m.reserved.total_size == total


def alloc_small_gaps_generic_check(m, raw):
    end = START(m)
    while end < END(m):
        m.reserve(end + SZ_256, SZ_1K)
        end += SZ_256 + SZ_1K
    assert not _alloc(m, raw, SZ_1K, SMP)


def alloc_all_reserved_generic_check(m, raw):
    m.reserve(START(m), MEM_SIZE)
    assert not _alloc(m, raw, SZ_256, SMP)


def alloc_no_space_generic_check(m, raw):
    m.reserve(START(m), MEM_SIZE - SZ_256)
    assert not _alloc(m, raw, SZ_1K, SMP)


def alloc_limited_space_generic_check(m, raw):
    m.reserve(START(m), MEM_SIZE - SZ_256)
    assert _alloc(m, raw, SZ_256, SMP)
    assert rgn(m.reserved) == (START(m), MEM_SIZE)
    assert m.reserved.cnt == 1 and m.reserved.total_size == MEM_SIZE


def alloc_no_memory_generic_check(m, raw):
    m.memory = new().memory
    assert not _alloc(m, raw, SZ_1K, SMP)
    assert rgn(m.reserved) == (0, 0) and m.reserved.total_size == 0


def alloc_too_large_generic_check(m, raw):
    assert not _alloc(m, raw, MEM_SIZE + SZ_2, SMP)
    assert rgn(m.reserved) == (0, 0) and m.reserved.total_size == 0


def alloc_bottom_up_simple_check(m, raw):
    assert _alloc(m, raw, SZ_2, SMP)
    assert rgn(m.reserved) == (START(m), SZ_2)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_2


def alloc_bottom_up_disjoint_check(m, raw):
    r1 = (START(m) + SZ_2, SZ_2)
    align = SMP * 2
    m.reserve(*r1)
    assert _alloc(m, raw, SZ_16, align)
    assert rgn(m.reserved, 0) == r1
    assert rgn(m.reserved, 1) == (START(m) + align, SZ_16)
    assert m.reserved.cnt == 2 and m.reserved.total_size == SZ_2 + SZ_16


def alloc_bottom_up_before_check(m, raw):
    m.reserve(START(m) + SZ_512, SZ_128)
    assert _alloc(m, raw, SZ_512, SMP)
    assert rgn(m.reserved) == (START(m), SZ_512 + SZ_128)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_512 + SZ_128


def alloc_bottom_up_after_check(m, raw):
    r1 = (START(m) + SMP, SZ_64)
    m.reserve(*r1)
    assert _alloc(m, raw, SZ_512, SMP)
    assert rgn(m.reserved) == (r1[0], SZ_64 + SZ_512)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_64 + SZ_512


def alloc_bottom_up_second_fit_check(m, raw):
    r1 = (START(m), SZ_512)
    r2 = (r1[0] + r1[1] + SZ_512, SZ_256)
    m.reserve(*r1)
    m.reserve(*r2)
    assert _alloc(m, raw, SZ_1K, SMP)
    assert rgn(m.reserved, 1) == (r2[0], r2[1] + SZ_1K)
    assert m.reserved.cnt == 2 and m.reserved.total_size == SZ_512 + SZ_256 + SZ_1K


ALLOC_TD = [alloc_top_down_simple_check, alloc_top_down_disjoint_check,
            alloc_top_down_before_check, alloc_top_down_after_check,
            alloc_top_down_second_fit_check]
ALLOC_BU = [alloc_bottom_up_simple_check, alloc_bottom_up_disjoint_check,
            alloc_bottom_up_before_check, alloc_bottom_up_after_check,
            alloc_bottom_up_second_fit_check]
ALLOC_GENERIC = [alloc_in_between_generic_check, alloc_small_gaps_generic_check,
                 alloc_all_reserved_generic_check, alloc_no_space_generic_check,
                 alloc_limited_space_generic_check, alloc_no_memory_generic_check,
                 alloc_too_large_generic_check]
ALLOC_CASES = ([(f, False) for f in ALLOC_TD] + [(f, True) for f in ALLOC_BU]
               + [(f, bu) for f in ALLOC_GENERIC for bu in (False, True)])


@pytest.mark.parametrize("raw", [False, True], ids=["alloc", "alloc_raw"])
@pytest.mark.parametrize("check,bottom_up", ALLOC_CASES,
                         ids=[f"{f.__name__}-{'bu' if b else 'td'}" for f, b in ALLOC_CASES])
def test_alloc_api(check, bottom_up, raw):
    m = setup_memblock(new())
    m.set_bottom_up(bottom_up)
    check(m, raw)


# ---------------------------------------------------------------------------
# alloc_helpers_api.c (memblock_alloc_from)
def alloc_from_simple_generic_check(m):
    min_addr = END(m) - SMP
    assert m.alloc_from(SZ_16, SMP, min_addr)
    assert rgn(m.reserved) == (min_addr, SZ_16)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_16


def alloc_from_misaligned_generic_check(m):
    min_addr = END(m) - (SMP * 2 - 1)
    assert m.alloc_from(SZ_32, SMP, min_addr)
    assert rgn(m.reserved) == (END(m) - SMP, SZ_32)
    assert m.reserved.cnt == 1 and m.reserved.total_size == SZ_32


def alloc_from_top_down_high_addr_check(m):
    assert m.alloc_from(SZ_32, SMP, END(m) - SZ_16)
    assert rgn(m.reserved) == (END(m) - SMP, SZ_32)


def alloc_from_top_down_no_space_above_check(m):
    min_addr = END(m) - SMP * 2
    m.reserve(min_addr, SZ_2)
    assert m.alloc_from(SZ_64, SMP, min_addr)
    assert rgn(m.reserved) == (min_addr - SZ_64, SZ_64 + SZ_2)
    assert m.reserved.cnt == 1


def alloc_from_top_down_min_addr_cap_check(m):
    start = START(m)
    m.reserve(start + SZ_64, MEM_SIZE - SZ_64)
    assert m.alloc_from(SZ_64, SMP, start - SMP * 3)
    assert rgn(m.reserved) == (start, MEM_SIZE) and m.reserved.cnt == 1


def alloc_from_bottom_up_high_addr_check(m):
    assert m.alloc_from(SZ_32, SMP, END(m) - SZ_8)
    assert rgn(m.reserved) == (START(m), SZ_32) and m.reserved.cnt == 1


def alloc_from_bottom_up_no_space_above_check(m):
    min_addr = START(m) + SZ_128
    r2 = END(m) - min_addr
    m.reserve(min_addr - SMP, r2)
    assert m.alloc_from(SZ_64, SMP, min_addr)
    assert rgn(m.reserved) == (START(m), SZ_64)
    assert m.reserved.cnt == 2 and m.reserved.total_size == SZ_64 + r2


def alloc_from_bottom_up_min_addr_cap_check(m):
    start = START(m)
    assert m.alloc_from(SZ_64, SMP, start - SMP * 3)
    assert rgn(m.reserved) == (start, SZ_64) and m.reserved.total_size == SZ_64


HELPERS = ([(f, b) for f in (alloc_from_simple_generic_check,
                             alloc_from_misaligned_generic_check) for b in (False, True)]
           + [(f, False) for f in (alloc_from_top_down_high_addr_check,
                                   alloc_from_top_down_no_space_above_check,
                                   alloc_from_top_down_min_addr_cap_check)]
           + [(f, True) for f in (alloc_from_bottom_up_high_addr_check,
                                  alloc_from_bottom_up_no_space_above_check,
                                  alloc_from_bottom_up_min_addr_cap_check)])


@pytest.mark.parametrize("check,bottom_up", HELPERS,
                         ids=[f"{f.__name__}-{'bu' if b else 'td'}" for f, b in HELPERS])
def test_alloc_helpers_api(check, bottom_up):
    m = setup_memblock(new())
    m.set_bottom_up(bottom_up)
    check(m)


# ---------------------------------------------------------------------------
# alloc_nid_api.c (memblock_alloc_try_nid / _raw): range tests
def _nid(m, raw, size, align, lo, hi, nid):
    """run_memblock_alloc_nid(): memblock_alloc_try_nid(), _raw(), or (6.12, ``raw`` "exact")
    memblock_alloc_exact_nid_raw()."""
    fn = m.alloc_exact_nid_raw if raw == "exact" else m.alloc_try_nid_raw if raw else m.alloc_try_nid
    return fn(size, align, lo, hi, nid)


def nid_top_down_simple(m, raw):
    lo = START(m) + SMP * 2
    hi = lo + SZ_512
    assert _nid(m, raw, SZ_128, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved) == (hi - SZ_128, SZ_128) and m.reserved.cnt == 1


def nid_top_down_end_misaligned(m, raw):
    lo = START(m) + SMP * 2
    hi = lo + SZ_512 + SZ_2
    assert _nid(m, raw, SZ_128, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved) == (hi - SZ_128 - SZ_2, SZ_128)


def nid_exact_address(m, raw):
    lo = START(m) + SMP
    assert _nid(m, raw, SZ_1K, SMP, lo, lo + SZ_1K, NUMA_NO_NODE)
    assert rgn(m.reserved) == (lo, SZ_1K) and m.reserved.total_size == SZ_1K


def nid_top_down_narrow_range(m, raw):
    lo = START(m) + SZ_512
    hi = lo + SMP
    assert _nid(m, raw, SZ_256, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved) == (hi - SZ_256, SZ_256)


def nid_low_max(m, raw):
    lo = START(m)
    assert not _nid(m, raw, SZ_1K, SMP, lo, lo + SMP, NUMA_NO_NODE)


def nid_min_reserved(m, raw):
    hi = END(m)
    lo = hi - SZ_64
    base = lo - SZ_128
    m.reserve(base, SZ_128)
    assert _nid(m, raw, SZ_64, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved) == (base, SZ_128 + SZ_64) and m.reserved.cnt == 1


def nid_max_reserved(m, raw):
    hi = END(m) - SZ_64
    lo = hi - SZ_128
    m.reserve(hi, SZ_64)
    assert _nid(m, raw, SZ_128, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved) == (lo, SZ_64 + SZ_128) and m.reserved.cnt == 1


def _two_reserved(m, r3_size, gap):
    r1 = (END(m) - SMP * 2, SMP)
    r2 = (r1[0] - (r3_size + gap + SZ_128), SZ_128)
    m.reserve(*r1)
    m.reserve(*r2)
    return r1, r2, r2[0] + r2[1], r1[0]


def nid_top_down_reserved_with_space(m, raw):
    r1, r2, lo, hi = _two_reserved(m, SZ_64, SMP)
    assert _nid(m, raw, SZ_64, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved, 1) == (hi - SZ_64, r1[1] + SZ_64)
    assert rgn(m.reserved, 0) == r2 and m.reserved.cnt == 2


def nid_bottom_up_reserved_with_space(m, raw):
    r1, r2, lo, hi = _two_reserved(m, SZ_64, SMP)
    assert _nid(m, raw, SZ_64, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved, 1) == (hi, r1[1])
    assert rgn(m.reserved, 0) == (r2[0], r2[1] + SZ_64) and m.reserved.cnt == 2


def nid_reserved_full_merge(m, raw):
    r1, r2, lo, hi = _two_reserved(m, SZ_64, 0)
    assert _nid(m, raw, SZ_64, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved) == (r2[0], SMP + SZ_128 + SZ_64) and m.reserved.cnt == 1


def _no_space(m):
    r1 = (END(m) - SMP * 2, SMP)
    r2 = (r1[0] - (SZ_128 + SMP), SZ_128)
    m.reserve(*r1)
    m.reserve(*r2)
    return r1, r2, r2[0] + r2[1], r1[0]


def nid_top_down_reserved_no_space(m, raw):
    r1, r2, lo, hi = _no_space(m)
    assert _nid(m, raw, SZ_256, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved, 1) == r1
    assert rgn(m.reserved, 0) == (r2[0] - SZ_256, r2[1] + SZ_256) and m.reserved.cnt == 2


def nid_bottom_up_reserved_no_space(m, raw):
    r1, r2, lo, hi = _no_space(m)
    assert _nid(m, raw, SZ_256, SMP, lo, hi, NUMA_NO_NODE)
    assert rgn(m.reserved, 0) == (START(m), SZ_256)
    assert rgn(m.reserved, 1) == r2 and rgn(m.reserved, 2) == r1
    assert m.reserved.cnt == 3


def nid_reserved_all(m, raw):
    r1 = (END(m) - SMP, SMP)
    r2 = (START(m), MEM_SIZE - (SMP + SMP))
    m.reserve(*r1)
    m.reserve(*r2)
    assert not _nid(m, raw, SZ_256, SMP, r2[0] + r2[1], r1[0], NUMA_NO_NODE)


def nid_top_down_cap_max(m, raw):
    assert _nid(m, raw, SZ_256, SMP, END(m) - SZ_1K, END(m) + SZ_256, NUMA_NO_NODE)
    assert rgn(m.reserved) == (END(m) - SZ_256, SZ_256)


def nid_top_down_cap_min(m, raw):
    assert _nid(m, raw, SZ_1K, SMP, START(m) - SZ_256, END(m), NUMA_NO_NODE)
    assert rgn(m.reserved) == (END(m) - SZ_1K, SZ_1K)


def nid_bottom_up_simple(m, raw):
    lo = START(m) + SMP * 2
    assert _nid(m, raw, SZ_128, SMP, lo, lo + SZ_512, NUMA_NO_NODE)
    assert rgn(m.reserved) == (lo, SZ_128)


def nid_bottom_up_start_misaligned(m, raw):
    lo = START(m) + SZ_2
    assert _nid(m, raw, SZ_128, SMP, lo, lo + SZ_512, NUMA_NO_NODE)
    assert rgn(m.reserved) == (lo + (SMP - SZ_2), SZ_128)


def nid_bottom_up_narrow_range(m, raw):
    lo = START(m) + SZ_512
    assert _nid(m, raw, SZ_256, SMP, lo, lo + SMP, NUMA_NO_NODE)
    assert rgn(m.reserved) == (START(m), SZ_256)


def nid_bottom_up_cap_max(m, raw):
    lo = START(m) + SZ_1K
    assert _nid(m, raw, SZ_256, SMP, lo, END(m) + SZ_256, NUMA_NO_NODE)
    assert rgn(m.reserved) == (lo, SZ_256)


def nid_bottom_up_cap_min(m, raw):
    assert _nid(m, raw, SZ_1K, SMP, START(m), END(m) - SZ_256, NUMA_NO_NODE)
    assert rgn(m.reserved) == (START(m), SZ_1K)


NID_RANGE = ([(f, False) for f in (nid_top_down_simple, nid_top_down_end_misaligned,
                                   nid_top_down_narrow_range, nid_top_down_reserved_with_space,
                                   nid_top_down_reserved_no_space, nid_top_down_cap_max,
                                   nid_top_down_cap_min)]
             + [(f, True) for f in (nid_bottom_up_simple, nid_bottom_up_start_misaligned,
                                    nid_bottom_up_narrow_range,
                                    nid_bottom_up_reserved_with_space,
                                    nid_bottom_up_reserved_no_space, nid_bottom_up_cap_max,
                                    nid_bottom_up_cap_min)]
             + [(f, b) for f in (nid_min_reserved, nid_max_reserved, nid_exact_address,
                                 nid_reserved_full_merge, nid_reserved_all, nid_low_max)
                for b in (False, True)])


@pytest.mark.parametrize("raw", [False, True], ids=["try_nid", "try_nid_raw"])
@pytest.mark.parametrize("check,bottom_up", NID_RANGE,
                         ids=[f"{f.__name__}-{'bu' if b else 'td'}" for f, b in NID_RANGE])
def test_alloc_nid_range(check, bottom_up, raw):
    m = setup_memblock(new())
    m.set_bottom_up(bottom_up)
    check(m, raw)


# ---------------------------------------------------------------------------
# alloc_nid_api.c: NUMA tests on the 8-node layout
def _new_region_is(m, base, size, cnt=1):
    regs = [(r.base, r.size) for r in m.reserved.regions()]
    assert (base, size) in regs, regs
    assert m.reserved.cnt == cnt


def numa_top_down_simple(m, raw):
    b, s, e = node(m, 3)
    size = s // 4
    assert _nid(m, raw, size, SMP, START(m), END(m), 3)
    _new_region_is(m, e - size, size)


def numa_top_down_small_node(m, raw):
    _, s, _ = node(m, 1)
    size = 2 * s
    assert _nid(m, raw, size, SMP, START(m), END(m), 1)
    _new_region_is(m, node(m, 6)[2] - size, size)


def numa_top_down_node_reserved(m, raw):
    b, s, _ = node(m, 2)
    m.reserve(b, s)
    assert _nid(m, raw, s, SMP, START(m), END(m), 2)
    _new_region_is(m, node(m, 6)[2] - s, s, cnt=2)
    assert m.reserved.total_size == 2 * s


def numa_top_down_part_reserved(m, raw):
    b, s, e = node(m, 4)
    r1 = (b, s // 2)
    size = r1[1] // 4
    m.reserve(*r1)
    assert _nid(m, raw, size, SMP, START(m), END(m), 4)
    _new_region_is(m, e - size, size, cnt=2)


def numa_top_down_part_reserved_fallback(m, raw):
    b, s, _ = node(m, 4)
    size = s // 2
    m.reserve(b + size // 2, size)
    assert _nid(m, raw, size, SMP, START(m), END(m), 4)
    _new_region_is(m, node(m, NUMA_NODES - 1)[2] - size, size, cnt=2)


def numa_top_down_split_range_low(m, raw):
    _, _, e = node(m, 2)
    lo = e - SZ_256
    assert _nid(m, raw, SZ_512, SMP, lo, lo + SZ_512, 2)
    _new_region_is(m, e - SZ_512, SZ_512)


def numa_top_down_split_range_high(m, raw):
    _, _, e = node(m, 2)
    lo = e - SZ_256
    assert _nid(m, raw, SZ_512, SMP, lo, lo + SZ_512, 3)
    _new_region_is(m, e - SZ_512, SZ_512)


def numa_top_down_no_overlap_split(m, raw):
    lo = node(m, 6)[0] - SZ_256
    assert _nid(m, raw, SZ_512, SMP, lo, lo + SZ_512, 2)
    _new_region_is(m, node(m, 2)[2] - SZ_512, SZ_512)


def numa_top_down_no_overlap_low(m, raw):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert _nid(m, raw, SZ_64, SMP, lo, hi, 0)
    _new_region_is(m, hi - SZ_64, SZ_64)


def numa_top_down_no_overlap_high(m, raw):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert _nid(m, raw, SZ_64, SMP, lo, hi, 7)
    _new_region_is(m, hi - SZ_64, SZ_64)


def numa_bottom_up_simple(m, raw):
    b, s, _ = node(m, 3)
    assert _nid(m, raw, s // 4, SMP, START(m), END(m), 3)
    _new_region_is(m, b, s // 4)


def numa_bottom_up_small_node(m, raw):
    size = 2 * node(m, 1)[1]
    assert _nid(m, raw, size, SMP, START(m), END(m), 1)
    _new_region_is(m, node(m, 0)[0], size)


def numa_bottom_up_node_reserved(m, raw):
    b, s, _ = node(m, 2)
    m.reserve(b, s)
    assert _nid(m, raw, s, SMP, START(m), END(m), 2)
    _new_region_is(m, node(m, 0)[0], s, cnt=2)


def numa_bottom_up_part_reserved(m, raw):
    b, s, _ = node(m, 4)
    r1 = (b, s // 2)
    size = r1[1] // 4
    m.reserve(*r1)
    assert _nid(m, raw, size, SMP, START(m), END(m), 4)
    _new_region_is(m, b, size + r1[1])


def numa_bottom_up_part_reserved_fallback(m, raw):
    b, s, _ = node(m, 4)
    size = s // 2
    m.reserve(b + size // 2, size)
    assert _nid(m, raw, size, SMP, START(m), END(m), 4)
    _new_region_is(m, node(m, 0)[0], size, cnt=2)


def numa_bottom_up_split_range_low(m, raw):
    b, _, e = node(m, 2)
    lo = e - SZ_256
    assert _nid(m, raw, SZ_512, SMP, lo, lo + SZ_512, 2)
    _new_region_is(m, b, SZ_512)


def numa_bottom_up_split_range_high(m, raw):
    lo = node(m, 3)[0] - SZ_256
    assert _nid(m, raw, SZ_512, SMP, lo, lo + SZ_512, 3)
    _new_region_is(m, node(m, 0)[0], SZ_512)


def numa_bottom_up_no_overlap_split(m, raw):
    lo = node(m, 6)[0] - SZ_256
    assert _nid(m, raw, SZ_512, SMP, lo, lo + SZ_512, 2)
    _new_region_is(m, node(m, 2)[0], SZ_512)


def numa_bottom_up_no_overlap_low(m, raw):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert _nid(m, raw, SZ_64, SMP, lo, hi, 0)
    _new_region_is(m, lo, SZ_64)


def numa_bottom_up_no_overlap_high(m, raw):
    lo, hi = node(m, 2)[0], node(m, 5)[2]
    assert _nid(m, raw, SZ_64, SMP, lo, hi, 7)
    _new_region_is(m, lo, SZ_64)


def numa_large_region(m, raw):
    assert not _nid(m, raw, MEM_SIZE // 2, SMP, START(m), END(m), 3)


def numa_reserved_full_merge(m, raw):
    b6, size, e6 = node(m, 6)
    r1 = (node(m, 7)[0], SZ_128)
    r2 = (r1[0] - (size + SZ_128), SZ_128)
    m.reserve(*r1)
    m.reserve(*r2)
    assert _nid(m, raw, size, SMP, r2[0] + SZ_128, r1[0], 6)
    _new_region_is(m, r2[0], 2 * SZ_128 + size)


def numa_split_all_reserved(m, raw):
    r2b = node(m, 7)[0] + SZ_128
    r2 = (r2b, END(m) - r2b)
    r1 = (START(m), MEM_SIZE - (r2[1] + SZ_256))
    m.reserve(*r1)
    m.reserve(*r2)
    assert not _nid(m, raw, SZ_256, SMP, r1[0] + r1[1], r2[0], NUMA_NO_NODE)


NUMA = ([(f, False) for f in (numa_top_down_simple, numa_top_down_small_node,
                              numa_top_down_node_reserved, numa_top_down_part_reserved,
                              numa_top_down_part_reserved_fallback,
                              numa_top_down_split_range_low, numa_top_down_split_range_high,
                              numa_top_down_no_overlap_split, numa_top_down_no_overlap_low,
                              numa_top_down_no_overlap_high)]
        + [(f, True) for f in (numa_bottom_up_simple, numa_bottom_up_small_node,
                               numa_bottom_up_node_reserved, numa_bottom_up_part_reserved,
                               numa_bottom_up_part_reserved_fallback,
                               numa_bottom_up_split_range_low, numa_bottom_up_split_range_high,
                               numa_bottom_up_no_overlap_split, numa_bottom_up_no_overlap_low,
                               numa_bottom_up_no_overlap_high)]
        + [(f, b) for f in (numa_large_region, numa_reserved_full_merge,
                            numa_split_all_reserved) for b in (False, True)])


@pytest.mark.parametrize("movable", [False, True], ids=["", "movable"])
@pytest.mark.parametrize("raw", [False, True], ids=["try_nid", "try_nid_raw"])
@pytest.mark.parametrize("check,bottom_up", NUMA,
                         ids=[f"{f.__name__}-{'bu' if b else 'td'}" for f, b in NUMA])
def test_alloc_nid_numa(check, bottom_up, raw, movable):
    """As the kernel runs them: with and without -m (movable_node)."""
    m = new()
    m.movable_node = movable
    setup_numa_memblock(m)
    m.set_bottom_up(bottom_up)
    check(m, raw)


def test_harness_demo_values_from_spec():
    """oracles.md §3.2: the ported values quoted there."""
    m = setup_memblock(new())
    assert m.alloc_try_nid_raw(0x200, 32, 0x100000, 0x104000, NUMA_NO_NODE) == 0x103e00
    m = setup_numa_memblock(new())
    assert m.alloc_try_nid_raw(0x200, 32, 0x100000, 0x104000, 3) == 0x102200
    m = setup_numa_memblock(new())
    m.set_bottom_up(True)
    assert m.alloc_try_nid_raw(0x200, 32, 0x100000, 0x104000, 3) == 0x101c00
    m = new()
    m.add(0xFFFFFFFFFFF00000, 0x200000)
    assert rgn(m.memory) == (0xFFFFFFFFFFF00000, 0xFFFFF)


# ---------------------------------------------------------------------------
# the op-script API: the same model behind run_script, and its errors
def test_script_runs_kernel_check_as_text():
    out = run_script("""\
add 0x100000 16K
reserve 0x103ffe 2
alloc_try_nid 16 64 0 accessible -1   # alloc_top_down_disjoint_check
dump
""")
    assert out.splitlines()[2] == "alloc_try_nid 0x103fc0"
    assert "reserved 0x103fc0 0x10 0x0 16" in out
    assert "reserved 0x103ffe 0x2 0x0 16" in out


@pytest.mark.parametrize("text,line,col", [
    ("add 0 1G\nfrobnicate 1\n", 2, 1),
    ("add 0 1x\n", 1, 7),
    ("\n\n  add 0\n", 3, 3),
    ("reserve 0x10 0x10 7\n", 1, 1),
    ("add 0 1G 99999999999\n", 1, 10),
    ("alloc 1 1 0 anywhere 0 2\n", 1, 24),
    ("set_node 0 1 0 neither\n", 1, 16),
    ("add 0 010\n", 1, 7),
    ("add 0x10000000000000000 1\n", 1, 5),
    ("add 0 0x1000000000000T\n", 1, 7),
    ("# only a comment\nbottom_up yes\n", 2, 11),
    ("add 0 1 0 0x100000000\n", 1, 11),
    ("dump 1\n", 1, 1),
    ("current_limit max\n", 1, 15),
    ("add 0 1 " + " ".join(["0"] * 20) + "\n", 1, 35),
])
def test_script_errors(text, line, col):
    with pytest.raises(ScriptError) as ei:
        run_script(text)
    assert (ei.value.line, ei.value.col) == (line, col), str(ei.value)
    with pytest.raises(ScriptError) as ei2:
        parse_script(text)
    assert (ei2.value.line, ei2.value.col) == (line, col)


def test_script_keywords_and_suffixes():
    out = run_script("add 1K 2M\nadd 4G 1T 3 0x1\ncurrent_limit accessible\n"
                     "phys_alloc_try_nid 4K 4K none\nalloc 4K 4K 0 noleaktrace max 1\n"
                     "set_node 4G 1G -1\ndump\n")
    lines = out.splitlines()
    assert lines[:3] == ["add 0", "add 0", "current_limit 0x0"]
    assert "memory 0x100000000 0x40000000 0x1 -1" in lines
    assert "memory 0x140000000 0xffc0000000 0x1 3" in lines


def test_trim_wrap_is_refused():
    m = new()
    m.add(PHYS_ADDR_MAX - 0x800, 0x400)
    with pytest.raises(MemblockBug):
        m.trim_memory(0x1000)


def test_accessible_end_uses_current_limit():
    m = setup_memblock(new())
    m.set_current_limit(DRAM + 0x2000)
    assert m.phys_alloc_range(0x100, 0x100, 0, ACCESSIBLE) == DRAM + 0x1F00
    # an explicit end is not capped by current_limit
    assert m.phys_alloc_range(0x100, 0x100, 0, END(m)) == END(m) - 0x100


def test_free_ranges_and_debug_log():
    lines = []
    m = Memblock(HARNESS, debug=lines.append)
    m.caller = "setup_arch"
    m.add_node(0, 0x200000, 0)
    m.add_node(0x200000, 0x200000, 1, HOTPLUG)
    m.reserve(0x100000, 0x1000)
    assert list(m.free_ranges()) == [(0, 0x100000, 0), (0x101000, 0x200000, 0),
                                     (0x200000, 0x400000, 1)]
    m.movable_node = True
    assert list(m.free_ranges(reverse=True)) == [(0x101000, 0x200000, 0), (0, 0x100000, 0)]
    assert lines[0] == ("memblock_add_node: [0x0000000000000000-0x00000000001fffff] "
                        "nid=0 flags=0 setup_arch")
    assert lines[2] == "memblock_reserve: [0x0000000000100000-0x0000000000100fff] setup_arch"
    dump = m.dump_all().splitlines()
    assert dump[:3] == ["MEMBLOCK configuration:",
                        " memory size = 0x0000000000400000 reserved size = 0x0000000000001000",
                        " memory.cnt  = 0x2"]
    assert dump[3] == (" memory[0x0]\t[0x0000000000000000-0x00000000001fffff], "
                       "0x0000000000200000 bytes on node 0 flags: 0x0")
    assert dump[-1] == (" reserved[0x0]\t[0x0000000000100000-0x0000000000100fff], "
                        "0x0000000000001000 bytes flags: 0x0")


def test_debian_config_constants():
    m = Memblock()               # Debian amd64: MAX_NUMNODES 1024, SMP_CACHE_BYTES 64
    m.add(0x100000, 0x100000)
    assert m.memory.regions()[0].nid == 1024
    assert m.phys_alloc_range(8, 0, 0, ACCESSIBLE) == 0x200000 - 64


# ---------------------------------------------------------------------------
# the op-script module itself (fwc_plugins.boot.memblock_script): one table
# (OPS) drives parsing, validation, running and the help text
from pathlib import Path  # noqa: E402

from fwc_plugins.boot import memblock_script as ms  # noqa: E402

_GOOD = {"u64": ("0x1000", 0x1000), "nid": ("3", 3), "flags": ("0x2", 2),
         "bool": ("1", True), "type": ("reserved", "reserved")}
_BAD = {"u64": ("0x", "bad number"), "nid": ("-0x80000001", "bad node id"),
        "flags": ("0x100000000", "bad flags"), "bool": ("2", "expected 0 or 1"),
        "type": ("both", "expected memory or reserved")}


def _full_lines(op):
    """The op with no optional argument, then with each further one."""
    n_req = sum(not a.optional for a in op.args)
    for n in range(n_req, len(op.args) + 1):
        yield op.args[:n]


def test_script_ops_are_the_drivers():
    """OPS names exactly the operations of the C driver's run_op()."""
    import re
    driver = Path(__file__).parent / "oracles" / "memblock" / "driver.c"
    body = driver.read_text().split("static void run_op(")[1].split("#define MAXTOK")[0]
    assert set(re.findall(r'tok_is\(op, "(\w+)"\)', body)) == set(ms.OPS)


@pytest.mark.parametrize("name", list(ms.OPS))
def test_script_each_op_parses_and_runs(name):
    op = ms.OPS[name]
    for args in _full_lines(op):
        text = " ".join([name] + [_GOOD[a.kind.name][0] for a in args])
        [st] = ms.parse_script(f"  {text}  # comment\n")
        assert (st.line, st.tokens, st.op) == (1, text.split(), op)
        assert st.args == [_GOOD[a.kind.name][1] for a in args]
        out = ms.run_script("add 0 1G\n" + text + "\n", echo=True).splitlines()
        assert out[2] == "> " + text
        if name == "dump":
            assert out[3].startswith("dump bottom_up=0") and out[-1] == "end"
        else:
            assert len(out) == 4 and out[3].split(" ", 1)[0] == name


@pytest.mark.parametrize("name", list(ms.OPS))
def test_script_each_op_arity_error(name):
    op = ms.OPS[name]
    toks = [name] + ["0"] * (len(op.args) + 1)
    with pytest.raises(ms.ScriptError) as ei:
        ms.parse_script("\n   " + " ".join(toks))
    e = ei.value
    assert (e.line, e.col) == (2, 4)
    assert e.message.startswith(f"wrong number of arguments ({len(op.args) + 1}, expected ")
    assert e.message.endswith(f" for '{name}'")


@pytest.mark.parametrize("name", list(ms.OPS))
def test_script_each_argument_error_has_its_position(name):
    op = ms.OPS[name]
    for i, bad_arg in enumerate(op.args):
        words = [name] + [_GOOD[a.kind.name][0] for a in op.args]
        bad, msg = _BAD[bad_arg.kind.name]
        words[i + 1] = bad
        line = "\t".join(words)
        col = len("\t".join(words[:i + 1])) + 2
        for f in (ms.parse_script, ms.run_script):
            with pytest.raises(ms.ScriptError) as ei:
                f("# x\n" + line + "\n")
            assert (ei.value.line, ei.value.col, ei.value.message) == (2, col, f"{msg} '{bad}'")
            assert str(ei.value) == f"line 2 col {col}: {msg} '{bad}'"


def test_script_first_bad_token_wins():
    """The driver reads arguments left to right: the first bad one is reported,
    even when the same text is valid at an earlier position of another kind."""
    with pytest.raises(ms.ScriptError) as ei:
        ms.parse_script("add 0x100000000 1 0x100000000 zz\n")
    assert (ei.value.col, ei.value.message) == (19, "bad node id '0x100000000'")


def test_script_tokenizer():
    text = "a\tb\rc\fd\ve # f g\n\n# only\nx\x1cy  z\n" + "t " * 17
    it = ms.tokenize(text)
    assert next(it) == (1, "a\tb\rc\fd\ve # f g", ["a", "b", "c", "d", "e"])
    assert next(it) == (4, "x\x1cy  z", ["x\x1cy", "z"])   # \x1c is no separator
    with pytest.raises(ms.ScriptError) as ei:
        next(it)
    assert (ei.value.line, ei.value.col, ei.value.message) == (5, 33, "too many arguments")
    assert ms.column("  ab cd # ef", 1) == 6 and ms.column("ab", 5) == 1


def test_script_max_node_follows_config():
    [st] = ms.parse_script("set_node 0 1 max\n")
    assert st.args == [0, 1, HARNESS.max_numnodes]
    from fwc_plugins.boot.memblock import DEBIAN_X86_64
    [st] = ms.parse_script("set_node 0 1 max\n", config=DEBIAN_X86_64)
    assert st.args == [0, 1, 1024]
    assert ms.run_script("add 0 1M max\ndump\n", config=DEBIAN_X86_64).splitlines()[3] \
        == "memory 0x0 0x100000 0x0 1024"


def test_script_runs_as_read():
    """Lines before an error have run on the given memblock; none after."""
    m = new()
    with pytest.raises(ms.ScriptError) as ei:
        ms.run_script("add 0 1M\nreserve 0 4K\nbogus\nadd 2M 1M\n", memblock=m)
    assert ei.value.line == 3
    assert [r.size for r in m.memory.regions()] == [0x100000]
    assert rgn(m.reserved) == (0, 0x1000)
    assert ms.run_script("") == "" and ms.run_script("# nothing\n\n") == ""


def test_script_help_lists_every_op_and_kind():
    text = ms.help_text()
    for op in ms.OPS.values():
        assert f"  {op.usage()} " in text
    for kind in ms.KINDS:
        assert f"  {kind} " in text
    assert ms.OPS["add"].usage() == "add base:u64 size:u64 [nid:nid [flags:flags]]"
    assert ms.OPS["dump"].usage() == "dump"
