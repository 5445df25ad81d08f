"""fwc's model of Linux 6.12's mm/memblock.c (``Memblock612``) against the real file.

The same op-scripts as tests/test_memblock_oracle.py (its hypothesis strategies and the
seeded generator of tests/oracles/memblock/scriptgen.py) run through the real 6.12
allocator -- built at test time from Debian's ``linux-source-6.12``
(``harness.require_oracle("6.12")``) -- and through ``Memblock612``; every output line must
be identical.  A script that makes 6.12 panic (its array full before
``memblock_allow_resize()``) ends with the driver's ``exit status=255`` line, where the
model raises ``MemblockBug("panic: ...")``.
The tests skip when the oracle cannot be built, and fail when CI=true.

A merge after ``memblock_cap_memory_range()`` (``cap_range``, ``mem_limit_remove_map``), which
leaves two compatible regions touching, shows the one merge difference of the two files: 6.1
merges the whole array, 6.12 only from the region before the first *inserted* piece to the one
after the last (test_merge_window_after_cap_range, found by these random scripts).  6.12's
memblock_end_of_DRAM() of an empty memory array reads ``regions[-1]`` (out of bounds; the model
says 0): outputs that differ only there agree (test_end_of_dram_of_empty_memory).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_memblock_oracle as base
from fwc_plugins.boot.kernel612.memblock import RSRV_NOINIT, Memblock612
from fwc_plugins.boot.memblock import HARNESS, Memblock, MemblockBug
from fwc_plugins.boot.memblock_script import run_script

harness, scriptgen = base.harness, base.scriptgen


@pytest.fixture(scope="module")
def oracle():
    return harness.require_oracle("6.12")


def model(script: str) -> str:
    """The model's output of ``script``, op by op (state kept), as the driver prints a panic."""
    mb = Memblock612(HARNESS)
    out = []
    for line in script.splitlines():
        try:
            out.append(run_script(line + "\n", memblock=mb))
        except MemblockBug as e:
            assert str(e).startswith("panic: "), e
            out.append("exit status=255\n")
            break
    return "".join(out)


