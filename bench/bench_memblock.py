"""Benchmark: fwc's memblock model against the real mm/memblock.c driver.

Runs the same seeded 10,000-op scripts through fwc_plugins.boot.memblock
(in-process) and through the C op-script driver built by
tests/oracles/memblock/harness.py (its own -t timing, which excludes process
start; the wall time including process start is shown too), prints the
ratio, checks that both outputs are identical, and prints fwc's cost at
1x, 4x and 16x the script size.  The C side is skipped when the oracle is
unavailable.

    python bench/bench_memblock.py [--repeat N] [--ops N]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from fwc_plugins.boot.memblock_script import run_script

ROOT = Path(__file__).resolve().parent.parent
ORACLE_DIR = ROOT / "tests" / "oracles" / "memblock"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_memblock_{name}",
                                                  ORACLE_DIR / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


scriptgen = _load("scriptgen")

WORKLOADS = [
    # name, generator keyword arguments
    ("<=128 regions, no dumps", dict(nodes=8, resize=False, dump_every=0)),
    ("<=128 regions, dump every 50 ops", dict(nodes=8, resize=False, dump_every=50)),
    ("allow_resize (~1000+ regions)", dict(nodes=8, resize=True, dump_every=0)),
    ("16 nodes, 1-byte granularity", dict(nodes=16, resize=False, dump_every=0, unit=1)),
]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def c_time(driver: Path, script: str, repeat: int) -> tuple[float, float, str]:
    inner, wall, out = [], [], ""
    for _ in range(repeat):
        t = time.perf_counter()
        p = subprocess.run([str(driver), "-t"], input=script, capture_output=True,
                           text=True, check=True)
        wall.append(time.perf_counter() - t)
        m = re.search(r"ops in ([\d.]+) ms", p.stderr)
        inner.append(float(m.group(1)) / 1e3 if m else wall[-1])
        out = p.stdout
    return min(inner), min(wall), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ops", type=int, default=10_000)
    args = ap.parse_args(argv)

    driver = None
    try:
        harness = _load("harness")
        driver = harness.get_oracle().path
    except Exception as e:  # OracleUnavailable or a missing toolchain
        print(f"real memblock driver unavailable, C side skipped: {e}")

    print(f"{'workload':36} {'fwc ms':>8} {'C ms':>8} {'C wall':>8} {'ratio':>6}  same")
    worst = 0.0
    for name, kw in WORKLOADS:
        script = scriptgen.gen_script(random.Random(2024), args.ops, **kw)
        nops = script.count("\n")
        py = best(lambda: run_script(script), args.repeat)
        if driver is None:
            print(f"{name:36} {py * 1e3:8.1f} {'-':>8} {'-':>8} {'-':>6}  -")
            continue
        c, wall, out = c_time(driver, script, args.repeat)
        same = out == run_script(script)
        ratio = py / c
        worst = max(worst, ratio)
        print(f"{name:36} {py * 1e3:8.1f} {c * 1e3:8.2f} {wall * 1e3:8.1f} "
              f"{ratio:5.1f}x  {'yes' if same else 'NO'}   ({nops} ops)")
    if driver is not None:
        print(f"worst ratio fwc / real memblock.c: {worst:.1f}x (target <= 10x)")

    print("\nfwc cost vs script size (<=128 regions, no dumps, memory never full; "
          "C for reference):")
    base = cbase = None
    for mult in (1, 4, 16):
        # 1 TiB of RAM so that the allocator never runs out: a stationary mix
        script = scriptgen.gen_script(random.Random(7), args.ops * mult, nodes=8,
                                      span=1 << 40, resize=False, dump_every=0)
        t = best(lambda: run_script(script), max(1, args.repeat // mult))
        base = base or t
        line = (f"  {mult:2d}x ({args.ops * mult:7d} ops): fwc {t * 1e3:8.1f} ms "
                f"({t / base:5.2f}x, {t / (args.ops * mult) * 1e6:.2f} us/op)")
        if driver is not None:
            c, _, _ = c_time(driver, script, max(1, args.repeat // mult))
            cbase = cbase or c
            line += f"   C {c * 1e3:7.2f} ms ({c / cbase:5.2f}x)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
