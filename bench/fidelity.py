"""Differential boot fuzzing (issue 11 §3): boot N random valid QEMU machines on the real
Debian kernel (6.1, or 6.12 with ``--kernel 6.12``), one at a time, and compare everything
``fwc boot`` compares (the prediction is for the version in the bzImage's header).

    python bench/fidelity.py N SEED [--kernel 6.1|6.12] [--out DIR] [--timeout S]
    python bench/fidelity.py --examples [--kernel 6.12]   # every examples/boot-tests and examples/qemu machine

The machines come from tests/oracles/qemu/random_machines.py (deterministic from SEED); each
is booted through plugins/bootrun's ``run()`` (``fwc boot --json``).  Prints, per category
(each structured key and each dmesg line category), how many machines agree on every row of
it and how many rows agree; for each failing machine, the first differing line.  Every
machine's .fwc and its run directory (serial.log, predicted.json, real.json, argv.txt) are
kept under DIR (default build/fidelity/SEED/), and a summary.json beside them.
Exit status 0 when every machine agrees, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from oracles.qemu import ensure_tools  # noqa: E402
from oracles.qemu.fwcboot import KERNELS, fwc_boot  # noqa: E402
from oracles.qemu.random_machines import machines  # noqa: E402


class Example:
    """A machine of examples/ in the shape of random_machines' (name, text, features)."""

    def __init__(self, path: str) -> None:
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            self.text = f.read()
        self.features = (os.path.basename(os.path.dirname(path)),)


def examples() -> list[Example]:
    return [Example(os.path.join(REPO, "examples", d, f)) for d in ("boot-tests", "qemu")
            for f in sorted(os.listdir(os.path.join(REPO, "examples", d))) if f.endswith(".fwc")]


def category(row: dict) -> str:
    return row["key"][len("lines:"):] if row["key"].startswith("lines:") else row["key"]


def first_difference(doc: dict) -> str | None:
    for r in doc["rows"]:
        if r["differs"]:
            return f"{r['label']}: predicted {r['predicted']!r} real {r['real']!r}"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=0)
    ap.add_argument("seed", type=lambda v: int(v) if v.lstrip("-").isdigit() else v, nargs="?", default=0)
    ap.add_argument("--kernel", choices=KERNELS, default="6.1", help="the Debian kernel booted and predicted")
    ap.add_argument("--examples", action="store_true", help="boot the examples instead of random machines")
    ap.add_argument("--out", help="where to keep the machines (default build/fidelity/[KERNEL-]SEED)")
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args(argv)
    from fwc.api import Fwc

    tag = ("examples" if a.examples else str(a.seed))
    out = os.path.abspath(a.out or os.path.join(REPO, "build", "fidelity",
                                                 tag if a.kernel == "6.1" else f"{a.kernel}-{tag}"))
    os.makedirs(out, exist_ok=True)
    tools = ensure_tools(a.kernel)
    print(f"kernel {tools.kernel_release} ({tools.kernel_pkg} {tools.kernel_pkg_version})", flush=True)
    fwc = Fwc()
    # category -> [machines agreeing, machines with the category, rows agreeing, rows compared]
    cats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    results = []
    t0 = time.monotonic()
    for m in (examples() if a.examples else machines(a.n, a.seed)):
        d = os.path.join(out, m.name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{m.name}.fwc")
        with open(path, "w") as f:
            f.write(m.text)
        rc, doc, err = fwc_boot(path, tools, d, a.timeout, fwc)
        res = {"name": m.name, "file": path, "features": list(m.features), "exit": rc}
        if doc is None or not doc.get("real"):
            res["status"] = "no boot"
            res["first_difference"] = (err.strip().splitlines() or ["?"])[-1]
        else:
            per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for r in doc["rows"]:
                if r["compared"]:
                    per[category(r)][1] += 1
                    per[category(r)][0] += not r["differs"]
            for c, (ok, n) in per.items():
                cats[c][0] += ok == n
                cats[c][1] += 1
                cats[c][2] += ok
                cats[c][3] += n
            res["status"] = "agree" if rc == 0 and doc["agree"] else "differs"
            res["first_difference"] = first_difference(doc) if res["status"] != "agree" else None
            if res["status"] == "differs" and res["first_difference"] is None:
                res["first_difference"] = f"exit {rc}: " + (err.strip().splitlines() or ["?"])[-1]
            res["boot_seconds"] = doc["boot_seconds"]
        results.append(res)
        print(f"{m.name:<16} {res['status']:<8} {res.get('boot_seconds', 0):5.1f} s  {' '.join(m.features)}",
              flush=True)
        if res["first_difference"]:
            print(f"    first difference: {res['first_difference']}\n    kept: {d}", flush=True)
    agreeing = sum(r["status"] == "agree" for r in results)
    print(f"\n{agreeing}/{len(results)} machines agree on every compared line "
          f"(Linux {a.kernel}, {'the examples' if a.examples else f'seed {a.seed}'}, {time.monotonic() - t0:.0f} s)")
    print(f"{'category':<16} {'machines':>12} {'rows':>14}")
    for c in sorted(cats):
        mo, mn, ro, rn = cats[c]
        print(f"{c:<16} {mo:>5}/{mn:<5} {100 * mo / mn:5.1f}%  {ro:>5}/{rn:<5} {100 * ro / rn:5.1f}%")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"n": len(results), "seed": a.seed, "kernel": a.kernel, "examples": a.examples, "agree": agreeing, "machines": results,
                   "categories": {c: dict(zip(("machines_agree", "machines", "rows_agree", "rows"), v))
                                  for c, v in sorted(cats.items())}}, f, indent=1)
    print(f"kept in {out}")
    return 0 if agreeing == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
