"""Events after boot (issue 12): the language, its checks, and the memory-block prediction
against the real kernel's /sys/devices/system/memory recorded in tests/golden/qemu (the
QEMU boot oracle's memory-blocks.txt of every recorded case)."""

from __future__ import annotations

import json
import pathlib

import pytest

from fwc import Fwc
from fwc_plugins.boot.sim import simulate

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "qemu"


def _runs(step, block_size: int) -> list[str]:
    """The oracle's memory_runs() rendering of a step's blocks: consecutive blocks with the
    same node, state and zones as one line."""
    out: list[list] = []
    for row in step.blocks:
        ids, node, state, zones = row.split()
        first, _, last = ids.partition("-")
        key = (node.split("=")[1], state.split("=")[1], zones.split("=")[1])
        if out and out[-1][1] == int(first) - 1 and out[-1][2] == key:
            out[-1][1] = int(last or first)
        else:
            out.append([int(first), int(last or first), key])
    return [f"[mem {a * block_size:#011x}-{(b + 1) * block_size - 1:#011x}] blocks {a}-{b} node{k[0]} {k[1]} "
            f"zones={k[2]}" for a, b, k in out]


CASES = sorted(p.parent.name for p in GOLDEN.glob("*/memory-blocks.txt"))


@pytest.mark.parametrize("case", CASES)
def test_memory_blocks_after_boot_match_the_real_kernel(case):
    meta = json.loads((GOLDEN / case / "case.json").read_text())
    r = Fwc().load(ROOT / "examples" / "qemu" / f"{case}.fwc")
    assert r.machine is not None, r.render_diagnostics()
    b = simulate(r.machine, cmdline=meta["kernel_cmdline"])
    want = (GOLDEN / case / "memory-blocks.txt").read_text().splitlines()
    auto = b.params.memhp_default_state if b.params.memhp_default_state else "offline"
    assert f"block_size_bytes={b.block_size:#x} auto_online_blocks={auto}" == want[0].replace("=0x", "=0x")
    assert _runs(b.steps[0], b.block_size) == want[1:]


def test_bad_event_sequences_are_diagnostics_with_positions():
    r = Fwc().check(ROOT / "tests" / "events" / "bad-events.fwc")
    got = {(d.check, d.span.line, d.span.col) for d in r.diagnostics}
    assert not r.ok
    assert {("event-dimm", 9, 21), ("event-slots", 10, 9), ("event-node", 11, 9), ("event-dimm-size", 11, 9)} <= got
    doc = (ROOT / "docs" / "events.md").read_text()
    for d in r.diagnostics:
        if d.check in ("event-dimm", "event-node"):
            assert f"{d.span.line}:{d.span.col}: error: {d.message} [{d.check}]" in doc


def test_events_parse_in_order_with_their_targets():
    r = Fwc().load(ROOT / "examples" / "events" / "movable-remove.fwc")
    ev = r.machine.events
    assert [(e.action, e.target, e.name) for e in ev] == [("add", "dimm", "a"), ("online_movable", "dimm", "a"),
                                                          ("remove", "dimm", "a")]
    assert ev[0].size == 256 << 20 and ev[0].node == 1 and ev[0].base == -1


def test_a_block_that_does_not_exist_is_an_error_at_its_event():
    text = '''machine "evb" {
    board qemu-q35
    slots 2 maxmem 8G
    node 0 { cpus 0-1  memory size 2G }
    node 1 { cpus 2-3  memory size 2G }
    events {
        online block 48
        add dimm a size 256M node 1
        online_movable block 48-49
        offline dimm a
        remove dimm a
        offline block 49
    }
}
'''
    r = Fwc().check(text=text, name="evb.fwc")
    got = [(d.check, d.span.line, d.message) for d in r.diagnostics]
    # blocks 48-49 exist only between the add (Linux creates them) and the remove
    assert [(c, line) for c, line, _ in got] == [("event-block", 7), ("event-block", 12)], got
    assert "blocks: 0-15, 32-47" in got[0][2]


RECORDED = sorted(p.name for p in (ROOT / "tests" / "golden" / "events").iterdir() if p.is_dir())


@pytest.mark.parametrize("name", RECORDED)
def test_every_step_agrees_with_a_recorded_real_boot(name):
    """The steps of examples/events/NAME.fwc against a real boot of it (tests/golden/events,
    recorded from ``fwc boot --keep`` by tests/oracles/events_golden.py): every row after boot."""
    import re

    from fwc_plugins.bootrun import after
    from fwc_plugins.bootrun.predict import machine_as_booted
    from fwc_plugins.bootrun.run import BootRun

    d = GOLDEN.parent / "events" / name
    console = (d / "console.txt").read_text()
    q = json.loads((d / "qemu-steps.json").read_text())
    cmdline = re.search(r"^cmdline=(.*)$", console, re.M).group(1).strip()
    m = Fwc().load(ROOT / "examples" / "events" / f"{name}.fwc").machine
    booted = machine_as_booted(m, cmdline, q["initrd_base"], q["initrd_size"])
    pl = after.plan(booted, cmdline)
    assert pl is not None
    pl.qemu = q["steps"]
    rows = after.rows(pl, booted, cmdline, BootRun("ok", 0, 1.0, console, ""), True)
    steps = [r for r in rows if r.key.startswith("step:")]
    assert len({r.key for r in steps}) == len(m.events) + 1
    assert not [r for r in rows if r.differs], [r for r in rows if r.differs][:5]


def test_boot_backend_writes_every_step_and_the_seed_policy_beside_upstream():
    r = Fwc().compile(ROOT / "examples" / "events" / "offline-remove.fwc", backends=["boot"])
    assert r.ok, r.render_diagnostics()
    pol = r.artifact("boot/policies.txt").text
    ev = r.artifact("boot/events.txt").text
    m = Fwc().load(ROOT / "examples" / "events" / "offline-remove.fwc").machine
    assert pol.count("      upstream: ") == len(m.events) and pol.count("      seed:     ") == len(m.events)
    assert ev.startswith("# memory block size 0x8000000\nstep 0: after boot\n")
    assert [ln for ln in ev.splitlines() if ln.startswith("step ")][-1] == f"step {len(m.events)}: remove dimm k"
    assert "  outcome: 15 failed\n  why: block 15: memory holes" in ev
