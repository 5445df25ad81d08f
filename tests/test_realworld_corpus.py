"""The real-firmware corpus (``../shared/acpi-realworld``, issue 10): every machine's tables
decompile into a description, compile back byte for byte, and say what iasl reads.

Skips when the corpus is absent; fails then under ``CI=true``.  The corpus stays outside the
repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from fwc import Fwc
from fwc_plugins.acpi import tables as T

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "acpi-realworld"))
MACHINES = sorted(os.listdir(os.path.join(ROOT, "machines"))) if os.path.isdir(ROOT) else []
FWC = Fwc()
#: tables Linux itself rejects: kept verbatim, with the reason in a note
MALFORMED = {"fwts-slit-0002": "SLIT distances below 10 (Linux rejects the whole SLIT)"}


def _corpus() -> None:
    if not MACHINES:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real-firmware corpus is missing: {ROOT}")
        pytest.skip(f"no corpus at {ROOT}")


def _tables(machine: str) -> dict[str, bytes]:
    d = os.path.join(ROOT, "machines", machine, "tables")
    return {sig: open(os.path.join(d, f"{sig}.dat"), "rb").read()
            for sig in ("SRAT", "SLIT", "APIC") if os.path.exists(os.path.join(d, f"{sig}.dat"))}


_DONE: dict[str, tuple] = {}


def _decompiled(machine: str):
    if machine not in _DONE:
        r = FWC.decompile([os.path.join(ROOT, "machines", machine, "tables")])
        assert r.ok and r.text, r.render_diagnostics()
        m = FWC.load(text=r.text)
        assert m.ok, m.render_diagnostics()
        _DONE[machine] = (r, m.machine)
    return _DONE[machine]


@pytest.mark.parametrize("machine", MACHINES or ["-"])
def test_round_trip_byte_identical(machine):
    _corpus()
    r, m = _decompiled(machine)
    out = {sig: data for sig, data in T.build_tables(m).values()}
    for sig, data in _tables(machine).items():
        assert out.get(sig) == data, sig


@pytest.mark.parametrize("machine", MACHINES or ["-"])
def test_described_without_verbatim(machine):
    _corpus()
    r, _ = _decompiled(machine)
    if machine in MALFORMED:
        assert "verbatim" in r.text and any(d.check == "acpi-verbatim" for d in r.diagnostics)
        assert "# kept as bytes: " in r.text  # the description says why
        return
    assert "verbatim" not in r.text


@pytest.mark.parametrize("machine", MACHINES or ["-"])
def test_default_compile_and_check(machine):
    _corpus()
    r, m = _decompiled(machine)
    c = FWC.compile(text=r.text)
    assert c.ok, c.render_diagnostics()
    has_memory = any(x.enabled and x.size for n in m.nodes for x in n.memory)
    if has_memory:
        assert not any(d.check == "acpi-srat-dropped" and "no enabled memory" in d.message
                       for d in c.diagnostics), c.render_diagnostics()


def _iasl(data: bytes, tmp_path, sig: str) -> str:
    p = tmp_path / f"{sig}.dat"
    p.write_bytes(data)
    subprocess.run(["iasl", "-d", str(p)], capture_output=True, cwd=tmp_path, timeout=120)
    dsl = tmp_path / f"{sig}.dsl"
    return dsl.read_text(errors="replace") if dsl.exists() else ""


def _subtables(dsl: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for line in dsl.splitlines():
        mo = re.match(r"^(?:\[[0-9A-F]+h [0-9]+ +[0-9]+\])? *(\S.*?) : (\S+)", line)
        if not mo:
            continue
        key, value = mo.group(1).strip(), mo.group(2)
        if key == "Subtable Type":
            out.append({})
        if out:
            out[-1].setdefault(key, value)
    return out


@pytest.mark.skipif(shutil.which("iasl") is None, reason="iasl is not installed")
@pytest.mark.parametrize("machine", MACHINES or ["-"])
def test_fields_agree_with_iasl(machine, tmp_path):
    _corpus()
    r, m = _decompiled(machine)
    if "verbatim" in r.text:
        pytest.skip("described as bytes")
    tables = _tables(machine)
    if "SRAT" in tables and m.arch == "x86_64":
        cpus, memory = {}, set()
        for s in _subtables(_iasl(tables["SRAT"], tmp_path, "SRAT")):
            enabled = int(s.get("Enabled", "0"), 16) == 1
            if "Apic ID" in s and enabled:
                pxm = int(s.get("Proximity Domain Low(8)", s.get("Proximity Domain", "0")), 16)
                pxm |= int(s.get("Proximity Domain High(24)", "0"), 16) << 8
                cpus.setdefault(int(s["Apic ID"], 16), pxm)
            elif "Base Address" in s and enabled:
                memory.add((int(s["Base Address"], 16), int(s["Address Length"], 16),
                            int(s["Proximity Domain"], 16)))
        assert {c.apic_id: n.pxm for n in m.nodes for c in n.cpus} == cpus
        described = {(x.base, x.size, n.pxm) for n in m.nodes for x in n.memory if x.enabled}
        window = T.qemu_window(m) if m.board.startswith("qemu-") else None
        if window:  # a QEMU board's DIMM window: implied by 'slots', on the last node
            described.add((window[0], window[1], m.nodes[-1].pxm))
        assert memory <= described | {(b, s, p) for b, s, p in memory if s == 0}
    if "SLIT" in tables:
        rows = {int(mo.group(1)): [int(x, 16) for x in mo.group(2).split()]
                for mo in re.finditer(r"Locality +(\d+) : ((?:[0-9A-F]{2} ?)+)", _iasl(tables["SLIT"], tmp_path, "SLIT"))}
        d = m.distance_matrix()
        for a in m.nodes:
            for b in m.nodes:
                if a.pxm in rows and b.pxm < len(rows[a.pxm]):
                    assert d[(a.id, b.id)] == rows[a.pxm][b.pxm], (a.pxm, b.pxm)
    if "APIC" in tables and m.arch == "x86_64":
        present = set()
        for s in _subtables(_iasl(tables["APIC"], tmp_path, "APIC")):
            if "Local Apic ID" in s and int(s.get("Processor Enabled", "0"), 16) and int(s["Local Apic ID"], 16) != 0xFF:
                present.add(int(s["Local Apic ID"], 16))
            if "Processor x2Apic ID" in s and int(s.get("Processor Enabled", "0"), 16):
                present.add(int(s["Processor x2Apic ID"], 16))
        every = [c for n in m.nodes for c in n.cpus] + list(m.unaffined_cpus)
        madt_ids = {c.apic_id for c in every if c.enabled}
        assert present <= madt_ids
