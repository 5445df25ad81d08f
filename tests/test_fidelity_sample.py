"""Differential boot fuzzing, the CI sample (issue 11 §3; marker ``boot`` for the real boots).

A few random valid QEMU machines from a fixed seed (tests/oracles/qemu/random_machines.py),
each booted once on each real Debian kernel (6.1, 6.12) with ``fwc boot`` (10-25 s each, one at a
time): the prediction must agree on every compared line.  Larger runs: bench/fidelity.py.

    pytest -q -p no:cacheprovider tests/test_fidelity_sample.py -m boot
"""

from __future__ import annotations

import sys

import pytest

from oracles.qemu.fwcboot import KERNELS, differences, fwc_boot, tools_or_skip
from oracles.qemu.random_machines import generate, machines

#: The sample: SEED's first N machines, chosen for what they cover together: both boards,
#: memoryless nodes, hot-pluggable nodes and partial ranges, the initrd on a hot-pluggable node,
#: DIMMs, renumbered PXMs, a SLIT, movable_node, kernelcore=N% and =mirror with mirror ranges,
#: movablecore=, memhp_default_state= (test_sample_covers_the_features).
SEED = 44
N = 3


@pytest.fixture(scope="module")
def sample():
    return machines(N, SEED)


def test_generator_is_deterministic_and_valid():
    """No boot: the same seed gives the same machines, and every one passes fwc check."""
    from fwc.api import Fwc

    f = Fwc()
    a, b = machines(6, 11), machines(6, 11)
    assert [m.text for m in a] == [m.text for m in b]
    assert generate(5, f).text == generate(5, f).text
    for m in machines(25, 1):
        r = f.check(text=m.text, name=f"{m.name}.fwc")
        assert r.machine is not None and not r.errors, m.text + r.render_diagnostics()
        assert r.machine.board in ("qemu-q35", "qemu-pc")
        assert 1 <= len(r.machine.nodes) <= 8
        assert len([c for n in r.machine.nodes for c in n.cpus]) <= 8
        assert sum(mr.size for n in r.machine.nodes for mr in n.memory) <= 8 << 30


def test_generator_covers_the_features():
    feats = {f for m in machines(80, 1) for f in m.features}
    for f in ("qemu-q35", "qemu-pc", "memoryless", "dimm", "hotplug-node", "partial-hotplug", "pxm", "slit",
              "slit-asymmetric", "slit-unmatched",
              "initrd-on-hotplug", "movable_node", "kernelcore=bytes", "kernelcore=percent", "movablecore=bytes",
              "movablecore=percent", "kernelcore=mirror", "mirror", "mem=", "memhp_default_state", "max-ram-below-4g"):
        assert f in feats, f


def test_sample_covers_the_features(sample):
    feats = {f for m in sample for f in m.features}
    assert feats >= {"qemu-pc", "qemu-q35", "memoryless", "dimm", "hotplug-node", "partial-hotplug", "pxm", "slit",
                     "initrd-on-hotplug", "movable_node", "kernelcore=mirror", "mirror", "movablecore=bytes"}, feats


@pytest.mark.boot
@pytest.mark.parametrize("i", range(N))
@pytest.mark.parametrize("kernel", KERNELS)
def test_random_machine_agrees_with_the_real_kernel(kernel, i, sample, tmp_path):
    m = sample[i]
    path = tmp_path / f"{m.name}.fwc"
    path.write_text(m.text)
    rc, doc, err = fwc_boot(str(path), tools_or_skip(kernel), str(tmp_path / "run"))
    assert doc is not None and doc["real"], f"boot failed (exit {rc}):\n{err}\n{m.text}"
    sys.stdout.write(f"[fidelity {kernel}] {m.name}: boot {doc['boot_seconds']:.1f} s ({' '.join(m.features)})\n")
    assert doc["predicted"] is not None and doc["predicted_kernel"] == kernel, err
    assert rc == 0 and doc["agree"], m.text + differences(doc)
    compared = sum(1 for r in doc["rows"] if r["key"].startswith("lines:") and r["compared"])
    assert compared > 0


# ---- the differences bench/fidelity.py found (seed 2026), each a regression example ----------
# What the real Debian 6.1 kernel printed for examples/boot-tests/NAME.fwc (fwc boot, 2026-12-02);
# the simulator must predict it without a boot.
REAL = {
    # no PENALTY_FOR_NODE_WITH_CPUS at boot: cpumask_of_node() is still empty everywhere
    "zonelist-cpuless": {"dmesg": ["Fallback order for Node 0: 0 1 2 ", "Fallback order for Node 1: 1 2 0 ",
                                   "Fallback order for Node 2: 2 0 1 "]},
    # a DIMM whose _PXM has no node: memory_add_physaddr_to_nid() -> numa_meminfo.blk[0].nid
    "dimm-unmapped-pxm": {"zones_final": {"0 Normal": (1572864, 131072, 131072)}, "no_zone": "1 Normal@1572864"},
    # mem= below the initrd: relocate_initrd() first, then NODE_DATA(1) below it
    "mem-relocate-initrd": {"dmesg_prefix": ["Allocated new RAMDISK: [mem 0x5ff", "Move RAMDISK from "]},
    # mirror ranges on a SeaBIOS boot: nothing is mirrored, NODE_DATA(1) on node 1 itself
    "mirror-ranges": {"dmesg": ["NODE_DATA(1) allocated [mem 0x17ffd3000-0x17fffdfff]"],
                      "zones": {"1 Movable": (1048576, 524288, 524288)}},
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_regression_example_predicts_the_real_boot(name):
    import os

    from fwc.api import Fwc
    from fwc_plugins.boot.sim import simulate

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "boot-tests",
                        f"{name}.fwc")
    r = Fwc().check(path)
    assert r.machine is not None and r.ok, r.render_diagnostics()
    b = simulate(r.machine)
    want = REAL[name]
    for ln in want.get("dmesg", []):
        assert ln in b.dmesg, ln
    for pre in want.get("dmesg_prefix", []):
        assert any(ln.startswith(pre) for ln in b.dmesg), pre
    for key, attr in (("zones", "zones"), ("zones_final", "zones_final")):
        got = {f"{nid} {zone}": (s, sp, pr) for nid, zone, s, sp, pr in getattr(b, attr)}
        for z, v in want.get(key, {}).items():
            assert got.get(z) == v, (z, got)
    if "no_zone" in want:  # the DIMM is not on node 1
        assert all(nid != 1 or base != 1572864 << 12 for nid, base, _, _ in b.dimm_online), b.dimm_online


def test_dsdt_length_counts_the_cpus_on_nodes_above_1():
    """A measured length (QEMU_DSDT_KNOWN: a_q35_2node, 4 CPUs on nodes 0-1) adjusted by one _PXM
    byte for each CPU on a node above 1: zonelist-cpuless's real 'ACPI: DSDT ... 0021A1'."""
    import os

    from fwc.api import Fwc
    from fwc_plugins.boot.firmware import dsdt_length

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "boot-tests",
                        "zonelist-cpuless.fwc")
    assert dsdt_length(Fwc().load(path).machine) == (0x21A1, False)
