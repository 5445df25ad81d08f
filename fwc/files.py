"""What fwc may read: the one place every input file is opened (docs/security.md).

The policy:

* a name written *inside* a description (``include "…"``, ``initrd { override "…" }``) is
  resolved against the including file's directory, then the ``-I`` directories, and must
  lie — symbolic links followed — under the directory of the file named on the command
  line or under an ``-I`` directory (:class:`Roots`); ``Fwc(read_anywhere=True)`` (the
  command line's ``--read-anywhere``) lifts that;
* an included file must be named ``*.fwc``: only fwc source is echoed in diagnostics;
* every file fwc reads is a regular file (a fifo, a device or a directory is refused
  before it is opened for reading: opening never blocks) of bounded size, read at most
  to its bound (:func:`read_bytes`), so ``/dev/zero`` or a file growing under fwc cannot
  exhaust memory;
* names given on the command line (the description, ``fwc decompile`` inputs) are the
  user's choice: only the regular-file and size rules apply.

A refusal is a :class:`Refused` (an ``OSError``) whose message names the path and says
why; callers turn it into their diagnostic.
"""

from __future__ import annotations

import errno
import os
import stat

MiB = 1 << 20
#: The largest description file (and included file) fwc reads.
MAX_SOURCE = 16 * MiB
#: The largest binary or text input (ACPI table, acpidump text, memory map, initrd base).
MAX_INPUT = 64 * MiB
#: The most include statements one description may expand (an include "diamond", each file
#: including the next twice, doubles per level: this bounds it).
MAX_INCLUDES = 4096
#: The most statements includes may bring into one description.
MAX_INCLUDED_STATEMENTS = 1 << 18
SOURCE_SUFFIX = ".fwc"


class Refused(OSError):
    """A file fwc will not read; ``str()`` is the reason (without the path)."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def read_bytes(path: str, limit: int = MAX_INPUT) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them: a non-regular
    file or a longer one raises :class:`Refused`; other failures raise ``OSError``.
    The file is opened non-blocking (a fifo does not block), then checked with fstat."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(_kind(st.st_mode))
        if st.st_size > limit:
            raise Refused(f"larger than {limit // MiB} MiB ({st.st_size} bytes)")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(limit + 1 - total, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise Refused(f"larger than {limit // MiB} MiB (it grew while read)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str, limit: int = MAX_SOURCE) -> str:
    """A UTF-8 text file (a leading byte-order mark is dropped): ``UnicodeDecodeError``
    for other bytes."""
    data = read_bytes(path, limit)
    return data.decode("utf-8-sig")


def regular_file(path: str) -> str | None:
    """Why ``path`` is not a regular file fwc may read (None if it is), without opening it."""
    try:
        st = os.stat(path)
    except OSError as e:
        return e.strerror or str(e)
    return None if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory, not a regular file"
    if stat.S_ISFIFO(mode):
        return "a fifo, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "not a regular file"


class Roots:
    """Where names written in a description may lead: the top file's directory and the
    include path (``anywhere``: no limit)."""

    def __init__(self, include_path: "list[str] | tuple[str, ...]" = (), top: str | None = None,
                 anywhere: bool = False) -> None:
        self.include_path = [os.fspath(d) for d in include_path]
        self.anywhere = anywhere
        base = os.path.dirname(os.path.abspath(top)) if top and not top.startswith("<") else os.getcwd()
        self.dirs = [os.path.realpath(d) for d in [base, *self.include_path]]

    def allows(self, path: str) -> bool:
        if self.anywhere:
            return True
        real = os.path.realpath(path)
        return any(real == d or real.startswith(d.rstrip(os.sep) + os.sep) for d in self.dirs)

    def resolve(self, name: str, including: str | None) -> tuple[str | None, str | None]:
        """``(path, None)`` for the file ``name`` written in ``including`` (None: the top
        file or text), or ``(None, why)``: not found, or outside the allowed directories."""
        if "\0" in name:
            return None, "a file name cannot hold a NUL character"
        if os.path.isabs(name):
            cands = [name]
        else:
            dirs = [os.path.dirname(os.path.abspath(including)) if including and not including.startswith("<")
                    else os.getcwd()]
            cands = [os.path.join(d, name) for d in dirs + self.include_path]
        outside = None
        for cand in cands:
            if os.path.lexists(cand):
                if self.allows(cand):
                    return os.path.normpath(cand), None
                outside = outside or cand
        if outside is not None:
            return None, ("outside the description's directory and the -I directories "
                          "(--read-anywhere allows it)")
        return None, None
