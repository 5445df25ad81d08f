"""The simulated kernel's state: one declared, typed attrs class per kernel area, holding
what the kernel keeps in that area's globals, and :class:`Kernel`, which ties them together
with the memblock model, the firmware, the command line and the boot log.

Every module of this package takes a :class:`Kernel` ``k`` as its first argument, the way a
kernel function reads its file's globals; no attribute is created outside these classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple

import attrs

from fwc.attrs_repr import generic_repr

from ..memblock import Memblock
from .cmdline import KernelParams

from .version import Linux61

if TYPE_CHECKING:
    from ..firmware import Firmware
    from ..kernel_build import KernelBuild
    from .policy import Policy

#: (start_pfn, spanned, present) of one zone of one node.
ZoneInfo = tuple[int, int, int]


class Alloc(NamedTuple):
    """One early reservation or allocation, with the purpose fwc gives it."""

    purpose: str
    base: int
    size: int
    stage: str       # "early" (before the kernel-node mask) or "late"
    permanent: bool


@generic_repr
@attrs.define(eq=False, repr=False)
class DirectMap:
    """arch/x86/mm/init.c: the page-table buffer in brk and the mapped PFN range."""

    tables: set[tuple[str, int]] = attrs.field(factory=set)  # ("p4d"|"pud"|"pmd"|"pte", index) allocated
    pgt_buf_start: int = 0       # bytes (the kernel's pgt_buf_* are PFNs)
    pgt_buf_used: int = 0        # pages taken from brk (pgt_buf_end - pgt_buf_start)
    pgt_buf_top: int = 0
    can_use_brk_pgt: bool = True
    min_pfn_mapped: int = 0
    max_pfn_mapped: int = 0
    max_low_pfn_mapped: int = 0
    pages: list[int] = attrs.field(factory=list)  # page-table pages taken from memblock


@generic_repr
@attrs.define(eq=False, repr=False)
class AcpiState:
    """drivers/acpi/tables.c: the installed tables Linux reads and the upgrade copy."""

    tables: dict[str, bytes] = attrs.field(factory=dict)  # signature -> first table of it
    installed: set[str] = attrs.field(factory=set)  # every installed signature, bytes modelled or not
    upgrade_copy: int = 0        # acpi_tables_addr: where acpi_table_upgrade copied the initrd's tables


@generic_repr
@attrs.define(eq=False, repr=False)
class NumaState:
    """arch/x86/mm/numa.c and drivers/acpi/numa/srat.c globals."""

    pxm_to_node: dict[int, int] = attrs.field(factory=dict)
    node_cpus: dict[int, list[int]] = attrs.field(factory=dict)     # node -> APIC ids (apicid_to_node)
    nodes_parsed: set[int] = attrs.field(factory=set)               # numa_nodes_parsed
    meminfo: list[list[int]] = attrs.field(factory=list)            # numa_meminfo: [start, end, nid]
    reserved_meminfo: list[tuple[int, int, int]] = attrs.field(factory=list)  # numa_reserved_meminfo
    srat_hotplug: list[tuple[int, int, int]] = attrs.field(factory=list)      # (nid, start, end) marked hotplug
    distance: dict[tuple[int, int], int] = attrs.field(factory=dict)  # numa_distance[] set from the SLIT
    possible: set[int] = attrs.field(factory=set)                   # node_possible_map
    online: set[int] = attrs.field(factory=set)                     # node_online_map
    node_data: dict[int, tuple[int, int]] = attrs.field(factory=dict)  # nid -> (NODE_DATA address, its node)
    kernel_nodes: set[int] = attrs.field(factory=set)               # nodes holding reserved memory
    max_possible_pfn: int = 0                                       # the highest SRAT memory end (PFN_UP)
    kernel_node_reasons: dict[int, list[Alloc]] = attrs.field(factory=dict)


@generic_repr
@attrs.define(eq=False, repr=False)
class ZoneState:
    """mm/page_alloc.c and mm/sparse.c globals after free_area_init()."""

    lowest: list[int] = attrs.field(factory=list)     # arch_zone_lowest_possible_pfn[]
    highest: list[int] = attrs.field(factory=list)    # arch_zone_highest_possible_pfn[]
    movable_zone: int = 0
    zone_movable_pfn: dict[int, int] = attrs.field(factory=dict)
    zone_info: dict[int, list[ZoneInfo]] = attrs.field(factory=dict)  # nid -> per ZoneType
    node_span: dict[int, tuple[int, int]] = attrs.field(factory=dict)
    dma_reserve: int = 0
    #: the present sections as runs (first, end, nid) in address order (memblocks_present())
    present_sections: list[tuple[int, int, int]] = attrs.field(factory=list)
    vmemmap_tables: set[tuple[str, int]] = attrs.field(factory=set)  # vmemmap page-table pages allocated
    managed: dict[int, list[int]] = attrs.field(factory=dict)  # nid -> managed pages per zone type
    policy_zone: int = 0                              # policy_zone (check_highest_zone)
    #: nr_kernel_pages (= nr_all_pages on x86_64: no highmem), what alloc_large_system_hash() sizes by
    nr_kernel_pages: int = 0
    totalram: int = 0                                 # totalram_pages(): memblock_free_all()'s count, then freed pages
    #: nid -> (start_pfn, end_pfn, zone) of each page's zone, for nodes whose zones overlap (page_zones)
    page_zones: dict[int, list[tuple[int, int, int]]] = attrs.field(factory=dict)

    def present_pages(self, s: int, e: int, section_pages: int) -> int:
        """The pages of PFNs ``[s, e)`` in present sections of ``section_pages`` pages (found
        by bisection over the runs, never section by section)."""
        from bisect import bisect_right

        runs, cnt = self.present_sections, 0
        i = max(bisect_right(runs, (s // section_pages, 1 << 62)) - 1, 0)
        while i < len(runs) and runs[i][0] * section_pages < e:
            lo, hi, _ = runs[i]
            cnt += max(0, min(e, hi * section_pages) - max(s, lo * section_pages))
            i += 1
        return cnt


@generic_repr
@attrs.define(eq=False, repr=False)
class MemoryBlock:
    """``struct memory_block`` (include/linux/memory.h, drivers/base/memory.c)."""

    id: int
    nid: int
    state: str                 # "online" | "offline"
    zone: int | None           # mem->zone: None offline, or online across several zones/nodes
    group: str | None = None   # the ACPI memory device (DIMM) it belongs to; None: boot memory
    early: bool = True         # early sections (boot memory)


class MemoryBlocks:
    """The memory block devices by id (``/sys/devices/system/memory``), kept as runs of
    consecutive blocks alike (``(first, end, block)``: ``block`` stands for each of them, its
    ``id`` the first) so that boot memory costs per range, not per block.  A block named on its
    own (``get``, ``[]``) is split out of its run, and its changes are its own."""

    def __init__(self) -> None:
        self._runs: list[tuple[int, int, MemoryBlock]] = []   # in id order, disjoint

    def clear(self) -> None:
        self._runs.clear()

    def _find(self, bid: int) -> int:
        """The index of the run holding ``bid`` (or of the first run after it)."""
        from bisect import bisect_right

        i = bisect_right(self._runs, bid, key=lambda r: r[0]) - 1
        return i if i >= 0 and bid < self._runs[i][1] else i + 1

    def _cut(self, bid: int) -> None:
        """Make ``bid`` the first block of a run when it is inside one."""
        i = self._find(bid)
        if i < len(self._runs) and self._runs[i][0] < bid < self._runs[i][1]:
            a, b, m = self._runs[i]
            self._runs[i:i + 1] = [(a, bid, m), (bid, b, attrs.evolve(m, id=bid))]

    def add(self, first: int, end: int, block: MemoryBlock) -> None:
        """New blocks ``first`` … ``end - 1``, each like ``block`` (none of them exists yet)."""
        if first < end:
            i = self._find(first)
            self._runs.insert(i, (first, end, attrs.evolve(block, id=first)))

    def split(self, first: int, end: int, cuts: Iterable[int] = ()) -> list[MemoryBlock]:
        """The runs of the existing blocks in ``[first, end)``, cut there and at ``cuts``:
        each returned block stands for its run, whose blocks change together."""
        for c in (first, end, *cuts):
            if first <= c <= end:
                self._cut(c)
        i = self._find(first)
        out = []
        while i < len(self._runs) and self._runs[i][0] < end:
            out.append(self._runs[i][2])
            i += 1
        return out

    def get(self, bid: int) -> MemoryBlock | None:
        if bid not in self:
            return None
        self._cut(bid)
        self._cut(bid + 1)
        return self._runs[self._find(bid)][2]

    def __getitem__(self, bid: int) -> MemoryBlock:
        m = self.get(bid)
        if m is None:
            raise KeyError(bid)
        return m

    def __contains__(self, bid: object) -> bool:
        if not isinstance(bid, int):
            return False
        i = self._find(bid)
        return i < len(self._runs) and self._runs[i][0] <= bid

    def runs(self) -> list[tuple[int, int, MemoryBlock]]:
        """``(first, end, block)`` of every run, in id order."""
        return list(self._runs)

    def ids(self, pred: Callable[[MemoryBlock], bool]) -> list[int]:
        """The ids of the blocks ``pred`` holds for, in order."""
        return [b for a, e, m in self._runs if pred(m) for b in range(a, e)]

    def any(self, pred: Callable[[MemoryBlock], bool]) -> bool:
        return any(pred(m) for _, _, m in self._runs)

    def remove(self, pred: Callable[[MemoryBlock], bool]) -> None:
        """Remove the blocks ``pred`` holds for."""
        self._runs = [r for r in self._runs if not pred(r[2])]


@generic_repr
@attrs.define(eq=False, repr=False)
class MemoryGroup:
    """A static ``struct memory_group`` (drivers/base/memory.c): one ACPI memory device, here a
    DIMM by the name the events give it, with QEMU's slot and address."""

    name: str
    nid: int
    base: int
    size: int
    slot: int
    pxm: int = 0                     # the device's _PXM: QEMU's node
    present_kernel_pages: int = 0
    present_movable_pages: int = 0


