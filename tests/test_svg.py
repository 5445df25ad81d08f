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
