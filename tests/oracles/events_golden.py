"""Record a real ``fwc boot`` of a machine with events as a golden for tests/test_events.py:
the guest's marker sections after boot (the info, the memory blocks and every step) from
serial.log, QEMU's readings per step (qemu-steps.json) and where the initrd was.

    python tests/oracles/events_golden.py WORKDIR NAME     # WORKDIR: fwc boot --keep WORKDIR
"""

from __future__ import annotations

import json
import os
import re
import sys


def record(work: str, name: str, root: str) -> str:
    console = open(os.path.join(work, "serial.log"), encoding="utf-8", errors="replace").read().replace("\r", "")
    keep, cur = [], None
    for ln in console.splitlines():
        m = re.match(r"@@FWC-BOOT (BEGIN|END) (\S+)", ln)
        if m and (m.group(2) in ("info", "memory") or m.group(2).startswith("step-")):
            keep.append(ln)
            cur = m.group(2) if m.group(1) == "BEGIN" else None
        elif cur is not None:
            keep.append(ln)
    keep.append("@@FWC-BOOT DONE")
    pred = json.load(open(os.path.join(work, "predicted.json")))
    base = int(re.match(r"\[mem (0x[0-9a-f]+)-", pred["ramdisk"]).group(1), 16)
    out = os.path.join(root, "tests", "golden", "events", name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "console.txt"), "w") as f:
        f.write("\n".join(keep) + "\n")
    with open(os.path.join(out, "qemu-steps.json"), "w") as f:
        steps = [{k: v for k, v in s.items() if k != "events"} for s in json.load(open(os.path.join(work,
                                                                                           "qemu-steps.json")))]
        json.dump({"initrd_base": base, "initrd_size": os.path.getsize(os.path.join(work, "initrd.img")),
                   "steps": steps}, f, indent=1)
    return out


if __name__ == "__main__":
    print(record(sys.argv[1], sys.argv[2], os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))))))
