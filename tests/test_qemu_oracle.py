"""Tests of the QEMU boot oracle (tests/oracles/qemu) and of its golden files.

The oracle needs qemu-system-x86, busybox-static and the Debian kernel (installed or
fetched by ensure_tools()).  When they cannot be obtained the tests skip, except under
CI=true where they fail.  Boot tests (10-20 s each under TCG) carry the `boot` marker.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

from oracles.qemu import acpi_override_cpio, boot, inspect_layout  # noqa: E402
from oracles.qemu.cases import BY_NAME  # noqa: E402
from oracles.qemu.golden import (GOLDEN_DIR, acpi_checksum_ok,  # noqa: E402
                                       layout_summary, load_case, load_table)

GOLDEN_CASES = sorted(p.name for p in GOLDEN_DIR.iterdir()
                      if (p / "case.json").is_file()) if GOLDEN_DIR.is_dir() else []
OK_CASES = [c for c in GOLDEN_CASES if load_case(c).get("status") == "ok"]


@pytest.fixture(scope="module")
def tools(qemu_tools):
    return qemu_tools


# --- golden files (no QEMU needed) -----------------------------------------------------

@pytest.mark.parametrize("case", OK_CASES)
def test_golden_tables_are_consistent(case):
    doc = load_case(case)
    assert {"SRAT", "APIC", "RSDT", "FACP", "DSDT"} <= set(doc["tables"])
    assert ("SLIT" in doc["tables"]) == any(a.startswith("dist,") for a in doc["machine_args"])
    for sig, entry in doc["tables"].items():
        if entry["file"] is None:  # too big to keep; only its hash is recorded
            continue
        data = load_table(case, sig)
        assert len(data) == entry["length"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert acpi_checksum_ok(sig, data), f"{case}/{sig}: bad checksum"
        if sig not in ("RSDP", "FACS"):
            assert data[:4].decode() == ("APIC" if sig == "APIC" else sig[:4])
            assert data[10:16] == b"BOCHS "
    assert doc["machine_args"] == list(BY_NAME[case].args), "cases.py changed: recapture"


def test_acpi_override_cpio_layout():
    srat = b"SRAT" + (40).to_bytes(4, "little") + bytes(32)
    blob = acpi_override_cpio({"srat0": srat})
    names, off = [], 0
    while True:
        assert blob[off:off + 6] == b"070701"
        fields = [int(blob[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name = blob[off + 110: off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        data = blob[off: off + filesize]
        off = (off + filesize + 3) & ~3
        if name == "TRAILER!!!":
            break
        names.append(name)
        if name.endswith(".aml"):
            assert data == srat
    assert names == ["kernel", "kernel/firmware", "kernel/firmware/acpi",
                     "kernel/firmware/acpi/srat0.aml"]
    assert off == len(blob)


# --- paused-monitor layout (well under a second each) ----------------------------------

def test_inspect_layout_q35_4g_split(tools):
    lay = inspect_layout(["-machine", "q35", "-m", "4G"])
    assert lay.ram_ranges() == [(0, 0x80000000), (0x100000000, 0x180000000)]
    assert lay.device_memory is None


def test_inspect_layout_pc_4g_split_and_dimm_window(tools):
    lay = inspect_layout(["-machine", "pc", "-m", "4G,slots=4,maxmem=16G"])
    assert lay.ram_ranges() == [(0, 0xc0000000), (0x100000000, 0x140000000)]
    dm = lay.device_memory
    assert dm is not None and (dm.start, dm.end + 1) == (0x140000000, 0x540000000)


@pytest.mark.parametrize("case", OK_CASES)
def test_inspect_layout_matches_golden(tools, case):
    lay = inspect_layout(list(BY_NAME[case].args))
    assert layout_summary(lay) == load_case(case)["layout"]


# --- real boots -------------------------------------------------------------------------

@pytest.mark.boot
def test_boot_case_a_reproduces_golden(tools):
    case = BY_NAME["a_q35_2node"]
    res = boot(list(case.args), case.cmdline, timeout=case.timeout)
    srat = res.tables["SRAT"]
    assert acpi_checksum_ok("SRAT", srat)
    assert srat == load_table(case.name, "SRAT")
    for sig in ("APIC", "RSDT", "FACP", "DSDT"):
        assert res.tables[sig] == load_table(case.name, sig), sig
    gold_dir = GOLDEN_DIR / case.name
    want = [ln for ln in (gold_dir / "dmesg-memory.txt").read_text().splitlines()
            if "SRAT" in ln or "NODE_DATA" in ln or "Initmem" in ln]
    got = [ln for ln in res.memory_dmesg()
           if "SRAT" in ln or "NODE_DATA" in ln or "Initmem" in ln]
    assert got == want
    gold_zones = [ln.split()[:5] for ln in (gold_dir / "zoneinfo.txt").read_text().splitlines()
                  if not ln.startswith("#")]
    assert [[str(v) for v in z[:5]] for z in res.zones()] == gold_zones
    assert res.memory_runs() == (gold_dir / "memory-blocks.txt").read_text().splitlines()[1:]


@pytest.mark.boot
def test_boot_initrd_srat_override_makes_node1_movable(tools):
    """early_cpio path: QEMU's SRAT with node 1's boot RAM marked hotpluggable and the OEM
    revision raised, supplied by initrd table upgrade (kernel-boot-cases.md §4.1)."""
    import struct

    from oracles.qemu import acpi_override_cpio
    srat = bytearray(load_table("b_q35_2node_dimm", "SRAT"))
    off = 48
    while off < len(srat):
        if srat[off] == 1 and struct.unpack_from("<Q", srat, off + 8)[0] == 0x100000000:
            srat[off + 28] |= 2  # hot pluggable
        off += srat[off + 1]
    srat[24:28] = struct.pack("<I", 2)
    srat[9] = 0
    srat[9] = -sum(srat) & 0xFF
    case = BY_NAME["b_q35_2node_dimm"]
    res = boot(list(case.args), "console=ttyS0 nokaslr movable_node",
               early_cpio=acpi_override_cpio({"srat0": bytes(srat)}), timeout=case.timeout)
    assert "ACPI: Table Upgrade: override [SRAT-BOCHS -BXPC    ]" in res.dmesg_lines()
    assert res.tables["SRAT"] == bytes(srat)
    assert "  Node 1: 0x0000000100000000" in res.dmesg_lines()
    assert [z[:5] for z in res.zones() if z[0] == 1] == [(1, "Movable", 1048576, 524288, 524288)]
