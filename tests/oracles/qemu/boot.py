"""Boot the real Debian kernel under QEMU TCG and collect what it saw and decided."""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .initramfs import initramfs_path
from .tools import Tools, ensure_tools

MARK = "@@FWC-ORACLE"
DEFAULT_CMDLINE = "console=ttyS0 nokaslr"
#: Front-end arguments of the reference boots (oracles.md §4.3).  No -nodefaults, so the
#: guest has the same default devices (and hence the same DSDT and table addresses) as the
#: boots recorded in the spec.
FRONTEND_ARGS = ["-nographic", "-no-reboot", "-nic", "none", "-serial", "stdio",
                 "-monitor", "none"]

_TS_RE = re.compile(r"^\[ *\d+\.\d+\] ?")


class BootError(RuntimeError):
    """The guest did not produce the oracle output (timeout, panic, QEMU refused)."""

    def __init__(self, msg: str, result: "BootResult"):
        super().__init__(msg)
        self.result = result


@dataclasses.dataclass
class MemoryBlock:
    index: int
    node: int
    state: str
    zones: str  # valid_zones with '+' for spaces, or "none"


@dataclasses.dataclass
class BootResult:
    status: str                  # ok | timeout | no-output | qemu-error
    returncode: int | None
    seconds: float
    argv: list[str]
    cmdline: str
    serial_log: Path
    workdir: Path
    versions: dict[str, str]
    console: str = ""            # whole serial log, \r removed
    qemu_stderr: str = ""
    info: dict[str, str] = dataclasses.field(default_factory=dict)
    tables: dict[str, bytes] = dataclasses.field(default_factory=dict)
    table_addrs: dict[str, int] = dataclasses.field(default_factory=dict)  # RSDP/RSDT/XSDT
    missing_tables: list[str] = dataclasses.field(default_factory=list)
    dmesg_raw: str = ""
    dmesg: str = ""              # timestamps stripped
    zoneinfo: str = ""
    meminfo: str = ""
    nodes_text: str = ""
    online_log: str = ""
    block_size: int = 0
    auto_online_blocks: str = ""
    memory_blocks: list[MemoryBlock] = dataclasses.field(default_factory=list)
    iomem: str = ""
    memmap: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def zones(self) -> list[tuple[int, str, int, int, int, int]]:
        """Populated zones: (node, zone, start_pfn, spanned, present, managed)."""
        return parse_zoneinfo(self.zoneinfo)

    def zone_lines(self) -> list[str]:
        return [" ".join(str(v) for v in z) for z in self.zones()]

    def memory_runs(self) -> list[str]:
        """Runs of blocks with the same node/state/zones, in the spec's format."""
        out: list[str] = []
        bs = self.block_size
        blocks = sorted(self.memory_blocks, key=lambda b: b.index)
        i = 0
        while i < len(blocks):
            j = i
            while (j + 1 < len(blocks) and blocks[j + 1].index == blocks[j].index + 1
                   and (blocks[j + 1].node, blocks[j + 1].state, blocks[j + 1].zones)
                   == (blocks[i].node, blocks[i].state, blocks[i].zones)):
                j += 1
            a, b = blocks[i], blocks[j]
            out.append(f"[mem 0x{a.index * bs:09x}-0x{(b.index + 1) * bs - 1:09x}] "
                       f"blocks {a.index}-{b.index} node{a.node} {a.state} zones={a.zones}")
            i = j + 1
        return out

    def dmesg_lines(self, pattern: str | re.Pattern | None = None) -> list[str]:
        lines = self.dmesg.splitlines()
        if pattern is None:
            return lines
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [ln for ln in lines if rx.search(ln)]

    def memory_dmesg(self) -> list[str]:
        """The memory-relevant dmesg lines (oracles.md §4.3), timestamps stripped."""
        return memory_lines(self.dmesg)


_MEM_KEEP = re.compile(
    r"BIOS-e820|e820: (update|remove)|^modified|ACPI: (RSDP|RSDT|XSDT|SRAT|SLIT|APIC|HMAT|"
    r"Reserving SRAT|Reserving SLIT|Table Upgrade|.*found in initrd|.*override)|"
    r"SRAT|SLIT|NUMA|NODE_DATA|Zone ranges|^  (DMA|DMA32|Normal|Movable|Device) |"
    r"Movable zone start|^  Node \d+: 0x|Early memory node ranges|^  node +\d+: \[mem|"
    r"Initmem setup|^On node|Fallback order|zonelists|Policy zone|Command line:|Faking|"
    r"No NUMA|hotplug|movable|kernelcore|Initializing node|RAMDISK:|memblock|"
    r"Memory: \d+K/")
