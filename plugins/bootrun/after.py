"""``fwc boot`` after boot: the memory blocks of every boot, and a machine's events played on
the real kernel (:mod:`.qmp`) and compared step by step (:mod:`.steps`)."""

from __future__ import annotations

import os
from typing import Any


class Plan:
    """The simulator's steps for the booted machine, and QEMU's readings once played."""

    def __init__(self, booted: Any, cmdline: str, kernel: str = "6.1", build: Any = None):
        from ..boot import simulate

        self.kernel, self.build = kernel, build     # the kernel version predicted, the bzImage's build figures
        self.boot = simulate(booted, cmdline=cmdline, kernel=kernel, build=build)
        self.steps = self.boot.steps
        self.qemu: list[dict] = []


def plan(booted: Any, cmdline: str, kernel: str = "6.1", build: Any = None) -> Plan | None:
    """The prediction of what follows boot (for Linux ``kernel``, with the bzImage's ``build``
    figures); None when the simulator does not cover the machine."""
    if booted.arch != "x86_64" or not booted.nodes:
        return None
    try:
        return Plan(booted, cmdline, kernel, build)
    except Exception:  # noqa: BLE001 - the main prediction reports its own failure
        return None


def run(argv: list[str], work: str, pl: Plan | None, timeout: float):
    """Boot with QMP and the event line, playing the steps."""
    from .qmp import events_argv, play
    from .initramfs import MARK
    from .run import BootRun

    serial, err = os.path.join(work, "serial.log"), os.path.join(work, "qemu-stderr.txt")
    steps = pl.steps if pl is not None else []
    # --timeout is for the boot; each step may take a while more under TCG
    status, rc, secs, seen = play(events_argv(argv, work), work, serial, err, steps, timeout + 15 * len(steps))
    if pl is not None:
        pl.qemu = seen
    import json

    with open(os.path.join(work, "qemu-steps.json"), "w") as f:
        json.dump(seen, f, indent=1)
    with open(serial, "rb") as f:
        console = f.read().decode("utf-8", "replace").replace("\r", "")
    with open(err, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    if status == "ok" and f"{MARK} DONE" not in console:
        status = "no-output"
    return BootRun(status, rc, secs, console, stderr)


def rows(pl: Plan | None, booted: Any, cmdline: str, run_: Any, predicted: bool) -> list:
    """The memory-block rows, then one group of rows per step."""
    from ..boot import simulate
    from .observe import sections
    from .steps import block_rows, given_from, real_steps, step_rows

    secs = sections(run_.console)
    out = block_rows(pl.steps[0].blocks if pl is not None and predicted else None,
                     pl.boot.block_size if pl is not None else None, secs.get("memory"))
    if pl is None or not booted.events or not predicted:
        return out
    real = real_steps(run_.console, pl.qemu)
    given = given_from(pl.steps, real)
    steps = (simulate(booted, cmdline=cmdline, given=given, kernel=pl.kernel, build=pl.build).steps if given
             else pl.steps)
    return out + step_rows(steps, real, pl.steps)
