"""The kernel version as an input (issue 17): a description names it (``kernel "6.12"``),
``-O boot.kernel=`` overrides it with a note, ``fwc boot`` refuses a bzImage of another version
and, without ``--kernel``, boots the cached kernel of the prediction's version (``fwc kernel
SERIES`` fetches either).  No real boot here: fake bzImage headers and a fake QEMU; the
real boots are tests/test_fwc_boot_real.py and test_boot_fidelity_real.py on both kernels."""

from __future__ import annotations

import shutil

import pytest

from conftest import run_fwc
from fwc import Fwc
from fwc_plugins.bootrun import kernel as kernelmod, run as runmod
from test_fwc_boot import busybox, fake_qemu  # noqa: F401 - fixtures
from test_fwc_boot_ux import fake_cache
from test_kernel612 import DIMM, bzimage, fwc_boot

NAMED = DIMM.read_text().replace("board qemu-q35", 'board qemu-q35\n    kernel "6.12"')


@pytest.fixture
def named(tmp_path):
    p = tmp_path / "named.fwc"
    p.write_text(NAMED)
    return p


def _zones(tmp_path, path, *options):
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    r = run_fwc("compile", str(path), "-b", "boot", "-o", str(out), *options)
    assert r.returncode == 0, r.stderr
    return (out / "boot" / "zones.txt").read_text(), r.stderr


def test_a_description_names_its_kernel(tmp_path, named):
    m = Fwc().check(named).machine
    assert m.kernel_version == "6.12" and m.kernel_version_span.line == 5
    assert Fwc().check(DIMM).machine.kernel_version == ""
    got, err = _zones(tmp_path, named)
    assert got.startswith("# Linux 6.12") and "note" not in err
    assert got == _zones(tmp_path, DIMM, "-O", "boot.kernel=6.12")[0]   # the same prediction as the option's
    # the option overrides the description, with a note naming both
    six1, err = _zones(tmp_path, named, "-O", "boot.kernel=6.1")
    assert six1 == _zones(tmp_path, DIMM)[0] and six1.startswith("# Linux 6.1:")
    assert ("named.fwc:5:12: note: -O boot.kernel=6.1 overrides the description's kernel \"6.12\": predicting "
            "Linux 6.1 [boot-kernel-override]") in err
    r = run_fwc("show", str(named))
    assert r.returncode == 0 and "zones after boot (Linux 6.12" in r.stdout


@pytest.mark.parametrize("version, message", [
    ("6.13", "error: unknown kernel version '6.13': fwc models Linux 6.1 and 6.12; did you mean '6.1'? [boot-kernel]"),
    ("6.12.115", "did you mean '6.12'?"),
    ("5.10", "error: unknown kernel version '5.10': fwc models Linux 6.1 and 6.12 [boot-kernel]"),
])
def test_an_unknown_version_is_a_named_error(tmp_path, version, message):
    p = tmp_path / "bad.fwc"
    p.write_text(NAMED.replace('"6.12"', f'"{version}"'))
    r = run_fwc("check", str(p))
    assert r.returncode == 1 and message in r.stderr and "5 |     kernel" in r.stderr
    if version == "6.13":
        r = run_fwc("compile", str(p), "-b", "boot", "-o", str(tmp_path / "out"))
        assert r.returncode == 1 and not (tmp_path / "out").exists()


def test_the_version_is_given_once_beside_the_image_placement(tmp_path):
    p = tmp_path / "twice.fwc"
    p.write_text(NAMED.replace('kernel "6.12"', 'kernel "6.12"\n    kernel at 0x1000000 size 32M\n    kernel "6.1"'))
    r = run_fwc("check", str(p))
    assert r.returncode == 1 and "error: 'kernel version' is given more than once [duplicate-statement]" in r.stderr
    p.write_text(NAMED.replace('kernel "6.12"', 'kernel "6.12"\n    kernel at 0x1000000 size 32M'))
    m = Fwc().check(p).machine
    assert (m.kernel_version, m.kernel.base) == ("6.12", 0x1000000)


