"""The machine model: the one thing checks and backends see.

Frozen attrs classes with tuple collections, so a model can be shared between
passes and plugins without copying.  Every value is resolved (defaults applied
once, in ``fwc.build``); every object keeps the span of the statement it came
from so checks can point at it.  Addresses and sizes are plain ints in bytes;
ranges are half-open ``[base, base + size)``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional, Sequence

import attrs

from .attrs_repr import generic_value
from .diagnostics import Span

ARCHES = ("x86_64", "arm64")
BOARDS = ("generic", "qemu-q35", "qemu-pc")
E820_TYPES = ("reserved", "acpi", "nvs", "unusable", "pmem")
#: The types of an ``e820 { … }`` block (the firmware's own memory map) and their numbers in
#: Linux (arch/x86/include/asm/e820/types.h): ``pmem`` is type 7 (ACPI 6 NVDIMMs, sysfs
#: "Persistent Memory"), ``pram`` type 12 (the legacy kind ``memmap=nn!ss`` makes).
E820_BLOCK_TYPES = {"usable": 1, "reserved": 2, "acpi": 3, "nvs": 4, "unusable": 5, "pmem": 7, "pram": 12,
                    "soft-reserved": 0xEFFFFFFF}
# Tables fwc writes, by the name used in the language, and their signatures.
#: Linux's default distances (include/linux/topology.h), the SLIT's meaning of "local" and the
#: distance Linux assumes between nodes no SLIT relates.
LOCAL_DISTANCE, REMOTE_DISTANCE = 10, 20
TABLE_SIGNATURES = {"srat": "SRAT", "slit": "SLIT", "madt": "APIC", "xsdt": "XSDT", "rsdt": "RSDT"}


def _tuple(x: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(x)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Oem:
    """The identity written into every table header fwc generates."""

    id: str = "FWC   "
    table_id: str = "FWCMACH "
    revision: int = 1
    creator_id: str = "FWC "
    creator_revision: int = 1
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class BoardOptions:
    """Options of a QEMU board (``board qemu-q35 max-ram-below-4g 1G``): what goes on
    QEMU's ``-machine`` (and ``-accel``) beside the machine type.  ``max_ram_below_4g`` 0:
    not given (QEMU's default split)."""

    max_ram_below_4g: int = 0
    accel: str = "tcg"  # -accel tcg|kvm
    kernel_irqchip: str = ""  # KVM's -machine kernel-irqchip=on|off|split ("": QEMU's default, on)
    span: Optional[Span] = attrs.field(default=None, eq=False)

    @property
    def x2apic_ok(self) -> bool:
        """Whether QEMU 7.2 accepts APIC IDs of 255 or more: only KVM with its in-kernel
        irqchip (hw/i386/x86.c x86_cpus_init(): "requires kernel irqchip and X2APIC API")."""
        return self.accel == "kvm" and self.kernel_irqchip != "off"


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class TableEntry:
    """One run of a table's entries in table order (``tables { srat { … } }``).

    ``kind``: ``cpus`` (entries of the machine's CPUs, by ID), ``memory`` (of its memory
    ranges, by base address), ``its`` (by ITS ID), ``placeholder-cpus`` and
    ``placeholder-memory`` (entries Linux ignores: written, not CPUs or memory),
    ``interrupts`` (the next ``count`` of the MADT's I/O APIC, override and NMI entries, in
    statement order; all those left without a count),
    ``initiators`` (the SRAT's Generic Initiator/Port entries) or ``bytes`` (subtables
    fwc does not model, in place).
    """

    kind: str
    #: APIC IDs, bases (one per placeholder memory entry), ITS IDs; ``times N`` repeats them
    ids: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    uids: Optional[tuple[int, ...]] = None  # MADT processor UIDs, one per ID
    pxm: int = 0  # placeholders
    size: int = 0  # placeholder memory
    enabled: bool = True  # placeholders
    online_capable: bool = False
    hotpluggable: bool = False
    nonvolatile: bool = False
    x2apic: bool = False
    clock_domain: int = 0  # placeholder CPUs
    reserved: int = 0  # memory: the 4-byte Reserved field at offset 28 (AMD firmware writes 1)
    count: Optional[int] = None  # interrupts: how many of the next interrupt statements (None: all left)
    data: bytes = b""
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class TableOverride:
    """Per-table header identity and bytes fwc does not model (from ``tables { … }``)."""

    oem: Optional[Oem] = None  # the header identity of this table, if not the machine's
    append: bytes = b""  # subtables appended after the modelled ones
    verbatim: Optional[bytes] = None  # the whole table, byte for byte
    span: Optional[Span] = attrs.field(default=None, eq=False)
    #: the table's entries in table order (None: fwc's own order)
    entries: Optional[tuple[TableEntry, ...]] = None
    body: Optional[bytes] = None  # the fixed part after the header (SRAT: 12 bytes), if not fwc's


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Cpu:
    """One logical CPU, by its (x2)APIC ID (or ACPI processor UID on arm64)."""

    apic_id: int
    enabled: bool = True
    online_capable: bool = False
    x2apic: bool = False  # forced x2APIC entries even for small IDs
    span: Optional[Span] = attrs.field(default=None, eq=False)
    clock_domain: int = 0  # the SRAT entry's clock domain

    @property
    def needs_x2apic(self) -> bool:
        return self.x2apic or self.apic_id >= 255


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class MemoryRange:
    base: int
    size: int
    hotpluggable: bool = False
    nonvolatile: bool = False
    enabled: bool = True
    mirror: bool = False
    dimm: bool = False  # a pc-dimm, or with nonvolatile an NVDIMM (device memory), not boot RAM
    span: Optional[Span] = attrs.field(default=None, eq=False)

    @property
    def end(self) -> int:
        return self.base + self.size


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Initiator:
    """An SRAT Generic Initiator (``initiator``) or Generic Port (``port``)."""

    kind: str  # "initiator" | "port"
    handle_type: str  # "acpi" | "pci"
    hid: str = ""
    uid: int = 0
    segment: int = 0
    bus: int = 0
    devfn: int = 0
    enabled: bool = True
    arch_transactions: bool = False
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Its:
    id: int
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Node:
    id: int
    pxm: int
    cpus: tuple[Cpu, ...] = attrs.field(default=(), converter=_tuple)
    memory: tuple[MemoryRange, ...] = attrs.field(default=(), converter=_tuple)
    initiators: tuple[Initiator, ...] = attrs.field(default=(), converter=_tuple)
    its: tuple[Its, ...] = attrs.field(default=(), converter=_tuple)
    span: Optional[Span] = attrs.field(default=None, eq=False)

    @property
    def boot_memory(self) -> tuple[MemoryRange, ...]:
        return tuple(m for m in self.memory if not m.dimm)

    @property
    def dimms(self) -> tuple[MemoryRange, ...]:
        return tuple(m for m in self.memory if m.dimm)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Distance:
    src: int  # node ids
    dst: int
    value: int
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Reserved:
    """A non-RAM e820 entry."""

    base: int
    size: int
    type: str = "reserved"
    span: Optional[Span] = attrs.field(default=None, eq=False)

    @property
    def end(self) -> int:
        return self.base + self.size


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Event:
    """One runtime event after boot (``events { … }``, fwc/events.py), played in order.

    ``action``: add | remove (a DIMM, by ``name``) or online | online_kernel | online_movable |
    offline (memory blocks: ``target`` block (``first``-``last``), dimm (``name``), node
    (``first``) or range (``base``, ``size``)).  An add gives ``size``, ``node`` (-1: QEMU's
    default, node 0) and ``base`` (-1: QEMU picks the address)."""

    action: str
    target: str
    name: str = ""
    first: int = 0
    last: int = 0
    base: int = -1
    size: int = 0
    node: int = -1
    value: str = ""      # set: the new value (``name`` is the setting)
    span: Optional[Span] = attrs.field(default=None, eq=False)
    target_span: Optional[Span] = attrs.field(default=None, eq=False, metadata={"json": False})


EVENT_ACTIONS = ("add", "remove", "online", "online_kernel", "online_movable", "offline", "set")


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class E820Entry:
    """One entry of the firmware memory map given explicitly (``e820 { … }``); ``type`` is a
    key of :data:`E820_BLOCK_TYPES`."""

    base: int
    size: int
    type: str = "usable"
    span: Optional[Span] = attrs.field(default=None, eq=False)

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def linux_type(self) -> int:
        return E820_BLOCK_TYPES[self.type]


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Placement:
    """Where the kernel image or the initrd sits in physical memory."""

    base: int
    size: int
    span: Optional[Span] = attrs.field(default=None, eq=False)

    @property
    def end(self) -> int:
        return self.base + self.size


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Override:
    """A table the initrd carries: one of this machine's (``table``) or a file."""

    table: Optional[str] = None  # "srat", "slit", "madt"
    file: Optional[str] = None  # absolute path of an external .aml
    revision: Optional[int] = None  # OEM revision for this table, if not the machine's
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Initrd(Placement):
    overrides: tuple[Override, ...] = attrs.field(default=(), converter=_tuple)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class IoApic:
    id: int
    address: int = 0xFEC00000
    gsi_base: int = 0
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class IrqOverride:
    source: int
    gsi: int
    flags: int = 0
    bus: int = 0
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Nmi:
    cpu: Optional[int]  # ACPI processor UID, None = all
    lint: int = 1
    flags: int = 0
    span: Optional[Span] = attrs.field(default=None, eq=False)
    x2apic: Optional[bool] = None  # a Local x2APIC NMI entry (None: when some APIC ID needs one)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Interrupts:
    """What the MADT says besides the CPUs."""

    lapic_address: int = 0xFEE00000
    pcat_compat: bool = True
    ioapics: tuple[IoApic, ...] = attrs.field(default=(), converter=_tuple)
    overrides: tuple[IrqOverride, ...] = attrs.field(default=(), converter=_tuple)
    nmis: tuple[Nmi, ...] = attrs.field(default=(), converter=_tuple)
    #: the entries in statement order, as ("ioapic" | "irq" | "nmi", index); () = grouped by kind
    order: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_tuple)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Topology:
    sockets: int
    cores: int
    threads: int
    span: Optional[Span] = attrs.field(default=None, eq=False)


