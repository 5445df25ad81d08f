"""The SRAT and SLIT parsers: drivers/acpi/numa/srat.c (acpi_numa_init, the memory affinity
handler, the SLIT, PXM -> node) and arch/x86/mm/srat.c (x86_acpi_numa_init, the processor
affinity handlers).  Tables are read through :func:`fwc_plugins.acpi.decode_table`, which
never raises; a subtable it cannot decode is treated as the kernel treats its length."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from fwc_plugins.acpi import SLIT_LOCAL, SratCpuFlag, SratMemFlag, SratType, decode_table, read_subtable_header

from .zones import MAX_NUMNODES, PAGE, hex10

if TYPE_CHECKING:
    from .state import Kernel

MAX_PXM_DOMAINS = 1024       # max(MAX_NUMNODES, 256)
# The flag bits as plain ints: an int & IntFlag builds an enum value (slow, once per entry).
CPU_ENABLED = int(SratCpuFlag.ENABLED)
MEM_ENABLED, MEM_HOTPLUGGABLE, MEM_NON_VOLATILE = (int(SratMemFlag.ENABLED), int(SratMemFlag.HOT_PLUGGABLE),
                                                   int(SratMemFlag.NON_VOLATILE))


class CpuAffinity(NamedTuple):
    kind: str          # "lapic" | "x2apic" | "bad" (a length the kernel refuses: bad_srat)
    pxm: int
    apic_id: int
    enabled: bool


class MemAffinity(NamedTuple):
    pxm: int | None    # None: shorter than struct acpi_srat_mem_affinity
    base: int          # the subtable's length when pxm is None
    length: int
    flags: int


class SratEntries(NamedTuple):
    cpus: list[CpuAffinity]     # types 0 and 2, table order (acpi_numa_init's first pass)
    mems: list[MemAffinity]     # type 1, table order (its second pass)
    zero_length: bool           # a zero-length subtable ended the walk (acpi_parse_entries_array)

    @property
    def bad(self) -> bool:
        """True when parsing makes Linux call bad_srat() or fail (the SRAT is not used)."""
        return self.zero_length or any(c.kind == "bad" for c in self.cpus) or \
            any(m.pxm is None for m in self.mems)


def srat_entries(data: bytes) -> SratEntries | None:
    """The SRAT's affinity entries as acpi_numa_init's two passes meet them; None if the
    table cannot be decoded at all."""
    t, problems = decode_table(data)
    if t is None:
        return None
    cpus, mems = [], []
    rev = t.header.get("revision", 1)
    for e in t.entries:
        f = e.fields
        if f is None:  # shorter than its layout: the decoder kept the raw bytes
            if e.type in (SratType.CPU_AFFINITY, SratType.X2APIC_CPU_AFFINITY):
                cpus.append(CpuAffinity("bad", 0, 0, False))
            elif e.type == SratType.MEMORY_AFFINITY:
                length = read_subtable_header(e.raw)["length"] if e.raw and len(e.raw) > 1 else 0
                mems.append(MemAffinity(None, length, 0, 0))
        elif e.type == SratType.CPU_AFFINITY:
            if e.extra:  # acpi_numa_processor_affinity_init: length != 16
                cpus.append(CpuAffinity("bad", 0, 0, False))
                continue
            pxm = f["proximity_domain_lo"] | ((f["proximity_domain_hi"] << 8) if rev >= 2 else 0)
            cpus.append(CpuAffinity("lapic", pxm, f["apic_id"], bool(f["flags"] & CPU_ENABLED)))
        elif e.type == SratType.X2APIC_CPU_AFFINITY:
            cpus.append(CpuAffinity("x2apic", f["proximity_domain"], f["apic_id"],
                                    bool(f["flags"] & CPU_ENABLED)))
        elif e.type == SratType.MEMORY_AFFINITY:
            pxm = f["proximity_domain"] & (0xFF if rev <= 1 else 0xFFFFFFFF)
            mems.append(MemAffinity(pxm, f["base_address"], f["address_length"], f["flags"]))
    return SratEntries(cpus, mems, any(p.code == "acpi-zero-length" for p in problems))


def acpi_map_pxm_to_node(k: Kernel, pxm: int) -> int:
    """acpi_map_pxm_to_node() (drivers/acpi/numa/srat.c): the lowest unused node id, in order of
    first appearance."""
    p2n = k.numa.pxm_to_node
    if pxm not in p2n:
        p2n[pxm] = len(p2n)
    return p2n[pxm]


def bad_srat(k: Kernel) -> None:
    """bad_srat() (drivers/acpi/numa/srat.c): the SRAT is not used (acpi_numa = -1)."""
    k.pr("ACPI: SRAT: SRAT not used.")


def acpi_numa_processor_affinity_init(k: Kernel, c: CpuAffinity) -> bool:
    """acpi_numa_processor_affinity_init() and acpi_numa_x2apic_affinity_init()
    (arch/x86/mm/srat.c); False after bad_srat()."""
    if c.kind == "bad":
        bad_srat(k)
        return False
    if not c.enabled:
        return True
    numa = k.numa
    if c.pxm >= MAX_PXM_DOMAINS or (c.pxm not in numa.pxm_to_node and len(numa.pxm_to_node) >= MAX_NUMNODES):
        k.pr("SRAT: Too many proximity domains.")
        bad_srat(k)
        return False
    nid = acpi_map_pxm_to_node(k, c.pxm)
    numa.node_cpus.setdefault(nid, []).append(c.apic_id)
    numa.nodes_parsed.add(nid)
    pr = k.pr if k.version.srat_cpu_lines else k.pr_debug   # 6.12: pr_debug
    if c.kind == "lapic":
        pr(f"SRAT: PXM {c.pxm} -> APIC 0x{c.apic_id:02x} -> Node {nid}")
    else:
        pr(f"SRAT: PXM {c.pxm} -> APIC 0x{c.apic_id:04x} -> Node {nid}")
    return True


def acpi_parse_memory_affinity(k: Kernel, m: MemAffinity) -> int | None:
    """acpi_parse_memory_affinity() (drivers/acpi/numa/srat.c): one memory entry -> numa_add_memblk, hotplug marking
    (memblock_mark_hotplug) and its line.  Returns 1 when accepted, 0 when ignored, None
    after bad_srat()."""
    if m.pxm is None:
        k.pr(f"ACPI: SRAT: Unexpected header length: {m.base}")
        bad_srat(k)
        return None
    if not m.flags & MEM_ENABLED:
        return 0
    numa, mb = k.numa, k.memblock
    nid = acpi_map_pxm_to_node(k, m.pxm)
    base, ln = m.base, m.length
    end = base + ln
    if ln:
        numa.meminfo.append([base, end, nid])   # numa_add_memblk
    numa.nodes_parsed.add(nid)
    hp = bool(m.flags & MEM_HOTPLUGGABLE)
    k.pr(f"ACPI: SRAT: Node {nid} PXM {m.pxm} [mem {hex10(base)}-{hex10(end - 1)}]"
         f"{' hotplug' if hp else ''}{' non-volatile' if m.flags & MEM_NON_VOLATILE else ''}")
    if hp:
        mb.caller = "acpi_numa_memory_affinity_init"
        mb.mark_hotplug(base, ln)
        k.note(f"memblock_mark_hotplug: [{base:#018x}-{end - 1:#018x}] SRAT hotpluggable")
        numa.srat_hotplug.append((nid, base, end))
    numa.max_possible_pfn = max(numa.max_possible_pfn, (end - 1 + PAGE - 1) // PAGE)
    return 1


def slit_matrix(slit: bytes) -> list[bytes]:
    """The SLIT's distance rows (``entry[i * n + j]``), read through the acpi plugin's SLIT
    layout; empty when the table is shorter than its locality count needs."""
    t, _ = decode_table(slit)
    rows = list(t.entries) if t is not None else []
    return rows if rows and all(len(r) == len(rows) for r in rows) else []


def slit_valid(rows: list[bytes]) -> bool:
    """slit_valid() (drivers/acpi/numa/srat.c): every distance to itself LOCAL_DISTANCE, every
    other one above it."""
    return bool(rows) and all(row[i] == SLIT_LOCAL and min(row[:i] + row[i + 1:], default=SLIT_LOCAL + 1) > SLIT_LOCAL
                              for i, row in enumerate(rows))


def acpi_parse_slit(k: Kernel, slit: bytes) -> None:
    """acpi_parse_slit() (drivers/acpi/numa/srat.c): a valid SLIT goes to acpi_numa_slit_init()."""
    rows = slit_matrix(slit)
    if not slit_valid(rows):
        k.pr("SLIT table looks invalid. Not used.")
        return
    acpi_numa_slit_init(k, rows)


def acpi_numa_slit_init(k: Kernel, rows: list[bytes]) -> None:
    """acpi_numa_slit_init() (drivers/acpi/numa/srat.c): numa_set_distance() for every pair of
    localities whose PXMs both have a node (pxm_to_node() != NUMA_NO_NODE).  The table is
    allocated by the first numa_set_distance() call (arch/x86/mm/numa.c: ``if (!numa_distance
    && numa_alloc_distance() < 0)``), so a SLIT none of whose localities names an SRAT
    proximity domain (an override SRAT renumbering the PXMs, QEMU's SLIT left as it is) is
    ignored without a word: no ``NUMA: Initialized distance table`` line, no allocation, the
    default distances."""
    from .numa import numa_alloc_distance

    p2n = k.numa.pxm_to_node
    cols = [(j, p2n[j]) for j in range(len(rows)) if j in p2n]
    if not cols:
        return
    numa_alloc_distance(k)  # numa_set_distance(): the first call allocates
    distance = k.numa.distance
    for i, row in enumerate(rows):
        if i in p2n:
            a = p2n[i]
            distance.update(((a, b), row[j]) for j, b in cols)


def acpi_numa_init(k: Kernel) -> bool:
    """acpi_numa_init() (drivers/acpi/numa/srat.c): CPU entries, then memory entries, then
    the SLIT.  True when the SRAT is usable (x86_acpi_numa_init's ``srat_disabled()`` test
    fused in)."""
    srat = k.acpi.tables.get("SRAT")
    if srat is None:
        return False
    ent = srat_entries(srat)
    if ent is None:
        return False
    bad = False
    for c in ent.cpus:
        if not acpi_numa_processor_affinity_init(k, c):
            bad = True   # later entries see srat_disabled()
            break
    if ent.zero_length:
        k.pr("ACPI: [SRAT:0x00] Invalid zero length")
    accepted = 0
    for m in [] if bad else ent.mems:
        r = acpi_parse_memory_affinity(k, m)
        if r is None:
            bad = True
            break
        accepted += r
    if ent.zero_length:
        k.pr("ACPI: [SRAT:0x01] Invalid zero length")
    slit = k.acpi.tables.get("SLIT")
    if slit is not None and accepted:
        acpi_parse_slit(k, slit)
    return bool(accepted) and not bad and not ent.zero_length


def x86_acpi_numa_init(k: Kernel) -> bool:
    """x86_acpi_numa_init() (arch/x86/mm/srat.c): acpi_numa_init(), failing when the SRAT
    was marked bad."""
    return acpi_numa_init(k)
