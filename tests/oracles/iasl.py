"""Oracle: ACPICA tools (iasl, acpixtract, acpibin) from Debian's ``acpica-tools``.

Every call runs in its own temporary directory (iasl writes its outputs beside the input).
iasl exits 0 even when a disassembly reports defects, so results carry the parsed
diagnostics, not just the exit code (acpi-tables.md §9).

Availability: :func:`require` returns the tool versions or skips the calling test when the
tools are missing; with ``CI=true`` in the environment it installs them with apt-get (as
root) and fails the test if that does not work.  :func:`install` does the same on demand
(``python tests/oracles/iasl.py --install``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "IaslUnavailable", "IaslMessage", "CompileResult", "DisasmResult",
    "available", "install", "require", "version",
    "compile_source", "disassemble", "acpixtract", "acpibin_checksum", "DISASM_DEFECTS",
]

TIMEOUT = 900


class IaslUnavailable(RuntimeError):
    """acpica-tools are not installed and could not be installed."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def available() -> bool:
    return all(shutil.which(t) for t in ("iasl", "acpixtract", "acpibin"))


_install_tried = False


def install() -> None:
    """``apt-get update`` (once per process) and ``apt-get install -y acpica-tools``."""
    global _install_tried
    if available():
        return
    if _install_tried:
        raise IaslUnavailable("acpica-tools installation already failed in this process")
    _install_tried = True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise IaslUnavailable("acpica-tools missing; need root and apt-get to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "acpica-tools"]):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT)
        if r.returncode:
            raise IaslUnavailable(f"{' '.join(cmd)} failed (rc {r.returncode}): "
                                  f"{r.stderr.strip()[-500:]}")
    if not available():
        raise IaslUnavailable("acpica-tools installed but iasl/acpixtract/acpibin not on PATH")


def version() -> str:
    """iasl version string, e.g. ``"20200925"`` (record it in test logs)."""
    r = subprocess.run(["iasl", "-v"], capture_output=True, text=True, timeout=60)
    m = re.search(r"version (\d{8})", r.stdout + r.stderr)
    return m.group(1) if m else "unknown"


def require() -> str:
    """Return the iasl version, or skip the test (fail under ``CI=true``) when unavailable."""
    import pytest

    if not available():
        if _in_ci():
            try:
                install()
            except IaslUnavailable as e:
                pytest.fail(f"CI=true but acpica-tools unavailable: {e}")
        else:
            pytest.skip("acpica-tools (iasl) not installed; run: apt-get install -y acpica-tools")
    return version()


# --- diagnostics ----------------------------------------------------------------------------

@dataclass(frozen=True)
class IaslMessage:
    level: str          # "Error", "Warning", "Remark", "Optimize", "Firmware Warning", "Defect"
    code: int | None
    text: str

    def __str__(self) -> str:
        return f"{self.level} {self.code or ''}: {self.text}".strip()


_MSG = re.compile(r"^(Error|Warning|Remark|Optimize)\s+(\d{4})\s+-\s*(.*?)\s*$")
_SUMMARY = re.compile(r"Compilation (successful|failed)\.\s+(\d+) Errors,\s+(\d+) Warnings,"
                      r"\s+(\d+) Remarks")

#: strings in ``iasl -d`` output (stderr or .dsl) that mean the binary has a defect
DISASM_DEFECTS = (
    "Incorrect checksum", "Unknown", "Invalid zero length", "terminates early",
    "Not enough room", "Warning", "Error", "does not contain a valid ACPI table",
    "too long for file", "Invalid", "**** ",
)


@dataclass
class CompileResult:
    rc: int
    aml: bytes | None
    stdout: str
    stderr: str
    messages: list[IaslMessage] = field(default_factory=list)
    summary: tuple[int, int, int] | None = None   # errors, warnings, remarks

    @property
    def errors(self) -> list[IaslMessage]:
        return [m for m in self.messages if m.level == "Error"]

    @property
    def warnings(self) -> list[IaslMessage]:
        return [m for m in self.messages if m.level == "Warning"]

    @property
    def ok(self) -> bool:
        """rc 0, an output file, and a summary of 0 errors and 0 warnings."""
        return (self.rc == 0 and self.aml is not None and self.summary is not None
                and self.summary[:2] == (0, 0) and not self.errors and not self.warnings)


@dataclass
class DisasmResult:
    rc: int
    dsl: str | None
    stdout: str
    stderr: str
    defects: list[str] = field(default_factory=list)   # output lines naming a defect

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.dsl is not None and not self.defects

    def fields(self) -> list[tuple[int, int, str, str]]:
        """``(offset, length, label, value)`` of every ``[OOOh DDDD LLL] Label : value`` line."""
        out = []
        for line in (self.dsl or "").splitlines():
            m = _FIELD.match(line)
            if m:
                out.append((int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)))
        return out


