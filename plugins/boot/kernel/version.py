"""The kernel version a boot is simulated for: Linux 6.1 (this package) or 6.12
(:mod:`fwc_plugins.boot.kernel612`, which overrides the steps 6.12 does differently).

:class:`Linux61` is the version object of Debian 12's 6.1 (``linux-image-6.1.0-*-amd64``):
the shared steps call it where 6.12 differs, the way they call the policy object where the
seed design differs (:mod:`.policy`).  Each method here is the 6.1 step itself (a call of
this package's function); :class:`~fwc_plugins.boot.kernel612.version.Linux612` overrides
them with the 6.12 functions, each in a module named after its 6.12 source file.

The two Debian configurations differ too (``/boot/config-*`` of the packages):
``CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO=y`` in 6.12 (6.1 has no
``CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE``: hot-added memory stays offline), and
``sizeof(pg_data_t)`` (NODE_DATA's size).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ClassVar

import attrs

from fwc.attrs_repr import generic_repr

from .zones import MAX_NUMNODES

if TYPE_CHECKING:
    from ..memblock import Memblock
    from .state import Kernel

#: The kernels fwc models, oldest first; the first is the default.
KERNELS = ("6.1", "6.12")
DEFAULT_KERNEL = KERNELS[0]


@generic_repr
@attrs.define(repr=False)
class Linux61:
    """Linux 6.1 (Debian 12's ``linux-image-6.1.0-*-amd64``)."""

    name: ClassVar[str] = "6.1"
    #: what hot-added memory becomes without memhp_default_state= (mm/memory_hotplug.c mhp_default_online_type)
    memhp_default_online_type: ClassVar[str] = "offline"
    #: the node id of memory no node claims yet (6.1: MAX_NUMNODES; 6.12: NUMA_NO_NODE)
    no_node: ClassVar[int] = MAX_NUMNODES
    #: arch/x86/mm/srat.c prints ``SRAT: PXM p -> APIC a -> Node n`` with pr_info (6.12: pr_debug)
    srat_cpu_lines: ClassVar[bool] = True
    #: free_area_init_core() sets a zone's managed pages to its present pages (6.12, mm/mm_init.c);
    #: 6.1 (mm/page_alloc.c) subtracts the memmap and dma_reserve
    managed_pages_are_present: ClassVar[bool] = False
    #: find_next_best_node() (mm/page_alloc.c) puts a memoryless local node first in its own
    #: fallback order in 6.1; 6.12 skips it
    memoryless_local_node_skipped: ClassVar[bool] = False
    #: the ``Memory:`` line comes from mm_init()'s mem_init_print_info() (6.1); 6.12 prints it in
    #: page_alloc_init_late() (mm/mm_init.c), after the SMP alternatives are freed
    memory_line_late: ClassVar[bool] = False
    #: deferred_init_memmap() initialises the pages from first_deferred_pfn in the first zone ending
    #: above it (6.1, mm/page_alloc.c); 6.12 (mm/mm_init.c) in the node's highest zone
    deferred_highest_zone_only: ClassVar[bool] = False
    #: calculate_node_totalpages() sets node_spanned_pages to the sum of the zones' spanned pages
    #: (6.1, mm/page_alloc.c); 6.12 (mm/mm_init.c) to the node's end less its start
    node_spanned_is_zone_sum: ClassVar[bool] = True
    #: offline_pages() (mm/memory_hotplug.c) rebuilds the zonelists of an emptied zone while its
    #: node still has N_MEMORY (6.1); 6.12 calls node_states_clear_node() first, so a node left
    #: without memory is no longer in the fallback orders, its own included
    offline_clears_node_first: ClassVar[bool] = False
    #: a disabled MADT CPU is a possible (hotplug) CPU (6.1); 6.12 only under a hypervisor it knows
    disabled_cpus_possible: ClassVar[bool] = True
    #: sizeof(struct pcpu_chunk) before populated[] (mm/percpu-internal.h), Debian's build
    pcpu_chunk_size: ClassVar[int] = 136
    #: the cpumasks setup_cpu_local_masks() (arch/x86/kernel/smpboot.c) allocates from memblock
    cpu_local_masks: ClassVar[tuple[str, ...]] = ("cpu_initialized_mask", "cpu_callin_mask", "cpu_callout_mask",
                                                  "cpu_sibling_setup_mask")

    @property
    def pgdat_size(self) -> int:
        """What alloc_node_data() allocates for a pg_data_t (6.1: rounded up to a page)."""
        from .numa import PGDAT_SIZE

        return PGDAT_SIZE

    @property
    def memoryless_pgdat_size(self) -> int:
        """What free_area_init() allocates for a memoryless node's pg_data_t: 6.1's
        arch_alloc_nodedata() = generic_alloc_nodedata(), memblock_alloc(sizeof(pg_data_t)),
        unrounded (sizeof from the Debian build's BTF; found by bench/fidelity.py 200 2026,
        machines 11 and 30)."""
        return 174208

    def calc_nr_kernel_pages(self, k: Kernel) -> int:
        """nr_kernel_pages at the end of free_area_init(): 6.1 sums each zone's freesize in
        free_area_init_core() (mm/page_alloc.c)."""
        from .page_alloc import nr_kernel_pages

        return nr_kernel_pages(k)

    def new_memblock(self, debug: Callable[[str], None]) -> Memblock:
        """mm/memblock.c of this kernel, Debian's build constants."""
        from ..memblock import DEBIAN_X86_64, Memblock

        return Memblock(DEBIAN_X86_64, debug=debug)

    def prefill_possible_map(self, k: Kernel) -> None:
        """arch/x86/kernel/smpboot.c prefill_possible_map() (6.12: arch/x86/kernel/cpu/topology.c)."""
        from .smp import prefill_possible_map

        prefill_possible_map(k)

    def kernelcore_mirror_applies(self, k: Kernel) -> bool:
        """mm/page_alloc.c find_zone_movable_pfns_for_nodes(): kernelcore=mirror always
        applies in 6.1 (6.12 ignores it without mirrored memory)."""
        return True

    def numa_cleanup_meminfo(self, k: Kernel) -> bool:
        """arch/x86/mm/numa.c numa_cleanup_meminfo()."""
        from .numa import numa_cleanup_meminfo

        return numa_cleanup_meminfo(k)

    def numa_register_memblks(self, k: Kernel) -> bool:
        """arch/x86/mm/numa.c numa_register_memblks() (6.12: numa_register_meminfo() and
        numa_register_nodes())."""
        from .numa import numa_register_memblks

        return numa_register_memblks(k)


def bzimage_release(path: str) -> tuple[str, str]:
    """The release a bzImage's boot header names (the ``kernel_version`` string at the header's
    offset 0x20E, +0x200; Documentation/arch/x86/boot.rst) and its ``major.minor``, the name fwc's
    kernels go by: ``("6.12.115+deb12-amd64", "6.12")``; ("", "") when the header has none."""
    import re
    import struct

    with open(path, "rb") as f:
        h = f.read(0x210)
        if len(h) < 0x210 or h[0x202:0x206] != b"HdrS":
            raise ValueError(f"'{path}' is not an x86 bzImage (no 'HdrS' boot header)")
        off, = struct.unpack_from("<H", h, 0x20E)
        if not off:
            return "", ""
        f.seek(off + 0x200)
        release = f.read(256).split(b"\0", 1)[0].decode("ascii", "replace").split(" ", 1)[0]
    m = re.match(r"(\d+)\.(\d+)\b", release)
    return release, f"{m.group(1)}.{m.group(2)}" if m else ""


def kernel_of(machine) -> str:
    """The kernel a description names (``kernel "6.12"``) when fwc models it, else the default
    (an unknown name is the ``boot-kernel`` check's error)."""
    return machine.kernel_version if machine.kernel_version in KERNELS else DEFAULT_KERNEL


def kernel_named(name: str) -> Linux61:
    """A fresh version object for a name of :data:`KERNELS` (ValueError otherwise)."""
    if name == "6.1":
        return Linux61()
    if name == "6.12":
        from ..kernel612.version import Linux612

        return Linux612()
    raise ValueError(f"unknown kernel '{name}' ({' or '.join(KERNELS)})")
