"""newc ("070701") cpio: a deterministic writer, and a reader that scans like Linux.

The writer produces what ``find kernel | LC_ALL=C sort | cpio -o -H newc -R 0:0`` would
for the same files, minus the 512-byte block padding and with every mtime 0 and inode
numbers counted from 1 in entry order, so equal inputs give equal bytes
(acpi-tables.md §11.2).  :func:`scan_acpi` walks an initrd the way Linux 6.1's
``find_cpio_data`` does for ``kernel/firmware/acpi/`` (skipping NUL padding in 4-byte
steps, stopping at the first bytes that are not a newc header, e.g. gzip data).
"""

from __future__ import annotations

import stat
from typing import NamedTuple

MAGIC = b"070701"
HEADER_SIZE = 110
ACPI_PREFIX = "kernel/firmware/acpi/"
TRAILER = "TRAILER!!!"
#: lib/earlycpio.c: a name (after the prefix) of 17 characters or more makes Linux warn
#: "File ... exceeding MAX_CPIO_FILE_NAME [18]" (and names are truncated to 17).
MAX_NAME = 16


class Entry(NamedTuple):
    name: str
    mode: int
    data: bytes
    ino: int = 0
    nlink: int = 1
    mtime: int = 0
    uid: int = 0
    gid: int = 0
    rdevmajor: int = 0
    rdevminor: int = 0

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


def _align4(n: int) -> int:
    return (n + 3) & ~3


class Writer:
    """Append entries in the order given; ``getvalue()`` adds the trailer.

    Every field is fixed: inode numbers 1, 2, ... in entry order, uid/gid 0, mtime 0,
    nlink 2 for directories and 1 otherwise.  Offsets are counted from the start of
    this archive, so its length is always a multiple of 4 and another archive may follow.
    """

    def __init__(self) -> None:
        self._out = bytearray()
        self._ino = 0

    def _entry(self, name: str, mode: int, data: bytes = b"", nlink: int = 1,
               rdev: tuple[int, int] = (0, 0), ino: int | None = None) -> None:
        if ino is None:
            self._ino += 1
            ino = self._ino
        name_b = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
        self._out += MAGIC + b"".join(b"%08X" % v for v in fields) + name_b
        self._out += b"\0" * (_align4(len(self._out)) - len(self._out))
        self._out += data
        self._out += b"\0" * (_align4(len(self._out)) - len(self._out))

    def dir(self, name: str, perm: int = 0o755) -> None:
        self._entry(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | perm, bytes(data))

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def getvalue(self) -> bytes:
        out = Writer()
        out._out = bytearray(self._out)
        out._entry(TRAILER, 0, ino=0)
        return bytes(out._out)


def tree(files: dict[str, bytes], dirs: tuple[str, ...] = ()) -> bytes:
    """An archive of ``files`` (path -> bytes) with every parent directory, names sorted
    bytewise (``LC_ALL=C sort``), so the result depends only on the contents."""
    names = set(dirs)
    for path in files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            names.add("/".join(parts[:i]))
    w = Writer()
    for name in sorted(names | set(files), key=lambda s: s.encode()):
        if name in files:
            w.file(name, files[name])
        else:
            w.dir(name)
    return w.getvalue()


class CpioError(ValueError):
    pass


def read(blob: bytes, offset: int = 0) -> tuple[list[Entry], int]:
    """Parse one archive starting at ``offset``; return its entries (without the trailer)
    and the offset just after the trailer.  Strict: raises CpioError on any defect."""
    entries: list[Entry] = []
    off = offset
    while True:
        if off + HEADER_SIZE > len(blob):
            raise CpioError(f"truncated header at {off}")
        if blob[off:off + 6] not in (b"070701", b"070702"):
            raise CpioError(f"bad magic {blob[off:off + 6]!r} at {off}")
        try:
            f = [int(blob[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        except ValueError:
            raise CpioError(f"bad header field at {off}") from None
        ino, mode, uid, gid, nlink, mtime, size, _, _, rmaj, rmin, namesize, _ = f
        name_end = off + HEADER_SIZE + namesize
        if namesize < 1 or name_end > len(blob) or blob[name_end - 1] != 0:
            raise CpioError(f"bad name at {off}")
        name = blob[off + HEADER_SIZE:name_end - 1].decode()
        data_off = offset + _align4(name_end - offset)
        end = offset + _align4(data_off + size - offset)
        if data_off + size > len(blob):
            raise CpioError(f"truncated data of {name!r}")
        if name == TRAILER:
            return entries, end
        entries.append(Entry(name, mode, bytes(blob[data_off:data_off + size]), ino, nlink, mtime, uid, gid,
                             rmaj, rmin))
        off = end


class Found(NamedTuple):
    name: str  # the path after the prefix, as Linux keeps it (at most 17 characters)
    path: str  # the whole path in the archive
    data: bytes


def scan_acpi(blob: bytes, prefix: str = ACPI_PREFIX, limit: int | None = None) -> list[Found]:
    """Regular files under ``prefix`` in the leading uncompressed part of ``blob``, in
    archive order, as Linux 6.1 ``find_cpio_data`` finds them (lib/earlycpio.c)."""
    out: list[Found] = []
    p, n = 0, len(blob)
    pre = prefix.encode()
    while n - p > HEADER_SIZE:
        if blob[p] == 0:
            p += 4  # skip NUL padding between archives in 4-byte steps
            continue
        try:
            f = [int(blob[p + 6 + 8 * i: p + 14 + 8 * i], 16) for i in range(13)]
        except ValueError:
            break
        if blob[p:p + 5] != b"07070" or blob[p + 5:p + 6] not in (b"1", b"2"):
            break
        mode, size, namesize = f[1], f[6], f[11]
        dptr = _align4(p + HEADER_SIZE + namesize)
        nptr = _align4(dptr + size)
        if nptr > n:
            break
        name_b = blob[p + HEADER_SIZE:p + HEADER_SIZE + namesize].split(b"\0", 1)[0]
        if (mode & 0o170000) == 0o100000 and namesize >= len(pre) and name_b.startswith(pre):
            out.append(Found(name_b[len(pre):len(pre) + 17].decode(errors="replace"), name_b.decode(errors="replace"),
                             bytes(blob[dptr:dptr + size])))
            if limit is not None and len(out) >= limit:
                break
        p = nptr
    return out
