"""Linux 6.1 x86_64 early boot, one module per kernel file, to be read beside the source:

======================  ==============================================================
module                  kernel source
======================  ==============================================================
``main``                init/main.c: start_kernel()
``setup``               arch/x86/kernel/setup.c: setup_arch(), early reservations;
                        arch/x86/realmode/init.c: reserve_real_mode()
``cmdline``             the early_param handlers (lib/cmdline.c memparse() is fwc.units')
``e820``                arch/x86/kernel/e820.c
``direct_map``          arch/x86/mm/init.c: init_mem_mapping(), alloc_low_page(),
                        memblock_find_dma_reserve()
``acpi_tables``         drivers/acpi/tables.c: acpi_table_upgrade(), the table list
``srat``                drivers/acpi/numa/srat.c, arch/x86/mm/srat.c
``numa``                arch/x86/mm/numa.c
``sparse``              mm/sparse.c (and arch/x86/mm/init_64.c vmemmap_populate())
``percpu``              mm/percpu.c: pcpu_embed_first_chunk(); arch/x86/kernel/setup_percpu.c
``printk``              kernel/printk/printk.c: setup_log_buf()
``cpu_entry_area``      arch/x86/mm/cpu_entry_area.c: setup_cpu_entry_areas()
``io_apic``             arch/x86/kernel/apic/io_apic.c: io_apic_init_mappings()
``dcache``              fs/dcache.c: vfs_caches_init_early() (one-node machines' hash tables)
``swiotlb``             kernel/dma/swiotlb.c; arch/x86/kernel/pci-dma.c: pci_swiotlb_detect()
``mem_init``            arch/x86/mm/init_64.c mem_init(), mm/memblock.c memblock_free_all(),
                        the pages freed after boot (initrd, init sections, memblock_discard())
``page_alloc``          mm/page_alloc.c: free_area_init(), find_zone_movable_pfns_for_nodes(),
                        memmap_init(), build_all_zonelists()
``smp``                 arch/x86/kernel/acpi/boot.c, smpboot.c (one line each), acpi_parse_hpet()
``memory_hotplug``      mm/memory_hotplug.c: adding, onlining, offlining, removing memory
``drivers_base_memory`` drivers/base/memory.c (and drivers/base/node.c): the memory blocks
``init_64``             arch/x86/mm/init_64.c: probe_memory_block_size()
``acpi_memhotplug``     drivers/acpi/acpi_memhotplug.c, drivers/acpi/scan.c: DIMMs as ACPI
                        memory devices, their eject
``zones``               include/linux/mmzone.h: ZoneType and the PFN constants
``state``               the kernel's globals, as typed attrs classes (:class:`~.state.Kernel`)
``policy``              upstream 6.1 and the 2013 seed design (movablecore=acpi)
``version``             the kernel version object: 6.1's steps where 6.12 differs (``kernel612``)
``pins``                fwc's own analysis: what keeps hotpluggable memory from being removed
======================  ==============================================================

memblock itself is ``fwc_plugins.boot.memblock`` (mm/memblock.c); the kernel build's figures
(image sections, per-CPU size, config) are ``fwc_plugins.boot.kernel_build``'s.
"""