@generic_repr
@attrs.define(eq=False, repr=False)
class HotplugState:
    """Memory hotplug at run time: the memory block devices, the DIMMs (memory groups), every
    node's zones ``[start_pfn, spanned, present]`` with ``present_early_pages`` and the change of
    ``managed`` since boot, the online nodes and policy_zone."""

    block_size: int = 0                                               # memory_block_size_bytes()
    blocks: MemoryBlocks = attrs.field(factory=MemoryBlocks)
    groups: dict[str, MemoryGroup] = attrs.field(factory=dict)
    zones: dict[int, list[list[int]]] = attrs.field(factory=dict)
    present_early: dict[int, list[int]] = attrs.field(factory=dict)
    managed_delta: dict[int, list[int]] = attrs.field(factory=dict)
    online_nodes: set[int] = attrs.field(factory=set)
    running: set[int] = attrs.field(factory=set)                      # nodes with online CPUs

    @property
    def block_pages(self) -> int:
        return self.block_size >> 12


@generic_repr
@attrs.define(eq=False, repr=False)
class CpuState:
    """The possible CPUs (arch/x86/kernel/smpboot.c, arch/x86/mm/numa.c) and what the boot
    sized from them (mm/percpu.c, kernel/dma/swiotlb.c)."""

    cpu_node: list[int] = attrs.field(factory=list)  # early_cpu_to_node() per possible CPU id
    nr_node_ids: int = 1
    unit_size: int = 0                                 # pcpu_unit_size
    swiotlb: bool = False                              # x86_swiotlb_enable


