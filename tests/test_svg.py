"""The svg backend: well-formed, one lane per node, hot-pluggable memory marked, and an
independent renderer (librsvg's rsvg-convert) draws it."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import EXAMPLES
from fwc import Fwc

NS = "{http://www.w3.org/2000/svg}"


def picture(path):
    r = Fwc().compile(os.path.join(EXAMPLES, path), backends=["svg"])
    assert r.ok, r.render_diagnostics()
    return r.artifact("svg/memory-map.svg").data


@pytest.mark.parametrize("path", ["two-node-hotplug.fwc", "qemu/b_q35_2node_dimm.fwc", "qemu/c_q35_3node_slit.fwc"])
def test_picture_structure(path):
    data = picture(path)
    root = ET.fromstring(data)
    texts = [t.text or "" for t in root.iter(f"{NS}text")]
    m = Fwc().load(os.path.join(EXAMPLES, path)).machine
    assert [t for t in texts if t.startswith("node ")] == [f"node {n.id}" for n in m.nodes]
    hot = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "url(#hatch)" and r.get("y") != None]
    assert len(hot) >= sum(1 for n in m.nodes for r in n.memory if r.hotpluggable)
    assert picture(path) == data  # deterministic


def test_rsvg_renders_it(tmp_path):
    exe = shutil.which("rsvg-convert")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("rsvg-convert (librsvg2-bin) is not installed")
        pytest.skip("rsvg-convert (librsvg2-bin) not installed")
    src = tmp_path / "map.svg"
    src.write_bytes(picture("two-node-hotplug.fwc"))
    r = subprocess.run([exe, str(src), "-o", str(tmp_path / "map.png")], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr, r.stderr
    png = (tmp_path / "map.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


# ---- the picture as a person sees it: librsvg draws it, and every text's ink is measured ----

SIXTEEN = "\n".join(['machine "sixteen-nodes" {', ' board qemu-q35', ' oem id "BOCHS " table "BXPC    " revision 2',
                     ' slots 4 maxmem 40G']
                    + [f" node {i} {{ cpus {i}  memory size 1G{' hotpluggable' if i >= 8 else ''}"
                       f"{'  dimm size 1G' if i in (3, 12) else ''} }}" for i in range(16)]
                    + [' initrd at 512M size 8M { override srat }',
                       ' cmdline "console=ttyS0 nokaslr movable_node memhp_default_state=online_movable '
                       'a_long_option_to_make_the_cmdline_wrap=' + "x" * 60 + ' and_more_words here"', '}'])


def _rsvg():
    exe = shutil.which("rsvg-convert")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("rsvg-convert (librsvg2-bin) is not installed")
        pytest.skip("rsvg-convert (librsvg2-bin) not installed")
    return exe


def _png_pixels(data: bytes):
    """(width, height, rows of RGBA bytes) of an 8-bit RGBA, non-interlaced PNG (what
    rsvg-convert writes), unfiltered as the PNG specification says."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, colour, interlace) == (8, 6, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * 4, [], bytearray(w * 4)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(4, stride):
                line[i] = (line[i] + line[i - 4]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - 4] if i >= 4 else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a, b, c = (line[i - 4] if i >= 4 else 0), prev[i], (prev[i - 4] if i >= 4 else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows


def ink_boxes(svg: bytes, tmp_path):
    """Every text element's ink box (x0, y0, x1, y1) as librsvg draws it, by drawing the texts
    alone, each in its own colour, on a transparent canvas; plus the canvas size."""
    ET.register_namespace("", NS[1:-1])
    root = ET.fromstring(svg)
    texts = []
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag != f"{NS}text":
                if child.tag != f"{NS}defs":
                    parent.remove(child)
                continue
            i = len(texts)
            child.set("fill", f"#{16 + 8 * (i % 28):02x}{16 + 8 * (i // 28):02x}00")
            texts.append(child.text or "")
    assert len(texts) < 28 * 28
    src, png = tmp_path / "texts.svg", tmp_path / "texts.png"
    src.write_bytes(ET.tostring(root))
    r = subprocess.run([_rsvg(), str(src), "-o", str(png)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr, r.stderr
    w, h, rows = _png_pixels(png.read_bytes())
    boxes: dict[int, list[int]] = {}
    for y, line in enumerate(rows):
        for x in range(w):
            if line[4 * x + 3] < 160:
                continue
            i = round((line[4 * x] - 16) / 8) + 28 * round((line[4 * x + 1] - 16) / 8)
            b = boxes.setdefault(i, [x, y, x, y])
            b[0], b[1], b[2], b[3] = min(b[0], x), min(b[1], y), max(b[2], x), max(b[3], y)
    return texts, boxes, (w, h)


def _machines():
    return [("two-node-hotplug", os.path.join(EXAMPLES, "two-node-hotplug.fwc")),
            ("b_q35_2node_dimm", os.path.join(EXAMPLES, "qemu", "b_q35_2node_dimm.fwc")),
            ("c_q35_3node_slit", os.path.join(EXAMPLES, "qemu", "c_q35_3node_slit.fwc")),
            ("generic_2node", os.path.join(EXAMPLES, "boot", "generic_2node.fwc")),
            ("sixteen-nodes", None)]


@pytest.mark.parametrize("name,path", _machines(), ids=[n for n, _ in _machines()])
def test_no_text_overlaps_and_nothing_is_clipped(name, path, tmp_path):
    f = Fwc()
    r = f.compile(path, backends=["svg"]) if path else f.compile(text=SIXTEEN, name="sixteen.fwc", backends=["svg"])
    assert r.ok, r.render_diagnostics()
    svg = r.artifact("svg/memory-map.svg").data
    texts, boxes, (w, h) = ink_boxes(svg, tmp_path)
    root = ET.fromstring(svg)
    assert (int(root.get("width")), int(root.get("height"))) == (w, h)
    missing = [t for i, t in enumerate(texts) if t.strip() and i not in boxes]
    assert not missing, f"texts drawn nowhere (hidden or off the canvas): {missing}"
    for i, (x0, y0, x1, y1) in boxes.items():  # clipped: ink touching the canvas edge
        assert 0 < x0 and x1 < w - 1 and 0 < y0 and y1 < h - 1, (texts[i], boxes[i], (w, h))
    items = sorted(boxes.items(), key=lambda kv: kv[1][0])
    for k, (i, a) in enumerate(items):  # sweep by left edge: no two ink boxes share a pixel
        for j, b in items[k + 1:]:
            if b[0] > a[2]:
                break
            assert a[3] < b[1] or b[3] < a[1], f"{texts[i]!r} {a} overlaps {texts[j]!r} {b}"
    # every rectangle is drawn at least 2 px wide and inside the canvas; every memory range shows
    rects = [x for x in root.iter(f"{NS}rect") if x.get("x") is not None]
    for x in rects:
        x0, width = float(x.get("x")), float(x.get("width"))
        assert width >= 2 and x0 >= 0 and x0 + width <= w, ET.tostring(x)
    titles = {t.text for t in root.iter(f"{NS}title")}
    m = (f.load(path) if path else f.load(text=SIXTEEN, name="s.fwc")).machine
    for n in m.nodes:
        for rng in n.memory:
            if rng.size:
                assert any(t.startswith(f"{rng.base:#x}-{rng.end - 1:#x} ") for t in titles), (n.id, rng)


def test_small_ranges_get_a_minimum_width():
    from fwc_plugins.svg import MIN_ALLOC, MIN_RANGE

    r = Fwc().compile(text=SIXTEEN, name="s.fwc", backends=["svg"])
    root = ET.fromstring(r.artifact("svg/memory-map.svg").data)
    widths = {t.text.split(" ")[0]: float(x.get("width")) for x in root.iter(f"{NS}rect")
              for t in x.iter(f"{NS}title")}
    assert min(widths.values()) >= MIN_ALLOC
    # the 4 KiB direct-map page tables of a 1 GiB node are far below a pixel at scale, still drawn
    assert MIN_RANGE >= MIN_ALLOC >= 2


def test_the_measure_sees_overlaps_and_clipping(tmp_path):
    """The measurement itself: two texts drawn over each other share pixels, a text past the
    right edge touches it."""
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60" font-family="DejaVu Sans" '
           b'font-size="11"><rect width="200" height="60" fill="white"/><text x="10" y="20">overlapping</text>'
           b'<text x="30" y="24">words</text><text x="170" y="50">clipped text</text></svg>')
    texts, boxes, (w, h) = ink_boxes(svg, tmp_path)
    a, b, c = boxes[0], boxes[1], boxes[2]
    assert texts == ["overlapping", "words", "clipped text"] and (w, h) == (200, 60)
    assert not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])  # the boxes intersect
    assert c[2] == w - 1  # ink up to the edge: clipped