_MEM_DROP = re.compile(r"smpboot|sched:|pci_bus|clocksource|Unknown NUMA node")
#: CPU enumeration lines kept despite the drop list (possible/hotplug CPUs, x2APIC).
_CPU_KEEP = re.compile(r"smpboot: Allowing \d+ CPUs|setup_percpu: NR_CPUS|"
                       r"ACPI: Using ACPI \(MADT\)|x2apic")


def memory_lines(dmesg: str) -> list[str]:
    out = []
    for ln in dmesg.splitlines():
        if _CPU_KEEP.search(ln) or (_MEM_KEEP.search(ln) and not _MEM_DROP.search(ln)):
            out.append(ln)
    return out


def strip_timestamps(text: str) -> str:
    return "\n".join(_TS_RE.sub("", ln) for ln in text.splitlines())


def parse_zoneinfo(text: str) -> list[tuple[int, str, int, int, int, int]]:
    rows = []
    cur: dict | None = None

    def flush() -> None:
        if cur and cur.get("present", 0) > 0:
            rows.append((cur["node"], cur["zone"], cur.get("start_pfn", 0),
                         cur.get("spanned", 0), cur["present"], cur.get("managed", 0)))
    for ln in text.splitlines():
        m = re.match(r"Node (\d+), zone +(\S+)", ln)
        if m:
            flush()
            cur = {"node": int(m.group(1)), "zone": m.group(2)}
            continue
        if cur is None:
            continue
        m = re.match(r"\s+(spanned|present|managed|start_pfn):?\s+(\d+)", ln)
        if m and m.group(1) not in cur:
            cur[m.group(1)] = int(m.group(2))
    flush()
    return rows


def _sections(console: str) -> list[tuple[list[str], list[str]]]:
    """Cut the console into (BEGIN-args, body lines) pairs."""
    out = []
    cur: list[str] | None = None
    body: list[str] = []
    for ln in console.splitlines():
        if ln.startswith(MARK + " BEGIN "):
            cur = ln[len(MARK) + 7:].split()
            body = []
        elif ln.startswith(MARK + " END ") and cur is not None:
            out.append((cur, body))
            cur = None
        elif cur is not None:
            body.append(ln)
    return out


def _b64(lines: list[str]) -> bytes:
    return base64.b64decode("".join(ln.strip() for ln in lines), validate=True)


def _parse_output(res: BootResult) -> None:
    for args, body in _sections(res.console):
        kind = args[0]
        text = "\n".join(body)
        if kind == "info":
            for ln in body:
                k, _, v = ln.partition("=")
                res.info[k] = v
        elif kind == "dmesg":
            res.dmesg_raw = text
            res.dmesg = strip_timestamps(text)
        elif kind == "zoneinfo":
            res.zoneinfo = text
        elif kind == "meminfo":
            res.meminfo = text
        elif kind == "nodes":
            res.nodes_text = text
        elif kind == "online":
            res.online_log = text
        elif kind == "iomem":
            res.iomem = text
        elif kind == "memmap":
            res.memmap = text
        elif kind == "memory":
            for ln in body:
                if ln.startswith("block_size_bytes="):
                    res.block_size = int(ln.split("=", 1)[1], 16)
                elif ln.startswith("auto_online_blocks="):
                    res.auto_online_blocks = ln.split("=", 1)[1]
                else:
                    m = re.match(r"(\d+) node=(-?\d+) state=(\S+) zones=(\S+)", ln)
                    if m:
                        res.memory_blocks.append(MemoryBlock(
                            int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)))
        elif kind in ("table", "memtable"):
            try:
                data = _b64(body)
            except (binascii.Error, ValueError):
                continue  # corrupted by interleaved console output; leave it out
            res.tables[args[1]] = data
            if kind == "memtable" and len(args) > 2:
                res.table_addrs[args[1]] = int(args[2], 16)
    for ln in res.console.splitlines():
        if ln.startswith(MARK + " MISSING table "):
            res.missing_tables.append(ln.split()[-1])
    if not res.dmesg:
        # Fall back to the kernel's console output (everything up to the first marker).
        pre = res.console.split(MARK, 1)[0]
        res.dmesg_raw = "\n".join(ln for ln in pre.splitlines() if _TS_RE.match(ln))
        res.dmesg = strip_timestamps(res.dmesg_raw)


