"""Measure what SeaBIOS (QEMU 7.2) reserves at the top of low RAM, and where QEMU's ACPI
tables land, for a QEMU machine: boot the Debian kernel just long enough for it to print
the e820 map and the ACPI table headers, then kill QEMU.

    python bench/seabios_tail.py -- -machine q35 -smp 2,maxcpus=255,sockets=255 -m 4G
    python bench/seabios_tail.py FILE.fwc        # the machine as fwc's qemu backend runs it

Prints the usable low-RAM end, the reserved tail (low end - usable end) and the ACPI lines;
for a .fwc file also what fwc's model predicts (plugins/boot/seabios.py, firmware.dsdt_length)
and whether each agrees.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def kernel() -> str:
    base = os.path.expanduser(os.environ.get("FWC_ORACLE_CACHE", "~/.cache/fwc-oracles")) + "/kernel"
    for d in sorted(os.listdir(base)):
        bd = os.path.join(base, d, "boot")
        for f in os.listdir(bd) if os.path.isdir(bd) else []:
            if f.startswith("vmlinuz"):
                return os.path.join(bd, f)
    raise SystemExit("no cached kernel (run the QEMU oracle once)")


def machine_args(path: str) -> list[str]:
    from fwc.api import Fwc

    r = Fwc().compile(path, backends=["qemu"], options={})
    argv = json.loads(r.artifact("qemu/argv.json").text)
    i = argv.index("-machine")
    j = argv.index("-nographic") if "-nographic" in argv else len(argv)
    return argv[i:j]


def measure(args: list[str], timeout: float = 40.0) -> dict:
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max"] + [a for a in args] + [
        "-nographic", "-no-reboot", "-nic", "none", "-serial", "stdio", "-monitor", "none",
        "-kernel", kernel(), "-append", "console=ttyS0 nokaslr panic=-1 ignore_loglevel"]
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        t0 = time.monotonic()
        text = ""
        while time.monotonic() - t0 < timeout:
            time.sleep(0.5)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
            if "Zone ranges" in text or p.poll() is not None:
                break
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    res: dict = {"args": args, "acpi": []}
    for ln in text.splitlines():
        ln = re.sub(r"^\[ *\d+\.\d+\] ?", "", ln.strip())
        m = re.match(r"BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (\w+)", ln)
        if m:
            s, e = int(m.group(1), 16), int(m.group(2), 16) + 1
            if m.group(3) == "usable" and s == 0x100000:
                res["usable_end"] = e
            if m.group(3) == "reserved" and s == res.get("usable_end"):
                res["tail"] = e - s
        if re.match(r"ACPI: [A-Z]{4} 0x", ln) or ln.startswith("ACPI: RSDP"):
            res["acpi"].append(ln)
    return res


def compare_model(path: str, r: dict) -> dict:
    """fwc's prediction of the measured values for the machine in ``path``."""
    from fwc.api import Fwc
    from fwc_plugins.boot import firmware

    m = Fwc().load(path).machine
    hz = firmware.high_zone(m)
    real = {ln.split()[1]: (int(ln.split()[2], 16), int(ln.split()[3], 16)) for ln in r["acpi"]}
    dsdt, estimated = firmware.dsdt_length(m)
    out = {"tail": [hex(hz.reserved_tail), hex(r.get("tail", 0))],
           "FACS": [hex(hz.acpi_base), hex(real.get("FACS", (0, 0))[0])],
           "DSDT length": [dsdt, real.get("DSDT", (0, 0))[1], "estimated" if estimated else "exact"],
           "RSDP": [hex(firmware._rsdp_address(m)), hex(real.get("RSDP", (0, 0))[0])]}
    return {k: v + (["agree"] if v[0] == v[1] else ["DIFFER"]) for k, v in out.items()}


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "--":
        args = a[1:]
    else:
        args = machine_args(a[0])
    r = measure(args)
    print(json.dumps({k: (hex(v) if isinstance(v, int) else v) for k, v in r.items() if k != "args"}, indent=1))
    if a and a[0] != "--":
        print(json.dumps(compare_model(a[0], r), indent=1))
