"""Every hostile input of issue 14 (found by fuzzing and review; tests/hostile/) behaves as
docs/security.md says: files outside the description's reach are not read, nothing blocks,
make cannot be injected, no terminal escape gets through, outputs are all-or-nothing."""

import os
import stat
import subprocess

import pytest

from conftest import EXAMPLES, ROOT, run_fwc
from fwc import Fwc
from fwc.output import make_quote
from fwc.syntax import parse_string, quote_string

HOSTILE = os.path.join(ROOT, "tests", "hostile")
M = 'machine "m" { node 0 { cpus 0 memory 0 size 2G } %s }\n'


def write(path, text):
    path.write_text(text)
    return path


# --- reading: the file policy ---------------------------------------------------------

@pytest.mark.parametrize("name", ["/etc/shadow", "/proc/self/environ", "../outside.fwc", "/etc/hostname"])
def test_an_include_outside_the_description_directory_is_not_read(tmp_path, name):
    (tmp_path / "outside.fwc").write_text("let SECRET = 1\n")
    d = tmp_path / "d"
    d.mkdir()
    r = Fwc().check(write(d / "m.fwc", f'include "{name}"\n' + M % ""))
    assert [(x.check, x.severity) for x in r.diagnostics] == [("include", "error")]
    assert "outside the description's directory" in r.diagnostics[0].message
    assert not any("SECRET" in (r.sources.line(f, 1) or "") for f in r.sources._text)


def test_include_dirs_and_read_anywhere_widen_the_reach(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "c.fwc").write_text("let G = 2G\n")
    (tmp_path / "d").mkdir()
    top = write(tmp_path / "d" / "m.fwc", 'include "c.fwc"\n' + M.replace("size 2G", "size G") % "")
    assert not Fwc().check(top).ok
    assert Fwc(include_path=[str(tmp_path / "lib")]).check(top).ok
    top.write_text('include "../lib/c.fwc"\n' + M.replace("size 2G", "size G") % "")
    assert not Fwc().check(top).ok
    assert Fwc(read_anywhere=True).check(top).ok


def test_a_symlink_out_of_the_directory_is_refused(tmp_path):
    (tmp_path / "secret.fwc").write_text("let S = 1\n")
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "secret.fwc", tmp_path / "d" / "s.fwc")
    r = Fwc().check(write(tmp_path / "d" / "m.fwc", 'include "s.fwc"\n' + M % ""))
    assert "outside the description's directory" in r.diagnostics[0].message


def test_an_included_file_is_fwc_source_and_its_text_is_not_echoed(tmp_path):
    (tmp_path / "notes.txt").write_text("password = hunter2\n" * 20)
    r = Fwc().check(write(tmp_path / "m.fwc", 'include "notes.txt"\n' + M % ""))
    assert [x.check for x in r.diagnostics] == ["include"]
    assert "hunter2" not in r.render_diagnostics()


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_an_override_that_is_not_a_regular_file_is_refused_at_once(tmp_path, target):
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
    else:
        os.symlink(target, tmp_path / "zero.aml")
        target = "zero.aml"
    top = write(tmp_path / "m.fwc", M % f'initrd at 1G size 8M {{ override "{target}" }}')
    r = run_fwc("check", "--read-anywhere", str(top))  # a blocking read would hit run_fwc's timeout
    assert r.returncode == 1
    assert "not a regular file" in r.stderr and "initrd-file" in r.stderr


def test_an_override_that_is_no_table_does_not_leak_its_bytes(tmp_path):
    (tmp_path / "secret.aml").write_text("hunter2 is the password of the day, every day\n")
    r = Fwc().check(write(tmp_path / "m.fwc", M % 'initrd at 1G size 8M { override "secret.aml" }'))
    text = r.render_diagnostics()
    assert "initrd-signature" in text and "hunt" not in text
    r = Fwc().check(write(tmp_path / "m.fwc", M % 'initrd at 1G size 8M { override "/etc/shadow" }'))
    assert "outside the description's directory" in r.render_diagnostics()


def test_decompile_refuses_special_and_huge_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    r = run_fwc("decompile", str(tmp_path / "fifo"), "/dev/zero")
    assert r.returncode == 1 and r.stderr.count("not a regular file") == 2
    big = tmp_path / "dir"
    big.mkdir()
    with open(big / "SRAT", "wb") as f:
        f.truncate(65 << 20)  # sparse: a 65 MiB file costs nothing to make
    r = run_fwc("decompile", str(big / "SRAT"))
    assert r.returncode == 1 and "larger than 64 MiB" in r.stderr


