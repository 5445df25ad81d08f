"""What ``fwc boot`` shows while it works, and guest output made safe to show.

:class:`Progress` reports the phases (building the initrd, predicting, starting QEMU, booting
with the elapsed time and the last kernel line, reading the state, comparing) on stderr: a
rich status line on a terminal, plain ``fwc: …`` lines when stderr is not one (a boot line
every :data:`PLAIN_EVERY` seconds).  :func:`sanitize` is applied to everything the guest or
QEMU printed before any of it reaches the user's terminal.
"""

from __future__ import annotations

import re
import sys
import time
from typing import IO, Any

from fwc.diagnostics import visible

PLAIN_EVERY = 15.0

#: ECMA-48 escape sequences: CSI (ESC [ … final), OSC/DCS/APC/PM/SOS strings (ended by BEL or
#: ESC \), and two-character escapes (ESC c resets the terminal).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?|\x9b[0-?]*[ -/]*[@-~]")


def sanitize(text: str) -> str:
    """``text`` without terminal escape sequences, carriage returns and other control
    characters (a control character left is shown as ``\\xNN``); newlines and tabs kept."""
    from fwc.diagnostics import visible

    return visible(_ESCAPES.sub("", text.replace("\r\n", "\n")).replace("\r", ""), "\t\n")


def last_line(path: str, tail: int = 4096) -> str:
    """The last non-empty line of a growing log file (sanitized), or ''."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - tail))
            data = f.read()
    except OSError:
        return ""
    lines = [ln.strip() for ln in sanitize(data.decode("utf-8", "replace")).split("\n")]
    return next((ln for ln in reversed(lines) if ln), "")


class Progress:
    """Phases of one ``fwc boot`` run, on ``stream`` (default stderr)."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.quiet = quiet
        self._status: Any = None
        self._console: Any = None
        self._phase = ""
        self._t0 = time.monotonic()
        self._last_plain = 0.0

    def _width(self) -> int:
        import shutil

        return shutil.get_terminal_size().columns

    def _plain(self, line: str) -> None:
        if not self.quiet:
            self.stream.write(visible(f"fwc: {line}") + "\n")
            self.stream.flush()

    def note(self, line: str) -> None:
        """A line that stays (the log path, the kernel used)."""
        if self._console is not None:
            from rich.text import Text

            self._console.print(Text(visible(line), overflow="fold"))
        else:
            self._plain(line)

    def phase(self, name: str) -> None:
        """Start phase ``name`` (ending the previous one)."""
        self._end_phase()
        self._phase, self._t0 = name, time.monotonic()
        if self.live and not self.quiet:
            from rich.text import Text

            if self._console is None:
                from rich.console import Console

                self._console = Console(file=self.stream, highlight=False)
                self._status = self._console.status(Text(visible(name + " …")))
                self._status.start()
            else:
                self._status.update(Text(visible(name + " …")))
        else:
            self._plain(name + " …")
            self._last_plain = time.monotonic()

    def booting(self, elapsed: float, timeout: float, line: str) -> None:
        """The boot's progress: seconds so far and the last line the guest printed."""
        head = f"{self._phase}: {elapsed:.0f} s of at most {timeout:g} s"
        if self._status is not None:
            from rich.text import Text

            room = max(10, self._width() - len(head) - 8)
            shown = line if len(line) <= room else line[:room - 1] + "…"
            self._status.update(Text(visible(f"{head} │ {shown}" if line else head)))
        elif not self.live and time.monotonic() - self._last_plain >= PLAIN_EVERY:
            self._last_plain = time.monotonic()
            self._plain(f"{head}; last line: {line}" if line else head)

    def _end_phase(self, ok: bool = True) -> None:
        if not self._phase:
            return
        took = time.monotonic() - self._t0
        if self._console is not None:
            from rich.text import Text

            self._console.print(Text(visible(f"{'✓' if ok else '✗'} {self._phase} ({took:.1f} s)"),
                                     style="dim" if ok else "bold red"))
        self._phase = ""

    def close(self, ok: bool = True) -> None:
        """End the last phase (``ok``: it succeeded) and the status line."""
        self._end_phase(ok)
        if self._status is not None:
            self._status.stop()
            self._status = None
