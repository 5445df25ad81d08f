"""pytest plugin (entry point ``pytest11``): machines as fixtures for other test suites.

::

    def test_node1_is_movable(fwc_build):
        b = fwc_build('''
            machine "m" { board qemu-q35
                node 0 { cpus 0-1 memory size 2G }
                node 1 { cpus 2-3 memory size 2G hotpluggable } }''')
        assert b.tables["SRAT"][:4] == b"SRAT"
        assert "-numa" in b.qemu_argv

``fwc_build(text=None, *, path=None, backends=None, options=None, expect_errors=False)``
compiles a description (inline text, or a file) and returns a :class:`Build`.  A
description with errors fails the test with the diagnostics, unless ``expect_errors``.
The fixture ``fwc_compiler`` is the :class:`fwc.Fwc` instance it uses (one per session).

``Build.boot`` is the boot backend's report, typed (:class:`fwc_plugins.boot.report.BootReport`,
schema in docs/boot-json.md): ``b.boot.summary.zones``, ``b.boot.pins``, ``b.boot.memblock``;
``Build.boot_json`` is the same document as a plain dict.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from fwc_plugins.boot.report import BootReport

    from .api import Fwc, Result


class Build:
    """What one compile produced, in the forms tests want."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.ok = result.ok
        self.machine = result.machine
        self.diagnostics = result.diagnostics
        self.artifacts = {a.path: a.data for a in result.artifacts}

    def text(self, path: str) -> str:
        return self.artifacts[path].decode("utf-8")

    @property
    def tables(self) -> dict:
        """ACPI tables by signature (``SRAT``, ``SLIT``, ``APIC``, ``RSDP``, …)."""
        return {p[5:-4]: d for p, d in self.artifacts.items() if p.startswith("acpi/") and p.endswith(".aml")}

    @property
    def qemu_argv(self) -> list:
        return json.loads(self.text("qemu/argv.json")) if "qemu/argv.json" in self.artifacts else []

    @functools.cached_property
    def boot(self) -> BootReport | None:
        """The boot simulation (``boot/boot.json``), typed: ``b.boot.summary.zones[0].present``;
        None without the boot backend.  Read-only dict-style access (``b.boot["summary"]``)
        still works for tests written against the JSON layout; see also :attr:`boot_json`."""
        if "boot/boot.json" not in self.artifacts:
            return None
        from fwc_plugins.boot.report import from_json

        return from_json(self.artifacts["boot/boot.json"])

    @property
    def boot_json(self) -> dict:
        """``boot/boot.json`` as a plain dict (``{}`` without the boot backend)."""
        return json.loads(self.text("boot/boot.json")) if "boot/boot.json" in self.artifacts else {}

    @property
    def trace(self) -> list:
        """The simulated dmesg lines."""
        return self.text("boot/dmesg.txt").splitlines() if "boot/dmesg.txt" in self.artifacts else []

    @property
    def zones(self) -> list:
        """``[{node, zone, start_pfn, spanned, present}, …]`` after early boot (typed:
        ``b.boot.summary.zones``)."""
        return [z.to_dict() for z in self.boot.summary.zones] if self.boot is not None else []

    @property
    def memblock(self) -> dict:
        """The final memblock arrays: ``{"memory": [...], "reserved": [...]}`` (typed:
        ``b.boot.memblock``)."""
        return self.boot.memblock.to_dict() if self.boot is not None else {}

    def __repr__(self) -> str:
        return f"<fwc Build ok={self.ok} outputs={len(self.artifacts)}>"


@pytest.fixture(scope="session")
def fwc_compiler() -> Fwc:
    from fwc import Fwc

    return Fwc()


@pytest.fixture
def fwc_build(fwc_compiler: Fwc) -> Callable[..., Build]:
    def build(text: str | None = None, *, path: str | None = None, backends: list[str] | None = None,
              options: dict[str, Any] | None = None, expect_errors: bool = False) -> Build:
        if (text is None) == (path is None):
            raise TypeError("fwc_build needs a description text or path=")
        r = fwc_compiler.compile(path, text=text, name=None if text is None else "<fwc_build>",
                                 backends=backends, options=options)
        if not r.ok and not expect_errors:
            pytest.fail("fwc: the description has errors:\n" + r.render_diagnostics(), pytrace=False)
        return Build(r)

    return build
