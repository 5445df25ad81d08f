"""fwc's memblock model against the real Linux 6.1 mm/memblock.c.

Hypothesis generates op-scripts; each batch of scripts runs through the
real allocator (built at test time from Debian's linux-source-6.1, see
tests/oracles/memblock/harness.py) in one process and through
fwc_plugins.boot.memblock, and every output line must be identical.
The tests skip when the oracle cannot be built, and fail when CI=true.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fwc_plugins.boot.memblock import MASK64
from fwc_plugins.boot.memblock_script import ScriptError, run_script

_ORACLE_DIR = Path(__file__).resolve().parent / "oracles" / "memblock"


def _load(name: str):
    modname = f"_fwc_memblock_oracle_{name}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, _ORACLE_DIR / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod


harness = _load("harness")
scriptgen = _load("scriptgen")


@pytest.fixture(scope="module")
def oracle():
    return harness.require_oracle()


def _model(script: str) -> str:
    try:
        return run_script(script)
    except ScriptError as e:  # pragma: no cover - generated scripts are valid
        raise AssertionError(f"generated script rejected: {e}\n{script}")


def check_batch(oracle, scripts: list[str]) -> None:
    """Every script's output must be identical; report the first difference."""
    real = oracle.run_many(scripts)
    for script, want in zip(scripts, real):
        got = _model(script)
        if got != want:
            got_l, want_l = got.splitlines(), want.splitlines()
            for i, (g, w) in enumerate(zip(got_l, want_l)):
                if g != w:
                    break
            else:
                i = min(len(got_l), len(want_l))
            ctx = "\n".join(want_l[max(0, i - 3):i + 3])
            pytest.fail(f"output line {i + 1} differs:\n  fwc:  {got_l[i:i + 1]}\n"
                        f"  real: {want_l[i:i + 1]}\nreal context:\n{ctx}\n"
                        f"script:\n{script}")


# ---------------------------------------------------------------------------
# strategies
UNITS = [1, 0x10, 0x1000, 0x100000, 0x40000000]


@st.composite
def addr(draw, unit=None):
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return MASK64 - draw(st.integers(0, 1 << 24))          # near the top
    u = unit if unit is not None else draw(st.sampled_from(UNITS))
    return draw(st.integers(0, 48)) * u


@st.composite
def size(draw, unit=None):
    kind = draw(st.integers(0, 14))
    if kind == 0:
        return 0
    if kind == 1:
        return MASK64 - draw(st.integers(0, 3))
    u = unit if unit is not None else draw(st.sampled_from(UNITS))
    return draw(st.integers(1, 24)) * u


def h(x: int) -> str:
    return hex(x)


ALIGNS = st.sampled_from([0, 1, 2, 8, 32, 0x1000, 0x1000, 0x1000, 0x10000, 0x200000,
                          0x40000000, 3, 0x1800, 1 << 63, 1 << 40])
LIMITS = st.one_of(st.sampled_from(["anywhere", "accessible", "noleaktrace", "0x1000"]),
                   addr().map(h))


def nids(nodes: int):
    return st.one_of(st.sampled_from(["-1", "none", "max"]),
                     st.integers(0, max(0, nodes - 1)).map(str))


