"""Control characters from the input never reach a person's terminal raw (issue 14): a
description whose machine name, OEM IDs, command line, include path and comments hold ESC,
BEL, CSI, C1 (0x9b) and DEL, and rich markup (``[bold]``), goes through every command; every
human-readable output (stdout, stderr, the text files of compile's output directory, ``fwc
show`` piped and on a terminal, usage errors, ``fwc boot``'s messages, plugins' names and
messages) shows them as ``\\x1b`` (fwc.diagnostics.visible), and rich markup in a name is
shown as written.  Machine-readable outputs keep their own encodings (JSON escapes, fwc
source strings, binary tables)."""

import io
import json
import os
import re

import pytest

from conftest import run_fwc
from fwc import Fwc

ESC_NAME = "m\\x1b]0;pwned\\x07[bold]x[/bold]\\x9b31m\\x7f"   # as written in fwc source
SHOWN_NAME = "m\\x1b]0;pwned\\x07[bold]x[/bold]\\x9b31m\\x7f"  # as every text output shows it
INCLUDE = "inc\x1b[31m\x07\x9b\x7f[b].fwc"                   # a real file name
RAW_COMMENT = "# raw \x1b]0;title\x07 \x9b31m \x7f [bold]not markup[/bold]\n"
TEXT = (RAW_COMMENT +
        'include "inc\\x1b[31m\\x07\\x9b\\x7f[b].fwc"\n'
        f'machine "{ESC_NAME}" {{\n'
        '    board qemu-q35\n'
        '    oem id "\\x1b[2J\\x07" table "T\\x9b1m\\x7f[b]" revision 2 creator "\\x1b[m" 1\n'
        '    node 0 { cpus 0-1  memory 0 size 640K  memory 1M size 2047M }\n'
        '    node 1 { cpus 2-3  memory 4G size 2G hotpluggable }   # \x1b[2J raw\n'
        '    distance 0 1 = 20\n'
        '    initrd at 1G size 8M { override srat }\n'
        '    cmdline "console=ttyS0 \\x1b]0;t\\x07 movable_node [red]y[/red]"\n'
        '}\n')
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def raw_controls(text: str, colours: bool = False) -> list[str]:
    """The control characters in ``text`` other than newline and tab (and, with ``colours``,
    the SGR colour sequences fwc itself writes on a terminal)."""
    if colours:
        text = _SGR.sub("", text)
    return [c for c in text if ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0]


def assert_clean(*texts: str, colours: bool = False) -> None:
    for t in texts:
        assert raw_controls(t, colours) == [], t[:2000]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    (d / INCLUDE).write_text(f"let X = 1G\n# {RAW_COMMENT}")
    (d / "h.fwc").write_text(TEXT)
    return d


@pytest.fixture(scope="module")
def compiled(hostile):
    r = run_fwc("compile", str(hostile / "h.fwc"), "-o", str(hostile / "out"))
    assert r.returncode == 0, r.stderr
    return r