def test_a_byte_order_mark_is_accepted(tmp_path):
    p = tmp_path / "bom.fwc"
    p.write_bytes(b"\xef\xbb\xbf" + (M % "").encode())
    assert Fwc().check(p).ok
    (tmp_path / "inc.fwc").write_bytes(b"\xef\xbb\xbflet G = 2G\n")
    assert Fwc().check(write(tmp_path / "top.fwc", 'include "inc.fwc"\n' + (M % "").replace("2G", "G"))).ok


# --- writing --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a b", "a#b", "a$b", "a:b", "a*b", "a?b", "a[b", "a\\b", "a\\ b", "a%b"])
def test_make_reads_a_quoted_name_back(tmp_path, name):
    (tmp_path / name).write_text("")
    (tmp_path / "Makefile").write_text(f"out: {make_quote(name)}\n\t@echo ok\n")
    (tmp_path / "out").write_text("")
    os.utime(tmp_path / "out", (1, 1))
    r = subprocess.run(["make", "-s", "out"], cwd=tmp_path, capture_output=True, text=True)
    assert r.stdout == "ok\n", r.stderr


@pytest.mark.parametrize("name", ["a\nb", "a\tb", "a;b", "a=b", "a|b", "a(b)", "a\\", "~a", "a\rb"])
def test_names_make_cannot_read_are_refused(name):
    with pytest.raises(ValueError):
        make_quote(name)


def test_depfile_injection_is_refused_and_nothing_is_written(tmp_path):
    name = "a\n\ttouch${IFS}PWNED\nb:c.fwc"
    (tmp_path / name).write_text("let X = 1\n")
    top = write(tmp_path / "top.fwc", 'include "a\\n\\ttouch${IFS}PWNED\\nb:c.fwc"\n'
                                      'machine "m" { node 0 { memory 0 size 1G } }\n')
    r = run_fwc("compile", str(top), "-b", "model", "-o", str(tmp_path / "out"), "--depfile",
                str(tmp_path / "out.d"))
    assert r.returncode == 1 and "depfile" in r.stderr and "'\\n'" in r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.d").exists()


def test_a_failed_write_leaves_nothing_and_names_the_path(tmp_path):
    out = tmp_path / "out"
    (out / "svg" / "memory-map.svg").mkdir(parents=True)
    r = run_fwc("compile", os.path.join(EXAMPLES, "two-node-hotplug.fwc"), "-o", str(out))
    assert r.returncode == 1 and f"'{out}/svg/memory-map.svg': it is a directory" in r.stderr
    assert [p for p in out.rglob("*") if p.is_file()] == []
    r = run_fwc("compile", os.path.join(EXAMPLES, "two-node-hotplug.fwc"), "-o", str(tmp_path / "out2"),
                "--depfile", "/proc/nonexistent/x.d")
    assert r.returncode == 1 and "/proc/nonexistent" in r.stderr
    assert not (tmp_path / "out2").exists()


def test_a_replaced_output_keeps_its_mode(tmp_path):
    args = ("compile", os.path.join(EXAMPLES, "two-node-hotplug.fwc"), "-b", "model", "-o", str(tmp_path),
            "--depfile", str(tmp_path / "m.d"))
    assert run_fwc(*args).returncode == 0
    os.chmod(tmp_path / "machine.json", 0o640)
    os.chmod(tmp_path / "m.d", 0o604)
    assert run_fwc(*args).returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "machine.json").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "m.d").st_mode) == 0o604
    assert sorted(os.listdir(tmp_path)) == ["m.d", "machine.json"]  # no staging file left


@pytest.mark.parametrize("name", ['a"b', 'x" { include "/etc/hostname" } let Q = 1 machine "y', "\x1b]0;t\x07",
                                  "back\\slash\\", "\x00\x85é中"])
def test_decompile_name_is_one_fwc_string(name):
    assert parse_string(quote_string(name)) == name
    r = Fwc().decompile(os.path.join(ROOT, "tests", "golden", "qemu", "a_q35_2node"), name=name)
    assert r.ok, r.render_diagnostics()
    check = Fwc().check(text=r.text, name="d.fwc")
    assert check.ok and check.machine.name == name


# --- terminals ------------------------------------------------------------------------

