"""The kernel version as an input (issue 17): ``boot.kernel``, ``simulate(kernel=)``, the
version objects (kernel/version.py Linux61, kernel612/version.py Linux612), every output
naming its kernel, ``kernels.txt``, and ``fwc boot`` reading the version from the bzImage.

What 6.12 predicts is checked against the real Debian 6.12 kernel in
tests/test_fwc_boot_real.py and test_boot_fidelity_real.py (marker ``boot``, every example on
both kernels) and bench/fidelity.py --kernel 6.12; here, the plumbing and the rules that
make the two kernels differ."""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

import fwc_plugins.boot.kernel612 as kernel612_pkg
from fwc import Fwc
from fwc_plugins.boot.kernel.version import KERNELS, Linux61, kernel_named
from fwc_plugins.boot.kernel612.version import Linux612
from fwc_plugins.boot.report import from_json
from fwc_plugins.boot.sim import simulate
from fwc_plugins.bootrun.predict import read_bzimage

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIMM = ROOT / "examples" / "qemu" / "b_q35_2node_dimm.fwc"
MEMORYLESS = ROOT / "examples" / "qemu" / "e_q35_memoryless.fwc"
MIRROR = ROOT / "examples" / "boot-tests" / "kernelcore-mirror.fwc"
K612 = pathlib.Path(kernel612_pkg.__file__).parent


def machine(path):
    r = Fwc().load(path)
    assert r.machine is not None, r.render_diagnostics()
    return r.machine


def test_versions_are_named_objects():
    assert KERNELS == ("6.1", "6.12")
    assert type(kernel_named("6.1")) is Linux61 and type(kernel_named("6.12")) is Linux612
    with pytest.raises(ValueError, match="unknown kernel '5.10'"):
        kernel_named("5.10")
    with pytest.raises(ValueError):
        simulate(machine(DIMM), kernel="6.13")
    assert simulate(machine(DIMM)).kernel == "6.1" and simulate(machine(DIMM), kernel="6.12").kernel == "6.12"


def test_6_12_overrides_steps_in_modules_named_after_its_files():
    """Linux612 overrides only what 6.12 does differently; each method it overrides calls a
    function of a kernel612 module whose docstring names the 6.12 source file."""
    overridden = {n for n, v in vars(Linux612).items() if callable(v) and n in vars(Linux61) and not n.startswith("_")}
    assert overridden == {"new_memblock", "numa_cleanup_meminfo", "numa_register_memblks", "kernelcore_mirror_applies",
                          "prefill_possible_map", "calc_nr_kernel_pages"}
    files = {"memblock": "mm/memblock.c", "numa_memblks": "mm/numa_memblks.c", "numa": "arch/x86/mm/numa.c",
             "mm_numa": "mm/numa.c", "mm_init": "mm/mm_init.c", "topology": "arch/x86/kernel/cpu/topology.c"}
    for stem, src in files.items():
        doc = ast.get_docstring(ast.parse((K612 / f"{stem}.py").read_text()))
        assert doc and src in doc, stem
        assert f"``{stem}``" in kernel612_pkg.__doc__
    flags = {n for n, v in vars(Linux612).items() if not callable(v) and not n.startswith("_")}
    assert flags == {"name", "memhp_default_online_type", "no_node", "srat_cpu_lines", "managed_pages_are_present",
                     "memoryless_local_node_skipped", "memory_line_late", "disabled_cpus_possible", "pgdat_size",
                     "memoryless_pgdat_size", "deferred_highest_zone_only", "node_spanned_is_zone_sum",
                     "cpu_local_masks", "pcpu_chunk_size", "offline_clears_node_first"}


def test_what_differs_on_the_dimm_machine():
    """Observed on the real kernels (docs/kernels.md): NODE_DATA cache-line aligned and
    exactly sized, the SRAT CPU lines gone, node 0 starting at the first RAM page, the DIMM
    onlined."""
    m = machine(DIMM)
    a, b = simulate(m), simulate(m, kernel="6.12")
    assert any(ln.startswith("SRAT: PXM 0 -> APIC 0x00") for ln in a.dmesg)
    assert not any(ln.startswith("SRAT: PXM") for ln in b.dmesg)
    assert "NUMA: Node 0 [mem 0x00000000-0x0009ffff] + [mem 0x00100000-0x7fffffff] -> [mem 0x00000000-0x7fffffff]" \
        in a.dmesg
    assert "NUMA: Node 0 [mem 0x00001000-0x0009ffff] + [mem 0x00100000-0x7fffffff] -> [mem 0x00001000-0x7fffffff]" \
        in b.dmesg
    nd_a = next(ln for ln in a.dmesg if ln.startswith("NODE_DATA(1)"))
    nd_b = next(ln for ln in b.dmesg if ln.startswith("NODE_DATA(1)"))
    assert nd_a.endswith("[mem 0x17ffd3000-0x17fffdfff]") and nd_b.endswith("[mem 0x17ffd3680-0x17fffdfff]")
    assert [d[3] for d in a.dimm_online] == ["offline"] and [d[3] for d in b.dimm_online] == ["online"]
    assert (1, "Normal", 1048576, 786432, 786432) in b.zones_final
    # memhp_default_state= on the command line still wins
    c = simulate(m, kernel="6.12", cmdline="memhp_default_state=offline")
    assert [d[3] for d in c.dimm_online] == ["offline"]


