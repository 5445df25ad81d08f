"""Whole boot simulation speed: a 64-node, 1 TiB machine (target < 0.3 s) and growth with the
number of memory ranges (1x, 4x, 16x), ratios measured in the same run.

    python bench/bench_boot.py
"""

from __future__ import annotations

import time

from fwc.api import Fwc
from fwc_plugins.boot.sim import simulate

GiB = 1 << 30


def machine(nodes: int, total_gib: int, ranges_per_node: int = 1, hotplug_every: int = 4):
    per = total_gib * GiB // nodes
    piece = per // ranges_per_node
    lines = ['machine "bench" {', "    kernel at 16M size 52M", "    initrd at 0x30000000 size 16M",
             '    cmdline "console=ttyS0 nokaslr movable_node"']
    base = 0
    for n in range(nodes):
        mem = []
        for i in range(ranges_per_node):
            b = base + i * piece
            if b == 0:
                mem.append("memory 0 size 640K")
                mem.append(f"memory 1M size {piece - (1 << 20)}")
            else:
                hp = " hotpluggable" if n and n % hotplug_every == 0 else ""
                # leave a 2 MiB hole between pieces so ranges stay separate
                mem.append(f"memory {b:#x} size {piece - (2 << 20)}{hp}")
        base += per
        lines.append(f"    node {n} {{ cpus {n} " + " ".join(mem) + " }")
    lines.append("}")
    r = Fwc().load(text="\n".join(lines), name="bench")
    assert r.machine is not None, r.render_diagnostics()
    return r.machine


def best(fn, reps=5):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


def main():
    m = machine(64, 1024)
    t = best(lambda: simulate(m))
    print(f"64 nodes, 1 TiB, 1 range/node: {t * 1000:.1f} ms  (target < 300 ms) {'OK' if t < 0.3 else 'SLOW'}")
    base = None
    for k in (1, 4, 16):
        mk = machine(64, 1024, ranges_per_node=k)
        nr = sum(len(n.memory) for n in mk.nodes)
        tk = best(lambda: simulate(mk), reps=3)
        base = base or tk
        print(f"  {k:2d}x ranges ({nr:4d} memory ranges): {tk * 1000:7.1f} ms  ratio {tk / base:5.2f}")


if __name__ == "__main__":
    main()
