"""Managed pages, node MemTotal and the ``Memory:`` line (issue 11 part 2) against real boots.

tests/golden/managed/*.json are what the real Debian 6.1 kernel showed under QEMU 7.2 (fwc
boot --keep: /proc/zoneinfo, the nodes' meminfo, dmesg; three of them booted with
``memblock=debug``, whose allocation log taught the simulator its size rules).  Each is
simulated again with the same command line and initrd size and must agree exactly, except the
``Memory:`` line's first figure (nr_free_pages(), approximate by design).  The build figures
fwc records as Debian 6.1's default are checked against the kernel package the QEMU oracle
downloads."""

from __future__ import annotations

import glob
import json
import os
import re

import attrs
import pytest

from fwc import Fwc
from fwc_plugins.boot.kernel_build import DEBIAN_6_1, read_bzimage_build
from fwc_plugins.boot.sim import simulate
from fwc_plugins.bootrun.predict import linuxboot_initrd_base, machine_as_booted

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "managed", "*.json")))


def _boot(doc):
    m = Fwc().check(os.path.join(ROOT, doc["example"])).machine
    base = linuxboot_initrd_base(m, doc["initrd_size"])
    return simulate(machine_as_booted(m, doc["cmdline"], base, doc["initrd_size"]))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: os.path.basename(p)[:-5])
def test_managed_equals_the_real_kernel(path):
    doc = json.load(open(path))
    b = _boot(doc)
    assert b.managed == doc["managed"]
    if doc.get("memtotal"):
        total: dict[str, int] = {}
        for key, pages in b.managed.items():
            total[key.split()[0]] = total.get(key.split()[0], 0) + pages * 4
        # a memoryless node shows MemTotal 0 kB and has no zone with managed pages
        assert {n: f"{kb} kB" for n, kb in total.items()} == {n: v for n, v in doc["memtotal"].items()
                                                             if v != "0 kB"}
    mem = [ln for ln in b.dmesg if ln.startswith("Memory: ")]
    assert [re.sub(r"^Memory: \d+K/", "Memory: ~K/", ln) for ln in doc["memory"]] == mem


def test_every_allocation_is_named_and_the_report_carries_managed():
    doc = json.load(open(os.path.join(ROOT, "tests", "golden", "managed", "h_q35_maxcpus255.json")))
    b = _boot(doc)
    purposes = " ".join(a.purpose for a in b.allocs)
    for fn in ("memblocks_present", "sparse_index_alloc", "vmemmap_populate", "pcpu_fc_alloc", "setup_log_buf",
               "spp_getpage", "swiotlb_init_remap", "e820__reserve_resources", "register_nosave_region"):
        assert fn in purposes, fn
    # 255 possible CPUs: 32 CPU entry area page-table pages, as the real memblock=debug log shows
    assert sum(1 for a in b.allocs if "spp_getpage" in a.purpose) == 32


@pytest.mark.oracle
def test_recorded_build_is_the_oracle_package(qemu_tools):
    """DEBIAN_6_1 (the default build) is what the reader finds in the kernel package the QEMU
    oracle downloads; a newer package must be re-recorded."""
    got = read_bzimage_build(str(qemu_tools.kernel))
    if qemu_tools.kernel_pkg != "linux-image-6.1.0-57-amd64":
        pytest.skip(f"recorded for linux-image-6.1.0-57-amd64, the oracle has {qemu_tools.kernel_pkg}")
    assert attrs.evolve(got, source=DEBIAN_6_1.source) == DEBIAN_6_1