@generic_value
@attrs.frozen(slots=False, repr=False, eq=False)
class Machine:
    name: str
    arch: str = "x86_64"
    board: str = "generic"
    oem: Oem = Oem()
    table_revisions: dict[str, int] = attrs.field(factory=dict, eq=False)  # table name -> revision
    table_overrides: dict[str, TableOverride] = attrs.field(factory=dict, eq=False)  # table name -> TableOverride
    tables_base: Optional[int] = None  # where RSDP/XSDT/RSDT and tables are laid out
    nodes: tuple[Node, ...] = attrs.field(default=(), converter=_tuple)
    distances: tuple[Distance, ...] = attrs.field(default=(), converter=_tuple)
    reserved: tuple[Reserved, ...] = attrs.field(default=(), converter=_tuple)
    kernel: Optional[Placement] = None
    initrd: Optional[Initrd] = None
    cmdline: str = ""
    slots: int = 0
    maxmem: int = 0
    topology: Optional[Topology] = None
    interrupts: Interrupts = Interrupts()
    files: tuple[str, ...] = attrs.field(default=(), converter=_tuple, eq=False)  # every file read
    span: Optional[Span] = attrs.field(default=None, eq=False)
    #: CPUs the MADT lists without SRAT affinity (machine-level ``cpus``); Linux gives
    #: them a node itself (:func:`linux_cpu_nodes`)
    unaffined_cpus: tuple[Cpu, ...] = attrs.field(default=(), converter=_tuple)
    #: the firmware memory map given explicitly (``e820 { … }``), in the order written; ()
    #: when the machine has none (then the e820 is derived: fwc.e820.e820_of returns None)
    e820: tuple[E820Entry, ...] = attrs.field(default=(), converter=_tuple, metadata={"omit_default": True})
    e820_span: Optional[Span] = attrs.field(default=None, eq=False, metadata={"json": False})  # the block's keyword
    #: QEMU board options (``board qemu-q35 max-ram-below-4g 1G``)
    board_options: BoardOptions = attrs.field(default=BoardOptions(), metadata={"omit_default": True})
    #: False for a machine without NUMA (memory outside any node): its firmware writes no
    #: SRAT or SLIT, and the model holds its memory and CPUs as node 0, where Linux puts them
    numa: bool = attrs.field(default=True, metadata={"omit_default": True})
    #: runtime events after boot (``events { … }``), in order; () without the block
    events: tuple[Event, ...] = attrs.field(default=(), converter=_tuple, metadata={"omit_default": True})
    #: the Linux version the machine is for (``kernel "6.12"``): what the boot backend predicts
    #: without ``-O boot.kernel=``; "" when the description names none (the backend's default)
    kernel_version: str = attrs.field(default="", metadata={"omit_default": True})
    kernel_version_span: Optional[Span] = attrs.field(default=None, eq=False, metadata={"json": False})
    tables_span: Optional[Span] = attrs.field(default=None, eq=False, metadata={"json": False})  # 'tables at'

    # -- derived views (cheap; computed on demand)
    @property
    def cpus(self) -> tuple[tuple[Node, Cpu], ...]:
        return tuple((n, c) for n in self.nodes for c in n.cpus)

    @property
    def memory(self) -> tuple[tuple[Node, MemoryRange], ...]:
        return tuple((n, m) for n in self.nodes for m in n.memory)

    def node(self, node_id: int) -> Optional[Node]:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    def distance_matrix(self) -> Mapping[tuple[int, int], int]:
        """Distances between node ids: explicit entries, mirrored where only one
        direction is given, 10 on the diagonal and 20 elsewhere (Linux's default).  Keys in
        row order of the nodes.  Worked out once per machine: a read-only view."""
        m = self.__dict__.get("_distance_matrix")
        if m is None:
            from itertools import product

            ids = [n.id for n in self.nodes]
            m = dict.fromkeys(product(ids, ids), REMOTE_DISTANCE)
            m.update(((i, i), LOCAL_DISTANCE) for i in ids)
            given = {(d.src, d.dst): d.value for d in self.distances}
            for (a, b), v in given.items():  # one direction given: the other mirrors it
                if (b, a) not in given and (b, a) in m:
                    m[(b, a)] = v
            m.update((k, v) for k, v in given.items() if k in m)
            object.__setattr__(self, "_distance_matrix", MappingProxyType(m))
        return m

    def table_revision(self, table: str, default: int) -> int:
        return self.table_revisions.get(table, default)

    def table_oem(self, table: str) -> Oem:
        o = self.table_overrides.get(table)
        return o.oem if o is not None and o.oem is not None else self.oem

    @property
    def params(self) -> dict[str, str]:
        """The kernel command line as ``{name: value}`` (flags map to "")."""
        out = {}
        for word in self.cmdline.split():
            name, _, value = word.partition("=")
            out[name] = value
        return out