def check_batch(oracle, scripts: list[str]) -> None:
    real = oracle.run_many(scripts)
    for script, want in zip(scripts, real):
        got = model(script)
        if got != want and not harness.out_of_bounds_only(got, want, "6.12"):
            g, w = got.splitlines(), want.splitlines()
            i = next((i for i, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
            pytest.fail(f"output line {i + 1} differs:\n  fwc:  {g[i:i + 1]}\n  real: {w[i:i + 1]}\n"
                        f"script:\n{script}")


@settings(max_examples=40 * base.SCALE, **base.SETTINGS)
@given(st.lists(base.scripts().filter(base._no_trim_wrap), min_size=20, max_size=30))
def test_random_scripts(oracle, batch):
    check_batch(oracle, batch)


def test_merge_window_after_cap_range(oracle):
    """mem_limit_remove_map leaves [0x19000, 0x1c000) and [0x1c000, 0x2c000) (NOMAP, so kept)
    touching unmerged; the last add inserts [0x15000, 0x19000) below them and covers the rest:
    6.12's merge stops at the region after the inserted piece, 6.1 merges the pair."""
    script = ("add 0x19000 0x13000 none 0xf\nphys_alloc_try_nid 0x10000 0x1800 max\nmem_limit_remove_map 0x3000\n"
              "add 0xfffffffffffffe05 0x4000 none 0x2\nadd 0x15000 0x13000\ndump\n")
    check_batch(oracle, [script])
    assert model(script) != run_script(script)   # 6.1 merges the pair


def test_fwc_memblock_run_kernel_6_12(oracle, tmp_path):
    """``fwc memblock run --kernel 6.12`` prints what the real 6.12 file prints; plain
    ``fwc memblock run`` (6.1) does not, on a script where the two kernels differ."""
    import subprocess
    import sys

    from fwc_plugins.boot.kernel.version import KERNELS

    script = ("add 0x19000 0x13000 none 0xf\nphys_alloc_try_nid 0x10000 0x1800 max\nmem_limit_remove_map 0x3000\n"
              "add 0xfffffffffffffe05 0x4000 none 0x2\nadd 0x15000 0x13000\ndump\n")
    path = tmp_path / "ops.txt"
    path.write_text(script)

    def fwc(*args):
        r = subprocess.run([sys.executable, "-m", "fwc.cli", "memblock", "run", *args], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    real = oracle.run_many([script])[0]
    assert fwc("--kernel", "6.12", str(path)) == real
    assert fwc(str(path)) != real and fwc("--kernel", "6.1", str(path)) == run_script(script)
    assert "--kernel {" + ",".join(KERNELS) + "}" in fwc("--help")   # every modelled kernel


@settings(max_examples=20 * base.SCALE, **base.SETTINGS)
@given(st.lists(base.alloc_scripts(), min_size=20, max_size=30))
def test_allocation_scripts(oracle, batch):
    check_batch(oracle, batch)


@settings(max_examples=20 * base.SCALE, **base.SETTINGS)
@given(st.lists(base.many_region_scripts(), min_size=4, max_size=6))
def test_past_128_regions(oracle, batch):
    """With and without memblock_allow_resize(): 6.12 panics where 6.1 returned -ENOMEM."""
    check_batch(oracle, batch)


@pytest.mark.parametrize("seed", range(2))
def test_long_seeded_scripts(oracle, seed):
    batch = []
    for k in range(5):
        rng = random.Random(1000 * seed + k)
        batch.append(scriptgen.gen_script(
            rng, 2000, nodes=rng.choice([1, 2, 8, 16]), span=rng.choice([1 << 30, 64 << 30]), dump_every=50,
            unit=rng.choice([1, 0x1000]), resize=bool(k % 2)))
    check_batch(oracle, batch)


def test_what_changed_from_6_1(oracle):
    """Each difference of the two files, on a script that shows it, against both real kernels."""
    empty = "add 0 0\nreserve 0x1000 0x1000\nfree 0x1000 0x1000\ndump\n"
    got61, got612 = run_script(empty), model(empty)
    assert "memory.type cnt=1 max=128" in got61 and "reserved.type cnt=1 max=128" in got61
    assert "memory.type cnt=0 max=128" in got612 and "reserved.type cnt=0 max=128" in got612
    full = "\n".join(f"add {base.h(0x100000000 + i * 0x200000)} 0x100000" for i in range(130)) + "\ndump\n"
    out61, out612 = run_script(full).splitlines(), model(full).splitlines()
    assert out61[128] == "add -12" and out612[-1] == "exit status=255"
    # 6.1 inserts directly while cnt * 2 + 1 < max, 6.12 while <= max: the doubling comes one region later
    assert Memblock._insert_slack == 2 and Memblock612._insert_slack == 1
    check_batch(oracle, [empty, full])
    assert harness.require_oracle().run_many([empty])[0] == got61


def test_new_functions():
    """memblock_reserved_mark_noinit(), memblock_validate_numa_coverage(),
    memblock_estimated_nr_free_pages(), as mm/memblock.c 6.12 defines them."""
    mb = Memblock612(HARNESS)
    mb.add_node(0, 1 << 30, 0)
    mb.add(1 << 30, 8 << 20)                 # no node (MAX_NUMNODES)
    mb.reserve(0x100000, 0x200000)
    assert mb.reserved_mark_noinit(0x200000, 0x1000) == 0
    assert [(r.base, r.size, r.flags) for r in mb.reserved.regions()] == [
        (0x100000, 0x100000, 0), (0x200000, 0x1000, RSRV_NOINIT), (0x201000, 0xFF000, 0)]
    assert mb.validate_numa_coverage(8 << 20) and not mb.validate_numa_coverage(4 << 20)
    assert mb.warnings[-1] == "NUMA: no nodes coverage for 8MB of 1032MB RAM"
    assert mb.estimated_nr_free_pages() == ((1 << 30) + (8 << 20) - 0x200000) >> 12


def test_end_of_dram_of_empty_memory(oracle):
    """memblock_end_of_DRAM() reads regions[cnt - 1]: regions[-1] once the array is empty."""
    script = "add 0x100000 0x100000\nend_of_dram\nremove 0 4G\nend_of_dram\nstart_of_dram\n"
    got, [want] = model(script), oracle.run_many([script])
    assert got.splitlines()[:3] == want.splitlines()[:3] == ["add 0", "end_of_dram 0x200000", "remove 0"]
    assert got.splitlines()[3:] == ["end_of_dram 0x0", "start_of_dram 0x0"]
    assert want.splitlines()[4] == "start_of_dram 0x0"     # regions[0] zeroed by memblock_remove_region()
    assert harness.out_of_bounds_only(got, want, "6.12") and not harness.out_of_bounds_only(got, want, "6.1")
