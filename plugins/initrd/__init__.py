"""Backend ``initrd``: the uncompressed cpio Linux's ACPI table upgrade reads.

Output ``initrd/acpi-override.cpio``: a newc archive holding ``kernel/firmware/acpi/<name>.aml``
for each ``override`` of the machine's ``initrd`` statement: this machine's SRAT, SLIT or MADT
(with the override's OEM revision if given, else the machine's), or an external table file.
With option ``base`` (the path of an existing initramfs), also ``initrd/initrd.img`` = the
archive followed by that file, since Linux finds the tables only in the leading uncompressed
part of the initrd (acpi-tables.md §11.2).  Deterministic: names sorted, directories
included, inode numbers counted from 1, mtimes 0, uid/gid 0.

Checks (``initrd-*``): Linux's acceptance rules are errors (the kernel would skip the file);
where the kernel would accept the table but not do what the description means, a warning
says why: replacing a firmware table needs its OEM ID and OEM table ID and a strictly higher
OEM revision, else Linux silently drops the table or installs a second one it never reads.
The firmware's tables are QEMU's (``BOCHS ``/``BXPC    ``, revision 1) on qemu boards and
the machine's own tables on other boards.  A table Linux reads is decoded through the acpi
plugin (:func:`fwc_plugins.acpi.decode_table`); what it cannot parse is a warning
(``initrd-malformed``): Linux reads the table and drops what it cannot parse (a bad SRAT
entry: the whole SRAT, "SRAT not used").

:data:`__all__` is the API for other plugins (``bootrun``, the boot simulator):
:func:`archive_files` (the files in archive order, with the names the archive holds),
:func:`table_upgrade` (what Linux 6.1 does with them: one :class:`~.upgrade.Upgrade`, the only
place that decides which archive file Linux reads for a signature), :func:`linux_view`,
:func:`effective_tables`, :func:`build_archive`, and from the cpio module :class:`Writer`,
:func:`tree`, :func:`scan_acpi` and ``ACPI_PREFIX``; ``KERNEL_REJECTION`` (the kernel's message
per rejection check); ``qemu_table_signatures`` (the tables QEMU builds, in blob order).
Names from submodules load on first use (PEP 562): ``fwc check`` imports this module at
start-up.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from fwc.files import MAX_INPUT, read_bytes
from fwc.plugin import BackendContext, CheckRegister, Option, hookimpl, lazy_exports, register_check_group

if TYPE_CHECKING:  # the lazy names below, for type checkers (at run time they load on first use)
    from fwc.model import Machine, Override

    from .cpio import ACPI_PREFIX, Writer, scan_acpi, tree
    from .upgrade import KERNEL_REJECTION, Outcome, Upgrade, qemu_table_signatures

#: Names loaded from a submodule on first use (PEP 562), and this module's own.
_LAZY = {"cpio": ("ACPI_PREFIX", "Writer", "scan_acpi", "tree"),
         "upgrade": ("KERNEL_REJECTION", "Upgrade", "qemu_table_signatures")}
__getattr__, _lazy_names = lazy_exports(__name__, _LAZY)
__all__ = sorted(_lazy_names + ["ArchiveFile", "archive_files", "build_archive", "effective_tables", "linux_view",
                                "table_upgrade"])


#: The checks, one analysis shared by all (check_group): (name, code, level, description).
CHECKS = [
    ("initrd-file", 4200, "error", "an override table file that cannot be read"),
    ("initrd-table-size", 4201, "error", "an override table shorter than an ACPI header"),
    ("initrd-signature", 4202, "error", "a table signature Linux does not take from the initrd (RSDP, FACS, ...)"),
    ("initrd-table-length", 4203, "error", "an override file whose size differs from its header's Length"),
    ("initrd-checksum", 4204, "error", "an override table with a bad checksum"),
    ("initrd-too-many", 4205, "error", "more than 64 tables in the initrd (Linux reads 64)"),
    ("initrd-missing-table", 4206, "error", "an override of a table this machine does not have"),
    ("initrd-revision", 4207, "warning",
     "an override with the firmware's IDs but an OEM revision not above the firmware's (silently dropped)"),
    ("initrd-oem-mismatch", 4208, "warning",
     "an override whose OEM ID or table ID differs from the firmware table's (added, never read)"),
    ("initrd-duplicate", 4209, "warning", "two initrd tables with one signature: the later one is never read"),
    ("initrd-root-table", 4210, "warning", "an RSDT/XSDT in the initrd that overrides nothing (never installed)"),
    ("initrd-malformed", 4213, "warning",
     "an initrd table Linux reads but cannot parse in full (it drops what it cannot parse)"),
]
#: Names only the backend reports (registered without an analysis): (name, code, level, description).
BACKEND_DIAGNOSTICS = [
    ("initrd-none", 4211, "note", "backend initrd has nothing to write: the machine's initrd carries no table"),
    ("initrd-base", 4212, "error", "the base initramfs given by option initrd.base cannot be read"),
]

_NAME_OK = re.compile(r"^[A-Za-z0-9_.+-]+$")


class ArchiveFile:
    """One file of the archive: ``name`` (after kernel/firmware/acpi/), bytes or a problem
    (``(check name, message)``), and the ``override`` statement it comes from."""

    __slots__ = ("name", "data", "override", "problem")

    def __init__(self, name: str, data: bytes | None, override: Override,
                 problem: tuple[str, str] | None = None) -> None:
        self.name, self.data, self.override, self.problem = name, data, override, problem

    def __repr__(self) -> str:
        return f"ArchiveFile({self.name!r}, {len(self.data or b'')} bytes)"


def _file_name(path: str, used: set[str]) -> str:
    from .cpio import MAX_NAME

    base = os.path.basename(path)
    if not base.endswith(".aml"):
        base = os.path.splitext(base)[0] + ".aml"
    if not _NAME_OK.match(base) or len(base) > MAX_NAME:
        stem = re.sub(r"[^A-Za-z0-9_+-]", "_", os.path.splitext(base)[0])
        base = stem[:MAX_NAME - 4] + ".aml"
    name, k = base, 1
    while name in used:
        suffix = f"-{k}.aml"
        name = base[:-4][:MAX_NAME - len(suffix)] + suffix
        k += 1
    used.add(name)
    return name


def archive_files(machine: Machine) -> list[ArchiveFile]:
    """The archive's files in archive (= Linux's scan) order: sorted by name."""
    from .upgrade import set_oem_revision

    if machine.initrd is None or not machine.initrd.overrides:
        return []
    built = None
    files: list[ArchiveFile] = []
    used: set[str] = set()
    for o in machine.initrd.overrides:
        if o.table is not None:
            if built is None:
                from .upgrade import machine_tables

                built = machine_tables(machine)
            name = _file_name(f"{o.table}.aml", used)
            if o.table not in built:
                files.append(ArchiveFile(name, None, o, ("initrd-missing-table",
                             f"the machine has no {o.table.upper()} to put into the initrd"
                             + (" (a SLIT needs distances)" if o.table == "slit" else ""))))
                continue
            data = built[o.table][1]
            if o.revision is not None:
                data = set_oem_revision(data, o.revision)
            files.append(ArchiveFile(name, data, o))
        else:
            assert o.file is not None  # an override names a table or a file
            name = _file_name(o.file, used)
            try:
                data = read_bytes(o.file)
            except OSError as e:
                files.append(ArchiveFile(name, None, o, ("initrd-file", f"cannot read '{o.file}': "
                                                                        f"{e.strerror or e}")))
                continue
            files.append(ArchiveFile(name, data, o))
    files.sort(key=lambda f: f.name.encode())
    return files


def table_upgrade(machine: Machine, files: list[ArchiveFile] | None = None) -> Upgrade:
    """Linux 6.1's table upgrade of this machine's archive against its firmware's tables
    (:class:`~.upgrade.Upgrade`; ``files``: :func:`archive_files`, computed if not given).
    The archive holds only the readable files, in archive order."""
    from .upgrade import firmware_tables
    from .upgrade import table_upgrade as upgrade_of

    files = archive_files(machine) if files is None else files
    return upgrade_of([(f.name, f.data) for f in files if f.data is not None], firmware_tables(machine))


def linux_view(machine: Machine, files: list[ArchiveFile] | None = None) -> list[tuple[ArchiveFile, Outcome]]:
    """``[(ArchiveFile, upgrade.Outcome)]``: what Linux 6.1 does with each readable file."""
    files = archive_files(machine) if files is None else files
    ok = [f for f in files if f.data is not None]
    return list(zip(ok, table_upgrade(machine, files).outcomes))


def effective_tables(machine: Machine) -> dict[str, bytes]:
    """The SRAT/SLIT/APIC ... Linux reads after the upgrade, for tables the initrd replaces or
    adds (signature -> bytes); the firmware's own tables are not included.  ``"SRAT" in
    effective_tables(m)`` is the one answer to "does Linux read an initrd SRAT"."""
    if machine.initrd is None or not machine.initrd.overrides:
        return {}
    up = table_upgrade(machine)
    out = {}
    for o in up.outcomes:
        sig = o.header.signature if o.header is not None else None
        if sig is not None and sig not in out:
            r = up.reads(sig)
            if r is not None:
                out[sig] = up.data(r)
    return out


def _malformed(name: str, data: bytes) -> tuple[str, tuple[str, ...]] | None:
    """What the acpi decoder cannot parse in a table Linux reads: (message, notes), or None
    (notes, such as a table or subtable type without a layout, are not defects)."""
    from fwc_plugins.acpi import NOTE, decode_table

    table, problems = decode_table(data)
    bad = [p for p in problems if p.severity != NOTE]
    if not bad:
        return None
    sig = table.signature if table is not None else "table"
    first, rest = bad[0], bad[1:]
    return (f"initrd table '{name}': Linux reads this {sig} but cannot parse all of it: {first.message} "
            f"(byte {first.offset:#x}); Linux drops what it cannot parse",
            tuple(f"also: {p.message} (byte {p.offset:#x})" for p in rest))


def _problems(machine: Machine) -> list[tuple[Any, ...]]:
    """[(check, message, span[, notes])] for the machine (run once per machine by check_group)."""
    out: list[tuple[Any, ...]] = []
    if machine.initrd is None or not machine.initrd.overrides:
        return out
    files = archive_files(machine)
    for f in files:
        if f.problem is not None:
            out.append((f.problem[0], f"initrd table '{f.name}': {f.problem[1]}", f.override.span))
    readable = [f for f in files if f.data is not None]
    up = table_upgrade(machine, files)
    for f, o in zip(readable, up.outcomes):
        if o.check is not None:
            out.append((o.check, f"initrd table '{f.name}': {o.message}", f.override.span))
    for o in up.read():
        bad = _malformed(o.name, up.data(o))
        if bad is not None:
            out.append(("initrd-malformed", bad[0], readable[o.index].override.span, bad[1]))
    return out


@hookimpl
def fwc_register_checks(register: CheckRegister) -> None:
    register_check_group(register, _problems, CHECKS, BACKEND_DIAGNOSTICS)


@hookimpl
def fwc_register_backends(register: Any) -> None:
    register("initrd", generate,
             description="uncompressed newc cpio of kernel/firmware/acpi/*.aml for Linux's initrd table upgrade",
             outputs=["initrd/acpi-override.cpio", "initrd/initrd.img"],
             options={"base": Option("", "path of an initramfs to append after the archive (writes initrd.img)")})


def build_archive(machine: Machine) -> bytes | None:
    """The override archive's bytes (None if the machine's initrd carries no table)."""
    from .cpio import ACPI_PREFIX, tree

    files = archive_files(machine)
    if not files:
        return None
    return tree({ACPI_PREFIX + f.name: f.data for f in files if f.data is not None},
                dirs=("kernel", "kernel/firmware", "kernel/firmware/acpi"))


def generate(ctx: BackendContext) -> None:
    from fwc.diagnostics import NOTE, Diagnostic

    m = ctx.machine
    blob = build_archive(m)
    if blob is None:
        ctx.diagnostics.append(Diagnostic(NOTE, "initrd-none", "backend initrd writes nothing: the machine has no "
                                          "'initrd { override … }' tables", m.span))
        return
    ctx.emit("initrd/acpi-override.cpio", blob)
    base = ctx.options.get("base") or ""
    if base:
        try:
            data = read_bytes(base, 4 * MAX_INPUT)
        except OSError as e:
            ctx.error("initrd-base", f"initrd: cannot read the base initramfs '{base}': {e.strerror or e}", m.span)
            return
        ctx.emit("initrd/initrd.img", blob + data)
