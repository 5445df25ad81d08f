"""Events after boot (issue 12): prediction time of a 100-event scenario on a 64-node QEMU
machine, against one real boot of the same machine with the same events (``fwc boot``:
QMP and the guest's console), measured in the same run.

    python bench/bench_events.py                      # prediction only
    python bench/bench_events.py --kernel VMLINUZ     # and the real boot (TCG; minutes)

The machine: q35, 64 nodes of 128 MiB (CPUs on the first two), 25 DIMM slots; the events:
25 rounds of add DIMM on a node / online_movable / offline / remove = 100 events.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

NODES, ROUNDS = 64, 25


def machine_text(nodes: int = NODES, rounds: int = ROUNDS) -> str:
    lines = ['machine "events-64" {', "    board qemu-q35", f"    slots {rounds} maxmem {nodes // 8 + rounds // 4 + 1}G",
             '    cmdline "console=ttyS0 nokaslr"']
    for n in range(nodes):
        cpus = f"cpus {n} " if n < 2 else ""
        lines.append(f"    node {n} {{ {cpus}memory size 128M }}")
    lines.append("    events {")
    for i in range(rounds):
        node = (i * 7) % nodes
        lines += [f"        add dimm m{i} size 256M node {node}", f"        online_movable dimm m{i}",
                  f"        offline dimm m{i}", f"        remove dimm m{i}"]
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernel", help="boot the scenario for real with this bzImage")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    from fwc.api import Fwc
    from fwc_plugins.boot.sim import simulate

    text = machine_text()
    r = Fwc().load(text=text, name="events-64.fwc")
    assert r.machine is not None, r.render_diagnostics()
    m = r.machine
    import attrs

    best = float("inf")
    for _ in range(a.repeat):  # a new machine object each time: simulate() shares its last results
        fresh = attrs.evolve(m)
        t0 = time.perf_counter()
        b = simulate(fresh)
        best = min(best, time.perf_counter() - t0)
    plain = min(_time(lambda: simulate(_without_events(m))) for _ in range(a.repeat))
    print(f"{len(m.events)} events on {len(m.nodes)} nodes: prediction {best * 1000:.1f} ms "
          f"(boot alone {plain * 1000:.1f} ms; events {(best - plain) * 1000:.1f} ms, "
          f"{(best - plain) / len(m.events) * 1e6:.0f} us per event); {len(b.steps)} steps")
    if not a.kernel:
        return 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "events-64.fwc")
        with open(path, "w") as f:
            f.write(text)
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", "import sys; from fwc.cli import main; sys.exit(main())", "boot", path, "--kernel", a.kernel, "--timeout", "900",
                            "--keep", os.path.join(d, "run")], capture_output=True, text=True)
        real = time.perf_counter() - t0
    last = (p.stdout.strip().splitlines() or ["?"])[-1]
    print(f"real boot with the same events: {real:.1f} s (fwc boot exit {p.returncode}: {last})")
    print(f"ratio: the prediction is {real / best:.0f}x faster than one real boot")
    return 0


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _without_events(m):
    import attrs

    return attrs.evolve(m, events=())


if __name__ == "__main__":
    raise SystemExit(main())
