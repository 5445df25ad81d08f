"""Random valid QEMU machines for differential boot fuzzing (issue 11 §3).

    from oracles.qemu.random_machines import generate, machines
    m = generate(seed)            # one RandomMachine: .name, .text (a .fwc file), .features
    ms = machines(n, seed)        # n of them, deterministic from the seed

Boards pc and q35; 1-8 nodes; memoryless nodes (a CPU and no memory, or only a DIMM);
hot-pluggable nodes and partial ranges through an initrd SRAT override (QEMU never marks boot
RAM hot-pluggable, so the description gives QEMU's OEM IDs with revision 2 and the initrd
carries the SRAT); cold-plugged DIMMs; renumbered proximity domains (the override SRAT's);
SLITs (distances), symmetric and not, and SLITs whose localities the override SRAT's
renumbered domains do not match (Linux ignores them); the initrd's node hot-pluggable (QEMU
loads the initrd at the top of RAM below 4 GiB); ``movable_node``, ``kernelcore=`` and ``movablecore=`` in bytes and
percent, ``kernelcore=mirror`` with ``mirror`` ranges (QEMU boots SeaBIOS: no EFI memory map,
so Linux sees nothing mirrored), ``mem=``, ``memhp_default_state=``; q35's ``max-ram-below-4g``.  Explicit addresses (needed
for hot-pluggable ranges) are QEMU's own layout, which fwc computes for the size-only form.

Every machine returned passes ``fwc check`` without errors: a draw with errors is drawn again
(from the same random stream, so the result stays deterministic).  Machines stay small for
TCG: at most 8 GiB of RAM and DIMMs together, at most 8 CPUs.
"""

from __future__ import annotations

import random
from typing import NamedTuple

MiB = 1 << 20
GiB = 1 << 30
MAX_TOTAL = 8 * GiB  # boot RAM + DIMMs
MAX_CPUS = 8
OEM = 'oem id "BOCHS " table "BXPC    " revision 2'


class RandomMachine(NamedTuple):
    name: str
    text: str
    features: tuple[str, ...]


def _size(n: int) -> str:
    if n % GiB == 0:
        return f"{n // GiB}G"
    if n % MiB == 0:
        return f"{n // MiB}M"
    if n % 1024 == 0:
        return f"{n // 1024}K"
    return str(n)


def _addr(n: int) -> str:
    return _size(n) if n and n % MiB == 0 else f"{n:#x}"


