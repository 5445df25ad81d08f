"""Every command shown in README.md and docs/*.md runs, from the repository root, and the
output shown right after it (a plain ``` block, "…" standing for anything) is what it prints.

``fwc boot`` and ``fwc kernel`` commands need the real kernel (marked ``boot``): they run
with the oracle's Debian kernel in place of a path shown, and with the oracle's kernel cache
(the one ``fwc kernel`` fills) when no ``--kernel`` is shown.  ``fwc decompile /sys/firmware/acpi/tables``
reads this machine's tables when it has them, else tables read from a real QEMU guest.
"""

import glob
import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

DOCS = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
SYSFS = "/sys/firmware/acpi/tables"


def blocks(path):
    """(command lines, expected output lines or None, line number) per ```sh block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start, j = i + 1, i + 1
            while lines[j].strip() != "```":
                j += 1
            cmds = [l.split("  #")[0].strip() for l in lines[start:j] if l.strip().startswith(("fwc ", ".venv/bin/fwc "))]
            k = j + 1
            while k < len(lines) and not lines[k].strip():
                k += 1
            expect = None
            if k < len(lines) and lines[k].strip() == "```":
                e = k + 1
                while lines[e].strip() != "```":
                    e += 1
                expect = [l for l in lines[k + 1:e] if l.strip()]
            if cmds:
                out.append((cmds, expect, start))
            i = j + 1
        else:
            i += 1
    return out


CASES = [pytest.param(os.path.relpath(p, ROOT), line, cmds, expect, id=f"{os.path.relpath(p, ROOT)}:{line}",
                      marks=[pytest.mark.boot] if any(c.split()[1:2] in (["boot"], ["kernel"]) for c in cmds)
                      else [])
         for p in DOCS for cmds, expect, line in blocks(p)]


def _matches(pattern: str, text: str) -> bool:
    rx = ".*?".join(re.escape(part.strip()) for part in pattern.split("…"))
    return re.search(rx, text) is not None


@pytest.mark.parametrize("doc,line,cmds,expect", CASES)
def test_documented_commands(doc, line, cmds, expect, tmp_path):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    output = ""
    for cmd in cmds:
        argv = shlex.split(cmd)
        if argv[0].endswith("fwc"):
            argv = [sys.executable, "-c", "import sys; from fwc.cli import main; sys.exit(main())"] + argv[1:]
        if argv[3:4] in (["boot"], ["kernel"]):
            from oracles.qemu import OracleUnavailable, ensure_tools

            try:
                shown = argv[argv.index("--kernel") + 1] if "--kernel" in argv else ""
                tools = ensure_tools("6.12" if "6.12" in shown or argv[4:5] == ["6.12"] else "6.1")
            except OracleUnavailable as e:
                if os.environ.get("CI") == "true":
                    pytest.fail(f"QEMU oracle unavailable: {e}")
                pytest.skip(f"QEMU oracle unavailable: {e}")
            env["FWC_CACHE"] = str(tools.cache)
            if "--kernel" in argv:
                argv[argv.index("--kernel") + 1] = str(tools.kernel)
        if SYSFS in argv and not os.path.exists(os.path.join(SYSFS, "SRAT")):
            argv[argv.index(SYSFS)] = os.path.join(ROOT, "tests", "golden", "qemu", "a_q35_2node")
        # Outputs go to a scratch directory, inputs are read from the repository.
        argv = [os.path.join(tmp_path, a) if a in ("out", "out.d") else a for a in argv]
        r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, f"{doc}:{line}: `{cmd}` exited {r.returncode}\n{r.stdout}\n{r.stderr}"
        output += r.stdout + r.stderr
    for pattern in expect or []:
        assert _matches(pattern, output), f"{doc}:{line}: output lacks {pattern!r}\n{output}"


def test_every_backend_has_its_page():
    """Each installed built-in backend has docs/backends/NAME.md naming all its outputs and options."""
    from fwc import Fwc

    for name, b in Fwc().backends.items():
        if b.plugin not in ("model", "acpi", "qemu", "initrd", "boot", "svg"):
            continue
        page = open(os.path.join(ROOT, "docs", "backends", f"{name}.md"), encoding="utf-8").read()
        for o in b.outputs:
            assert f"`{o}`" in page, (name, o)
        for k in b.options:
            assert f"`{name}.{k}`" in page, (name, k)


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_linked_document_is_in_the_repository():
    """A page links (or points) only at files of this repository: a reader of a checkout or of
    the published docs can open every one."""
    for path in DOCS:
        text = open(path, encoding="utf-8").read()
        assert "shared/spec" not in text and "../shared" not in text, path
        # the project's design notes outside the repository, cited by name
        assert not re.search(r"\b(kernel-boot|kernel-boot-cases|acpi-tables|oracles|conventions)\.md\b", text), path
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            dest = os.path.normpath(os.path.join(os.path.dirname(path), target.split("#")[0]))
            assert dest.startswith(ROOT + os.sep) and os.path.exists(dest), f"{path}: {target}"
