"""The ``boot/boot.json`` contract (plugins/boot/report.py, docs/boot-json.md): what the boot
backend writes is what the typed reader reads, and every consumer (``fwc boot``'s prediction,
``fwc show``, the pytest fixture) reads it through that reader."""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import pickle
import subprocess
import sys

import pytest

import fwc
from fwc_plugins.boot import report
from fwc_plugins.boot.report import (SCHEMA, SCHEMA_KEY, Allocation, BootReport, BootReportError,
                                     BootReportVersionError, Memblock, NodeData, Pin, PolicySummary, Region, Zone,
                                     from_json, is_boot_report)
from fwc_plugins.bootrun import predict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = [os.path.join(ROOT, "examples", p) for p in (
    "two-node-hotplug.fwc", "boot-tests/dimm.fwc", "boot-tests/hotplug-no-movable.fwc", "boot-tests/kernelcore.fwc",
    "boot/q35_2node_low.fwc", "boot/q35_4node.fwc", "qemu/e_q35_memoryless.fwc", "qemu/d_pc_2node_split.fwc")]
POLICIES = ("upstream", "seed")


@functools.lru_cache(maxsize=None)
def _compiled(path: str, policy: str) -> tuple[tuple[str, bytes], ...]:
    r = fwc.compile(path, backends=["boot"], options={"boot.policy": policy})
    assert r.ok, r.render_diagnostics()
    return tuple((a.path, a.data) for a in r.artifacts)


def artifacts(path: str, policy: str = "upstream") -> dict[str, bytes]:
    return dict(_compiled(path, policy))


def boot_json(path: str, policy: str = "upstream") -> str:
    return artifacts(path, policy)["boot/boot.json"].decode()


def ids(p):
    return os.path.relpath(p, os.path.join(ROOT, "examples")) if isinstance(p, str) else p


# ---- the bug: the prediction read keys the backend never writes -------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=ids)
def test_prediction_from_boot_json_alone_matches_all_outputs(path):
    """``fwc boot``'s prediction read ``zones``, ``node_data``, ``movable_start``, ... at the top
    of boot.json, where the boot backend never wrote them: boot.json alone predicted nothing."""
    arts = artifacts(path)
    full = predict.from_artifacts(arts)
    alone = predict.from_artifacts({"boot/boot.json": arts["boot/boot.json"]})
    assert alone["zones"] and alone == full


def test_prediction_zones_are_those_userspace_sees():
    """After cold-plugged DIMMs are onlined (what /proc/zoneinfo shows in the real boot)."""
    arts = artifacts(EXAMPLES[1])
    rep = from_json(arts["boot/boot.json"])
    assert rep.zones_after_hotadd != rep.summary.zones
    assert predict.from_artifacts({"boot/boot.json": arts["boot/boot.json"]})["zones"] == \
        {f"{z.node} {z.zone}": [z.start_pfn, z.spanned, z.present] for z in rep.zones_after_hotadd if z.populated}


def test_prediction_reports_a_boot_json_of_another_version():
    doc = json.loads(boot_json(EXAMPLES[0]))
    doc[SCHEMA_KEY] = "fwc-boot/99"
    with pytest.raises(BootReportVersionError, match="fwc-boot/99"):
        predict.from_artifacts({"boot/boot.json": json.dumps(doc).encode()})


def test_prediction_still_reads_third_party_boot_json():
    """A third-party backend's own boot.json: observation keys and loose zone forms."""
    doc = {"zones": [{"node": 0, "zone": "DMA", "start_pfn": 1, "spanned": 4095, "present": 3998}],
           "movable_start": {"1": "0x0000000100000000"}, "srat": ["Node 0 PXM 0 [mem 0x00000000-0x0009ffff]"]}
    obs = predict.from_artifacts({"boot/boot.json": json.dumps(doc).encode()})
    assert obs == {"zones": {"0 DMA": [1, 4095, 3998]}, "movable_start": doc["movable_start"], "srat": doc["srat"]}
    assert predict.from_artifacts({"boot/boot.json": b"not json"}) == {}


