"""The encoder's packed SRAT/MADT entries (tables._records with ``packed``: runs of plain
entries packed from the model without records) are the bytes the records encode to, for every
shape of machine: every example and test description, and machines made to cross each switch
(x2APIC at APIC ID 255, x2APIC MADT entries from the 257th CPU, clock domains, arm64 GICC,
QEMU boards with their padding, entry lists)."""

import glob
import os

import pytest

from conftest import ROOT
from fwc import Fwc
from fwc_plugins.acpi import tables as T
from fwc_plugins.acpi.binary import AcpiEncodeError, encode

FWC = Fwc()


def _descriptions():
    for path in sorted(glob.glob(os.path.join(ROOT, "**", "*.fwc"), recursive=True)):
        if "/build/" not in path and "/.git/" not in path:
            yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()


def _machine(cpus: str, memory: str, head: str = "") -> str:
    return (f'machine "m" {{\n{head}    node 0 {{ {cpus} memory 0 size 1G {memory} }}\n'
            "    node 1 { cpus 1000 memory 1G size 1G hotpluggable memory 2G size 512M nonvolatile }\n}\n")


MADE = [
    ("x2apic switch", _machine("cpus 250-260", "")),
    ("257 CPUs", _machine("cpus 0-299", "memory 4G size 1G disabled")),
    ("forced x2apic", _machine("cpus 0-3 x2apic cpus 4-7", "")),
    ("clock domains", _machine("cpus 0-3 clock 2 cpus 4-7", "")),
    ("arm64", 'machine "a" {\n    arch arm64\n    node 0 { cpus 0-9 memory 0 size 1G }\n'
              "    node 1 { cpus 10-19 memory 1G size 1G }\n}\n"),
    ("qemu", 'machine "q" {\n    board qemu-q35\n    node 0 { cpus 0-3 memory size 1G }\n'
             "    node 1 { cpus 4-7 memory size 1G }\n    node 2 { }\n}\n"),
    ("qemu slots", 'machine "q" {\n    board qemu-q35\n    slots 2 maxmem 8G\n'
                   "    node 0 { cpus 0-3 memory size 1G }\n    node 1 { cpus 4-7 memory size 1G dimm size 1G }\n}\n"),
    ("disabled cpus", _machine("cpus 0-3 disabled cpus 4-7 online-capable", "")),
]


def _check(text: str) -> None:
    r = FWC.check(text=text, name="<t>")
    if not r.ok:
        return
    m = r.machine
    for make in (T.srat, T.madt):
        try:
            want = make(m)
            want = None if want is None else encode(want)
        except AcpiEncodeError as e:
            with pytest.raises(AcpiEncodeError, match=str(e)[:20]):
                got = make(m, packed=True)
                encode(got)
            continue
        got = make(m, packed=True)
        assert (None if got is None else encode(got)) == want, make.__name__
    assert {k: v for k, v in T.build_tables(m).items()} == {
        name: (sig, encode(t) if not isinstance(t, bytes) else t)
        for name, sig, t in ((n, s, (m.table_overrides[n].verbatim if n in m.table_overrides
                                     and m.table_overrides[n].verbatim is not None else f(m)))
                             for n, s, f in T.TABLES) if t is not None}


@pytest.mark.parametrize("name,text", list(_descriptions()), ids=lambda x: x if "\n" not in x else "")
def test_packed_as_records_descriptions(name, text):
    _check(text)


@pytest.mark.parametrize("name,text", MADE, ids=[n for n, _ in MADE])
def test_packed_as_records_made(name, text):
    r = FWC.check(text=text, name="<t>")
    assert r.ok, r.render_diagnostics()
    _check(text)


def test_packed_runs_are_whole_runs():
    """The big case really is packed: a few raw runs instead of one record per CPU."""
    r = FWC.check(text=_machine("cpus 0-299", ""), name="<t>")
    t = T.madt(r.machine, packed=True)
    assert sum(1 for e in t.entries if e.raw is not None) == 2  # Local APIC, then x2APIC from the 257th
    assert len(T.madt(r.machine).entries) > 300