_FIELD = re.compile(r"^\[([0-9A-F]+)h (\d+) +(\d+)\]\s+(.+?) : (.*)$")


def _parse_messages(text: str) -> list[IaslMessage]:
    out = []
    for line in text.splitlines():
        m = _MSG.match(line.strip())
        if m:
            out.append(IaslMessage(m.group(1), int(m.group(2)), m.group(3)))
    return out


def _run(args, cwd, timeout=TIMEOUT):
    if not shutil.which(args[0]):
        raise IaslUnavailable(f"{args[0]} not found")
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          errors="replace")


def compile_source(text: str, *, keep_creator: bool = True, name: str = "table",
                   timeout: int = TIMEOUT) -> CompileResult:
    """Compile data-table source with ``iasl -vs [-z]``.  ``keep_creator`` (``-z``) keeps the
    source's Creator ID/Revision instead of writing ``INTL``/the iasl version."""
    with tempfile.TemporaryDirectory(prefix="fwc-iasl-") as d:
        src = Path(d, f"{name}.asl")
        src.write_text(text, encoding="latin-1")
        args = ["iasl", "-vs"] + (["-z"] if keep_creator else []) + \
               ["-p", str(Path(d, "out")), str(src)]
        r = _run(args, d, timeout)
        aml_path = Path(d, "out.aml")
        aml = aml_path.read_bytes() if aml_path.exists() else None
        both = r.stdout + "\n" + r.stderr
        m = _SUMMARY.search(both)
        summary = tuple(int(x) for x in m.groups()[1:]) if m else None
        return CompileResult(r.returncode, aml, r.stdout, r.stderr, _parse_messages(both),
                             summary)


def disassemble(data: bytes, *, name: str = "table", timeout: int = TIMEOUT) -> DisasmResult:
    """``iasl -vs -d`` on a binary; ``defects`` lists every output line naming a problem."""
    with tempfile.TemporaryDirectory(prefix="fwc-iasl-") as d:
        binf = Path(d, f"{name}.dat")
        binf.write_bytes(bytes(data))
        r = _run(["iasl", "-vs", "-d", "-p", str(Path(d, "out")), str(binf)], d, timeout)
        dsl_path = Path(d, "out.dsl")
        dsl = dsl_path.read_text(encoding="latin-1") if dsl_path.exists() else None
        defects = []
        for line in (r.stderr + "\n" + r.stdout + "\n" + (dsl or "")).splitlines():
            if "Raw Table Data" in line:
                continue
            if any(k in line for k in DISASM_DEFECTS):
                defects.append(line.strip())
        if dsl is None and not defects:
            defects.append(f"no .dsl written (rc {r.returncode})")
        return DisasmResult(r.returncode, dsl, r.stdout, r.stderr, defects)


def acpixtract(text: str, *, timeout: int = 300) -> dict[str, bytes]:
    """``acpixtract -a`` on acpidump text: ``{file name: bytes}`` (e.g. ``"srat.dat"``)."""
    with tempfile.TemporaryDirectory(prefix="fwc-acpixtract-") as d:
        Path(d, "dump.txt").write_text(text, encoding="latin-1")
        r = _run(["acpixtract", "-a", "dump.txt"], d, timeout)
        out = {p.name: p.read_bytes() for p in Path(d).glob("*.dat")}
        if r.returncode and not out:
            raise RuntimeError(f"acpixtract failed (rc {r.returncode}): {r.stderr or r.stdout}")
        return out


def acpibin_checksum(data: bytes) -> bytes:
    """The table with its header checksum rewritten by ``acpibin -s`` (independent check)."""
    with tempfile.TemporaryDirectory(prefix="fwc-acpibin-") as d:
        p = Path(d, "t.aml")
        p.write_bytes(bytes(data))
        _run(["acpibin", "-s", str(p)], d, 60)
        return p.read_bytes()


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--install" in sys.argv:
        install()
    print("iasl", version() if available() else "not available")