def test_check_and_compile_print_nothing_raw(hostile, compiled):
    r = run_fwc("check", str(hostile / "h.fwc"))
    assert r.returncode == 0, r.stderr
    assert_clean(r.stdout, r.stderr, compiled.stdout, compiled.stderr)
    assert "OEM ID '\\x1b[2J\\x07'" in compiled.stderr  # the initrd-oem-mismatch warning names it, escaped
    r = run_fwc("check", str(hostile / "h.fwc"), "-W", "initrd-oem-mismatch", "--color", "always",
                env={"NO_COLOR": ""})
    assert r.returncode == 0 and "\x1b[1;35mwarning:" in r.stderr  # diagnostics on a terminal, coloured
    assert_clean(r.stdout, r.stderr, colours=True)


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_every_text_output_of_compile_shows_control_characters(hostile, compiled, kernel, tmp_path):
    out = hostile / "out"
    if kernel == "6.12":
        r = run_fwc("compile", str(hostile / "h.fwc"), "-o", str(tmp_path / "out"), "-O", "boot.kernel=6.12")
        assert r.returncode == 0, r.stderr
        assert_clean(r.stdout, r.stderr)
        out = tmp_path / "out"
    texts = [p for p in out.rglob("*") if p.suffix in (".txt", ".log", ".dsl")]
    assert {p.name for p in texts} >= {"dmesg.txt", "policies.txt", "kernels.txt", "acpidump.txt", "memblock.log"}
    for p in texts:
        assert_clean(p.read_text())
    assert SHOWN_NAME in (out / "boot" / "policies.txt").read_text()
    assert "console=ttyS0 \\x1b]0;t\\x07 movable_node [red]y[/red]" in (out / "boot" / "dmesg.txt").read_text()
    assert "(v01 \\x1b[2J\\x07  T\\x9b1m\\x7f[b] " in (out / "boot" / "dmesg.txt").read_text()
    # machine-readable outputs keep the bytes, in their own encoding
    boot = json.loads((out / "boot" / "boot.json").read_text())
    assert any("\x1b]0;t\x07" in line for line in boot["dmesg"])
    assert json.loads((out / "machine.json").read_text())["name"] == "m\x1b]0;pwned\x07[bold]x[/bold]\x9b31m\x7f"
    assert (out / "acpi" / "SRAT.aml").read_bytes()[10:16] == b"\x1b[2J\x07\0"