# ---- round trip: the contract is what the backend writes --------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("path", EXAMPLES, ids=ids)
def test_round_trip(path, policy):
    text = boot_json(path, policy)
    original = json.loads(text)
    rep = from_json(text)
    assert rep.policy == policy and rep.summary.policy == policy and rep.other_policy.policy != policy
    out = rep.to_dict()
    assert out.pop(SCHEMA_KEY) == SCHEMA
    original.pop(SCHEMA_KEY, None)  # absent until the backend writes through report.py
    assert out == original
    again = rep.to_json()
    assert again.endswith("}\n") and json.loads(again)[SCHEMA_KEY] == SCHEMA
    assert json.dumps(out, indent=1, sort_keys=True) + "\n" == json.dumps(original, indent=1, sort_keys=True) + "\n"
    if SCHEMA_KEY in json.loads(text):
        assert again == text  # byte for byte
    assert from_json(again) == rep == from_json(original) == from_json(text.encode())
    assert pickle.loads(pickle.dumps(rep)) == rep and hash(rep) == hash(from_json(again))


def test_typed_values():
    rep = from_json(boot_json(EXAMPLES[0]))
    s = rep.summary
    assert isinstance(s, PolicySummary) and s.cmdline.startswith("console=ttyS0")
    assert s.movable_zone_start == {1: 0x100000000}  # an address, not text
    assert s.node_data[0].on_node == 0 and isinstance(s.node_data[0], NodeData)
    assert f"NODE_DATA(0) allocated [mem {s.node_data[0].address:#010x}-" in "\n".join(rep.dmesg)
    assert [(z.node, z.zone) for z in s.zones] == [(0, "DMA"), (0, "DMA32"), (1, "Movable")]
    assert all(isinstance(z, Zone) and z.populated for z in s.zones)
    assert [z.zone for z in rep.zones_all[1]] == list(report.ZONE_NAMES) and rep.zones_all[1][0].node == 1
    assert s.movable_pages[1] == 524288 and s.kernel_nodes == (0,) and s.pinned_nodes == ()
    assert rep.dmesg[0].startswith("Command line:") and isinstance(rep.dmesg, tuple)
    assert all(isinstance(r, Region) for r in rep.memblock.memory + rep.memblock.reserved)
    assert rep.allocations[0].purpose.startswith("kernel image") and rep.allocations[0].permanent is True
    assert rep.final_zones == rep.zones_after_hotadd
    with pytest.raises(TypeError):
        s.movable_pages[1] = 0  # frozen all the way down
    with pytest.raises(AttributeError):
        rep.policy = "seed"


def test_pins_are_typed():
    rep = from_json(boot_json(EXAMPLES[2]))
    assert rep.summary.pinned_nodes == (1,)
    (pin,) = rep.pins
    assert pin.node == 1 and "kernel node" in pin.reason
    assert pin.because and all(isinstance(a, Allocation) and a.stage in ("early", "late") for a in pin.because)
    assert set(pin.because) <= set(pin.in_hotpluggable)


