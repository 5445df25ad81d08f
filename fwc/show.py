"""``fwc show``: the machine at a glance, in the terminal.

Nodes with their CPUs, memory (hot-pluggable ranges marked), DIMMs, distances, the e820
reservations, where the kernel and initrd sit, and — when the boot backend is installed —
the zones Linux 6.1 will build for each node and the kernel allocations that pin
hot-pluggable memory.  Readable at 80 columns; plain text when piped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .diagnostics import visible
from .units import approx_size

if TYPE_CHECKING:
    from fwc_plugins.boot.report import BootReport


def _size(n: int) -> str:
    return approx_size(n, precision="g", sixteenths=True, otherwise=str)


def _range(base: int, size: int) -> str:
    return f"{base:#x}-{base + size - 1:#x}"


def pin_lines(pins: Iterable[Any]) -> list[str]:
    """The pinned nodes as ``boot/pins.txt`` and ``fwc show`` print them: for each ``(node,
    reason, because, in_hotpluggable)`` (allocations with ``stage``, ``permanent``, ``base``,
    ``size``, ``purpose``), the reason, then one ``[mem first-last]`` line per allocation."""
    out, pinned = [], []
    for nid, reason, why, inside in pins:
        pinned.append(nid)
        out.append(f"node {nid} cannot be hot-removed: {reason}")
        for a in why:
            perm = "permanent" if a.permanent else "freed later"
            out.append(f"  {a.stage:5} {perm:11} [mem {a.base:#018x}-{a.base + a.size - 1:#018x}] {a.purpose}")
        for a in inside:
            if a in why:
                continue
            perm = "permanent" if a.permanent else "freed later"
            out.append(f"  in hotpluggable memory: {perm} [mem {a.base:#018x}-{a.base + a.size - 1:#018x}] "
                       f"{a.purpose}")
    out.append("nodes that cannot be hot-removed: " + (",".join(map(str, sorted(set(pinned)))) if pinned else "none"))
    return out


def render(machine, boot: BootReport | Mapping[str, Any] | None, console) -> None:
    """``boot``: the boot backend's report (``boot/boot.json``, typed or decoded), or None."""
    from rich.table import Table
    from rich.text import Text

    from .model import id_ranges

    m = machine
    head = Text()
    head.append(visible(f"machine {m.name}"), style="bold")
    head.append(visible(f"  {m.arch}, board {m.board}, OEM {m.oem.id.strip(chr(0))!r}/"
                        f"{m.oem.table_id.strip(chr(0))!r} rev {m.oem.revision}"))
    console.print(head)
    if m.cmdline:
        console.print(Text(visible(f"cmdline: {m.cmdline}")))
    t = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
    for col in ("node", "pxm", "cpus", "memory"):
        t.add_column(col, overflow="fold")
    for n in m.nodes:
        cpus = id_ranges([c.apic_id for c in n.cpus if c.enabled])
        off = [c.apic_id for c in n.cpus if not c.enabled]
        if off:
            cpus += f" (+{id_ranges(off)} not present)"
        mem = Text()
        for i, r in enumerate(n.memory):
            if i:
                mem.append("\n")
            style = "bold yellow" if r.hotpluggable else None
            label = f"{_range(r.base, r.size)} {_size(r.size)}"
            tags = [w for w, on in (("dimm", r.dimm), ("hotpluggable", r.hotpluggable and not r.dimm),
                                    ("nonvolatile", r.nonvolatile), ("disabled", not r.enabled)) if on]
            mem.append(label + (" " + ",".join(tags) if tags else ""), style=style)
        empty = not (n.cpus or n.memory or n.initiators or n.its)
        t.add_row(str(n.id), str(n.pxm), Text(cpus or "-"),
                  mem if n.memory else Text("- (no SRAT entry: not a Linux node)" if empty else "-"))
    console.print(t)
    if m.unaffined_cpus:
        from .model import linux_cpu_nodes

        where: dict[int, list[int]] = {}
        for c, n in linux_cpu_nodes(m):
            if any(c is u for u in m.unaffined_cpus) and n is not None:
                where.setdefault(n.id, []).append(c.apic_id)
        off = [c.apic_id for c in m.unaffined_cpus if not c.enabled]
        text = "cpus without SRAT affinity: " + "; ".join(
            f"{id_ranges(ids)} on node {nid} (Linux's round robin)" for nid, ids in sorted(where.items()))
        if off:
            text += ("; " if where else "") + f"{id_ranges(off)} not present"
        console.print(Text(text))
    if m.distances:
        d = m.distance_matrix()
        ids = [n.id for n in m.nodes]
        dt = Table(title=None, show_edge=False, box=None, pad_edge=False, header_style="bold")
        dt.add_column("distance")
        for j in ids:
            dt.add_column(str(j), justify="right")
        for i in ids:
            dt.add_row(str(i), *[str(d[(i, j)]) for j in ids])
        console.print(dt)
    places = [("kernel", m.kernel), ("initrd", m.initrd)] + [(f"e820 {r.type}", r) for r in m.reserved]
    for what, p in places:
        if p is not None:
            console.print(Text(visible(f"{what:<14} {_range(p.base, p.size)} {_size(p.size)}")))
    if m.e820:  # the firmware memory map, given apart from the SRAT
        console.print(Text("e820 (firmware memory map, given)", style="bold"))
        for e in m.e820:
            console.print(Text(visible(f"  {e.type:<13} {_range(e.base, e.size)} {_size(e.size)}")))
    if boot:
        _boot(boot, console)


def _boot(boot: BootReport | Mapping[str, Any], console) -> None:
    """The zones and pinned allocations of the boot simulation (docs/boot-json.md)."""
    from rich.table import Table
    from rich.text import Text

    from fwc_plugins.boot.report import BootReportError, from_json

    try:
        report = boot if not isinstance(boot, Mapping) else from_json(boot)
    except BootReportError as e:
        console.print(Text(visible(f"boot simulation not shown: {e}"), style="dim"))
        return
    zones = report.summary.zones
    if zones:
        zt = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
        for col in ("linux node", "zone", "start_pfn", "spanned", "present"):
            zt.add_column(col, justify="right" if col != "zone" else "left")
        for z in zones:
            style = "bold green" if z.zone == "Movable" else ""
            zt.add_row(str(z.node), Text(z.zone, style=style), str(z.start_pfn), str(z.spanned), str(z.present))
        console.print(Text(f"zones after boot (Linux {report.kernel}, simulated; Linux numbers nodes by first "
                           "proximity domain in the SRAT)", style="bold"))
        console.print(zt)
    late = [z for z in report.zones_after_hotadd if z.populated]
    if late and tuple(late) != tuple(z for z in zones if z.populated):
        lt = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
        for col in ("linux node", "zone", "start_pfn", "spanned", "present"):
            lt.add_column(col, justify="right" if col != "zone" else "left")
        for z in late:
            lt.add_row(str(z.node), Text(z.zone, style="bold green" if z.zone == "Movable" else ""), str(z.start_pfn),
                       str(z.spanned), str(z.present))
        console.print(Text("zones once the cold-plugged DIMMs are hot-added (memhp_default_state; Linux 6.12 onlines "
                           "them by default, 6.1 leaves them offline)", style="bold"))
        console.print(lt)
    if report.pins:
        console.print(Text("kernel allocations in hot-pluggable memory (as boot/pins.txt)", style="bold red"))
        for line in pin_lines((p.node, p.reason, p.because, p.in_hotpluggable) for p in report.pins):
            console.print(Text(visible(line), overflow="fold"))
