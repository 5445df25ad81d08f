"""The firmware memory map given explicitly: the ``e820 { … }`` block.

A real SRAT describes address ranges, not installed RAM (Hyper-V lists 16 TiB of
hot-pluggable space, servers describe empty DIMM sockets), so a machine may give the map
the firmware hands Linux apart from its nodes.  When the block is given it *is* the e820:
nodes' ``memory`` then describe only the SRAT, and the machine's ``reserved`` statements
are not used (giving both is the ``e820-conflict`` error).  Without it nothing changes: the
e820 is derived from the nodes and ``reserved`` statements as before (the boot backend's
``firmware.bios_e820``).

This module builds the block (pass 3, called from :mod:`fwc.build`), holds its checks
(registered in :mod:`fwc.checks`), its text form (the decompiler writes it) and
:func:`e820_of`, the one question a backend asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from . import boards
from .diagnostics import Related
from .units import exact_size

if TYPE_CHECKING:
    from .model import E820Entry, Machine
    from .registry import Report

__all__ = ["build_e820", "e820_of", "block_text", "usable_ranges", "check_e820_overlap", "check_e820_uncovered",
           "check_e820_conflict", "check_e820_board"]

PAGE = 4096
#: Linux's numa_meminfo_cover_memory() (arch/x86/mm/numa.c) tolerates this many uncovered pages (1 MiB)
UNCOVERED_PAGES = 256


def build_e820(el, stmt, M) -> tuple[E820Entry, ...]:
    """The entries of an ``e820 { … }`` statement, in the order written."""
    out = []
    if not stmt.args["entries"]:
        el.error("empty-range", "the e820 block has no entry (leave it out to derive the map from the nodes)",
                 stmt.span)
    for st in stmt.args["entries"]:
        a = st.args
        typ = a["type"]
        base, size = el.eval(a["base"], "address"), el.eval(a["size"], "size")
        if typ.value not in M.E820_BLOCK_TYPES:
            el.error("unknown-value", f"unknown e820 type '{typ.value}' (known: {', '.join(M.E820_BLOCK_TYPES)})",
                     typ.span)
            continue
        if base is None or size is None:
            continue
        if base + size > 1 << 64:
            el.error("field-range", f"e820 entry [{base:#x}, +{size:#x}) ends beyond the 64-bit address space",
                     st.span)
            continue
        out.append(M.E820Entry(base, size, typ.value, span=st.span))
    return tuple(out)


def e820_of(m: Machine) -> list[tuple[int, int, int]] | None:
    """The firmware memory map of ``m`` when the description gives it (``e820 { … }``):
    ``[(start, end, type)]``, ``end`` exclusive, ``type`` Linux's number (1 usable, 2 reserved,
    3 ACPI data, 4 ACPI NVS, 5 unusable, 7 and 12 persistent, 0xefffffff soft reserved), in
    the order written and not sanitized (empty entries left out); None when it does not (the
    e820 is then derived from the nodes and ``reserved`` statements)."""
    if not m.e820:
        return None
    return [(e.base, e.end, e.linux_type) for e in m.e820 if e.size]


def usable_ranges(m: Machine) -> list[tuple[int, int]]:
    """The block's usable RAM as sorted, merged ``(start, end)`` ranges."""
    out: list[tuple[int, int]] = []
    for b, e in sorted((x.base, x.end) for x in m.e820 if x.type == "usable" and x.size):
        if out and b <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((b, e))
    return out


def _text(n: int) -> str:
    return exact_size(n, otherwise=lambda n: f"{n:#x}" if n >= 4096 else str(n))


def _addr(n: int) -> str:
    return _text(n) if n % (1 << 20) == 0 and n else (f"{n:#x}" if n else "0")