def test_writer_takes_plain_values():
    """What the backend has at hand: named tuples, dicts, sets, int keys, addresses as ints."""
    from collections import namedtuple

    Reg = namedtuple("Reg", "base size flags nid")
    Alloc = namedtuple("Alloc", "purpose base size stage permanent")
    a = Alloc("NODE_DATA(1) (alloc_node_data)", 0x17FFD5000, 0x2B000, "early", True)
    summary = dict(policy="upstream", cmdline="console=ttyS0 movable_node", kernel_nodes={0},
                   movable_zone_start={1: 0x100000000}, node_data={0: (0x7FEA8000, 0), 1: NodeData(0x17FFD5000, 1)},
                   zones=[(0, "DMA", 1, 4095, 3998), Zone(1, "Movable", 1048576, 524288, 524288)],
                   movable_pages={1: 524288}, pinned_nodes=[])
    rep = BootReport(policy="upstream", summary=summary, other_policy=PolicySummary(**dict(summary, policy="seed")),
                     notes=["a note"], dmesg=["Linux version 6.1"],
                     memblock=Memblock([Reg(0x1000, 0x9E000, 0, 0)], [Reg(0, 0x1000, 0, 0)]),
                     allocations=[a], zones_all={1: [("Movable", 1048576, 524288, 524288)], 0: []},
                     zones_after_hotadd=[(0, "DMA", 1, 4095, 3998)], pins=[Pin(1, "why", [a], [a._asdict()])])
    assert rep.summary.kernel_nodes == (0,) and rep.summary.node_data[0] == NodeData(0x7FEA8000, 0)
    assert list(rep.zones_all) == [0, 1] and rep.zones_all[1] == (Zone(1, "Movable", 1048576, 524288, 524288),)
    assert rep.pins[0].in_hotpluggable == (Allocation(*a),)
    doc = json.loads(rep.to_json())
    assert doc[SCHEMA_KEY] == SCHEMA and doc["summary"]["movable_zone_start"] == {"1": "0x100000000"}
    assert doc["summary"]["node_data"]["1"] == {"address": "0x17ffd5000", "on_node": 1}
    assert doc["zones_all"]["1"] == [{"zone": "Movable", "start_pfn": 1048576, "spanned": 524288, "present": 524288}]
    assert doc["memblock"]["memory"] == [{"base": 0x1000, "size": 0x9E000, "flags": 0, "nid": 0}]
    assert from_json(rep.to_json()) == rep


# ---- the reader's errors -------------------------------------------------------------------------

def _bad(mutate):
    doc = json.loads(boot_json(EXAMPLES[0]))
    mutate(doc)
    return doc


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d.pop("zones_all"), "", "missing key 'zones_all'"),
    (lambda d: d["summary"]["zones"][1].update(present="9"), "summary.zones[1].present", "expected an integer"),
    (lambda d: d["summary"]["zones"][0].update(present=True), "summary.zones[0].present", "expected an integer"),
    (lambda d: d["summary"]["zones"][0].update(zone="High"), "summary.zones[0].zone", "unknown zone 'High'"),
    (lambda d: d["summary"]["movable_zone_start"].update({"1": 4294967296}), "summary.movable_zone_start.1",
     "expected a hexadecimal address string"),
    (lambda d: d["other_policy"]["node_data"].update({"x": {}}), "other_policy.node_data", "not a node number"),
    (lambda d: d["allocations"][0].update(permanent=1), "allocations[0].permanent", "expected true or false"),
    (lambda d: d.update(dmesg="one line"), "dmesg", "expected an array"),
    (lambda d: d["memblock"].pop("reserved"), "memblock", "missing key 'reserved'"),
    (lambda d: d["pins"].append({"node": 1, "reason": "r", "because": [{}], "in_hotpluggable": []}),
     "pins[0].because[0]", "missing key 'purpose'"),
    (lambda d: d.update(schema=1), "schema", "expected a schema name like 'fwc-boot/1'"),
])
def test_malformed_documents_name_the_fault(mutate, path, message):
    with pytest.raises(BootReportError) as e:
        from_json(_bad(mutate))
    assert e.value.path == path and message in str(e.value)
    assert not isinstance(e.value, BootReportVersionError) and isinstance(e.value, ValueError)
    assert str(e.value).startswith("boot.json: ")


def test_other_versions_and_non_documents():
    with pytest.raises(BootReportVersionError) as e:
        from_json(_bad(lambda d: d.update(schema="fwc-boot/2")))
    assert e.value.found == "fwc-boot/2" and "fwc-boot/1" in str(e.value)
    with pytest.raises(BootReportError, match="not JSON"):
        from_json("{")
    with pytest.raises(BootReportError, match="expected an object at the top level, got an array"):
        from_json("[]")


