"""Checks for the classic mistakes a description can make that are still valid input.

* ``hotplug-not-movable``: hot-pluggable boot memory (with an ``e820`` block: hot-pluggable
  ranges holding usable RAM; a server's SRAT marks empty address space hot-pluggable too), but no ``movable_node``, ``kernelcore=``
  or ``movablecore=`` on the command line: Linux 6.1 then puts it in a kernel zone and allocates
  in it from the first moment, so it can never be hot-removed (docs/background.md).
* ``memory-size``: a memory or DIMM size that is not a whole number of 4 KiB pages, or is
  implausibly small for memory (below 64 KiB) — usually a number written without a unit,
  which is bytes (``memory 4G size 1024``).  Reported by the build at the size's own text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .units import exact_size

if TYPE_CHECKING:
    from .model import Machine
    from .registry import Report

PAGE = 4096
SMALLEST_MEMORY = 64 << 10
MOVABLE_OPTIONS = ("movable_node", "kernelcore", "movablecore")


def check_hotplug_not_movable(m: "Machine", report: "Report") -> None:
    if any(p in m.params for p in MOVABLE_OPTIONS):
        return
    ranges = [(n, r) for n in m.nodes for r in n.memory if r.hotpluggable and not r.dimm and r.enabled and r.size]
    if m.e820:  # a firmware memory map: only hot-pluggable ranges holding RAM at boot (not address space)
        from .e820 import usable_ranges

        ram = usable_ranges(m)
        ranges = [(n, r) for n, r in ranges if any(b < r.end and r.base < e for b, e in ram)]
    if not ranges:
        return
    from .diagnostics import Related

    nodes = sorted({n.id for n, _ in ranges})
    which = f"node {nodes[0]}" if len(nodes) == 1 else "nodes " + ", ".join(map(str, nodes))
    report(f"the boot memory of {which} is hot-pluggable, but the cmdline has neither movable_node nor "
           f"kernelcore=/movablecore=: Linux puts it in a kernel zone and allocates in it, so it can never be "
           f"hot-removed", ranges[0][1].span,
           related=[Related(f"hot-pluggable memory of node {n.id}", r.span) for n, r in ranges[1:] if r.span],
           notes=["add movable_node to the cmdline (or kernelcore=/movablecore=), or drop 'hotpluggable'"])


def size_problem(size: int) -> str | None:
    """Why ``size`` is an unlikely size for a memory range, or None."""
    if size and size % PAGE:
        return "is not a whole number of 4 KiB pages"
    if 0 < size < SMALLEST_MEMORY:
        return "is implausibly small for memory"
    return None


def warn_size(el: Any, size: int | None, expr: Any, what: str = "memory") -> None:
    """The ``memory-size`` warning for the size expression ``expr`` of a memory or DIMM statement
    (``el``: the elaborator, which reports at the expression's span)."""
    why = size_problem(size) if size is not None else None
    if why is not None and size is not None:
        el.warning("memory-size", f"{what} size {size} ({exact_size(size, iec=True)}) {why}; a number without a "
                   "unit is bytes (write 2G, 512M, 640K)", expr.span)
