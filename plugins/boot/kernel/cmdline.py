"""The kernel command line: the early parameters fwc models, each parsed as its
``early_param``/``__setup`` handler does, sizes through :func:`fwc.units.memparse`
(lib/cmdline.c memparse(), shared with fwc's own command-line check).

fwc fuses the handlers into one pass, :func:`parse_early_options` (init/main.c): the kernel
calls each handler for its own word, in command-line order, so a later word wins -- as here.
"""

from __future__ import annotations

import attrs

from fwc.attrs_repr import generic_repr
from fwc.units import memparse


@generic_repr
@attrs.frozen(repr=False)
class KernelParams:
    """The parameters that change early boot, as their handlers leave them."""

    movable_node: bool = False       # mm/memory_hotplug.c cmdline_parse_movable_node
    kernelcore: int = 0              # pages; mm/page_alloc.c cmdline_parse_kernelcore
    kernelcore_pct: int = 0
    movablecore: int = 0             # pages; mm/page_alloc.c cmdline_parse_movablecore
    movablecore_pct: int = 0
    mirror: bool = False             # kernelcore=mirror (mirrored_kernelcore)
    mem: int = 0                     # arch/x86/kernel/e820.c parse_memopt
    numa_off: bool = False           # arch/x86/mm/numa.c numa_setup
    acpi_off: bool = False           # arch/x86/kernel/acpi/boot.c parse_acpi
    nokaslr: bool = False
    movablecore_acpi: bool = False   # the 2013 seed design's movablecore=acpi
    memhp_default_state: str = ""    # mm/memory_hotplug.c setup_memhp_default_state
    # mm/memory_hotplug.c module parameters (memory_hotplug.NAME=VALUE)
    online_policy: str = "contig-zones"
    auto_movable_ratio: int = 301
    auto_movable_numa_aware: bool = True


def parse_early_options(cmdline: str) -> KernelParams:
    """parse_early_options() (init/main.c: parse_args with do_early_param), fused with the
    handlers of :class:`KernelParams`; setup.parse_early_param() applies their effects."""
    o = attrs.asdict(KernelParams())
    for w in cmdline.split():
        k, eq, v = w.partition("=")
        if k == "movable_node":
            o["movable_node"] = True
        elif k == "nokaslr":
            o["nokaslr"] = True
        elif k in ("kernelcore", "movablecore") and eq:
            if v == "mirror" and k == "kernelcore":
                o["mirror"] = True
            elif v == "acpi" and k == "movablecore":
                o["movablecore_acpi"] = True
            elif v.endswith("%"):
                try:
                    pct = int(v[:-1])
                except ValueError:
                    continue
                if 0 <= pct <= 100:
                    o[k + "_pct"] = pct
            else:
                n = memparse(v)
                if n is not None:
                    o[k] = n >> 12
                    o[k + "_pct"] = 0
        elif k == "mem" and eq:
            n = memparse(v)
            if n:
                o["mem"] = n
        elif k == "numa" and v == "off":
            o["numa_off"] = True
        elif k == "acpi" and v == "off":
            o["acpi_off"] = True
        elif k == "memhp_default_state" and eq:
            o["memhp_default_state"] = v
        elif k == "memory_hotplug.online_policy" and v in ("contig-zones", "auto-movable"):
            o["online_policy"] = v
        elif k == "memory_hotplug.auto_movable_ratio" and v.isdigit():
            o["auto_movable_ratio"] = int(v)
        elif k == "memory_hotplug.auto_movable_numa_aware" and v[:1] in ("y", "Y", "1", "n", "N", "0"):
            o["auto_movable_numa_aware"] = v[:1] in ("y", "Y", "1")
    return KernelParams(**o)