def test_fwc_boot_refuses_a_kernel_the_description_does_not_name(tmp_path, named, capsys):
    """Refused before anything is booted (no QEMU is needed)."""
    k61 = bzimage(tmp_path, "6.1.0-57-amd64")
    assert fwc_boot(named, "--kernel", k61, "--qemu", "/nonexistent") == runmod.EXIT_USAGE
    err = capsys.readouterr().err
    assert ("the description names Linux 6.12 (kernel \"6.12\"); the kernel booted is Linux 6.1 (6.1.0-57-amd64): "
            "fwc compares a prediction only with the kernel it was made for") in err
    # -O names the booted kernel: no refusal (the missing QEMU is what stops it now)
    assert fwc_boot(named, "--kernel", k61, "--qemu", "/nonexistent", "-O", "boot.kernel=6.1") == \
        runmod.EXIT_ENVIRONMENT
    assert fwc_boot(named, "--kernel", bzimage(tmp_path, "6.12.115+deb12-amd64"), "--qemu", "/nonexistent") == \
        runmod.EXIT_ENVIRONMENT


def test_fwc_boot_without_kernel_boots_the_predictions_version(tmp_path, named, busybox, capsys, monkeypatch):
    cache = tmp_path / "cache"
    k61 = fake_cache(cache, bzimage(tmp_path, "6.1.0-56-amd64"), "linux-image-6.1.0-56-amd64")
    old = fake_cache(cache, bzimage(tmp_path, "6.12.9+deb13-amd64"), "linux-image-6.12.9+deb13-amd64-unsigned")
    new = fake_cache(cache, bzimage(tmp_path, "6.12.57+deb13-amd64"), "linux-image-6.12.57+deb13-amd64-unsigned")
    monkeypatch.setenv("FWC_CACHE", str(cache))
    assert [k.package for k in kernelmod.cached_kernels(series="6.12")] == [
        "linux-image-6.12.9+deb13-amd64-unsigned", "linux-image-6.12.57+deb13-amd64-unsigned"]
    assert kernelmod.cached_kernel(series="6.12").vmlinuz == new != old   # newest, without the reference
    assert kernelmod.cached_kernel().vmlinuz == k61
    seen = tmp_path / "kernel.txt"
    q = fake_qemu(tmp_path, f"import sys; open({str(seen)!r}, 'w').write(sys.argv[sys.argv.index('-kernel') + 1])\n")
    for path, options, want in ((named, [], new), (DIMM, [], k61), (DIMM, ["-O", "boot.kernel=6.12"], new),
                                (named, ["-O", "boot.kernel=6.1"], k61)):
        seen.unlink(missing_ok=True)
        rc = fwc_boot(path, "--busybox", busybox, "--qemu", q, "--timeout", "20", *options)
        assert rc == runmod.EXIT_NO_ANSWER and seen.read_text() == str(want), capsys.readouterr().err
    r = run_fwc("kernel", "6.12", "--offline", env={"FWC_CACHE": str(cache)})
    assert (r.returncode, r.stdout) == (0, f"{new}\n")
    r = run_fwc("kernel", "6.12", "--offline", env={"FWC_CACHE": str(tmp_path / "empty")})
    assert r.returncode == 5 and "run 'fwc kernel 6.12' without --offline" in r.stderr
    monkeypatch.setenv("FWC_CACHE", str(tmp_path / "empty"))
    assert fwc_boot(named, "--busybox", busybox, "--qemu", q) == runmod.EXIT_ENVIRONMENT
    assert "no 6.12 kernel to boot: run 'fwc kernel 6.12' once" in capsys.readouterr().err


def test_fetch_refuses_a_package_of_no_modelled_series(tmp_path):
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("needs apt-get and dpkg-deb")
    with pytest.raises(kernelmod.KernelUnavailable, match="not a Debian amd64 kernel package fwc models"):
        kernelmod.fetch_kernel("linux-image-6.6.0-1-amd64", tmp_path)
    assert kernelmod.series_of("linux-image-6.12.115+deb12-amd64-unsigned") == "6.12"
    assert kernelmod.series_of("linux-image-6.1.0-57-amd64") == "6.1"
    assert kernelmod.series_of("linux-image-6.12.115+deb12-amd64") is None   # the signed one has no -unsigned
