"""Events after boot on the real kernel (issue 12, marker ``boot``): each machine of
examples/events is booted once with ``fwc boot``, which plays its events over QMP and the
guest's console and compares every step; the prediction must agree at every step, and the
real kernel must have done what each scenario is about (read from the real side of the
rows, not from fwc's prediction).

Scenarios (two boots): hot-add under each auto_online_blocks / memhp_default_state value
(offline, online, online_kernel, online_movable; online from the command line);
movable_node onlining; auto-movable with its ratio not reached and reached, NUMA-aware and
not; offline of a hot-pluggable boot node (succeeds); offline of a block holding boot
allocations (fails, named), of a block with holes and of a block across zones (fail);
remove of an onlined-movable DIMM (succeeds) leaving its zone empty; remove of a
kernel-onlined DIMM (not guaranteed)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from test_fwc_boot import make_fwc, runmod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = os.path.join(REPO, "examples", "events")
_runs: dict = {}


def boot(name, tools, tmp_path_factory, capsys, kernel="6.1"):
    """``fwc boot --json`` of examples/events/NAME.fwc on the Debian ``kernel`` of ``tools``
    (once per name and kernel)."""
    if (name, kernel) not in _runs:
        import argparse

        p = argparse.ArgumentParser()
        runmod.configure(p)
        keep = tmp_path_factory.mktemp(name)
        args = p.parse_args([os.path.join(EVENTS, f"{name}.fwc"), "--kernel", str(tools.kernel), "--busybox",
                             tools.busybox, "--qemu", tools.qemu, "--json", "--keep", str(keep), "--timeout", "240"])
        rc = runmod.run(args, make_fwc())
        out, err = capsys.readouterr()
        doc = json.loads(out) if out.strip().startswith("{") else None
        _runs[name, kernel] = (rc, doc, err)
        if doc is not None:
            with capsys.disabled():
                sys.stdout.write(f"\n[fwc boot {kernel}] {name}: boot with events {doc['boot_seconds']:.1f} s, prediction "
                                 f"{doc['predict_seconds'] * 1000:.1f} ms\n")
    return _runs[name, kernel]


def real(doc, label_start: str) -> list[str]:
    return [r["real"] for r in doc["rows"] if r["label"].startswith(label_start)]


def block(doc, step: str, bid: int) -> str:
    """The real memory row of block ``bid`` after the step whose label starts ``step``."""
    for line in real(doc, step):
        parts = line.split()
        if parts and parts[0] in ("block", "blocks"):
            a, _, b = parts[1].partition("-")
            if int(a) <= bid <= int(b or a):
                return line
    raise AssertionError(f"no block {bid} after {step}")


@pytest.mark.boot
@pytest.mark.parametrize("name,kernel", [("hotadd-policies", "6.1"), ("offline-remove", "6.1"),
                                         ("hotadd-policies", "6.12"), ("offline-remove", "6.12"),
                                         ("movable-remove", "6.12")])
def test_events_agree_at_every_step(name, kernel, tmp_path_factory, capsys):
    """Every example of examples/events on the real kernel it is predicted for: on 6.12 too
    (onlining by default, and offline_pages() clearing the node's N_MEMORY before rebuilding
    the zonelists: the 'offline node 1' step of offline-remove)."""
    from oracles.qemu.fwcboot import tools_or_skip

    rc, doc, err = boot(name, tools_or_skip(kernel), tmp_path_factory, capsys, kernel)
    assert doc is not None, err
    assert doc["predicted_kernel"] == kernel
    # what follows boot: the memory blocks and every step (early boot has its own tests)
    mine = [r for r in doc["rows"] if r["key"].startswith(("step:", "memory_blocks"))]
    bad = [r for r in mine if r["differs"]]
    assert rc in (0, 4) and not bad, (rc, bad[:10], err[-2000:])
    assert sum(1 for r in mine if r["key"].startswith("step:")) > (30 if name == "movable-remove" else 100)


@pytest.mark.boot
def test_hotadd_policies_real(qemu_tools, tmp_path_factory, capsys):
    _, doc, err = boot("hotadd-policies", qemu_tools, tmp_path_factory, capsys)
    assert doc is not None, err
    assert "state=offline zones=Normal+Movable" in block(doc, "step 1 ", 40)      # Debian: offline
    assert "zones=Movable" in block(doc, "step 2 ", 40)                            # online_movable
    assert "state=online zones=Normal" in block(doc, "step 4 ", 42)                # online, contig-zones
    assert "node=1 state=online zones=Normal" in block(doc, "step 6 ", 44)         # online_kernel
    assert "node=1 state=online zones=Movable" in block(doc, "step 8 ", 46)        # online_movable
    assert "zones=Movable" in block(doc, "step 12 ", 48)                           # auto-movable: fits
    assert "zones=Normal" in block(doc, "step 13 ", 52)                            # ratio reached
    assert "zones=Movable" in block(doc, "step 15 ", 56)                           # not NUMA-aware
    assert real(doc, "step 16 (offline block 39) write #1") == ["39 failed"]       # NODE_DATA(1), memmap
    why = [r["predicted"] for r in doc["rows"] if r["label"].startswith("step 16 (offline block 39) why")]
    assert why and "NODE_DATA(1)" in why[0] and "memmap of node 1" in why[0]


@pytest.mark.boot
def test_offline_remove_real(qemu_tools, tmp_path_factory, capsys):
    _, doc, err = boot("offline-remove", qemu_tools, tmp_path_factory, capsys)
    assert doc is not None, err
    assert "node=0 state=online zones=Movable" in block(doc, "step 1 ", 48)        # movable_node, online
    assert set(real(doc, "step 4 (offline node 1) write")) == {f"{b} ok" for b in range(32, 48)}
    assert real(doc, "step 6 (remove dimm a) outcome") == ["removed"]
    assert not [z for z in real(doc, "step 6 (remove dimm a) zone 0 Movable") if z != "-"]   # zone empty
    assert real(doc, "step 7 (offline block 15) write #1") == ["15 failed"]        # holes
    assert real(doc, "step 8 (offline block 0) write #1") == ["0 failed"]          # DMA + DMA32
