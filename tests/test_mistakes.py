"""The classic mistakes: hot-pluggable memory nothing makes movable, sizes without a unit,
misspelt names ("did you mean"), and --Werror with a plugin that failed to load.

The hot-plug rule is Linux's (docs/background.md): the boot simulator, which follows
mm/page_alloc.c and is itself checked against real boots, must agree that such a node gets no
ZONE_MOVABLE."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES, machine, run_fwc
from fwc import Fwc
from test_plugins import env, plugin_path  # noqa: F401 - fixture

HOT = 'board qemu-q35\n oem id "BOCHS " table "BXPC    " revision 2\n node 0 { cpus 0-1 memory size 2G }\n' \
      ' node 1 { cpus 2-3 memory size 2G hotpluggable }\n node 2 { cpus 4 memory size 1G hotpluggable }\n' \
      ' initrd at 1G size 8M { override srat }\n cmdline "console=ttyS0 nokaslr {opts}"'


def diags(text, *switches):
    r = Fwc(warn=[s for s in switches]).check(text=machine(text), name="m.fwc")
    return r, [d for d in r.diagnostics]


@pytest.mark.parametrize("opts,warned", [("", True), ("movable_node", False), ("kernelcore=1G", False),
                                         ("movablecore=50%", False)])
def test_hotplug_without_movable_option(opts, warned):
    r, ds = diags(HOT.replace("{opts}", opts))
    hits = [d for d in ds if d.check == "hotplug-not-movable"]
    assert bool(hits) == warned and r.ok
    if warned:
        (d,) = hits
        assert d.severity == "warning" and "nodes 1, 2" in d.message and d.span.line == 5  # node 1's range
        assert [rel.message for rel in d.related] == ["hot-pluggable memory of node 2"]
        # the oracle side: Linux (the simulator of mm/page_alloc.c) gives these nodes no ZONE_MOVABLE
        from fwc_plugins.boot.sim import simulate

        b = simulate(r.machine)
        assert [z for z in b.zones if z[1] == "Movable"] == [] and not b.zmp
    else:  # and with the option given, the simulator does make movable memory
        from fwc_plugins.boot.sim import simulate

        assert [z for z in simulate(r.machine).zones if z[1] == "Movable"]


def test_dimms_alone_are_not_this_mistake():
    _, ds = diags('board qemu-q35\n node 0 { cpus 0 memory size 2G dimm size 1G }')
    assert not [d for d in ds if d.check == "hotplug-not-movable"]


@pytest.mark.parametrize("size,why", [("1024", "not a whole number of 4 KiB pages"), ("4096", "implausibly small"),
                                      ("0x3ff", "not a whole number"), ("639K", "not a whole number")])
def test_memory_size_warning_points_at_the_literal(size, why):
    text = f'node 0 {{ cpus 0 memory 0 size 2G }}\nnode 1 {{ memory 4G size {size} }}'
    r, ds = diags(text)
    (d,) = [d for d in ds if d.check == "memory-size"]
    assert why in d.message and "a number without a unit is bytes" in d.message
    assert (d.span.line, d.span.col, d.span.end_col - d.span.col) == (3, 25, len(size))


def test_memory_size_on_qemu_points_at_the_literal_too():
    text = 'board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { memory size 1024 }'
    _, ds = diags(text)
    (d,) = [d for d in ds if d.check == "memory-size"]
    assert (d.span.line, d.span.col) == (4, 22)


@pytest.mark.parametrize("size", ["640K", "1G", "0x80000000", "2047M", "64K"])
def test_sensible_sizes_are_silent(size):
    _, ds = diags(f'node 0 {{ cpus 0 memory 0 size {size} }}')
    assert not [d for d in ds if d.check == "memory-size"]


def test_examples_are_silent_about_sizes():
    import glob
    import os

    for path in glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True):
        r = Fwc().check(path)
        assert not [d for d in r.diagnostics if d.check == "memory-size"], path


@pytest.mark.parametrize("text,suggestion", [
    ('machine "m" {\n nod 0 { memory 0 size 1G }\n}', "did you mean 'node'?"),
    ('machine "m" {\n node 0 { memroy 0 size 1G }\n}', "did you mean 'memory'?"),
    ('machine "m" {\n node 0 { memory 0 size 1G hotplugable }\n}', "did you mean 'hotpluggable'?"),
    ('machine "m" {\n board qemu-q53\n node 0 { memory 0 size 1G }\n}', "did you mean 'qemu-q35'?"),
    ('machine "m" {\n arch x86-64\n node 0 { memory 0 size 1G }\n}', "did you mean 'x86_64'?"),
])
def test_did_you_mean_in_descriptions(text, suggestion):
    r = Fwc().check(text=text, name="m.fwc")
    assert not r.ok and suggestion in r.diagnostics[0].message, r.render_diagnostics()


def test_no_suggestion_for_something_else():
    r = Fwc().check(text='machine "m" {\n zzzzzz 0 { memory 0 size 1G }\n}', name="m.fwc")
    assert "did you mean" not in r.diagnostics[0].message


@pytest.mark.parametrize("argv,suggestion", [
    (("chek", "x.fwc"), "did you mean 'check'?"),
    (("check", "--Werorr", "x.fwc"), "did you mean '--Werror'?"),
    (("check", "-W", "no-memory-overlp", "x.fwc"), "did you mean 'memory-overlap'?"),
    (("compile", "-b", "acpo", "x.fwc"), "did you mean 'acpi'?"),
    (("check", "--color", "alwys", "x.fwc"), "did you mean 'always'?"),
])
def test_did_you_mean_on_the_command_line(argv, suggestion):
    r = run_fwc(*argv)
    assert r.returncode == 2 and suggestion in r.stderr, r.stderr


def test_werror_fails_when_a_plugin_failed_to_load(plugin_path):  # noqa: F811 - the fixture
    example = f"{EXAMPLES}/two-node-hotplug.fwc"
    r = run_fwc("check", example, env=env(plugin_path))
    assert r.returncode == 0 and "plugin 'broken'" in r.stderr and "[plugin]" in r.stderr
    r = run_fwc("check", "--Werror", example, env=env(plugin_path))
    assert r.returncode == 1 and "error: plugin 'broken'" in r.stderr
    r = run_fwc("check", "--Werror", example)
    assert r.returncode == 0, r.stderr