@generic_repr
@attrs.define(eq=False, repr=False)
class BootLog:
    """What the simulated boot leaves behind besides its state.  ``limit``: the bytes its
    outputs may take (the compile's output bound); a boot whose :meth:`floor` passes it stops
    with :class:`OutputBound`, checked as allocations are made."""

    dmesg: list[str] = attrs.field(factory=list)
    log: list[str] = attrs.field(factory=list)     # memblock=debug lines and '# ' notes
    allocs: list[Alloc] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)   # what fwc assumed
    late: list[str] = attrs.field(factory=list)    # dmesg lines after early boot (DIMM hot-add)
    limit: int | None = None
    _counted: tuple[int, int, int] = (0, 0, 0)     # (log lines, allocations, their floor) counted

    def floor(self) -> int:
        """Bytes the boot backend writes at least for this log: ``boot/memblock.log`` (each line
        and its newline) and ``boot/boot.json``'s allocation records (each at least
        :data:`ALLOC_RECORD` bytes with its purpose, base and size in place of one character
        each).  Counted once per line and allocation."""
        lines, allocs, total = self._counted
        log, out = self.log, self.allocs
        total += sum(map(len, log[lines:])) + len(log) - lines
        total += sum(len(a.purpose) + len(str(a.base)) + len(str(a.size)) for a in out[allocs:])
        total += (ALLOC_RECORD - 2) * (len(out) - allocs)
        self._counted = (len(log), len(out), total)
        return total

    def check_bound(self, final: bool = False) -> None:
        """Raise :class:`OutputBound` when the floor passes ``limit``: looked at once per 4096
        log lines (cheap enough for every allocation), and at the end (``final``)."""
        if self.limit is None or (not final and len(self.log) - self._counted[0] < 4096):
            return
        if self.floor() > self.limit:
            raise OutputBound(self._counted[2])


