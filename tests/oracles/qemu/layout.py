"""Inspect QEMU's guest memory layout without booting (qemu.md §8).

QEMU is started paused (-S) with the monitor on stdio; `info mtree`, `info numa` and
`info memory-devices` are read, then `quit`.  Takes well under a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess

from .tools import ensure_tools

_ESC = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MTREE = re.compile(
    r"^(?P<indent> *)(?P<start>[0-9a-f]+)-(?P<end>[0-9a-f]+) \(prio (?P<prio>-?\d+), "
    r"(?P<kind>[^)]+)\): (?P<rest>.*)$")


class QemuConfigError(ValueError):
    """QEMU rejected the machine arguments (its `qemu-system-x86_64:` lines)."""


@dataclasses.dataclass
class Region:
    name: str
    start: int
    end: int          # inclusive, as QEMU prints it
    kind: str         # ram | i/o | rom ...
    alias_of: str | None = None
    alias_offset: int | None = None

    @property
    def size(self) -> int:
        return self.end - self.start + 1


@dataclasses.dataclass
class NumaNode:
    node: int
    cpus: list[int]
    size_mb: int
    plugged_mb: int


@dataclasses.dataclass
class Dimm:
    id: str
    type: str
    addr: int
    size: int
    node: int
    slot: int | None
    memdev: str
    hotplugged: bool


@dataclasses.dataclass
class Layout:
    argv: list[str]
    mtree: str
    numa: str
    memory_devices: str
    system: list[Region]   # top-level children of memory-region: system (and DIMMs)
    pc_ram: list[Region]   # memdevs stacked in pc.ram, node order
    nodes: list[NumaNode]
    dimms: list[Dimm]

    def region(self, name: str) -> Region | None:
        for r in self.system:
            if r.name == name:
                return r
        return None

    @property
    def ram_below_4g(self) -> Region | None:
        return self.region("ram-below-4g")

    @property
    def ram_above_4g(self) -> Region | None:
        return self.region("ram-above-4g")

    @property
    def device_memory(self) -> Region | None:
        return self.region("device-memory")

    def ram_ranges(self) -> list[tuple[int, int]]:
        """Boot RAM as half-open guest-physical [start, end) ranges."""
        return [(r.start, r.end + 1) for r in (self.ram_below_4g, self.ram_above_4g) if r]


def _split_monitor(out: str) -> list[str]:
    """Return the outputs of the commands in order (prompt/echo lines removed)."""
    clean = _ESC.sub("", out.replace("\r", ""))
    chunks = clean.split("(qemu) ")[1:]  # [0] is the banner
    res = []
    for ch in chunks:
        _, _, body = ch.partition("\n")  # first line is the (garbled) echo of the command
        res.append(body)
    return res


def _parse_region_section(mtree: str, section: str) -> list[Region]:
    """Regions nested directly (one level) under the root of `memory-region: <section>`,
    plus the device-memory children for the system section."""
    lines = mtree.splitlines()
    try:
        i = lines.index(f"memory-region: {section}")
    except ValueError:
        return []
    regs: list[Region] = []
    root_indent: int | None = None
    parent_dm_indent: int | None = None
    for ln in lines[i + 1:]:
        if not ln.strip():
            break
        m = _MTREE.match(ln)
        if not m:
            continue
        ind = len(m.group("indent"))
        if root_indent is None:
            root_indent = ind
            continue
        rest = m.group("rest")
        alias_of = alias_off = None
        am = re.match(r"alias (\S+) @(\S+) ([0-9a-f]+)-[0-9a-f]+", rest)
        if am:
            name, alias_of, alias_off = am.group(1), am.group(2), int(am.group(3), 16)
        else:
            name = rest.strip()
        reg = Region(name, int(m.group("start"), 16), int(m.group("end"), 16),
                     m.group("kind"), alias_of, alias_off)
        if ind == root_indent + 2:
            regs.append(reg)
            parent_dm_indent = ind if name == "device-memory" else None
        elif parent_dm_indent is not None and ind == parent_dm_indent + 2:
            regs.append(reg)  # a DIMM inside device-memory (guest-physical addresses)
    return regs


def _parse_numa(text: str) -> list[NumaNode]:
    nodes: dict[int, NumaNode] = {}
    for ln in text.splitlines():
        m = re.match(r"node (\d+) (cpus|size|plugged):\s*(.*)$", ln.strip())
        if not m:
            continue
        n = nodes.setdefault(int(m.group(1)), NumaNode(int(m.group(1)), [], 0, 0))
        v = m.group(3)
        if m.group(2) == "cpus":
            n.cpus = [int(c) for c in v.split()]
        elif m.group(2) == "size":
            n.size_mb = int(v.split()[0])
        else:
            n.plugged_mb = int(v.split()[0])
    return [nodes[k] for k in sorted(nodes)]


def _parse_memdevs(text: str) -> list[Dimm]:
    dimms = []
    for block in re.split(r"(?m)^(?=Memory device \[)", text):
        m = re.match(r'Memory device \[(\S+)\]: "([^"]*)"', block)
        if not m:
            continue
        kv = dict(re.findall(r"(?m)^\s+([\w-]+): (.*)$", block))
        dimms.append(Dimm(
            id=m.group(2), type=m.group(1), addr=int(kv.get("addr", "0"), 0),
            size=int(kv.get("size", "0"), 0), node=int(kv.get("node", "0")),
            slot=int(kv["slot"]) if "slot" in kv else None, memdev=kv.get("memdev", ""),
            hotplugged=kv.get("hotplugged", "false") == "true"))
    return dimms


def inspect_layout(qemu_args: list[str], timeout: float = 60) -> Layout:
    """Start QEMU paused with `qemu_args` and read the layout from its monitor."""
    tools = ensure_tools()
    argv = [tools.qemu, "-accel", "tcg"]
    if "-cpu" not in qemu_args:
        argv += ["-cpu", "max"]
    argv += list(qemu_args) + ["-S", "-nographic", "-nodefaults", "-monitor", "stdio",
                               "-serial", "none"]
    cmds = "info mtree\ninfo numa\ninfo memory-devices\nquit\n"
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(cmds.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise QemuConfigError(f"QEMU monitor did not answer within {timeout}s: {argv}")
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = out.decode("utf-8", "replace")
    errors = [ln[ln.index("qemu-system-x86_64:"):] for ln in
              _ESC.sub("", text.replace("\r", "")).splitlines()
              if "qemu-system-x86_64:" in ln]
    if errors or proc.returncode not in (0, None):
        raise QemuConfigError("\n".join(errors) or f"QEMU exited with {proc.returncode}")
    parts = _split_monitor(text) + ["", "", ""]
    mtree, numa, memdevs = parts[0], parts[1], parts[2]
    return Layout(argv=argv, mtree=mtree, numa=numa, memory_devices=memdevs,
                  system=_parse_region_section(mtree, "system"),
                  pc_ram=_parse_region_section(mtree, "pc.ram"),
                  nodes=_parse_numa(numa), dimms=_parse_memdevs(memdevs))