@contextlib.contextmanager
def _boot_lock(cache: Path):
    """Serialise boots across processes: two TCG guests on 2 cores slow each other down."""
    with open(cache / "boot.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=30)


def qemu_argv(tools: Tools, qemu_args: list[str], initrd: Path, cmdline: str) -> list[str]:
    argv = [tools.qemu, "-accel", "tcg"]
    if "-cpu" not in qemu_args:
        argv += ["-cpu", "max"]  # what the reference results used (AMD HT-hole e820 entry)
    argv += list(qemu_args) + FRONTEND_ARGS
    argv += ["-kernel", str(tools.kernel), "-initrd", str(initrd), "-append", cmdline]
    return argv


def _prune_runs(runs: Path, keep: int = 40) -> None:
    dirs = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for p in dirs[:-keep]:
        shutil.rmtree(p, ignore_errors=True)


def boot(qemu_args: list[str], cmdline: str = DEFAULT_CMDLINE,
         early_cpio: bytes | None = None, timeout: float = 120, *,
         online: str | None = None, tables: list[str] | None = None,
         workdir: str | Path | None = None, check: bool = True) -> BootResult:
    """Boot the Debian kernel with `qemu_args` (machine description only).

    `cmdline` is the kernel command line; ``panic=-1`` is appended unless a ``panic=`` is
    given, so that a panic ends QEMU (-no-reboot) instead of hanging until the timeout.
    `early_cpio` (e.g. from ``acpi_override_cpio``) is prepended uncompressed to the gzip
    initramfs.  `online` (online|online_movable|online_kernel) makes /init online every
    offline memory block before printing.  `tables` restricts the dumped /sys tables.
    QEMU is always killed on timeout and never left running.  With `check` (default) a
    BootError is raised unless the guest printed its whole report.
    """
    tools = ensure_tools()
    if "panic=" not in cmdline:
        cmdline = cmdline + " panic=-1"
    if online:
        cmdline += f" oracle.online={online}"
    if tables:
        cmdline += " oracle.tables=" + ",".join(tables)
    initrd = initramfs_path(tools.busybox, tools.cache)
    if workdir is None:
        runs = tools.cache / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        _prune_runs(runs)
        wd = Path(tempfile.mkdtemp(prefix=time.strftime("boot-%Y%m%d-%H%M%S-"), dir=runs))
    else:
        wd = Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
    if early_cpio:
        combined = wd / "combined.img"
        combined.write_bytes(bytes(early_cpio) + initrd.read_bytes())
        initrd = combined
    argv = qemu_argv(tools, qemu_args, initrd, cmdline)
    (wd / "argv.txt").write_text("\n".join(argv) + "\n")
    serial = wd / "serial.log"
    errf = wd / "qemu-stderr.txt"
    status = "ok"
    with _boot_lock(tools.cache):
        t0 = time.monotonic()
        with open(serial, "wb") as out, open(errf, "wb") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
            try:
                rc: int | None = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                status, rc = "timeout", None
            finally:
                _kill(proc)
        secs = time.monotonic() - t0
    console = serial.read_bytes().decode("utf-8", "replace").replace("\r", "")
    res = BootResult(status=status, returncode=rc, seconds=round(secs, 2), argv=argv,
                     cmdline=cmdline, serial_log=serial, workdir=wd,
                     versions=tools.versions(), console=console,
                     qemu_stderr=errf.read_text(errors="replace"))
    _parse_output(res)
    if res.status == "ok" and f"{MARK} DONE" not in console:
        res.status = "qemu-error" if (rc and "qemu-system" in res.qemu_stderr) else "no-output"
    if check and not res.ok:
        tail = "\n".join(console.splitlines()[-25:])
        raise BootError(f"QEMU boot {res.status} after {res.seconds}s (rc={rc}); "
                        f"stderr: {res.qemu_stderr.strip()[-1500:]}\n"
                        f"last console lines:\n{tail}\n(log: {serial})", res)
    return res
