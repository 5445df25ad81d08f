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