def test_unversioned_is_v1_and_unknown_keys_are_ignored():
    doc = json.loads(boot_json(EXAMPLES[0]))
    doc.pop(SCHEMA_KEY, None)
    assert is_boot_report(doc) and from_json(doc).schema == SCHEMA
    later = copy.deepcopy(doc)
    later["a_key_added_later"] = {"x": 1}
    later["summary"]["another"] = 1
    assert from_json(later) == from_json(doc)
    assert is_boot_report({SCHEMA_KEY: "fwc-boot/2"})
    assert not is_boot_report({"zones": []}) and not is_boot_report([])


def test_dict_style_access_for_untyped_code():
    text = boot_json(EXAMPLES[0])
    rep, doc = from_json(text), json.loads(text)
    assert rep["summary"] == doc["summary"] and rep.get("memblock") == doc["memblock"]
    assert "pins" in rep and rep.get("nothing", 7) == 7


def test_cheap_to_import():
    code = ("import sys, fwc_plugins.boot.report as r; "
            "print(sorted(m for m in ('json', 'rich', 'lark', 'pluggy', 'fwc_plugins.boot.sim', 'fwc.api', 'fwc.plugin') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---- fwc show reads the report through the typed reader -----------------------------------------

def _show(boot) -> str:
    import io

    from rich.console import Console

    from fwc.show import render

    machine = fwc.check(EXAMPLES[2]).machine
    buf = io.StringIO()
    render(machine, boot, Console(file=buf, width=200, no_color=True, soft_wrap=True, highlight=False))
    return buf.getvalue()


def test_show_renders_zones_and_pins_from_the_report():
    text = boot_json(EXAMPLES[2])
    out = _show(json.loads(text))  # what `fwc show` hands over: the decoded document
    assert out == _show(from_json(text))
    lines = out.splitlines()
    assert any(ln.split() == ["1", "Normal", "1048576", "524288", "524288"] for ln in lines)
    assert "node 1 cannot be hot-removed: kernel node: " in out
    assert any(ln.split()[:2] == ["early", "permanent"] and "NODE_DATA" not in ln and "alloc_low_pages" in ln
               for ln in lines)
    assert '"because"' not in out  # allocations as lines, not raw JSON
    # the pinned allocations exactly as boot/pins.txt gives them (its header and per-node
    # summary lines aside: those are the boot backend's own)
    pins = artifacts(EXAMPLES[2], "upstream")["boot/pins.txt"].decode().splitlines()
    shown = lines[lines.index("kernel allocations in hot-pluggable memory (as boot/pins.txt)") + 1:]
    assert shown == [ln for ln in pins if not ln.startswith("#") and "MiB hotpluggable boot RAM" not in ln]


def test_show_names_a_report_it_cannot_read():
    doc = json.loads(boot_json(EXAMPLES[2]))
    doc[SCHEMA_KEY] = "fwc-boot/2"
    out = _show(doc)
    assert "boot simulation not shown: boot.json: schema: 'fwc-boot/2' is not 'fwc-boot/1'" in out
    assert "zones after boot" not in out and out.startswith("machine ")


def test_every_key_is_documented():
    doc = open(os.path.join(ROOT, "docs", "boot-json.md"), encoding="utf-8").read()
    keys = set()

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if not k.isdigit() and not re.fullmatch(r"\d+ [A-Za-z0-9]+", k):  # nodes, "node zone" keys
                    keys.add(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(from_json(boot_json(EXAMPLES[2])).to_dict())
    assert {"schema", "because", "in_hotpluggable", "on_node", "nid", "flags", "zones_all"} <= keys
    assert sorted(k for k in keys if f"`{k}`" not in doc) == []
    assert SCHEMA in doc and "[boot-json.md](../boot-json.md)" in \
        open(os.path.join(ROOT, "docs", "backends", "boot.md"), encoding="utf-8").read()