def test_memoryless_node_and_mirror_rules():
    b61, b612 = simulate(machine(MEMORYLESS)), simulate(machine(MEMORYLESS), kernel="6.12")
    assert "Fallback order for Node 1: 1 0 " in b61.dmesg and "Fallback order for Node 1: 0 " in b612.dmesg
    m = machine(MIRROR)
    a, b = simulate(m), simulate(m, kernel="6.12")
    assert a.zmp and not b.zmp
    assert "The system has no mirror memory, ignore kernelcore=mirror." in b.dmesg


def compile_boot(path, **options):
    return Fwc().compile(path, backends=["boot"], options={f"boot.{k}": v for k, v in options.items()})


def test_every_output_names_its_kernel():
    r = compile_boot(DIMM, kernel="6.12")
    assert r.ok, r.render_diagnostics()
    art = {a.path: a.text for a in r.artifacts}
    assert art["boot/dmesg.txt"].startswith("Linux version 6.12 ")
    assert art["boot/zones.txt"].startswith("# Linux 6.12:")
    assert art["boot/pins.txt"].startswith("# Linux 6.12,")
    assert art["boot/memblock.log"].startswith("# Linux 6.12\n")
    assert "under Linux 6.12 (upstream" in art["boot/policies.txt"]
    report = from_json(art["boot/boot.json"])
    assert report.kernel == "6.12" and json.loads(art["boot/boot.json"])["kernel"] == "6.12"
    # a document written before the key existed predicts 6.1
    doc = json.loads(art["boot/boot.json"])
    del doc["kernel"]
    assert from_json(doc).kernel == "6.1"
    assert from_json(compile_boot(DIMM).artifact("boot/boot.json").text).kernel == "6.1"


def test_kernels_txt_marks_the_differences():
    text = compile_boot(DIMM).artifact("boot/kernels.txt").text
    lines = text.splitlines()
    assert lines[0].startswith("# b_q35_2node_dimm: the same machine under Linux 6.1 and 6.12")
    i = lines.index("NODE_DATA:")
    assert lines[i + 1] == "  Linux 6.1:  0@0x7fea8000, 1@0x17ffd3000"
    assert lines[i + 2] == "  Linux 6.12: 0@0x7fea8680, 1@0x17ffd3680   <- differs"
    i = lines.index("cold-plugged DIMMs after boot:")
    assert lines[i + 1].endswith("node 1 offline") and lines[i + 2].endswith("node 1 online   <- differs")
    i = lines.index("Movable zone start:")
    assert not lines[i + 2].endswith("<- differs")
    normal = [ln for ln in lines if ln.startswith("  node 1 Normal")]
    assert not normal[0].endswith("<- differs") and normal[1].endswith("<- differs")
    assert "Linux 6.12 1048576 786432 786432" in normal[1]


def test_bad_kernel_option_is_a_diagnostic():
    r = compile_boot(DIMM, kernel="5.10")
    assert not r.ok and [d.check for d in r.diagnostics] == ["boot-option"]
    assert "expected 6.1 or 6.12 or a bzImage, got '5.10'" in r.diagnostics[0].message


def test_fwc_show_says_which_kernel(tmp_path):
    env = dict(os.environ, COLUMNS="200")
    code = "import sys; from fwc.cli import main; sys.exit(main(sys.argv[1:]))"
    run = lambda *a: subprocess.run([sys.executable, "-c", code, "show", str(DIMM), "--color", "never", *a],  # noqa: E731
                                    capture_output=True, text=True, env=env, timeout=120)
    assert "zones after boot (Linux 6.1, simulated" in run().stdout
    assert "zones after boot (Linux 6.12, simulated" in run("-O", "boot.kernel=6.12").stdout
    bad = run("-O", "boot.kernel=4.19")
    assert bad.returncode == 1 and "[boot-option]" in bad.stderr


def test_a_bzimage_names_the_kernel(tmp_path):
    """boot.kernel=BZIMAGE: its header's version chooses the kernel (a version fwc does not model is an error)."""
    from fwc_plugins.boot.kernel.version import bzimage_release

    assert bzimage_release(bzimage(tmp_path, "6.12.115+deb12-amd64")) == ("6.12.115+deb12-amd64", "6.12")
    assert bzimage_release(bzimage(tmp_path, None)) == ("", "")


# ---- fwc boot: the version comes from the bzImage -----------------------------------------------

