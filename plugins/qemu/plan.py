"""How a machine is realized on QEMU 7.2: the plan the argv is printed from.

``plan(machine)`` decides every piece of the command line (CPU topology and
its APIC numbering, one memdev per node, DIMM devices, distances) and, while
doing so, simulates what QEMU will build from it: the below/above-4G split,
the node ranges of QEMU's SRAT (``build_srat()``), the device-memory window
and first-fit DIMM placement.  Wherever the simulation differs from the
model, or QEMU would refuse the option, a :class:`Problem` names the check
(``qemu-*``) that reports it.  The CPU part is :mod:`.cpus`.  Stdlib and
``fwc.boards`` only (the checks use it on every compile of a QEMU-board machine),
except that for a machine whose initrd carries tables it asks the initrd plugin's
public API whether Linux reads an initrd SRAT instead of QEMU's
(:func:`linux_reads_initrd_srat`): the checks that QEMU's SRAT cannot express a
fact (``qemu-pxm``, ``qemu-hotplug-boot-ram``, ``qemu-memory-flags``,
``qemu-initiators``) stay quiet then, and ``qemu-kaslr`` applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, NamedTuple

from fwc import boards
from fwc.boards import HOLE_640K, KiB, MiB, ONE_M
from fwc.units import exact_size

from .cpus import CpuPlan, cpu_problems, plan_cpus
from .problem import Problem

if TYPE_CHECKING:
    from fwc.model import Machine

#: QEMU 7.2 limits.
MAX_NODES = 128  # hw/core/numa MAX_NODES
DIMM_ALIGN = 2 * MiB  # QEMU_VMALLOC_ALIGN: the RAM backend's region alignment on x86_64 hosts


class Memdev(NamedTuple):
    node: int
    size: int  # bytes of pc.ram this node's backend holds (0: memoryless, no backend)


class Dimm(NamedTuple):
    node: int
    base: int
    size: int
    explicit: bool  # pass addr= (QEMU's first fit would put it elsewhere)
    span: object = None
    nonvolatile: bool = False  # an NVDIMM (-device nvdimm, -machine nvdimm=on)


class Plan(NamedTuple):
    machine_type: str
    cpu: CpuPlan | None
    ram: int
    below_4g: int
    memdevs: tuple  # Memdev per node, node-id order
    slots: int
    maxmem: int
    window: tuple | None  # (base, size) of the device-memory window
    dimms: tuple  # Dimm, emission order (address order)
    distances: tuple  # (src, dst, value), what -numa dist gets
    problems: tuple
    machine_opts: tuple = ()  # "key=value" after the machine type on -machine
    numa: bool = True  # -numa options (False: a machine without NUMA, QEMU writes no SRAT)
    accel: str = "tcg"  # -accel


# ---------------------------------------------------------------------------
# sizes and ranges


def fmt_size(n: int) -> str:
    """QEMU size syntax: the largest binary suffix that divides ``n`` exactly.

    ``-m`` reads a bare number as MiB, so a byte count gets an explicit ``B``."""
    return exact_size(n, otherwise=lambda n: f"{n}B")


def human(n: int) -> str:
    return exact_size(n, iec=True)


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, adjacent-merged half-open (start, end) pairs."""
    out: list[list[int]] = []
    for s, e in sorted((s, e) for s, e in ranges if e > s):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def show_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"[{s:#x}-{e - 1:#x}]" for s, e in ranges) or "nothing"


def linux_reads_initrd_srat(m: "Machine") -> bool:
    """Whether Linux 6.1 reads an SRAT from the initrd instead of QEMU's: the initrd plugin's
    one table-upgrade model decides (:func:`fwc_plugins.initrd.effective_tables`), for
    ``override srat`` and table files alike (a rejected or dropped SRAT leaves QEMU's)."""
    if m.initrd is None or not m.initrd.overrides:
        return False
    from fwc_plugins.initrd import effective_tables

    return "SRAT" in effective_tables(m)


# ---------------------------------------------------------------------------
# memory


