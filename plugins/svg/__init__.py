"""Built-in backend ``svg``: the machine's memory map as a picture (``svg/memory-map.svg``).

An address axis runs left to right; stretches with no memory are compressed to a fixed gap
and labelled with their size.  Each NUMA node has a lane: its memory ranges (hot-pluggable
ones hatched, DIMMs dashed), the kernel's boot allocations coloured by purpose, and under it
the zones Linux 6.1 builds (ZONE_MOVABLE highlighted, its start marked).  Allocations that
pin hot-pluggable memory are called out in red.  Zones and allocations come from the
``boot`` backend when it is installed; without it the picture shows the description only.
The output is deterministic: no timestamps, fixed number formatting.  Small ranges get a
minimum width and labels are laid out in rows that never overlap (:mod:`.layout`).
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
    their size (so 640 KiB and 64 GiB both show), at least :data:`MIN_SEGMENT` px each, gaps
    a fixed width."""

    GAP = 26
    MIN_SEGMENT = 12.0

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
        room = max(100.0, width - gaps * self.GAP)
        floor = min(self.MIN_SEGMENT, room / max(1, len(merged)) / 2)
        weights = [(e - s) ** 0.5 for s, e in merged] or [1]
        total = sum(weights)
        spare = room - floor * len(weights)
        self.x = []
        x = x0
        for (s, e), w in zip(merged, weights):
            wpx = floor + spare * w / total
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


#: The smallest width a memory range, zone or allocation is drawn with, in px (a 4 KiB page
#: table in a 64 GiB node still shows).
MIN_RANGE, MIN_ALLOC = 3.0, 2.0
LABEL_ROW = 11  # px between label rows (8-9 px text)


class Picture:
    """SVG elements; every text with its estimated box (x0, y0, x1, y1) for the layout."""

    def __init__(self, width: int):
        self.width, self.right = width, width - 10
        self.out: list[str] = []
        self.boxes: list[tuple[float, float, float, float]] = []

    def text(self, x: float, y: float, text: str, size: float = 11, *, fill: str = "", bold: bool = False,
             anchor: str = "start", extra: str = "") -> None:
        from .layout import text_width

        w = text_width(text, size, bold)
        x0 = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
        self.boxes.append((x0, y - size, x0 + w, y + size * 0.25))
        attrs = f' font-size="{size:g}"' + (f' fill="{fill}"' if fill else "") + \
            (' font-weight="bold"' if bold else "") + (f' text-anchor="{anchor}"' if anchor != "start" else "")
        self.out.append(f'<text x="{x:.1f}" y="{y:.1f}"{attrs}{extra}>{escape(text)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#999", width: float = 1) -> None:
        self.out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"'
                        + (f' stroke-width="{width:g}"' if width != 1 else "") + "/>")

    def rect(self, x: float, y: float, w: float, h: float, fill: str, extra: str = "", minimum: float = 0,
             title: str = "") -> None:
        """A rectangle at least ``minimum`` px wide (kept inside the right edge); ``title`` is
        its tooltip."""
        w = max(w, minimum)
        if x + w > self.right:
            x = self.right - w
        head = f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:g}" fill="{fill}"{extra}'
        self.out.append(f"{head}><title>{escape(title)}</title></rect>" if title else head + "/>")

    def labels(self, items, top: float, size: float = 8) -> float:
        """Labels ``(anchor x, anchor y, text, colour)`` in non-overlapping rows below ``top``,
        each with a leader line from its anchor; returns the y below the last row."""
        from .layout import Rows, text_width

        rows = Rows(10, self.right)
        placed = []
        for ax, ay, text, colour in sorted(items, key=lambda t: t[0]):
            row, x = rows.place(ax, text_width(text, size))
            placed.append((ax, ay, x, row, text, colour))
        for ax, ay, x, row, text, colour in placed:
            y = top + LABEL_ROW * (row + 1)
            self.line(ax, ay, ax, y - size + 1, stroke="#bbb")
            if abs(x - ax) > 0.5:
                self.line(ax, y - size + 1, x, y - size + 1, stroke="#bbb")
            self.text(x, y, text, size, fill=colour)
        return top + LABEL_ROW * rows.count + (4 if rows.count else 0)


