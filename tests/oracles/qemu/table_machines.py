"""Random valid QEMU machines for differential testing of the tables (issue 16), and the check.

``machines(n, seed)`` draws machines (``.fwc`` text) over what fwc models on QEMU boards:
pc and q35, ``max-ram-below-4g``, no NUMA or 1-8 nodes, memoryless nodes, CPU counts and
topologies with ``maxcpus`` (absent, hot-pluggable CPUs), DIMMs with ``slots``/``maxmem``,
SLITs (symmetric and not), OEM IDs, NVDIMMs.  A drawn machine that ``fwc check`` rejects is drawn
again (the count of rejections is kept: the generator's own bias, not a result).

``differential(machine, qemu)`` is the check, for one machine:

1. fwc compiles it (``-b acpi -b qemu``);
2. QEMU 7.2 runs fwc's own command line to the firmware (``firmware_tables.qemu_tables``);
3. fwc's SRAT, SLIT and MADT must equal QEMU's byte for byte (present or absent alike);
4. ``fwc decompile`` of QEMU's tables must give a description that checks without errors
   and describes the same nodes, CPUs (APIC ID, enabled), boot RAM, NVDIMMs and distances
   (except where the tables cannot tell: :func:`not_recoverable`; a machine without NUMA
   has no SRAT, so only its CPUs are compared).

It returns a list of problems (empty: the machine passed).  QEMU runs every machine under
TCG except the KVM ones: nested KVM on the reference host runs SeaBIOS (not Linux) with
``-cpu host,-arch-capabilities``, enough for the tables.

KVM machines (feature ``kvm``: x2APIC IDs, ``accel kvm``) need KVM that runs SeaBIOS
(``firmware_tables.kvm_runs_firmware``); without it they are only drawn and checked by fwc.

This is not the boot fuzzer (``random_machines.py``, issue 11): that one boots Linux.
"""

from __future__ import annotations

import os
import random
import tempfile
from typing import NamedTuple

MiB, GiB = 1 << 20, 1 << 30


class Drawn(NamedTuple):
    name: str
    text: str
    features: frozenset


def _size(n: int) -> str:
    return f"{n // GiB}G" if n % GiB == 0 else f"{n // MiB}M"


def draw_kvm(rng: random.Random, name: str) -> Drawn:
    """A KVM machine with x2APIC IDs (255 or more), which QEMU 7.2 accepts only with KVM's
    in-kernel irqchip: two or three sockets of many cores, a few CPUs present."""
    board = rng.choice(["qemu-q35", "qemu-pc"])
    irq = rng.choice(["", " kernel-irqchip on", " kernel-irqchip split"])
    sockets, cores = (2, rng.choice([129, 136, 144])) if board == "qemu-q35" else (3, rng.choice([65, 80]))
    width = 1 << (cores - 1).bit_length()
    lines = [f"board {board} accel kvm{irq}", f"topology sockets {sockets} cores {cores} threads 1"]
    present = rng.randint(1, 4)
    for s_ in range(sockets):
        ids = [s_ * width + c for c in range(cores)]
        on = [i for i in ids if s_ == 0 and i < present]
        off = [i for i in ids if i not in on]
        body = []
        if on:
            body.append(f"cpus {on[0]}-{on[-1]}" if len(on) > 1 else f"cpus {on[0]}")
        body.append(f"cpus {off[0]}-{off[-1]} disabled")
        body.append(f"memory size {_size(rng.choice([256 * MiB, 1 * GiB]))}")
        lines.append(f"node {s_} {{ {'  '.join(body)} }}")
    return Drawn(name, _machine(name, lines), frozenset({board, "kvm", "x2apic", "cpu-hotplug"}))


