"""Each named check, firing on a bad machine and quiet on its corrected twin."""

import pytest

from conftest import machine
from fwc import Fwc
from fwc.checks import BUILTIN_CHECKS

BASE = 'node 0 { cpus 0-1 memory 0 size 2G }\nnode 1 { cpus 2-3 memory 4G size 2G }'
Q35 = 'board qemu-q35\nslots 2 maxmem 8G\nnode 0 { cpus 0-1 memory size 2G }\nnode 1 { cpus 2-3 memory size 2G }'

# check name -> (bad body, good body, message substring, line of the primary span or None)
CASES = {
    "no-nodes": ('kernel at 16M size 1M', BASE, "no NUMA node", 1),
    "empty-range": ('node 0 { memory 0 size 0 memory 1G size 1G }', 'node 0 { memory 1G size 1G }',
                    "memory range is empty", 2),
    "memory-overlap": ('node 0 { memory 0 size 2G }\nnode 1 { memory 1G size 2G }',
                       'node 0 { memory 0 size 1G }\nnode 1 { memory 1G size 2G }',
                       "overlaps node 0's range [0x0-0x7fffffff]", 3),
    "reserved-overlap": (BASE + '\nreserved 0x1000 size 4K', BASE + '\nreserved 3G size 4K',
                         "reserved range [0x1000-0x1fff] overlaps RAM", 4),
    "duplicate-node": ('node 0 { memory 0 size 1G }\nnode 0 { memory 1G size 1G }',
                       'node 0 { memory 0 size 1G }\nnode 1 { memory 1G size 1G }', "node 0 is defined twice", 3),
    "duplicate-pxm": ('node 0 { memory 0 size 1G }\nnode 1 pxm 0 { memory 1G size 1G }',
                      'node 0 { memory 0 size 1G }\nnode 1 pxm 5 { memory 1G size 1G }',
                      "nodes 0 and 1 share proximity domain 0", 3),
    "duplicate-apic-id": ('node 0 { cpus 0-2 memory 0 size 1G }\nnode 1 { cpus 2 memory 1G size 1G }',
                          'node 0 { cpus 0-1 memory 0 size 1G }\nnode 1 { cpus 2 memory 1G size 1G }',
                          "APIC ID 2 is used twice", 3),
    "distance-node": (BASE + '\ndistance 0 2 = 20', BASE + '\ndistance 0 1 = 20',
                      "names node 2, which is not defined", 4),
    "distance-duplicate": (BASE + '\ndistance 0 1 = 20\ndistance 0 1 = 30', BASE + '\ndistance 0 1 = 20\ndistance 1 0 = 30',
                           "distance 0 1 is given twice", 5),
    "slit-diagonal": (BASE + '\ndistance 1 1 = 11', BASE + '\ndistance 1 1 = 10', "must be 10, not 11", 4),
    "slit-value": (BASE + '\ndistance 0 1 = 10', BASE + '\ndistance 0 1 = 255', "must be above 10", 4),
    "slit-size": ('node 0 { memory 0 size 1G }\nnode 1 pxm 100000 { memory 1G size 1G }\ndistance 0 1 = 20',
                  'node 0 { memory 0 size 1G }\nnode 1 pxm 100 { memory 1G size 1G }\ndistance 0 1 = 20',
                  "100001 localities make it", 3),
    "srat-pxm-width": ('tables { srat revision 1 }\nnode 0 pxm 257 { memory 0 size 1G }',
                       'tables { srat revision 2 }\nnode 0 pxm 257 { memory 0 size 1G }',
                       "Linux keeps only the low 8 bits (PXM 1)", 3),
    "node-id-limit": ('node 1024 { memory 0 size 1G }', 'node 1023 { memory 0 size 1G }', "MAX_NUMNODES", 2),
    "address-width": ('node 0 { memory 0 size 1G memory 0xF_FFFF_FFFF_FFFF size 1G }',
                      'node 0 { memory 0 size 1G memory 0xF_FFFF_0000_0000 size 1G }', "52-bit", 2),
    "cpu-arch": ('node 0 { memory 0 size 1G its 1 }', 'arch arm64\nnode 0 { memory 0 size 1G its 1 }',
                 "GIC ITS entries exist only on arm64", 2),
    "hotplug-alignment": (BASE + '\nnode 2 { memory 8G size 100M hotpluggable }\ncmdline "movable_node"',
                          BASE + '\nnode 2 { memory 8G size 128M hotpluggable }\ncmdline "movable_node"',
                          "not aligned to the 128 MiB memory block", 4),
    "kernel-in-hotplug": ('node 0 { memory 0 size 1G }\nnode 1 { memory 1G size 1G hotpluggable }\nkernel at 1G size 32M',
                          'node 0 { memory 0 size 1G }\nnode 1 { memory 1G size 1G hotpluggable }\nkernel at 16M size 32M',
                          "node 1 will not be movable", 4),
    "hotplug-not-movable": (BASE + '\nnode 2 { memory 8G size 1G hotpluggable }\ncmdline "nokaslr"',
                            BASE + '\nnode 2 { memory 8G size 1G hotpluggable }\ncmdline "nokaslr movable_node"',
                            "the boot memory of node 2 is hot-pluggable", 4),
    "placement-memory": (BASE + '\ninitrd at 3G size 8M', BASE + '\ninitrd at 1G size 8M',
                         "is not inside the machine's RAM (no RAM at 0xc0000000)", 4),
    "placement-overlap": (BASE + '\nkernel at 16M size 32M\ninitrd at 32M size 8M',
                          BASE + '\nkernel at 16M size 32M\ninitrd at 64M size 8M', "the initrd overlaps the kernel", 5),
    "kernel-alignment": (BASE + '\nkernel at 17M size 32M', BASE + '\nkernel at 16M size 32M', "not aligned to 2 MiB", 4),
    "override-table": (BASE + '\ninitrd at 1G size 1M { override slit }',
                       BASE + '\ninitrd at 1G size 1M { override srat }', "has no distances", 4),
    "topology": (BASE + '\ntopology sockets 2 cores 1 threads 1', BASE + '\ntopology sockets 2 cores 2 threads 1',
                 "2x1x1 = 2 CPUs, the nodes have 4", 4),
    "board-memory": ('board qemu-q35\nnode 0 { memory 0 size 640K memory 1M size 3071M }',
                     'board qemu-q35\nnode 0 { cpus 0 memory 0 size 640K memory 1M size 2047M }',
                     "reaches into the PCI hole", 3),
    "cmdline": (BASE + '\ncmdline "kernelcore=lots"', BASE + '\ncmdline "kernelcore=20%"',
                "kernelcore=lots is not a size", 1),
    # the e820 block (tests/test_e820_language.py has more)
    "e820-overlap": (BASE + '\ne820 { usable 0 size 2G  reserved 1G size 4K  usable 4G size 2G }',
                     BASE + '\ne820 { usable 0 size 2G  reserved 2G size 4K  usable 4G size 2G }',
                     "e820 reserved [0x40000000-0x40000fff] overlaps usable [0x0-0x7fffffff]", 4),
    "e820-uncovered": (BASE + '\ne820 { usable 0 size 2G\n usable 4G size 4G }',
                       BASE + '\ne820 { usable 0 size 2G\n usable 4G size 2G }',
                       "nodes only cover 4096MB of your 6144MB e820 RAM. Not used.", 5),
    "e820-conflict": (BASE + '\ne820 { usable 0 size 2G }\nreserved 3G size 4K', BASE + '\ne820 { usable 0 size 2G '
                      'reserved 3G size 4K }', "'reserved' is not used when the machine gives an e820 block", 5),
    "e820-board": ('board qemu-q35\nnode 0 { cpus 0 memory size 1G }\ne820 { usable 0 size 639K }',
                   'board qemu-q35\nnode 0 { cpus 0 memory size 1G }', "e820 on a QEMU board", 4),
    # events after boot (tests/test_events.py has more)
    "event-board": (BASE + '\nevents { add dimm a size 1G }', BASE + '\nevents { online block 1 }',
                    "needs a QEMU board", None),
    "event-dimm": (Q35 + '\nevents { add dimm a size 1G\n remove dimm b }',
                   Q35 + '\nevents { add dimm a size 1G\n remove dimm a }', "DIMM 'b' was never added", None),
    "event-node": (Q35 + '\nevents { add dimm a size 1G node 5 }', Q35 + '\nevents { add dimm a size 1G node 1 }',
                   "node 5 is not a node", None),
    "event-slots": (Q35 + '\nevents { add dimm a size 1G\n add dimm b size 1G\n add dimm c size 1G }',
                    Q35 + '\nevents { add dimm a size 1G\n add dimm b size 1G\n remove dimm a\n add dimm c size 1G }',
                    "no free slot for DIMM 'c'", None),
    "event-maxmem": (Q35 + '\nevents { add dimm a size 4G\n add dimm b size 1G }',
                     Q35 + '\nevents { add dimm a size 3G\n add dimm b size 1G }', "beyond maxmem", None),
    "event-address": (Q35 + '\nevents { add dimm a size 1G at 0x100000000 }',
                      Q35 + '\nevents { add dimm a size 1G at 0x180000000 }', "outside the DIMM window", None),
    "event-dimm-size": (Q35 + '\nevents { add dimm a size 100M }', Q35 + '\nevents { add dimm a size 128M }',
                        "whole 128 MiB memory blocks", None),
}


