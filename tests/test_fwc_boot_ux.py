"""``fwc boot`` as a user meets it: progress lines, guest output made safe, the host-memory
check (against what real QEMU does on this host), the cached kernel (``fwc kernel``), exit
statuses for a host that lacks something, output fitted to the terminal, and the help."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import run_fwc
from fwc_plugins.bootrun import compare, hostmem, kernel as kernelmod, progress, run as runmod
from test_fwc_boot import EXAMPLES, busybox, fake_qemu, kernel, run_boot  # noqa: F401 - fixtures

EX = os.path.join(EXAMPLES, "kernelcore.fwc")


def test_sanitize_drops_terminal_escapes():
    raw = "\x1bc\x1b[2J\x1b[1;31mred\x1b[0m\r\nok\x07 \x1b]0;title\x07tab\there\x9b2J"
    assert progress.sanitize(raw) == "red\nok\\x07 tab\there"


def test_timeout_shows_progress_and_no_escapes(tmp_path, kernel, busybox, capsys, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.4)
    q = fake_qemu(tmp_path, """
        import sys, time
        sys.stdout.write("\\x1bc\\x1b[2J\\x1b[H[    0.000000] Linux version 6.1\\r\\n")
        sys.stdout.flush()
        time.sleep(300)
        """)
    rc = run_boot(EX, "--kernel", kernel, "--qemu", q, "--busybox", busybox, "--timeout", "2",
                  "--keep", str(tmp_path / "run"))
    err = capsys.readouterr().err
    assert rc == runmod.EXIT_NO_ANSWER == 6
    assert "\x1b" not in err and "\r" not in err
    lines = err.splitlines()
    log = str(tmp_path / "run" / "serial.log")
    first = next(i for i, ln in enumerate(lines) if ln.startswith("fwc: booting kernelcore.fwc"))
    assert lines.index(f"fwc: serial log: {log}") < lines.index("fwc: building the initrd …") < first
    assert any("s of at most 2 s; last line: [    0.000000] Linux version 6.1" in ln for ln in lines[first:])
    assert "fwc: error: the boot did not finish within --timeout 2 s; QEMU was killed" in lines
    assert f"fwc:   full serial log: {log}" in lines
    assert open(log, "rb").read().startswith(b"\x1bc")  # the log itself is kept as the guest wrote it


def _meminfo(total_gib: int, avail_gib: int, swap_gib: int = 0) -> dict[str, int]:
    return {"MemTotal": total_gib << 30, "MemAvailable": avail_gib << 30, "SwapTotal": swap_gib << 30,
            "CommitLimit": (total_gib // 2 + swap_gib) << 30, "Committed_AS": 1 << 30}


def test_host_memory_rules():
    argv = ["qemu-system-x86_64", "-m", "260G,slots=4,maxmem=300G", "-object", "memory-backend-ram,id=m0,size=4G",
            "-object", "memory-backend-ram,id=m1,size=256G", "-object", "memory-backend-ram,id=d,size=1G"]
    assert hostmem.ram_blocks(argv) == [4 << 30, 256 << 30, 1 << 30]
    assert hostmem.ram_blocks(["q", "-m", "2048"]) == [2 << 30]
    small = hostmem.problem(argv, _meminfo(23, 22), mode=0)
    assert small and "largest RAM block is 256G" in small and "vm.overcommit_memory=0" in small
    assert hostmem.problem(argv, _meminfo(23, 22, swap_gib=300), mode=0) is None
    assert "commit limit" in hostmem.problem(argv, _meminfo(400, 390), mode=2)
    # overcommit 1: QEMU maps it, but the guest's struct pages (1/64 of 261 GiB) need the host
    assert "struct page" in hostmem.problem(argv, _meminfo(23, 3), mode=1)
    assert hostmem.problem(argv, _meminfo(23, 22), mode=1) is None


def _qemu_starts(qemu: str, size: str) -> bool:
    """Real QEMU, paused (-S): does it get past allocating ``size`` of RAM?"""
    p = subprocess.Popen([qemu, "-accel", "tcg", "-m", size, "-S", "-display", "none", "-nodefaults",
                          "-monitor", "none"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        p.wait(timeout=3)
        return False
    except subprocess.TimeoutExpired:
        return True
    finally:
        p.kill()
        p.wait()


def test_host_memory_check_agrees_with_real_qemu():
    """The oracle: QEMU itself on this host, with a size just above and one below the limit."""
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None or hostmem.overcommit_mode() != 0:
        pytest.skip("needs qemu-system-x86_64 and vm.overcommit_memory=0")
    info = hostmem.meminfo()
    limit_mib = (info["MemTotal"] + info.get("SwapTotal", 0)) >> 20
    for mib in (limit_mib + 1024, min(limit_mib // 2, 2048)):
        argv = ["qemu-system-x86_64", "-m", f"{mib}M"]
        assert (hostmem.problem(argv) is None) == _qemu_starts(qemu, f"{mib}M"), mib


def test_machine_larger_than_the_host_is_refused_before_qemu(tmp_path, kernel, busybox, capsys):
    info = hostmem.meminfo()
    if info["MemTotal"] + info.get("SwapTotal", 0) >= 512 << 30 or hostmem.overcommit_mode() != 0:
        pytest.skip("a host with 512 GiB or overcommit")
    big = tmp_path / "big.fwc"
    big.write_text('machine "big" { board qemu-q35 node 0 { cpus 0-1 memory size 512G } }\n')
    called = tmp_path / "called"
    q = fake_qemu(tmp_path, f"open({str(called)!r}, 'w').close()\n")
    rc = run_boot(str(big), "--kernel", kernel, "--qemu", q, "--busybox", busybox)
    err = capsys.readouterr().err
    assert rc == runmod.EXIT_ENVIRONMENT == 5 and not called.exists()
    assert "QEMU could not allocate it" in err and "nothing was booted" in err


def fake_cache(root, kernel_path: str, package="linux-image-6.1.0-56-amd64"):
    """A kernel package unpacked in the cache ``root`` as ``fwc kernel`` leaves it."""
    release = package[len("linux-image-"):].removesuffix("-unsigned")
    d = root / "kernel" / package
    (d / "boot").mkdir(parents=True)
    shutil.copy(kernel_path, d / "boot" / f"vmlinuz-{release}")
    (d / "ok").write_text("6.1.192-2\n")
    return d / "boot" / f"vmlinuz-{release}"


def test_boot_uses_the_cached_kernel(tmp_path, kernel, busybox, capsys, monkeypatch):
    monkeypatch.setenv("FWC_CACHE", str(tmp_path / "empty"))
    rc = run_boot(EX, "--busybox", busybox, "--qemu", fake_qemu(tmp_path, "print('x')\n"))
    err = capsys.readouterr().err
    assert rc == runmod.EXIT_ENVIRONMENT and "run 'fwc kernel' once" in err and str(tmp_path / "empty") in err
    cache = tmp_path / "cache"
    fake_cache(cache, kernel, "linux-image-6.1.0-60-amd64")
    want = fake_cache(cache, kernel)  # the reference package wins over a newer one
    monkeypatch.setenv("FWC_CACHE", str(cache))
    assert [k.package for k in kernelmod.cached_kernels()] == ["linux-image-6.1.0-56-amd64",
                                                                 "linux-image-6.1.0-60-amd64"]
    assert kernelmod.cached_kernel().vmlinuz == want
    seen = tmp_path / "argv.txt"
    q = fake_qemu(tmp_path, f"import sys; open({str(seen)!r}, 'w').write(sys.argv[sys.argv.index('-kernel') + 1])\n")
    rc = run_boot(EX, "--busybox", busybox, "--qemu", q)
    assert rc == runmod.EXIT_NO_ANSWER and seen.read_text() == str(want)
    assert f"kernel: linux-image-6.1.0-56-amd64 6.1.192-2 ({want})" in capsys.readouterr().err
    r = run_fwc("kernel", "--offline", env={"FWC_CACHE": str(cache)})
    assert (r.returncode, r.stdout) == (0, f"{want}\n")
    r = run_fwc("kernel", "--offline", env={"FWC_CACHE": str(tmp_path / "empty")})
    assert r.returncode == 5 and "run 'fwc kernel' without --offline" in r.stderr


def test_comparison_fits_the_terminal():
    long = "[mem 0x0000000100000000-0x000000017fffffff] " * 4
    rows = [compare.Row("zone_ranges", "zone ranges", long.strip(), long.strip(), True),
            compare.Row("lines:srat", "srat", "ACPI: SRAT: Node 1 PXM 1 " + long, "ACPI: SRAT: " + long, True)]
    wide = compare.render(rows)
    assert max(map(len, wide.splitlines())) > 150
    for width in (80, 100):
        text = compare.render(rows, width)
        assert max(map(len, text.splitlines())) <= width, text
        # nothing is lost: the folded text holds every word of both values
        assert text.split().count("[mem") == wide.split().count("[mem")
        assert any(ln.startswith("! ") for ln in text.splitlines())


def test_every_command_is_in_the_help_with_an_example():
    r = run_fwc("--help")
    assert r.returncode == 0
    from fwc import Fwc
    from fwc.commands import BUILTIN_COMMANDS

    names = sorted(BUILTIN_COMMANDS | set(Fwc().host.commands))
    assert {"boot", "memblock", "kernel"} <= set(names)
    listed = {ln.split()[0] for ln in r.stdout.splitlines() if ln.startswith("    ") and ln.split()}
    assert set(names) <= listed
    for name in names:
        h = run_fwc(name, "--help", env={"COLUMNS": "100"})
        assert h.returncode == 0 and "examples:\n  fwc " in h.stdout, name