def test_control_characters_are_shown_escaped(tmp_path):
    inc = write(tmp_path / "t.fwc", 'include "\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[32mall good"\n'
                                    'machine "m\\x1b[31m" { node 0 { memory 0 size 1G } }\n')
    bad = tmp_path / "b.fwc"
    bad.write_bytes(b'machine "m" { node 0 { memory 0 size 1G } }\n\x1b]0;TITLE\x07 oops \xc2\x9b\n')
    for top, shown in ((inc, "\\x1b]0;TITLE\\x07"), (bad, " 2 | \\x1b]0;TITLE\\x07 oops \\x9b")):
        r = run_fwc("check", str(top))
        assert r.returncode == 1
        assert not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) < 0xa0 for c in r.stderr), r.stderr
        assert shown in r.stderr
    r = run_fwc("check", "--json", str(inc))
    assert "\\u001b" in r.stdout  # JSON keeps the data, escaped by JSON itself


# --- internal errors: none escapes as a diagnostic; the nets exit 3 ------------------------

@pytest.mark.parametrize("name", ["acpidump-rsdp-rev2-20bytes.txt", "decompile-xsdt-unhashable/acpidump.txt",
                                  "decompile-qemu-window-negative", "decompile-madt-processor-id",
                                  "decompile-tables-at-top.txt"])
def test_hostile_tables_decompile_to_diagnostics_or_to_a_description_that_compiles(name):
    r = Fwc().decompile(os.path.join(HOSTILE, name))
    assert not r.internal_error, r.render_diagnostics()
    if r.text is not None:
        back = Fwc().compile(text=r.text, name="d.fwc", backends=["acpi", "model", "svg"])
        assert back.ok, back.render_diagnostics()


def test_maxmem_below_ram_with_an_srat_override_shows_the_real_error():
    text = ('machine "m" {\n board qemu-q35\n node 0 { cpus 0 memory size 32G }\n slots 4 maxmem 16G\n'
            ' initrd at 1G size 8M { override srat }\n}\n')
    r = Fwc().compile(text=text)
    assert not r.internal_error and [d.check for d in r.errors] == ["qemu-hotplug-memory"], r.render_diagnostics()


def test_a_control_character_in_the_machine_name_keeps_the_svg_well_formed():
    from xml.dom.minidom import parseString

    r = Fwc().compile(text='machine "a\\x01b</text>\\x1b" { board qemu-q35 node 0 { cpus 0-1 memory size 2G } }',
                      backends=["svg"])
    svg = r.artifact("svg/memory-map.svg").text
    parseString(svg)
    assert "a\\x01b&lt;/text&gt;\\x1b" in svg


def planted_bug():
    """A module registered as one of fwc's own plugins (its name), whose backend raises."""
    import types

    from fwc.plugin import hookimpl

    m = types.ModuleType("fwc_plugins.planted")

    def generate(ctx):
        raise ZeroDivisionError("planted")

    @hookimpl
    def fwc_register_backends(register):
        register("planted", generate, outputs=["p.txt"])

    m.fwc_register_backends = fwc_register_backends
    return m


def test_an_internal_error_exits_3_with_the_traceback_under_debug(tmp_path, monkeypatch, capsys):
    from fwc import api, cli

    real = api.Fwc.__init__
    monkeypatch.setattr(api.Fwc, "__init__", lambda self, **k: real(self, **{**k, "plugins": [planted_bug()]}))
    p = write(tmp_path / "m.fwc", M % "")
    for debug in (False, True):
        args = ["compile", str(p), "-b", "planted", "-o", str(tmp_path / "out")] + (["--debug"] * debug)
        assert cli.main(args) == 3
        err = capsys.readouterr().err
        assert "[internal-error]" in err and "planted" in err and ("Traceback" in err) == debug
    assert not (tmp_path / "out").exists()
    r = Fwc(plugins=[planted_bug()]).compile(p, backends=["planted"])
    assert r.internal_error and r.errors[0].check == "internal-error"


# --- plugins cannot take fwc down or make it lie -------------------------------------------

