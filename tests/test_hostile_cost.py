"""Small input, huge cost (issue 14): a description of a few bytes must not cost seconds of CPU or
gigabytes.  Memory is worked per range (never per 128 MiB section or memory block of the address
space), an output past the bound (64 MiB) is refused before it is made, in the library as on the
command line.  Each input runs in a forked child under setrlimit CPU and address-space limits
(tests/fuzzing.py's runner): a cost that comes back fails the test, with generous limits (the
figures before and after are bench/fuzz.py --cost's)."""

import pathlib
import random

import pytest

import fuzzing
from fwc import Fwc
from fwc.backends import OutputBudget

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name,text,what,expect,cpu,mib", fuzzing.COSTLY, ids=[f"{h[2]} {h[0]}" for h in fuzzing.COSTLY])
def test_a_small_description_costs_little(name, text, what, expect, cpu, mib):
    o = fuzzing.run(fuzzing.costly_target(text, what, expect), cpu_seconds=cpu, memory_mib=mib)
    assert o.ok, f"{name}: {o.what}: {o.detail[-1500:]} ({o.cpu:.1f} s CPU, {o.peak_mib:.0f} MiB)"


def test_the_output_bound_is_the_librarys_too():
    text = 'machine "m" { node 0 { cpus 0-3 memory 0 size 1G } node 1 { memory 1G size 1G } }'
    full = Fwc().compile(text=text, name="m.fwc")
    assert full.ok
    total = sum(len(a.data) for a in full.artifacts)
    small = Fwc(max_output=total - 1).compile(text=text, name="m.fwc")
    assert [d.check for d in small.errors] == ["output-size"] and small.artifacts == []
    assert Fwc(max_output=total).compile(text=text, name="m.fwc").ok
    assert Fwc(max_output=None).compile(text=text, name="m.fwc").ok
    # past the bound the compile stops: a bound of 1 byte refuses the first backend's first file
    # and runs no other backend
    tiny = Fwc(max_output=1).compile(text=text, name="m.fwc")
    assert len([d for d in tiny.diagnostics if d.check == "output-size"]) == 1 and not tiny.internal_error


def test_a_backend_needing_a_run_past_the_bound_stops_with_output_size():
    """svg runs boot for itself (ctx.run): boot's outputs are not written, yet a run of boot past
    the bound is refused, and so is the svg that needs it."""
    text = (ROOT / "examples" / "two-node-hotplug.fwc").read_text()
    alone = Fwc().compile(text=text, name="m.fwc", backends=["svg"])
    assert alone.ok
    svg = sum(len(a.data) for a in alone.artifacts)
    boot = sum(len(a.data) for a in Fwc().compile(text=text, name="m.fwc", backends=["boot"]).artifacts)
    assert boot > svg
    r = Fwc(max_output=boot - 1).compile(text=text, name="m.fwc", backends=["svg"])
    d = [d for d in r.diagnostics if d.check == "output-size"]
    assert len(d) == 1 and "needs backend 'boot'" in d[0].message and r.artifacts == [] and not r.internal_error
    assert Fwc(max_output=boot).compile(text=text, name="m.fwc", backends=["svg"]).ok


