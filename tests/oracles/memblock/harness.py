"""The real Linux memblock allocator (6.1 or 6.12), built in user space as a test oracle.

At test time this module fetches Debian's ``linux-source-6.1`` (or ``linux-source-6.12``:
every function takes the kernel ``version``, default ``"6.1"``) package with
``apt-get download``, extracts only what the kernel's own user-space harness
``tools/testing/memblock`` needs (``mm/memblock.c``, the harness, ``tools/include``
...), and links the unmodified ``memblock.c`` with fwc's op-script driver
(``driver.c`` and ``physmem_shim.h`` beside this file).  No kernel source is
kept in the repository; everything lives in the cache directory
``${FWC_ORACLE_CACHE:-~/.cache/fwc-oracles}/memblock``, keyed by the package
version and a hash of the driver sources and build flags (the two kernels' builds live
side by side).

Environment:
  FWC_ORACLE_CACHE        cache root (default ~/.cache/fwc-oracles)
  FWC_MEMBLOCK_ORACLE     path of a ready 6.1 driver binary (skips everything)
  FWC_MEMBLOCK_ORACLE_612 the same for 6.12
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
#: The kernels whose memblock.c can be built: version -> Debian source package (its tarball's top directory).
VERSIONS = {"6.1": "linux-source-6.1", "6.12": "linux-source-6.12"}
EXTRACT = ["tools/testing/memblock/*", "tools/include/*", "tools/arch/x86/include/*", "mm/memblock.c",
           "include/linux/memblock.h", "include/linux/gfp_types.h"]
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


def _package(version: str) -> str:
    if version not in VERSIONS:
        raise OracleUnavailable(f"no memblock oracle for Linux {version} (only {', '.join(VERSIONS)})")
    return VERSIONS[version]


def _find_deb(cache: Path, version: str = "6.1") -> Path | None:
    debs = sorted(cache.glob(f"{_package(version)}_*_all.deb"))
    return debs[-1] if debs else None


def _download(cache: Path, version: str = "6.1") -> Path:
    package = _package(version)
    if os.environ.get("FWC_ORACLE_OFFLINE") == "1":
        raise OracleUnavailable(f"no cached {package} .deb and FWC_ORACLE_OFFLINE=1")
    if not shutil.which("apt-get"):
        raise OracleUnavailable("apt-get not found (not a Debian host)")
    try:
        _run(["apt-get", "download", package], "apt-get download", cwd=cache, timeout=600)
    except OracleUnavailable:
        _run(["apt-get", "update"], "apt-get update", timeout=600)
        _run(["apt-get", "download", package], "apt-get download", cwd=cache, timeout=600)
    deb = _find_deb(cache, version)
    if deb is None:
        raise OracleUnavailable("apt-get download produced no .deb")
    return deb


def _version(deb: Path) -> str:
    return deb.name.split("_")[1]


def _extract(deb: Path, dest: Path, top: str) -> None:
    for tool in ("dpkg-deb", "tar", "xz"):
        if not shutil.which(tool):
            raise OracleUnavailable(f"{tool} not found")
    tmp = Path(tempfile.mkdtemp(prefix="src-", dir=dest.parent))
    try:
        cmd = ("dpkg-deb --fsys-tarfile {deb} | tar -xO ./usr/src/{top}.tar.xz "
               "| tar -xJ -C {tmp} --wildcards {pats}").format(
            deb=_q(deb), top=top, tmp=_q(tmp), pats=" ".join(_q(f"{top}/{p}") for p in EXTRACT))
        _run(["bash", "-o", "pipefail", "-c", cmd], "extracting linux-source", timeout=900)
        if not (tmp / top / "mm" / "memblock.c").is_file():
            raise OracleUnavailable("mm/memblock.c missing from the package")
        os.replace(tmp / top, dest)
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


def build_oracle(sanitize: bool | None = None, version: str = "6.1") -> Path:
    """Return the path of Linux ``version``'s driver binary, fetching and building as needed."""
    if sanitize is None:
        sanitize = os.environ.get("FWC_MEMBLOCK_SANITIZE") == "1"
    cache = cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OracleUnavailable(f"cannot create {cache}: {e}") from e
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        deb = _find_deb(cache, version) or _download(cache, version)
        pkg_version = _version(deb)
        binary = cache / f"build-{pkg_version}-{_key(sanitize)}{'-san' if sanitize else ''}" / "mbdrv"
        if binary.is_file():
            return binary
        src = cache / f"src-{pkg_version}"
        if not src.is_dir():
            _extract(deb, src, _package(version))
        built = _build(src, binary.parent, sanitize)
        # drop builds of older driver sources (same kernel, same flavour)
        for old in cache.glob(f"build-{pkg_version}-*"):
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


_ORACLE: dict[str, MemblockOracle] = {}
_ERROR: dict[str, OracleUnavailable] = {}


def get_oracle(version: str = "6.1") -> MemblockOracle:
    """The (cached) oracle of Linux ``version``, or raise OracleUnavailable with the reason."""
    if version in _ORACLE:
        return _ORACLE[version]
    if version in _ERROR:
        raise _ERROR[version]
    try:
        var = "FWC_MEMBLOCK_ORACLE" + ("" if version == "6.1" else "_" + version.replace(".", ""))
        override = os.environ.get(var)
        if override:
            if not os.access(override, os.X_OK):
                raise OracleUnavailable(f"{var}={override} is not executable")
            path = Path(override)
        else:
            path = build_oracle(version=version)
        _ORACLE[version] = MemblockOracle(path)
        return _ORACLE[version]
    except OracleUnavailable as e:
        _ERROR[version] = e
        raise


def require_oracle(version: str = "6.1") -> MemblockOracle:
    """For tests: the oracle, else skip -- or fail when CI=true."""
    import pytest

    try:
        return get_oracle(version)
    except OracleUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"memblock oracle unavailable in CI: {e}")
        pytest.skip(f"memblock oracle unavailable: {e}")


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    o = get_oracle("6.12" if "--6.12" in sys.argv else "6.1")
    print(o.path, file=sys.stderr)
    rc, out = o.run(sys.stdin.read(), echo="-e" in sys.argv)
    sys.stdout.write(out)
    sys.exit(rc)


def out_of_bounds_only(model: str, real: str, version: str) -> bool:
    """Whether two different outputs of one script differ only where 6.12's
    memblock_end_of_DRAM() reads ``regions[-1]`` of an empty memory array (out of bounds:
    the driver prints whatever precedes the array, the model 0)."""
    m, r = model.splitlines(), real.splitlines()
    return version == "6.12" and len(m) == len(r) and all(
        a == b or (a == "end_of_dram 0x0" and b.startswith("end_of_dram ")) for a, b in zip(m, r))
