"""The boot simulator's layout (issue 9): one module per kernel file, functions named after
the kernel's with their source paths, state in declared attrs classes, zones as named
constants, the seed design as a policy object, a typed result; the boot and initrd
plugins' diagnostics registered with stable codes; the initrd plugin's public API."""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess
import sys

import attrs
import pytest

import fwc_plugins.boot.kernel as kernel_pkg
import fwc_plugins.boot.kernel612 as kernel612_pkg
from fwc import Fwc
from fwc_plugins.boot import backend
from fwc_plugins.boot.kernel import policy, state
from fwc_plugins.boot.kernel.zones import ZONE_MOVABLE, ZONE_NAMES, ZoneType
from fwc_plugins.boot.sim import Boot, simulate

ROOT = pathlib.Path(__file__).resolve().parent.parent
KERNEL = pathlib.Path(kernel_pkg.__file__).parent
KERNEL612 = pathlib.Path(kernel612_pkg.__file__).parent
BOOT = KERNEL.parent
A_Q35 = ROOT / "examples" / "qemu" / "a_q35_2node.fwc"


def machine(path=A_Q35):
    r = Fwc().load(path)
    assert r.machine is not None, r.render_diagnostics()
    return r.machine


def test_modules_are_small():
    for p in sorted(KERNEL.glob("*.py")) + sorted(KERNEL612.glob("*.py")) + [BOOT / "sim.py", BOOT / "firmware.py", BOOT / "render.py",
                                            BOOT / "backend.py"]:
        n = len(p.read_text().splitlines())
        assert n <= 500, f"{p.name}: {n} lines"


def _functions(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node


SOURCE = re.compile(r"\b(arch|drivers|mm|init|lib|include|kernel|fs)/[\w/-]+\.[ch]\b")
# fwc's own helpers (not a kernel function), allowed without a kernel source path
FWC_OWN = {"find_pins", "policy_named", "srat_entries", "slit_matrix", "madt_cpus", "table_ids", "smp_lines",
           "acpi_tables_init", "align_zone_movable_pfn", "acpi_tb_header_line", "free_after_boot", "zone_freesize",
           "kernel_named", "numa_register", "kernelcore_mirror_applies", "bzimage_release",
           "possible_cpus", "kernel_of", "page_zones"}


def test_every_function_names_its_kernel_source():
    """Each module docstring cites its kernel files; each function has a docstring, and a
    function named after a kernel function is documented as such."""
    for p in sorted(KERNEL.glob("*.py")) + sorted(KERNEL612.glob("*.py")):
        doc = ast.get_docstring(ast.parse(p.read_text())) or ""
        assert doc, p.name
        for f in _functions(p):
            d = ast.get_docstring(f)
            assert d, f"{p.name}: {f.name} has no docstring"
            if f.name not in FWC_OWN and p.stem not in ("zones", "state"):
                assert f.name in d.replace("()", ""), f"{p.name}: {f.name} is not named after its kernel function"
                assert SOURCE.search(d), f"{p.name}: {f.name}: no kernel source path in its docstring"
    text = (KERNEL / "__init__.py").read_text()
    for src in ("arch/x86/kernel/setup.c", "arch/x86/kernel/e820.c", "arch/x86/mm/init.c", "drivers/acpi/tables.c",
                "drivers/acpi/numa/srat.c", "arch/x86/mm/srat.c", "arch/x86/mm/numa.c", "mm/sparse.c",
                "mm/page_alloc.c", "mm/memory_hotplug.c", "lib/cmdline.c", "init/main.c"):
        assert src in text, src


def test_state_is_declared():
    """attrs classes with slots: no attribute can appear mid-run."""
    for cls in (state.Kernel, state.DirectMap, state.AcpiState, state.NumaState, state.ZoneState, state.BootLog,
                policy.Policy, policy.SeedPolicy, Boot):
        assert attrs.has(cls), cls
        assert "__slots__" in cls.__dict__, cls
    with pytest.raises(AttributeError):
        state.NumaState().not_a_field = 1


def test_zones_are_named_constants():
    assert [int(z) for z in ZoneType] == [0, 1, 2, 3, 4]
    assert ZONE_MOVABLE is ZoneType.ZONE_MOVABLE and ZONE_MOVABLE.label == "Movable"
    assert ZONE_NAMES == tuple(z.label for z in ZoneType)


def test_seed_is_a_policy_object():
    assert isinstance(policy.policy_named("seed"), policy.SeedPolicy)
    assert type(policy.policy_named("upstream")) is policy.Policy
    overridden = {n for n, v in vars(policy.SeedPolicy).items()
                  if callable(v) and n in vars(policy.Policy) and not n.startswith("_")}
    assert overridden == {"after_e820_memblock_setup", "numa_clear_kernel_node_hotplug",
                          "find_zone_movable_pfns_for_nodes", "memblock_free_all"}
    with pytest.raises(ValueError):
        simulate(machine(), policy="nope")
    main_path = "\n".join(p.read_text() for p in KERNEL.glob("*.py") if p.name != "policy.py")
    assert '"seed"' not in main_path and "'seed'" not in main_path


def test_result_is_typed_and_self_contained():
    b = simulate(machine())
    assert isinstance(b, Boot) and not hasattr(b, "sim")
    assert b.policy == "upstream" and b.cmdline == machine().cmdline
    assert set(b.zones_all) == {0, 1} and len(b.zones_all[0]) == len(ZoneType)
    assert b.node_data and b.pxm_to_node == {0: 0, 1: 1}
    assert b.acpi_tables["SRAT"][:4] == b"SRAT"
    for path in (BOOT / "render.py", BOOT / "backend.py"):
        assert ".sim." not in path.read_text() and "b.sim" not in path.read_text()


# ---- diagnostics --------------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [("boot-pinned-hotplug", 4400), ("boot-unsupported", 4401),
                                        ("boot-option", 4402), ("initrd-none", 4211), ("initrd-base", 4212),
                                        ("initrd-file", 4200)])
