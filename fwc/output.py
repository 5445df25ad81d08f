"""Writing artifacts: all or nothing.

Every file is first written to a temporary directory inside the output
directory; only when all of them are written are they renamed into place
(``os.replace``, atomic per file).  A failure leaves no partial file behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterable

from .backends import Artifact


def write_atomically(outdir: str, artifacts: Iterable[Artifact]) -> list[str]:
    """Write ``artifacts`` under ``outdir``; return the paths written."""
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".fwc-tmp-", dir=outdir)
    try:
        staged = []
        for a in artifacts:
            dest = os.path.join(outdir, a.path)
            src = os.path.join(tmp, a.path)
            os.makedirs(os.path.dirname(src), exist_ok=True)
            with open(src, "wb") as f:
                f.write(a.data)
            staged.append((src, dest))
        for _, dest in staged:
            os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
        for src, dest in staged:
            os.replace(src, dest)
        return [dest for _, dest in staged]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
