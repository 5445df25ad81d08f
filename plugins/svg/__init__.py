"""Built-in backend ``svg``: the machine's memory map as a picture (``svg/memory-map.svg``).

An address axis runs left to right; stretches with no memory are compressed to a fixed gap
and labelled with their size.  Each NUMA node has a lane: its memory ranges (hot-pluggable
ones hatched, DIMMs dashed), the kernel's boot allocations coloured by purpose, and under it
the zones Linux 6.1 builds (ZONE_MOVABLE highlighted, its start marked).  Allocations that
pin hot-pluggable memory are called out in red.  Zones and allocations come from the
``boot`` backend when it is installed; without it the picture shows the description only.
The output is deterministic: no timestamps, fixed number formatting.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

from fwc.plugin import BackendContext, BackendRegister, Option, hookimpl
from fwc.units import approx_size
from fwc.diagnostics import visible

_T = TypeVar("_T")

if TYPE_CHECKING:
    from fwc.model import Machine
    from fwc_plugins.boot.report import BootReport


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (``xml.sax.saxutils.escape``, whose import pulls in
    ``urllib.request``, ``http.client`` and ``email``: more than the rest of a cold start)."""
    text = visible(text)  # XML 1.0 has no way to write most control characters: shown as \\x01
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


@hookimpl
def fwc_register_backends(register: BackendRegister) -> None:
    register("svg", generate, description="memory-map picture: nodes, hotplug, kernel allocations, zones",
             outputs=["svg/memory-map.svg"], options={"width": Option(1100, "picture width in pixels")})


PURPOSE_COLOURS = [  # (words in the purpose, colour, legend label)
    (("kernel", "text", "brk", "image"), "#1f77b4", "kernel image"),
    (("initrd", "ramdisk"), "#9467bd", "initrd"),
    (("page table", "pgt", "direct map", "mapping"), "#ff7f0e", "page tables"),
    (("acpi", "srat", "slit", "table"), "#17becf", "ACPI tables"),
    (("node_data", "node data", "pglist"), "#2ca02c", "NODE_DATA"),
    (("memblock",), "#8c564b", "memblock arrays"),
]
OTHER = ("#7f7f7f", "other")
ZONE_COLOURS = {"DMA": "#c7e9c0", "DMA32": "#a1d99b", "Normal": "#74c476", "Movable": "#fdae6b", "Device": "#ddd"}
NODE_COLOURS = ["#dbe9f6", "#fde0dd", "#e5f5e0", "#fff7bc", "#efedf5", "#fee6ce", "#deebf7", "#f2f0f7"]


def _colour(purpose: str) -> tuple[str, str]:
    p = purpose.lower()
    for words, colour, label in PURPOSE_COLOURS:
        if any(w in p for w in words):
            return colour, label
    return OTHER


def _size(n: int) -> str:
    return approx_size(n)


class Axis:
    """Maps physical addresses to x: occupied stretches get width by the square root of
    their size (so 640 KiB and 64 GiB both show), gaps a fixed width."""

    GAP = 26

    def __init__(self, spans, x0, width):
        spans = sorted(s for s in spans if s[1] > s[0])
        merged = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.segments = merged
        gaps = max(0, len(merged) - 1)
        room = max(100, width - gaps * self.GAP)
        weights = [(e - s) ** 0.5 for s, e in merged] or [1]
        total = sum(weights)
        self.x = []
        x = x0
        for (s, e), w in zip(merged, weights):
            wpx = room * w / total
            self.x.append((x, wpx))
            x += wpx + self.GAP
        self.end = x - self.GAP

    def __call__(self, addr: int) -> float:
        for (s, e), (x, w) in zip(self.segments, self.x):
            if addr <= e:
                if addr <= s:
                    return x
                return x + w * (addr - s) / (e - s)
        return self.end

    def gaps(self):
        for i in range(len(self.segments) - 1):
            (_, e), (s2, _) = self.segments[i], self.segments[i + 1]
            x = self.x[i][0] + self.x[i][1]
            yield x, s2 - e


def generate(ctx: BackendContext) -> None:
    from fwc_plugins.boot.report import BootReportError, from_json

    report = None
    outs = ctx.run("boot")
    if "boot/boot.json" in outs:
        try:
            report = from_json(outs["boot/boot.json"])
        except BootReportError:
            report = None
    ctx.emit("svg/memory-map.svg", render(ctx.machine, report, ctx.options["width"]))