def id_ranges(ids: Iterable[int], sep: str = ", ") -> str:
    """``[0, 1, 2, 5]`` as ``"0-2, 5"``: the form of a ``cpus`` list."""
    return ordered_ranges(sorted(ids), sep)


def ordered_ranges(ids: Sequence[int], sep: str = ", ") -> str:
    """IDs in their order, consecutive runs as ranges: ``[0, 1, 2, 8, 4]`` -> ``0-2, 8, 4``."""
    out: list[str] = []
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return sep.join(out)


def linux_cpu_nodes(m: "Machine") -> list[tuple[Cpu, Optional[Node]]]:
    """Every present CPU in Linux 6.1's logical CPU order with the node Linux gives it.

    Order: the MADT order fwc writes (node CPUs, then CPUs without affinity; or a
    ``madt { … }`` entry list), the first (boot) CPU being CPU 0 and each APIC ID counted
    once (``generic_processor_info()``/``allocate_logical_cpuid()``, arch/x86/kernel/apic/
    apic.c).  A CPU with SRAT affinity is on its node (``init_cpu_to_node()``,
    arch/x86/mm/numa.c).  One without keeps what ``numa_init_array()`` (arch/x86/mm/numa.c)
    gave its logical CPU number before the MADT was read: the online nodes (those with
    memory) round robin from the first, i.e. ``online[cpu % len(online)]``.  Without any
    node memory Linux fakes a single node that is none of the model's: every node is None.
    """
    node_of = {c.apic_id: n for n in m.nodes for c in n.cpus}
    order: list[Cpu] = []
    seen: set[int] = set()
    every = {c.apic_id: c for c in m.unaffined_cpus}
    every.update({c.apic_id: c for n in m.nodes for c in n.cpus})
    madt = m.table_overrides.get("madt")
    ids: list[int] = []
    if madt is not None and madt.entries is not None:
        ids = [i for e in madt.entries if e.kind == "cpus" for i in e.ids]
    else:
        ids = [c.apic_id for n in m.nodes for c in n.cpus] + [c.apic_id for c in m.unaffined_cpus]
    for i in ids:
        c = every.get(i)
        if c is not None and c.enabled and i not in seen:
            seen.add(i)
            order.append(c)
    online = [n for n in m.nodes if any(r.enabled and r.size and not r.dimm for r in n.memory)]
    out: list[tuple[Cpu, Optional[Node]]] = []
    if not online:  # no memory entry: Linux drops the SRAT and fakes one node (dummy_numa_init)
        return [(c, None) for c in order]
    for i, c in enumerate(order):
        n = node_of.get(c.apic_id)
        out.append((c, n if n is not None else (online[i % len(online)] if online else None)))
    return out


def to_dict(obj: Any) -> Any:
    """A JSON-ready view of any model object (spans as ``file:line:col``)."""
    if attrs.has(type(obj)):
        out: dict[str, Any] = {}
        for f in attrs.fields(type(obj)):
            v = getattr(obj, f.name)
            if (f.metadata.get("omit_default") and v == f.default) or f.metadata.get("json") is False:
                continue  # fields added later: a machine without them reads as before
            if f.name == "span":
                out[f.name] = str(v) if v is not None else None
            else:
                out[f.name] = to_dict(v)
        return out
    if isinstance(obj, (tuple, list)):
        return [to_dict(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).hex()
    return obj
