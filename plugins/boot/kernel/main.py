"""start_kernel() (init/main.c), as far as fwc follows it: setup_arch(), the CPU lines,
build_all_zonelists(), the ``Kernel command line`` line and mm_init()'s memblock_free_all().
What follows early boot (cold-plugged DIMMs onlined) and fwc's pin analysis are run by
:func:`fwc_plugins.boot.sim.simulate` after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .page_alloc import build_all_zonelists
from .setup import setup_arch
from .smp import smp_lines

if TYPE_CHECKING:
    from .state import Kernel


def start_kernel(k: Kernel) -> None:
    """start_kernel() (init/main.c): setup_arch() to memblock_free_all()."""
    setup_arch(k)
    smp_lines(k)
    build_all_zonelists(k)
    k.pr(f"Kernel command line: {k.cmdline}")
    k.policy.memblock_free_all(k)     # mm_init() -> mem_init() -> memblock_free_all()
