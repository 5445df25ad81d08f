"""A short fixed-seed run of fwc's own fuzz harnesses (tests/fuzzing.py; long runs:
``bench/fuzz.py SECONDS``): each input runs in a forked child under CPU and address-space
limits, and any exception, internal error, hang (> 2 s CPU) or peak over 512 MiB fails."""

import pytest

import fuzzing

SEEDS = range(1000, 1012)
#: seeds bench/fuzz.py found defects with (replayed while the generators are unchanged)
FOUND = {"acpidump+dirs": [401061, 401885],  # a dump's RSDP above 4 GiB: 'tables at' fwc cannot lay out
         "grammar": [2003045,   # no kernel pages: alloc_large_system_hash() took ilog2(0)
                     3005866,   # an unplaced NVDIMM encoded into the SRAT
                     3007487,   # tables at 1: an unaligned RSDP
                     7052850,   # 2047 TiB of e820 RAM in no node: the boot ran whole past the output bound
                     8022488]}  # tables at 8G: the RSDT cannot reach them, found inside a boot check


@pytest.fixture(scope="module")
def campaigns():
    return {c.name: c for c in fuzzing.campaigns()}


@pytest.mark.parametrize("name", ["grammar", "tokens", "tables", "acpidump+dirs"])
def test_fixed_seed_sample(campaigns, name):
    c = campaigns[name]
    for seed in [*SEEDS, *FOUND.get(name, [])]:
        c.step(seed)
    assert c.findings == [], "\n".join(f"seed {s}: {o.what}: {o.detail[-1500:]}" for s, o in c.findings)


def test_the_runner_sees_hangs_memory_and_exceptions():
    def spin():
        while True:
            pass

    def hog():
        blocks = []
        while True:
            blocks.append(bytearray(64 << 20))

    def boom():
        raise KeyError("x")

    assert fuzzing.run(spin, cpu_seconds=0.5).what == "cpu"
    assert fuzzing.run(hog, memory_mib=128).what == "memory"
    o = fuzzing.run(boom)
    assert o.what == "exception" and "KeyError" in o.detail
    assert fuzzing.run(lambda: None).ok


def test_the_generators_reach_what_they_claim():
    import random

    g = fuzzing.Grammar()
    texts = [g.generate(random.Random(i), depth=14) for i in range(200)]
    keywords = {"machine", "node", "tables", "initrd", "events", "e820", "include", "distance", "dimm"}
    assert keywords <= set(" ".join(texts).split())
    from fwc import Fwc

    assert sum(Fwc().load(text=fuzzing.PRELUDE + t).machine is not None for t in texts) >= 1
    seeds = [open(p, encoding="utf-8").read() for p in fuzzing.EXAMPLES]
    grown = [fuzzing.grow_example(g, random.Random(i), seeds) for i in range(40)]
    assert sum(Fwc().check(text=t).ok for t in grown) >= 2  # some reach every backend (about 1 in 10)
    srat = next(s["SRAT"] for s in fuzzing.table_sets() if "SRAT" in s)
    rng = random.Random(3)
    assert len({fuzzing.mutate_table(rng, srat) for _ in range(50)}) > 40
