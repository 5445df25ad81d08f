"""start_kernel() (init/main.c), as far as fwc follows it: setup_arch(), the command line copies,
the CPU lines and per-CPU areas, build_all_zonelists(), the ``Kernel command line`` line, the
log buffer, trap_init()'s CPU entry areas, mm_init()'s mem_init() (swiotlb, memblock_free_all(),
the ``Memory:`` line), and the pages freed after boot.
What follows early boot (cold-plugged DIMMs onlined) and fwc's pin analysis are run by
:func:`fwc_plugins.boot.sim.simulate` after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cpu_entry_area import setup_cpu_entry_areas
from .dcache import vfs_caches_init_early
from .mem_init import free_after_boot, mem_init
from .page_alloc import build_all_zonelists
from .printk import setup_log_buf
from .setup import setup_arch
from .smp import smp_lines
from .sparse import SMP_CACHE_BYTES

if TYPE_CHECKING:
    from .state import Kernel


def start_kernel(k: Kernel) -> None:
    """start_kernel() (init/main.c): setup_arch() to mm_init()'s memblock_free_all(), then what the
    running kernel frees before userspace starts."""
    setup_arch(k)
    setup_command_line(k)
    smp_lines(k)                      # with setup_per_cpu_areas()
    build_all_zonelists(k)
    k.pr(f"Kernel command line: {k.cmdline}")
    setup_log_buf(k)
    vfs_caches_init_early(k)
    setup_cpu_entry_areas(k)          # trap_init()
    mem_init(k)                       # mm_init(): swiotlb, memblock_free_all(), the Memory: line
    free_after_boot(k)


def setup_command_line(k: Kernel) -> None:
    """setup_command_line() (init/main.c): saved_command_line and static_command_line, each the
    command line and its NUL."""
    for name in ("saved_command_line", "static_command_line"):
        k.alloc("alloc_try_nid", f"{name} (setup_command_line)", len(k.cmdline.encode()) + 1, SMP_CACHE_BYTES,
                0, 0, -1)
