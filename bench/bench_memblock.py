"""Benchmark: fwc's memblock model against the real mm/memblock.c driver.

Runs the same seeded 10,000-op scripts through fwc_plugins.boot.memblock
(in-process) and through the C op-script driver built by
tests/oracles/memblock/harness.py (its own -t timing, which excludes process
start; the wall time including process start is shown too), prints the
ratio, checks that both outputs are identical, and prints fwc's cost at
1x, 4x and 16x the script size.  The C side is skipped when the oracle is
unavailable.

    python bench/bench_memblock.py [--repeat N] [--ops N]
    python bench/bench_memblock.py --campaign N [--kernel 6.1|6.12] [--seed S]

``--campaign N`` runs N seeded random scripts (1 to 16 nodes, 1 GiB or 64 GiB, byte or page
granularity, with and without allow_resize, every op of the generator, cap_range and the
memory limits included, dumps every 50 ops)
through the real driver of that kernel and through its model, and prints every script whose
output differs (exit 1).  A 6.12 script that panics (array full before allow_resize) ends
with the driver's ``exit status=255``, where the model raises the panic.  6.12's
memblock_end_of_DRAM() of an empty memory array reads ``regions[-1]`` (out of bounds: the
harness prints whatever lies before the array; the model says 0): such scripts are counted apart.
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


def model_output(script: str, kernel: str) -> str:
    """The model's output, op by op for 6.12 (state kept), as its driver prints a panic."""
    if kernel == "6.1":
        return run_script(script)
    from fwc_plugins.boot.kernel612.memblock import Memblock612
    from fwc_plugins.boot.memblock import HARNESS, MemblockBug

    mb, out = Memblock612(HARNESS), []
    for line in script.splitlines():
        try:
            out.append(run_script(line + "\n", memblock=mb))
        except MemblockBug:
            out.append("exit status=255\n")
            break
    return "".join(out)


def campaign(n: int, kernel: str, seed: int, ops: int) -> int:
    harness = _load("harness")
    oracle = harness.get_oracle(kernel)
    bad = oob = 0
    t = time.perf_counter()
    for first in range(seed, seed + n, 20):
        scripts = []
        for k in range(first, min(first + 20, seed + n)):
            rng = random.Random(k)
            scripts.append(scriptgen.gen_script(
                rng, ops, nodes=rng.choice([1, 2, 8, 16]), span=rng.choice([1 << 30, 64 << 30]),
                dump_every=50, unit=rng.choice([1, 0x1000]), resize=rng.random() < 0.5, limits=True))
        for k, script, want in zip(range(first, first + 20), scripts, oracle.run_many(scripts)):
            got = model_output(script, kernel)
            if got != want:
                if harness.out_of_bounds_only(got, want, kernel):
                    oob += 1    # memblock_end_of_DRAM() of an empty array reads regions[-1]
                    continue
                bad += 1
                print(f"seed {k}: the model's output differs from Linux {kernel}'s")
    print(f"{n} random scripts of {ops} ops, Linux {kernel}: {n - bad - oob} identical, {bad} differ"
          + (f", {oob} identical but for end_of_dram on empty memory (6.12 reads regions[-1])" if oob else "")
          + f" ({time.perf_counter() - t:.0f} s)")
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--campaign", type=int, metavar="N", help="N random scripts against the real driver")
    ap.add_argument("--kernel", choices=("6.1", "6.12"), default="6.1")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.campaign:
        return campaign(args.campaign, args.kernel, args.seed, min(args.ops, 2000))

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