def block_text(entries: Iterable[tuple[int, int, str]], indent: str = "    ") -> list[str]:
    """The ``e820 { … }`` block for ``[(base, size, type name)]``, one entry a line."""
    lines = [f"{indent}e820 {{"]
    lines += [f"{indent}    {t:<8} {_addr(b)} size {_text(s)}" for b, s, t in entries]
    return lines + [f"{indent}}}"]


# ---------------------------------------------------------------------------
# Checks (registered in fwc.checks.BUILTIN_CHECKS)


def check_e820_overlap(m: Machine, report: Report) -> None:
    """Entries of the firmware memory map overlap (Linux's sanitizer then picks the
    highest-numbered type, so RAM may silently become reserved)."""
    reach = None
    pairs = []
    for e in sorted((e for e in m.e820 if e.size), key=lambda e: (e.base, e.end)):
        if reach is not None and e.base < reach.end:
            pairs.append((e, reach))
        if reach is None or e.end > reach.end:
            reach = e
    for a, b in pairs:
        report(f"e820 {a.type} [{a.base:#x}-{a.end - 1:#x}] overlaps {b.type} [{b.base:#x}-{b.end - 1:#x}]",
               a.span, related=(Related("the other entry", b.span),))


def check_e820_uncovered(m: Machine, report: Report) -> None:
    """Usable RAM of the block that no enabled SRAT memory range covers: Linux's
    numa_meminfo_cover_memory() (arch/x86/mm/numa.c) refuses the SRAT when 1 MiB or more is
    uncovered ("NUMA: nodes only cover … Not used.") and boots with one fake node."""
    if not m.e820:
        return
    nodes = [(r.base, r.end) for n in m.nodes for r in n.memory if r.enabled and r.size and not r.dimm]
    if not nodes:
        return  # no SRAT memory at all: acpi-srat-dropped says so
    total = covered = 0
    first_gap = None
    for b, e in usable_ranges(m):
        pb, pe = -(-b // PAGE), e // PAGE
        if pe <= pb:
            continue
        total += pe - pb
        cuts = sorted((max(pb, -(-s // PAGE)), min(pe, t // PAGE)) for s, t in nodes)
        cursor = pb
        for x, y in cuts:
            if x >= y:
                continue
            if x > cursor and first_gap is None:
                first_gap = (cursor, x)
            covered += max(0, y - max(x, cursor))
            cursor = max(cursor, y)
        if cursor < pe and first_gap is None:
            first_gap = (cursor, pe)
    if total - covered >= UNCOVERED_PAGES and first_gap is not None:
        gap = f"[{first_gap[0] * PAGE:#x}-{first_gap[1] * PAGE - 1:#x}]"
        at = next((e.span for e in m.e820 if e.type == "usable" and e.base <= first_gap[0] * PAGE < e.end),
                  m.e820_span)
        report(f"the nodes' memory covers {covered >> 8} MB of the {total >> 8} MB of e820 usable RAM "
               f"({gap} is in no node): Linux says \"NUMA: nodes only cover {covered >> 8}MB of your "
               f"{total >> 8}MB e820 RAM. Not used.\" and boots with a single node", at)


def check_e820_conflict(m: Machine, report: Report) -> None:
    """``reserved`` statements beside an ``e820`` block: the block is the whole map."""
    if m.e820_span is None and not m.e820:
        return
    for r in m.reserved:
        report("'reserved' is not used when the machine gives an e820 block (the block is the whole firmware "
               "memory map): write this range in the block", r.span,
               related=(Related("the e820 block", m.e820_span),))


def check_e820_board(m: Machine, report: Report) -> None:
    """QEMU builds its own e820 (SeaBIOS from the RAM size): the qemu backend cannot pass a
    given map, so the block is only what the boot backend reads."""
    if (m.e820 or m.e820_span is not None) and boards.is_qemu(m.board):
        report(f"e820 on a QEMU board: QEMU ({m.board}) builds its own memory map from the RAM size and cannot "
               "be given this one; the boot backend predicts from the block as written (right when it was "
               "read from this QEMU guest)", m.e820_span)
