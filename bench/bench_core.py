#!/usr/bin/env python3
"""Speed of the core: cold start, and parse + check cost against machine size.

Prints figures and ratios against anchors measured in the same run; asserts
nothing.  Run it with the Python that has fwc installed (a normal install
carries the build-time stand-alone parser; an editable one falls back to
building the parser with Lark at every start, which the output says):

    python bench/bench_core.py [--runs N]

1. Cold ``fwc check`` of a small example, against ``python3 -c pass`` (the
   command on PATH, as a user types it) and ``<this python> -c pass``:
   median wall and CPU time of N fresh processes each.
2. A generated machine of 1024 nodes, 16384 CPUs and 4096 memory ranges:
   parse + elaborate + check, in-process, fresh compiler instance.
3. The same at 1x, 4x and 16x that size: cost per element must stay flat
   (near-linear growth).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, os.pardir, "examples", "two-node-hotplug.fwc")


def spawn(cmd, runs):
    walls, cpus = [], []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        cpus.append(ru.ru_utime + ru.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"command failed: {' '.join(cmd)}")
    return statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3


def machine_text(nodes: int, cpus_per_node: int, ranges_per_node: int) -> str:
    out = ['machine "bench" {', "    tables { srat revision 3 }"]
    base = 0
    apic = 0
    size = 256 << 20
    for n in range(nodes):
        lines = [f"    node {n} {{", f"        cpus {apic}-{apic + cpus_per_node - 1}"]
        apic += cpus_per_node
        for r in range(ranges_per_node):
            flag = " hotpluggable" if n % 2 and r else ""
            lines.append(f"        memory {base:#x} size 256M{flag}")
            base += size
        lines.append("    }")
        out.extend(lines)
    for n in range(1, min(nodes, 64)):
        out.append(f"    distance 0 {n} = {20 + n % 200}")
    out.append("    kernel at 16M size 52M")
    out.append("}")
    return "\n".join(out) + "\n"


def check_cost(text: str, repeat: int = 3):
    from fwc import Fwc

    best = None
    for _ in range(repeat):
        f = Fwc()
        f.host  # plugin loading is start-up cost, measured in part 1
        t, c = time.perf_counter(), time.process_time()
        r = f.check(text=text, name="bench.fwc")
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if best is None or wall < best[0]:
            best = (wall, cpu, r)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()

    from fwc import syntax

    prebuilt = syntax._get_parser().prebuilt
    print(f"python {sys.version.split()[0]}  ({sys.executable})")
    print(f"parser tables: {'built at install time' if prebuilt else 'computed with Lark at start (source tree or editable install)'}")
    print()

    print(f"1. cold start, median of {args.runs} fresh processes")
    fwc_exe = shutil.which("fwc", path=os.path.dirname(sys.executable)) or shutil.which("fwc")
    py_path = shutil.which("python3")
    rows = []
    if py_path:
        rows.append(("python3 -c pass (PATH)", [py_path, "-c", "pass"]))
    rows.append(("<this python> -c pass", [sys.executable, "-c", "pass"]))
    rows.append(("fwc check example", [fwc_exe, "check", EXAMPLE] if fwc_exe else
                 [sys.executable, "-m", "fwc.cli", "check", EXAMPLE]))
    rows.append(("fwc --version", ([fwc_exe] if fwc_exe else [sys.executable, "-m", "fwc.cli"]) + ["--version"]))
    res = {}
    for name, cmd in rows:
        res[name] = spawn(cmd, args.runs)
        print(f"   {name:<28} wall {res[name][0]:7.1f} ms   cpu {res[name][1]:7.1f} ms")
    chk = res["fwc check example"]
    for anchor in ("python3 -c pass (PATH)", "<this python> -c pass"):
        if anchor in res:
            a = res[anchor]
            print(f"   fwc check / {anchor:<24} wall {chk[0] / a[0]:5.2f}x   cpu {chk[1] / a[1]:5.2f}x   (target: within 2x)")
    print()

    print("2. 1024 nodes, 16384 CPUs, 4096 memory ranges: parse + elaborate + check")
    text = machine_text(1024, 16, 4)
    wall, cpu, r = check_cost(text)
    print(f"   {len(text) / 1024:.0f} KiB of text   wall {wall * 1e3:7.1f} ms   cpu {cpu * 1e3:7.1f} ms   "
          f"(target < 1000 ms)   diagnostics: {len(r.diagnostics)}")
    print()

    print("3. growth: nodes, CPUs and ranges scaled together")
    base = None
    for k in (1, 4, 16):
        text = machine_text(1024 * k, 16, 4)
        wall, cpu, r = check_cost(text, repeat=1 if k > 4 else 3)
        elems = 1024 * k * (1 + 16 + 4)
        per = wall / elems * 1e6
        base = base or per
        note = f"diagnostics: {len(r.diagnostics)}" + (" (node ids past 1023: node-id-limit)" if k > 1 else "")
        print(f"   {k:>2}x  {elems:>8} elements  wall {wall * 1e3:8.1f} ms  {per:6.2f} us/element  "
              f"ratio to 1x {per / base:5.2f}   {note}")


if __name__ == "__main__":
    main()