def ops(nodes: int = 8, unit=None, edge: bool = True):
    a = addr(unit).map(h)
    s = size(unit).map(h)
    asz = st.integers(0, 64).map(lambda k: h(k * (unit or 0x1000)))
    nid = nids(nodes)
    flags = st.sampled_from(["0", "0x1", "0x2", "0x4", "0x8", "0x5", "0xf"])
    rng_ops = st.sampled_from(["reserve", "remove", "free", "mark_hotplug",
                               "clear_hotplug", "mark_nomap", "clear_nomap", "mark_mirror"])
    alloc_ops = st.sampled_from(["alloc_try_nid", "alloc_try_nid_raw", "alloc_exact_nid_raw"])
    choices = [
        st.tuples(a, s).map(lambda t: f"add {t[0]} {t[1]}"),
        st.tuples(a, s, nid).map(lambda t: f"add {t[0]} {t[1]} {t[2]}"),
        st.tuples(a, s, nid, flags).map(lambda t: f"add {t[0]} {t[1]} {t[2]} {t[3]}"),
        st.tuples(rng_ops, a, s).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(rng_ops, a, s).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(a, s, nid, st.sampled_from(["", " memory", " reserved"])).map(
            lambda t: f"set_node {t[0]} {t[1]} {t[2]}{t[3]}"),
        st.sampled_from(["bottom_up 0", "bottom_up 1", "movable_node 0", "movable_node 1",
                         "mirrored_kernelcore 1", "mirrored_kernelcore 0"]),
        LIMITS.map(lambda x: f"current_limit {x}"),
        st.tuples(asz, ALIGNS, a, LIMITS, nid, st.sampled_from(["", " 0", " 1"])).map(
            lambda t: f"alloc {t[0]} {h(t[1])} {t[2]} {t[3]} {t[4]}{t[5]}"),
        st.tuples(alloc_ops, asz, ALIGNS, a, LIMITS, nid).map(
            lambda t: f"{t[0]} {t[1]} {h(t[2])} {t[3]} {t[4]} {t[5]}"),
        st.tuples(asz, ALIGNS, a, LIMITS).map(
            lambda t: f"phys_alloc_range {t[0]} {h(t[1])} {t[2]} {t[3]}"),
        st.tuples(asz, ALIGNS, nid).map(lambda t: f"phys_alloc_try_nid {t[0]} {h(t[1])} {t[2]}"),
        st.tuples(st.sampled_from(["is_memory", "is_reserved", "is_map_memory"]), a).map(
            lambda t: f"{t[0]} {t[1]}"),
        st.tuples(st.sampled_from(["is_region_memory", "is_region_reserved"]), a, s).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.sampled_from(["phys_mem_size", "reserved_size", "start_of_dram", "end_of_dram",
                         "dump"]),
    ]
    if edge:
        choices += [
            st.sampled_from(["trim 0x1000", "trim 0x200000", "trim 0x10", "trim 0x1"]),
            a.map(lambda x: f"enforce_limit {x}"),
            a.map(lambda x: f"mem_limit_remove_map {x}"),
            st.tuples(a, s).map(lambda t: f"cap_range {t[0]} {t[1]}"),
            st.just("reset"),
            st.just("allow_resize"),
        ]
    return st.one_of(*choices)


@st.composite
def scripts(draw, nodes=None, unit=None, edge=True, min_ops=1, max_ops=40):
    n = nodes if nodes is not None else draw(st.sampled_from([1, 2, 4, 8, 16]))
    u = unit if unit is not None else draw(st.sampled_from([None, 0x1000, 0x100000]))
    lines = []
    if draw(st.booleans()):
        # an e820-like start: n nodes of equal size, first MiB reserved
        span = draw(st.sampled_from([1 << 24, 1 << 32, 1 << 40]))
        per = span // n
        for i in range(n):
            lines.append(f"add {h(i * per)} {h(per)} {i}")
        lines.append("reserve 0 0x100000")
    lines += draw(st.lists(ops(n, u, edge), min_size=min_ops, max_size=max_ops))
    lines.append("dump")
    return "\n".join(lines) + "\n"


def _no_trim_wrap(script: str) -> bool:
    # memblock_trim_memory() on a region within 'align' of 2**64 makes the
    # kernel's array unsorted (round_up wraps to 0); the model refuses that.
    return "trim" not in script or "0xffffffffff" not in script


#: multiply the example counts, e.g. FWC_HYPOTHESIS_SCALE=10 for a long soak
SCALE = max(1, int(os.environ.get("FWC_HYPOTHESIS_SCALE", "1")))

BATCH = st.lists(scripts().filter(_no_trim_wrap), min_size=20, max_size=30)
# Each example is a batch of scripts run in one oracle process; the failure
# message names the exact failing script, so shrinking (slow: every step
# reruns the batch) is skipped.
SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck),
                database=None,
                phases=[Phase.explicit, Phase.reuse, Phase.generate])


