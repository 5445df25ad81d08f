"""Build the oracle initramfs (busybox-static + /init) and ACPI-override cpio archives.

Pure Python: a newc ("070701") cpio writer, gzip with mtime 0, sorted names, root
ownership, fixed mtimes, so the same inputs always give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import subprocess
from pathlib import Path

INIT_SCRIPT = Path(__file__).with_name("init.sh")


class CpioWriter:
    """Minimal newc cpio writer (the format the kernel's initramfs unpacker reads)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", *, nlink: int = 1,
               rdevmajor: int = 0, rdevminor: int = 0) -> None:
        name_b = name.encode() + b"\0"
        fields = [self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0,
                  rdevmajor, rdevminor, len(name_b), 0]
        self._ino += 1
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        buf = hdr + name_b
        buf += b"\0" * (-len(buf) % 4)
        buf += data
        buf += b"\0" * (-len(buf) % 4)
        self._parts.append(buf)

    def dir(self, name: str, perm: int = 0o755) -> None:
        self._entry(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._entry(name, stat.S_IFCHR | perm, rdevmajor=major, rdevminor=minor)

    def getvalue(self) -> bytes:
        trailer = CpioWriter()
        trailer._ino = 0
        trailer._entry("TRAILER!!!", 0, nlink=1)
        return b"".join(self._parts) + trailer._parts[0]


def acpi_override_cpio(tables: dict[str, bytes] | list[bytes]) -> bytes:
    """Uncompressed cpio for the initrd ACPI table upgrade (acpi-tables.md §11).

    `tables` maps file names (``srat0.aml``; ``.aml`` is added if missing) to table bytes,
    or is a list of tables (named ``<sig><n>.aml`` from their signatures).  Prepend the
    result to the gzip initramfs (see ``boot(early_cpio=...)``).
    """
    if not isinstance(tables, dict):
        named: dict[str, bytes] = {}
        for i, t in enumerate(tables):
            named[f"{t[:4].decode('ascii').lower()}{i}.aml"] = t
        tables = named
    w = CpioWriter()
    for d in ("kernel", "kernel/firmware", "kernel/firmware/acpi"):
        w.dir(d)
    for name in sorted(tables):
        fn = name if name.endswith(".aml") else name + ".aml"
        w.file(f"kernel/firmware/acpi/{fn}", bytes(tables[name]))
    return w.getvalue()


def busybox_applets(busybox: str) -> list[str]:
    out = subprocess.run([busybox, "--list"], capture_output=True, text=True, timeout=60,
                         check=True).stdout.split()
    return sorted(set(a for a in out if a and "/" not in a and a != "busybox"))


def build_initramfs_bytes(busybox: str, init_script: bytes | None = None) -> bytes:
    """Return the gzip-compressed newc initramfs."""
    if init_script is None:
        init_script = INIT_SCRIPT.read_bytes()
    bb = Path(busybox).read_bytes()
    w = CpioWriter()
    entries: list[tuple[str, str, object]] = []
    for d in ("bin", "dev", "proc", "sbin", "sys", "tmp"):
        entries.append((d, "dir", None))
    entries.append(("bin/busybox", "exe", bb))
    for a in busybox_applets(busybox):
        entries.append((f"bin/{a}", "link", "busybox"))
    entries.append(("dev/console", "chr", (5, 1)))
    entries.append(("dev/null", "chr", (1, 3)))
    entries.append(("init", "exe", init_script))
    for name, kind, arg in sorted(entries, key=lambda e: e[0].encode()):
        if kind == "dir":
            w.dir(name)
        elif kind == "exe":
            w.file(name, arg, 0o755)  # type: ignore[arg-type]
        elif kind == "link":
            w.symlink(name, arg)  # type: ignore[arg-type]
        else:
            w.chardev(name, *arg, perm=0o600 if name == "dev/console" else 0o666)  # type: ignore[misc]
    return gzip.compress(w.getvalue(), compresslevel=9, mtime=0)


def initramfs_path(busybox: str, cache: Path, init_script: bytes | None = None) -> Path:
    """Build (or reuse) the initramfs in the cache; the name carries a hash of the inputs."""
    if init_script is None:
        init_script = INIT_SCRIPT.read_bytes()
    h = hashlib.sha256()
    h.update(init_script)
    h.update(Path(busybox).read_bytes())
    h.update(b"v1")
    p = cache / "initramfs" / f"oracle-{h.hexdigest()[:16]}.img"
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(build_initramfs_bytes(busybox, init_script))
        tmp.replace(p)
    return p
