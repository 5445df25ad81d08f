"""Writing outputs: all of them or none (docs/security.md).

:func:`publish` stages every file (the backends' artifacts, the depfile, a decompiled
description) as a temporary file beside its destination; only when every one is written
are they renamed into place (``os.replace``, atomic per file).  A failure removes what was
staged and the directories it created, and names the path that failed.  A replaced file
keeps its permission bits; a new one gets the usual ``0666 & ~umask``.

:func:`make_quote` writes a path for a make rule (``--depfile``) and refuses a path make
cannot read back as one name.
"""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:
    from .backends import Artifact

#: Outputs larger than this in total need an explicit ``allow_large`` (``--allow-large-output``).
MAX_OUTPUT = 64 << 20


class OutputError(Exception):
    """An output that cannot be written; ``path`` is the file (or directory) that failed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write '{path}': {reason}")
        self.path = path
        self.reason = reason


def check_path(path: str) -> str | None:
    """Why a backend's relative output path is not acceptable, or None."""
    if not isinstance(path, str):
        return f"an output path is a string, not {type(path).__name__}"
    if not path or path in (".", "./"):
        return "an empty output path"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return f"output path {path!r} holds a control character"
    if path.startswith("/") or "\\" in path:
        return f"output path {path!r} must be relative, with '/' separators"
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"output path {path!r} has an empty, '.' or '..' component"
    if any(p.startswith(".fwc-") for p in parts):
        return f"output path {path!r}: names starting '.fwc-' are fwc's staging files"
    return None


# make reads these characters in a rule specially; a backslash makes them literal.
_ESCAPED = re.compile(r"(\\*)([ #:*?\[])")
# ... and these it cannot take literally in a name at all (';' starts a recipe, '=' a variable,
# '|' order-only prerequisites, '(' ')' archive members; a control character ends the line).
_REFUSED = re.compile(r"[\x00-\x1f\x7f;=|()]")


def make_quote(path: str) -> str:
    """``path`` as one word of a make rule; ``ValueError`` for a path make cannot read back."""
    bad = _REFUSED.search(path)
    if bad or path.endswith("\\") or path.startswith("~"):
        what = repr(bad.group()) if bad else "a trailing backslash" if path.endswith("\\") else "a leading '~'"
        raise ValueError(f"make cannot read the path {path!r} back in a depfile: it holds {what}")
    return _ESCAPED.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), path).replace("$", "$$")


def depfile(rules: Iterable[tuple[Sequence[str], Sequence[str]]]) -> str:
    """A make depfile: one ``targets: prerequisites`` line per rule (``ValueError`` as
    :func:`make_quote`)."""
    return "".join(" ".join(map(make_quote, t)) + ": " + " ".join(map(make_quote, d)) + "\n" for t, d in rules)


def publish(files: Sequence[tuple[str, bytes]], allow_large: bool = False) -> list[str]:
    """Write ``files`` (``(path, bytes)``) all or none; return the paths.  Raises
    :class:`OutputError` naming the path that failed (nothing is then changed)."""
    total = sum(len(d) for _, d in files)
    if total > MAX_OUTPUT and not allow_large:
        raise OutputError(files[0][0] if len(files) == 1 else os.path.commonpath([os.path.abspath(p) for p, _ in files]),
                          f"the outputs total {total} bytes, more than {MAX_OUTPUT >> 20} MiB "
                          "(--allow-large-output writes them)")
    seen: set[str] = set()
    for path, _ in files:
        key = os.path.abspath(path)
        if key in seen:
            raise OutputError(path, "two outputs go to this path")
        seen.add(key)
    created: list[str] = []   # directories made here, to remove on failure
    staged: list[tuple[str, str]] = []
    umask = _umask()
    ok = False
    try:
        for path, data in files:
            if os.path.isdir(path):
                raise OutputError(path, "it is a directory")
            parent = os.path.dirname(os.path.abspath(path))
            _makedirs(parent, created)
            tmp = _stage(path, parent, data, umask)
            staged.append((tmp, path))
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise OutputError(path, e.strerror or str(e)) from None
        ok = True
        return [p for _, p in staged]
    finally:
        if not ok:
            _undo(staged, created)


def _undo(staged: list[tuple[str, str]], created: list[str]) -> None:
    for tmp, _ in staged:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    for d in reversed(created):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _makedirs(parent: str, created: list[str]) -> None:
    todo = []
    d = parent
    while not os.path.isdir(d):
        if os.path.lexists(d):
            raise OutputError(d, "it is not a directory")
        todo.append(d)
        up = os.path.dirname(d)
        if up == d:
            break
        d = up
    for d in reversed(todo):
        try:
            os.mkdir(d)
        except OSError as e:
            raise OutputError(d, e.strerror or str(e)) from None
        created.append(d)


def _stage(path: str, parent: str, data: bytes, umask: int) -> str:
    import tempfile

    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=".fwc-", suffix=".tmp", dir=parent)
    except OSError as e:
        raise OutputError(path, e.strerror or str(e)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
    except OSError as e:
        os.unlink(tmp)
        raise OutputError(path, e.strerror or str(e)) from None
    return tmp


def write_atomically(outdir: str, artifacts: "Iterable[Artifact]", allow_large: bool = False) -> list[str]:
    """Write ``artifacts`` under ``outdir`` all or none (:func:`publish`); return the paths."""
    return publish([(os.path.join(outdir, a.path), a.data) for a in artifacts], allow_large)