@settings(max_examples=100 * SCALE, **SETTINGS)
@given(BATCH)
def test_random_scripts(oracle, batch):
    check_batch(oracle, batch)


def _alloc_ops(nodes):
    a = st.integers(0, 64).map(lambda k: h(k * 0x100000))
    sz = st.sampled_from([0x1000, 0x2000, 0x10000, 0x100000, 0x200000, 0x1800, 0x40])
    nid = nids(nodes)
    alloc_ops = st.sampled_from(["alloc_try_nid", "alloc_try_nid_raw", "alloc_exact_nid_raw"])
    lim = st.one_of(st.sampled_from(["anywhere", "accessible"]), a)
    return st.one_of(
        st.tuples(sz, ALIGNS, a, lim, nid, st.sampled_from(["0", "1"])).map(
            lambda t: f"alloc {h(t[0])} {h(t[1])} {t[2]} {t[3]} {t[4]} {t[5]}"),
        st.tuples(alloc_ops, sz, ALIGNS, a, lim, nid).map(
            lambda t: f"{t[0]} {h(t[1])} {h(t[2])} {t[3]} {t[4]} {t[5]}"),
        st.tuples(sz, ALIGNS, nid).map(lambda t: f"phys_alloc_try_nid {h(t[0])} {h(t[1])} {t[2]}"),
        st.tuples(sz, ALIGNS, a, lim).map(
            lambda t: f"phys_alloc_range {h(t[0])} {h(t[1])} {t[2]} {t[3]}"),
        st.tuples(a, st.integers(1, 8)).map(lambda t: f"free {t[0]} {h(t[1] * 0x100000)}"),
        st.tuples(a, st.integers(1, 8)).map(lambda t: f"reserve {t[0]} {h(t[1] * 0x10000)}"),
        st.tuples(st.sampled_from(["mark_hotplug", "clear_hotplug"]), a,
                  st.integers(1, 16)).map(lambda t: f"{t[0]} {t[1]} {h(t[2] * 0x100000)}"),
        st.sampled_from(["bottom_up 0", "bottom_up 1", "movable_node 0", "movable_node 1"]),
        lim.map(lambda x: f"current_limit {x}"),
    )


@st.composite
def alloc_scripts(draw):
    """Allocation-heavy scripts on up to 16 nodes with hotplug memory."""
    n = draw(st.sampled_from([2, 4, 8, 16]))
    per = draw(st.sampled_from([0x400000, 0x1000000]))
    lines = []
    for i in range(n):
        lines.append(f"add {h(i * per)} {h(per)} {i}")
    lines.append("reserve 0 0x100000")
    hot = draw(st.lists(st.integers(0, n - 1), max_size=n))
    for i in hot:
        lines.append(f"mark_hotplug {h(i * per)} {h(per)}")
    lines.append(f"movable_node {draw(st.integers(0, 1))}")
    lines.append(f"bottom_up {draw(st.integers(0, 1))}")
    lines += draw(st.lists(_alloc_ops(n), min_size=5, max_size=60))
    lines.append("dump")
    return "\n".join(lines) + "\n"


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(st.lists(alloc_scripts(), min_size=20, max_size=30))
def test_allocation_scripts(oracle, batch):
    check_batch(oracle, batch)


@st.composite
def many_region_scripts(draw):
    """Past INIT_MEMBLOCK_REGIONS: 129+ regions, with and without resizing."""
    resize = draw(st.booleans())
    lines = ["allow_resize"] if resize else []
    n = draw(st.integers(120, 300))
    gap = draw(st.sampled_from([0x2000, 0x200000]))
    nodes = draw(st.sampled_from([1, 4, 16]))
    base = draw(st.sampled_from([0x100000, 0x100000000]))
    for i in range(n):
        lines.append(f"add {h(base + i * gap)} {h(gap // 2)} {i * nodes // n}")
    for i in range(draw(st.integers(0, 200))):
        lines.append(f"reserve {h(base + i * gap + gap // 8)} 0x100")
    lines.append(f"bottom_up {draw(st.integers(0, 1))}")
    lines += draw(st.lists(st.one_of(_alloc_ops(nodes), ops(nodes, 0x1000, edge=False)),
                           min_size=5, max_size=80))
    lines.append("dump")
    return "\n".join(lines) + "\n"