class _Lanes:
    """Which node lanes hold an address, found by address among all nodes' ranges (sorted;
    when two ranges overlap, node by node as a lane's own ranges are searched)."""

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes
        self.ranges = sorted((r.base, r.end, i) for i, n in enumerate(nodes) for r in n.memory)
        self.bases = [r[0] for r in self.ranges]
        self.disjoint = all(a[1] <= b[0] for a, b in zip(self.ranges, self.ranges[1:]))

    def holding(self, p: int) -> Iterable[int]:
        """The lanes with a range holding address ``p``."""
        if not self.disjoint:
            return [i for i, n in enumerate(self.nodes) if any(r.base <= p < r.end for r in n.memory)]
        j = bisect_right(self.bases, p) - 1  # only the last range starting at or below p can hold it
        return [self.ranges[j][2]] if j >= 0 and p < self.ranges[j][1] else []

    def touching(self, start: int, end: int) -> Iterable[int]:
        """The lanes with a range holding ``start`` or starting in [start, end)."""
        if not self.disjoint:
            return [i for i, n in enumerate(self.nodes)
                    if any(r.base <= start < r.end or start <= r.base < end for r in n.memory)]
        lo, hi = bisect_left(self.bases, start), bisect_left(self.bases, end)
        return {*self.holding(start), *(self.ranges[j][2] for j in range(lo, hi))}

    def each(self, items: Iterable[_T], lanes_of: Callable[[_T], Iterable[int]]) -> list[list[_T]]:
        """Per lane, the items (in order) that ``lanes_of`` puts in it."""
        out: list[list[_T]] = [[] for _ in self.nodes]
        for x in items:
            for i in lanes_of(x):
                out[i].append(x)
        return out


