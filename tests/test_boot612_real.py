"""Linux 6.12 predictions against the real Debian 6.12 kernel under QEMU 7.2 TCG (marker ``boot``).

``fwc boot`` with Debian's ``linux-image-6.12.*-amd64-unsigned`` (fetched by the QEMU oracle:
``ensure_tools("6.12")``) predicts for the version in the bzImage's header; every compared
line must agree.  A representative subset runs here (one boot each, 15-30 s): each machine
exercises rules where 6.12 differs from 6.1 (NODE_DATA's size and the memoryless pgdat, a
memoryless node's fallback order, possible CPUs under TCG, the Memory: line printed after the SMP
alternatives are freed, the kernel image's size); the DIMM onlined by default is booted by the
worked example of docs/kernels.md (tests/test_docs.py).
The full set -- every machine of examples/boot-tests and examples/qemu (the golden QEMU
configurations) -- runs in ``python bench/fidelity.py --examples --kernel 6.12`` (all of them
agree, docs/kernels.md), and random machines in ``bench/fidelity.py N SEED --kernel 6.12``.

For each boot the 6.1 prediction of the same booted machine is compared with the same real
6.12 boot too: it must *not* agree, so the test shows the version is what made the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBSET = {"e_q35_memoryless": "qemu", "f_q35_maxcpus": "qemu"}


@pytest.fixture(scope="module")
def tools612():
    from oracles.qemu import OracleUnavailable, ensure_tools

    try:
        return ensure_tools("6.12")
    except OracleUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"QEMU oracle (6.12) unavailable under CI: {e}")
        pytest.skip(f"QEMU oracle (6.12) unavailable: {e}")


def boot(path: str, keep: str, tools, capsys) -> tuple[int, dict | None, str]:
    """``fwc boot PATH --json --keep KEEP`` (one retry when the boot itself fails)."""
    from fwc import Fwc
    from fwc_plugins.bootrun import run as runmod

    p = argparse.ArgumentParser()
    runmod.configure(p)
    rc, out, err = runmod.EXIT_NO_ANSWER, "", ""
    for _ in (1, 2):
        args = p.parse_args([path, "--kernel", str(tools.kernel), "--busybox", tools.busybox, "--qemu", tools.qemu,
                             "--json", "--keep", keep, "--timeout", "180"])
        rc = runmod.run(args, Fwc())
        out, err = capsys.readouterr()
        if rc != runmod.EXIT_NO_ANSWER:
            break
    return rc, (json.loads(out) if out.strip().startswith("{") else None), err


def predict_again(path: str, keep: str, tools, kernel: str) -> dict:
    """The prediction of ``kernel`` for the machine exactly as it was booted (same initrd)."""
    from fwc import Fwc
    from fwc_plugins.bootrun.predict import linuxboot_initrd_base, machine_as_booted, predict, read_bzimage
    from fwc_plugins.bootrun.run import kernel_cmdline

    fwc = Fwc()
    m = fwc.check(path).machine
    size = os.path.getsize(os.path.join(keep, "initrd.img"))
    base = linuxboot_initrd_base(m, size, read_bzimage(str(tools.kernel)))
    # 6.12: the bzImage booted (its build figures and version); 6.1: Debian's recorded 6.1 build
    pred = predict(fwc, machine_as_booted(m, kernel_cmdline(m.cmdline, [])[0], base, size), "boot",
                   kernel=str(tools.kernel) if kernel == "6.12" else None, options={"kernel": kernel})
    assert pred.observation is not None, pred.problem
    pred.observation.setdefault("ramdisk", f"[mem {base:#010x}-{base + ((size + 4095) & ~4095) - 1:#010x}]")
    return pred.observation


@pytest.mark.boot
@pytest.mark.parametrize("name", sorted(SUBSET))
def test_6_12_prediction_agrees_with_the_real_6_12_kernel(name, tools612, tmp_path, capsys):
    from fwc_plugins.bootrun.compare import agree, compare

    path = os.path.join(REPO, "examples", SUBSET[name], f"{name}.fwc")
    keep = str(tmp_path / "run")
    rc, doc, err = boot(path, keep, tools612, capsys)
    assert doc is not None and doc["real"], f"boot failed (exit {rc}):\n{err}"
    assert doc["kernel_release"].startswith("6.12.") and doc["predicted_kernel"] == "6.12"
    bad = "\n".join(f"{r['label']}: predicted {r['predicted']!r} real {r['real']!r}" for r in doc["rows"]
                    if r["differs"])
    assert rc == 0 and doc["agree"], bad
    real_n = sum(len(v) for v in doc["lines"]["real"].values())      # the Memory: line too
    compared = sum(1 for r in doc["rows"] if r["key"].startswith("lines:") and r["compared"] and r["real"] != "-")
    assert compared == real_n                                   # every line of the modelled categories
    # the approximations, as on 6.1: the Total pages of a zonelist rebuild after boot, the Memory:
    # line's free pages (its reserved figure is compared)
    approx = [r for r in doc["rows"] if r["status"] == "approximate"]
    assert all((r["key"] == "lines:zonelists" and r["real"].startswith("Built ")) or r["key"] == "lines:memory"
               for r in approx), approx
    with capsys.disabled():
        sys.stdout.write(f"\n[fwc boot 6.12] {name}: boot {doc['boot_seconds']:.1f} s, {compared} dmesg lines "
                         "compared, all agree\n")
    # the same real boot against the 6.1 prediction: the version is what made the difference
    real = json.load(open(os.path.join(keep, "real.json")))
    assert not agree(compare(predict_again(path, keep, tools612, "6.1"), real))
    assert agree(compare(predict_again(path, keep, tools612, "6.12"), real))
