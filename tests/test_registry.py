"""The checks registry as plugins use it (issue 9): stable codes, prerequisites, diagnostic-only
names, a note level, and a raising plugin check that disables only itself."""

import ast
import os
import sys

import pytest

from conftest import ROOT, machine, run_fwc
from fwc import Fwc
from fwc.checks import CheckRegistry, Levels, run_checks
from fwc.plugin import hookimpl, register_diagnostics

TWO_NODES = machine('node 0 { cpus 0 memory 0 size 1G }\nnode 1 { cpus 1 memory 1G size 1G }')
BAD = machine('node 0 { memory 0 size 2G }\nnode 1 { memory 1G size 2G }')  # memory-overlap


def plugin(fn):
    """A plugin object whose fwc_register_checks is ``fn(register)``."""

    class P:
        @hookimpl
        def fwc_register_checks(self, register):
            fn(register)

    return P()


def fires(name, message="problem"):
    def check(machine, report):
        report(f"{name}: {message}", machine.nodes[0].span)

    return check


def isolated(*plugins, **kw):
    """An Fwc with only fwc's own checks, the model backend and ``plugins``."""
    import fwc_plugins.model

    return Fwc(entry_points=False, plugins=[fwc_plugins.model, *plugins], **kw)


def names(r):
    return [d.check for d in r.diagnostics]


# --- codes -------------------------------------------------------------------------------

def test_code_is_kept_and_listed():
    f = isolated(plugin(lambda reg: reg("p-one", "warning", "d", fires("p-one"), code=7001)))
    assert f.checks.get("p-one").code == 7001
    assert not f.host.lint and not f.host.diagnostics


def test_codes_do_not_depend_on_load_order():
    a = plugin(lambda reg: reg("p-a", "warning", "d", fires("p-a"), code=7001))
    b = plugin(lambda reg: reg("p-b", "warning", "d", fires("p-b"), code=7002))
    one, two = Fwc(plugins=[a]), Fwc(plugins=[b, a])
    assert one.checks.get("p-a").code == two.checks.get("p-a").code == 7001


@pytest.mark.parametrize("code,expect", [
    (None, "declares no code"),
    (1102, "in the range fwc reserves"),
    (4100, "in the range fwc reserves"),
    (12345, "is not a number from 1000 to 9999"),
])
def test_missing_bad_or_taken_code_is_a_plugin_problem_and_the_check_still_runs(code, expect):
    f = isolated(plugin(lambda reg: reg("p-one", "warning", "d", fires("p-one"), code=code)))
    assert f.checks.get("p-one").code is None
    assert any(expect in d.message and d.check == "plugin" for d in f.host.lint), f.host.lint
    r = f.check(text=TWO_NODES)
    assert names(r) == ["p-one"]  # lint problems stay out of results


def test_builtin_plugin_module_passed_directly_keeps_its_codes():
    import fwc_plugins.qemu

    f = Fwc(entry_points=False, plugins=[fwc_plugins.qemu])
    assert f.checks.get("qemu-board").code == 4112 and not f.host.lint


def test_colliding_codes_keep_the_first():
    def both(reg):
        reg("p-a", "warning", "d", fires("p-a"), code=7001)
        reg("p-b", "warning", "d", fires("p-b"), code=7001)

    f = isolated(plugin(both))
    assert f.checks.get("p-a").code == 7001 and f.checks.get("p-b").code is None
    assert any("FWC7001 is already used by check 'p-a'" in d.message for d in f.host.lint)


def test_checks_command_lists_codes_and_reports_lint(tmp_path):
    r = run_fwc("checks")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert any(l.split()[:3] == ["FWC4112", "qemu-board", "note"] for l in lines)
    assert any(l.split()[:3] == ["FWC4500", "output", "error"] for l in lines)


# --- diagnostic-only names and the note level ----------------------------------------------

def test_diagnostic_only_name_switches_like_a_check():
    class P:
        @hookimpl
        def fwc_register_checks(self, register):
            register_diagnostics(register, [("p-said", 7010, "warning", "the backend said so")])

        @hookimpl
        def fwc_register_backends(self, register):
            register("p", lambda ctx: ctx.warning("p-said", "hello"))

    r = Fwc(plugins=[P()]).compile(text=TWO_NODES, backends=["p"])
    assert [(d.severity, d.check) for d in r.diagnostics] == [("warning", "p-said")]
    assert Fwc(plugins=[P()], warn=["no-p-said"]).compile(text=TWO_NODES, backends=["p"]).diagnostics == []
    r = Fwc(plugins=[P()], error=["p-said"]).compile(text=TWO_NODES, backends=["p"])
    assert not r.ok and r.diagnostics[0].severity == "error"


