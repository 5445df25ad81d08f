"""Boot the representative machines of cases.py and (re)write tests/golden/qemu/<case>/.

    python tests/oracles/qemu/capture_golden.py            # all cases
    python tests/oracles/qemu/capture_golden.py a_q35_2node c_q35_3node_slit
    python tests/oracles/qemu/capture_golden.py --check     # compare with the goldens only

Boots run one at a time (TCG on 2 cores; about 10-20 s each).  Writes QEMU's own ACPI
tables (every table the guest exposes, plus RSDP/RSDT read from /dev/mem), a case.json
with the exact QEMU argv and versions, and the trimmed boot observations.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `oracles.qemu` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from oracles.qemu.boot import boot  # noqa: E402
from oracles.qemu.cases import BY_NAME, CASES  # noqa: E402
from oracles.qemu.golden import (GOLDEN_DIR, acpi_checksum_ok, case_dir,  # noqa: E402
                                       load_case, write_case, write_refused)
from oracles.qemu.layout import QemuConfigError, inspect_layout  # noqa: E402
from oracles.qemu.tools import ensure_tools  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--check", action="store_true",
                    help="boot and compare tables with the goldens instead of writing")
    ns = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    tools = ensure_tools()
    print("versions:", tools.versions())
    names = ns.cases or [c.name for c in CASES]
    bad = 0
    for name in names:
        case = BY_NAME[name]
        try:
            lay = inspect_layout(list(case.args))
        except QemuConfigError as e:
            if not case.optional:
                raise
            print(f"{name}: refused by QEMU: {e}")
            if not ns.check:
                write_refused(case, str(e), tools.versions())
            continue
        res = boot(list(case.args), case.cmdline, timeout=case.timeout)
        bad_sums = [s for s, t in res.tables.items() if not acpi_checksum_ok(s, t)]
        print(f"{name}: ok in {res.seconds:.1f}s; tables "
              + " ".join(f"{s}:{len(t)}" for s, t in sorted(res.tables.items()))
              + (f"; BAD CHECKSUM {bad_sums}" if bad_sums else ""))
        bad += bool(bad_sums)
        if ns.check:
            gold = load_case(name)
            for sig, entry in gold.get("tables", {}).items():
                got = res.tables.get(sig, b"")
                if entry["file"]:
                    same = (case_dir(name) / entry["file"]).read_bytes() == got
                else:
                    same = hashlib.sha256(got).hexdigest() == entry["sha256"]
                if not same:
                    print(f"  {sig}: differs from golden")
                    bad += 1
        else:
            d = write_case(case, res, lay)
            print(f"  wrote {d.relative_to(GOLDEN_DIR.parents[2])}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
