"""Differential table testing against QEMU 7.2 itself (issue 16): N random valid QEMU
machines, each compiled by fwc, run by QEMU (SeaBIOS only, no kernel) from fwc's own
``-b qemu`` command line, QEMU's SRAT/SLIT/MADT compared byte for byte with fwc's, and
fwc's decompile of QEMU's tables checked to give back the same machine.

    python bench/qemu_tables.py N SEED [--out DIR]

Prints the count passed, the machines per feature, the draws fwc rejected (the
generator's own bias), time per machine, and each failing machine with its problem;
failing machines' .fwc files go to DIR (default build/qemu_tables/SEED/).
Exit status 0 when every machine passes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from oracles.qemu.firmware_tables import kvm_runs_firmware  # noqa: E402
from oracles.qemu.table_machines import differential, machines, not_recoverable  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("seed", type=int)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from fwc.api import Fwc

    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        print("qemu-system-x86_64 not found", file=sys.stderr)
        return 2
    out = a.out or os.path.join(REPO, "build", "qemu_tables", str(a.seed))
    f = Fwc()
    t0 = time.monotonic()
    drawn, rejected = machines(a.n, a.seed, f)
    t_gen = time.monotonic() - t0
    feats: Counter = Counter()
    failed = []
    partial = skipped = 0
    no_kvm = kvm_runs_firmware(qemu)
    if no_kvm:
        print(f"KVM cannot run SeaBIOS here ({no_kvm}): KVM machines are only checked by fwc")
    t0 = time.monotonic()
    for d in drawn:
        feats.update(d.features)
        r = f.check(text=d.text, name=f"{d.name}.fwc")
        partial += bool(r.machine is not None and not_recoverable(r.machine))
        problems = differential(d, qemu, f, kvm=no_kvm is None)
        if problems is None:
            skipped += 1
        elif problems:
            failed.append((d, problems))
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, f"{d.name}.fwc"), "w") as fh:
                fh.write(d.text)
    t_run = time.monotonic() - t0
    print(f"machines: {len(drawn)} (seed {a.seed}); passed {len(drawn) - len(failed) - skipped}, "
          f"failed {len(failed)}, not run (KVM machines without KVM) {skipped}")
    print(f"draws fwc rejected: {rejected}; generation {t_gen:.1f} s; "
          f"differential {t_run:.1f} s ({t_run / max(1, len(drawn)):.2f} s per machine)")
    print(f"decompile compared only for checking (pc-dimms beside 2+ NVDIMMs): {partial}")
    print("features: " + ", ".join(f"{k} {v}" for k, v in sorted(feats.items())))
    for d, problems in failed:
        print(f"--- {d.name}: {problems[0][:2000]}")
        print(d.text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
