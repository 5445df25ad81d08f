"""The Debian kernel fwc models: fetched once, cached, found again by ``fwc boot``.

fwc's boot simulator models Linux 6.1 as Debian 12 builds it (``linux-image-6.1.0-N-amd64``);
the reference results were taken with :data:`REFERENCE_KERNEL_PKG`.  The package is only
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

#: The kernel the reference results were taken with (and the one ``fwc kernel`` fetches).
REFERENCE_KERNEL_PKG = "linux-image-6.1.0-56-amd64"
PACKAGE_RE = re.compile(r"^linux-image-(6\.1\.0-\d+-amd64)$")
APPROX_MB = 70


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


def _entry(cache: Path, package: str) -> CachedKernel | None:
    kdir = cache / "kernel" / package
    ok = kdir / "ok"
    m = PACKAGE_RE.match(package)
    if not m or not ok.exists():
        return None
    release = m.group(1)
    vmlinuz = kdir / "boot" / f"vmlinuz-{release}"
    if not vmlinuz.exists():
        return None
    config = kdir / "boot" / f"config-{release}"
    return CachedKernel(package, ok.read_text().strip(), release, vmlinuz, config if config.exists() else None)


def cached_kernels(cache: Path | None = None) -> list[CachedKernel]:
    """Every kernel in the cache, oldest ABI first."""
    cache = cache_dir() if cache is None else cache
    kdir = cache / "kernel"
    if not kdir.is_dir():
        return []
    found = [k for k in (_entry(cache, p.name) for p in kdir.iterdir()) if k is not None]
    return sorted(found, key=lambda k: int(k.release.split("-")[1]))


def cached_kernel(cache: Path | None = None) -> CachedKernel | None:
    """The kernel ``fwc boot`` uses without ``--kernel``: the reference one if cached, else the
    newest cached 6.1 kernel; None when the cache has none (no network is used)."""
    found = cached_kernels(cache)
    ref = [k for k in found if k.package == REFERENCE_KERNEL_PKG]
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


def _candidate(say: Callable[[str], None]) -> str:
    """The kernel package Debian's linux-image-amd64 depends on."""
    for attempt in (0, 1):
        r = run(["apt-cache", "depends", "linux-image-amd64"], timeout=120)
        m = re.search(r"Depends:\s*(linux-image-6\.1\.0-\d+-amd64)\b", r.stdout)
        if m:
            return m.group(1)
        if attempt or not _apt_update(say):
            break
    raise KernelUnavailable("apt knows no Debian 12 kernel package (apt-cache depends linux-image-amd64 found "
                            "no linux-image-6.1.0-N-amd64): run 'sudo apt-get update' on a Debian 12 machine, "
                            "or give the package with --package")


def _find_deb(debs: Path, package: str, version: str) -> Path | None:
    hits = sorted(debs.glob(f"{package}_*_amd64.deb"))
    if version:
        hits = [h for h in hits if h.name == f"{package}_{version.replace(':', '%3a')}_amd64.deb"]
    return hits[-1] if hits else None


def fetch_kernel(package: str = "", cache: Path | None = None,
                 say: Callable[[str], None] = lambda s: None) -> CachedKernel:
    """The kernel of ``package`` (``NAME`` or ``NAME=VERSION``; default: the cached one, else
    :data:`REFERENCE_KERNEL_PKG` if apt has it, else the one ``linux-image-amd64`` depends on),
    downloaded and unpacked into the cache when not there yet.  ``say`` gets progress lines."""
    cache = cache_dir() if cache is None else cache
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise KernelUnavailable("fetching the kernel needs Debian's apt-get and dpkg-deb; on another system "
                                "download linux-image-6.1.0-*-amd64 from https://packages.debian.org/bookworm "
                                "and give its boot/vmlinuz-* with --kernel")
    pkg, _, version = package.partition("=")
    if pkg and not PACKAGE_RE.match(pkg):
        raise KernelUnavailable(f"'{pkg}' is not a Debian 6.1 amd64 kernel package (linux-image-6.1.0-N-amd64)")
    if not pkg:
        have = cached_kernel(cache)
        if have is not None:
            return have
        pkg = REFERENCE_KERNEL_PKG
        if run(["apt-cache", "show", pkg], timeout=120).returncode != 0:
            pkg = _candidate(say)
            say(f"{REFERENCE_KERNEL_PKG} is not available from apt; using {pkg} (the reference results "
                f"were taken with {REFERENCE_KERNEL_PKG})")
    have = _entry(cache, pkg)
    if have is not None and (not version or version == have.version):
        return have
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deb = _find_deb(debs, pkg, version)
    if deb is None:
        spec = f"{pkg}={version}" if version else pkg
        argv = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", spec]
        say(f"downloading {spec} (about {APPROX_MB} MB) into {debs}")
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
        raise KernelUnavailable(f"{deb.name} holds no boot/vmlinuz-{pkg[len('linux-image-'):]}")
    return have