def test_the_acpi_backend_refuses_before_encoding_and_its_floor_is_never_above_what_it_writes():
    from fwc_plugins.acpi.backend import output_floor

    rng = random.Random(14)
    texts = []
    for _ in range(12):
        n = rng.choice([1, 7, 255, 256, 300, 1000])
        nodes = rng.randint(1, 3)
        per = max(1, n // nodes)
        body = " ".join(f"node {i} {{ cpus {i * per}-{i * per + per - 1} memory {i}G size 1G }}" for i in range(nodes))
        texts.append(f'machine "m" {{ {rng.choice(["", "board qemu-q35"])} {body} }}'
                     .replace("memory 0G", "memory 0"))
    for text in texts:
        for dsl in (True, False):
            r = Fwc(max_output=None).compile(text=text, name="m.fwc", backends=["acpi"],
                                             options={"acpi.dsl": dsl})
            if not r.ok:
                continue
            written = sum(len(a.data) for a in r.artifacts)
            assert 0 < output_floor(r.machine, dsl) <= written, text
    # 2^18 CPUs: refused by the floor, before a table is encoded (no bytes counted yet)
    big = Fwc().compile(text='machine "c" { node 0 { cpus 0-262143 memory 0 size 1G } }', name="m.fwc")
    d = next(d for d in big.errors if d.check == "output-size")
    assert "backend 'acpi'" in d.message and "after 0" in d.message


@pytest.mark.parametrize("example", ["two-node-hotplug.fwc", "boot-tests/hotplug-movable.fwc",
                                     "qemu/c_q35_3node_slit.fwc", "events/offline-remove.fwc"])
def test_the_boot_backend_stops_at_its_floor_and_the_floor_is_never_above_what_it_writes(example):
    """The boot backend's floor (memblock.log, boot.json's allocation records) is a lower bound of
    what it writes; a bound below the floor stops the simulated boot with output-size."""
    from fwc_plugins.boot.kernel.state import BootLog
    from fwc_plugins.boot.sim import OutputBound, simulate

    text = (ROOT / "examples" / example).read_text()
    r = Fwc(max_output=None).compile(text=text, name=example, backends=["boot"])
    assert r.ok, r.render_diagnostics()
    written = sum(len(a.data) for a in r.artifacts)
    b = simulate(r.machine)
    floor = BootLog(log=b.log, allocs=b.allocs).floor()
    assert 0.5 * written < floor <= written
    with pytest.raises(OutputBound) as e:
        simulate(r.machine, limit=floor - 1)  # the result shared with the compile: checked as well
    assert e.value.floor == floor
    small = Fwc(max_output=floor - 1).compile(text=text, name=example, backends=["boot"])
    assert [d.check for d in small.errors] == ["output-size"] and not small.artifacts and not small.internal_error
    assert Fwc(max_output=written).compile(text=text, name=example, backends=["boot"]).ok


def test_emit_past_the_bound_stops_the_backend_without_an_internal_error():
    from fwc.backends import Backend, BackendContext, generate

    budget = OutputBudget(10)
    r = Fwc().load(text='machine "m" { node 0 { memory 0 size 1G } }', name="m.fwc")

    def writes_too_much(ctx):
        ctx.emit("a.txt", b"x" * 8)
        ctx.emit("b.txt", b"x" * 8)
        raise AssertionError("not reached: emit() stops the backend")

    ctx = BackendContext(Backend("big", writes_too_much, plugin="t"), r.machine, {}, budget=budget)
    generate(ctx, own=False, debug=False)
    assert [a.path for a in ctx.artifacts] == ["a.txt"] and budget.exceeded
    assert [d.check for d in ctx.diagnostics] == ["output-size"]


def test_present_pages_by_runs_agrees_with_counting_section_by_section():
    from fwc_plugins.boot.kernel.state import ZoneState

    rng = random.Random(7)
    sp = 8
    for _ in range(300):
        secs = sorted(rng.sample(range(60), rng.randint(0, 25)))
        runs = []
        for s in secs:
            if runs and runs[-1][1] == s:
                runs[-1] = (runs[-1][0], s + 1, 0)
            else:
                runs.append((s, s + 1, 0))
        zs = ZoneState(present_sections=runs)
        a = rng.randrange(0, 60 * sp)
        b = rng.randrange(a, 62 * sp)
        want = sum(1 for p in range(a, b) if p // sp in secs)
        assert zs.present_pages(a, b, sp) == want


def test_memory_blocks_as_runs_behave_as_a_dict_of_blocks():
    from fwc_plugins.boot.kernel.state import MemoryBlock, MemoryBlocks

    rng = random.Random(3)
    for _ in range(100):
        blocks, ref = MemoryBlocks(), {}
        at = 0
        for _ in range(rng.randint(1, 4)):
            at += rng.randint(0, 3)
            n = rng.randint(1, 8)
            blocks.add(at, at + n, MemoryBlock(at, rng.randint(0, 2), "online", 2))
            for b in range(at, at + n):
                ref[b] = [blocks.runs()[-1][2].nid, "online", 2]
            at += n
        for _ in range(10):
            op = rng.random()
            b = rng.randrange(0, at + 2)
            if op < 0.4:
                m = blocks.get(b)
                assert (m is None) == (b not in ref)
                if m is not None:
                    assert m.id == b and [m.nid, m.state, m.zone] == ref[b]
                    m.state, m.zone = "offline", None
                    ref[b][1:] = ["offline", None]
            elif op < 0.8:
                e = rng.randrange(b, at + 3)
                nid = rng.randint(0, 2)
                for m in blocks.split(b, e, [rng.randrange(0, at + 1)]):
                    m.nid = nid
                for i in range(b, e):
                    if i in ref:
                        ref[i][0] = nid
            else:
                assert (b in blocks) == (b in ref)
        got = {i: [m.nid, m.state, m.zone] for a, e, m in blocks.runs() for i in range(a, e)}
        assert got == ref
        assert blocks.ids(lambda m: m.state == "offline") == sorted(i for i, v in ref.items() if v[1] == "offline")


def test_a_memmap_that_cannot_be_allocated_ends_the_node_as_sparse_init_nid_does():
    """64 TiB hot-pluggable under movable_node: its memmap (1 TiB) finds no room outside it, so
    each section's memmap is allocated alone until one fails; Linux's sparse_init_nid() then
    prints its error and allocates nothing more for the node (mm/sparse.c), where fwc 0.1 went
    on failing for every one of the node's 524,288 sections (tokens seed 10000793 at 1 PiB)."""
    from fwc_plugins.boot.sim import simulate

    text = ('machine "m" { node 0 { cpus 0-3 memory 0 size 3G } node 1 { cpus 4-7 memory 4G size 64T '
            'hotpluggable } kernel at 16M size 52M cmdline "movable_node" }')
    b = simulate(Fwc().load(text=text, name="m.fwc").machine)
    assert b.dmesg.count("sparse_init_nid: node[1] memory map backing failed. Some memory will not be available.") == 1
    failed = [line for line in b.log if line.startswith("# allocation failed: memmap of node 1 section")]
    assert len(failed) == 1 and len(b.log) < 50_000
    assert any("memory map backing failed" in n for n in b.notes)