class _Draw:
    """One draw of a machine: the choices, then the text."""

    def __init__(self, rng: random.Random, name: str):
        self.rng, self.name = rng, name
        self.features: list[str] = []

    def feature(self, f: str) -> None:
        if f not in self.features:
            self.features.append(f)

    def choose(self, fwc) -> str:
        r = self.rng
        board = r.choice(["qemu-q35", "qemu-pc"])
        self.feature(board)
        # QEMU's -machine max-ram-below-4g (issue 16), drawn from its own stream so that the
        # machines of a seed drawn before it existed keep their other choices
        side = random.Random(f"{self.name}:max-ram-below-4g")
        if board == "qemu-q35" and side.random() < 0.2:
            board += " max-ram-below-4g " + side.choice(["1G", "1536M", "2G"])
            self.feature("max-ram-below-4g")
        nnodes = r.choice([1, 2, 2, 2, 3, 3, 4, 5, 6, 8])
        ncpus = r.randint(max(1, min(nnodes, 2)), MAX_CPUS)
        # memory: node 0 always has some; others may be memoryless
        mem = [0] * nnodes
        budget = r.choice([2, 3, 4, 4, 5, 6]) * GiB
        mem[0] = r.choice([512 * MiB, 1 * GiB, 1 * GiB, 2 * GiB])
        others = list(range(1, nnodes))
        memoryless = {n for n in others if r.random() < 0.25}
        with_mem = [n for n in others if n not in memoryless]
        left = max(budget - mem[0], 0)
        for n in with_mem:
            share = max(256 * MiB, (left // max(len(with_mem), 1)) // (256 * MiB) * 256 * MiB)
            mem[n] = r.choice([256 * MiB, 512 * MiB, share, share])
        if memoryless:
            self.feature("memoryless")
        # DIMMs
        dimms: dict[int, list[int]] = {}
        total = sum(mem)
        if r.random() < 0.3:
            for _ in range(r.randint(1, 2)):
                n = r.randrange(nnodes)
                d = r.choice([256 * MiB, 512 * MiB, 1 * GiB])
                if total + d <= MAX_TOTAL - GiB:
                    dimms.setdefault(n, []).append(d)
                    total += d
            if dimms:
                self.feature("dimm")
        # CPUs: every node with no memory and no DIMM needs a CPU; distribute the rest
        need = [n for n in range(nnodes) if not mem[n] and n not in dimms] + [0]
        need = sorted(set(need))
        ncpus = max(ncpus, len(need))
        if ncpus > MAX_CPUS:
            return ""
        cpus_of: dict[int, list[int]] = {n: [] for n in range(nnodes)}
        ids = list(range(ncpus))
        for n, c in zip(need, ids):
            cpus_of[n].append(c)
        for c in ids[len(need):]:
            cpus_of[r.randrange(nnodes)].append(c)
        # every node must have something
        for n in range(nnodes):
            if not cpus_of[n] and not mem[n] and n not in dimms:
                return ""
        # hot-pluggable memory (initrd SRAT override)
        layout = self._layout(fwc, board, nnodes, mem)
        if layout is None:
            return ""
        hot: dict[int, list[tuple[int, int, bool]]] = {}
        override = False
        cand = [n for n in range(1, nnodes) if mem[n]]
        if cand and r.random() < 0.5:
            override = True
            for n in r.sample(cand, r.randint(1, len(cand))):
                ranges = layout[n]
                if r.random() < 0.35:  # partial: the upper part of the node's last range
                    b, s = ranges[-1]
                    cut = (s // 2) // (128 * MiB) * (128 * MiB)
                    if cut >= 128 * MiB:
                        hot[n] = [(b0, s0, False) for b0, s0 in ranges[:-1]] + [(b, cut, False),
                                                                                (b + cut, s - cut, True)]
                        self.feature("partial-hotplug")
                        continue
                hot[n] = [(b0, s0, True) for b0, s0 in ranges]
                self.feature("hotplug-node")
        # renumbered proximity domains (needs the override SRAT)
        pxm: dict[int, int] = {}
        if r.random() < 0.25:
            override = True
            pool = r.sample(range(0, 16), nnodes)
            pxm = {n: p for n, p in enumerate(pool) if p != n}
            if pxm:
                self.feature("pxm")
        # mirror ranges (kernelcore=mirror)
        mirror = r.random() < 0.12 and nnodes > 1 and any(mem[1:])
        # SLIT: symmetric or not; with renumbered proximity domains QEMU's SLIT (indexed by node
        # id) names localities the override SRAT does not have, and Linux ignores those entries.
        # (A SLIT Linux rejects as a whole -- a diagonal other than 10, an entry of 10 or less --
        # is an error for fwc check, so never generated.)
        dist: list[tuple[int, int, int]] = []
        if nnodes > 1 and r.random() < 0.4:
            asym = r.random() < 0.25
            for a in range(nnodes):
                for b in range(a + 1, nnodes):
                    if r.random() < 0.7:
                        v = r.choice([15, 17, 20, 21, 31, 40, 255] + ([10] if asym else []))
                        if v == 10:  # both directions, different
                            dist += [(a, b, 21), (b, a, r.choice([17, 31, 40]))]
                        else:
                            dist.append((a, b, v))
            if dist:
                self.feature("slit")
                if any(a > b for a, b, _ in dist):
                    self.feature("slit-asymmetric")
        # cmdline
        words = ["console=ttyS0", "nokaslr"]
        if override and any(hot) and r.random() < 0.7 or (dimms and r.random() < 0.5):
            words.append("movable_node")
            self.feature("movable_node")
        kc = r.random()
        if mirror and kc < 0.7:
            words.append("kernelcore=mirror")
            self.feature("kernelcore=mirror")
        elif kc < 0.15:
            words.append(f"kernelcore={r.choice([512 * MiB, 1 * GiB, 2 * GiB, 3 * GiB]) // MiB}M")
            self.feature("kernelcore=bytes")
        elif kc < 0.25:
            words.append(f"kernelcore={r.choice([20, 50, 75])}%")
            self.feature("kernelcore=percent")
        elif kc < 0.4:
            words.append(f"movablecore={r.choice([256, 512, 1024])}M")
            self.feature("movablecore=bytes")
        elif kc < 0.5:
            words.append(f"movablecore={r.choice([10, 25, 50])}%")
            self.feature("movablecore=percent")
        if r.random() < 0.15:
            top = max((b + s for ranges in layout.values() for b, s in ranges), default=0)
            cut = r.choice([top - 512 * MiB, top - 1 * GiB, 3 * GiB, 5 * GiB])
            if 1 * GiB < cut < top:
                words.append(f"mem={_size(cut)}")
                self.feature("mem=")
        if dimms or r.random() < 0.1:
            words.append(f"memhp_default_state={r.choice(['online', 'offline', 'online_movable'])}")
            self.feature("memhp_default_state")
        # the text
        lines = [f'machine "{self.name}" {{', f"    board {board}"]
        if override:
            lines.append("    " + OEM)
        if dimms:
            slots = sum(len(v) for v in dimms.values()) + r.randint(0, 2)
            maxmem = min(MAX_TOTAL, (total + GiB + GiB - 1) // GiB * GiB)
            lines.append(f"    slots {slots} maxmem {_size(maxmem)}")
        mirrored = False
        for n in range(nnodes):
            parts = []
            if cpus_of[n]:
                parts.append("cpus " + ", ".join(str(c) for c in cpus_of[n]))
            if mem[n]:
                if override or mirror:
                    ranges = hot.get(n) or [(b, s, False) for b, s in layout[n]]
                    for b, s, h in ranges:
                        flag = " hotpluggable" if h else ""
                        if mirror and n == 0 and b < 4 * GiB and not mirrored and s >= 256 * MiB:
                            flag += " mirror"
                            mirrored = True
                            self.feature("mirror")
                        parts.append(f"memory {_addr(b)} size {_size(s)}{flag}")
                else:
                    parts.append(f"memory size {_size(mem[n])}")
            for d in dimms.get(n, []):
                parts.append(f"dimm size {_size(d)}")
            p = f" pxm {pxm[n]}" if n in pxm else ""
            lines.append(f"    node {n}{p} {{ " + "  ".join(parts) + " }")
        for a, b, v in dist:
            lines.append(f"    distance {a} {b} = {v}")
        if dist and pxm:
            self.feature("slit-unmatched")
        if override:
            low_end = max(b + s for ranges in layout.values() for b, s in ranges if b < 4 * GiB)
            lines.append(f"    initrd at {_addr(low_end - 8 * MiB)} size 4M {{ override srat }}")
            lo = [n for n, ranges in hot.items() if any(h and b < low_end <= b + s for b, s, h in ranges)]
            if lo:
                self.feature("initrd-on-hotplug")
        lines.append(f'    cmdline "{" ".join(words)}"')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _layout(self, fwc, board: str, nnodes: int, mem: list[int]) -> dict[int, list[tuple[int, int]]] | None:
        """QEMU's layout of the node memory (fwc computes it for size-only memory)."""
        body = "\n".join(f"    node {n} {{ cpus {n}" + (f"  memory size {_size(mem[n])}" if mem[n] else "") + " }"
                         for n in range(nnodes))
        r = fwc.load(text=f'machine "l" {{\n    board {board}\n{body}\n}}\n', name="<layout>")
        if r.machine is None:
            return None
        return {nd.id: [(m.base, m.size) for m in nd.boot_memory] for nd in r.machine.nodes}


def _fwc():
    from fwc.api import Fwc

    return Fwc()


def generate(seed: int | str, fwc=None, name: str | None = None) -> RandomMachine:
    """One valid machine, deterministic from ``seed``."""
    return _generate(random.Random(seed), fwc or _fwc(), name or f"rand-{seed}")


def _generate(rng: random.Random, fwc, name: str, tries: int = 200) -> RandomMachine:
    for _ in range(tries):
        d = _Draw(rng, name)
        text = d.choose(fwc)
        if not text:
            continue
        r = fwc.check(text=text, name=f"{name}.fwc")
        if r.machine is not None and not r.errors:
            return RandomMachine(name, text, tuple(d.features))
    raise RuntimeError(f"no valid machine after {tries} draws")


def machines(n: int, seed: int | str) -> list[RandomMachine]:
    """``n`` valid machines from one random stream seeded with ``seed``."""
    rng = random.Random(seed)
    f = _fwc()
    return [_generate(rng, f, f"rand-{seed}-{i}") for i in range(n)]