def test_unswitched_names_keep_the_emitters_severity():
    # A backend may report one name at several severities; without a switch naming it, they stay.
    class P:
        @hookimpl
        def fwc_register_checks(self, register):
            register("p-said", "warning", "d", code=7010)

        @hookimpl
        def fwc_register_backends(self, register):
            def gen(ctx):
                from fwc.diagnostics import NOTE, Diagnostic

                ctx.diagnostics.append(Diagnostic(NOTE, "p-said", "just so you know"))
            register("p", gen)

    r = Fwc(plugins=[P()]).compile(text=TWO_NODES, backends=["p"])
    assert [d.severity for d in r.diagnostics] == ["note"]
    r = Fwc(plugins=[P()], warn=["p-said"]).compile(text=TWO_NODES, backends=["p"])
    assert [d.severity for d in r.diagnostics] == ["warning"]


def test_qemu_board_note_can_be_silenced():
    text = machine("node 0 { cpus 0 memory 0 size 1G }")
    assert names(Fwc().compile(text=text, backends=["qemu"])) == ["qemu-board"]
    assert Fwc(warn=["no-qemu-board"]).compile(text=text, backends=["qemu"]).diagnostics == []
    r = run_fwc("check", "-W", "no-qemu-board", os.path.join(ROOT, "examples", "two-node-hotplug.fwc"))
    assert r.returncode == 0, r.stderr


def test_no_prefixed_check_names():
    reg = CheckRegistry()
    reg("no-nodes", "warning", "d", code=1001)
    reg("nodes", "warning", "d", code=1002)
    assert Levels(reg, warn=["no-no-nodes"]).level == {"no-nodes": "off", "nodes": "warning"}
    assert Levels(reg, warn=["no-nodes"]).level == {"no-nodes": "warning", "nodes": "off"}
    reg2 = CheckRegistry()
    reg2("no-nodes", "off", "d", code=1001)
    assert Levels(reg2, warn=["no-nodes"]).level == {"no-nodes": "warning"}


# --- prerequisites -------------------------------------------------------------------------

def test_prerequisite_error_skips_the_dependent_with_a_note():
    reg = CheckRegistry()
    reg("base", "error", "d", fires("base"), code=1001)
    reg("dep", "warning", "d", fires("dep"), code=1002, requires=["base"])
    reg("other", "warning", "d", fires("other"), code=1003)
    m = Fwc().load(text=TWO_NODES).machine
    out = run_checks(m, reg, Levels(reg))
    assert [(d.severity, d.check) for d in out] == [("error", "base"), ("note", "dep"), ("warning", "other")]
    assert "check 'dep' skipped: its prerequisite 'base' failed" in out[1].message


def test_plugin_prerequisite_failing_under_werror():
    # A plugin check's implicit prerequisite is "no error so far"; an explicit one can fail
    # through --Werror while the run goes on.
    def reg(register):
        register("p-base", "warning", "d", fires("p-base"), code=7001)
        register("p-dep", "warning", "d", fires("p-dep"), code=7002, requires=["p-base"])

    r = isolated(plugin(reg), werror=True).check(text=TWO_NODES)
    assert sorted((d.severity, d.check) for d in r.diagnostics) == [("error", "p-base"), ("note", "p-dep")]
    assert names(isolated(plugin(reg)).check(text=TWO_NODES)) == ["p-base", "p-dep"]


def test_passing_prerequisite_lets_the_dependent_run_whatever_the_order():
    def reg(register):
        register("p-dep", "warning", "d", fires("p-dep"), code=7002, requires=("p-base",))
        register("p-base", "warning", "d", lambda m, report: None, code=7001)

    f = isolated(plugin(reg))
    assert [c.name for c in f.checks.ordered() if c.name.startswith("p-")] == ["p-base", "p-dep"]
    assert names(f.check(text=TWO_NODES)) == ["p-dep"]


def test_disabled_prerequisite_disables_the_dependent_and_enabling_enables_it():
    def reg(register):
        register("p-base", "off", "d", lambda m, report: None, code=7001)
        register("p-dep", "off", "d", fires("p-dep"), code=7002, requires=["p-base"])

    assert names(isolated(plugin(reg)).check(text=TWO_NODES)) == []
    f = isolated(plugin(reg), warn=["p-dep"])  # enabling a check enables its prerequisites (dtc)
    assert f.levels.level["p-base"] == "warning"
    assert names(f.check(text=TWO_NODES)) == ["p-dep"]
    f = isolated(plugin(reg), warn=["p-dep", "no-p-base"])
    assert names(f.check(text=TWO_NODES)) == []


def test_prerequisite_on_a_builtin_check():
    reg = lambda register: register("p-dep", "warning", "d", fires("p-dep"), code=7002,  # noqa: E731
                                    requires=["memory-overlap"])
    f = isolated(plugin(reg))
    assert names(f.check(text=TWO_NODES)) == ["p-dep"]
    assert "p-dep" not in names(f.check(text=BAD))


