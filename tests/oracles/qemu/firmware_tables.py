"""QEMU 7.2's own ACPI tables without booting Linux: the firmware-only oracle.

QEMU builds its ACPI tables when the machine is created; SeaBIOS copies them into guest
RAM during POST and writes the RSDP into the F segment.  This harness starts QEMU with no
boot device and no kernel, lets SeaBIOS run until an RSDP with a valid checksum appears
in [0xE0000, 0x100000), pauses the guest and reads the RSDP, the root table and every
table it lists out of guest memory over QMP (``pmemsave``).  About a second per machine
under TCG; no kernel, no initrd.

``qemu_tables(argv)`` takes a QEMU command line (fwc's ``-b qemu`` argv: its console
options, ``-kernel``, ``-initrd`` and ``-append`` are replaced by a paused, headless setup
with a QMP pipe) and returns ``{signature: bytes}`` for every table the root table lists
(a second table of a signature gets ``SIG#2``), plus ``"RSDP"``.  It raises
:class:`QemuRefused` with QEMU's own message when QEMU rejects the command line.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import tempfile
import time

#: QEMU options this harness supplies itself (with their argument count)
_DROP = {"-nographic": 0, "-serial": 1, "-monitor": 1, "-kernel": 1, "-initrd": 1, "-append": 1,
         "-no-reboot": 0, "-display": 1, "-qmp": 1}


class QemuRefused(RuntimeError):
    """QEMU rejected the command line (the message is QEMU's stderr)."""


#: Under KVM this harness runs ``-cpu host,-arch-capabilities``: nested KVM here cannot set
#: that MSR (QEMU aborts "failed to set MSR 0x10a"; shared/spec/qemu.md section 7).  The CPU
#: model does not enter the SRAT, SLIT or MADT.
KVM_CPU = "host,-arch-capabilities"


def firmware_argv(argv: list[str]) -> list[str]:
    """``argv`` without console, kernel and boot options, plus a headless QMP setup."""
    out, i = [], 0
    kvm = any(a == "-accel" and b.split(",")[0] == "kvm" for a, b in zip(argv, argv[1:]))
    while i < len(argv):
        a = argv[i]
        if a in _DROP:
            i += 1 + _DROP[a]
            continue
        if a == "-cpu" and kvm:
            out += [a, KVM_CPU]
            i += 2
            continue
        out.append(a)
        i += 1
    return out + ["-display", "none", "-serial", "none", "-monitor", "none", "-qmp", "stdio",
                  "-boot", "strict=on", "-no-shutdown"]


class _Qmp:
    def __init__(self, proc: subprocess.Popen, timeout: float):
        self.p, self.deadline, self.buf = proc, time.monotonic() + timeout, b""

    def _line(self) -> dict:
        while b"\n" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("QMP: no answer")
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError("QMP: QEMU exited")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name: str, **args) -> dict:
        self.p.stdin.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.p.stdin.flush()
        while True:
            msg = self._line()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error']}")


def kvm_runs_firmware(qemu: str = "qemu-system-x86_64") -> str | None:
    """None when KVM can run SeaBIOS here (a KVM machine's tables can be read), else why not."""
    try:
        qemu_tables([qemu, "-accel", "kvm", "-cpu", KVM_CPU, "-machine", "pc", "-m", "64M"], timeout=30)
    except (QemuRefused, TimeoutError, OSError, RuntimeError) as e:
        return str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
    return None


def _checksum_ok(data: bytes) -> bool:
    return sum(data) & 0xFF == 0


def qemu_tables(argv: list[str], timeout: float = 60.0) -> dict[str, bytes]:
    """The ACPI tables QEMU 7.2 (through SeaBIOS) gives a guest started with ``argv``."""
    full = firmware_argv(argv)
    with tempfile.TemporaryDirectory(prefix="fwc-qtables-") as tmp:
        proc = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            q = _Qmp(proc, timeout)
            try:
                q._line()  # greeting
                q.cmd("qmp_capabilities")
            except (EOFError, TimeoutError):
                proc.wait(5)
                raise QemuRefused(proc.stderr.read().decode(errors="replace").strip()) from None
            path = os.path.join(tmp, "mem")

            def read(addr: int, size: int) -> bytes:
                q.cmd("pmemsave", val=addr, size=size, filename=path)
                with open(path, "rb") as f:
                    return f.read()

            rsdp = None
            while rsdp is None:
                fseg = read(0xE0000, 0x20000)
                off = fseg.find(b"RSD PTR ")
                while off >= 0:
                    if off % 16 == 0 and _checksum_ok(fseg[off:off + 20]):
                        rsdp = fseg[off:off + 36] if fseg[off + 15] >= 2 else fseg[off:off + 20]
                        break
                    off = fseg.find(b"RSD PTR ", off + 1)
                if rsdp is None:
                    if time.monotonic() > q.deadline:
                        raise TimeoutError("no RSDP in the F segment")
                    time.sleep(0.05)
            q.cmd("stop")
            out = {"RSDP": rsdp}
            if rsdp[15] >= 2 and struct.unpack_from("<Q", rsdp, 24)[0]:
                root_addr, width = struct.unpack_from("<Q", rsdp, 24)[0], 8
            else:
                root_addr, width = struct.unpack_from("<I", rsdp, 16)[0], 4

            def table(addr: int) -> bytes:
                length = struct.unpack_from("<I", read(addr, 8), 4)[0]
                return read(addr, length)

            root = table(root_addr)
            out[root[:4].decode("latin-1")] = root
            for i in range(36, len(root), width):
                addr = int.from_bytes(root[i:i + width], "little")
                t = table(addr)
                sig = t[:4].decode("latin-1")
                key, n = sig, 1
                while key in out:
                    n += 1
                    key = f"{sig}#{n}"
                out[key] = t
                if sig == "FACP":  # the DSDT and FACS hang off the FADT
                    for off, name in ((40, "DSDT"), (36, "FACS")):
                        a = struct.unpack_from("<I", t, off)[0]
                        if a:
                            out[name] = table(a)
            return out
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
