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
                           ``linux-image-6.12.115+deb12-amd64-unsigned`` (default: the one
                           in the cache, else the reference package, else the newest
                           ``apt-cache search`` finds)
``FWC_ORACLE_NO_INSTALL``  if set, never run apt-get (only use what is there)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import struct
import subprocess
import threading
from pathlib import Path

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


#: The environment variable naming the package of each series (``NAME`` or ``NAME=VERSION``).
KERNEL_PKG_ENV = {"6.1": "FWC_ORACLE_KERNEL_PKG", "6.12": "FWC_ORACLE_KERNEL612_PKG"}


def _ensure_kernel(cache: Path, series: str) -> tuple[str, str, Path]:
    """Return (package, version, directory holding boot/) of Debian's kernel of ``series``:
    fwc's own kernel fetcher (``fwc kernel SERIES``, fwc_plugins.bootrun.kernel), so the tests
    and users share one cache."""
    from fwc_plugins.bootrun.kernel import SERIES, KernelUnavailable, cached_kernel, fetch_kernel, series_of

    wanted = os.environ.get(KERNEL_PKG_ENV[series], "").strip()
    if wanted and series_of(wanted.partition("=")[0]) != series:
        raise OracleUnavailable(f"{KERNEL_PKG_ENV[series]}={wanted!r} is not a Debian {series} amd64 kernel package")
    if os.environ.get("FWC_ORACLE_NO_INSTALL"):
        have = cached_kernel(cache, series)
        if have is None or (wanted and have.package != wanted.partition("=")[0]):
            raise OracleUnavailable(f"kernel {wanted or series} not in cache and FWC_ORACLE_NO_INSTALL is set")
    else:
        try:
            have = fetch_kernel(wanted, cache, say=log.info, series=series)
        except KernelUnavailable as e:
            raise OracleUnavailable(str(e)) from e
    if have.package != SERIES[series].reference:
        log.warning("using %s; reference results were taken with %s", have.package, SERIES[series].reference)
    return have.package, have.version, have.vmlinuz.parent.parent


def ensure_tools(series: str = "6.1") -> Tools:
    """Install/fetch everything the boot oracle needs, with Debian's kernel of ``series`` ("6.1" or "6.12",
    through ``fwc kernel``'s fetcher); idempotent and cached.

    Raises OracleUnavailable with an explanation when something cannot be obtained.
    """
    if series not in KERNEL_PKG_ENV:
        raise OracleUnavailable(f"no Debian kernel series {series!r} (only {' and '.join(KERNEL_PKG_ENV)})")
    with _lock:
        if series in _tools:
            return _tools[series]
        try:
            _ensure_apt_packages()
            cache = cache_dir()
            pkg, pkg_ver, kdir = _ensure_kernel(cache, series)
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