def test_unknown_or_cyclic_prerequisites_are_plugin_problems():
    def reg(register):
        register("p-unknown", "warning", "d", fires("p-unknown"), code=7001, requires=["nope"])
        register("p-a", "warning", "d", fires("p-a"), code=7002, requires=["p-b"])
        register("p-b", "warning", "d", fires("p-b"), code=7003, requires=["p-a"])
        register("p-fine", "warning", "d", fires("p-fine"), code=7004)

    f = isolated(plugin(reg))
    msgs = "\n".join(d.message for d in f.host.diagnostics)
    assert "check 'p-unknown' requires unknown check(s) 'nope'; it never runs" in msgs
    assert "check 'p-a'" in msgs and "check 'p-b'" in msgs and "cycle" in msgs
    assert [n for n in names(f.check(text=TWO_NODES)) if n != "plugin"] == ["p-fine"]


# --- a raising plugin check ------------------------------------------------------------------

def _crashing(register):
    def boom(machine, report):
        report("half a result", machine.nodes[0].span)
        raise ZeroDivisionError("deliberate")

    register("p-crash", "warning", "raises", boom, code=7001)
    register("p-fine", "warning", "works", fires("p-fine"), code=7002)
    register("p-after", "warning", "needs p-crash", fires("p-after"), code=7003, requires=["p-crash"])


def test_raising_plugin_check_disables_only_itself():
    f = isolated(plugin(_crashing))
    r = f.compile(text=TWO_NODES, backends=["model"])
    assert r.ok and r.artifact("machine.json")  # the backends keep working
    got = [(d.severity, d.check) for d in r.diagnostics]
    assert ("warning", "plugin") in got and ("warning", "p-fine") in got
    assert "p-crash" not in names(r)  # its half result is dropped
    assert ("note", "p-after") in got  # its dependents are skipped
    msg = next(d for d in r.diagnostics if d.check == "plugin")
    assert "check 'p-crash' raised ZeroDivisionError: deliberate; the check is disabled" in msg.message
    assert not any("Traceback" in n for n in msg.notes)
    # The next run on the same instance runs it again (results never depend on history).
    assert names(f.check(text=TWO_NODES)).count("plugin") == 1


def test_raising_plugin_check_traceback_under_debug():
    r = isolated(plugin(_crashing), debug=True).check(text=TWO_NODES)
    msg = next(d for d in r.diagnostics if d.check == "plugin")
    assert any("Traceback" in n and "ZeroDivisionError: deliberate" in n and "in boom" in n for n in msg.notes)


