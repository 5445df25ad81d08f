"""Built-in backend ``acpi``: SRAT, SLIT and MADT, the RSDP/XSDT/RSDT set around them, as
binaries, iasl data-table source and acpidump text; plus the checks for what Linux 6.1
will not read as intended.

Outputs (under ``acpi/``): ``SRAT.aml``, ``SLIT.aml`` (when the machine has distances),
``APIC.aml`` (the MADT; x86_64 only), each with its iasl source ``*.dsl`` (``iasl`` compiles
it back to the same bytes; a table iasl 20200925 cannot express, such as one with an SRAT
Generic Port, gets no ``.dsl`` and a note), ``RSDP.aml``, ``XSDT.aml``, ``RSDT.aml`` laid
out from the ``tables at`` address (option ``base``), and ``acpidump.txt`` holding the whole
set as ``acpidump`` prints it (``acpixtract -a`` reads it back; option ``acpidump``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fwc.plugin import Option, hookimpl

if TYPE_CHECKING:
    from fwc import Fwc
    from fwc.backends import BackendContext
    from fwc.diagnostics import Diagnostic
    from fwc.model import Machine

    Report = Callable[..., None]

DEFAULT_BASE = 0x000E0000  # the legacy RSDP search area, like a PC BIOS


@hookimpl
def fwc_register_backends(register: Callable[..., None]) -> None:
    register("acpi", generate, description="SRAT, SLIT, MADT and RSDP/XSDT/RSDT: .aml, iasl .dsl, acpidump",
             outputs=["acpi/SRAT.aml", "acpi/SLIT.aml", "acpi/APIC.aml", "acpi/*.dsl", "acpi/RSDP.aml",
                      "acpi/XSDT.aml", "acpi/RSDT.aml", "acpi/acpidump.txt"],
             options={"base": Option(-1, "physical address of the RSDP (default: the machine's 'tables at', "
                                         "else 0xE0000)"),
                      "dsl": Option(True, "write iasl data-table source next to each table"),
                      "acpidump": Option(True, "write acpidump.txt, the whole set as acpidump prints it")})


def decompile(paths: list[str], fwc: "Fwc", name: str | None) -> tuple[str | None, list["Diagnostic"]]:
    """:func:`.decompile.decompile`, imported on first use (registering costs nothing)."""
    from .decompile import decompile as run

    return run(paths, fwc, name)


@hookimpl
def fwc_register_decompilers(register: Callable[..., None]) -> None:
    register("acpi", decompile, description="SRAT, SLIT and MADT (binaries, acpidump text, a table directory)")


def check_qemu_x2apic(machine: "Machine", report: "Report") -> None:
    from fwc import boards

    if not boards.is_qemu(machine.board):
        return
    for n in machine.nodes:
        for c in n.cpus:
            if c.x2apic and c.apic_id < 255:
                report(f"on {machine.board} QEMU 7.2 describes APIC ID {c.apic_id} with Local APIC entries; 'x2apic' "
                       "makes fwc's SRAT and MADT differ from the ones QEMU builds", c.span)
                return


def check_layout(machine: "Machine", report: "Report") -> None:
    """The tables laid out from ``tables at``: fwc writes an RSDT, whose 32-bit entries reach
    only tables below 4 GiB (the default address always fits)."""
    if machine.tables_base is None:
        return
    from .binary import AcpiError
    from .model_map import OEM
    from .tables import build_tables
    from .tableset import build_table_set

    try:
        build_table_set([data for _, data in build_tables(machine).values()], base=machine.tables_base,
                        header=OEM.values(machine.oem))
    except AcpiError as e:
        report(layout_problem(machine.tables_base, e), machine.tables_span or machine.span)


def layout_problem(base: int, e: Exception) -> str:
    return f"cannot lay the tables out at {base:#x}: {e}"


def check_disabled_initiator(machine: "Machine", report: "Report") -> None:
    for n in machine.nodes:
        for g in n.initiators:
            if not g.enabled and g.kind == "initiator":
                report("a disabled Generic Initiator entry makes Linux's SRAT walker fail, and it then calls no "
                       "handler for any later entry of that pass (CPU, GICC and initiator affinity after it are "
                       "lost); leave the initiator out instead", g.span)


def check_x2apic_mode(machine: "Machine", report: "Report") -> None:
    if machine.arch != "x86_64":
        return
    for n in machine.nodes:
        for c in n.cpus:
            if c.apic_id >= 255:
                report(f"APIC ID {c.apic_id} needs x2APIC entries (SRAT type 2, MADT type 9), which Linux accepts "
                       "only when it runs in x2APIC mode (otherwise 'x2apic entry ignored'); QEMU 7.2 under TCG "
                       "cannot start such a guest", c.span)
                return


def check_srat_dropped(machine: "Machine", report: "Report") -> None:
    for n in machine.nodes:
        if n.pxm >= 1024:
            report(f"proximity domain {n.pxm} is beyond Linux's MAX_PXM_DOMAINS (1024 with NODES_SHIFT=10): "
                   "'SRAT: Too many proximity domains', and Linux ignores the whole SRAT", n.span)
            return
    ranges = sum(1 for n in machine.nodes for r in n.boot_memory if r.enabled and r.size)
    if ranges > 2048:
        report(f"{ranges} memory ranges exceed Linux's NR_NODE_MEMBLKS (2048): NUMA initialisation fails", machine.span)
    if machine.nodes and not any(r.enabled and r.size for n in machine.nodes for r in n.memory):
        report("no enabled memory entry: Linux ignores the SRAT's NUMA layout and fakes a single node", machine.span)


def check_append_slit(machine: "Machine", report: "Report") -> None:
    o = machine.table_overrides.get("slit")
    if o is not None and o.append:
        report("a SLIT has no subtables; 'append' applies to srat and madt (use 'verbatim' for other bytes)", o.span)


#: Every check the acpi plugin runs: (name, stable code, default level, description, function).
#: Codes FWC4300-4309; a new check takes the next free code, a removed one keeps its code unused.
CHECKS = (
    ("acpi-disabled-initiator", 4300, "warning",
     "a disabled Generic Initiator makes Linux skip later SRAT entries", check_disabled_initiator),
    ("acpi-x2apic-mode", 4301, "warning", "x2APIC entries Linux reads only in x2APIC mode", check_x2apic_mode),
    ("acpi-srat-dropped", 4302, "warning", "an SRAT Linux drops whole", check_srat_dropped),
    ("acpi-append-slit", 4303, "error", "bytes appended to a SLIT", check_append_slit),
    ("acpi-qemu-x2apic", 4304, "warning",
     "a forced x2APIC entry on a QEMU board, where QEMU writes a Local APIC one", check_qemu_x2apic),
    ("acpi-layout", 4311, "error", "the tables cannot be laid out from the RSDP address", check_layout),
)

#: Every other diagnostic name the plugin reports (the backend, the table decoder, the acpidump
#: reader and the decompiler), registered without a function so that ``-W no-NAME`` and
#: ``fwc checks`` know them: (name, stable code FWC4310-4399, default level, description).
#: Names reported with several severities are registered at the mildest, ``warning``.
DIAGNOSTICS = (
    ("acpi-iasl-source", 4310, "warning", "a table iasl source cannot express gets no .dsl file"),
    ("acpi-malformed", 4320, "error", "an ACPI table's bytes are malformed"),
    ("acpi-truncated", 4321, "error", "an ACPI table, header or subtable ends early"),
    ("acpi-bad-length", 4322, "warning", "a table or subtable length field disagrees with its layout"),
    ("acpi-bad-checksum", 4323, "warning", "a table checksum is wrong"),
    ("acpi-trailing-data", 4324, "warning", "bytes after a table's length are ignored"),
    ("acpi-unknown-table", 4325, "warning", "a table signature fwc has no layout for"),
    ("acpi-unknown-subtable", 4326, "warning", "a subtable type fwc has no layout for, kept as bytes"),
    ("acpi-zero-length", 4327, "error", "a subtable length below 2 stops the subtable walk"),
    ("acpi-count-mismatch", 4328, "error", "a count disagrees with the entries (SLIT localities, XSDT/RSDT)"),
    ("acpi-empty-root", 4329, "warning", "an XSDT or RSDT lists no tables"),
    ("acpi-null-pointer", 4330, "warning", "a root table entry is a null pointer"),
    ("acpi-rsdp-revision", 4331, "warning", "an RSDP revision that ACPI does not define"),
    ("acpi-bad-pointer", 4332, "warning", "an RSDP or root table pointer that leads to no table of the set"),
    ("acpi-unlisted-table", 4333, "warning", "a table of a set that no root table lists"),
    ("acpidump-format", 4340, "warning", "a line of acpidump text that does not follow its format"),
    ("acpidump-empty", 4341, "warning", "acpidump text without tables"),
    ("acpi-duplicate-table", 4350, "warning", "a second table of one signature in decompiler input"),
    ("acpi-unmodelled-table", 4351, "warning", "decompiler input tables fwc does not model"),
    ("acpi-verbatim", 4352, "warning", "a decompiled table kept as bytes"),
    ("acpi-no-tables", 4353, "error", "decompiler input without an SRAT, SLIT or MADT"),
    ("acpi-decompile", 4354, "error", "tables that no description compiles back to"),
    ("acpi-slit-extra-bytes", 4355, "warning", "bytes after the SLIT's Localities x Localities matrix, which Linux does not read"),
    ("acpi-root-differ", 4356, "warning", "XSDT and RSDT list different tables (Linux uses the XSDT)"),
    ("acpi-input-skipped", 4357, "warning", "an entry of an input directory that is not read as a table"),
)


@hookimpl
def fwc_register_checks(register: Callable[..., None]) -> None:
    for name, code, level, description, fn in CHECKS:
        register(name, level, description, fn, code=code)
    for name, code, level, description in DIAGNOSTICS:
        register(name, level, description, None, code=code)


#: The least one CPU subtable of ``n`` bytes (MADT Local APIC: 8, SRAT processor affinity: 16)
#: adds to the outputs: its .aml bytes, acpidump's (at least 4 characters a byte: two hex digits,
#: a space, the ASCII column) and with ``dsl`` iasl's listing (at least 6 lines of 40 characters:
#: type, length, ids, flags).  tests/test_hostile_cost.py checks the floor is never above what
#: the backend writes.
def _cpu_entry_floor(n: int, dsl: bool) -> int:
    return 5 * n + (6 * 40 if dsl else 0)


def output_floor(m: Machine, dsl: bool) -> int:
    """The bytes the acpi backend writes at least for ``m``, from its CPU count alone (tables
    given as entry lists or bytes are not counted): a machine whose outputs cannot fit the
    compile's bound is refused before its tables are encoded."""
    if m.arch != "x86_64":
        return 0
    cpus = sum(len(n.cpus) for n in m.nodes)
    floor = 0
    if "madt" not in m.table_overrides:
        floor += (cpus + len(m.unaffined_cpus)) * _cpu_entry_floor(8, dsl)
    if m.numa and "srat" not in m.table_overrides:
        floor += cpus * _cpu_entry_floor(16, dsl)
    return floor


