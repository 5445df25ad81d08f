#!/usr/bin/env python3
"""Benchmark: the 557 KB SRAT (256 nodes, 16384 x2APIC CPUs, 4096 memory ranges).

Compares, in the same run:
* ``fwc compile`` of a machine description to its tables (SRAT, MADT, the root set and the
  acpidump text) with ``iasl -z`` compiling the SRAT's data-table source (target: ≥ 30×);
* ``fwc decompile`` of that SRAT back to a description (verified by recompiling) with
  ``iasl -d`` (target: within 3×);
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


def big_description(nodes: int, cpus: int, ranges: int) -> str:
    per_cpu, per_mem = cpus // nodes, ranges // nodes
    out = ['machine "bench" {', "    tables { srat revision 3 }"]
    base = apic = 0
    for n in range(nodes):
        out.append(f"    node {n} {{")
        out.append(f"        cpus {apic}-{apic + per_cpu - 1} x2apic")
        apic += per_cpu
        for _ in range(per_mem):
            out.append(f"        memory {base:#x} size 256M" + (" hotpluggable" if n % 2 else ""))
            base += 256 << 20
        out.append("    }")
    out.append("}")
    return "\n".join(out) + "\n"


def pipeline(a, d):
    """fwc compile from a description and fwc decompile, against iasl on the same SRAT."""
    from fwc import Fwc

    text = big_description(a.nodes, a.cpus, a.ranges)
    f = Fwc()
    f.host  # plugin loading is start-up cost, not compile cost

    def compile_():
        r = f.compile(text=text, name="bench.fwc", backends=["acpi"], options={"acpi.dsl": False})
        assert r.ok, r.render_diagnostics()
        return r.artifact("acpi/SRAT.aml").data

    srat, t_compile = timed(compile_, a.repeat)
    Path(d, "big.asl").write_text(to_iasl_source(decode_table(srat)[0]))
    Path(d, "SRAT").write_bytes(srat)
    comp = run_child(["iasl", "-vs", "-z", "-p", "big", "big.asl"], d)
    same = Path(d, "big.aml").exists() and Path(d, "big.aml").read_bytes() == srat
    r, t_decompile = timed(lambda: f.decompile([str(Path(d, "SRAT"))]), a.repeat)
    assert r.ok and "verbatim" not in r.text
    dis = run_child(["iasl", "-vs", "-d", "-p", "bigdis", "SRAT"], d)
    print(f"description: {len(text)} bytes -> SRAT {len(srat)} bytes")
    print(f"  fwc compile (description -> SRAT, MADT, root set, acpidump)  {t_compile:9.4f} s")
    print(f"  iasl -z compile of the SRAT's source                         {comp[0]:9.4f} s   "
          f"(identical bytes: {same})")
    print(f"  fwc decompile (SRAT -> description, recompiled to check)     {t_decompile:9.4f} s")
    print(f"  iasl -d                                                      {dis[0]:9.4f} s")
    c_ratio, d_ratio = comp[0] / t_compile, t_decompile / dis[0]
    print(f"  compile: iasl / fwc = {c_ratio:.0f}x (target >= 30x); decompile: fwc / iasl -d = "
          f"{d_ratio:.2f} (target <= 3)")
    return c_ratio >= 30 and d_ratio <= 3 and same


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
    print()
    with tempfile.TemporaryDirectory(prefix="fwc-bench-") as d:
        ok = pipeline(a, d) and ok
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
