"""Obtain the oracle's ingredients at test time: QEMU, busybox-static, the Debian kernel.

Everything comes from Debian packages through the ordinary clients (apt-get, apt-cache,
dpkg).  QEMU and busybox-static are installed with apt-get (the tests run as root); the
kernel package is only downloaded and unpacked into a cache directory by fwc's own
fetcher (``fwc kernel``, ``fwc_plugins.bootrun.kernel``; ``$FWC_CACHE`` or
``$FWC_ORACLE_CACHE``, default ``~/.cache/fwc-oracles``); nothing goes into /boot.

Environment variables:

``FWC_ORACLE_CACHE``       cache directory (default ``~/.cache/fwc-oracles``)
``FWC_ORACLE_KERNEL_PKG``  exact kernel package, e.g. ``linux-image-6.1.0-56-amd64`` or
                           ``linux-image-6.1.0-56-amd64=6.1.192-2`` (default: the one
                           already in the cache, else the reference package, else
                           the dependency of ``linux-image-amd64``)
``FWC_ORACLE_KERNEL612_PKG`` the same for ``ensure_tools("6.12")``, e.g.
                           ``linux-image-6.12.115+deb12-amd64-unsigned`` (default: the newest
                           in the cache, else the newest ``apt-cache search`` finds)
``FWC_ORACLE_NO_INSTALL``  if set, never run apt-get (only use what is there)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import tempfile
import struct
import subprocess
import threading
from pathlib import Path

from fwc_plugins.bootrun.kernel import REFERENCE_KERNEL_PKG  # the kernel the reference results were taken with

log = logging.getLogger("fwc.oracle.qemu")
APT_PACKAGES = ("qemu-system-x86", "busybox-static")
QEMU = "qemu-system-x86_64"


class OracleUnavailable(RuntimeError):
    """The QEMU boot oracle cannot be used on this machine (tool missing, install failed)."""


@dataclasses.dataclass(frozen=True)
class Tools:
    qemu: str                 # path of qemu-system-x86_64
    qemu_version: str         # first line of `qemu-system-x86_64 --version`
    qemu_pkg_version: str     # dpkg version of qemu-system-x86
    busybox: str              # path of the static busybox binary
    busybox_pkg_version: str
    kernel: Path              # vmlinuz
    kernel_pkg: str           # e.g. linux-image-6.1.0-56-amd64
    kernel_pkg_version: str   # e.g. 6.1.192-2
    kernel_release: str       # e.g. 6.1.0-56-amd64
    kernel_config: Path | None
    cache: Path

    def versions(self) -> dict[str, str]:
        return {
            "qemu": self.qemu_version,
            "qemu_pkg": f"qemu-system-x86 {self.qemu_pkg_version}",
            "busybox_pkg": f"busybox-static {self.busybox_pkg_version}",
            "kernel_pkg": f"{self.kernel_pkg} {self.kernel_pkg_version}",
            "kernel_release": self.kernel_release,
        }


_lock = threading.Lock()
_tools: dict[str, Tools] = {}
_apt_updated = False


def cache_dir() -> Path:
    from fwc_plugins.bootrun.kernel import cache_dir as fwc_cache

    p = fwc_cache()
    p.mkdir(parents=True, exist_ok=True)
    return p


def _run(argv: list[str], timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    from fwc_plugins.bootrun.kernel import run

    return run(argv, timeout, **kw)


def _dpkg_version(pkg: str) -> str | None:
    try:
        r = _run(["dpkg-query", "-W", "-f=${Status}\t${Version}", pkg], timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0 or "install ok installed" not in r.stdout:
        return None
    return r.stdout.split("\t", 1)[1].strip()


def _apt_update() -> None:
    global _apt_updated
    if _apt_updated:
        return
    r = _run(["apt-get", "update", "-q"])
    if r.returncode != 0:
        raise OracleUnavailable(f"apt-get update failed:\n{r.stderr[-2000:]}")
    _apt_updated = True


def _is_static_elf(path: str) -> bool:
    """True if `path` is an ELF file without a PT_INTERP program header."""
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
                return False
            endian = "<" if hdr[5] == 1 else ">"
            phoff, = struct.unpack_from(endian + "Q", hdr, 0x20)
            phentsize, phnum = struct.unpack_from(endian + "HH", hdr, 0x36)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        p_type, = struct.unpack_from(endian + "I", ph, i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def _find_static_busybox() -> str | None:
    for cand in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox") or ""):
        if cand and os.path.exists(cand) and _is_static_elf(cand):
            return os.path.realpath(cand)
    return None


def _ensure_apt_packages() -> None:
    have_qemu = shutil.which(QEMU) is not None and _dpkg_version("qemu-system-x86")
    have_bb = _find_static_busybox() is not None
    if have_qemu and have_bb:
        return
    if os.environ.get("FWC_ORACLE_NO_INSTALL"):
        raise OracleUnavailable(
            f"{QEMU} or a static busybox is missing and FWC_ORACLE_NO_INSTALL is set")
    if os.geteuid() != 0:
        raise OracleUnavailable("need root to apt-get install " + " ".join(APT_PACKAGES))
    _apt_update()
    argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_PACKAGES]
    log.info("running %s", " ".join(argv))
    r = _run(argv)
    if r.returncode != 0:
        raise OracleUnavailable(f"{' '.join(argv)} failed:\n{r.stderr[-3000:]}")
    if shutil.which(QEMU) is None:
        raise OracleUnavailable(f"{QEMU} not found after installing qemu-system-x86")
    if _find_static_busybox() is None:
        raise OracleUnavailable("no static busybox after installing busybox-static")


def _ensure_kernel(cache: Path) -> tuple[str, str, Path]:
    """Return (package, version, directory holding boot/): fwc's own kernel fetcher
    (``fwc kernel``, fwc_plugins.bootrun.kernel), so the tests and users share one cache."""
    from fwc_plugins.bootrun.kernel import KernelUnavailable, cached_kernel, fetch_kernel

    wanted = os.environ.get("FWC_ORACLE_KERNEL_PKG", "").strip()
    if os.environ.get("FWC_ORACLE_NO_INSTALL"):
        have = cached_kernel(cache)
        if have is None or (wanted and have.package != wanted.partition("=")[0]):
            raise OracleUnavailable(f"kernel {wanted or 'package'} not in cache and FWC_ORACLE_NO_INSTALL is set")
    else:
        try:
            have = fetch_kernel(wanted, cache, say=log.info)
        except KernelUnavailable as e:
            raise OracleUnavailable(str(e)) from e
    if have.package != REFERENCE_KERNEL_PKG:
        log.warning("using %s; reference results were taken with %s", have.package, REFERENCE_KERNEL_PKG)
    return have.package, have.version, have.vmlinuz.parent.parent


#: Debian's 6.12 kernel packages (group 1: the release, uname -r); ``fwc kernel`` fetches 6.1 only.
KERNEL612_RE = re.compile(r"^linux-image-(6\.12\.\d+\+deb\d+-amd64)-unsigned$")


def _ensure_kernel612(cache: Path) -> tuple[str, str, Path]:
    """(package, version, directory holding boot/) of Debian's ``linux-image-6.12.*-amd64-unsigned``:
    ``$FWC_ORACLE_KERNEL612_PKG``, else the newest in the cache, else the newest ``apt-cache search``
    finds; ``apt-get download`` into the shared cache, only boot/ unpacked (as ``fwc kernel`` does)."""
    wanted = os.environ.get("FWC_ORACLE_KERNEL612_PKG", "").strip()
    kroot = cache / "kernel"
    numbers = lambda n: [int(x) for x in re.findall(r"\d+", n)]  # noqa: E731
    if wanted:
        if not KERNEL612_RE.match(wanted):
            raise OracleUnavailable(f"FWC_ORACLE_KERNEL612_PKG={wanted!r} is not a 6.12 amd64 kernel package")
        pkg = wanted
    else:
        cached = sorted((p.name for p in kroot.glob("linux-image-6.12.*") if KERNEL612_RE.match(p.name)
                         and (p / "ok").exists()), key=numbers) if kroot.is_dir() else []
        if cached:
            pkg = cached[-1]
        else:
            if os.environ.get("FWC_ORACLE_NO_INSTALL"):
                raise OracleUnavailable("no 6.12 kernel in the cache and FWC_ORACLE_NO_INSTALL is set")
            _apt_update()
            r = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$"],
                     timeout=120)
            pkgs = sorted((w.split()[0] for w in r.stdout.splitlines() if w.strip()), key=numbers)
            if not pkgs:
                raise OracleUnavailable("no linux-image-6.12.*-amd64-unsigned in the archive this machine reaches")
            pkg = pkgs[-1]
    kdir = kroot / pkg
    if (kdir / "ok").exists():
        return pkg, (kdir / "ok").read_text().strip(), kdir
    if os.environ.get("FWC_ORACLE_NO_INSTALL"):
        raise OracleUnavailable(f"kernel {pkg} not in cache and FWC_ORACLE_NO_INSTALL is set")
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    hits = sorted(debs.glob(f"{pkg}_*_amd64.deb"))
    if not hits:
        _apt_update()
        r = _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg], cwd=debs)
        if r.returncode != 0:
            raise OracleUnavailable(f"apt-get download {pkg} failed:\n{r.stderr[-2000:]}")
        hits = sorted(debs.glob(f"{pkg}_*_amd64.deb"))
        if not hits:
            raise OracleUnavailable(f"apt-get download {pkg} produced no .deb in {debs}")
    ver = _run(["dpkg-deb", "-f", str(hits[-1]), "Version"], timeout=60).stdout.strip()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        r = _run(["dpkg-deb", "-x", str(hits[-1]), tmp])
        if r.returncode != 0:
            raise OracleUnavailable(f"dpkg-deb -x {hits[-1]} failed:\n{r.stderr[-2000:]}")
        if kdir.exists():
            shutil.rmtree(kdir)
        kdir.mkdir(parents=True)
        shutil.move(os.path.join(tmp, "boot"), kdir / "boot")
    (kdir / "ok").write_text(ver + "\n")
    return pkg, ver, kdir


def ensure_tools(series: str = "6.1") -> Tools:
    """Install/fetch everything the boot oracle needs, with Debian's kernel of ``series`` ("6.1",
    through ``fwc kernel``'s fetcher, or "6.12"); idempotent and cached.

    Raises OracleUnavailable with an explanation when something cannot be obtained.
    """
    if series not in ("6.1", "6.12"):
        raise OracleUnavailable(f"no Debian kernel series {series!r} (only 6.1 and 6.12)")
    with _lock:
        if series in _tools:
            return _tools[series]
        try:
            _ensure_apt_packages()
            cache = cache_dir()
            pkg, pkg_ver, kdir = _ensure_kernel(cache) if series == "6.1" else _ensure_kernel612(cache)
        except (OSError, subprocess.SubprocessError) as e:
            raise OracleUnavailable(f"cannot prepare the QEMU oracle: {e}") from e
        release = pkg[len("linux-image-"):].removesuffix("-unsigned")
        vmlinuz = kdir / "boot" / f"vmlinuz-{release}"
        if not vmlinuz.exists():
            raise OracleUnavailable(f"{vmlinuz} missing in the unpacked kernel package")
        config = kdir / "boot" / f"config-{release}"
        qemu = shutil.which(QEMU)
        assert qemu
        qv = _run([qemu, "--version"], timeout=60).stdout.splitlines()
        bb = _find_static_busybox()
        assert bb
        tools = _tools[series] = Tools(
            qemu=qemu,
            qemu_version=qv[0].strip() if qv else "?",
            qemu_pkg_version=_dpkg_version("qemu-system-x86") or "?",
            busybox=bb,
            busybox_pkg_version=_dpkg_version("busybox-static") or "?",
            kernel=vmlinuz,
            kernel_pkg=pkg,
            kernel_pkg_version=pkg_ver,
            kernel_release=release,
            kernel_config=config if config.exists() else None,
            cache=cache,
        )
        log.info("QEMU oracle versions: %s", tools.versions())
        return tools