def evil(mode):
    """A plugin module misbehaving as ``mode`` says (after tests/hostile's plugin-evil)."""
    import types

    from fwc.plugin import Diagnostic, hookimpl

    m = types.ModuleType("fwc_evil")

    def misbehave(where):
        if mode == f"{where}-exit":
            raise SystemExit(7)
        if mode == f"{where}-base":
            raise GeneratorExit(where)
        if mode == f"{where}-kbd":
            raise KeyboardInterrupt

    def check(machine, report):
        misbehave("check")
        if mode == "check-garbage":
            report(object(), "not a span")

    def generate(ctx):
        misbehave("gen")
        data = {"gen-nul": ("evil\0.txt", "x"), "gen-int": ("evil.txt", 12345), "gen-empty": ("", "x"),
                "gen-dotdot": ("a/../../x", "x"), "gen-staging": (".fwc-x/y", "x")}.get(mode, ("evil.txt", "ok\n"))
        if mode == "gen-span":
            ctx.error("evil", "message", span="not a span")
        if mode == "gen-append":
            ctx.diagnostics.append(Diagnostic("fatal", "evil", "x"))
        ctx.emit(*data)

    @hookimpl
    def fwc_register_backends(register):
        misbehave("register")
        register("evil", generate, description="evil", outputs=["evil.txt"])

    @hookimpl
    def fwc_register_checks(register):
        register("evil-check", "warning", "evil check", check, code=5999)

    m.fwc_register_backends, m.fwc_register_checks = fwc_register_backends, fwc_register_checks
    return m


@pytest.mark.parametrize("mode,check", [("register-exit", "plugin"), ("register-base", "plugin"),
                                        ("check-exit", "plugin"), ("check-base", "plugin"),
                                        ("check-garbage", "plugin"), ("gen-exit", "backend"),
                                        ("gen-base", "backend"), ("gen-nul", "backend"), ("gen-int", "backend"),
                                        ("gen-empty", "backend"), ("gen-dotdot", "backend"),
                                        ("gen-staging", "backend"), ("gen-span", "backend"),
                                        ("gen-append", "backend")])
def test_a_misbehaving_plugin_is_reported_and_fwc_keeps_working(mode, check):
    f = Fwc(plugins=[evil(mode)])
    r = f.compile(text=M % "")
    assert not r.internal_error
    assert check in {d.check for d in r.diagnostics}, r.render_diagnostics()
    if check == "backend":
        assert not r.ok and r.artifacts == []
    else:
        assert r.ok and r.artifact("machine.json")
    r.render_diagnostics()  # every diagnostic renders


def test_a_plugins_own_keyboard_interrupt_is_its_failure_under_the_cli(tmp_path, monkeypatch):
    from fwc import api, cli, registry

    real = api.Fwc.__init__
    monkeypatch.setattr(api.Fwc, "__init__", lambda self, **k: real(self, **{**k, "plugins": [evil("gen-kbd")]}))
    monkeypatch.setattr(registry, "_SIGINT", {"watched": False, "seen": False})
    import signal

    old = signal.getsignal(signal.SIGINT)
    try:
        assert cli.main(["compile", str(write(tmp_path / "m.fwc", M % "")), "-b", "evil", "-o", str(tmp_path)]) == 1
    finally:
        signal.signal(signal.SIGINT, old)
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_fwc_memblock_run_reads_only_a_regular_file(tmp_path, target):
    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    r = run_fwc("memblock", "run", target)
    assert r.returncode == 1 and "not a regular file [memblock-script]" in r.stderr, r.stderr


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_a_boot_without_kernel_pages_fails_its_hash_allocations(kernel):
    """Found by bench/fuzz.py: no kernel pages left (seed policy), alloc_large_system_hash()
    took ilog2(0); the kernel's allocation fails, and the simulation says so in memblock.log."""
    for policy in ("upstream", "seed"):
        r = Fwc().compile(os.path.join(HOSTILE, "boot-no-kernel-pages.fwc"), backends=["boot"],
                          options={"boot.kernel": kernel, "boot.policy": policy})
        assert r.ok and not r.internal_error, r.render_diagnostics()
        log = r.artifact("boot/memblock.log").text
        if kernel == "6.12" and policy == "seed":
            assert "# allocation failed: Dentry cache hash table (alloc_large_system_hash): nr_kernel_pages is 0" in log


def test_an_unaligned_table_address_is_an_input_error():
    """Found by bench/fuzz.py (grammar seed 3007487): 'tables at 1' reached the boot check's
    table layout, which raised (the RSDP sits on a 16-byte boundary)."""
    r = Fwc().compile(text=M % "tables at 1 { }", backends=["boot", "acpi"])
    assert not r.internal_error and [d.check for d in r.errors] == ["field-range"], r.render_diagnostics()


def test_an_nvdimm_qemu_cannot_place_is_its_error_not_an_encoding_failure():
    """Found by bench/fuzz.py (grammar seed 3005866): an unplaced NVDIMM (slots 0) was encoded
    into the SRAT with base -1."""
    r = Fwc().check(os.path.join(HOSTILE, "unplaced-nvdimm.fwc"))
    assert not r.internal_error and [d.check for d in r.errors] == ["qemu-hotplug-memory"], r.render_diagnostics()