def _node_memdevs(m: "Machine", problems: list[Problem]) -> tuple[list[Memdev] | None, int]:
    """Memdev sizes from the model's boot RAM; (memdevs, ram)."""
    boot = [(n, r) for n in m.nodes for r in n.boot_memory if r.size]
    if not boot:
        problems.append(Problem("qemu-memory-layout", "the machine has no boot RAM; QEMU needs -m (and "
                                "defaults to 128 MiB in node 0)", m.span))
        return None, 0
    if any(r.base < 0 for _, r in boot):
        return None, 0  # memory-layout (core) reports mixed layouts
    top = max(r.end for _, r in boot)
    # RAM reaching above 4 GiB implies QEMU's split low end (2 GiB q35, 3 GiB pc); the
    # layout check then verifies QEMU really splits there.
    below = boards.below_4g_of_top(m.board, top, m.board_options.max_ram_below_4g)
    spans = {}
    for n in m.nodes:
        offs = []
        for r in n.boot_memory:
            if not r.size:
                continue
            a, b = boards.phys_to_ram(r.base, below), boards.phys_to_ram(r.end - 1, below)
            if a is None:  # starts in the PCI hole: the layout check reports it
                a = below
            if b is None:
                b = below - 1
            offs.append((a, b + 1))
        if offs:
            spans[n.id] = (min(a for a, _ in offs), max(b for _, b in offs))
    memdevs, prev = [], 0
    for n in m.nodes:
        if n.id not in spans:
            memdevs.append(Memdev(n.id, 0))
            continue
        end = spans[n.id][1]
        if HOLE_640K < end < ONE_M:
            end = ONE_M  # a node never ends inside the VGA/BIOS hole in QEMU's SRAT arithmetic
        end = max(end, prev)
        memdevs.append(Memdev(n.id, end - prev))
        prev = end
    ram = prev
    return memdevs, ram


def qemu_srat_ranges(memdevs: Iterable[Memdev], below: int) -> dict[int, list[tuple[int, int]]]:
    """The node memory ranges, as (start, end), of QEMU's own SRAT for memdevs stacked in
    node order (:func:`fwc.boards.srat_ranges`)."""
    memdevs = list(memdevs)
    out: dict[int, list[tuple[int, int]]] = {}
    for md, pieces in zip(memdevs, boards.srat_ranges((md.size for md in memdevs), below)):
        out.setdefault(md.node, []).extend((b, b + s) for b, s in pieces)
    return out


def _layout_problems(m: "Machine", memdevs: list[Memdev], ram: int, below: int, problems: list[Problem]) -> None:
    qemu = qemu_srat_ranges(memdevs, below)
    size_only_hint = ("size-only memory ('memory size 2G') lets fwc lay RAM out exactly as QEMU does: "
                      "node by node in id order, [0-640K) and [1M-...) below 4 GiB, the rest from 4 GiB")
    for n in m.nodes:
        want = merge((r.base, r.end) for r in n.boot_memory if r.size)
        got = merge(qemu.get(n.id, []))
        if want != got:
            span = next((r.span for r in n.boot_memory if r.size), n.span)
            problems.append(Problem(
                "qemu-memory-layout",
                f"QEMU cannot give node {n.id} this RAM: stacking the node memdevs in id order "
                f"(-m {fmt_size(ram)}, {human(below)} below 4 GiB) gives it {show_ranges(got)}, "
                f"the description has {show_ranges(want)}", span, (size_only_hint,)))
            return
    if ram % (8 * KiB):
        problems.append(Problem("qemu-memory-layout", f"boot RAM of {ram:#x} bytes: QEMU rounds -m up to "
                                "8 KiB, so the node memdevs would not add up to it", m.span))
    for md in memdevs:
        if md.size % (4 * KiB):
            owner = m.node(md.node)
            problems.append(Problem("qemu-memory-layout", f"node {md.node}'s memdev would be {md.size:#x} "
                                    "bytes, not a whole number of 4 KiB pages", owner.span if owner else m.span))


