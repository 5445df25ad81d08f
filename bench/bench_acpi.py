#!/usr/bin/env python3
"""Benchmark: the 557 KB SRAT (256 nodes, 16384 x2APIC CPUs, 4096 memory ranges).

Compares, in the same run:
* fwc encode (records → bytes) with ``iasl -z`` compiling the equivalent data-table source
  (target: fwc ≥ 30× faster);
* fwc decode (bytes → records, and bytes → records → field-per-line text) with ``iasl -d``
  (target: within 3× of iasl -d).

Usage: ``python bench/bench_acpi.py [--nodes 256 --cpus 16384 --ranges 4096] [--repeat 5]``.
Times are wall-clock seconds (median of ``--repeat`` runs for fwc, one run for iasl unless
``--iasl-repeat``); the iasl figures also show the child's CPU time.  Exit code 1 if a target
is missed (2 if iasl is unavailable).
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
from pathlib import Path

from fwc_plugins.acpi import decode_table, encode, to_iasl_source  # noqa: E402
from fwc_plugins.acpi.examples import big_srat  # noqa: E402


def timed(fn, repeat):
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def run_child(args, cwd):
    """Run a command; (wall s, child CPU s, stdout+stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    return wall, ru.ru_utime + ru.ru_stime, p.returncode, out.decode("latin-1")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=256)
    ap.add_argument("--cpus", type=int, default=16384)
    ap.add_argument("--ranges", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--iasl-repeat", type=int, default=1)
    a = ap.parse_args(argv)
    if not shutil.which("iasl"):
        print("iasl not found: apt-get install -y acpica-tools", file=sys.stderr)
        return 2
    ver = subprocess.run(["iasl", "-v"], capture_output=True, text=True).stdout
    ver = next((w for w in ver.split() if w.isdigit() and len(w) == 8), "?")

    table, t_build = timed(lambda: big_srat(a.nodes, a.cpus, a.ranges), 1)
    data, t_enc = timed(lambda: encode(table), a.repeat)
    src, t_src = timed(lambda: to_iasl_source(table), a.repeat)
    (dec, probs), t_dec = timed(lambda: decode_table(data), a.repeat)
    assert not probs and dec == table
    dump, t_dectext = timed(lambda: to_iasl_source(decode_table(data)[0], offsets=True), a.repeat)

    with tempfile.TemporaryDirectory(prefix="fwc-bench-") as d:
        Path(d, "srat.asl").write_text(src)
        Path(d, "srat.dat").write_bytes(data)
        comp = [run_child(["iasl", "-vs", "-z", "-p", "out", "srat.asl"], d)
                for _ in range(a.iasl_repeat)]
        aml = Path(d, "out.aml").read_bytes() if Path(d, "out.aml").exists() else None
        dis = [run_child(["iasl", "-vs", "-d", "-p", "dis", "srat.dat"], d)
               for _ in range(a.iasl_repeat)]
        dsl_ok = Path(d, "dis.dsl").exists()
    c_wall = statistics.median(c[0] for c in comp)
    c_cpu = statistics.median(c[1] for c in comp)
    d_wall = statistics.median(x[0] for x in dis)
    d_cpu = statistics.median(x[1] for x in dis)

    enc_ratio = c_wall / t_enc
    enc_src_ratio = c_wall / (t_enc + t_src)
    dec_ratio = t_dec / d_wall
    dectext_ratio = t_dectext / d_wall
    print(f"SRAT: {a.nodes} nodes, {a.cpus} x2APIC CPUs, {a.ranges} memory ranges, "
          f"{len(data)} bytes ({len(table.entries)} subtables); iasl {ver}; Python "
          f"{sys.version.split()[0]}")
    print(f"  build records           {t_build:9.4f} s")
    print(f"  fwc encode              {t_enc:9.4f} s")
    print(f"  fwc iasl source text    {t_src:9.4f} s   ({len(src)} chars)")
    print(f"  iasl -z compile         {c_wall:9.4f} s   (cpu {c_cpu:.3f} s, rc {comp[0][2]}, "
          f"identical bytes: {aml == data})")
    print(f"  fwc decode              {t_dec:9.4f} s")
    print(f"  fwc decode + text dump  {t_dectext:9.4f} s   ({len(dump)} chars)")
    print(f"  iasl -d                 {d_wall:9.4f} s   (cpu {d_cpu:.3f} s, rc {dis[0][2]}, "
          f".dsl written: {dsl_ok})")
    print(f"  encode: iasl / fwc = {enc_ratio:.0f}x  (with source text {enc_src_ratio:.0f}x; "
          f"target >= 30x)")
    print(f"  decode: fwc / iasl -d = {dec_ratio:.3f}  (with text dump {dectext_ratio:.3f}; "
          f"target <= 3)")
    ok = enc_ratio >= 30 and dec_ratio <= 3 and aml == data
    print("  targets met" if ok else "  TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
