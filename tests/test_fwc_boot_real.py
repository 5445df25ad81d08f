"""``fwc boot`` on the real Debian kernels, 6.1 and 6.12, under QEMU 7.2 TCG (marker ``boot``).

Each machine of examples/boot-tests is booted once on each kernel (one at a time, ~6-20 s
each).  On 6.1 the real results must match what the spec recorded (kernel-boot-cases.md §4)
and the real-boot goldens in tests/golden/boot-tests/ (rewrite them with FWC_REGEN_GOLDEN=1);
on both, the prediction for the bzImage's version must agree on every compared line, and on
6.12 the 6.1 prediction of the same boot must not (the version is what made the difference).
Prediction and boot times are printed per example.  The tools come from the QEMU oracle
(tests/oracles/qemu: apt-get installs, the kernel is fetched into a cache); the tests skip
when it is unavailable, except under CI=true.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from oracles.qemu.fwcboot import KERNELS, assert_agrees, assert_version_matters, fwc_boot, tools_or_skip
from test_fwc_boot import EXAMPLES

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(REPO, "tests", "golden", "boot-tests")
REGEN = os.environ.get("FWC_REGEN_GOLDEN") == "1"

N1 = "0x0000000100000000"
#: What kernel-boot-cases.md §4 / qemu.md recorded for each machine (independent of fwc).
SPEC = {
    "hotplug-movable": {"movable_start": {"1": N1}, "table_upgrade": ["override [SRAT-BOCHS -BXPC    ]"],
                        "zones": {"1 Movable": [1048576, 524288, 524288]}, "node_data_on": {"1": "0"}},
    "hotplug-no-movable": {"movable_start": {}, "table_upgrade": ["override [SRAT-BOCHS -BXPC    ]"],
                           "zones": {"1 Normal": [1048576, 524288, 524288]}},
    "kernelcore": {"movable_start": {"1": "0x0000000140400000"},
                   "zones": {"1 Normal": [1048576, 263168, 263168], "1 Movable": [1311744, 261120, 261120]}},
    "movablecore": {"movable_start": {"1": "0x0000000140000000"},
                    "zones": {"1 Normal": [1048576, 262144, 262144], "1 Movable": [1310720, 262144, 262144]}},
    "dimm": {"zones": {"1 Normal": [1048576, 524288, 524288], "1 Movable": [1572864, 262144, 262144]}},
    "three-node": {"movable_start": {}, "nodes": 3},
    "equal-revision": {"movable_start": {}, "table_upgrade": None, "zones": {"1 Normal": [1048576, 524288, 524288]}},
    "initrd-node": {"movable_start": {}, "table_upgrade": ["override [SRAT-BOCHS -BXPC    ]"],
                    "srat_hotplug": 2},
    # Not in the spec; observed in real boots (fwc boot, 2026-11-26) and kept as goldens:
    "mem-limit": {"movable_start": {"1": N1}, "zones": {"1 Movable": [1048576, 262144, 262144]}},
    "movablecore-percent": {"movable_start": {"1": "0x0000000140000000"},
                            "zones": {"1 Normal": [1048576, 262144, 262144], "1 Movable": [1310720, 262144, 262144]}},
    "kernelcore-mirror": {"movable_start": {"1": N1}, "zones": {"1 Movable": [1048576, 524288, 524288]}},
}
NODE0 = {"0 DMA": [1, 4095, 3998], "0 DMA32": [4096, 520159, 520159]}  # every 2+2 GiB q35 machine
CASES = sorted(SPEC)
#: Regression machines found by differential fuzzing (bench/fidelity.py, issue 11): booted and
#: compared on every line and on managed pages, without a spec entry.
REGRESSION = ["dimm-unmapped-pxm", "mem-relocate-initrd", "mirror-ranges", "zonelist-cpuless",
              # issue 16: a machine without NUMA; max-ram-below-4g, OEM IDs and NVDIMMs on QEMU's argv
              "no-numa", "nvdimm-oem-lowmem",
              # bench/fidelity.py 200 2026: a cold-plugged DIMM above mem= is refused while booting
              "dimm-beyond-mem",
              # issue 17: one node's hash tables, sized differently by 6.1 and 6.12; overlapping
              # DMA32 and Movable zones, whose deferred pages 6.12 loses (bench/fidelity.py 35 17)
              "hash-one-node", "mirror-movable-overlap"]


_runs: dict = {}
_times: list = []


@pytest.fixture(scope="module", autouse=True)
def _timing_report(request):
    yield
    if _times:
        tr = request.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["", "fwc boot: prediction vs real boot (TCG)"]
        for name, p, b in _times:
            ratio = f"{b / p:.0f}x" if p else "no prediction"
            lines.append(f"  {name:<25} predict {p * 1000:8.1f} ms   boot {b:6.1f} s   {ratio}")
        (tr.write_line if tr else print)("\n".join(lines))


def boot(name, kernel, tmp_path_factory, capsys):
    """``fwc boot`` of examples/boot-tests/NAME.fwc on Debian's ``kernel`` (once per test session)."""
    if (kernel, name) not in _runs:
        tools = tools_or_skip(kernel)
        keep = tmp_path_factory.mktemp(f"{name}-{kernel}")
        rc, doc, err = fwc_boot(os.path.join(EXAMPLES, f"{name}.fwc"), tools, str(keep), timeout=90)
        _runs[kernel, name] = (rc, doc, err, os.path.getsize(keep / "initrd.img"), str(keep))
        if doc is not None:
            _times.append((f"{name} ({kernel})", doc["predict_seconds"] or 0.0, doc["boot_seconds"]))
            pr, b = doc["predict_seconds"], doc["boot_seconds"]
            with capsys.disabled():
                sys.stdout.write(f"\n[fwc boot {kernel}] {name}: boot {b:.1f} s, prediction "
                                 + (f"{pr * 1000:.1f} ms ({b / pr:.0f}x faster)" if pr else "unavailable") + "\n")
    return _runs[kernel, name]


