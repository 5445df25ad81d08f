"""Issue 11 on the real Debian 6.1 kernel under QEMU 7.2 TCG (marker ``boot``): the three misses,
each a machine booted with ``fwc boot`` whose prediction must agree line by line with the real
boot; and every example on a QEMU board (examples/qemu/*; examples/boot-tests/* are booted by
test_fwc_boot_real.py).  One boot at a time, 10-25 s each.

    pytest -q -p no:cacheprovider tests/test_boot_fidelity_real.py -m boot
"""

from __future__ import annotations

import os
import sys

import pytest

from oracles.qemu.fwcboot import KERNELS, assert_agrees, assert_version_matters, fwc_boot, tools_or_skip
from test_boot_fidelity import ABSENT_CPU_NODE, DIMM_REBUILD, PC_20_SOCKETS, SLIT_UNMATCHED

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QEMU_EXAMPLES = sorted(f[:-4] for f in os.listdir(os.path.join(REPO, "examples", "qemu")) if f.endswith(".fwc"))

_runs: dict = {}


def boot(key: str, path: str, tmp_path_factory, capsys, kernel: str = "6.1") -> tuple[int, dict | None, str]:
    """``fwc boot PATH --json`` on Debian's ``kernel`` (once per key and kernel)."""
    if (kernel, key) not in _runs:
        keep = str(tmp_path_factory.mktemp(f"{key}-{kernel}"))
        rc, doc, err = fwc_boot(path, tools_or_skip(kernel), keep)
        _runs[kernel, key] = (rc, doc, err, keep)
        if doc is not None:
            with capsys.disabled():
                n = sum(1 for r in doc["rows"] if r["key"].startswith("lines:") and r["compared"])
                sys.stdout.write(f"\n[fwc boot {kernel}] {key}: boot {doc['boot_seconds']:.1f} s, "
                                 f"{n} dmesg lines compared\n")
    return _runs[kernel, key][:3]


def _write(tmp_path_factory, name: str, text: str) -> str:
    d = tmp_path_factory.mktemp("machines")
    path = d / f"{name}.fwc"
    path.write_text(text)
    return str(path)


def _real_lines(doc, cat: str) -> list[str]:
    return doc["lines"]["real"].get(cat, [])


@pytest.mark.boot
def test_unmatched_slit_is_ignored_by_the_real_kernel(tmp_path_factory, capsys):
    """Miss a: drivers/acpi/numa/srat.c acpi_numa_slit_init() only calls numa_set_distance() for
    localities whose PXM has a node; the distance table is allocated (and printed) by the first
    call, so none is."""
    rc, doc, err = boot("slit-unmatched", _write(tmp_path_factory, "slit-unmatched", SLIT_UNMATCHED), tmp_path_factory,
                        capsys)
    assert doc is not None and doc["real"], err
    assert not any("distance table" in ln for ln in _real_lines(doc, "numa"))
    assert doc["real"]["node_data"]["1"] == "[mem 0x17ffd3000-0x17fffdfff]"
    assert_agrees(rc, doc, err)


@pytest.mark.boot
def test_dimm_online_rebuilds_zonelists_on_the_real_kernel(tmp_path_factory, capsys):
    """Miss b: mm/memory_hotplug.c online_pages() -> build_all_zonelists() for a zone that was
    empty, and hotadd_init_pgdat() for a node that was not online."""
    rc, doc, err = boot("dimm-rebuild", _write(tmp_path_factory, "dimm-rebuild", DIMM_REBUILD), tmp_path_factory,
                        capsys)
    assert doc is not None and doc["real"], err
    built = [ln for ln in _real_lines(doc, "zonelists") if ln.startswith("Built ")]
    assert len(built) == 4, _real_lines(doc, "zonelists")
    assert_agrees(rc, doc, err)
    assert sum(1 for r in doc["rows"] if r["key"] == "lines:zonelists" and r["approximate"]
               and r["predicted"] != r["real"]) <= 3  # the rebuilds' Total pages


@pytest.mark.boot
def test_rebuild_fallback_order_with_absent_cpus(tmp_path_factory, capsys):
    """Found on a machine nobody here chose: in a rebuild after boot, find_next_best_node()
    penalizes only nodes whose cpumask_of_node() has online CPUs."""
    rc, doc, err = boot("absent-cpu-node", _write(tmp_path_factory, "absent-cpu-node", ABSENT_CPU_NODE), tmp_path_factory,
                        capsys)
    assert doc is not None and doc["real"], err
    assert _real_lines(doc, "zonelists")[5] == "Fallback order for Node 0: 0 2 1"
    assert_agrees(rc, doc, err)


@pytest.mark.boot
def test_initrd_below_the_e801_top(tmp_path_factory, capsys):
    """Found on a machine nobody here chose: pc with 20 sockets, SeaBIOS's tail 0x21000, the
    linuxboot_dma option ROM puts the initrd 64 KiB lower than with 2 sockets."""
    rc, doc, err = boot("pc-20-sockets", _write(tmp_path_factory, "pc-20-sockets", PC_20_SOCKETS), tmp_path_factory,
                        capsys)
    assert doc is not None and doc["real"], err
    assert doc["real"]["ramdisk"].endswith("-0xbffcffff]")
    assert_agrees(rc, doc, err)


@pytest.mark.boot
@pytest.mark.parametrize("name", QEMU_EXAMPLES)
@pytest.mark.parametrize("kernel", KERNELS)
def test_qemu_example_agrees_with_a_real_boot(kernel, name, tmp_path_factory, capsys):
    """Every example on a QEMU board (the golden QEMU configurations), on each kernel (miss c:
    h_q35_maxcpus255's low RAM ends at 0x7ffdafff: SeaBIOS put 255 SMBIOS type 4 structures
    above the ACPI tables)."""
    path = os.path.join(REPO, "examples", "qemu", f"{name}.fwc")
    rc, doc, err = boot(name, path, tmp_path_factory, capsys, kernel)
    assert doc is not None and doc["real"], err
    assert doc["kernel_release"].startswith(f"{kernel}.") and doc["predicted_kernel"] == kernel
    if name == "h_q35_maxcpus255":
        assert "BIOS-e820: [mem 0x0000000000100000-0x000000007ffdafff] usable" in _real_lines(doc, "e820")
    assert_agrees(rc, doc, err)
    if kernel != "6.1":
        assert_version_matters(path, _runs[kernel, name][3], tools_or_skip(kernel))
