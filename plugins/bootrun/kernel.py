"""The Debian kernels fwc models: fetched once, cached, found again by ``fwc boot``.

fwc's boot simulator models Linux 6.1 as Debian 12 builds it (``linux-image-6.1.0-N-amd64``)
and Linux 6.12 as Debian 13 does (``linux-image-6.12.N+debN-amd64-unsigned``, also in
bookworm-security); :data:`SERIES` has each one's package names and the package the reference
results were taken with (6.1's: :data:`REFERENCE_KERNEL_PKG`).  The package is only
downloaded (``apt-get download``) and unpacked (``dpkg-deb -x``) into a cache directory —
nothing is installed, nothing goes into /boot — and only its ``boot/`` directory is kept
(vmlinuz, config, System.map; the modules are dropped).

Cache: ``$FWC_CACHE``, else ``$FWC_ORACLE_CACHE`` (the test oracles' variable), else
``~/.cache/fwc-oracles``; the kernel of package P is ``kernel/P/boot/vmlinuz-RELEASE``, with
``kernel/P/ok`` (the package version) written last.  The test suite's QEMU oracle
(``tests/oracles/qemu/tools.py``) fetches through this module, so ``fwc kernel`` and the tests
share one download.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, NamedTuple

class Series(NamedTuple):
    """Debian's kernel packages of one series fwc models."""
    package_re: re.Pattern   # group 1: the release (uname -r)
    reference: str           # the package the reference results were taken with
    approx_mb: int           # the .deb's size
    spelled: str             # the package names, for messages


#: The series ``fwc kernel SERIES`` fetches (the versions the boot backend models).
SERIES = {
    "6.1": Series(re.compile(r"^linux-image-(6\.1\.0-\d+-amd64)$"), "linux-image-6.1.0-56-amd64", 70,
                  "linux-image-6.1.0-N-amd64"),
    "6.12": Series(re.compile(r"^linux-image-(6\.12\.\d+\+deb\d+-amd64)-unsigned$"),
                   "linux-image-6.12.115+deb12-amd64-unsigned", 105, "linux-image-6.12.N+debN-amd64-unsigned"),
}
#: 6.1's reference package: ``fwc kernel`` without a series fetches it.
REFERENCE_KERNEL_PKG = SERIES["6.1"].reference


class KernelUnavailable(RuntimeError):
    """The kernel cannot be fetched or found; the message says what to do."""


class CachedKernel(NamedTuple):
    package: str   # linux-image-6.1.0-56-amd64
    version: str   # the Debian package version, 6.1.192-2
    release: str   # 6.1.0-56-amd64 (uname -r)
    vmlinuz: Path
    config: Path | None


def cache_dir() -> Path:
    d = os.environ.get("FWC_CACHE") or os.environ.get("FWC_ORACLE_CACHE") or str(Path.home() / ".cache" /
                                                                                  "fwc-oracles")
    return Path(d)


def run(argv: list[str], timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, **kw)


def series_of(package: str) -> str | None:
    """The series of a Debian kernel package fwc models, else None."""
    return next((s for s, v in SERIES.items() if v.package_re.match(package)), None)