def draw(rng: random.Random, name: str) -> Drawn:
    if rng.random() < 0.05:
        return draw_kvm(rng, name)
    feats = set()
    board = rng.choice(["qemu-q35", "qemu-pc"])
    feats.add(board)
    lines = []
    opt = ""
    if rng.random() < 0.2:
        limit = rng.choice([512 * MiB, 1 * GiB, 0xA0000000, 2 * GiB, 3 * GiB, 4 * GiB])
        opt = f" max-ram-below-4g {limit:#x}"
        feats.add("max-ram-below-4g")
    lines.append(f"board {board}{opt}")
    if rng.random() < 0.2:
        oid = rng.choice(["TEST", "OEMID1", "AB,C", "X"])
        tid = rng.choice(["OEM", "TABLEID8", "T"])
        lines.append(f'oem id "{oid}" table "{tid}"')
        feats.add("oem")
    if rng.random() < 0.15:  # no NUMA
        ncpu = rng.randint(1, 8)
        lines.append(f"cpus 0-{ncpu - 1}" if ncpu > 1 else "cpus 0")
        lines.append(f"memory size {_size(rng.choice([128 * MiB, 512 * MiB, 1 * GiB, 3 * GiB, 5 * GiB]))}")
        feats.add("no-numa")
        return Drawn(name, _machine(name, lines), frozenset(feats))
    nnodes = rng.randint(1, 8)
    feats.add(f"nodes={nnodes}")
    sizes = [rng.choice([0, 128 * MiB, 256 * MiB, 512 * MiB, 1 * GiB, 2 * GiB, 3 * GiB]) for _ in range(nnodes)]
    if not any(sizes):
        sizes[0] = 512 * MiB
    if 0 in sizes:
        feats.add("memoryless")
    # CPUs: a topology with possibly absent CPUs at the end (maxcpus > present)
    per_node = [rng.randint(0, 3) for _ in range(nnodes)]
    if not any(per_node):
        per_node[0] = 1
    if rng.random() < 0.3 and len(set(c for c in per_node if c)) == 1:
        feats.add("sockets-per-node")
    total = sum(per_node)
    absent = rng.randint(1, min(3, total)) if total > 1 and rng.random() < 0.3 else 0
    if absent:
        feats.add("cpu-hotplug")
    if rng.random() < 0.25:
        cores = rng.choice([c for c in (1, 2, 4) if total % c == 0])
        lines.append(f"topology sockets {total // cores} cores {cores} threads 1")
        feats.add("topology")
    apic = 0
    nodes_text = []
    dimm_nodes = []
    slots = 0
    if rng.random() < 0.35:
        slots = rng.randint(1, 4)
        dimm_nodes = [rng.randrange(nnodes) for _ in range(rng.randint(0, slots))]
        feats.add("slots")
    for i in range(nnodes):
        body = []
        if per_node[i]:
            ids = list(range(apic, apic + per_node[i]))
            apic += per_node[i]
            on = [x for x in ids if x < total - absent]
            off = [x for x in ids if x >= total - absent]
            if on:
                body.append(f"cpus {on[0]}-{on[-1]}" if len(on) > 1 else f"cpus {on[0]}")
            if off:
                body.append((f"cpus {off[0]}-{off[-1]}" if len(off) > 1 else f"cpus {off[0]}") + " disabled")
        if sizes[i]:
            body.append(f"memory size {_size(sizes[i])}")
        for _ in range(dimm_nodes.count(i)):
            nv = rng.random() < 0.4
            feats.add("nvdimm" if nv else "dimm")
            body.append(f"dimm size {_size(rng.choice([128 * MiB, 256 * MiB, 1 * GiB]))}" + (" nonvolatile" if nv else ""))
        nodes_text.append(f"node {i} {{ {'  '.join(body)} }}")
    if slots:
        ram = sum(sizes)
        lines.append(f"slots {slots} maxmem {_size(ram + rng.choice([2, 4, 8]) * GiB)}")
    lines += nodes_text
    if nnodes > 1 and rng.random() < 0.4:
        asym = rng.random() < 0.3
        feats.add("slit-asymmetric" if asym else "slit")
        for a in range(nnodes):
            for b in range(nnodes):
                if a < b or (asym and a > b):
                    lines.append(f"distance {a} {b} = {rng.randint(11, 60)}")
    return Drawn(name, _machine(name, lines), frozenset(feats))


def _machine(name: str, lines: list[str]) -> str:
    return f'machine "{name}" {{\n' + "".join(f"    {ln}\n" for ln in lines) + "}\n"


