"""Linux 6.12 as a version object: :class:`Linux612` overrides the steps of
:class:`~fwc_plugins.boot.kernel.version.Linux61` that 6.12 does differently, each with the
function of this package's module named after its 6.12 source file.  Debian 13 / bookworm
backports' ``linux-image-6.12.*-amd64-unsigned``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ClassVar

import attrs

from fwc.attrs_repr import generic_repr

from ..kernel.version import Linux61
from ..memblock import NUMA_NO_NODE

if TYPE_CHECKING:
    from ..kernel.state import Kernel
    from ..memblock import Memblock


@generic_repr
@attrs.define(repr=False)
class Linux612(Linux61):
    """Linux 6.12 (Debian's ``linux-image-6.12.*-amd64-unsigned``)."""

    name: ClassVar[str] = "6.12"
    memhp_default_online_type: ClassVar[str] = "online"   # CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO=y
    no_node: ClassVar[int] = NUMA_NO_NODE                  # numa_memblks_init(): memblock_set_node(.., NUMA_NO_NODE)
    srat_cpu_lines: ClassVar[bool] = False                 # arch/x86/mm/srat.c: pr_debug
    managed_pages_are_present: ClassVar[bool] = True       # mm/mm_init.c free_area_init_core()
    memoryless_local_node_skipped: ClassVar[bool] = True   # mm/page_alloc.c find_next_best_node()
    memory_line_late: ClassVar[bool] = True                # mm/mm_init.c page_alloc_init_late()
    deferred_highest_zone_only: ClassVar[bool] = True      # mm/mm_init.c deferred_init_memmap()
    node_spanned_is_zone_sum: ClassVar[bool] = False       # mm/mm_init.c calculate_node_totalpages()
    offline_clears_node_first: ClassVar[bool] = True       # mm/memory_hotplug.c offline_pages()
    disabled_cpus_possible: ClassVar[bool] = False         # arch/x86/kernel/acpi/boot.c, under TCG
    pcpu_chunk_size: ClassVar[int] = 192                   # measured: pcpu_alloc_first_chunk() asks 200 bytes
    cpu_local_masks: ClassVar[tuple[str, ...]] = ("cpu_sibling_setup_mask",)   # arch/x86/kernel/smpboot.c

    @property
    def pgdat_size(self) -> int:
        """roundup(sizeof(pg_data_t), SMP_CACHE_BYTES) (mm/numa.c alloc_node_data(),
        mm/mm_init.c's memoryless nodes)."""
        from .mm_numa import PGDAT_SIZE

        return PGDAT_SIZE

    @property
    def memoryless_pgdat_size(self) -> int:
        """6.12's alloc_offline_node_data() (mm/numa.c): sizeof(pg_data_t), as for any node."""
        return self.pgdat_size

    def calc_nr_kernel_pages(self, k: Kernel) -> int:
        """mm/mm_init.c calc_nr_kernel_pages(): the pages memblock has free then."""
        from .mm_init import calc_nr_kernel_pages

        return calc_nr_kernel_pages(k)

    def new_memblock(self, debug: Callable[[str], None]) -> Memblock:
        """mm/memblock.c of 6.12 (:class:`~.memblock.Memblock612`), Debian's build constants."""
        from ..memblock import DEBIAN_X86_64
        from .memblock import Memblock612

        return Memblock612(DEBIAN_X86_64, debug=debug)

    def prefill_possible_map(self, k: Kernel) -> None:
        """arch/x86/kernel/cpu/topology.c topology_init_possible_cpus()."""
        from .topology import topology_init_possible_cpus

        topology_init_possible_cpus(k)

    def kernelcore_mirror_applies(self, k: Kernel) -> bool:
        """mm/mm_init.c find_zone_movable_pfns_for_nodes(): without mirrored memory
        (memblock_has_mirror()) kernelcore=mirror is ignored, with a warning."""
        from .mm_init import kernelcore_mirror_applies

        return kernelcore_mirror_applies(k)

    def numa_cleanup_meminfo(self, k: Kernel) -> bool:
        """mm/numa_memblks.c numa_cleanup_meminfo()."""
        from .numa_memblks import numa_cleanup_meminfo

        return numa_cleanup_meminfo(k)

    def numa_register_memblks(self, k: Kernel) -> bool:
        """mm/numa_memblks.c numa_register_meminfo(), arch/x86/mm/numa.c numa_register_nodes()."""
        from .numa import numa_register

        return numa_register(k)