def run(fwc, body):
    return fwc.check(text=machine(body), name="c.fwc")


@pytest.fixture(scope="module")
def fwc():
    return Fwc()


def test_every_model_check_has_a_case():
    with_fn = {name for name, _, _, _, fn in BUILTIN_CHECKS if fn is not None}
    assert with_fn == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fires(fwc, name):
    bad, _, msg, line = CASES[name]
    r = run(fwc, bad)
    hits = [d for d in r.diagnostics if d.check == name]
    assert hits, r.render_diagnostics()
    assert any(msg in d.message for d in hits), [d.message for d in hits]
    if line is not None:
        assert hits[0].span is not None and hits[0].span.line == line


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_quiet(fwc, name):
    _, good, _, _ = CASES[name]
    r = run(fwc, good)
    assert not [d for d in r.diagnostics if d.check == name], r.render_diagnostics()
    assert r.ok, r.render_diagnostics()


def test_severity_follows_level(fwc):
    r = run(fwc, CASES["hotplug-alignment"][0])
    assert [d.severity for d in r.diagnostics] == ["warning"] and r.ok


def test_werror_makes_warnings_errors():
    r = Fwc(werror=True).check(text=machine(CASES["hotplug-alignment"][0]))
    assert [d.severity for d in r.diagnostics] == ["error"] and not r.ok


