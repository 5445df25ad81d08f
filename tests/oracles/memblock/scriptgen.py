"""Random memblock op-scripts (seeded), for the bench and for quick fuzzing.

The hypothesis strategies in tests/test_memblock_oracle.py cover the same
operations with shrinking; this generator makes long, realistic mixes:
about 30 % allocations, 20 % reserve, 10 % free, the rest other operations.
"""

from __future__ import annotations

import random

SIZES = [0x1000, 0x2000, 0x10000, 0x100000, 0x200000, 0x1000000]
ALIGNS = [0, 8, 32, 0x1000, 0x1000, 0x1000, 0x200000, 0x100000]


def _addr(rng: random.Random, span: int, unit: int) -> int:
    return rng.randrange(0, span // unit) * unit


def gen_script(rng: random.Random, nops: int, *, nodes: int = 8,
               span: int = 64 << 30, resize: bool | None = None,
               dump_every: int = 0, unit: int = 0x1000, limits: bool = False) -> str:
    """A script of about ``nops`` operations over ``span`` bytes of address space.

    With ``limits``, one op in 100 is memblock_cap_memory_range(),
    memblock_mem_limit_remove_map(), memblock_enforce_memory_limit() or
    memblock_trim_memory() (without, the same seed gives the same script as before)."""
    if resize is None:
        resize = rng.random() < 0.5
    lines = []
    if resize:
        lines.append("allow_resize")
    # an initial e820-like layout split into nodes
    node_span = span // nodes
    for n in range(nodes):
        base = n * node_span
        if n == 0:
            base = 0x1000
        lines.append(f"add {hex(base)} {hex(node_span - (base - n * node_span))} {n}")
    lines.append("reserve 0 0x100000")
    if rng.random() < 0.3:
        lines.append("movable_node 1")
        for _ in range(rng.randint(1, nodes)):
            n = rng.randrange(nodes)
            lines.append(f"mark_hotplug {hex(n * node_span)} {hex(node_span)}")
    allocs: list[tuple[int, int]] = []
    while len(lines) < nops:
        r = rng.random()
        if limits and r < 0.01:
            b = _addr(rng, span, unit)
            lines.append(rng.choice([
                f"cap_range {hex(b)} {hex(rng.randrange(1, span // unit) * unit)}",
                f"mem_limit_remove_map {hex(rng.randrange(1, span // unit) * unit)}",
                f"enforce_limit {hex(rng.randrange(1, span // unit) * unit)}",
                f"trim {hex(rng.choice([0x1000, 0x200000]))}"]))
        elif r < 0.30:
            size = rng.choice(SIZES) * rng.randint(1, 4)
            align = rng.choice(ALIGNS)
            kind = rng.random()
            nid = rng.choice(["-1", "-1", str(rng.randrange(nodes))])
            if kind < 0.4:
                op = rng.choice(["alloc_try_nid_raw", "alloc_try_nid", "alloc_exact_nid_raw"])
                lo = rng.choice([0, 0, _addr(rng, span, unit)])
                hi = rng.choice(["anywhere", "accessible", hex(_addr(rng, span, unit))])
                lines.append(f"{op} {hex(size)} {hex(align)} {hex(lo)} {hi} {nid}")
            elif kind < 0.7:
                lo = rng.choice([0, _addr(rng, span, unit)])
                hi = rng.choice(["anywhere", "accessible", hex(_addr(rng, span, unit))])
                lines.append(f"alloc {hex(size)} {hex(align)} {hex(lo)} {hi} {nid} "
                             f"{rng.randint(0, 1)}")
            elif kind < 0.85:
                lines.append(f"phys_alloc_try_nid {hex(size)} {hex(align)} {nid}")
            else:
                lo = _addr(rng, span, unit)
                lines.append(f"phys_alloc_range {hex(size)} {hex(align)} {hex(lo)} anywhere")
            allocs.append((size, align))
        elif r < 0.50:
            b = _addr(rng, span, unit)
            lines.append(f"reserve {hex(b)} {hex(rng.choice(SIZES) * rng.randint(1, 8))}")
        elif r < 0.60:
            b = _addr(rng, span, unit)
            lines.append(f"free {hex(b)} {hex(rng.choice(SIZES) * rng.randint(1, 64))}")
        elif r < 0.66:
            b = _addr(rng, span, unit)
            n = rng.randrange(nodes)
            f = rng.choice(["", "", " 0", " 0x1", " 0x4", " 0x8"])
            lines.append(f"add {hex(b)} {hex(rng.choice(SIZES) * rng.randint(1, 16))} {n}{f}")
        elif r < 0.70:
            b = _addr(rng, span, unit)
            lines.append(f"remove {hex(b)} {hex(rng.choice(SIZES) * rng.randint(1, 4))}")
        elif r < 0.78:
            b = _addr(rng, span, unit)
            op = rng.choice(["mark_hotplug", "clear_hotplug", "mark_nomap", "clear_nomap",
                             "mark_hotplug", "clear_hotplug"])
            lines.append(f"{op} {hex(b)} {hex(rng.choice(SIZES) * rng.randint(1, 64))}")
        elif r < 0.83:
            b = _addr(rng, span, unit)
            t = rng.choice(["", " memory", " reserved"])
            lines.append(f"set_node {hex(b)} {hex(rng.choice(SIZES) * rng.randint(1, 64))} "
                         f"{rng.randrange(nodes)}{t}")
        elif r < 0.86:
            lines.append(f"bottom_up {rng.randint(0, 1)}")
        elif r < 0.88:
            lines.append(f"movable_node {rng.randint(0, 1)}")
        elif r < 0.90:
            lines.append("current_limit " + rng.choice(
                ["anywhere", hex(_addr(rng, span, 0x100000))]))
        elif r < 0.97:
            op = rng.choice(["is_memory", "is_reserved", "is_map_memory"])
            lines.append(f"{op} {hex(_addr(rng, span, unit))}")
        else:
            lines.append(rng.choice(["phys_mem_size", "reserved_size", "start_of_dram",
                                     "end_of_dram",
                                     f"is_region_reserved {hex(_addr(rng, span, unit))} 0x10000",
                                     f"is_region_memory {hex(_addr(rng, span, unit))} 0x10000"]))
        if dump_every and len(lines) % dump_every == 0:
            lines.append("dump")
    lines.append("dump")
    return "\n".join(lines) + "\n"
