"""The fwc command end to end, as a subprocess."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLES, machine, run_fwc

EXAMPLE = os.path.join(EXAMPLES, "two-node-hotplug.fwc")


def write(tmp_path, body, name="m.fwc"):
    p = tmp_path / name
    p.write_text(machine(body))
    return str(p)


def test_version():
    from fwc import __version__

    r = run_fwc("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"fwc {__version__}"


def test_installed_console_script():
    # tests/run-all.sh runs .venv/bin/pytest without activating the venv: the script is found
    # beside the interpreter running the tests (pip puts both in the same bin/ directory).
    beside = os.path.join(os.path.dirname(sys.executable), "fwc")
    exe = beside if os.access(beside, os.X_OK) else shutil.which("fwc")
    if exe is None:
        pytest.fail(f"no fwc console script beside {sys.executable} or on PATH: fwc is not installed")
    r = subprocess.run([exe, "check", EXAMPLE], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""


def test_check_clean_example_is_silent():
    r = run_fwc("check", EXAMPLE)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_check_invalid_input_exit_1_with_positioned_errors(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size 2G }\nnode 1 { memory 1G size 2G }\nkernel at 16M size X')
    r = run_fwc("check", path)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == f"{path}:4:20: error: undefined name 'X' [undefined-name]"
    assert lines[1] == " 4 | kernel at 16M size X"
    assert lines[2] == "   |                    ^"
    assert lines[-1] == "1 error, 0 warnings"


def test_check_reports_many_errors(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size 2G }\nnode 1 { memory 1G size 2G }\nnode 1 { memory 8G size 1G }')
    r = run_fwc("check", path)
    assert r.returncode == 1
    heads = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert [h.rsplit("[", 1)[1] for h in heads] == ["memory-overlap]", "duplicate-node]"]
    assert f"{path}:3:10: error: memory [0x40000000-0xbfffffff] overlaps node 0's range" in heads[0]
    assert r.stderr.splitlines()[-1] == "2 errors, 0 warnings"


def test_warnings_exit_0_and_werror_exit_1(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size 2G }\nkernel at 17M size 8M')
    r = run_fwc("check", path)
    assert r.returncode == 0 and "warning: kernel load address 0x1100000 is not aligned" in r.stderr
    assert run_fwc("check", "--Werror", path).returncode == 1
    assert run_fwc("check", "-E", "kernel-alignment", path).returncode == 1
    r = run_fwc("check", "-W", "no-kernel-alignment", path)
    assert (r.returncode, r.stderr) == (0, "")


def test_usage_errors_exit_2(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size 2G }')
    for args in (("frobnicate",), ("check",), ("check", "-W", "no-such-thing", path),
                 ("check", "-W", "no-memory-overlap", path), ("compile", path, "-O", "nonsense")):
        r = run_fwc(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "fwc: error:" in r.stderr or "usage:" in r.stderr
    assert run_fwc().returncode == 2


def test_json_diagnostics(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size 2G }\nkernel at 17M size 8M\ndistance 0 0 = 11')
    r = run_fwc("check", "--json", path)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["ok"] is False
    got = [(d["severity"], d["check"], d["span"]["line"], d["span"]["column"]) for d in data["diagnostics"]]
    assert got == [("warning", "kernel-alignment", 3, 1), ("error", "slit-diagonal", 4, 1)]


def test_compile_writes_outputs_and_manifest(tmp_path):
    out = tmp_path / "out"
    r = run_fwc("compile", EXAMPLE, "-b", "model", "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["ok"] and [o["path"] for o in data["outputs"]] == [str(out / "machine.json")]
    model = json.loads((out / "machine.json").read_text())
    assert model["name"] == "two-node-hotplug" and model["board"] == "qemu-q35"
    assert [n["id"] for n in model["nodes"]] == [0, 1]
    assert model["nodes"][1]["memory"][0]["hotpluggable"] is True
    assert [f for f in os.listdir(out) if f.startswith(".fwc-tmp")] == []


def test_compile_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_fwc("compile", EXAMPLE, "-o", str(a)).returncode == 0
    assert run_fwc("compile", EXAMPLE, "-o", str(b)).returncode == 0
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) and len(files) > 3
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_failed_compile_writes_nothing(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size 2G }\nnode 1 { memory 1G size 2G }')
    out = tmp_path / "out"
    r = run_fwc("compile", path, "-o", str(out))
    assert r.returncode == 1
    assert not out.exists() or os.listdir(out) == []


def test_compile_unknown_backend(tmp_path):
    r = run_fwc("compile", EXAMPLE, "-b", "nope", "-o", str(tmp_path))
    assert r.returncode == 2 and "unknown backend 'nope'" in r.stderr
    r = run_fwc("compile", EXAMPLE, "-O", "model.nope=1", "-o", str(tmp_path))
    assert r.returncode == 2 and "unknown backend option 'model.nope'" in r.stderr


def test_compile_backend_option(tmp_path):
    r = run_fwc("compile", EXAMPLE, "-b", "model", "-O", "model.spans=yes", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    model = json.loads((tmp_path / "machine.json").read_text())
    assert model["nodes"][0]["span"].endswith("two-node-hotplug.fwc:7:5")
    r = run_fwc("compile", EXAMPLE, "-b", "model", "-O", "model.spans=maybe", "-o", str(tmp_path))
    assert r.returncode == 1 and "expected a boolean" in r.stderr


def test_backends_listing():
    r = run_fwc("backends")
    assert r.returncode == 0
    line = next(l for l in r.stdout.splitlines() if l.startswith("model"))
    from fwc import __version__

    assert line.split("\t") == ["model", "model", __version__, "machine.json", "the resolved machine model as JSON"]
    data = json.loads(run_fwc("backends", "--json").stdout)
    assert any(b["name"] == "model" and b["outputs"] == ["machine.json"] for b in data["backends"])


def test_checks_listing():
    r = run_fwc("checks")
    assert r.returncode == 0
    assert any(l.split()[:3] == ["FWC1102", "memory-overlap", "error"] for l in r.stdout.splitlines())


def test_internal_error_is_one_line_and_debug_shows_traceback(tmp_path, monkeypatch):
    # A fault inside fwc itself (simulated by breaking a module function in-process).
    code = ("import sys, fwc.checks\n"
            "def boom(*a, **k): raise RuntimeError('simulated fault')\n"
            "fwc.checks.run_checks = boom\n"
            "from fwc.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    for debug in (False, True):
        args = [sys.executable, "-c", code, "check", EXAMPLE] + (["--debug"] if debug else [])
        r = subprocess.run(args, capture_output=True, text=True)
        assert r.returncode == 3
        assert "fwc: internal error: RuntimeError: simulated fault" in r.stderr
        assert ("Traceback" in r.stderr) == debug
        if not debug:
            assert r.stderr.count("\n") == 2 and "--debug" in r.stderr


def test_colour_only_when_asked(tmp_path):
    path = write(tmp_path, 'node 0 { memory 0 size X }')
    assert "\x1b[" not in run_fwc("check", path).stderr
    assert "\x1b[" in run_fwc("check", "--color", "always", path).stderr


def test_batch_compile_of_a_directory_with_depfile_and_manifest(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "common.fwc").write_text("let NODE_MEM = 1G\n")
    (src / "a.fwc").write_text('include "common.fwc"\nmachine "a" { node 0 { cpus 0 memory 0 size NODE_MEM } }\n')
    (src / "sub" / "b.fwc").write_text(machine('node 0 { cpus 0 memory 0 size 2G }'))
    out, dep = tmp_path / "out", tmp_path / "deps.d"
    r = run_fwc("compile", str(src / "a.fwc"), str(src / "sub"), "-b", "model", "-o", str(out),
                "--depfile", str(dep), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert sorted(o["path"] for o in data["outputs"]) == [str(out / "a" / "machine.json"), str(out / "b" / "machine.json")]
    # make itself reads the depfile: each output depends on its description and its includes.
    mk = subprocess.run(["make", "-p", "-n", "-f", str(dep), "-f", "/dev/null"], capture_output=True, text=True)
    rules = {l.split(":", 1)[0]: l.split(":", 1)[1].split() for l in mk.stdout.splitlines()
             if l.startswith(str(out)) and ":" in l}
    assert sorted(rules[str(out / "a" / "machine.json")]) == sorted([str(src / "a.fwc"), str(src / "common.fwc")])
    assert rules[str(out / "b" / "machine.json")] == [str(src / "sub" / "b.fwc")]


def test_batch_compile_is_all_or_nothing(tmp_path):
    (tmp_path / "good.fwc").write_text(machine('node 0 { cpus 0 memory 0 size 1G }'))
    (tmp_path / "bad.fwc").write_text(machine('node 0 { cpus 0 memory 0 size X }'))
    out = tmp_path / "out"
    r = run_fwc("compile", str(tmp_path), "-b", "model", "-o", str(out))
    assert r.returncode == 1 and "undefined name 'X'" in r.stderr
    assert not out.exists() or not any(out.rglob("*.json"))


def test_show_is_plain_when_piped_and_fits_80_columns():
    r = run_fwc("show", os.path.join(EXAMPLES, "qemu", "c_q35_3node_slit.fwc"), "--no-boot", env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "\x1b[" not in r.stdout
    assert max(map(len, lines)) <= 80
    assert lines[0].startswith("machine c_q35_3node_slit  x86_64, board qemu-q35")
    assert any(l.split()[:4] == ["2", "2", "4-5", "0x140000000-0x1ffffffff"] for l in lines)
    assert any(l.split() == ["1", "21", "10", "17"] for l in lines)


# The one-command parser (fwc.cli._parser(only=...)): what it accepts it parses exactly as the
# whole parser does, and everything else (help, --version, errors) falls back to the whole one.
PARSER_LINES = [
    ["check", "m.fwc"], ["check", "m.fwc", "--json", "-W", "no-x", "-E", "y", "--Werror", "-I", "d", "-I", "e"],
    ["check", "--color=never", "m.fwc", "--debug", "--read-anywhere"], ["check", "--col", "always", "m.fwc"],
    ["check", "--", "-odd.fwc"], ["compile", "a.fwc", "b", "-b", "acpi", "-O", "boot.policy=seed", "-o", "out",
                                  "--depfile", "d.d", "--allow-large-output"],
    ["decompile", "SRAT.dat", "--from", "acpi", "--name", "n", "-o", "x"], ["show", "m.fwc", "--no-boot"],
    ["backends", "--json"], ["checks"], ["checks", "--debug"],
    # not valid: the whole parser answers
    ["check"], ["check", "a", "b"], ["check", "m.fwc", "--color", "blue"], ["check", "m.fwc", "--bogus"],
    ["check", "-h"], ["check", "m.fwc", "--help"], ["--version", "check", "m.fwc"], ["-h", "check"],
    ["--debug", "check", "m.fwc"], ["check", "m.fwc", "-W"], ["compile"], ["show", "m.fwc", "--json=1"],
]


@pytest.mark.parametrize("argv", PARSER_LINES, ids=" ".join)
def test_one_command_parser_parses_as_the_whole_parser(argv, capsys):
    from fwc.cli import _Fallback, _parser

    first = next(a for a in argv if not a.startswith("-"))
    try:
        fast = _parser(only=first).parse_args(argv)
    except _Fallback:
        fast = None
    assert capsys.readouterr() == ("", "")  # it prints nothing, ever
    try:
        whole = _parser().parse_args(argv)
    except BaseException:  # noqa: BLE001 - SystemExit (help, version) or fwc's UsageError
        whole = None
    capsys.readouterr()
    assert fast == whole


@pytest.mark.parametrize("argv", [["check", EXAMPLE, "--json"], ["check", "missing.fwc"], ["backends"], ["--help"],
                                  ["chek", EXAMPLE], ["compile", EXAMPLE, "-b", "qemu", "-o", "{out}", "--json"]])
def test_program_is_main(argv, tmp_path):
    # The program (console script, python -m fwc.cli) runs main() with the collector paused at
    # start and frozen at exit: same output, same status.
    argv = [a.replace("{out}", str(tmp_path / "o")) for a in argv]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FWC_PLUGINS", None)
    prog = subprocess.run([sys.executable, "-m", "fwc.cli", *argv], capture_output=True, text=True, env=env)
    if "compile" in argv:
        written = sorted(p.read_bytes() for p in (tmp_path / "o").rglob("*") if p.is_file())
        assert written
        shutil.rmtree(tmp_path / "o")
    lib = run_fwc(*argv)
    assert (prog.returncode, prog.stdout, prog.stderr) == (lib.returncode, lib.stdout, lib.stderr)
    if "compile" in argv:
        assert sorted(p.read_bytes() for p in (tmp_path / "o").rglob("*") if p.is_file()) == written