def test_w_no_disables_a_warning_and_e_promotes():
    bad = machine(CASES["kernel-alignment"][0])
    assert not Fwc(warn=["no-kernel-alignment"]).check(text=bad).diagnostics
    r = Fwc(error=["kernel-alignment"]).check(text=bad)
    assert [d.severity for d in r.diagnostics] == ["error"]


def test_errors_cannot_be_disabled_or_downgraded():
    for kw in ({"warn": ["no-memory-overlap"]}, {"warn": ["memory-overlap"]}, {"error": ["no-memory-overlap"]}):
        with pytest.raises(ValueError, match="cannot be disabled or downgraded"):
            Fwc(**kw).levels


def test_unknown_check_name_is_rejected():
    with pytest.raises(ValueError, match="unknown check 'bogus-check'"):
        Fwc(warn=["no-bogus-check"]).levels


def test_overlap_sweep_is_not_fooled_by_nesting(fwc):
    # A long range containing two short ones: both overlaps reported.
    r = run(fwc, 'node 0 { memory 0 size 4G }\nnode 1 { memory 1G size 1M  memory 2G size 1M }')
    assert len([d for d in r.diagnostics if d.check == "memory-overlap"]) == 2


@pytest.mark.parametrize("body,msg", [
    ('board qemu-q35\nnode 0 { memory 0 size 2G }', "covers [0xa0000-0xfffff]"),
    ('board qemu-q35\nnode 0 { memory 0 size 640K memory 1M size 1023M }\nnode 1 { memory 2G size 1G }',
     "should start at 0x40000000"),
    ('board qemu-q35\nnode 0 { memory 4G size 1G }\nnode 1 { memory 0 size 640K memory 1M size 2047M }',
     "cannot lie above node 1's"),
    ('board qemu-pc\nnode 0 { memory 0 size 640K memory 1M size 3583M }\nnode 1 { memory 4G size 1G }',
     "reaches into the PCI hole"),
    ('board qemu-q35\nslots 2 maxmem 3G\nnode 0 { memory size 2G  dimm size 1G  dimm size 1G }', "maxmem 3 GiB is less"),
    ('board qemu-q35\nnode 0 { memory size 2G  dimm size 100M }', "multiples of 128 MiB"),
])
def test_board_memory_variants(fwc, body, msg):
    r = run(fwc, body)
    assert any(d.check == "board-memory" and msg in d.message for d in r.diagnostics), r.render_diagnostics()