def render(m: "Machine", boot: "BootReport | None", width: int = 1100) -> str:
    """The picture; ``boot`` is the boot backend's report (docs/boot-json.md), if any."""
    zones = boot.summary.zones if boot else ()
    allocs = boot.allocations if boot else ()
    pins = boot.pins if boot else ()
    movable = boot.summary.movable_zone_start if boot else {}
    cmdline = boot.summary.cmdline if boot else m.cmdline
    spans = [(r.base, r.end) for n in m.nodes for r in n.memory if r.size]
    spans += [(z.start_pfn << 12, (z.start_pfn + z.spanned) << 12) for z in zones if z.spanned]
    if not spans:
        spans = [(0, 1)]
    label_w, x0 = 90, 100
    axis = Axis(spans, x0, width - x0 - 20)
    lane_h, zone_h, top = 34, 12, 70
    nodes = list(m.nodes)
    linux_ids: dict = {}
    for z in zones:
        linux_ids.setdefault(z.node, None)
    rows = len(nodes)
    legend_y = top + rows * (lane_h + zone_h + 26) + 10
    pin_lines = []
    for p in pins:
        because = "; ".join(f"{a.purpose} at {a.base:#x}" for a in p.because[:3])
        pin_lines.append(f"Linux node {p.node}: {p.reason}" + (f" ({because})" if because else ""))
    height = legend_y + 60 + 16 * len(pin_lines)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
         '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
         'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="2"/>'
         '</pattern></defs>',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(m.name)}</text>',
         f'<text x="10" y="40" fill="#444">{escape(m.board)} · {len(nodes)} nodes · cmdline: '
         f'{escape(cmdline or "(none)")}</text>']
    # address axis: segment boundaries and compressed gaps
    ay = top - 12
    for (s, e), (x, w) in zip(axis.segments, axis.x):
        o.append(f'<line x1="{x:.1f}" y1="{ay}" x2="{x + w:.1f}" y2="{ay}" stroke="#333"/>')
        o.append(f'<text x="{x:.1f}" y="{ay - 4}" font-size="9" fill="#333">{s:#x}</text>')
    o.append(f'<text x="{axis.end:.1f}" y="{ay - 4}" font-size="9" fill="#333" text-anchor="end">'
             f'{axis.segments[-1][1]:#x}</text>')
    for x, size in axis.gaps():
        o.append(f'<text x="{x + Axis.GAP / 2:.1f}" y="{ay + 4}" font-size="8" fill="#999" text-anchor="middle">'
                 f'≈</text>')
        o.append(f'<text x="{x + Axis.GAP / 2:.1f}" y="{ay + 14}" font-size="7" fill="#999" '
                 f'text-anchor="middle">{_size(size)}</text>')
    used = {}
    lanes = _Lanes(nodes)
    lane_allocs = lanes.each(allocs, lambda a: lanes.holding(a.base) if a.size else ())
    lane_zones = lanes.each(zones, lambda z: lanes.touching(z.start_pfn << 12, (z.start_pfn + z.spanned) << 12)
                            if z.spanned else ())
    lane_movable = lanes.each(movable.values(), lanes.holding)
    for i, n in enumerate(nodes):
        y = top + i * (lane_h + zone_h + 26)
        o.append(f'<text x="10" y="{y + 20}" font-weight="bold">node {n.id}</text>')
        o.append(f'<text x="10" y="{y + 32}" font-size="9" fill="#555">pxm {n.pxm}, {len(n.cpus)} cpus</text>')
        for r in n.memory:
            if not r.size:
                continue
            x1, x2 = axis(r.base), axis(r.end)
            fill = NODE_COLOURS[i % len(NODE_COLOURS)]
            dash = ' stroke-dasharray="4,2"' if r.dimm else ""
            o.append(f'<rect x="{x1:.1f}" y="{y}" width="{max(1.0, x2 - x1):.1f}" height="{lane_h}" fill="{fill}" '
                     f'stroke="#555"{dash}><title>{r.base:#x}-{r.end - 1:#x} {_size(r.size)}</title></rect>')
            if r.hotpluggable:
                o.append(f'<rect x="{x1:.1f}" y="{y}" width="{max(1.0, x2 - x1):.1f}" height="{lane_h}" '
                         f'fill="url(#hatch)" fill-opacity="0.35"/>')
                o.append(f'<text x="{x1 + 3:.1f}" y="{y + 11}" font-size="9" fill="#d62728">'
                         f'{"DIMM" if r.dimm else "hotplug"}</text>')
        # allocations of this node's ranges
        for a in lane_allocs[i]:
            base, size = a.base, a.size
            colour, label = _colour(a.purpose)
            used[label] = colour
            x1, x2 = axis(base), axis(base + size)
            o.append(f'<rect x="{x1:.1f}" y="{y + 14}" width="{max(2.0, x2 - x1):.1f}" height="{lane_h - 18}" '
                     f'fill="{colour}"><title>{escape(a.purpose)} {base:#x} '
                     f'{_size(size)}</title></rect>')
        # zones of the Linux node(s) that hold this node's memory
        zy = y + lane_h + 4
        for z in lane_zones[i]:
            start, end = z.start_pfn << 12, (z.start_pfn + z.spanned) << 12
            x1, x2 = axis(start), axis(end)
            name = z.zone
            o.append(f'<rect x="{x1:.1f}" y="{zy}" width="{max(1.0, x2 - x1):.1f}" height="{zone_h}" '
                     f'fill="{ZONE_COLOURS.get(name, "#ddd")}" stroke="#fff"/>')
            o.append(f'<text x="{x1 + 2:.1f}" y="{zy + 9}" font-size="8">{escape(name)}</text>')
        for start in lane_movable[i]:
            x = axis(start)
            o.append(f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x:.1f}" y2="{zy + zone_h + 3}" stroke="#e6550d" '
                     f'stroke-width="2"/>')
            o.append(f'<text x="{x + 3:.1f}" y="{zy + zone_h + 12}" font-size="9" fill="#e6550d">'
                     f'Movable from {start:#x}</text>')
    # legend and pinned allocations
    lx = 10
    for label, colour in sorted(used.items()) + [("hot-pluggable", "url(#hatch)")] + \
            [(f"zone {z}", c) for z, c in ZONE_COLOURS.items() if z != "Device"]:
        o.append(f'<rect x="{lx}" y="{legend_y}" width="12" height="12" fill="{colour}" stroke="#555"/>')
        o.append(f'<text x="{lx + 16}" y="{legend_y + 10}">{escape(label)}</text>')
        lx += 30 + 7 * len(label)
    py = legend_y + 34
    if pin_lines:
        o.append(f'<text x="10" y="{py}" font-weight="bold" fill="#d62728">hot-pluggable memory the kernel '
                 f'pins at boot</text>')
        for k, line in enumerate(pin_lines):
            o.append(f'<text x="20" y="{py + 16 * (k + 1)}" fill="#d62728">{escape(line)}</text>')
    elif boot:
        o.append(f'<text x="10" y="{py}" fill="#2ca02c">no kernel allocation pins hot-pluggable memory</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"
