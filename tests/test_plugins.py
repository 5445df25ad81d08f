"""Plugin loading through real entry points: good, broken, duplicate; the example plugin installed by pip."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import EXAMPLES, run_fwc
from fwc import Fwc
from fwc.plugin import hookimpl

EXAMPLE = os.path.join(EXAMPLES, "two-node-hotplug.fwc")

PLUGINS = {
    # dist name: (entry point name, module name, module source)
    "good-plugin": ("good", "fwcp_good", '''
        from fwc.plugin import hookimpl

        @hookimpl
        def fwc_register_backends(register):
            register("count", lambda ctx: ctx.emit("count.txt", str(len(ctx.machine.nodes))),
                     description="node count", outputs=["count.txt"])

        @hookimpl
        def fwc_register_checks(register):
            def fn(machine, report):
                if len(machine.nodes) > 1:
                    report("more than one node", machine.nodes[1].span)
            register("good-many-nodes", "warning", "more than one node", fn)

        @hookimpl
        def fwc_register_commands(register):
            def configure(parser):
                parser.add_argument("file")

            def run(args, fwc):
                r = fwc.check(args.file)
                print(f"{len(r.machine.nodes)} nodes")
                return 0

            register("count-nodes", configure, run, help="print the node count")
    '''),
    "broken-import": ("broken", "fwcp_broken", '''
        raise ImportError("this plugin is broken on purpose")
    '''),
    "raising-hook": ("raising", "fwcp_raising", '''
        from fwc.plugin import hookimpl

        @hookimpl
        def fwc_register_backends(register):
            raise RuntimeError("boom in hook")
    '''),
    "misspelt-hook": ("misspelt", "fwcp_misspelt", '''
        from fwc.plugin import hookimpl

        @hookimpl
        def fwc_register_backend(register):
            pass
    '''),
    "dup-backend": ("dup", "fwcp_dup", '''
        from fwc.plugin import hookimpl

        @hookimpl
        def fwc_register_backends(register):
            register("model", lambda ctx: None, description="an impostor")
    '''),
    "failing-backend": ("failing", "fwcp_failing", '''
        from fwc.plugin import hookimpl

        def generate(ctx):
            ctx.emit("partial.txt", "half")
            raise ValueError("generation failed")

        @hookimpl
        def fwc_register_backends(register):
            register("failing", generate)
    '''),
    "same-ep-name": ("good", "fwcp_same", '''
        from fwc.plugin import hookimpl
    '''),
}


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    for dist, (ep, mod, src) in PLUGINS.items():
        (root / f"{mod}.py").write_text(textwrap.dedent(src))
        info = root / f"{dist.replace('-', '_')}-0.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n\n")
        (info / "entry_points.txt").write_text(f"[fwc.backends]\n{ep} = {mod}\n")
    return str(root)


def env(path, **extra):
    e = {"PYTHONPATH": path}
    e.update(extra)
    return e


def test_backends_lists_good_and_reports_broken(plugin_path):
    r = run_fwc("backends", "--json", env=env(plugin_path))
    assert r.returncode == 0
    data = json.loads(r.stdout)
    names = {b["name"]: b for b in data["backends"]}
    assert names["count"]["plugin"] == "good" and names["count"]["version"] == "0.3"
    assert names["model"]["plugin"] == "model"  # the impostor did not replace it
    problems = "\n".join(data["problems"])
    assert "plugin 'broken': failed to load fwcp_broken from broken-import 0.3: ImportError: this plugin is broken" in problems
    assert "plugin 'raising': fwc_register_backends raised RuntimeError: boom in hook" in problems
    assert "plugin 'misspelt': implements an unknown hook" in problems
    assert "plugin 'dup': backend 'model' is already registered by plugin 'model'" in problems
    assert "plugin 'good': another installed plugin already uses this name" in problems


def test_rest_keep_working_with_broken_plugins(plugin_path, tmp_path):
    r = run_fwc("compile", EXAMPLE, "-b", "count", "-b", "model", "-o", str(tmp_path), env=env(plugin_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "count.txt").read_text() == "2"
    assert (tmp_path / "machine.json").exists()
    # The plugin's check ran, and the broken plugins were reported as warnings by name.
    assert "warning: more than one node [good-many-nodes]" in r.stderr
    assert "plugin 'broken'" in r.stderr and "[plugin]" in r.stderr


def test_plugin_command(plugin_path):
    r = run_fwc("count-nodes", EXAMPLE, env=env(plugin_path))
    assert r.returncode == 0 and r.stdout == "2 nodes\n", r.stderr
    r = run_fwc("--help", env=env(plugin_path))
    assert r.returncode == 0 and "count-nodes" in r.stdout  # every command is listed, plugins' too


def test_failing_backend_is_an_error_and_writes_nothing(plugin_path, tmp_path):
    out = tmp_path / "o"
    r = run_fwc("compile", EXAMPLE, "-b", "failing", "-b", "model", "-o", str(out), env=env(plugin_path))
    assert r.returncode == 1
    assert "backend 'failing' (failing) raised ValueError: generation failed [backend]" in r.stderr
    assert not out.exists() or os.listdir(out) == []


def test_plugin_allowlist_and_autoload_switch(plugin_path):
    data = json.loads(run_fwc("backends", "--json", env=env(plugin_path, FWC_PLUGINS="good")).stdout)
    assert {b["name"] for b in data["backends"]} >= {"count", "model"}
    assert not [p for p in data["problems"] if "broken" in p or "raising" in p]
    data = json.loads(run_fwc("backends", "--json", env=env(plugin_path, FWC_DISABLE_PLUGIN_AUTOLOAD="1")).stdout)
    names = {b["name"] for b in data["backends"]}
    assert "count" not in names and "model" in names


def test_api_registers_plugin_objects_directly():
    class Local:
        @hookimpl
        def fwc_register_backends(self, register):
            register("local", lambda ctx: ctx.emit("local.txt", ctx.machine.name))

    f = Fwc(plugins=[Local()])
    r = f.compile(text='machine "direct" { node 0 { memory 0 size 1G } }', backends=["local"])
    assert r.ok and r.artifact("local.txt").text == "direct"


def test_duplicate_check_name_is_reported():
    class Dup:
        @hookimpl
        def fwc_register_checks(self, register):
            register("memory-overlap", "warning", "impostor", lambda m, report: None)

    f = Fwc(plugins=[Dup()])
    assert any("check 'memory-overlap' is already registered" in d.message for d in f.host.diagnostics)
    assert f.checks.get("memory-overlap").plugin == "fwc"


def test_example_plugin_installed_with_pip(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    # The new environment sees this one's packages (fwc and its dependencies) through a .pth file.
    import sysconfig

    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "parent.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps",
                        os.path.join(EXAMPLES, "plugin-hello")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cli = "import sys; from fwc.cli import main; sys.exit(main())"
    r = subprocess.run([py, "-c", cli, "backends", "--json"], capture_output=True, text=True)
    data = json.loads(r.stdout)
    hello = [b for b in data["backends"] if b["name"] == "hello"]
    assert hello and hello[0]["plugin"] == "hello" and hello[0]["version"] == "1.2.0"
    out = tmp_path / "out"
    r = subprocess.run([py, "-c", cli, "compile", EXAMPLE, "-b", "hello", "-O", "hello.unit=GiB", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (out / "hello" / "nodes.txt").read_text() == (
        "node 0 pxm 0: 2 cpus, 1 GiB memory, 0 GiB hotpluggable\n"
        "node 1 pxm 1: 2 cpus, 2 GiB memory, 2 GiB hotpluggable\n")
    # Its check fires on a node with memory and no CPU.
    m = tmp_path / "cpuless.fwc"
    m.write_text('machine "m" { node 0 { cpus 0 memory 0 size 1G } node 1 { memory 1G size 1G } }')
    r = subprocess.run([py, "-c", cli, "check", str(m)], capture_output=True, text=True)
    assert r.returncode == 0 and "warning: node 1 has memory but no CPU [hello-cpuless-node]" in r.stderr


def test_example_plugin_declares_codes_for_every_name(monkeypatch):
    """The example registers each name it reports (the check and the backend's own
    ``hello-unit``) with a code from its block, and nothing about it is a plugin problem."""
    monkeypatch.syspath_prepend(os.path.join(EXAMPLES, "plugin-hello", "src"))
    import fwc_plugins.model
    import fwc_hello

    f = Fwc(entry_points=False, plugins=[fwc_plugins.model, fwc_hello])
    assert not f.host.diagnostics and not f.host.lint
    assert {c.name: c.code for c in f.checks if c.plugin == "fwc_hello"} == {"hello-cpuless-node": 5100,
                                                                            "hello-unit": 5101}
    text = 'machine "m" { node 0 { cpus 0 memory 0 size 1G } node 1 { memory 1G size 1G } }'
    r = f.compile(text=text, backends=["hello"], options={"hello.unit": "TiB"})
    assert [(d.severity, d.check) for d in r.diagnostics] == [("error", "hello-unit"), ("warning", "hello-cpuless-node")]
    f = Fwc(entry_points=False, plugins=[fwc_plugins.model, fwc_hello], warn=["no-hello-cpuless-node"])
    assert f.check(text=text).diagnostics == []


def test_a_backend_reporting_an_unregistered_name_is_told_once():
    class Sloppy:
        @hookimpl
        def fwc_register_backends(self, register):
            def gen(ctx):
                ctx.warning("sloppy-thing", "first")
                ctx.warning("sloppy-thing", "second")
            register("sloppy", gen)

    f = Fwc(plugins=[Sloppy()])
    r = f.compile(text='machine "m" { node 0 { memory 0 size 1G } }', backends=["sloppy"])
    lint = [d for d in r.diagnostics if d.check == "plugin"]
    assert len(lint) == 1 and "'sloppy-thing', which no plugin registered" in lint[0].message
    assert [d.message for d in r.diagnostics if d.check == "sloppy-thing"] == ["first", "second"]