def _dimm_problems(m: "Machine", ram: int, above: int, problems: list[Problem]
                  ) -> tuple[tuple[int, int] | None, tuple[Dimm, ...]]:
    """Slots, maxmem and DIMM addresses; returns (window, dimms)."""
    dimms = [(n, r) for n in m.nodes for r in n.dimms]
    slots, maxmem = m.slots, m.maxmem
    if slots == 0:
        if dimms:
            problems.append(Problem("qemu-hotplug-memory", "DIMMs need hotplug slots (-m ...,slots=N): "
                                    f"give 'slots {len(dimms)}' or more", dimms[0][1].span))
        elif maxmem > ram:
            problems.append(Problem("qemu-hotplug-memory",
                                    f"maxmem {human(maxmem)} without slots: QEMU refuses it (\"maxmem was "
                                    "specified, but no hotplug slots were specified\"); give 'slots N'", m.span))
        return None, ()
    if maxmem <= ram:
        problems.append(Problem("qemu-hotplug-memory",
                                f"{slots} slot(s) but maxmem {human(maxmem)} is not above the boot RAM "
                                f"({human(ram)}): QEMU refuses it (\"memory slots were specified but maximum "
                                "memory size ... is equal to the initial memory size\"); raise maxmem",
                                m.span))
        return None, ()
    if len(dimms) > slots:
        problems.append(Problem("qemu-hotplug-memory", f"{len(dimms)} DIMMs but only {slots} slots: "
                                f"give 'slots {len(dimms)}'", dimms[slots][1].span))
    base, size = boards.device_window(above, ram, slots, maxmem)
    window = (base, size)
    # Emit in address order; simulate QEMU's first fit (memory_device_get_free_addr) to decide
    # where addr= is needed.
    placed: list[tuple[int, int]] = []
    out = []
    for n, r in sorted(dimms, key=lambda x: (x[1].base, x[0].id)):
        if r.base < 0:
            problems.append(Problem("qemu-hotplug-memory", "this DIMM has no address (maxmem is below boot "
                                    "RAM plus DIMMs)", r.span))
            continue
        if r.base % DIMM_ALIGN or r.size % DIMM_ALIGN:
            problems.append(Problem("qemu-hotplug-memory", f"DIMM [{r.base:#x}-{r.end - 1:#x}]: QEMU needs "
                                    f"address and size aligned to {human(DIMM_ALIGN)}", r.span))
            continue
        if r.base < base or r.end > base + size:
            problems.append(Problem(
                "qemu-hotplug-memory",
                f"DIMM [{r.base:#x}-{r.end - 1:#x}] is outside QEMU's device-memory window "
                f"[{base:#x}-{base + size - 1:#x}] (from ROUND_UP(4 GiB + RAM above 4 GiB, 1 GiB), "
                "size maxmem - RAM + 1 GiB per slot)", r.span,
                ("leave out 'at' to have fwc place DIMMs as QEMU does, or raise maxmem/slots",)))
            continue
        auto = base
        for s, e in sorted(placed):
            if auto < e and s < auto + r.size:
                auto = (e + DIMM_ALIGN - 1) // DIMM_ALIGN * DIMM_ALIGN
        out.append(Dimm(n.id, r.base, r.size, auto != r.base, r.span, r.nonvolatile))
        placed.append((r.base, r.end))
    return window, tuple(out)


