"""Every diagnostic name fwc or a built-in plugin reports is registered (issue 9), so that
``fwc checks`` documents it and ``-W no-NAME`` / ``-E NAME`` can name it; every registered
check has a stable code in its owner's block.

Two nets: the sources are scanned for names given literally to ``ctx.error``/``ctx.warning``,
``Diagnostic(...)`` and ``Problem(...)``; and every example, the fuzz seeds and the bad
halves of the check test cases are compiled with every backend (every check that is off by
default switched on), and each name that comes out must be registered.
"""

import ast
import glob
import os
import re

import pytest

from conftest import EXAMPLES, ROOT, machine
from fwc import Fwc
from fwc.checks import OFF, Levels

KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$|^[a-z]+$")
# The argument holding the check name, by callee name.
NAME_ARG = {"error": 0, "warning": 0, "Problem": 0, "Diagnostic": 1}
SOURCES = sorted(glob.glob(os.path.join(ROOT, "fwc", "**", "*.py"), recursive=True)
                 + glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True))

#: Code blocks: fwc's front end and model checks, then one block of 100 per built-in plugin.
BLOCKS = {"fwc": [(1000, 1999), (4500, 4549)], "qemu": [(4100, 4199)], "initrd": [(4200, 4299)],
          "acpi": [(4300, 4399)], "boot": [(4400, 4499)], "bootrun": [(4550, 4599)]}
BUILTIN_PLUGINS = {"fwc", "model", "acpi", "boot", "qemu", "svg", "initrd", "bootrun"}


@pytest.fixture(scope="module")
def registry():
    return Fwc().checks


def literal_names(path):
    """(name, line) for every check name given as a string literal in ``path``."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        callee = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        i = NAME_ARG.get(callee)
        if i is None or len(node.args) <= i:
            continue
        a = node.args[i]
        if isinstance(a, ast.Constant) and isinstance(a.value, str) and KEBAB.match(a.value):
            yield a.value, node.lineno


def test_every_literal_name_in_the_sources_is_registered(registry):
    missing = [f"{os.path.relpath(p, ROOT)}:{line}: {name}" for p in SOURCES
               for name, line in literal_names(p) if name not in registry]
    assert not missing, "unregistered diagnostic names:\n" + "\n".join(missing)


def _inputs():
    import test_checks
    import test_fuzz
    import test_qemu_backend

    out = [(os.path.relpath(p, ROOT), open(p, encoding="utf-8").read(), p)
           for p in sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.fwc"), recursive=True))]
    out += [(f"fuzz-seed-{i}", text, None) for i, text in enumerate(test_fuzz.SEEDS)]
    out += [(f"check-case-{name}", machine(case[0]), None) for name, case in sorted(test_checks.CASES.items())]
    out += [(f"qemu-case-{name}", machine(case[0]), None)
            for name, case in sorted(test_qemu_backend.CHECK_CASES.items())]
    out += [("arm64", machine("arch arm64\nnode 0 { cpus 0 memory 0 size 1G }"), None),
            ("generic-overrides", machine("node 0 { cpus 0 memory 0 size 1G }\nnode 1 { cpus 1 memory 1G size 1G "
                                          "hotpluggable }\ninitrd at 512M size 8M { override srat }"), None)]
    return out


def test_every_emitted_name_is_registered(registry):
    off = [c.name for c in registry if c.level == OFF]
    f = Fwc(warn=off)
    emitted: dict[str, str] = {}
    for label, text, path in _inputs():
        r = f.compile(path, name=label) if path else f.compile(text=text, name=f"{label}.fwc")
        for d in r.diagnostics:
            emitted.setdefault(d.check, label)
    assert emitted, "no diagnostic at all: the inputs exercise nothing"
    missing = sorted(f"{name} (first from {label})" for name, label in emitted.items() if name not in registry)
    assert not missing, "unregistered diagnostic names:\n" + "\n".join(missing)


def test_every_registered_name_can_be_switched(registry):
    for c in registry:
        if c.level == "error":
            Levels(registry, error=[c.name])  # accepted; an error cannot be disabled
            with pytest.raises(ValueError, match="cannot be disabled"):
                Levels(registry, warn=[f"no-{c.name}"])
        else:
            lv = Levels(registry, warn=[f"no-{c.name}"])
            assert lv.level[c.name] == OFF


def test_builtin_checks_have_codes_in_their_owners_block(registry):
    problems = []
    for c in registry:
        if c.plugin not in BUILTIN_PLUGINS:
            continue
        if c.code is None:
            problems.append(f"{c.name} ({c.plugin}): no code")
        elif not any(lo <= c.code <= hi for lo, hi in BLOCKS.get(c.plugin, [])):
            problems.append(f"{c.name} ({c.plugin}): FWC{c.code:04d} outside {BLOCKS.get(c.plugin)}")
    assert not problems, "\n".join(problems)


def test_builtin_plugins_register_cleanly():
    f = Fwc()
    assert [d.message for d in f.host.diagnostics + f.host.lint] == []
