"""``fwc boot``: predict, then boot the real kernel under QEMU and compare.

Exit status (:data:`EXIT_STATUS`): 0 prediction and real boot agree; 1 invalid input (a
description with errors, a board QEMU cannot realize), as for every fwc command; 2 usage (bad
arguments); 3 internal error, as for every fwc command; 4 prediction and real boot differ;
5 this host lacks something the boot needs (no QEMU, no static busybox, no kernel or not a
bzImage, not enough memory for the machine): the message says what to install or change;
6 the boot ran but gave no answer (timeout, kernel panic, QEMU refused the command line), or
there is no prediction to compare with.
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
from typing import Callable, NamedTuple

from .initramfs import INIT_PATH, MARK

EXIT_AGREE, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL, EXIT_DIFFER, EXIT_ENVIRONMENT, EXIT_NO_ANSWER = range(7)
EXIT_STATUS = {EXIT_AGREE: "prediction and real boot agree", EXIT_INVALID: "invalid input",
               EXIT_USAGE: "usage error", EXIT_INTERNAL: "internal error (a bug)",
               EXIT_DIFFER: "prediction and real boot differ",
               EXIT_ENVIRONMENT: "this host lacks something the boot needs (QEMU, busybox, a kernel, memory)",
               EXIT_NO_ANSWER: "the boot gave no answer (timeout, panic) or there is no prediction"}
DEFAULT_TIMEOUT = 240.0
EXAMPLES = """\
examples:
  fwc kernel                                    # once: fetch and cache Debian's 6.1 kernel
  fwc kernel 6.12                               # and Debian's 6.12
  fwc boot machine.fwc                          # boot it with the cached kernel and compare
  fwc boot machine.fwc -O boot.kernel=6.12      # the same with the cached 6.12 kernel
  fwc boot machine.fwc --kernel /boot/vmlinuz-6.1.0-56-amd64 --timeout 600 --keep run/
  fwc boot machine.fwc --json > result.json     # everything, machine-readable

The machine needs board qemu-q35 or qemu-pc.  Progress goes to stderr (the serial log's path
first); the comparison to stdout.  A big machine boots slowly under TCG (a 64-CPU machine
about 150 s): raise --timeout.