def test_qemu_layouts_computed_by_fwc_check_clean(fwc):
    for body in ('board qemu-q35\nnode 0 { cpus 0 memory size 1G }\nnode 1 { cpus 1 memory size 2G }\n'
                 'node 2 { cpus 2 memory size 3G }\ntopology sockets 3 cores 1 threads 1',
                 'board qemu-pc\nnode 0 { cpus 0 memory size 1G }\nnode 1 { cpus 1 memory size 3G }',
                 'board qemu-q35\nslots 4 maxmem 16G\nnode 0 { cpus 0 memory size 2G }\n'
                 'node 1 { cpus 1 memory size 2G dimm size 1G }'):
        r = run(fwc, body)
        assert r.ok and not r.diagnostics, r.render_diagnostics()


def test_disabled_memory_does_not_overlap(fwc):
    r = run(fwc, 'node 0 { memory 0 size 2G }\nnode 1 { memory 1G size 1G disabled }')
    assert r.ok, r.render_diagnostics()


def test_all_examples_check_clean():
    import glob
    import os

    from conftest import EXAMPLES

    files = sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True))
    assert files
    f = Fwc()
    for path in files:
        # An example may show a warning on purpose: "# expect: CHECK" lines name them.
        expect = sorted(line.split(":", 1)[1].strip() for line in open(path) if line.startswith("# expect:"))
        r = f.check(path)
        assert r.ok and sorted(d.check for d in r.diagnostics) == expect, (path, r.render_diagnostics())


def test_docs_list_every_builtin_check():
    import os

    from conftest import ROOT

    text = open(os.path.join(ROOT, "docs", "checks.md")).read()
    for name, code, level, desc, _ in BUILTIN_CHECKS:
        assert f"| FWC{code:04d} | `{name}` | {level} | {desc} |" in text, name


def test_docs_list_every_builtin_backend_check():
    """docs/checks.md lists every check and name the built-in backends register, as registered."""
    import os

    from conftest import ROOT

    import fwc

    text = open(os.path.join(ROOT, "docs", "checks.md")).read()
    builtin = [c for c in fwc.Fwc().checks if c.plugin in ("qemu", "initrd", "acpi", "boot", "bootrun", "svg", "model")]
    assert {c.plugin for c in builtin} >= {"qemu", "initrd", "acpi", "boot"}
    for c in builtin:
        assert f"| FWC{c.code:04d} | `{c.name}` | `{c.plugin}` | {c.level} | {c.description} |" in text, c.name


@pytest.mark.parametrize("words, bad", [
    ("mem=0xC0000000", False), ("mem=3G", False), ("mem=3X", True), ("movablecore=0x40000000", False),
    ("movablecore=25%", False), ("kernelcore=mirror", False), ("kernelcore=lots", True), ("mem=010", False),
])
def test_cmdline_sizes_are_read_as_linux_memparse_reads_them(words, bad):
    """One memparse() (fwc.units) for the check and the boot simulator: hex and octal sizes are sizes."""
    import fwc

    text = f'machine "m" {{ node 0 {{ memory 0 size 4G }} kernel at 16M size 52M cmdline "{words}" }}'
    r = fwc.Fwc().check(text=text, name="<t>")
    assert any(d.check == "cmdline" and "is not a size" in d.message for d in r.diagnostics) == bad, \
        r.render_diagnostics()