@pytest.mark.boot
@pytest.mark.parametrize("name", CASES)
def test_real_boot_matches_spec_and_golden(name, tmp_path_factory, capsys):
    """On 6.1, what the spec recorded and the real-boot goldens (6.12's are its predictions, below)."""
    rc, doc, err, initrd_size, _ = boot(name, "6.1", tmp_path_factory, capsys)
    assert doc is not None and doc["real"], f"boot failed (exit {rc}):\n{err}"
    real = doc["real"]
    spec = SPEC[name]
    for z, v in ({} if name in ("three-node", "initrd-node") else NODE0).items():
        assert real["zones"][z] == v, z
    for key in ("movable_start", "table_upgrade"):
        if key in spec:
            assert real.get(key) == spec[key], key
    for z, v in spec.get("zones", {}).items():
        assert real["zones"][z] == v, z
    for n, m in spec.get("node_data_on", {}).items():
        assert real["node_data"][n].endswith(f"on node {m}")
    if "srat_hotplug" in spec:  # the override marked node 1 hotplug, yet no Movable zone
        assert sum(ln.endswith(" hotplug") for ln in real["srat"]) == spec["srat_hotplug"]
    if "nodes" in spec:
        assert {k.split()[0] for k in real["zones"]} == {str(i) for i in range(spec["nodes"])}
    path = os.path.join(GOLDEN, f"{name}.json")
    if REGEN or not os.path.exists(path):
        if not REGEN and os.environ.get("CI") == "true":
            pytest.fail(f"missing golden {path}")
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            json.dump({"example": f"examples/boot-tests/{name}.fwc", "kernel": doc.get("kernel_release", ""),
                       "initrd_size": initrd_size, "real": real}, f, indent=1, sort_keys=True)
            f.write("\n")
    golden = json.load(open(path))
    # keys a golden predates (managed, memtotal: issue 11) are checked against the prediction instead
    want, got = dict(golden["real"]), {k: v for k, v in real.items() if k in golden["real"]}
    if golden["initrd_size"] != initrd_size:  # another busybox: the initrd (and NODE_DATA) move
        for k in ("node_data", "ramdisk"):
            want.pop(k, None)
            got.pop(k, None)
    assert got == want


@pytest.mark.boot
@pytest.mark.parametrize("name", CASES + REGRESSION)
@pytest.mark.parametrize("kernel", KERNELS)
def test_prediction_equals_real(kernel, name, tmp_path_factory, capsys):
    rc, doc, err, _, keep = boot(name, kernel, tmp_path_factory, capsys)
    assert doc is not None and doc["real"], f"boot failed (exit {rc}):\n{err}"
    assert doc["kernel_release"].startswith(f"{kernel}.") and doc["predicted_kernel"] == kernel
    assert doc["predicted"] is not None, err
    assert doc["predicted"]["zones"] == doc["real"]["zones"]  # every node's zones
    assert_agrees(rc, doc, err)
    assert doc["boot_seconds"] >= 30 * doc["predict_seconds"], "prediction is not 30x faster than the boot"
    if kernel != "6.1":
        assert_version_matters(os.path.join(EXAMPLES, f"{name}.fwc"), keep, tools_or_skip(kernel))