@settings(max_examples=40 * SCALE, **SETTINGS)
@given(st.lists(many_region_scripts(), min_size=4, max_size=6))
def test_past_128_regions(oracle, batch):
    check_batch(oracle, batch)


@pytest.mark.parametrize("seed", range(4))
def test_long_seeded_scripts(oracle, seed):
    """Long realistic mixes (2000 ops each, dumps every 50 ops)."""
    batch = []
    for k in range(5):
        rng = random.Random(1000 * seed + k)
        batch.append(scriptgen.gen_script(
            rng, 2000, nodes=rng.choice([1, 2, 8, 16]),
            span=rng.choice([1 << 30, 64 << 30]), dump_every=50,
            unit=rng.choice([1, 0x1000]), resize=bool(k % 2)))
    check_batch(oracle, batch)


def test_demo_from_spec(oracle):
    """oracles.md §3.6: two nodes, upper half of node 1 hotpluggable."""
    script = """\
add 0 2G 0
add 4G 1G 1
add 5G 1G 1
mark_hotplug 5G 1G
reserve 0 1M
alloc 2M 2M 0 anywhere -1
movable_node 1
alloc_try_nid 2M 2M 0 anywhere -1
alloc 4K 4K 0x140000000 anywhere 1
alloc 4K 4K 0x140000000 anywhere 1 1
bottom_up 1
phys_alloc_range 2M 2M 4G anywhere
clear_hotplug 5G 1G
alloc 4K 4K 0x140000000 anywhere 1
dump
"""
    got = run_script(script)
    lines = got.splitlines()
    assert lines[5] == "alloc 0x17fe00000"
    assert lines[7] == "alloc_try_nid 0x13fe00000"
    assert lines[8] == "alloc 0x0"
    assert lines[9] == "alloc 0x0"
    assert lines[11] == "phys_alloc_range 0x100000000"
    assert lines[13] == "alloc 0x140000000"
    assert "memory 0x100000000 0x80000000 0x0 1" in lines
    check_batch(oracle, [script])


def test_resize_growth(oracle):
    """§3.6: 300 disjoint regions grow memory 128 -> 256 -> 512 with allow_resize."""
    body = "\n".join(f"add {h(0x100000000 + i * 0x200000)} 0x100000" for i in range(300))
    script = "allow_resize\n" + body + "\ndump\n"
    got = run_script(script)
    assert "memory.type cnt=300 max=512 total_size=0x12c00000" in got
    assert "reserved.type cnt=1 max=128 total_size=0x3000" in got
    no_resize = run_script(body + "\n")
    assert no_resize.splitlines()[128] == "add -12"
    check_batch(oracle, [script, body + "\ndump\n"])


# ---------------------------------------------------------------------------
# malformed scripts: same line and column as the real driver
BAD = [
    "add 0 1G\nfrobnicate 1\n",
    "add 0 1x\n",
    "add 0\n",
    "  reserve   0x10 0x10 7\n",
    "add 0 1G 99999999999\n",
    "alloc 1 1 0 anywhere 0 2\n",
    "set_node 0 1 0 neither\n",
    "add 0 010\n",
    "add 0x10000000000000000 1\n",
    "add 0 0x1000000000000T\n",
    "# comment\n\nbottom_up yes\n",
    "add 0 1 0 0x100000000\n",
    "dump 1\n",
    "add\t0\t1\t0\t0\t0\n",
    "current_limit max\n",
]


@pytest.mark.parametrize("script", BAD)
def test_bad_scripts_match_driver(oracle, script):
    with pytest.raises(ScriptError) as ei:
        run_script(script)
    rc, out = oracle.run(script)
    assert rc == 2
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"error line={ei.value.line} col={ei.value.col}:"), (last, ei.value)
