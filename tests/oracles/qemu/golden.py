"""Reading and writing the golden files under tests/golden/qemu/<case>/."""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

from .boot import BootResult
from .cases import Case
from .layout import Layout

REPO = Path(__file__).resolve().parents[3]
GOLDEN_DIR = REPO / "tests" / "golden" / "qemu"

#: ACPI tables dumped by the guest but kept out of the golden folders (none for now: all
#: of QEMU's tables are small).  The tests rely on SRAT, SLIT, APIC, RSDT, FACP, DSDT.
SKIP_TABLES: frozenset[str] = frozenset()
#: Tables larger than this are not stored (only length and sha256 go into case.json);
#: it keeps the golden folders small (the 255-CPU DSDT is 31 KB of CPU-hotplug AML).
MAX_STORED_TABLE = 16 * 1024


def acpi_checksum_ok(name: str, data: bytes) -> bool:
    """Checksum rule: whole table sums to 0 mod 256 (RSDP: first 20 bytes; v2 also all)."""
    if name == "RSDP":
        ok = sum(data[:20]) % 256 == 0
        if len(data) >= 36 and data[15] >= 2:
            ok = ok and sum(data[:36]) % 256 == 0
        return ok
    if name == "FACS":  # no checksum field
        return True
    if len(data) < 36:
        return False
    length = int.from_bytes(data[4:8], "little")
    return length == len(data) and sum(data) % 256 == 0


def case_dir(name: str) -> Path:
    return GOLDEN_DIR / name


def load_case(name: str) -> dict:
    return json.loads((case_dir(name) / "case.json").read_text())


def load_table(name: str, sig: str) -> bytes:
    return (case_dir(name) / f"{sig}.aml").read_bytes()


def _portable_argv(argv: list[str]) -> list[str]:
    out = []
    for i, a in enumerate(argv):
        prev = argv[i - 1] if i else ""
        if i == 0:
            out.append("qemu-system-x86_64")
        elif prev == "-kernel":
            out.append("<vmlinuz>")
        elif prev == "-initrd":
            out.append("<initrd>")
        else:
            out.append(a)
    return out


def layout_summary(lay: Layout) -> dict:
    def rng(r):
        return None if r is None else [f"0x{r.start:x}", f"0x{r.end + 1:x}"]
    return {
        "ram_below_4g": rng(lay.ram_below_4g),
        "ram_above_4g": rng(lay.ram_above_4g),
        "device_memory": rng(lay.device_memory),
        "pc_ram": [{"name": r.name, "range": rng(r)} for r in lay.pc_ram],
        "numa": [{"node": n.node, "cpus": n.cpus, "size_mb": n.size_mb,
                  "plugged_mb": n.plugged_mb} for n in lay.nodes],
        "dimms": [{"id": d.id, "addr": f"0x{d.addr:x}", "size": f"0x{d.size:x}",
                   "node": d.node} for d in lay.dimms],
    }


def write_refused(case: Case, error: str, versions: dict[str, str]) -> Path:
    d = case_dir(case.name)
    d.mkdir(parents=True, exist_ok=True)
    for f in d.iterdir():
        f.unlink()
    doc = {
        "case": case.name,
        "description": case.description,
        "status": "refused by QEMU",
        "error": error,
        "machine_args": list(case.args),
        "versions": versions,
        "captured": datetime.date.today().isoformat(),
    }
    (d / "case.json").write_text(json.dumps(doc, indent=2) + "\n")
    return d


def write_case(case: Case, res: BootResult, lay: Layout) -> Path:
    d = case_dir(case.name)
    d.mkdir(parents=True, exist_ok=True)
    for f in d.iterdir():
        f.unlink()
    tables = {}
    for sig in sorted(res.tables):
        if sig in SKIP_TABLES:
            continue
        data = res.tables[sig]
        stored = len(data) <= MAX_STORED_TABLE
        if stored:
            (d / f"{sig}.aml").write_bytes(data)
        entry = {"file": f"{sig}.aml" if stored else None, "length": len(data),
                 "sha256": hashlib.sha256(data).hexdigest(),
                 "checksum_ok": acpi_checksum_ok(sig, data)}
        if sig in res.table_addrs:
            entry["address"] = f"0x{res.table_addrs[sig]:x}"
            entry["source"] = "/dev/mem"
        else:
            entry["source"] = "/sys/firmware/acpi/tables"
        tables[sig] = entry
    doc = {
        "case": case.name,
        "description": case.description,
        "status": "ok",
        "machine_args": list(case.args),
        "qemu_argv": _portable_argv(res.argv),
        "kernel_cmdline": res.cmdline,
        "versions": res.versions,
        "captured": datetime.date.today().isoformat(),
        "boot_seconds": res.seconds,
        "layout": layout_summary(lay),
        "tables": tables,
    }
    (d / "case.json").write_text(json.dumps(doc, indent=2) + "\n")
    (d / "dmesg-memory.txt").write_text("\n".join(res.memory_dmesg()) + "\n")
    (d / "zoneinfo.txt").write_text(
        "# node zone start_pfn spanned present managed (populated zones; managed varies)\n"
        + "\n".join(res.zone_lines()) + "\n")
    node_lines = [ln for ln in res.nodes_text.splitlines() if "MemFree" not in ln]
    (d / "nodes.txt").write_text("\n".join(node_lines) + "\n")
    (d / "memory-blocks.txt").write_text(
        f"block_size_bytes=0x{res.block_size:x} auto_online_blocks={res.auto_online_blocks}\n"
        + "\n".join(res.memory_runs()) + "\n")
    return d
