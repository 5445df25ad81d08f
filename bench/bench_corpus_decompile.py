#!/usr/bin/env python3
"""Benchmark: ``fwc decompile`` of every real machine in the firmware corpus against
``iasl -d`` of the same tables, in the same run.

For each machine of ``../shared/acpi-realworld/machines/*/tables`` (or ``$FWC_ACPI_REALWORLD``):
the wall-clock time of fwc's decompile (in process: read, decode, describe, and the
recompile that proves the description gives the same bytes) and of ``iasl -d`` on a copy of
the same ``.dat`` files (one process per table, as a user runs it), the ratio fwc / iasl,
and whether fwc described the machine structurally (no ``verbatim``).  fwc's one-time cost
per process (imports, parser tables) is measured first and reported apart.

Usage: ``python bench/bench_corpus_decompile.py [--repeat 3] [--corpus DIR]``.
Medians of ``--repeat`` runs.  Exit code 2 when the corpus or iasl is missing.
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

ROOT = Path(__file__).resolve().parent.parent


def corpus_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("FWC_ACPI_REALWORLD") or ROOT.parent / "shared" / "acpi-realworld")


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def iasl_d(tables: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as d:
        for t in tables:
            dst = Path(d) / t.name
            shutil.copy(t, dst)
            subprocess.run(["iasl", "-d", str(dst)], cwd=d, capture_output=True, check=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    corpus = corpus_dir(args.corpus) / "machines"
    if not corpus.is_dir():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 2
    if shutil.which("iasl") is None:
        print("iasl not found (apt-get install acpica-tools)", file=sys.stderr)
        return 2
    import fwc

    f = fwc.Fwc()
    machines = sorted(p for p in corpus.iterdir() if (p / "tables").is_dir())
    t0 = time.perf_counter()
    f.decompile(str(machines[0] / "tables"))  # imports and parser tables: once per process
    print(f"first decompile in this process (imports, parser tables): {time.perf_counter() - t0:.3f} s\n")
    rows = []
    for m in machines:
        tables = sorted((m / "tables").glob("*.dat"))
        t_fwc, r = median_time(lambda: f.decompile(str(m / "tables")), args.repeat)
        t_iasl, _ = median_time(lambda: iasl_d(tables), args.repeat)
        structural = r.text is not None and "verbatim" not in r.text
        rows.append((m.name, len(tables), sum(t.stat().st_size for t in tables), t_fwc, t_iasl, structural))
    print(f"{'machine':<24} {'tables':>6} {'bytes':>7} {'fwc s':>8} {'iasl -d s':>10} {'fwc/iasl':>9}  structural")
    for name, n, size, a, b, s in rows:
        print(f"{name:<24} {n:>6} {size:>7} {a:>8.4f} {b:>10.4f} {a / b:>9.2f}  {'yes' if s else 'no'}")
    ratios = [a / b for _, _, _, a, b, _ in rows]
    print(f"\n{len(rows)} machines; fwc/iasl median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}; "
          f"structural {sum(1 for r in rows if r[5])}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