def render(m: "Machine", boot: "BootReport | None", width: int = 1100) -> str:
    """The picture; ``boot`` is the boot backend's report (docs/boot-json.md), if any."""
    from .layout import fit, text_width, wrap

    zones = boot.summary.zones if boot else ()
    allocs = boot.allocations if boot else ()
    pins = boot.pins if boot else ()
    movable = boot.summary.movable_zone_start if boot else {}
    cmdline = boot.summary.cmdline if boot else m.cmdline
    spans = [(r.base, r.end) for n in m.nodes for r in n.memory if r.size]
    spans += [(z.start_pfn << 12, (z.start_pfn + z.spanned) << 12) for z in zones if z.spanned]
    if not spans:
        spans = [(0, 1)]
    width = max(int(width), 400)
    pic = Picture(width)
    x0 = 100
    axis = Axis(spans, x0, pic.right - x0 - 4)
    nodes = list(m.nodes)
    # title and what the picture is of (wrapped to the width)
    pic.text(10, 22, fit(m.name, 16, pic.right - 10, bold=True), 16, bold=True)
    y = 40.0
    for line in wrap(f"{m.board} · {len(nodes)} nodes · cmdline: {cmdline or '(none)'}", 11, pic.right - 10):
        pic.text(10, y, line, 11, fill="#444")
        y += 14
    # address axis: segment boundaries and compressed gaps, labels in rows above the axis
    from .layout import Rows

    marks = [(x, f"{s:#x}") for (s, _), (x, _) in zip(axis.segments, axis.x)]
    marks.append((axis.end, f"{axis.segments[-1][1]:#x}"))
    marks += [(x + Axis.GAP / 2, f"≈{_size(size)}") for x, size in axis.gaps()]
    rows = Rows(10, pic.right)
    placed = []
    for ax, text in sorted(marks, key=lambda t: t[0]):
        w = text_width(text, 9)
        row, lx = rows.place(ax - (w if ax >= axis.end - 0.5 else 0), w)
        placed.append((ax, lx, row, text))
    ay = y + 6 + LABEL_ROW * rows.count
    for ax, lx, row, text in placed:
        ty = ay - 4 - LABEL_ROW * row
        pic.text(lx, ty, text, 9, fill="#999" if text.startswith("≈") else "#333")
        if row:
            pic.line(ax, ay, ax, ty + 2, stroke="#ccc")
    for (s, e), (x, w) in zip(axis.segments, axis.x):
        pic.line(x, ay, x + w, ay, stroke="#333")
    used: dict[str, str] = {}
    lanes = _Lanes(nodes)
    lane_allocs = lanes.each(allocs, lambda a: lanes.holding(a.base) if a.size else ())
    lane_zones = lanes.each(zones, lambda z: lanes.touching(z.start_pfn << 12, (z.start_pfn + z.spanned) << 12)
                            if z.spanned else ())
    lane_movable = lanes.each(movable.values(), lanes.holding)
    lane_h, zone_h = 30, 12
    y = ay + 12
    for i, n in enumerate(nodes):
        pic.text(10, y + 14, fit(f"node {n.id}", 11, x0 - 14, bold=True), 11, bold=True)
        pic.text(10, y + 26, fit(f"pxm {n.pxm}", 9, x0 - 14), 9, fill="#555")
        pic.text(10, y + 37, fit(f"{len(n.cpus)} cpus", 9, x0 - 14), 9, fill="#555")
        tags = []
        for r in n.memory:
            if not r.size:
                continue
            x1, x2 = axis(r.base), axis(r.end)
            fill = NODE_COLOURS[i % len(NODE_COLOURS)]
            dash = ' stroke-dasharray="4,2"' if r.dimm else ""
            pic.rect(x1, y, x2 - x1, lane_h, fill, f' stroke="#555"{dash}', minimum=MIN_RANGE,
                     title=f"{r.base:#x}-{r.end - 1:#x} {_size(r.size)}")
            if r.hotpluggable:
                pic.rect(x1, y, x2 - x1, lane_h, "url(#hatch)", ' fill-opacity="0.35"', minimum=MIN_RANGE)
                tags.append((x1 + 1, y + lane_h, "DIMM" if r.dimm else "hotplug", "#d62728"))
        for a in lane_allocs[i]:  # allocations in this node's ranges
            colour, label = _colour(a.purpose)
            used[label] = colour
            x1, x2 = axis(a.base), axis(a.base + a.size)
            pic.rect(x1, y + 12, x2 - x1, lane_h - 16, colour, minimum=MIN_ALLOC,
                     title=f"{a.purpose} {a.base:#x} {_size(a.size)}")
        zy = y + lane_h + 4
        for z in lane_zones[i]:  # zones of the Linux node(s) that hold this node's memory
            start, end = z.start_pfn << 12, (z.start_pfn + z.spanned) << 12
            x1, x2 = axis(start), axis(end)
            pic.rect(x1, zy, x2 - x1, zone_h, ZONE_COLOURS.get(z.zone, "#ddd"), ' stroke="#fff"', minimum=MIN_RANGE)
            tags.append((x1 + 1, zy + zone_h, z.zone, "#333"))
        for start in lane_movable[i]:
            x = axis(start)
            pic.line(x, y - 3, x, zy + zone_h + 2, stroke="#e6550d", width=2)
            tags.append((x, zy + zone_h + 2, f"Movable from {start:#x}", "#e6550d"))
        y = max(pic.labels(tags, zy + zone_h + 2), y + 44) + 10
    # legend (wrapped to the width) and the allocations that pin hot-pluggable memory
    lx, ly = 10.0, y + 6
    for label, colour in sorted(used.items()) + [("hot-pluggable", "url(#hatch)")] + \
            [(f"zone {z}", c) for z, c in ZONE_COLOURS.items() if z != "Device"]:
        w = 16 + text_width(label, 11)
        if lx > 10 and lx + w > pic.right:
            lx, ly = 10.0, ly + 18
        pic.rect(lx, ly, 12, 12, colour, ' stroke="#555"')
        pic.text(lx + 16, ly + 10, label, 11)
        lx += w + 14
    py = ly + 34
    if pins:
        pic.text(10, py, "hot-pluggable memory the kernel pins at boot", 11, fill="#d62728", bold=True)
        for p in pins:
            because = "; ".join(f"{a.purpose} at {a.base:#x}" for a in p.because[:3])
            for line in wrap(f"Linux node {p.node}: {p.reason}" + (f" ({because})" if because else ""), 11,
                             pic.right - 20):
                py += 16
                pic.text(20, py, line, 11, fill="#d62728")
    elif boot:
        pic.text(10, py, "no kernel allocation pins hot-pluggable memory", 11, fill="#2ca02c")
    height = int(py + 16)
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
            '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="2"/>'
            '</pattern></defs>',
            f'<rect width="{width}" height="{height}" fill="white"/>']
    return "\n".join(head + pic.out + ["</svg>"]) + "\n"
