"""Playing a machine's events on the real kernel: QEMU with a QMP socket, and the serial
console on a socket, over which fwc boot tells the guest's init what to do next.

The console is on a socket: fwc logs it and writes to the guest through it.  One step at a time: fwc does QEMU's part over QMP (``object-add`` + ``device_add`` of a
pc-dimm, ``device_del`` and the wait for ``DEVICE_DELETED``, or for the guest's failing
``_OST``), then sends the guest one line ``step I ACTION ARGS`` (``write TYPE BLOCKS``:
echo TYPE into each block's state; ``wait BLOCKS STATE``: wait for hot-added blocks; ``none``);
the guest acts, prints the step's readings on the console between marker lines and answers
``ack I``.  After the last step fwc reads ``query-memory-devices`` per step, sends ``done``
and the guest powers off.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from typing import Any

STEP_TIMEOUT = 120.0
EJECT_TIMEOUT = 60.0


class Qmp:
    """A minimal QMP client: commands, and the events that arrived meanwhile."""

    def __init__(self, path: str, deadline: float):
        self.sock = _connect(path, deadline)
        self.buf = b""
        self.events: list[dict] = []
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self, timeout: float = 30.0) -> dict:
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def cmd(self, name: str, **args: Any) -> dict:
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            r = self._read()
            if "event" in r:
                self.events.append(r)
                continue
            return r

    def wait_event(self, names: tuple[str, ...], timeout: float) -> dict | None:
        end = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] in names:
                    return self.events.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                r = self._read(left)
            except (socket.timeout, TimeoutError):
                return None
            if "event" in r:
                self.events.append(r)


def _connect(path: str, deadline: float) -> socket.socket:
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no socket {path}")
            time.sleep(0.1)


class Line:
    """The guest's console (ttyS0 on a socket), line by line; everything read is logged."""

    def __init__(self, path: str, deadline: float, log):
        self.sock = _connect(path, deadline)
        self.buf = b""
        self.log = log

    def drain(self, timeout: float) -> None:
        """Log the console until QEMU closes it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.1, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return
            if not chunk:
                return
            self.log.write(chunk)

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\n")

    def expect(self, word: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\n")
                if line.decode(errors="replace").strip() == word:
                    return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            if not chunk:
                return False
            self.log.write(chunk)
            self.buf += chunk.replace(b"\r", b"")


def events_argv(argv: list[str], work: str) -> list[str]:
    """QEMU's argv with the QMP socket, and the serial console on a socket instead of stdio
    (the same COM1: a second serial port would change QEMU's DSDT)."""
    out = list(argv)
    i = next(i for i in range(len(out) - 1) if out[i] == "-serial" and out[i + 1] == "stdio")
    out[i + 1] = "chardev:fwccon"
    return out + ["-qmp", f"unix:{os.path.join(work, 'qmp.sock')},server=on,wait=off",
                  "-chardev", f"socket,id=fwccon,path={os.path.join(work, 'con.sock')},server=on,wait=on"]


def play(argv: list[str], work: str, serial_path: str, stderr_path: str, steps: list, timeout: float
         ) -> tuple[str, int | None, float, list[dict]]:
    """Run QEMU and play ``steps`` (the prediction's, for the actions: which DIMM, which
    blocks).  Returns (status, QEMU's exit status, seconds, per step QEMU's readings:
    ``{"outcome": …, "dimms": [...]}``)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    status, rc, seen = "ok", None, []
    with open(serial_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True)
        try:
            line = Line(os.path.join(work, "con.sock"), t0 + 30, out)
            qmp = Qmp(os.path.join(work, "qmp.sock"), t0 + 30)
            if not line.expect("ready", max(1.0, deadline - time.monotonic())):
                raise TimeoutError("the guest never got to its event loop")
            for st in steps:
                got = _one_step(qmp, line, st)
                got["dimms"] = _dimms(qmp)
                seen.append(got)
                if not line.expect(f"ack {st.index}", min(STEP_TIMEOUT, max(1.0, deadline - time.monotonic()))):
                    raise TimeoutError(f"step {st.index} ({st.event}) gave no answer")
            line.send("done")
            line.drain(max(1.0, deadline - time.monotonic()))
            rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except (TimeoutError, ConnectionError, OSError, subprocess.TimeoutExpired, ValueError) as e:
            status = "timeout" if isinstance(e, (TimeoutError, subprocess.TimeoutExpired)) else "qemu-error"
            with open(stderr_path, "ab") as f:
                f.write(f"fwc: {e}\n".encode())
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(timeout=30)
    return status, rc, time.monotonic() - t0, seen


def _one_step(qmp: Qmp, line: Line, st) -> dict:
    """QEMU's part of one step, then the guest's line; QEMU's outcome of a DIMM step."""
    from ..boot import block_ids

    got: dict = {}
    action = st.event.split()[0]
    if st.index and action == "add":
        qid, size, node, base = st.dimm
        r = qmp.cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "mem-" + qid, "size": size})
        args: dict = {"driver": "pc-dimm", "id": qid, "memdev": "mem-" + qid, "node": node}
        if base >= 0:
            args["addr"] = base
        r2 = qmp.cmd("device_add", **args) if "error" not in r else r
        if "error" in r2:
            got["outcome"] = "refused by QEMU: " + r2["error"].get("desc", "")
        ids = " ".join(str(b) for b in st.blocks_touched)
        want = "online" if any(" state=online " in b for b in st.blocks
                               if set(block_ids(b)) & set(st.blocks_touched)) else "offline"
        line.send(f"step {st.index} wait {want} {ids}")
    elif st.index and action == "remove":
        qid = st.dimm[0]
        r = qmp.cmd("device_del", id=qid)
        if "error" in r:
            got["outcome"] = "device_del: " + r["error"].get("desc", "")
        else:
            end = time.monotonic() + EJECT_TIMEOUT
            while True:  # _OST 0x80 (eject in progress) comes first; then _EJ0, or a failing _OST
                e = qmp.wait_event(("DEVICE_DELETED", "ACPI_DEVICE_OST"), max(0.0, end - time.monotonic()))
                got.setdefault("events", []).append(e)
                info = (e or {}).get("data", {}).get("info", {})
                if e is None or e["event"] == "DEVICE_DELETED" or (
                        info.get("device") == qid and info.get("source") == 3 and info.get("status") != 0x84):
                    break  # 0x84: ACPI_OST_SC_EJECT_IN_PROGRESS
            if e is None:
                got["outcome"] = "no answer to the eject"
            elif e["event"] == "DEVICE_DELETED":
                got["outcome"] = "removed"
            else:
                got["outcome"] = "eject refused"
        line.send(f"step {st.index} none")
    elif st.index and action == "set":
        line.send(f"step {st.index} set {st.event.split()[1]} {st.event.split()[2]}")
    elif st.index and st.blocks_touched:
        line.send(f"step {st.index} write {action} " + " ".join(str(b) for b in st.blocks_touched))
    else:
        line.send(f"step {st.index} none")
    return got


def _dimms(qmp: Qmp) -> list[str]:
    r = qmp.cmd("query-memory-devices")
    out = []
    for d in r.get("return", []):
        v = d.get("data", {})
        out.append((v.get("slot", -1), f"{v.get('id')} slot={v.get('slot')} addr={v.get('addr', 0):#x} "
                                       f"size={v.get('size', 0):#x} node={v.get('node')}"))
    return [s for _, s in sorted(out)]