def _numbers(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


def _entry(cache: Path, package: str) -> CachedKernel | None:
    kdir = cache / "kernel" / package
    ok = kdir / "ok"
    s = series_of(package)
    m = SERIES[s].package_re.match(package) if s else None
    if not m or not ok.exists():
        return None
    release = m.group(1)
    vmlinuz = kdir / "boot" / f"vmlinuz-{release}"
    if not vmlinuz.exists():
        return None
    config = kdir / "boot" / f"config-{release}"
    return CachedKernel(package, ok.read_text().strip(), release, vmlinuz, config if config.exists() else None)


def cached_kernels(cache: Path | None = None, series: str | None = None) -> list[CachedKernel]:
    """Every kernel in the cache (of ``series``, or of every series), oldest first."""
    cache = cache_dir() if cache is None else cache
    kdir = cache / "kernel"
    if not kdir.is_dir():
        return []
    found = [k for k in (_entry(cache, p.name) for p in kdir.iterdir()) if k is not None
             and (series is None or series_of(k.package) == series)]
    return sorted(found, key=lambda k: _numbers(k.release))


def cached_kernel(cache: Path | None = None, series: str = "6.1") -> CachedKernel | None:
    """The kernel of ``series`` ``fwc boot`` uses without ``--kernel``: the reference one if
    cached, else the newest cached one; None when the cache has none (no network is used)."""
    found = cached_kernels(cache, series)
    ref = [k for k in found if k.package == SERIES[series].reference]
    return (ref or found)[-1] if found else None


def _apt_update(say: Callable[[str], None]) -> bool:
    """Refresh apt's package lists when root (else nothing); True if they were refreshed."""
    if os.geteuid() != 0:
        return False
    say("running apt-get update")
    r = run(["apt-get", "update", "-q"])
    if r.returncode != 0:
        raise KernelUnavailable(f"apt-get update failed:\n{r.stderr[-2000:]}")
    return True


def _candidate(series: str, say: Callable[[str], None]) -> str:
    """6.1: the kernel package Debian's linux-image-amd64 depends on; 6.12: the newest
    ``linux-image-6.12.*-amd64-unsigned`` apt knows."""
    for attempt in (0, 1):
        if series == "6.1":
            r = run(["apt-cache", "depends", "linux-image-amd64"], timeout=120)
            m = re.search(r"Depends:\s*(linux-image-6\.1\.0-\d+-amd64)\b", r.stdout)
            if m:
                return m.group(1)
        else:
            r = run(["apt-cache", "search", "--names-only", SERIES[series].package_re.pattern], timeout=120)
            names = sorted((ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()), key=_numbers)
            if names:
                return names[-1]
        if attempt or not _apt_update(say):
            break
    raise KernelUnavailable(f"apt knows no Debian {series} kernel package ({SERIES[series].spelled}): run "
                            "'sudo apt-get update' on a Debian machine whose sources have one (6.12: Debian 13, "
                            "or Debian 12's bookworm-security), or give the package with --package")


def _find_deb(debs: Path, package: str, version: str) -> Path | None:
    hits = sorted(debs.glob(f"{package}_*_amd64.deb"))
    if version:
        hits = [h for h in hits if h.name == f"{package}_{version.replace(':', '%3a')}_amd64.deb"]
    return hits[-1] if hits else None


def fetch_kernel(package: str = "", cache: Path | None = None,
                 say: Callable[[str], None] = lambda s: None, series: str = "6.1") -> CachedKernel:
    """The kernel of ``package`` (``NAME`` or ``NAME=VERSION``, of any series; default: the
    cached one of ``series``, else its reference package if apt has it, else :func:`_candidate`),
    downloaded and unpacked into the cache when not there yet.  ``say`` gets progress lines."""
    cache = cache_dir() if cache is None else cache
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise KernelUnavailable(f"fetching the kernel needs Debian's apt-get and dpkg-deb; on another system "
                                f"download {SERIES[series].spelled} from https://packages.debian.org "
                                "and give its boot/vmlinuz-* with --kernel")
    pkg, _, version = package.partition("=")
    if pkg:
        series = series_of(pkg) or ""
        if not series:
            raise KernelUnavailable(f"'{pkg}' is not a Debian amd64 kernel package fwc models ("
                                    + ", ".join(s.spelled for s in SERIES.values()) + ")")
    if not pkg:
        have = cached_kernel(cache, series)
        if have is not None:
            return have
        ref = pkg = SERIES[series].reference
        if run(["apt-cache", "show", pkg], timeout=120).returncode != 0:
            pkg = _candidate(series, say)
            say(f"{ref} is not available from apt; using {pkg} (the reference results were taken with {ref})")
    have = _entry(cache, pkg)
    if have is not None and (not version or version == have.version):
        return have
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deb = _find_deb(debs, pkg, version)
    if deb is None:
        spec = f"{pkg}={version}" if version else pkg
        argv = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", spec]
        say(f"downloading {spec} (about {SERIES[series].approx_mb} MB) into {debs}")
        r = run(argv, cwd=debs)
        if r.returncode != 0 and _apt_update(say):
            r = run(argv, cwd=debs)
        if r.returncode != 0:
            raise KernelUnavailable(f"'{' '.join(argv)}' failed"
                                    + ("" if os.geteuid() == 0 else " (as root, fwc would refresh apt's package "
                                       "lists first: try 'sudo apt-get update')") + f":\n{r.stderr.strip()[-1500:]}")
        deb = _find_deb(debs, pkg, version)
        if deb is None:
            raise KernelUnavailable(f"apt-get download {spec} produced no .deb in {debs}")
    r = run(["dpkg-deb", "-f", str(deb), "Version"], timeout=60)
    got = r.stdout.strip()
    say(f"unpacking {deb.name}")
    kdir = cache / "kernel" / pkg
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        r = run(["dpkg-deb", "-x", str(deb), tmp])
        if r.returncode != 0:
            raise KernelUnavailable(f"dpkg-deb -x {deb} failed:\n{r.stderr[-2000:]}")
        if kdir.exists():
            shutil.rmtree(kdir)
        kdir.mkdir(parents=True)
        shutil.move(os.path.join(tmp, "boot"), kdir / "boot")  # the modules are not needed
    (kdir / "ok").write_text(got + "\n")
    have = _entry(cache, pkg)
    if have is None:
        raise KernelUnavailable(f"{deb.name} holds no boot/vmlinuz-{pkg[len('linux-image-'):].removesuffix('-unsigned')}")
    return have
