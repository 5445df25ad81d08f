"""``fwc boot PATH --json`` as the real-boot tests and bench/fidelity.py run it, on either
Debian kernel (``ensure_tools(series)``).

    from oracles.qemu.fwcboot import KERNELS, fwc_boot, tools_or_skip
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os

#: The kernel series the oracle boots (``ensure_tools(series)``) and fwc models.
KERNELS = ("6.1", "6.12")


def fwc_boot(path: str, tools, keep: str, timeout: float = 120.0, fwc=None,
             retries: int = 1) -> tuple[int, dict | None, str]:
    """``fwc boot PATH --json --keep KEEP`` with the oracle's QEMU, busybox and kernel; retried
    ``retries`` times when the boot itself gives no answer (a TCG guest on a busy host has been
    seen to hang once in a while, before anything fwc controls).  (exit status, the JSON
    document or None, stderr)."""
    from fwc import Fwc
    from fwc_plugins.bootrun import run as runmod

    p = argparse.ArgumentParser()
    runmod.configure(p)
    fwc = Fwc() if fwc is None else fwc
    rc, out, err = runmod.EXIT_NO_ANSWER, "", ""
    for _ in range(1 + retries):
        args = p.parse_args([path, "--kernel", str(tools.kernel), "--busybox", tools.busybox, "--qemu", tools.qemu,
                             "--json", "--keep", keep, "--timeout", str(timeout)])
        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            rc = runmod.run(args, fwc)
        out, err = o.getvalue(), e.getvalue()
        if rc != runmod.EXIT_NO_ANSWER:
            break
    return rc, (json.loads(out) if out.strip().startswith("{") else None), err


def tools_or_skip(series: str = "6.1"):
    """``ensure_tools(series)`` for a test: skipped when the oracle cannot be had, failed under
    CI=true."""
    import pytest

    from .tools import OracleUnavailable, ensure_tools

    try:
        return ensure_tools(series)
    except OracleUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"QEMU oracle ({series}) unavailable under CI: {e}")
        pytest.skip(f"QEMU oracle ({series}) unavailable: {e}")


def differences(doc: dict) -> str:
    """The differing rows of a ``fwc boot --json`` document, one a line."""
    return "\n".join(f"{r['label']}: predicted {r['predicted']!r} real {r['real']!r}"
                     for r in doc["rows"] if r["differs"])


def assert_agrees(rc: int, doc: dict | None, err: str) -> None:
    """Prediction == real on every compared line, every line of the modelled categories compared;
    the only approximations allowed: the Total pages of a zonelist rebuild after boot and the
    Memory: line's free pages (deferred struct-page init is not modelled; its reserved figure is
    compared)."""
    assert doc is not None and doc["real"], f"boot failed (exit {rc}):\n{err}"
    assert doc["predicted"] is not None, err
    assert rc == 0 and doc["agree"], differences(doc)
    real_n = sum(len(v) for v in doc["lines"]["real"].values())
    compared = sum(1 for r in doc["rows"] if r["key"].startswith("lines:") and r["compared"] and r["real"] != "-")
    assert compared == real_n
    approx = [r for r in doc["rows"] if r["status"] == "approximate"]
    assert all((r["key"] == "lines:zonelists" and r["real"].startswith("Built ")) or r["key"] == "lines:memory"
               for r in approx), approx


def predict_again(path: str, keep: str, tools, kernel: str) -> dict:
    """The prediction of ``kernel`` for the machine exactly as ``fwc boot --keep KEEP`` booted it
    (the same initrd)."""
    from fwc import Fwc
    from fwc_plugins.bootrun.predict import linuxboot_initrd_base, machine_as_booted, predict, read_bzimage
    from fwc_plugins.bootrun.run import kernel_cmdline

    fwc = Fwc()
    m = fwc.check(path).machine
    size = os.path.getsize(os.path.join(keep, "initrd.img"))
    base = linuxboot_initrd_base(m, size, read_bzimage(str(tools.kernel)))
    # the booted bzImage's build figures for its own version; Debian's recorded build for another
    own = tools.kernel_release.startswith(f"{kernel}.")
    pred = predict(fwc, machine_as_booted(m, kernel_cmdline(m.cmdline, [])[0], base, size), "boot",
                   kernel=str(tools.kernel) if own else None, options={"kernel": kernel})
    assert pred.observation is not None, pred.problem
    pred.observation.setdefault("ramdisk", f"[mem {base:#010x}-{base + ((size + 4095) & ~4095) - 1:#010x}]")
    return pred.observation


def assert_version_matters(path: str, keep: str, tools) -> None:
    """The real boot kept in KEEP against the prediction of every other modelled kernel: none
    agrees (the version is what made the difference), while a prediction for the booted one
    made the same way does."""
    from fwc_plugins.bootrun.compare import agree, compare

    with open(os.path.join(keep, "real.json")) as f:
        real = json.load(f)
    for k in KERNELS:
        assert agree(compare(predict_again(path, keep, tools, k), real)) == tools.kernel_release.startswith(f"{k}."), k