def test_raising_plugin_check_from_the_command_line(tmp_path):
    (tmp_path / "fwcp_crash.py").write_text(
        "from fwc.plugin import hookimpl\n"
        "@hookimpl\n"
        "def fwc_register_checks(register):\n"
        "    def boom(machine, report):\n"
        "        raise KeyError('deliberate')\n"
        "    register('crash-check', 'warning', 'raises on purpose', boom, code=7001)\n")
    info = tmp_path / "crash-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crash\nVersion: 0.1\n\n")
    (info / "entry_points.txt").write_text("[fwc.backends]\ncrash = fwcp_crash\n")
    env = {"PYTHONPATH": str(tmp_path)}
    example = os.path.join(ROOT, "examples", "two-node-hotplug.fwc")
    out = tmp_path / "out"
    r = run_fwc("compile", example, "-b", "model", "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert "warning: plugin 'crash': check 'crash-check' raised KeyError: 'deliberate'" in r.stderr
    assert "Traceback" not in r.stderr and (out / "machine.json").exists()
    r = run_fwc("compile", example, "-b", "model", "-o", str(out), "--debug", env=env)
    assert r.returncode == 0 and "Traceback" in r.stderr and "in boom" in r.stderr, r.stderr
    r = run_fwc("check", "-W", "no-crash-check", example, env=env)
    assert r.returncode == 0 and "crash" not in r.stderr


def test_raising_hook_and_backend_tracebacks_under_debug():
    class P:
        @hookimpl
        def fwc_register_checks(self, register):
            raise ValueError("hook fails")

        @hookimpl
        def fwc_register_backends(self, register):
            def gen(ctx):
                raise OSError("backend fails")
            register("p", gen)

    for debug in (False, True):
        f = isolated(P(), debug=debug)
        hook = next(d for d in f.host.diagnostics if "fwc_register_checks raised ValueError: hook fails" in d.message)
        r = f.compile(text=TWO_NODES, backends=["p"])
        backend = next(d for d in r.diagnostics if d.check == "backend")
        assert "backend 'p'" in backend.message and "OSError: backend fails" in backend.message
        for d in (hook, backend):
            assert any("Traceback" in n for n in d.notes) == debug


def test_raising_builtin_check_is_an_internal_error(monkeypatch):
    import fwc.checks as C

    reg = CheckRegistry()

    def broken(machine, report):
        raise RuntimeError("bug")

    reg("no-nodes", "error", "d", broken, code=1101)
    m = Fwc().load(text=TWO_NODES).machine
    out = run_checks(m, reg, Levels(reg))
    assert [(d.severity, d.check) for d in out] == [("error", "internal-error")]  # a bug: the command exits 3
    assert "check 'no-nodes' raised RuntimeError: bug" in out[0].message
    assert C.OFF == "off"


# --- no import cycle --------------------------------------------------------------------------

def _walk_runtime(node):
    """ast.walk, without ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
            continue
        yield child
        yield from _walk_runtime(child)


def _imports(path):
    """Modules imported by ``path``, at import time or lazily inside functions."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in _walk_runtime(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            yield node.module or ""
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fwc."):
            yield node.module[4:]


def test_fwc_modules_import_without_a_cycle():
    """fwc's own modules form a DAG (the CLI on top); the host does not import the CLI."""
    base = os.path.join(ROOT, "fwc")
    graph = {m[:-3]: set() for m in os.listdir(base) if m.endswith(".py") and m != "__init__.py"}
    for m in graph:
        graph[m] = {i.split(".")[0] for i in _imports(os.path.join(base, m + ".py"))} & set(graph)
    assert "cli" not in graph["host"]
    state = {}

    def visit(m, path):
        if state.get(m) == 1:
            raise AssertionError("import cycle: " + " -> ".join(path + [m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for n in sorted(graph[m]):
            visit(n, path + [m])
        state[m] = 2

    for m in sorted(graph):
        visit(m, [])


def test_builtin_command_names_match_the_cli():
    from fwc.cli import COMMANDS
    from fwc.commands import BUILTIN_COMMANDS

    assert set(COMMANDS) == BUILTIN_COMMANDS


PLUGIN_PACKAGES = sorted(d for d in os.listdir(os.path.join(ROOT, "plugins"))
                         if os.path.isfile(os.path.join(ROOT, "plugins", d, "__init__.py")))


def _cross_plugin_imports(package):
    """(file, line, other package, submodule path, names) for each import of another plugin."""
    base = os.path.join(ROOT, "plugins", package)
    for dirpath, _, files in os.walk(base):
        for fname in sorted(files):
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            depth = len(os.path.relpath(path, os.path.join(ROOT, "plugins")).split(os.sep)) - 1
            for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
                if not isinstance(node, ast.ImportFrom):
                    continue
                if node.level:
                    if node.level <= depth:
                        continue  # inside this plugin
                    parts = (node.module or "").split(".")  # from fwc_plugins (level depth + 1)
                elif (node.module or "").startswith("fwc_plugins."):
                    parts = node.module.split(".")[1:]
                else:
                    continue
                if parts and parts[0] and parts[0] != package:
                    yield (os.path.relpath(path, ROOT), node.lineno, parts[0], parts[1:],
                           [a.name for a in node.names])


@pytest.mark.parametrize("package", PLUGIN_PACKAGES)
def test_plugins_use_only_each_others_declared_api(package):
    """Backends cooperate through hooks, ctx.run or another plugin's __all__ (issue 9).

    (When issue 9's parallel work began, the boot plugin imported acpi's ``tables`` module and
    bootrun's predict.py boot's ``report`` module without either being declared public.)"""
    import importlib

    problems = []
    for path, line, other, sub, names in _cross_plugin_imports(package):
        # Public: a name in the plugin package's __all__, or a submodule listed there (then
        # the names in that submodule's __all__, when it has one).
        public = set(getattr(importlib.import_module(f"fwc_plugins.{other}"), "__all__", ()))
        where = f"fwc_plugins.{other}"
        if sub:
            if sub[0] not in public:
                problems.append(f"{path}:{line}: imports {where}.{'.'.join(sub)}, a module not in {where}.__all__")
                continue
            where = f"{where}.{'.'.join(sub)}"
            module = importlib.import_module(where)
            public = set(getattr(module, "__all__", None) or dir(module))
        for n in names:
            if n not in public:
                problems.append(f"{path}:{line}: {n} is not in {where}.__all__")
    assert not problems, "\n".join(problems)


def test_bootrun_uses_qemus_public_api():
    import fwc_plugins.qemu as q

    assert {"cached_plan", "Plan"} <= set(q.__all__)
    import glob

    srcs = [open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(ROOT, "plugins", "bootrun", "*.py"))]
    assert not any("qemu.plan" in s for s in srcs)
    assert any("from fwc_plugins.qemu import cached_plan" in s or "from ..qemu import cached_plan" in s for s in srcs)
    assert sys.modules.get("fwc_plugins.qemu") is q
