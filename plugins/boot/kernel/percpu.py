"""The per-CPU first chunk: setup_per_cpu_areas() (arch/x86/kernel/setup_percpu.c) embedding it
with pcpu_embed_first_chunk() (mm/percpu.c), then the node and CPU masks it sets up
(setup_node_to_cpumask_map() of arch/x86/mm/numa.c, setup_cpu_local_masks() of
arch/x86/kernel/cpu/common.c).  Each possible CPU's node is early_cpu_to_node(): the SRAT's
for a present CPU, else numa_init_array()'s round robin over the online nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwc.units import MiB

from .sparse import MAX_DMA_ADDRESS, SMP_CACHE_BYTES
from .zones import PAGE, roundup

if TYPE_CHECKING:
    from .state import Kernel

PERCPU_MODULE_RESERVE = 8 << 10      # include/linux/percpu.h (CONFIG_MODULES)
PERCPU_DYNAMIC_RESERVE = 28 << 10    # 64-bit
PERCPU_DYNAMIC_EARLY_SIZE = 12 << 10
PCPU_MIN_UNIT_SIZE = 32 << 10
PCPU_MIN_ALLOC_SHIFT = 2
PCPU_SLOT_BASE_SHIFT = 5
PCPU_CHUNK_SIZE = 136                # sizeof(struct pcpu_chunk) before populated[] (6.1; the version's)
PCPU_BLOCK_MD_SIZE = 32              # sizeof(struct pcpu_block_md)
ATOM_SIZE = 2 * MiB                  # PMD_SIZE (x86 pcpu_embed_first_chunk atom)


def numa_init_array(k: Kernel, cpus: list) -> list[int]:
    """numa_init_array() (arch/x86/mm/numa.c) then init_cpu_to_node(): every possible CPU id's node —
    the present CPUs (ids in MADT order) take their SRAT node, the others keep the round robin over
    the online nodes that numa_init_array() gave every CPU."""
    online = sorted(k.numa.online) or [0]
    apic_node = {a: n for n, apics in k.numa.node_cpus.items() for a in apics}
    present = [c for c in cpus if c.enabled]
    out = [online[i % len(online)] for i in range(len(cpus))]
    for i, c in enumerate(present):
        n = apic_node.get(c.apic_id)
        if n is not None:          # init_cpu_to_node() sets it, memoryless or not (node_set_online)
            out[i] = n
    return out


def setup_per_cpu_areas(k: Kernel) -> None:
    """setup_per_cpu_areas() (arch/x86/kernel/setup_percpu.c): the embedded first chunk, then the
    node masks (setup_node_to_cpumask_map, one per possible node id) and the four CPU masks of
    setup_cpu_local_masks()."""
    from .smp import madt_cpus, possible_cpus

    cpus = possible_cpus(k) or [None]
    k.cpus.cpu_node = numa_init_array(k, [c for c in cpus if c is not None]) if cpus[0] is not None else [0]
    possible = k.numa.possible
    k.cpus.nr_node_ids = max(possible) + 1 if possible else 1
    if madt_cpus(k):
        n = len(k.cpus.cpu_node)
        k.pr(f"setup_percpu: NR_CPUS:{k.build.nr_cpus} nr_cpumask_bits:{n} nr_cpu_ids:{n} "
             f"nr_node_ids:{k.cpus.nr_node_ids}")
    pcpu_embed_first_chunk(k)
    mask = roundup(len(k.cpus.cpu_node), 64) // 8
    for n in range(k.cpus.nr_node_ids):
        k.alloc("alloc_try_nid", f"node_to_cpumask_map[{n}] (setup_node_to_cpumask_map)", mask, SMP_CACHE_BYTES,
                0, 0, -1)
    for name in k.version.cpu_local_masks:
        k.alloc("alloc_try_nid", f"{name} (setup_cpu_local_masks)", mask, SMP_CACHE_BYTES, 0, 0, -1)


def pcpu_build_alloc_info(k: Kernel) -> tuple[int, int, list[list[int]]]:
    """pcpu_build_alloc_info() (mm/percpu.c): (size_sum, unit_size, the CPUs of each group in unit
    order); CPUs of one node form a group (pcpu_cpu_distance), units per allocation chosen so that
    no more than a third of the units are wasted."""
    static = k.build.percpu_static
    size_sum = roundup(static + PERCPU_MODULE_RESERVE + max(PERCPU_DYNAMIC_RESERVE, PERCPU_DYNAMIC_EARLY_SIZE), PAGE)
    min_unit = max(size_sum, PCPU_MIN_UNIT_SIZE)
    alloc_size = roundup(min_unit, ATOM_SIZE)
    upa = alloc_size // min_unit
    while alloc_size % upa or (alloc_size // upa) % PAGE:
        upa -= 1
    nodes = k.cpus.cpu_node
    groups: list[list[int]] = []
    seen: dict[int, int] = {}
    for cpu, n in enumerate(nodes):
        if n not in seen:
            seen[n] = len(groups)
            groups.append([])
        groups[seen[n]].append(cpu)
    last, best = 1 << 62, 0
    for u in range(upa, 0, -1):
        if alloc_size % u or (alloc_size // u) % PAGE:
            continue
        allocs = sum(-(-len(g) // u) for g in groups)
        wasted = sum(-(-len(g) // u) * u - len(g) for g in groups)
        if wasted > len(nodes) // 3:
            continue
        if allocs > last:
            break
        last, best = allocs, u
    units = [g + [-1] * (roundup(len(g), best) - len(g)) for g in groups]
    nr_units = sum(len(u) for u in units)
    ai_size = roundup(64 + 24 * len(groups), 4) + 4 * nr_units
    k.alloc("alloc_try_nid", "percpu alloc info (pcpu_alloc_alloc_info, freed)", roundup(ai_size, PAGE), PAGE,
            0, 0, -1, permanent=False)
    return size_sum, alloc_size // best, units


def pcpu_embed_first_chunk(k: Kernel) -> None:
    """pcpu_embed_first_chunk() (mm/percpu.c): one allocation per group on its node (pcpu_fc_alloc),
    each unit's unused tail and every CPU-less unit given back, pcpu_setup_first_chunk(), then the
    temporary alloc info and areas array freed."""
    size_sum, unit, groups = pcpu_build_alloc_info(k)
    ai = k.out.allocs[-1].base
    areas = k.alloc("alloc_try_nid", "percpu areas array (pcpu_embed_first_chunk, freed)",
                    roundup(len(groups) * 8, PAGE), SMP_CACHE_BYTES, 0, 0, -1, permanent=False)
    k.cpus.unit_size = unit
    bases = []
    for g in groups:
        nid = k.cpus.cpu_node[g[0]]
        nid = nid if nid in k.numa.node_data else -1
        bases.append(k.alloc("alloc_try_nid", f"per-CPU areas of CPUs {g[0]}.. on node {nid} (pcpu_fc_alloc)",
                             len(g) * unit, ATOM_SIZE, MAX_DMA_ADDRESS, 0, nid))
    for g, base in zip(groups, bases):
        for i, cpu in enumerate(g):
            k.memblock.caller = "percpu unit tail (pcpu_fc_free)"
            if cpu < 0:
                k.memblock.phys_free(base + i * unit, unit)
            else:
                k.memblock.phys_free(base + i * unit + size_sum, unit - size_sum)
    pcpu_setup_first_chunk(k, len(groups), len(k.cpus.cpu_node), unit)
    k.memblock.caller = "percpu alloc info (pcpu_free_alloc_info)"
    k.memblock.phys_free(ai, PAGE)
    k.memblock.caller = "percpu areas array (pcpu_embed_first_chunk)"
    k.memblock.phys_free(areas, roundup(len(groups) * 8, PAGE))


def pcpu_setup_first_chunk(k: Kernel, nr_groups: int, nr_cpu_ids: int, unit: int) -> None:
    """pcpu_setup_first_chunk() (mm/percpu.c): its group and unit tables, the chunk lists
    (pcpu_nr_slots), and the reserved and dynamic chunks (pcpu_alloc_first_chunk)."""
    for purpose, size in (("group_offsets", nr_groups * 8), ("group_sizes", nr_groups * 8),
                          ("unit_map", nr_cpu_ids * 4), ("unit_off", nr_cpu_ids * 8),
                          ("pcpu_chunk_lists", (max(unit.bit_length() - PCPU_SLOT_BASE_SHIFT + 2, 1) + 4) * 16)):
        k.alloc("alloc_try_nid", f"percpu {purpose} (pcpu_setup_first_chunk)", size, SMP_CACHE_BYTES, 0, 0, -1)
    static = k.build.percpu_static
    pcpu_alloc_first_chunk(k, "reserved", static, PERCPU_MODULE_RESERVE)
    dyn = roundup(static + PERCPU_MODULE_RESERVE + PERCPU_DYNAMIC_RESERVE, PAGE) - static - PERCPU_MODULE_RESERVE
    pcpu_alloc_first_chunk(k, "dynamic", static + PERCPU_MODULE_RESERVE, dyn)


def pcpu_alloc_first_chunk(k: Kernel, name: str, offset: int, map_size: int) -> None:
    """pcpu_alloc_first_chunk() (mm/percpu.c): the chunk and its allocation, boundary and block maps."""
    region = roundup(offset % PAGE + map_size, PAGE)
    bits = region >> PCPU_MIN_ALLOC_SHIFT
    for what, size in (("chunk", k.version.pcpu_chunk_size + 8 * (-(-(region // PAGE) // 64))),
                       ("alloc_map", 8 * (-(-bits // 64))), ("bound_map", 8 * (-(-(bits + 1) // 64))),
                       ("md_blocks", PCPU_BLOCK_MD_SIZE * (region // PAGE))):
        k.alloc("alloc_try_nid", f"percpu {name} {what} (pcpu_alloc_first_chunk)", size, SMP_CACHE_BYTES, 0, 0, -1)