def bzimage(tmp_path, version: str | None) -> str:
    """A bzImage boot header (Documentation/arch/x86/boot.rst) with ``kernel_version``."""
    k = tmp_path / f"bzImage-{version}"
    h = bytearray(0x400)
    h[0x202:0x206] = b"HdrS"
    h[0x206:0x208] = (0x20F).to_bytes(2, "little")
    h[0x22C:0x230] = (0x7FFFFFFF).to_bytes(4, "little")
    h[0x236:0x238] = (0x7F).to_bytes(2, "little")
    if version is not None:
        h[0x20E:0x210] = (0x300 - 0x200).to_bytes(2, "little")
        s = f"{version} (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian".encode()
        h[0x300:0x300 + len(s)] = s
    k.write_bytes(bytes(h))
    return str(k)


def test_bzimage_version(tmp_path):
    b = read_bzimage(bzimage(tmp_path, "6.12.115+deb12-amd64"))
    assert b.release == "6.12.115+deb12-amd64" and b.series == "6.12"
    assert read_bzimage(bzimage(tmp_path, "6.1.0-57-amd64")).series == "6.1"
    assert read_bzimage(bzimage(tmp_path, None)).series == ""


def fwc_boot(*argv):
    import argparse

    from fwc_plugins.bootrun import run as runmod

    p = argparse.ArgumentParser()
    runmod.configure(p)
    return runmod.run(p.parse_args([str(a) for a in argv]), Fwc())


@pytest.mark.parametrize("version, options, rc, message", [
    ("6.12.115+deb12-amd64", ["-O", "boot.kernel=6.1"], 2,
     "-O boot.kernel=6.1: the kernel booted is Linux 6.12 (6.12.115+deb12-amd64); fwc compares a prediction only"),
    ("5.10.0-30-amd64", [], 6, "is Linux 5.10.0-30-amd64: fwc models 6.1 and 6.12 only"),
    ("6.1.0-57-amd64", ["-O", "kernel=6.1"], 2, "-O kernel=6.1: expected boot.NAME=VALUE"),
])
def test_fwc_boot_refuses_a_prediction_for_another_kernel(tmp_path, capsys, version, options, rc, message):
    """Refused before anything is booted (no QEMU is needed)."""
    assert fwc_boot(DIMM, "--kernel", bzimage(tmp_path, version), "--qemu", sys.executable, *options) == rc
    assert message in capsys.readouterr().err


def test_fwc_boot_predicts_the_bzimage_version(tmp_path):
    from fwc_plugins.bootrun.run import configure, predicted_kernel

    import argparse

    p = argparse.ArgumentParser()
    configure(p)
    b = Fwc().backends["boot"]
    for version, want in (("6.12.115+deb12-amd64", "6.12"), ("6.1.0-57-amd64", "6.1")):
        args = p.parse_args([str(DIMM), "--kernel", bzimage(tmp_path, version)])
        assert predicted_kernel(args, read_bzimage(args.kernel), b) == ({"kernel": want}, None)
    # no version in the header: the backend's default (or -O)
    args = p.parse_args([str(DIMM), "--kernel", bzimage(tmp_path, None), "-O", "boot.kernel=6.12"])
    assert predicted_kernel(args, read_bzimage(args.kernel), b) == ({"kernel": "6.12"}, None)


#: What the real kernels reported for examples/boot-tests/NAME.fwc (fwc boot, 2026-12-02; both
#: are booted on both kernels by tests/test_fwc_boot_real.py): the zones' managed pages, and the
#: bytes of the dentry hash table ('Dentry cache hash table entries: N', 8-byte buckets).
REAL = {
    ("mirror-movable-overlap", "6.1"): {"managed": {"1 DMA32": 63320, "1 Movable": 65536}},
    ("mirror-movable-overlap", "6.12"): {"managed": {"1 DMA32": 32768, "1 Movable": 65536}},
    ("hash-one-node", "6.1"): {"dentry": 524288 * 8},
    ("hash-one-node", "6.12"): {"dentry": 262144 * 8},
}


@pytest.mark.parametrize("name, kernel", sorted(REAL))
def test_deferred_pages_and_hash_tables_per_kernel(name, kernel):
    """Overlapping DMA32 and Movable zones (kernelcore=mirror without mirrored memory, beside
    movable_node): 6.1 defers nothing there (its node_spanned_pages sums the zones), 6.12
    defers after DMA32's first section and initialises only Movable later.  One node's hash
    tables: 6.12's nr_kernel_pages counts memblock's free pages (mm/mm_init.c)."""
    b = simulate(machine(ROOT / "examples" / "boot-tests" / f"{name}.fwc"), kernel=kernel)
    want = REAL[name, kernel]
    for z, v in want.get("managed", {}).items():
        assert b.managed[z] == v, z
    if "dentry" in want:
        assert [a.size for a in b.allocs if a.purpose.startswith("Dentry cache")] == [want["dentry"]]