def _numa_problems(m: "Machine", problems: list[Problem], refused: bool = False) -> None:
    """Node ids QEMU cannot express; then, unless QEMU ``refused`` the CPUs, what its SRAT
    cannot say that the machine's does (when Linux does not read an initrd SRAT instead)."""
    ids = [n.id for n in m.nodes]
    missing = sorted(set(range(max(ids) + 1)) - set(ids)) if ids else []
    if missing:
        problems.append(Problem(
            "qemu-node-ids",
            f"QEMU needs node ids 0-{max(ids)} without gaps; node {missing[0]} is missing "
            f"(QEMU: \"numa: Node ID missing: {missing[0]}\")",
            next((n.span for n in m.nodes if n.id > missing[0]), m.span),
            (f"number the nodes 0-{len(ids) - 1}; keep other proximity domains with 'pxm' and an initrd "
             "SRAT override",)))
    big = [n for n in m.nodes if n.id >= MAX_NODES]
    if big:
        problems.append(Problem("qemu-node-ids", f"node {big[0].id}: QEMU 7.2 has at most {MAX_NODES} nodes",
                                big[0].span))
    if refused:
        return
    over = linux_reads_initrd_srat(m)
    if not over:
        for n in m.nodes:
            if n.pxm != n.id:
                problems.append(Problem(
                    "qemu-pxm",
                    f"node {n.id} has proximity domain {n.pxm}, but QEMU's SRAT uses the node id ({n.id}) "
                    "as proximity domain", n.span,
                    ("drop 'pxm', or add 'initrd ... { override srat }' so the kernel reads this machine's "
                     "SRAT (and 'override slit' for its distances)",)))
        for n in m.nodes:
            for r in n.boot_memory:
                if r.hotpluggable:
                    problems.append(Problem(
                        "qemu-hotplug-boot-ram",
                        f"node {n.id}'s boot RAM [{r.base:#x}-{r.end - 1:#x}] is hotpluggable, but QEMU's SRAT "
                        "marks only the DIMM window hotpluggable: the guest would see ordinary RAM "
                        "(no ZONE_MOVABLE from movable_node)", r.span,
                        ("add 'initrd at ... size ... { override srat }' (OEM ID and table ID as QEMU's, a "
                         "higher OEM revision) and boot with 'nokaslr'; or use a 'dimm' instead",)))
                    break
            for r in n.boot_memory:
                flags = [f for f, on in (("nonvolatile", r.nonvolatile), ("disabled", not r.enabled)) if on]
                if flags:
                    problems.append(Problem(
                        "qemu-memory-flags",
                        f"node {n.id}'s RAM [{r.base:#x}-{r.end - 1:#x}] is {', '.join(flags)}; QEMU's SRAT "
                        "marks boot RAM enabled only", r.span,
                        ("only an initrd SRAT override ('initrd ... { override srat }') can carry these "
                         "flags",)))
            if n.initiators:
                g = n.initiators[0]
                problems.append(Problem(
                    "qemu-initiators",
                    f"node {n.id} has a generic {g.kind}; QEMU 7.2 cannot put one in its SRAT "
                    "(acpi-generic-initiator arrived in QEMU 9.0)", g.span,
                    ("add 'initrd ... { override srat }' to give the guest this machine's SRAT",)))
    elif "nokaslr" not in m.params and any(r.hotpluggable for n in m.nodes for r in n.boot_memory):
        problems.append(Problem(
            "qemu-kaslr",
            "the initrd overrides the SRAT to make boot RAM hotpluggable, but the command line lacks "
            "'nokaslr': KASLR picks the kernel's address from QEMU's own SRAT before the override "
            "applies, so the kernel may land in that RAM and the node stays unmovable (2 of 3 boots)",
            m.initrd.span if m.initrd else m.span, ("add 'nokaslr' to the cmdline",)))

    mirrored = next((r for n in m.nodes for r in n.boot_memory if r.mirror), None)
    if mirrored is not None:  # not an SRAT flag: no override can carry it
        problems.append(Problem(
            "qemu-memory-flags",
            f"[{mirrored.base:#x}-{mirrored.end - 1:#x}] is marked mirror, but QEMU boots SeaBIOS, which gives "
            "Linux no EFI memory map: nothing is mirrored (efi_find_mirror() finds none), and kernelcore=mirror "
            "treats all memory as unmirrored", mirrored.span))

def distances(m: "Machine") -> tuple[tuple[int, int, int], ...]:
    """-numa dist arguments: nothing without distances; otherwise every node pair, as QEMU
    wants at least one direction of each pair (both when the matrix is asymmetric)."""
    if not m.distances or len(m.nodes) < 2:
        return ()
    d = m.distance_matrix()
    ids = [n.id for n in m.nodes]
    asym = any(d[(a, b)] != d[(b, a)] for a in ids for b in ids)
    out = []
    for a in ids:
        for b in ids:
            if a == b:
                continue
            if a < b or asym:
                out.append((a, b, d[(a, b)]))
    return tuple(out)


# ---------------------------------------------------------------------------


