#!/usr/bin/env python3
"""Issue 15's table: every workload against its anchor measured in the same run, and growth.

    python bench/speed.py [--runs N] [--only ROW[,ROW...]]

Rows (each prints the anchor, fwc's figure, the ratio and the goal; medians of ``--runs``):

* ``cold``: a fresh ``fwc check examples/two-node-hotplug.fwc`` process against a fresh
  ``python -c "import attrs, pluggy, argparse, re"`` (wall and CPU time).  Measure a normal
  install (generated parser tables, bytecode written): an editable install computes the
  parser tables with Lark at every start, which the row says.
* ``boot``: the boot simulation of :func:`boot_machine` (4 GiB a node) at 64, 256 and 1024 nodes.
* ``srat``: ``fwc compile`` (acpi) of a 256-node, 16384 x2APIC CPU, 4096-range SRAT against
  ``iasl -z`` on the same table's source (identical bytes checked).
* ``decompile``: ``fwc decompile`` of that SRAT against ``iasl -d``.
* ``memblock``: ``fwc memblock run`` on a 100k-op script against the real ``mm/memblock.c``
  driver (tests/oracles/memblock; outputs compared).
* ``compile``: ``fwc compile`` with every backend, :func:`hotplug_machine` (1023 of 1024
  nodes hot-pluggable, ``movable_node``) against the same shape at 64 nodes.
* ``parse``: parse + check of 80k statements in one block against 10k.
* ``distances``: 255 nodes with all 64,770 distances; ``slit``: 1024 nodes with one
  ``distance`` (a 1024x1024 SLIT); ``show``: ``fwc show`` of 256 nodes.

Growth lines give 1x, 4x and 16x the machine size with the cost per element.  Nothing is
asserted: figures vary with the machine's load, so ratios against anchors of the same run
are the figures to quote.  ``bench/same_output.py`` proves outputs unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "two-node-hotplug.fwc")
GiB = 1 << 30


# --------------------------------------------------------------------------------------
# The machines


def boot_machine(nodes: int, per_node_gib: int = 4) -> str:
    """bench_boot.py's shape: one range a node, every fourth node hot-pluggable, movable_node."""
    lines = ['machine "bench" {', "    kernel at 16M size 52M", "    initrd at 0x30000000 size 16M",
             '    cmdline "console=ttyS0 nokaslr movable_node"']
    per = per_node_gib * GiB
    for n in range(nodes):
        if n == 0:
            mem = f"memory 0 size 640K memory 1M size {per - (1 << 20)}"
        else:
            hp = " hotpluggable" if n % 4 == 0 else ""
            mem = f"memory {n * per:#x} size {per - (2 << 20)}{hp}"
        lines.append(f"    node {n} {{ cpus {n} {mem} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def hotplug_machine(nodes: int, per_node_gib: int = 4) -> str:
    """Every node but node 0 hot-pluggable, ``movable_node``."""
    lines = ['machine "bench" {', "    kernel at 16M size 52M", "    initrd at 0x30000000 size 16M",
             '    cmdline "console=ttyS0 nokaslr movable_node"']
    per = per_node_gib * GiB
    for n in range(nodes):
        if n == 0:
            mem = f"memory 0 size 640K memory 1M size {per - (1 << 20)}"
        else:
            mem = f"memory {n * per:#x} size {per} hotpluggable"
        lines.append(f"    node {n} {{ cpus {n} {mem} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def distances_machine(nodes: int, all_pairs: bool) -> str:
    """``nodes`` nodes with 1 GiB each; every distance given, or just one (Linux's SLIT is N x N)."""
    lines = ['machine "bench" {']
    for n in range(nodes):
        lines.append(f"    node {n} {{ cpus {n} memory {n * GiB:#x} size 1G }}")
    if all_pairs:
        for a in range(nodes):
            for b in range(nodes):
                if a != b:
                    lines.append(f"    distance {a} {b} = {20 + (a + b) % 200}")
    else:
        lines.append("    distance 0 1 = 21")
    lines.append("}")
    return "\n".join(lines) + "\n"


def srat_machine(nodes: int, cpus: int, ranges: int) -> str:
    """bench_acpi.py's big SRAT: x2APIC CPUs, 256 MiB ranges, odd nodes hot-pluggable."""
    per_cpu, per_mem = cpus // nodes, ranges // nodes
    out = ['machine "bench" {', "    tables { srat revision 3 }"]
    base = apic = 0
    for n in range(nodes):
        out.append(f"    node {n} {{")
        out.append(f"        cpus {apic}-{apic + per_cpu - 1} x2apic")
        apic += per_cpu
        for _ in range(per_mem):
            out.append(f"        memory {base:#x} size 256M" + (" hotpluggable" if n % 2 else ""))
            base += 256 << 20
        out.append("    }")
    out.append("}")
    return "\n".join(out) + "\n"


def statements_machine(count: int) -> str:
    """One block of ``count`` statements (``let`` constants) in a two-node machine."""
    lines = ['machine "m" {', "    node 0 { cpus 0 memory 0 size 1G }", "    node 1 { cpus 1 memory 1G size 1G }"]
    lines += [f"    let c{i} = {i}" for i in range(count)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def memblock_script(ops: int, seed: int = 2024) -> str:
    """The memblock oracle's generator: <= 128 regions, no dumps."""
    import importlib.util

    path = os.path.join(ROOT, "tests", "oracles", "memblock", "scriptgen.py")
    spec = importlib.util.spec_from_file_location("_speed_scriptgen", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.gen_script(random.Random(seed), ops, nodes=8, resize=False, dump_every=0)
