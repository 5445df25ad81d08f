"""The real Linux 6.1 memblock allocator, built in user space as a test oracle.

At test time this module fetches Debian's ``linux-source-6.1`` package with
``apt-get download``, extracts only what the kernel's own user-space harness
``tools/testing/memblock`` needs (``mm/memblock.c``, the harness, ``tools/include``
...), and links the unmodified ``memblock.c`` with fwc's op-script driver
(``driver.c`` and ``physmem_shim.h`` beside this file).  No kernel source is
kept in the repository; everything lives in the cache directory
``${FWC_ORACLE_CACHE:-~/.cache/fwc-oracles}/memblock``, keyed by the package
version and a hash of the driver sources and build flags.

Environment:
  FWC_ORACLE_CACHE        cache root (default ~/.cache/fwc-oracles)
  FWC_MEMBLOCK_ORACLE     path of a ready driver binary (skips everything)
  FWC_ORACLE_OFFLINE=1    never run apt-get; use only what is cached
  FWC_MEMBLOCK_SANITIZE=1 build with -fsanitize=address,undefined

Host needs: apt-get and dpkg-deb (Debian), tar, xz-utils and gcc (no make, no
liburcu-dev: the driver stubs kmalloc/kfree instead of linking tools/lib/slab.c).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
DRIVER_C = HERE / "driver.c"
SHIM_H = HERE / "physmem_shim.h"
PACKAGE = "linux-source-6.1"
SRC_TOP = "linux-source-6.1"
EXTRACT = [
    f"{SRC_TOP}/tools/testing/memblock/*",
    f"{SRC_TOP}/tools/include/*",
    f"{SRC_TOP}/tools/arch/x86/include/*",
    f"{SRC_TOP}/mm/memblock.c",
    f"{SRC_TOP}/include/linux/memblock.h",
    f"{SRC_TOP}/include/linux/gfp_types.h",
]
BASE_CFLAGS = ["-I.", "-I../../include", "-Wall", "-O2",
               "-D", "CONFIG_PHYS_ADDR_T_64BIT", "-D", "CONFIG_NUMA",
               "-D", "CONFIG_NODES_SHIFT=4"]
SAN_FLAGS = ["-fsanitize=address", "-fsanitize=undefined"]
SEPARATOR = "%%"


class OracleUnavailable(RuntimeError):
    """The real allocator could not be obtained or built on this host."""


def cache_dir() -> Path:
    root = os.environ.get("FWC_ORACLE_CACHE") or str(Path.home() / ".cache" / "fwc-oracles")
    return Path(root) / "memblock"


def _run(cmd, what: str, **kw) -> subprocess.CompletedProcess:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    except (OSError, subprocess.SubprocessError) as e:
        raise OracleUnavailable(f"{what}: {e}") from e
    if p.returncode != 0:
        tail = (p.stderr or p.stdout or "").strip().splitlines()[-8:]
        raise OracleUnavailable(f"{what} failed (rc {p.returncode}): " + " | ".join(tail))
    return p


def _find_deb(cache: Path) -> Path | None:
    debs = sorted(cache.glob(f"{PACKAGE}_*_all.deb"))
    return debs[-1] if debs else None


def _download(cache: Path) -> Path:
    if os.environ.get("FWC_ORACLE_OFFLINE") == "1":
        raise OracleUnavailable("no cached linux-source-6.1 .deb and FWC_ORACLE_OFFLINE=1")
    if not shutil.which("apt-get"):
        raise OracleUnavailable("apt-get not found (not a Debian host)")
    try:
        _run(["apt-get", "download", PACKAGE], "apt-get download", cwd=cache, timeout=600)
    except OracleUnavailable:
        _run(["apt-get", "update"], "apt-get update", timeout=600)
        _run(["apt-get", "download", PACKAGE], "apt-get download", cwd=cache, timeout=600)
    deb = _find_deb(cache)
    if deb is None:
        raise OracleUnavailable("apt-get download produced no .deb")
    return deb


def _version(deb: Path) -> str:
    return deb.name.split("_")[1]


def _extract(deb: Path, dest: Path) -> None:
    for tool in ("dpkg-deb", "tar", "xz"):
        if not shutil.which(tool):
            raise OracleUnavailable(f"{tool} not found")
    tmp = Path(tempfile.mkdtemp(prefix="src-", dir=dest.parent))
    try:
        cmd = ("dpkg-deb --fsys-tarfile {deb} | tar -xO ./usr/src/{top}.tar.xz "
               "| tar -xJ -C {tmp} --wildcards {pats}").format(
            deb=_q(deb), top=SRC_TOP, tmp=_q(tmp), pats=" ".join(_q(p) for p in EXTRACT))
        _run(["bash", "-o", "pipefail", "-c", cmd], "extracting linux-source", timeout=900)
        if not (tmp / SRC_TOP / "mm" / "memblock.c").is_file():
            raise OracleUnavailable("mm/memblock.c missing from the package")
        os.replace(tmp / SRC_TOP, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _q(p) -> str:
    return "'" + str(p).replace("'", "'\\''") + "'"


def _symlink(link: Path, target: str) -> None:
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)


def _build(src: Path, out: Path, sanitize: bool) -> Path:
    if not shutil.which("gcc"):
        raise OracleUnavailable("gcc not found")
    hd = src / "tools" / "testing" / "memblock"
    # what the harness Makefile's 'include' and 'memblock.c' targets do
    _symlink(hd / "linux" / "memblock.h", "../../../../include/linux/memblock.h")
    _symlink(hd / "asm" / "asm.h", "../../../arch/x86/include/asm/asm.h")
    _symlink(hd / "asm" / "cmpxchg.h", "../../../arch/x86/include/asm/cmpxchg.h")
    _symlink(hd / "memblock.c", "../../../mm/memblock.c")
    cflags = BASE_CFLAGS + (SAN_FLAGS if sanitize else [])
    tmp = Path(tempfile.mkdtemp(prefix="build-", dir=out.parent))
    try:
        objs = []
        units = [("memblock.c", "memblock.o", ["-include", str(SHIM_H)]),
                 ("mmzone.c", "mmzone.o", []),
                 ("lib/slab.c", "harness_slab.o", []),
                 (str(DRIVER_C), "driver.o", [])]
        for srcf, obj, extra in units:
            _run(["gcc", *cflags, *extra, "-c", srcf, "-o", str(tmp / obj)],
                 f"compiling {Path(srcf).name}", cwd=hd, timeout=300)
            objs.append(str(tmp / obj))
        _run(["gcc", *(SAN_FLAGS if sanitize else []), *objs, "-o", str(tmp / "mbdrv")],
             "linking the memblock driver", timeout=300)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / "mbdrv"


def _key(sanitize: bool) -> str:
    h = hashlib.sha256()
    for p in (DRIVER_C, SHIM_H):
        h.update(p.read_bytes())
    h.update(" ".join(BASE_CFLAGS + (SAN_FLAGS if sanitize else [])).encode())
    return h.hexdigest()[:12]


def build_oracle(sanitize: bool | None = None) -> Path:
    """Return the path of the driver binary, fetching and building as needed."""
    if sanitize is None:
        sanitize = os.environ.get("FWC_MEMBLOCK_SANITIZE") == "1"
    cache = cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OracleUnavailable(f"cannot create {cache}: {e}") from e
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        deb = _find_deb(cache) or _download(cache)
        version = _version(deb)
        binary = cache / f"build-{version}-{_key(sanitize)}{'-san' if sanitize else ''}" / "mbdrv"
        if binary.is_file():
            return binary
        src = cache / f"src-{version}"
        if not src.is_dir():
            _extract(deb, src)
        built = _build(src, binary.parent, sanitize)
        # drop builds of older driver sources (same flavour)
        for old in cache.glob("build-*"):
            if old != binary.parent and old.name.endswith("-san") == sanitize:
                shutil.rmtree(old, ignore_errors=True)
        return built


class MemblockOracle:
    """Runs op-scripts through the real allocator's driver binary."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def run(self, script: str, *, echo: bool = False, timeout: float = 300) -> tuple[int, str]:
        """Run one script; returns (exit status, stdout)."""
        args = [str(self.path)] + (["-e"] if echo else [])
        p = subprocess.run(args, input=script, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout

    def run_many(self, scripts: Sequence[str], *, timeout: float = 600) -> list[str]:
        """Run many scripts in one process (each in a forked child).

        Returns each script's stdout; a script that hit a kernel BUG_ON ends
        with a line ``abort signal=N``, a malformed one with ``error ...``.
        """
        for s in scripts:
            if any(line.strip() == SEPARATOR for line in s.split("\n")):
                raise ValueError("a script contains the batch separator line")
        data = "".join(s + "\n" + SEPARATOR + "\n" for s in scripts)
        p = subprocess.run([str(self.path), "-b"], input=data, capture_output=True,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"memblock driver failed (rc {p.returncode}): {p.stderr[-2000:]}")
        parts = p.stdout.split(SEPARATOR + "\n")
        if len(parts) != len(scripts) + 1 or parts[-1] != "":
            raise RuntimeError(f"memblock driver returned {len(parts) - 1} outputs "
                               f"for {len(scripts)} scripts")
        return parts[:-1]


_ORACLE: MemblockOracle | None = None
_ERROR: OracleUnavailable | None = None


def get_oracle() -> MemblockOracle:
    """The (cached) oracle, or raise OracleUnavailable with the reason."""
    global _ORACLE, _ERROR
    if _ORACLE is not None:
        return _ORACLE
    if _ERROR is not None:
        raise _ERROR
    try:
        override = os.environ.get("FWC_MEMBLOCK_ORACLE")
        if override:
            if not os.access(override, os.X_OK):
                raise OracleUnavailable(f"FWC_MEMBLOCK_ORACLE={override} is not executable")
            path = Path(override)
        else:
            path = build_oracle()
        _ORACLE = MemblockOracle(path)
        return _ORACLE
    except OracleUnavailable as e:
        _ERROR = e
        raise


def require_oracle() -> MemblockOracle:
    """For tests: the oracle, else skip -- or fail when CI=true."""
    import pytest

    try:
        return get_oracle()
    except OracleUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"memblock oracle unavailable in CI: {e}")
        pytest.skip(f"memblock oracle unavailable: {e}")


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    o = get_oracle()
    print(o.path, file=sys.stderr)
    rc, out = o.run(sys.stdin.read(), echo="-e" in sys.argv)
    sys.stdout.write(out)
    sys.exit(rc)