def plan(m: "Machine") -> Plan:
    problems: list[Problem] = []
    machine_type = boards.BOARDS[m.board].qemu_machine or ""
    # the CPUs first: when QEMU refuses them, what its SRAT would say does not matter, and
    # finding out whether Linux reads an initrd SRAT instead encodes the machine's tables
    cpu_found: list[Problem] = []
    cp = plan_cpus(m, cpu_found)
    if cp is not None:
        cpu_problems(m, cp, cpu_found)
    refused = any(p.check in ("qemu-cpu-numbering", "qemu-x2apic") for p in cpu_found)
    _numa_problems(m, problems, refused)
    _oem_problems(m, problems)
    if not m.numa and m.slots:
        problems.append(Problem(
            "qemu-hotplug-memory", "hotplug slots on a machine without NUMA: QEMU 7.2 then creates node 0 itself "
            "(auto_enable_numa_with_memhp) and writes an SRAT", m.span,
            ("put the memory in 'node 0 { … }' to describe the machine QEMU builds",)))
    problems += cpu_found
    memdevs, ram = _node_memdevs(m, problems)
    below = boards.below_4g(m.board, ram, m.board_options.max_ram_below_4g) if ram else 0
    window: tuple[int, int] | None = None
    dimms: tuple[Dimm, ...] = ()
    if memdevs is not None:
        _layout_problems(m, memdevs, ram, below, problems)
        window, dimms = _dimm_problems(m, ram, ram - below, problems)
    # slots/maxmem as described (when slots are given), so that an argv printed despite a
    # qemu-hotplug-memory error is the one QEMU refuses.
    return Plan(machine_type, cp, ram, below, tuple(memdevs or ()), m.slots,
                m.maxmem if m.slots else 0, window, dimms, distances(m), tuple(problems),
                machine_options(m), m.numa, m.board_options.accel)


def machine_options(m: "Machine") -> tuple[str, ...]:
    """The ``-machine`` properties beside the type, QEMU 7.2 spelling."""
    out = []
    if m.board_options.max_ram_below_4g:
        out.append(f"max-ram-below-4g={fmt_size(m.board_options.max_ram_below_4g)}")
    if any(r.nonvolatile for n in m.nodes for r in n.dimms):
        out.append("nvdimm=on")
    if m.board_options.kernel_irqchip:
        out.append(f"kernel-irqchip={m.board_options.kernel_irqchip}")
    default = boards.BOARDS[m.board].oem
    for prop, value, dflt in (("x-oem-id", m.oem.id, default[0]), ("x-oem-table-id", m.oem.table_id, default[1])):
        if value != dflt and boards.qemu_id(value) is not None:
            out.append(f"{prop}={boards.qemu_id(value)}")
    return tuple(out)


def _oem_problems(m: "Machine", problems: list[Problem]) -> None:
    """OEM identity QEMU 7.2 cannot write: only the OEM ID and table ID are -machine properties
    (the same for every table); revision and creator stay QEMU's, unless the kernel reads the
    tables from the initrd instead."""
    from fwc.model import Oem

    default = Oem(*boards.BOARDS[m.board].oem)
    if m.initrd is not None and m.initrd.overrides:
        return
    for what, value in (("OEM ID", m.oem.id), ("OEM table ID", m.oem.table_id)):
        if boards.qemu_id(value) is None:
            problems.append(Problem("qemu-oem", f"{what} {value!r}: QEMU's -machine x-oem-id/x-oem-table-id pads "
                                    "a name with NULs, so it cannot give this one", m.oem.span or m.span))
    fixed = [f"{what} {getattr(m.oem, f)!r} (QEMU: {getattr(default, f)!r})"
             for what, f in (("revision", "revision"), ("creator", "creator_id"), ("creator revision", "creator_revision"))
             if getattr(m.oem, f) != getattr(default, f)]
    if fixed:
        problems.append(Problem("qemu-oem", "QEMU 7.2 sets only the OEM ID and table ID of its tables "
                                f"(-machine x-oem-id, x-oem-table-id); its tables keep {', '.join(fixed)}",
                                m.oem.span or m.span,
                                ("only an initrd override ('initrd ... { override srat }') gives the guest "
                                 "tables with another revision or creator",)))
    for name, o in sorted(m.table_overrides.items()):
        if o.oem is not None and (o.oem.id, o.oem.table_id) != (m.oem.id, m.oem.table_id):
            problems.append(Problem("qemu-oem", f"table {name} has its own OEM identity, but QEMU's "
                                    "x-oem-id/x-oem-table-id name every table alike", o.span or m.span))


_cache: list = [None, None]


def cached_plan(m: "Machine") -> Plan:
    """The plan of ``m``, computed once for all checks of a run."""
    if _cache[0] is not m:
        _cache[0], _cache[1] = m, plan(m)
    return _cache[1]