@pytest.mark.parametrize("colour", ["never", "always"])
def test_show_on_a_terminal_and_piped(hostile, colour):
    r = run_fwc("show", str(hostile / "h.fwc"), "--color", colour, env={"NO_COLOR": "", "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert_clean(r.stdout, r.stderr, colours=colour == "always")
    shown = _SGR.sub("", r.stdout)
    assert SHOWN_NAME in shown               # '[bold]x[/bold]' is text, not rich markup
    assert "movable_node [red]y[/red]" in shown
    if colour == "always":
        assert "\x1b[" in r.stdout           # the terminal path really ran (rich's own colours)


def test_show_render_through_rich_keeps_markup_as_text():
    from rich.console import Console

    from fwc.show import render

    m = Fwc().check(text=TEXT.replace('include "inc\\x1b[31m\\x07\\x9b\\x7f[b].fwc"\n', "")).machine
    out = io.StringIO()
    render(m, None, Console(file=out, force_terminal=True, color_system="truecolor", width=100))
    assert_clean(out.getvalue(), colours=True)
    assert SHOWN_NAME in _SGR.sub("", out.getvalue())


def test_decompile_prints_fwc_strings_and_clean_diagnostics(hostile, compiled):
    for what in ("acpi", "acpi/acpidump.txt"):
        r = run_fwc("decompile", str(hostile / "out" / what))
        assert r.returncode == 0, r.stderr
        assert_clean(r.stdout, r.stderr)
        assert 'oem id "\\x1b[2J\\x07" table "T\\x9b1m\\x7f[b]"' in r.stdout  # fwc's own string escapes


@pytest.mark.parametrize("argv,shown", [
    (["compile", "\x1b]0;pwned\x07"], "cannot read '\\x1b]0;pwned\\x07'"),
    (["\x1b[2J\x9b"], "invalid choice: '\\x1b[2J\\x9b'"),
    (["check", "--color", "\x1b[1m\x7f", "x.fwc"], "invalid choice: '\\x1b[1m\\x7f'"),
    (["compile", "x.fwc", "-O", "boot.kernel\x1b=1"], "\\x1b"),
    (["check", "-W", "no-\x1b]0;x\x07", "x.fwc"], "\\x1b]0;x\\x07"),
    (["boot", "x.fwc", "--kernel", "k\x1b]0;x\x07"], "kernel 'k\\x1b]0;x\\x07' not found"),
    (["memblock", "run", "s\x1b]0;x\x07"], "s\\x1b]0;x\\x07: error: cannot read"),
    (["kernel", "--package", "linux-image-\x1b]0;t\x07"], "'linux-image-\\x1b]0;t\\x07' is not"),
])
def test_usage_errors_echo_arguments_escaped(tmp_path, argv, shown):
    (tmp_path / "x.fwc").write_text('machine "m" { node 0 { cpus 0 memory 0 size 1G } }\n')
    r = run_fwc(*argv, cwd=str(tmp_path))
    assert r.returncode != 0
    assert_clean(r.stdout, r.stderr)
    assert shown in r.stderr


def test_fwc_boot_progress_shows_names_escaped():
    from fwc_plugins.bootrun.progress import Progress, sanitize

    for live in (False, True):
        out = io.StringIO()
        p = Progress(stream=out, live=live)
        p.note("serial log: /tmp/w\x1b]0;x\x07/serial.log [bold]b[/bold]")
        p.phase("reading \x9b31m")
        p.booting(3, 60, sanitize("guest \x1b[2J line \x07 \x9b1m"))
        p.close()
        assert_clean(out.getvalue(), colours=True)
        assert "w\\x1b]0;x\\x07/serial.log [bold]b[/bold]" in _SGR.sub("", out.getvalue())
    assert sanitize("a\x1b[31mb\r\n\x07\x9b\x7f\t") == "ab\n\\x07\\x9b\\x7f\t"


def test_plugin_names_and_messages_are_shown_escaped(tmp_path, monkeypatch, capsys):
    import types

    from fwc import api, cli
    from fwc.plugin import hookimpl

    m = types.ModuleType("fwc_ctl")

    def generate(ctx):
        ctx.warning("ctl-check", "message \x1b]0;x\x07 [bold]m[/bold]")
        ctx.emit("ctl.txt", "ok\n")

    @hookimpl
    def fwc_register_backends(register):
        register("ctl", generate, description="desc \x1b]0;t\x07\x9b [bold]d[/bold]", outputs=["ctl.txt"])
        register("ctl", generate, description="again")  # a problem message naming the backend

    @hookimpl
    def fwc_register_checks(register):
        register("ctl-check", "warning", "check \x1b[2J\x7f", code=5998)

    m.fwc_register_backends, m.fwc_register_checks = fwc_register_backends, fwc_register_checks
    real = api.Fwc.__init__
    monkeypatch.setattr(api.Fwc, "__init__", lambda self, **k: real(self, **{**k, "plugins": [m]}))
    p = tmp_path / "m.fwc"
    p.write_text('machine "m" { node 0 { cpus 0 memory 0 size 1G } }\n')
    runs = [["backends"], ["checks"], ["compile", str(p), "-b", "ctl", "-o", str(tmp_path / "o")]]
    for argv in runs:
        cli.main(argv)
        c = capsys.readouterr()
        assert_clean(c.out, c.err)
        assert "\\x1b" in c.out + c.err
    monkeypatch.setattr(cli.sys.stdout, "isatty", lambda: True)  # fwc backends' rich table
    monkeypatch.setenv("COLUMNS", "400")
    cli.main(["backends"])
    c = capsys.readouterr()
    assert_clean(c.out, c.err, colours=True)
    assert "desc \\x1b]0;t\\x07\\x9b [bold]d[/bold]" in _SGR.sub("", c.out)


def test_iasl_source_and_events_text_are_written_and_clean():
    """With printable OEM IDs the iasl source is written too (its OEM strings must be
    printable); the name and command line in every text file are shown escaped."""
    text = (f'machine "{ESC_NAME}" {{\n board qemu-q35\n slots 2 maxmem 8G\n'
            ' node 0 { cpus 0-1 memory 0 size 640K memory 1M size 2047M }\n node 1 { cpus 2-3 memory 4G size 2G }\n'
            ' cmdline "console=ttyS0 \\x1b]0;t\\x07 [red]"\n events { add dimm D1 size 1G node 1 }\n}\n')
    r = Fwc().compile(text=text, name="h2.fwc")
    assert r.ok, r.render_diagnostics()
    texts = {a.path: a.text for a in r.artifacts if a.path.endswith((".txt", ".log", ".dsl"))}
    assert {"acpi/SRAT.dsl", "boot/events.txt", "boot/kernels.txt"} <= set(texts)
    for t in texts.values():
        assert_clean(t)
    assert SHOWN_NAME in texts["boot/kernels.txt"]
