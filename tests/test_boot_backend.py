"""The boot backend end to end: outputs, policies, checks, examples, `fwc memblock run`."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from fwc.api import Fwc

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples" / "boot").glob("*.fwc"))


def fwc(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "fwc.cli", *args], capture_output=True, text=True, input=stdin,
                          cwd=ROOT, timeout=120)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_check_clean_and_compile(path):
    r = Fwc().compile(path, backends=["boot"])
    assert r.ok and not r.diagnostics, r.render_diagnostics()
    names = {a.path for a in r.artifacts}
    assert names == {"boot/dmesg.txt", "boot/memblock.log", "boot/memblock.txt", "boot/zones.txt", "boot/pins.txt",
                     "boot/policies.txt", "boot/events.txt", "boot/kernels.txt", "boot/boot.json"}
    data = json.loads(r.artifact("boot/boot.json").text)
    assert data["policy"] == "upstream" and data["dmesg"]
    assert "memblock_reserve:" in r.artifact("boot/memblock.log").text
    assert "MEMBLOCK configuration:" in r.artifact("boot/memblock.txt").text


def test_seed_policy_and_comparison():
    path = ROOT / "examples" / "boot" / "q35_node1_hotplug_override.fwc"
    r = Fwc().compile(path, backends=["boot"], options={"boot.policy": "seed"})
    assert r.ok, r.render_diagnostics()
    data = json.loads(r.artifact("boot/boot.json").text)
    assert data["policy"] == "seed"
    assert data["summary"]["movable_zone_start"] == {"1": "0x100000000"}
    assert "seed: reserve hotpluggable memory" in r.artifact("boot/memblock.log").text
    pol = r.artifact("boot/policies.txt").text
    assert "upstream:" in pol and "seed:" in pol


def test_seed_protects_node_the_initrd_would_pin():
    # T1c: the initrd sits on hotpluggable node 2; upstream loses node 2, the seed keeps it
    # only if the kernel does not reside there -- the initrd is an early reservation, so it
    # is excluded too; both policies agree that node 2 is not movable.
    text = (ROOT / "examples" / "boot" / "q35_4node.fwc").read_text()
    text = text.replace("memory size 2560M", "memory size 2560M hotpluggable").replace(
        '"console=ttyS0 nokaslr"', '"console=ttyS0 nokaslr movable_node"').replace(
        "board qemu-q35", 'board qemu-q35\n    oem revision 2\n    initrd at 0x7FED3000 size 0xFC800 { override srat }')
    r = Fwc().compile(text=text, backends=["boot"])
    assert any(d.check == "boot-pinned-hotplug" for d in r.diagnostics)
    assert "node 2 cannot be hot-removed" in r.artifact("boot/pins.txt").text


def test_cmdline_option_appends():
    r = Fwc().compile(ROOT / "examples" / "qemu" / "a_q35_2node.fwc", backends=["boot"],
                      options={"boot.cmdline": "kernelcore=3G"})
    assert "  Node 1: 0x0000000140400000" in r.artifact("boot/dmesg.txt").text.splitlines()


def test_bad_policy_is_an_error():
    r = Fwc().compile(ROOT / "examples" / "qemu" / "a_q35_2node.fwc", backends=["boot"],
                      options={"boot.policy": "nope"})
    assert not r.ok


SCRIPT = """\
add 0 2G 0
add 4G 2G 1
mark_hotplug 5G 1G
reserve 0 1M
movable_node 1
alloc 2M 2M 0 anywhere -1
dump
"""


def test_memblock_run_end_to_end(tmp_path):
    from fwc_plugins.boot.memblock_script import run_script

    p = tmp_path / "s.txt"
    p.write_text(SCRIPT)
    r = fwc("memblock", "run", str(p))
    assert r.returncode == 0, r.stderr
    assert r.stdout == run_script(SCRIPT)
    assert "alloc 0x13fe00000" in r.stdout
    assert r.stdout.splitlines()[-1] == "end"


def test_memblock_run_error_location(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("add 0 2G\nfrobnicate 1 2\n")
    r = fwc("memblock", "run", str(p))
    assert r.returncode == 1
    assert r.stderr == f"{p}:2:1: error: unknown operation 'frobnicate' [memblock-script]\n"
    r = fwc("memblock", "run", str(tmp_path / "missing.txt"))
    assert r.returncode == 1 and "[memblock-script]" in r.stderr


def test_declared_commands_are_the_registered_ones():
    """`fwc memblock ...` loads only the plugin that declares the command (entry-point group
    fwc.commands): each declared command is registered by its module, every command of fwc's
    own plugins is declared, and the fast path loads neither fwc.model, pluggy nor another plugin."""
    from fwc.plugin_commands import declared_command as _declared_command
    from fwc.host import SELF_DIST, entry_points

    declared = {ep.name: ep.value for ep in entry_points("fwc.commands") if ep.dist == SELF_DIST}
    own = {name: c[3] for name, c in Fwc().host.commands.items() if Fwc().host.own(c[3])}
    assert set(declared) == set(own) and declared
    for name, module in declared.items():
        got = _declared_command(name)
        assert got is not None and set(got) == {name} and got[name][3] == module
        assert got[name][1] is Fwc().host.commands[name][1]
    code = ("import sys; from fwc.cli import main; main(['memblock', 'run', '-']); "
            "print(sorted(m for m in sys.modules if m.startswith(('fwc', 'attr', 'pluggy'))))")
    r = subprocess.run([sys.executable, "-c", code], input="add 0 1M\n", capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.startswith("add 0\n"), r.stderr
    loaded = r.stdout.splitlines()[1]
    assert "fwc.model" not in loaded and "attr" not in loaded and "fwc_plugins.acpi" not in loaded, loaded
    # nor pluggy, the library API or the boot backend: the command's own module declares it
    assert "pluggy" not in loaded and "'fwc.api'" not in loaded and "fwc_plugins.boot.backend" not in loaded, loaded