def generate(ctx: BackendContext) -> None:
    from . import tables
    from .acpidump import to_acpidump
    from .binary import AcpiError, decode_table
    from .iasl_source import IaslSourceError, to_iasl_source
    from .model_map import OEM
    from .tableset import build_table_set

    m = ctx.machine
    if not ctx.reserve(output_floor(m, ctx.options["dsl"])):
        return
    built = tables.build_tables(m)
    for name, (sig, data) in built.items():
        ctx.emit(f"acpi/{sig}.aml", data)
        if ctx.options["dsl"]:
            table, problems = decode_table(data)
            try:
                if table is None or any(p.severity == "error" for p in problems):
                    raise IaslSourceError("the table does not decode cleanly")
                ctx.emit(f"acpi/{sig}.dsl", to_iasl_source(table))
            except IaslSourceError as e:
                o = m.table_overrides.get(name)
                ctx.warning("acpi-iasl-source", f"no iasl source for {sig}: {e}", o.span if o else m.span)
    base = ctx.options["base"]
    if base < 0:
        base = m.tables_base if m.tables_base is not None else DEFAULT_BASE
    try:
        entries = build_table_set([data for _, data in built.values()], base=base, header=OEM.values(m.oem))
    except AcpiError as e:
        ctx.error("acpi-layout", layout_problem(base, e), m.tables_span if base == m.tables_base else m.span)
        return
    for entry in entries:
        if entry.signature in ("RSDP", "RSD ", "XSDT", "RSDT"):
            ctx.emit(f"acpi/{'RSDP' if entry.signature == 'RSD ' else entry.signature}.aml", entry.data)
    if ctx.options["acpidump"]:
        ctx.emit("acpi/acpidump.txt", to_acpidump(entries))
