#!/usr/bin/env python3
"""Issue 15's table: every workload against its anchor measured in the same run, and growth.

    python bench/speed.py [--runs N] [--only ROW[,ROW...]] [--python PATH]

Rows (each prints the anchor, fwc's figure, the ratio and the goal; medians of ``--runs``).
In-process figures are CPU seconds of this process (user + system: the machine is shared, so
wall time says more about the neighbours than about fwc); a spawned process's are its CPU
seconds too, from ``wait4``, with its wall time on a second line where the row shows both.

* ``cold``: a fresh ``fwc check examples/two-node-hotplug.fwc`` process against a fresh
  ``python -c "import attrs, pluggy, argparse, re"`` of the same interpreter (CPU and wall),
  as users and CI get it: a normal (non-editable) install, whose parser tables were
  generated at build time and whose bytecode is written.  ``--python`` names such an
  install's interpreter; without it, when this one runs an editable install (tables computed
  with Lark at every start), the row first installs this tree into a scratch virtualenv with
  ``pip install`` (about half a minute) and measures that.
* ``boot``: the boot simulation of :func:`boot_machine` (4 GiB a node) at 64, 256 and 1024 nodes.
* ``srat``: ``fwc compile`` (acpi) of a 256-node, 16384 x2APIC CPU, 4096-range SRAT against
  ``iasl -z`` on the same table's source (identical bytes checked).
* ``decompile``: ``fwc decompile`` of that SRAT against ``iasl -d``.
* ``memblock``: a ``fwc memblock run`` process (of a normal install, as for ``cold``) on a 100k-op
  script against a process of the real ``mm/memblock.c`` driver (tests/oracles/memblock,
  unsanitised) on the same script: CPU and wall, outputs compared; then the in-process
  ``run_script`` time and its growth.
* ``compile``: ``fwc compile`` with every backend, :func:`hotplug_machine` (1023 of 1024
  nodes hot-pluggable, ``movable_node``) against the same shape at 64 nodes.
* ``parse``: parse + check of 80k statements in one block against 10k.
* ``distances``: 255 nodes with all 64,770 distances (check); ``slit``: 1024 nodes with one
  ``distance`` (a 1024x1024 SLIT: check, then compile with every backend and its output's
  size); ``show``: ``fwc show`` of 256 nodes (it runs the boot backend).

Growth lines give 1x, 4x and 16x the machine size with the cost per element.  Nothing is
asserted: figures vary with the machine's load, so ratios against anchors of the same run
are the figures to quote.  ``bench/same_output.py`` proves outputs unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "two-node-hotplug.fwc")
GiB = 1 << 30


# --------------------------------------------------------------------------------------
# The machines


def _node_machine(nodes: int, per_node_gib: int, hotplug, gap: int) -> str:
    """One range a node (node 0 also has the 640K below 1 MiB), ``movable_node``; ``hotplug(n)``
    says which other nodes are hot-pluggable, ``gap`` is left free at the top of their range."""
    lines = ['machine "bench" {', "    kernel at 16M size 52M", "    initrd at 0x30000000 size 16M",
             '    cmdline "console=ttyS0 nokaslr movable_node"']
    per = per_node_gib * GiB
    for n in range(nodes):
        if n == 0:
            mem = f"memory 0 size 640K memory 1M size {per - (1 << 20)}"
        else:
            mem = f"memory {n * per:#x} size {per - gap}" + (" hotpluggable" if hotplug(n) else "")
        lines.append(f"    node {n} {{ cpus {n} {mem} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def boot_machine(nodes: int, per_node_gib: int = 4) -> str:
    """bench_boot.py's shape: one range a node, every fourth node hot-pluggable, movable_node."""
    return _node_machine(nodes, per_node_gib, lambda n: n % 4 == 0, 2 << 20)


def hotplug_machine(nodes: int, per_node_gib: int = 4) -> str:
    """Every node but node 0 hot-pluggable, ``movable_node``."""
    return _node_machine(nodes, per_node_gib, lambda n: True, 0)


