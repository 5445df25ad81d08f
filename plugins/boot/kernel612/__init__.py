"""Linux 6.12 x86_64 early boot: the steps that differ from 6.1, one module per kernel file.

The 6.1 simulator (:mod:`fwc_plugins.boot.kernel`) is the shared code; a 6.12 module here
overrides only what the 6.12 source does differently, and names the 6.12 file it models:

=====================  ==============================================================
module                 kernel source (Linux 6.12)
=====================  ==============================================================
``memblock``           mm/memblock.c (:class:`~.memblock.Memblock612` over 6.1's model)
``numa_memblks``       mm/numa_memblks.c: numa_cleanup_meminfo(), numa_register_meminfo()
                       (6.1: arch/x86/mm/numa.c)
``numa``               arch/x86/mm/numa.c: numa_register_nodes()
``mm_numa``            mm/numa.c: alloc_node_data() (6.1: arch/x86/mm/numa.c)
``mm_init``            mm/mm_init.c: find_zone_movable_pfns_for_nodes()'s kernelcore=mirror
                       test (6.1: mm/page_alloc.c)
``topology``           arch/x86/kernel/cpu/topology.c: the possible CPUs (6.1:
                       arch/x86/kernel/smpboot.c prefill_possible_map())
``version``            :class:`~.version.Linux612`, the version object that overrides 6.1's steps
=====================  ==============================================================

Smaller differences are flags of the version object: the SRAT's ``SRAT: PXM -> APIC``
lines are pr_debug (arch/x86/mm/srat.c), free_area_init_core() counts a zone's present
pages as managed (mm/mm_init.c), memory no node claims has NUMA_NO_NODE, and Debian's
6.12 onlines hot-added memory (CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO).
"""