def test_backend_diagnostics_registered_with_codes(name, code):
    c = Fwc().checks.get(name)
    assert c is not None and c.code == code


def test_boot_diagnostics_use_registered_names():
    r = Fwc().compile(A_Q35, backends=["boot"], options={"boot.policy": "nope"})
    assert [d.check for d in r.diagnostics] == ["boot-option"]
    r = Fwc().compile(text='machine "m" { arch arm64 node 0 { cpus 0 memory 0 size 1G } }', backends=["boot"])
    assert [d.check for d in r.diagnostics] == ["boot-unsupported"]


def test_check_pinned_does_not_swallow_exceptions(monkeypatch):
    import fwc_plugins.boot.sim as sim

    def boom(*a, **k):
        raise RuntimeError("simulator bug")

    monkeypatch.setattr(sim, "simulate", boom)
    m = machine(ROOT / "examples" / "boot" / "q35_node1_hotplug_override.fwc")
    with pytest.raises(RuntimeError, match="simulator bug"):
        backend.check_pinned(m, lambda *a, **k: None)


# ---- the plugins' public APIs: declared, and loaded on first use ---------------------------

LAZY_API = {
    "initrd": """
import sys, fwc_plugins.initrd as i
assert 'fwc_plugins.initrd.cpio' not in sys.modules and 'fwc_plugins.initrd.upgrade' not in sys.modules
assert {'build_archive', 'Writer', 'table_upgrade', 'archive_files'} <= set(i.__all__)
from fwc_plugins.initrd import Writer, build_archive, tree, scan_acpi
w = Writer(); w.file('x', b'1'); assert scan_acpi(tree({'kernel/firmware/acpi/a.aml': b'2'}))
""",
    "boot": """
import sys, fwc_plugins.boot as b
assert not {'fwc_plugins.boot.sim', 'fwc_plugins.boot.report', 'fwc_plugins.boot.kernel'} & set(sys.modules)
assert set(b.__all__) == {'Alloc', 'Boot', 'Step', 'block_ids', 'runs', 'report', 'simulate', 'DEBIAN_INITRD_ADDR_MAX',
                         'dsdt_length', 'linuxboot_initrd_base', 'usable_low_end', 'KERNELS', 'cached_build'}
assert b.report.SCHEMA and b.simulate.__module__ == 'fwc_plugins.boot.sim'
""",
}


@pytest.mark.parametrize("plugin", sorted(LAZY_API))
def test_public_api_is_declared_and_lazy(plugin):
    r = subprocess.run([sys.executable, "-c", LAZY_API[plugin] + "print('ok')"], capture_output=True, text=True,
                       timeout=60)
    assert r.stdout.strip() == "ok", r.stderr
