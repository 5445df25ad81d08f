"""The memblock model's shortcuts give the kernel's answers (issue 15).

* ``__memblock_find_range_top_down()`` starts a search it has made before at its frontier
  (Memblock._find_range_top_down): every answer equals the kernel's literal walk, the free
  ranges from the top (``for_each_free_mem_range_reverse()``, the model's ``free_ranges``)
  clamped and rounded as mm/memblock.c does, after reservations (mostly of what it found, as
  a boot makes them), frees, new memory, flag and node changes, movable_node toggles;
* ``memblock_alloc_range_nid()`` answers 0 at once when memblock.reserved is full and cannot
  double (6.1): the same results, arrays and warnings as the full search.
"""

from __future__ import annotations

import random

import pytest

from fwc_plugins.boot.memblock import (
    DEBIAN_X86_64, HARNESS, MASK64, MIRROR, NUMA_NO_NODE, Memblock,
)
from fwc_plugins.boot.memblock_script import run_script

KiB, MiB = 1 << 10, 1 << 20


def literal_top_down(mb: Memblock, start: int, end: int, size: int, align: int, nid: int, flags: int) -> int:
    """__memblock_find_range_top_down() over the whole reverse walk, no window, no memo."""
    for rs, re_, _ in mb.free_ranges(nid, flags, reverse=True):
        this_start = min(max(rs, start), end)
        this_end = min(max(re_, start), end)
        if this_end < size:
            continue
        cand = (this_end - size) & ~((align - 1) & MASK64)
        if cand >= this_start:
            return cand
    return 0


@pytest.mark.parametrize("seed", range(40))
def test_top_down_frontier_is_the_literal_walk(seed):
    rng = random.Random(seed)
    mb = Memblock(DEBIAN_X86_64)
    mb.allow_resize()
    nodes = rng.randint(1, 4)
    span = rng.choice([4 * MiB, 64 * MiB])
    per = span // nodes
    for n in range(nodes):
        mb.add_node(n * per + 4 * KiB, per - 4 * KiB - rng.choice([0, 8 * KiB]), n)
    # a few searches asked again and again, as a boot's per-node allocations are
    searches = [(rng.choice([0x20, 0x40, 0x1000, 0x1800, 0x3000]), rng.choice([8, 0x20, 0x40, 0x1000]),
                 rng.choice([4 * KiB, 4 * KiB, span // 3]), rng.choice([span, span // 2, span - 0x5000]),
                 rng.choice([NUMA_NO_NODE, NUMA_NO_NODE, 0, nodes - 1]), rng.choice([0, 0, MIRROR]))
                for _ in range(rng.randint(1, 4))]
    checked = 0
    for _ in range(600):
        r = rng.random()
        if r < 0.7:
            size, align, start, end, nid, flags = rng.choice(searches)
            got = mb._find_range_top_down(start, end, size, align, nid, flags)
            assert got == literal_top_down(mb, start, end, size, align, nid, flags)
            checked += 1
            if got and rng.random() < 0.9:
                mb.reserve(got, size)
        elif r < 0.8:
            mb.phys_free(rng.randrange(0, span, 0x10), rng.choice([0x10, 0x40, 0x1000, 0x8000]))
        elif r < 0.85:
            mb.reserve(rng.randrange(0, span, 0x10), rng.choice([0x10, 0x40, 0x1000]))
        elif r < 0.88:
            base, size = rng.randrange(0, span, 0x1000), rng.choice([0x1000, MiB])
            rng.choice([mb.mark_hotplug, mb.clear_hotplug, mb.mark_nomap, mb.clear_nomap])(base, size)
        elif r < 0.9:
            mb.set_node(rng.randrange(0, span, 0x1000), 0x1000, rng.randrange(nodes),
                        rng.choice(["memory", "reserved"]))
        elif r < 0.93:
            mb.movable_node = not mb.movable_node
        elif r < 0.95:
            mb.remove(rng.randrange(0, span, 0x1000), 0x1000)
        elif r < 0.97:
            mb.add_node(rng.randrange(0, span, 0x1000), 0x3000, rng.randrange(nodes))
        else:
            mb.cap_memory_range(0, rng.choice([span, span // 2]))
    assert checked > 300


def _full_script(rng: random.Random) -> str:
    """Memory in nodes, then many scattered reservations (the 128-entry array fills up and
    cannot double), then allocations of every kind, some flags and limits."""
    lines = [f"add {hex(n << 30)} {hex(1 << 30)} {n}" for n in range(4)]
    lines += [f"reserve {hex(rng.randrange(1, 4 << 18) << 12)} 0x1000" for _ in range(200)]
    if rng.random() < 0.5:
        lines += ["mirrored_kernelcore 1", f"mark_mirror 0x0 {hex(1 << 30)}"]
    for _ in range(300):
        size = rng.choice(["0", "0x40", "0x1000", "0x200000"])
        align = rng.choice(["0", "0x40", "0x1000"])
        nid = rng.choice(["-1", "0", "3", "max", "none"])
        lines.append(rng.choice([
            f"alloc {size} {align} 0x0 anywhere {nid} {rng.randint(0, 1)}",
            f"alloc_try_nid {size} {align} {hex(rng.randrange(4) << 30)} accessible {nid}",
            f"alloc_exact_nid_raw {size} {align} 0x0 {hex(rng.randrange(1, 4) << 30)} {nid}",
            f"phys_alloc_range {size} {align} 0x100000 anywhere",
            f"phys_alloc_try_nid {size} {align} {nid}",
            f"bottom_up {rng.randint(0, 1)}", f"movable_node {rng.randint(0, 1)}",
            f"current_limit {rng.choice(['anywhere', '0x40000000'])}"]))
    return "\n".join(lines + ["dump"]) + "\n"


class _FullSearch(Memblock):
    """6.1 without the shortcut: every allocation searches and tries to reserve."""

    _double_fails_quietly = False


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("config", [HARNESS, DEBIAN_X86_64])
def test_full_reserved_array_answers_as_the_search(seed, config):
    text = _full_script(random.Random(seed))
    fast, slow = Memblock(config), _FullSearch(config)
    assert run_script(text, memblock=fast) == run_script(text, memblock=slow)
    assert fast.warnings == slow.warnings
    assert len(fast.reserved.B) == fast.reserved.max      # the shortcut was taken
