"""Obtain the oracle's ingredients at test time: QEMU, busybox-static, the Debian kernel.

Everything comes from Debian packages through the ordinary clients (apt-get, apt-cache,
dpkg).  QEMU and busybox-static are installed with apt-get (the tests run as root); the
kernel package is only downloaded and unpacked into a cache directory
(``$FWC_ORACLE_CACHE``, default ``~/.cache/fwc-oracles``); nothing goes into /boot.

Environment variables:

``FWC_ORACLE_CACHE``       cache directory (default ``~/.cache/fwc-oracles``)
``FWC_ORACLE_KERNEL_PKG``  exact kernel package, e.g. ``linux-image-6.1.0-56-amd64`` or
                           ``linux-image-6.1.0-56-amd64=6.1.192-2`` (default: the one
                           already in the cache, else the dependency of
                           ``linux-image-amd64``)
``FWC_ORACLE_NO_INSTALL``  if set, never run apt-get (only use what is there)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("fwc.oracle.qemu")

#: The kernel the reference results in shared/spec were taken with.
REFERENCE_KERNEL_PKG = "linux-image-6.1.0-56-amd64"
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
_tools: Tools | None = None
_apt_updated = False


def cache_dir() -> Path:
    d = os.environ.get("FWC_ORACLE_CACHE") or str(Path.home() / ".cache" / "fwc-oracles")
    p = Path(d)
    p.mkdir(parents=True, exist_ok=True)
    return p


def _run(argv: list[str], timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, **kw)


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


_KPKG_RE = re.compile(r"^linux-image-(6\.1\.0-\d+-amd64)$")


def _kernel_dir(cache: Path, pkg: str) -> Path:
    return cache / "kernel" / pkg


def _cached_kernels(cache: Path) -> list[str]:
    kdir = cache / "kernel"
    if not kdir.is_dir():
        return []
    out = [p.name for p in kdir.iterdir()
           if _KPKG_RE.match(p.name) and (p / "ok").exists()]

    def abi(name: str) -> int:
        return int(name.split("-")[3])
    return sorted(out, key=abi)


def _candidate_kernel_pkg() -> str:
    _apt_update()
    r = _run(["apt-cache", "depends", "linux-image-amd64"], timeout=120)
    m = re.search(r"Depends:\s*(linux-image-6\.1\.0-\d+-amd64)\b", r.stdout)
    if not m:
        raise OracleUnavailable(
            "cannot find the kernel ABI package: `apt-cache depends linux-image-amd64` gave\n"
            + r.stdout[-1000:] + r.stderr[-1000:])
    return m.group(1)


def _ensure_kernel(cache: Path) -> tuple[str, str, Path]:
    """Return (package, version, directory holding boot/)."""
    wanted = os.environ.get("FWC_ORACLE_KERNEL_PKG", "").strip()
    pkg_version = ""
    if wanted:
        pkg, _, pkg_version = wanted.partition("=")
        if not _KPKG_RE.match(pkg):
            raise OracleUnavailable(f"FWC_ORACLE_KERNEL_PKG={wanted!r} is not a 6.1 amd64 kernel")
    else:
        cached = _cached_kernels(cache)
        if REFERENCE_KERNEL_PKG in cached:
            pkg = REFERENCE_KERNEL_PKG
        elif cached:
            pkg = cached[-1]
        else:
            pkg = _candidate_kernel_pkg()
            if pkg != REFERENCE_KERNEL_PKG:
                log.warning("using %s; reference results were taken with %s",
                            pkg, REFERENCE_KERNEL_PKG)
    kdir = _kernel_dir(cache, pkg)
    if (kdir / "ok").exists():
        ver = (kdir / "ok").read_text().strip()
        if not pkg_version or pkg_version == ver:
            return pkg, ver, kdir
    if os.environ.get("FWC_ORACLE_NO_INSTALL"):
        raise OracleUnavailable(f"kernel {pkg} not in cache and FWC_ORACLE_NO_INSTALL is set")
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    spec = f"{pkg}={pkg_version}" if pkg_version else pkg
    deb = _find_deb(debs, pkg, pkg_version)
    if deb is None:
        _apt_update()
        argv = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", spec]
        log.info("running %s (about 70 MB)", " ".join(argv))
        r = _run(argv, cwd=debs)
        if r.returncode != 0:
            raise OracleUnavailable(f"{' '.join(argv)} failed:\n{r.stderr[-2000:]}")
        deb = _find_deb(debs, pkg, pkg_version)
        if deb is None:
            raise OracleUnavailable(f"apt-get download {spec} produced no .deb in {debs}")
    r = _run(["dpkg-deb", "-f", str(deb), "Version"], timeout=60)
    ver = r.stdout.strip()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        r = _run(["dpkg-deb", "-x", str(deb), tmp])  # same as dpkg -x
        if r.returncode != 0:
            raise OracleUnavailable(f"dpkg-deb -x {deb} failed:\n{r.stderr[-2000:]}")
        if kdir.exists():
            shutil.rmtree(kdir)
        kdir.mkdir(parents=True)
        shutil.move(os.path.join(tmp, "boot"), kdir / "boot")  # drop the modules
    (kdir / "ok").write_text(ver + "\n")
    return pkg, ver, kdir


def _find_deb(debs: Path, pkg: str, version: str) -> Path | None:
    hits = sorted(debs.glob(f"{pkg}_*_amd64.deb"))
    if version:
        quoted = version.replace(":", "%3a")
        hits = [h for h in hits if h.name == f"{pkg}_{quoted}_amd64.deb"]
    return hits[-1] if hits else None


def ensure_tools() -> Tools:
    """Install/fetch everything the boot oracle needs; idempotent and cached.

    Raises OracleUnavailable with an explanation when something cannot be obtained.
    """
    global _tools
    with _lock:
        if _tools is not None:
            return _tools
        try:
            _ensure_apt_packages()
            cache = cache_dir()
            pkg, pkg_ver, kdir = _ensure_kernel(cache)
        except (OSError, subprocess.SubprocessError) as e:
            raise OracleUnavailable(f"cannot prepare the QEMU oracle: {e}") from e
        release = pkg[len("linux-image-"):]
        vmlinuz = kdir / "boot" / f"vmlinuz-{release}"
        if not vmlinuz.exists():
            raise OracleUnavailable(f"{vmlinuz} missing in the unpacked kernel package")
        config = kdir / "boot" / f"config-{release}"
        qemu = shutil.which(QEMU)
        assert qemu
        qv = _run([qemu, "--version"], timeout=60).stdout.splitlines()
        bb = _find_static_busybox()
        assert bb
        _tools = Tools(
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
        log.info("QEMU oracle versions: %s", _tools.versions())
        return _tools