exit status:
""" + "\n".join(f"  {k}  {v}" for k, v in EXIT_STATUS.items())


def configure(p) -> None:
    p.epilog = EXAMPLES
    p.add_argument("file", help="machine description (board qemu-q35 or qemu-pc)")
    p.add_argument("--kernel", metavar="BZIMAGE", help="the x86_64 Linux kernel to boot (default: the cached "
                                                       "Debian kernel of the prediction's version: -O boot.kernel=, "
                                                       "else the description's kernel \"…\", else 6.1; 'fwc kernel "
                                                       "[6.12]' fetches it)")
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
    p.add_argument("-O", dest="options", action="append", default=[], metavar="BACKEND.NAME=VALUE",
                   help="an option of the predictor backend (e.g. boot.policy=seed); boot.kernel must name the "
                        "kernel booted: the prediction is for the version in the bzImage's header")


def predicted_kernel(args, bz, backend, named: str = "") -> tuple[dict, str | None]:
    """The predictor's options from ``-O``, with ``kernel`` set to the bzImage's version
    (its header's ``kernel_version``) when the predictor has that option; or an error when
    ``-O …kernel=`` names another version, or without it the description does (``named``,
    its ``kernel "…"``), or fwc models no such kernel."""
    opts: dict = {}
    for o in args.options:
        name, eq, value = o.partition("=")
        owner, dot, key = name.partition(".")
        if not eq or not dot or owner != args.predictor:
            return {}, f"-O {o}: expected {args.predictor}.NAME=VALUE (an option of the predictor backend)"
        opts[key] = value
    if backend is None or "kernel" not in backend.options:
        return opts, None
    want = opts.get("kernel")
    if not bz.series:            # a header without a version string: what -O says, else the default
        return opts, None
    if want is not None and want != bz.series:
        return {}, (f"-O {args.predictor}.kernel={want}: the kernel booted is Linux {bz.series or '?'} "
                    f"({bz.release or 'no version in its header'}); fwc compares a prediction only with the "
                    "kernel it was made for")
    from fwc_plugins.boot import KERNELS

    if want is None and named in KERNELS and named != bz.series:
        return {}, (f"the description names Linux {named} (kernel \"{named}\"); the kernel booted is Linux "
                    f"{bz.series} ({bz.release}): fwc compares a prediction only with the kernel it was made for "
                    f"(leave --kernel out to boot the cached {named} kernel, or give -O {args.predictor}.kernel="
                    f"{bz.series} to predict for this one)")
    if args.predictor == "boot" and bz.series not in KERNELS:
        return {}, (f"'{args.kernel}' is Linux {bz.release or '(no version in its header)'}: fwc models "
                    f"{' and '.join(KERNELS)} only (use --no-predict to boot it without a prediction)")
    opts["kernel"] = bz.series
    return opts, None


def kernel_cmdline(machine_cmdline: str, extra: list[str]) -> tuple[str, list[str]]:
    """The cmdline fwc boots with, and notes on what it added."""
    words = shlex.split(machine_cmdline) + [w for e in extra for w in shlex.split(e)]
    names = {w.partition("=")[0] for w in words}
    notes = []
    if "nokaslr" not in names:
        words.append("nokaslr")
        notes.append("added 'nokaslr': with KASLR the kernel may land in memory the initrd SRAT marks "
                     "hotpluggable, and the result is random (docs/background.md)")
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
    console: str  # sanitized (progress.sanitize): safe to show
    stderr: str   # sanitized


def run_qemu(argv: list[str], serial_path: str, stderr_path: str, timeout: float,
             tick: Callable[[float, str], None] | None = None) -> BootRun:
    """Run QEMU in its own process group; kill the whole group when done or on timeout.
    ``tick(elapsed, last console line)`` is called about twice a second while it runs."""
    from .progress import last_line, sanitize

    status, rc = "ok", None
    t0 = time.monotonic()
    with open(serial_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            while True:
                left = timeout - (time.monotonic() - t0)
                if left <= 0:
                    raise subprocess.TimeoutExpired(argv, timeout)
                try:
                    rc = proc.wait(timeout=min(0.5, left))
                    break
                except subprocess.TimeoutExpired:
                    if tick is not None:
                        tick(time.monotonic() - t0, last_line(serial_path))
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
        console = sanitize(f.read().decode("utf-8", "replace"))
    with open(stderr_path, "rb") as f:
        stderr = sanitize(f.read().decode("utf-8", "replace"))
    if status == "ok" and f"{MARK} DONE" not in console:
        status = "qemu-error" if rc and "qemu-system" in stderr else "no-output"
    return BootRun(status, rc, secs, console, stderr)


def kvm_unusable(qemu: str, probe: float = 5.0) -> str | None:
    """Why KVM cannot run this machine's guest here, or None: /dev/kvm missing or closed to
    us, or QEMU failing to start a KVM vCPU (``-cpu host``, as the argv has it; nested KVM may
    refuse, e.g. "failed to set MSR 0x10a")."""
    if not os.path.exists("/dev/kvm"):
        return "there is no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not readable and writable for this user"
    argv = [qemu, "-accel", "kvm", "-cpu", "host", "-machine", "pc", "-m", "16M", "-nodefaults", "-display", "none",
            "-serial", "none", "-monitor", "none", "-S"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=probe)
    except subprocess.TimeoutExpired:  # still running: KVM created the vCPU
        proc.kill()
        proc.communicate()
        return None
    lines = err.decode(errors="replace").strip().splitlines()
    return f"QEMU cannot start a KVM guest ({lines[0] if lines else f'exit status {proc.returncode}'})"


def _err(msg: str) -> None:
    from fwc.diagnostics import visible

    sys.stderr.write(visible(f"fwc: {msg}", "\t") + "\n")


def _without_lines(obs: dict | None) -> dict | None:
    """An observation without its per-line record (the JSON output gives it under ``lines``)."""
    if obs is None:
        return None
    return {k: v for k, v in obs.items() if k not in ("lines", "approximate")}


def _no_kernel(series: str) -> str:
    from .kernel import SERIES, cache_dir

    s = SERIES[series]
    return (f"error: no {series} kernel to boot: run 'fwc kernel{'' if series == '6.1' else ' ' + series}' once "
            f"(it downloads Debian's {s.reference}, about {s.approx_mb} MB, into {cache_dir()}), or give one "
            "with --kernel BZIMAGE")


def _named_kernel(fwc, path: str) -> str:
    """The kernel version the description names (``kernel "6.12"``), "" without one (or when it
    cannot be read: the check later says why)."""
    try:
        m = fwc.load(path).machine
    except Exception:  # noqa: BLE001 - any problem is reported by the full check below
        return ""
    return getattr(m, "kernel_version", "") if m is not None else ""


def _why(run_: BootRun, timeout: float, log: str) -> list[str]:
    """What went wrong with a boot that gave no answer, in lines for the user."""
    last = next((ln for ln in reversed(run_.console.splitlines()) if ln.strip()), "")
    if run_.status == "timeout":
        head = [f"error: the boot did not finish within --timeout {timeout:g} s; QEMU was killed",
                "  " + (f"the guest's last line: {last.strip()}" if last else "the guest printed nothing"),
                "  a big machine boots slowly under TCG (a 64-CPU machine takes about 150 s): raise --timeout"]
    elif run_.status == "qemu-error":
        head = [f"error: QEMU refused to start (exit status {run_.returncode})"]
    else:
        head = ["error: the guest printed no result (a kernel panic, or fwc's init did not run)"
                + (f"; QEMU exit status {run_.returncode}" if run_.returncode else "")]
    return head + [f"  full serial log: {log}"]


def run(args, fwc) -> int:
    from .progress import Progress

    progress = Progress()
    try:
        return _run(args, fwc, progress)
    finally:
        progress.close()


def _run(args, fwc, progress) -> int:
    from .compare import agree, compare, counts, render
    from .hostmem import problem
    from .initramfs import BusyboxError, combine, find_busybox, fwc_archive
    from .observe import parse_serial
    from .predict import linuxboot_initrd_base, machine_as_booted, predict, read_bzimage

    def fail(code: int, *lines: str) -> int:
        progress.close(ok=False)
        for line in lines:
            _err(line)
        return code

    if args.include:
        fwc.include_path = tuple(fwc.include_path) + tuple(args.include)
    named = _named_kernel(fwc, args.file)
    if args.kernel is None:
        from .kernel import SERIES, cached_kernel

        # the kernel of the prediction's version: -O boot.kernel=, else the description's, else 6.1
        want = next((o.partition("=")[2] for o in args.options if o.startswith(f"{args.predictor}.kernel=")), "")
        series = next((s for s in (want, named) if s in SERIES), "6.1")
        cached = cached_kernel(series=series)
        if cached is None:
            return fail(EXIT_ENVIRONMENT, _no_kernel(series))
        args.kernel = str(cached.vmlinuz)
        progress.note(f"kernel: {cached.package} {cached.version} ({args.kernel})")
    if not os.path.isfile(args.kernel):
        return fail(EXIT_USAGE, f"error: kernel '{args.kernel}' not found")
    if args.initrd and not os.path.isfile(args.initrd):
        return fail(EXIT_USAGE, f"error: initrd '{args.initrd}' not found")
    if args.timeout <= 0:
        return fail(EXIT_USAGE, "error: --timeout must be positive")
    try:
        bz = read_bzimage(args.kernel)
    except (OSError, ValueError) as e:
        return fail(EXIT_ENVIRONMENT, f"error: {e}; give an x86_64 bzImage with --kernel, or run 'fwc kernel' "
                                      "and leave --kernel out")
    options, refused = predicted_kernel(args, bz, fwc.backends.get(args.predictor), named)
    if refused and not args.no_predict:
        return fail(EXIT_USAGE if refused.startswith(("-O", "the description")) else EXIT_NO_ANSWER,
                    f"error: {refused}")
    qemu = shutil.which(args.qemu)
    if qemu is None:
        return fail(EXIT_ENVIRONMENT, f"error: '{args.qemu}' not found: install QEMU (Debian: apt-get install "
                                      "qemu-system-x86), or give its path with --qemu")
    try:
        busybox = find_busybox(args.busybox)
    except BusyboxError as e:
        return fail(EXIT_ENVIRONMENT, f"error: {e}")

    checked = fwc.check(args.file)
    if checked.machine is None or not checked.ok:
        progress.close()
        sys.stderr.write(checked.render_diagnostics() + "\n")
        return fail(EXIT_INVALID, "error: the description has errors; nothing was booted")
    m = checked.machine
    from fwc import boards

    if not boards.is_qemu(m.board) or m.arch != "x86_64":
        return fail(EXIT_INVALID, f"error: fwc boot needs an x86_64 machine on board qemu-q35 or qemu-pc (this "
                                  f"one: {m.arch} board '{m.board}')")
    if m.board_options.accel == "kvm":
        why = kvm_unusable(qemu)
        if why is not None:
            return fail(EXIT_ENVIRONMENT, f"error: this machine needs KVM ('accel kvm' on its board), and this host has "
                                     f"none: {why}; fwc boot does not boot it under TCG, which gives it another CPU "
                                     "and refuses APIC IDs of 255 or more")
    cmdline, notes = kernel_cmdline(m.cmdline, args.cmdline + (["fwc.events=1"] if m.events else []))
    for n in notes:
        progress.note("note: " + n)

    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="fwc-boot-")
    p = lambda name: os.path.join(work, name)  # noqa: E731
    progress.note(f"serial log: {p('serial.log')}")

    from ..initrd import build_archive

    progress.phase("building the initrd")
    override = build_archive(m)
    base = None
    if args.initrd:
        with open(args.initrd, "rb") as given:
            base = given.read()
    image = combine(override, base, fwc_archive(busybox))
    with open(p("initrd.img"), "wb") as out:
        out.write(image)
    if override:
        with open(p("acpi-override.cpio"), "wb") as out:
            out.write(override)

    r = fwc.compile(args.file, backends=["qemu"], options={"qemu.qemu": qemu, "qemu.kernel": os.path.abspath(
        args.kernel), "qemu.initrd": p("initrd.img"), "qemu.append": cmdline})
    if r.diagnostics:
        progress.close()
        sys.stderr.write(r.render_diagnostics() + "\n")
    if not r.ok:
        return fail(EXIT_INVALID)
    argv = json.loads(r.artifact("qemu/argv.json").text)
    with open(p("argv.txt"), "w") as text:
        text.write(" ".join(shlex.quote(a) for a in argv) + "\n")
    short = problem(argv)
    if short is not None:
        return fail(EXIT_ENVIRONMENT, f"error: {short}; nothing was booted")

    initrd_base = linuxboot_initrd_base(m, len(image), bz)
    booted = machine_as_booted(m, cmdline, initrd_base, len(image))
    pred = None
    if not args.no_predict:
        progress.phase("predicting the boot")
        with contextlib.suppress(ImportError, OSError, ValueError):   # the build figures, read outside the timing
            from fwc_plugins.boot import cached_build

            cached_build(os.path.abspath(args.kernel))
        # the bzImage gives the backend its build figures and its version (a header without a version
        # string: the version -O gave, or the default, with the recorded figures)
        pred = predict(fwc, booted, args.predictor, kernel=os.path.abspath(args.kernel) if bz.series else None,
                       options=options)
        if pred.observation is not None and "ramdisk" not in pred.observation:
            # fwc's own prediction of where QEMU loads the initrd (Linux prints the page-aligned end)
            end = initrd_base + ((len(image) + 4095) & ~4095) - 1
            pred.observation["ramdisk"] = f"[mem {initrd_base:#010x}-{end:#010x}]"
        if pred.observation is not None:
            with open(p("predicted.json"), "w") as text:
                json.dump(pred.observation, text, indent=1, sort_keys=True)

    from . import after
    from .progress import sanitize

    build = None
    if bz.series and options.get("kernel"):
        with contextlib.suppress(ImportError, OSError, ValueError):
            from fwc_plugins.boot import cached_build

            build = cached_build(os.path.abspath(args.kernel))
    plan = after.plan(booted, cmdline, options.get("kernel") or "6.1", build)
    progress.phase(f"booting {os.path.basename(args.file)} under QEMU (TCG)"
                   + (" and playing its events" if m.events else ""))
    if m.events:
        run_ = after.run(argv, work, plan, args.timeout)
        run_ = run_._replace(console=sanitize(run_.console), stderr=sanitize(run_.stderr))
    else:
        run_ = run_qemu(argv, p("serial.log"), p("qemu-stderr.txt"), args.timeout,
                        tick=lambda t, line: progress.booting(t, args.timeout, line))
    if not args.keep:
        for name in ("initrd.img",):
            with contextlib.suppress(OSError):
                os.unlink(p(name))
    progress.phase("reading what the kernel decided")
    real, info = parse_serial(run_.console) if run_.status == "ok" else (None, {})
    if real is None:
        progress.close(ok=False)
        for line in _why(run_, args.timeout, p("serial.log")):
            _err(line)
        if run_.stderr.strip():
            sys.stderr.write("QEMU's messages:\n" + run_.stderr.strip()[-2000:] + "\n")
        tail = "\n".join(run_.console.splitlines()[-15:])
        if tail.strip():
            sys.stderr.write("the guest's last console lines:\n" + tail + "\n")
        return EXIT_NO_ANSWER
    with open(p("real.json"), "w") as text:
        json.dump(real, text, indent=1, sort_keys=True)

    progress.phase("comparing")
    rows = compare(pred.observation if pred else None, real) + after.rows(plan, booted, cmdline, run_,
                                                                          not args.no_predict)
    progress.close()
    if args.json:
        pobs = pred.observation if pred else None
        json.dump({"agree": bool(pred and pred.observation and agree(rows)), "predicted": _without_lines(pobs),
                   "real": _without_lines(real), "boot_seconds": round(run_.seconds, 3),
                   "predict_seconds": round(pred.seconds, 6) if pred else None, "workdir": work,
                   "kernel_release": info.get("release", ""), "cmdline": info.get("cmdline", cmdline),
                   "predicted_kernel": options.get("kernel"),
                   "lines": {"predicted": (pobs or {}).get("lines"), "real": real.get("lines", {}),
                             "approximate": (pobs or {}).get("approximate", [])},
                   "counts": counts(rows),
                   "rows": [r._asdict() | {"differs": r.differs, "status": r.status} for r in rows]},
                  sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        from .compare import fit

        head = f"kernel {info.get('release', '?')}: "
        from fwc.diagnostics import visible

        # cmdline, names and OEM IDs come from the description or the guest: shown as \x1b
        sys.stdout.write(visible("\n".join(fit(head, info.get("cmdline", cmdline), width)), "\t\n") + "\n")
        if not args.no_predict and options.get("kernel"):
            sys.stdout.write(f"prediction for Linux {options['kernel']} (the bzImage's version)\n")
        sys.stdout.write(visible(render(rows, width), "\t\n") + "\n")
    if args.no_predict:
        sys.stdout.write(f"boot {run_.seconds:.1f} s\n") if not args.json else None
        return EXIT_AGREE
    assert pred is not None  # predicted unless --no-predict
    if pred.observation is None:
        return fail(EXIT_NO_ANSWER, f"error: no prediction: {pred.problem}")
    diff = sum(1 for r in rows if r.differs)
    speed = run_.seconds / pred.seconds if pred.seconds > 0 else float("inf")
    if not args.json:
        sys.stdout.write(f"prediction {pred.seconds * 1000:.1f} ms, boot {run_.seconds:.1f} s ({speed:.0f}x); "
                         + ("prediction and boot agree\n" if agree(rows) else f"{diff} difference(s) marked '!'\n"))
    return EXIT_AGREE if agree(rows) else EXIT_DIFFER
