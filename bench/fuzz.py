"""Long fuzzing runs of fwc's own harnesses (issue 14): ``python bench/fuzz.py SECONDS``.

Runs each harness of ``tests/fuzzing.py`` (grammar-generated descriptions, token-mutated
examples, structure-mutated tables, mutated acpidump text and directories) for SECONDS of
wall time, every input in a forked child under ``setrlimit`` CPU and address-space limits.
A finding is any exception, internal error, escaped control character, hang (more than
--cpu seconds of CPU; the bound applies to inputs under 10 KB) or peak RSS over --memory MiB.
Prints per harness: inputs run, inputs per second, worst CPU and peak, and each finding with
the seed that reproduces it (``--only NAME --seed N --count 1`` replays it).  Exit 1 on findings.
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
    ap.add_argument("seconds", type=float, help="wall seconds per harness")
    ap.add_argument("--only", action="append", help="run only this harness (repeatable)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--count", type=int, default=0, help="run at most this many inputs per harness")
    ap.add_argument("--cpu", type=float, default=2.0, help="CPU seconds an input may take (default 2)")
    ap.add_argument("--memory", type=int, default=512, help="peak MiB an input may take (default 512)")
    args = ap.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