def machines(n: int, seed: int, fwc=None) -> tuple[list[Drawn], int]:
    """``n`` machines fwc accepts (no errors), from ``seed``; and how many draws it rejected."""
    from fwc.api import Fwc

    f = fwc or Fwc()
    rng = random.Random(seed)
    out, rejected = [], 0
    while len(out) < n:
        d = draw(rng, f"t{seed}_{len(out)}")
        r = f.check(text=d.text, name=f"{d.name}.fwc")
        if r.errors:
            rejected += 1
            continue
        out.append(d)
    return out, rejected


COMPARED = ("SRAT", "SLIT", "APIC")


def _summary(m) -> dict:
    """What a machine's tables say, compared between fwc's machine and the decompiled one."""
    from fwc_plugins.qemu.plan import merge

    return {
        "nodes": {n.id: (sorted((c.apic_id, c.enabled) for c in n.cpus),
                         merge((r.base, r.end) for r in n.boot_memory if r.size)) for n in m.nodes}
        if m.numa else None,
        "cpus": sorted((c.apic_id, c.enabled) for _, c in m.cpus) + sorted((c.apic_id, c.enabled) for c in m.unaffined_cpus),
        "distances": m.distance_matrix() if m.distances else None,
        "nvdimms": sorted((n.id, r.base, r.size) for n in m.nodes for r in n.dimms if r.nonvolatile),
    }


#: why the decompile of a machine's tables cannot give it back (the machine is still compared
#: table for table): pc-DIMMs leave no SRAT entry, but their device ids decide the order
#: of QEMU's NVDIMM entries (boards.qom_child_order)
HIDDEN_DIMMS = "pc-dimms beside two or more NVDIMMs"


def not_recoverable(m) -> str | None:
    dimms = [r for n in m.nodes for r in n.dimms]
    nv = sum(r.nonvolatile for r in dimms)
    return HIDDEN_DIMMS if nv >= 2 and nv < len(dimms) else None


def differential(d: Drawn, qemu: str, fwc=None, kvm: bool = True) -> list[str] | None:
    """Problems found for one machine (empty: fwc and QEMU agree both ways; for a machine
    :func:`not_recoverable` names, the decompile is only required to check).  None: a KVM
    machine and ``kvm`` False (no KVM here to run it)."""
    from fwc.api import Fwc

    from .firmware_tables import QemuRefused, qemu_tables

    f = fwc or Fwc()
    r = f.compile(text=d.text, name=f"{d.name}.fwc", backends=["acpi", "qemu"])
    if r.errors:
        return ["fwc compile: " + r.render_diagnostics()]
    if "kvm" in d.features and not kvm:
        return None
    import json

    argv = json.loads(r.artifact("qemu/argv.json").text)
    argv[0] = qemu
    mine = {a.path.split("/")[-1][:-4]: a.data for a in r.artifacts if a.path.endswith(".aml")}
    try:
        got = qemu_tables(argv)
    except QemuRefused as e:
        return [f"QEMU refused fwc's command line: {e}"]
    problems = [f"{sig}: fwc {len(mine[sig]) if sig in mine else 'none'} bytes, QEMU "
                f"{len(got[sig]) if sig in got else 'none'}" for sig in COMPARED if mine.get(sig) != got.get(sig)]
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="fwc-tdiff-") as tmp:
        for sig in COMPARED:
            if sig in got:
                with open(os.path.join(tmp, f"{sig}.aml"), "wb") as fh:
                    fh.write(got[sig])
        dec = f.decompile(tmp)
    if dec.errors or dec.text is None:
        return ["fwc decompile of QEMU's tables: " + dec.render_diagnostics()]
    back = f.check(text=dec.text, name="decompiled.fwc")
    if back.errors or back.machine is None:
        return ["the decompiled description does not check:\n" + dec.text + back.render_diagnostics()]
    a, b = _summary(r.machine), _summary(back.machine)
    if not_recoverable(r.machine):
        return []
    if not r.machine.numa:  # no SRAT: the tables carry the CPUs only
        a, b = a["cpus"], b["cpus"]
    if a != b:
        return [f"decompiled machine differs: {a} != {b}\n{dec.text}"]
    return []
