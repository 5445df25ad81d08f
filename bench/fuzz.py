"""Long fuzzing runs of fwc's own harnesses (issue 14): ``python bench/fuzz.py SECONDS``.

Runs each harness of ``tests/fuzzing.py`` (grammar-generated descriptions, token-mutated
examples, structure-mutated tables, mutated acpidump text and directories) for SECONDS of
wall time, every input in a forked child under ``setrlimit`` CPU and address-space limits.
A finding is any exception, internal error, escaped control character, hang (more than
--cpu seconds of CPU; the bound applies to inputs under 10 KB) or peak RSS over --memory MiB.
Prints per harness: inputs run, inputs per second, worst CPU and peak, and each finding with
the seed that reproduces it (``--only NAME --seed N --count 1`` replays it).  Exit 1 on findings.

``python bench/fuzz.py --cost`` instead prints what each small-but-costly description of
``fuzzing.COSTLY`` takes (CPU seconds, peak RSS, in a forked child each, limits 120 s and
4 GiB), against an anchor measured in the same run: the compile of examples/boot/q35_3node.fwc.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

import fuzzing  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("seconds", type=float, nargs="?", default=0.0, help="wall seconds per harness")
    ap.add_argument("--cost", action="store_true", help="the costly small descriptions' CPU and peak RSS")
    ap.add_argument("--only", action="append", help="run only this harness (repeatable)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--count", type=int, default=0, help="run at most this many inputs per harness")
    ap.add_argument("--cpu", type=float, default=2.0, help="CPU seconds an input may take (default 2)")
    ap.add_argument("--memory", type=int, default=512, help="peak MiB an input may take (default 512)")
    args = ap.parse_args()
    if args.cost:
        return cost()
    t0 = time.time()
    camps = [c for c in fuzzing.campaigns() if not args.only or c.name in args.only]
    print(f"seeds loaded in {time.time() - t0:.1f} s; {args.seconds:.0f} s per harness, "
          f"limits {args.cpu} s CPU, {args.memory} MiB")
    total = 0
    for c in camps:
        start, seed = time.time(), args.seed
        while time.time() - start < args.seconds and (not args.count or c.count < args.count):
            o = c.step(seed, args.cpu, args.memory)
            if not o.ok:
                lines = [l for l in o.detail.strip().splitlines() if l.strip()]
                where = next((l for l in lines if "[internal-error]" in l or "Error" in l), lines[-1] if lines else "")
                print(f"  FINDING {c.name} seed {seed}: {o.what}: {where.strip()[:300]}", flush=True)
            seed += 1
        wall = time.time() - start
        kinds = {k: sum(1 for _, o in c.findings if o.what in ks) for k, ks in
                 (("exceptions", ("exception", "internal-error", "crash")), ("hangs", ("cpu",)),
                  ("memory", ("memory",)))}
        print(f"{c.name:14} {c.count:7} inputs in {wall:5.0f} s ({c.count / wall:5.1f}/s)  "
              f"exceptions {kinds['exceptions']}  hangs {kinds['hangs']}  over-memory {kinds['memory']}  "
              f"worst CPU {c.worst_cpu:5.2f} s (seed {c.worst_cpu_seed})  "
              f"worst peak RSS {c.worst_peak:6.1f} MiB (seed {c.worst_peak_seed})  "
              f"seeds {args.seed}-{seed - 1}", flush=True)
        total += len(c.findings)
    return 1 if total else 0


def cost() -> int:
    """One row per fuzzing.COSTLY description: CPU s, peak MiB, the ratio to the anchor."""
    with open(os.path.join(REPO, "examples", "boot", "q35_3node.fwc")) as f:
        anchor_text = f.read()
    anchor = fuzzing.run(fuzzing.costly_target(anchor_text, "compile", None), cpu_seconds=120, memory_mib=4096)
    print(f"{'anchor: compile examples/boot/q35_3node.fwc':52} {anchor.cpu:6.2f} s CPU  {anchor.peak_mib:6.0f} MiB  "
          f"{anchor.what}")
    bad = 0
    for name, text, what, expect, cpu, mib in fuzzing.COSTLY:
        o = fuzzing.run(fuzzing.costly_target(text, what, expect), cpu_seconds=120, memory_mib=4096)
        over = o.cpu > cpu or o.peak_mib > mib
        bad += not o.ok or over
        print(f"{what + ' ' + name + f' ({len(text)} bytes)':52} {o.cpu:6.2f} s CPU  {o.peak_mib:6.0f} MiB  "
              f"x{o.cpu / max(anchor.cpu, 1e-3):5.1f} the anchor's CPU  (test bound {cpu} s, {mib} MiB)  "
              f"{o.what if o.ok else o.what + ': ' + o.detail.strip()[-200:]}{'  OVER' if over else ''}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