def distances_machine(nodes: int, all_pairs: bool) -> str:
    """``nodes`` nodes with 1 GiB each; every distance given, or just one (Linux's SLIT is N x N)."""
    lines = ['machine "bench" {']
    for n in range(nodes):
        lines.append(f"    node {n} {{ cpus {n} memory {n * GiB:#x} size 1G }}")
    if all_pairs:
        for a in range(nodes):
            for b in range(nodes):
                if a != b:
                    lines.append(f"    distance {a} {b} = {20 + (a + b) % 200}")
    else:
        lines.append("    distance 0 1 = 21")
    lines.append("}")
    return "\n".join(lines) + "\n"


def srat_machine(nodes: int, cpus: int, ranges: int) -> str:
    """bench_acpi.py's big SRAT: x2APIC CPUs, 256 MiB ranges, odd nodes hot-pluggable."""
    from bench_acpi import big_description

    return big_description(nodes, cpus, ranges)


def statements_machine(count: int) -> str:
    """One block of ``count`` statements (``let`` constants) in a two-node machine."""
    lines = ['machine "m" {', "    node 0 { cpus 0 memory 0 size 1G }", "    node 1 { cpus 1 memory 1G size 1G }"]
    lines += [f"    let c{i} = {i}" for i in range(count)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def memblock_script(ops: int, seed: int = 2024) -> str:
    """The memblock oracle's generator: <= 128 regions, no dumps."""
    import importlib.util

    path = os.path.join(ROOT, "tests", "oracles", "memblock", "scriptgen.py")
    spec = importlib.util.spec_from_file_location("_speed_scriptgen", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.gen_script(random.Random(seed), ops, nodes=8, resize=False, dump_every=0)


# --------------------------------------------------------------------------------------
# Measuring


def median_time(fn, runs: int) -> float:
    """Median CPU seconds (user + system) of this process over ``runs`` calls."""
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def spawn(cmd: list[str], runs: int, cwd: str | None = None, stdin: str | None = None) -> tuple[float, float]:
    """Median wall and CPU seconds of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if stdin is not None:
            p.stdin.write(stdin.encode())
            p.stdin.close()
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        cpus.append(ru.ru_utime + ru.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def row(name: str, anchor: str, a: float, ours: str, t: float, goal: str) -> None:
    print(f"{name:<10} anchor {anchor:<44} {a * 1e3:9.1f} ms   fwc {ours:<36} {t * 1e3:9.1f} ms   "
          f"ratio {t / a:7.2f}   goal: {goal}")


def growth(label: str, sizes: list[tuple[str, int, object]], fn, runs: int) -> None:
    """Cost at 1x, 4x, 16x: ``sizes`` = (label, elements, argument)."""
    base = None
    for tag, elems, arg in sizes:
        t = median_time(lambda: fn(arg), runs)
        per = t / elems
        base = base or per
        print(f"    {label} {tag:<22} {t * 1e3:9.1f} ms   {per * 1e6:8.2f} us/element   per-element ratio {per / base:5.2f}")


def fwc_instance():
    from fwc import Fwc

    f = Fwc()
    f.host  # plugin loading is start-up cost (row cold)
    return f


def load(f, text: str):
    r = f.load(text=text, name="bench.fwc")
    assert r.machine is not None, r.render_diagnostics()
    return r.machine


def _normal_install(a, tmp: str) -> tuple[str, str]:
    """(interpreter, note) of a normal install of fwc: ``--python``, this interpreter when its
    fwc has build-time parser tables, else a scratch virtualenv with this tree pip-installed."""
    if a.python:
        return a.python, ""
    from fwc import syntax

    if syntax._get_parser().prebuilt:
        return sys.executable, ""
    venv = os.path.join(tmp, "venv")
    py = os.path.join(venv, "bin", "python")
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
        subprocess.run([py, "-m", "pip", "install", "-q", ROOT], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return sys.executable, f"   (editable install: tables computed with Lark; no scratch install: {e})"
    return py, "   (this tree, pip-installed into a scratch venv)"


def bench_cold(a) -> None:
    with tempfile.TemporaryDirectory(prefix="fwc-speed-cold-") as tmp:
        py, note = _normal_install(a, tmp)
        prebuilt = subprocess.run([py, "-c", "from fwc import syntax; print(syntax._get_parser().prebuilt)"],
                                  capture_output=True, text=True, cwd=tmp).stdout.strip()
        if prebuilt != "True":
            note += f"   (parser tables prebuilt: {prebuilt or 'fwc not importable'})"
        fwc_cmd = [py, "-m", "fwc.cli", "check", EXAMPLE]
        floor = [py, "-c", "import attrs, pluggy, argparse, re"]
        walls, cpus = {"floor": [], "fwc": []}, {"floor": [], "fwc": []}
        for _ in range(a.runs * 3):  # interleaved: the load changes along the run
            for k, cmd in (("floor", floor), ("fwc", fwc_cmd)):
                w, c = spawn(cmd, 1, cwd=tmp)
                walls[k].append(w)
                cpus[k].append(c)
    fw, ff = statistics.median(walls["fwc"]), statistics.median(walls["floor"])
    fc, flc = statistics.median(cpus["fwc"]), statistics.median(cpus["floor"])
    row("cold", "python -c 'import attrs, pluggy, argparse, re' (cpu)", flc, "check two-node-hotplug.fwc (cpu)", fc,
        "<= 1.3x" + note)
    row("", "(wall)", ff, "(wall)", fw, "<= 1.3x")


def bench_boot(a) -> None:
    from fwc_plugins.boot.sim import _simulate

    f = fwc_instance()
    machines = {n: load(f, boot_machine(n)) for n in (64, 256, 1024)}

    def sim(m):
        return _simulate(m, "upstream", m.cmdline, None, None, None)  # not the shared result

    t64 = median_time(lambda: sim(machines[64]), a.runs)
    t1024 = median_time(lambda: sim(machines[1024]), a.runs)
    row("boot", "simulate 64 nodes (4 GiB a node)", t64, "simulate 1024 nodes", t1024, "1024 nodes <= 1 s")
    growth("nodes", [("64 (1x)", 64, machines[64]), ("256 (4x)", 256, machines[256]),
                     ("1024 (16x)", 1024, machines[1024])], sim, a.runs)


def _iasl(args: list[str], cwd: str, runs: int) -> float:
    return spawn(["iasl", *args], runs, cwd=cwd)[1]  # CPU seconds, as fwc's in-process figures


def bench_acpi(a) -> None:
    from fwc_plugins.acpi import decode_table, to_iasl_source

    f = fwc_instance()
    text = srat_machine(256, 16384, 4096)

    def compile_(t):
        r = f.compile(text=t, name="bench.fwc", backends=["acpi"], options={"acpi.dsl": False})
        assert r.ok, r.render_diagnostics()
        return r.artifact("acpi/SRAT.aml").data

    srat = compile_(text)
    if not shutil.which("iasl"):
        print("srat/decompile: iasl not found (apt-get install acpica-tools): skipped")
        return
    with tempfile.TemporaryDirectory(prefix="fwc-speed-") as d:
        with open(os.path.join(d, "srat.asl"), "w") as fh:
            fh.write(to_iasl_source(decode_table(srat)[0]))
        with open(os.path.join(d, "SRAT"), "wb") as fh:
            fh.write(srat)
        t_iasl = _iasl(["-vs", "-z", "-p", "out", "srat.asl"], d, max(1, a.runs // 2))
        with open(os.path.join(d, "out.aml"), "rb") as fh:
            same = fh.read() == srat
        t_fwc = median_time(lambda: compile_(text), a.runs)
        row("srat", "iasl -z (256 nodes, 16384 x2APIC, 4096 ranges)", t_iasl, "compile -b acpi (same data)", t_fwc,
            f">= 100x faster (iasl/fwc = {t_iasl / t_fwc:.0f}x), identical bytes: {same}")
        t_dis = _iasl(["-vs", "-d", "-p", "dis", "SRAT"], d, a.runs)
        path = os.path.join(d, "SRAT")

        def decompile():
            r = f.decompile([path])
            assert r.ok and r.text
        t_dec = median_time(decompile, a.runs)
        row("decompile", "iasl -d of that SRAT", t_dis, "decompile (byte identity proved)", t_dec,
            "faster than iasl -d (ratio < 1)")
    sizes = [(f"{n} nodes ({k}x)", n, srat_machine(n, 64 * n, 16 * n)) for n, k in ((16, 1), (64, 4), (256, 16))]
    growth("srat", sizes, compile_, a.runs)


def bench_memblock(a) -> None:
    import importlib.util

    from fwc_plugins.boot.memblock_script import run_script

    script = memblock_script(100_000)
    try:
        spec = importlib.util.spec_from_file_location(
            "_speed_harness", os.path.join(ROOT, "tests", "oracles", "memblock", "harness.py"))
        harness = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(harness)
        driver = str(harness.build_oracle(sanitize=False))
    except Exception as e:  # noqa: BLE001 - no toolchain or package: the row says so
        t_fwc = median_time(lambda: run_script(script), max(1, a.runs // 2))
        print(f"memblock: the real mm/memblock.c driver is unavailable ({e}); fwc run_script {t_fwc * 1e3:.1f} ms")
        return
    with tempfile.TemporaryDirectory(prefix="fwc-speed-") as d:
        path = os.path.join(d, "ops.txt")
        with open(path, "w") as fh:
            fh.write(script)
        py, note = _normal_install(a, d)  # as users run it, like the cold row
        fwc_cmd = [py, "-m", "fwc.cli", "memblock", "run", path]
        ours = subprocess.run(fwc_cmd, capture_output=True, text=True).stdout
        same = ours == subprocess.run([driver], input=script, capture_output=True, text=True).stdout
        walls, cpus = {"C": [], "fwc": []}, {"C": [], "fwc": []}
        for _ in range(max(3, a.runs)):  # interleaved: the load changes along the run
            for k, cmd, stdin in (("C", [driver], script), ("fwc", fwc_cmd, None)):
                w, c = spawn(cmd, 1, stdin=stdin)
                walls[k].append(w)
                cpus[k].append(c)
    med = {k: statistics.median(v) for k, v in cpus.items()}
    row("memblock", "mm/memblock.c driver, 100k ops (process cpu)", med["C"], "fwc memblock run, same script (cpu)",
        med["fwc"], f"<= 5x, identical output: {same}" + note)
    row("", "(wall)", statistics.median(walls["C"]), "(wall)", statistics.median(walls["fwc"]), "<= 5x")
    print(f"    in-process run_script: {median_time(lambda: run_script(script), max(1, a.runs // 2)) * 1e3:.1f} ms")
    growth("ops", [(f"{n // 1000}k ({k}x)", n, memblock_script(n)) for n, k in ((25_000, 1), (100_000, 4))]
           + [("400k (16x)", 400_000, memblock_script(400_000))] if a.big else
           [(f"{n // 1000}k ({k}x)", n, memblock_script(n)) for n, k in ((6_250, 1), (25_000, 4), (100_000, 16))],
           run_script, 1)


def bench_compile(a) -> None:
    f = fwc_instance()

    def compile_(t):
        r = f.compile(text=t, name="bench.fwc")
        assert r.ok, r.render_diagnostics()

    texts = {n: hotplug_machine(n) for n in (64, 256, 1024)}
    t64 = median_time(lambda: compile_(texts[64]), a.runs)
    t1024 = median_time(lambda: compile_(texts[1024]), max(1, a.runs // 2))
    row("compile", "all backends, 64 nodes (63 hotplug, movable_node)", t64, "all backends, 1024 nodes", t1024,
        "<= 3 s")
    growth("nodes", [(f"{n} ({k}x)", n, texts[n]) for n, k in ((64, 1), (256, 4), (1024, 16))], compile_, 1)


def bench_parse(a) -> None:
    f = fwc_instance()

    def check(t):
        f.check(text=t, name="bench.fwc")

    small, big = statements_machine(10_000), statements_machine(80_000)
    t10 = median_time(lambda: check(small), a.runs)
    t80 = median_time(lambda: check(big), max(1, a.runs // 2))
    row("parse", "parse + check, 10k statements in one block", t10, f"80k statements ({len(big) >> 10} KiB)", t80,
        "linear (8x), <= 1 s")
    growth("statements", [(f"{n // 1000}k ({k}x)", n, statements_machine(n))
                          for n, k in ((5_000, 1), (20_000, 4), (80_000, 16))], check, 1)


def _check_fn():
    f = fwc_instance()

    def check(t):
        f.check(text=t, name="bench.fwc")
    check(distances_machine(2, True))  # imports and first-use work are row cold's
    return check


def bench_distances(a) -> None:
    check = _check_fn()
    texts = {n: distances_machine(n, True) for n in (64, 128, 255)}
    t64 = median_time(lambda: check(texts[64]), a.runs)
    t255 = median_time(lambda: check(texts[255]), 1)
    row("distances", "check, 64 nodes, all 4,032 distances", t64, "255 nodes, all 64,770 distances", t255,
        "linear in distances (16x)")
    growth("distances", [(f"{n * (n - 1):,} ({k})", n * (n - 1), texts[n]) for n, k in
                         ((64, "1x"), (128, "4x"), (255, "16x"))], check, 1)


def bench_slit(a) -> None:
    f = fwc_instance()
    check = _check_fn()

    def compile_(t):
        r = f.compile(text=t, name="bench.fwc")
        assert r.ok, r.render_diagnostics()
        return sum(len(x.data) for x in r.artifacts)

    texts = {n: distances_machine(n, False) for n in (64, 256, 1024)}
    t64 = median_time(lambda: check(texts[64]), a.runs)
    t1024 = median_time(lambda: check(texts[1024]), 1)
    row("slit", "check, 64 nodes, one distance (64x64 SLIT)", t64, "1024 nodes (1024x1024 SLIT)", t1024,
        "linear in the SLIT (256x)")
    c64 = median_time(lambda: compile_(texts[64]), a.runs)
    c1024 = median_time(lambda: compile_(texts[1024]), 1)
    row("", "compile, all backends, 64 nodes", c64, f"1024 nodes ({compile_(texts[1024]) / 1e6:.1f} MB out)",
        c1024, "linear in the SLIT (256x)")
    growth("SLIT", [(f"{n}x{n} ({k})", n * n, texts[n]) for n, k in ((64, "1x"), (256, "16x"), (1024, "256x"))],
           compile_, 1)


def bench_show(a) -> None:
    from fwc.cli import main

    def show(n):
        path = os.path.join(tempfile.gettempdir(), f"fwc-speed-show-{n}.fwc")
        with open(path, "w") as fh:
            fh.write(hotplug_machine(n))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["show", path])

    show(2)  # imports and first-use work are row cold's
    t16 = median_time(lambda: show(16), a.runs)
    t256 = median_time(lambda: show(256), 1)
    row("show", "fwc show, 16 nodes", t16, "fwc show, 256 nodes", t256, "linear (16x)")
    growth("nodes", [(f"{n} ({k})", n, n) for n, k in ((16, "1x"), (64, "4x"), (256, "16x"))], show, 1)


ROWS = {"cold": bench_cold, "boot": bench_boot, "srat": bench_acpi, "memblock": bench_memblock,
        "compile": bench_compile, "parse": bench_parse, "distances": bench_distances, "slit": bench_slit,
        "show": bench_show}
#: Other names a row answers to: ``srat`` prints the decompile row too (it decompiles that SRAT).
ALIASES = {"decompile": "srat", "machines": "distances,slit,show"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per median (fewer for the biggest workloads)")
    ap.add_argument("--only", default=",".join(ROWS), help=f"rows to run (of {', '.join([*ROWS, *ALIASES])})")
    ap.add_argument("--big", action="store_true", help="the memblock growth at 400k ops")
    ap.add_argument("--python", help="row cold: the interpreter of a normal (non-editable) fwc install")
    a = ap.parse_args(argv)
    print(f"python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"medians of {a.runs}; CPU seconds (user + system); ratio = fwc / anchor of the same run")
    names = [n.strip() for x in a.only.split(",") for n in ALIASES.get(x.strip(), x).split(",")]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        ap.error(f"unknown row {', '.join(unknown)} (rows: {', '.join([*ROWS, *ALIASES])})")
    for name in dict.fromkeys(names):
        ROWS[name](a)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
