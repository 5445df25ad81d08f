"""``fwc boot``: predict, then boot the real kernel under QEMU and compare.

Exit status: 0 prediction and real boot agree; 1 invalid input (a description with errors,
a board QEMU cannot realize), as for every fwc command; 2 usage (bad arguments); 3 the boot
cannot run or gave no answer (no QEMU, not a bzImage, timeout, kernel panic, no
prediction); 4 prediction and real boot differ.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

from .initramfs import INIT_PATH, MARK

EXIT_AGREE, EXIT_INVALID, EXIT_USAGE, EXIT_CANNOT, EXIT_DIFFER = 0, 1, 2, 3, 4
DEFAULT_TIMEOUT = 240.0


def configure(p) -> None:
    p.add_argument("file", help="machine description (board qemu-q35 or qemu-pc)")
    p.add_argument("--kernel", required=True, metavar="BZIMAGE", help="the x86_64 Linux kernel to boot")
    p.add_argument("--initrd", metavar="BASE", help="an initramfs to boot with (default: fwc's minimal one); "
                                                   "fwc puts its tables in front and its init after it")
    p.add_argument("--cmdline", action="append", default=[], metavar="WORDS",
                   help="kernel options added to the machine's cmdline (repeatable)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds before QEMU is killed (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--keep", metavar="DIR", help="keep every file of the run in DIR (default: a temporary "
                                                 "directory keeping the logs only)")
    p.add_argument("--qemu", default="qemu-system-x86_64", help="QEMU binary (default: qemu-system-x86_64)")
    p.add_argument("--busybox", help="static busybox for fwc's init (default: Debian busybox-static's)")
    p.add_argument("--no-predict", action="store_true", help="only boot and print what the kernel decided")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("-I", dest="include", action="append", default=[], metavar="DIR")
    p.add_argument("--predictor", default="boot", metavar="BACKEND",
                   help="the backend that predicts the boot (default: boot)")


def kernel_cmdline(machine_cmdline: str, extra: list[str]) -> tuple[str, list[str]]:
    """The cmdline fwc boots with, and notes on what it added."""
    words = shlex.split(machine_cmdline) + [w for e in extra for w in shlex.split(e)]
    names = {w.partition("=")[0] for w in words}
    notes = []
    if "nokaslr" not in names:
        words.append("nokaslr")
        notes.append("added 'nokaslr': with KASLR the kernel may land in memory the initrd SRAT marks "
                     "hotpluggable, and the result is random (qemu.md §6)")
    if not any(w.startswith("console=ttyS0") for w in words):
        words.append("console=ttyS0")
    if "panic" not in names:
        words.append("panic=-1")
    words = [w for w in words if not w.startswith("rdinit=")] + [f"rdinit={INIT_PATH}"]
    return " ".join(words), notes


class BootRun(NamedTuple):
    status: str  # ok | timeout | no-output | qemu-error
    returncode: int | None
    seconds: float
    console: str
    stderr: str


def run_qemu(argv: list[str], serial_path: str, stderr_path: str, timeout: float) -> BootRun:
    """Run QEMU in its own process group; kill the whole group when done or on timeout."""
    status, rc = "ok", None
    t0 = time.monotonic()
    with open(serial_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
        finally:
            if proc.poll() is None or status == "timeout":
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything QEMU left behind in its group
    secs = time.monotonic() - t0
    with open(serial_path, "rb") as f:
        console = f.read().decode("utf-8", "replace").replace("\r", "")
    with open(stderr_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    if status == "ok" and f"{MARK} DONE" not in console:
        status = "qemu-error" if rc and "qemu-system" in stderr else "no-output"
    return BootRun(status, rc, secs, console, stderr)


def _err(msg: str) -> None:
    sys.stderr.write(f"fwc: {msg}\n")


def _without_lines(obs: dict | None) -> dict | None:
    """An observation without its per-line record (the JSON output gives it under ``lines``)."""
    if obs is None:
        return None
    return {k: v for k, v in obs.items() if k not in ("lines", "approximate")}


def run(args, fwc) -> int:
    from .compare import agree, compare, counts, render
    from .initramfs import BusyboxError, combine, find_busybox, fwc_archive
    from .observe import parse_serial
    from .predict import linuxboot_initrd_base, machine_as_booted, predict, read_bzimage

    if args.include:
        fwc.include_path = tuple(fwc.include_path) + tuple(args.include)
    if not os.path.isfile(args.kernel):
        _err(f"error: kernel '{args.kernel}' not found")
        return EXIT_USAGE
    if args.initrd and not os.path.isfile(args.initrd):
        _err(f"error: initrd '{args.initrd}' not found")
        return EXIT_USAGE
    if args.timeout <= 0:
        _err("error: --timeout must be positive")
        return EXIT_USAGE
    try:
        bz = read_bzimage(args.kernel)
    except (OSError, ValueError) as e:
        _err(f"error: {e}")
        return EXIT_CANNOT
    qemu = shutil.which(args.qemu)
    if qemu is None:
        _err(f"error: '{args.qemu}' not found (Debian: apt-get install qemu-system-x86)")
        return EXIT_CANNOT
    try:
        busybox = find_busybox(args.busybox)
    except BusyboxError as e:
        _err(f"error: {e}")
        return EXIT_CANNOT

    checked = fwc.check(args.file)
    if checked.machine is None or not checked.ok:
        sys.stderr.write(checked.render_diagnostics() + "\n")
        _err("error: the description has errors; nothing was booted")
        return EXIT_INVALID
    m = checked.machine
    from fwc import boards

    if not boards.is_qemu(m.board) or m.arch != "x86_64":
        _err(f"error: fwc boot needs an x86_64 machine on board qemu-q35 or qemu-pc (this one: {m.arch} "
             f"board '{m.board}')")
        return EXIT_INVALID
    cmdline, notes = kernel_cmdline(m.cmdline, args.cmdline + (["fwc.events=1"] if m.events else []))
    for n in notes:
        _err("note: " + n)

    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="fwc-boot-")
    p = lambda name: os.path.join(work, name)  # noqa: E731

    from ..initrd import build_archive

    override = build_archive(m)
    base = None
    if args.initrd:
        with open(args.initrd, "rb") as f:
            base = f.read()
    image = combine(override, base, fwc_archive(busybox))
    with open(p("initrd.img"), "wb") as f:
        f.write(image)
    if override:
        with open(p("acpi-override.cpio"), "wb") as f:
            f.write(override)

    r = fwc.compile(args.file, backends=["qemu"], options={"qemu.qemu": qemu, "qemu.kernel": os.path.abspath(
        args.kernel), "qemu.initrd": p("initrd.img"), "qemu.append": cmdline})
    if r.diagnostics:
        sys.stderr.write(r.render_diagnostics() + "\n")
    if not r.ok:
        return EXIT_INVALID
    argv = json.loads(r.artifact("qemu/argv.json").text)
    with open(p("argv.txt"), "w") as f:
        f.write(" ".join(shlex.quote(a) for a in argv) + "\n")

    initrd_base = linuxboot_initrd_base(m, len(image), bz)
    booted = machine_as_booted(m, cmdline, initrd_base, len(image))
    pred = None
    if not args.no_predict:
        with contextlib.suppress(ImportError, OSError, ValueError):   # the build figures, read outside the timing
            from fwc_plugins.boot.kernel_build import cached_build

            cached_build(os.path.abspath(args.kernel))
        pred = predict(fwc, booted, args.predictor, kernel=os.path.abspath(args.kernel))
        if pred.observation is not None and "ramdisk" not in pred.observation:
            # fwc's own prediction of where QEMU loads the initrd (Linux prints the page-aligned end)
            end = initrd_base + ((len(image) + 4095) & ~4095) - 1
            pred.observation["ramdisk"] = f"[mem {initrd_base:#010x}-{end:#010x}]"
        if pred.observation is not None:
            with open(p("predicted.json"), "w") as f:
                json.dump(pred.observation, f, indent=1, sort_keys=True)

    from . import after

    plan = after.plan(booted, cmdline)
    sys.stderr.write(f"fwc: booting {os.path.basename(args.file)} under QEMU (TCG), at most {args.timeout:g} s\n")
    run_ = after.run(argv, work, plan, args.timeout) if m.events else run_qemu(
        argv, p("serial.log"), p("qemu-stderr.txt"), args.timeout)
    if not args.keep:
        for name in ("initrd.img",):
            with contextlib.suppress(OSError):
                os.unlink(p(name))
    _err(f"serial log: {p('serial.log')}")
    real, info = parse_serial(run_.console) if run_.status == "ok" else (None, {})
    if real is None:
        tail = "\n".join(run_.console.splitlines()[-15:])
        why = {"timeout": f"timed out after {args.timeout:g} s", "qemu-error": "QEMU refused to start",
               "no-output": "the guest printed no result (kernel panic or init failure)"}.get(run_.status,
                                                                                           run_.status)
        _err(f"error: boot {why} (QEMU exit status {run_.returncode})")
        if run_.stderr.strip():
            sys.stderr.write(run_.stderr.strip()[-2000:] + "\n")
        if tail:
            sys.stderr.write("last console lines:\n" + tail + "\n")
        return EXIT_CANNOT
    with open(p("real.json"), "w") as f:
        json.dump(real, f, indent=1, sort_keys=True)

    rows = compare(pred.observation if pred else None, real) + after.rows(plan, booted, cmdline, run_,
                                                                          not args.no_predict)
    if args.json:
        pobs = pred.observation if pred else None
        json.dump({"agree": bool(pred and pred.observation and agree(rows)), "predicted": _without_lines(pobs),
                   "real": _without_lines(real), "boot_seconds": round(run_.seconds, 3),
                   "predict_seconds": round(pred.seconds, 6) if pred else None, "workdir": work,
                   "kernel_release": info.get("release", ""), "cmdline": info.get("cmdline", cmdline),
                   "lines": {"predicted": (pobs or {}).get("lines"), "real": real.get("lines", {}),
                             "approximate": (pobs or {}).get("approximate", [])},
                   "counts": counts(rows),
                   "rows": [r._asdict() | {"differs": r.differs, "status": r.status} for r in rows]},
                  sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"kernel {info.get('release', '?')}: {info.get('cmdline', cmdline)}\n")
        sys.stdout.write(render(rows) + "\n")
    if args.no_predict:
        sys.stdout.write(f"boot {run_.seconds:.1f} s\n") if not args.json else None
        return EXIT_AGREE
    assert pred is not None  # predicted unless --no-predict
    if pred.observation is None:
        _err(f"error: no prediction: {pred.problem}")
        return EXIT_CANNOT
    diff = sum(1 for r in rows if r.differs)
    speed = run_.seconds / pred.seconds if pred.seconds > 0 else float("inf")
    if not args.json:
        sys.stdout.write(f"prediction {pred.seconds * 1000:.1f} ms, boot {run_.seconds:.1f} s ({speed:.0f}x); "
                         + ("prediction and boot agree\n" if agree(rows) else f"{diff} difference(s) marked '!'\n"))
    return EXIT_AGREE if agree(rows) else EXIT_DIFFER