class OutputBound(Exception):
    """The simulated boot's outputs pass the output bound: ``floor`` bytes at least, so far."""

    def __init__(self, floor: int) -> None:
        super().__init__(floor)
        self.floor = floor


#: The fewest bytes of one allocation's record in ``boot/boot.json`` (render.outputs, indent 1),
#: its purpose empty, its base and size one digit each, ``"late"`` and ``true``, no comma.
ALLOC_RECORD = len('  {\n   "base": 0,\n   "permanent": true,\n   "purpose": "",\n   "size": 0,\n'
                   '   "stage": "late"\n  }\n')


@generic_repr
@attrs.define(eq=False, repr=False)
class Kernel:
    """One simulated Linux x86_64 boot in progress (6.1, or the kernel ``version`` names)."""

    machine: Any
    cmdline: str
    params: KernelParams
    policy: Policy
    firmware: Firmware
    build: KernelBuild
    version: Linux61 = attrs.field(factory=Linux61)   # the kernel version's steps (kernel612 for 6.12)
    out: BootLog = attrs.field(factory=BootLog)
    memblock: Memblock = attrs.field()
    stage: str = "early"
    kernel_image: tuple[int, int] = (0, 0)   # (_text, __end_of_kernel_reserve - _text)
    kernel_end: int = 0                      # _end
    initrd: tuple[int, int] | None = None    # (start, size)
    e820: list[tuple[int, int, int]] = attrs.field(factory=list)
    max_pfn: int = 0
    direct_map: DirectMap = attrs.field(factory=DirectMap)
    acpi: AcpiState = attrs.field(factory=AcpiState)
    numa: NumaState = attrs.field(factory=NumaState)
    zones: ZoneState = attrs.field(factory=ZoneState)
    hotplug: HotplugState = attrs.field(factory=HotplugState)
    cpus: CpuState = attrs.field(factory=CpuState)

    @memblock.default
    def _memblock(self) -> Memblock:
        """Debian's memblock of the kernel version, its debug lines going to the boot log."""
        return self.version.new_memblock(self.out.log.append)

    # ---- the boot log
    def pr(self, line: str) -> None:
        """printk(): one dmesg line."""
        self.out.dmesg.append(line)

    def pr_debug(self, line: str) -> None:
        """pr_debug(): not in dmesg (no dynamic debug on the command line); noted in memblock.log."""
        self.note("pr_debug: " + line)

    def note(self, line: str) -> None:
        """A '# ' line in memblock.log: what fwc is doing, between memblock's own lines."""
        self.out.log.append("# " + line)

    def log_dump(self, why: str) -> None:
        self.note(why)
        self.out.log.extend(self.memblock.dump_all().split("\n"))

    # ---- memblock calls with a purpose
    def reserve(self, base: int, size: int, purpose: str, permanent: bool = True) -> None:
        """memblock_reserve(), recorded as an allocation."""
        self.memblock.caller = purpose
        self.memblock.reserve(base, size)
        self.out.allocs.append(Alloc(purpose, base, size, self.stage, permanent))
        self.out.check_bound()

    def alloc(self, fn: str, purpose: str, size: int, *args: Any, permanent: bool = True) -> int:
        """A memblock allocator (``fn``: the memblock model's method), recorded; 0 on failure."""
        mb = self.memblock
        mb.caller = purpose
        if fn == "phys_alloc_try_nid":
            align, nid = args
            self.out.log.append("memblock_phys_alloc_try_nid: %d bytes align=0x%x nid=%d %s"
                                % (size, align, nid, purpose))
        addr = getattr(mb, fn)(size, *args)
        if addr:
            self.out.allocs.append(Alloc(purpose, addr, size, self.stage, permanent))
        else:
            self.note(f"allocation failed: {purpose} ({size:#x} bytes)")
        self.out.check_bound()
        return addr

    # ---- memblock.memory as PFN ranges
    def mem_pfn_ranges(self, nid: int | None = None) -> list[tuple[int, int, int]]:
        """for_each_mem_pfn_range(): (start_pfn, end_pfn, nid) of memblock.memory."""
        return self.memblock.memory.pfn_ranges(nid)
