"""A set of tables laid out at physical addresses: RSDP → XSDT/RSDT → tables.

:func:`build_table_set` places the tables at a chosen physical base, writes the root tables
pointing at them and the RSDP pointing at the root tables.  :func:`check_table_set` checks
the pointers of a set (for instance one read from acpidump text): root tables whose entry
counts disagree, pointers to tables that are not in the set, tables nobody lists.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from . import layout as L
from .acpidump import DumpEntry
from .binary import ERROR, NOTE, WARNING, AcpiEncodeError, Problem, decode_table, encode_table

__all__ = ["build_table_set", "check_table_set", "flat_image"]

#: tables that are reached through the FADT, not listed in the root tables
_NOT_IN_ROOT = {"RSDP", "RSD ", "XSDT", "RSDT", "DSDT", "FACS"}


def _align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def build_table_set(tables: Sequence[bytes], *, base: int, header: Mapping,
                    rsdp_revision: int = 2, rsdt: bool = True, xsdt: bool = True,
                    align: int = 16) -> list[DumpEntry]:
    """Lay out ``tables`` (encoded SDTs) from physical address ``base``.

    Order in memory: RSDP (at ``base``, which must be 16-byte aligned), XSDT, RSDT, then the
    tables in the given order, each at the next ``align`` boundary.  ``header`` supplies the
    root tables' header fields (``oem_id``, ``oem_table_id``, ``oem_revision``,
    ``creator_id``, ``creator_revision``); the RSDP takes ``oem_id``.  ``rsdp_revision`` 0
    gives an ACPI 1.0 RSDP with an RSDT only (as QEMU on x86); 2 gives the 36-byte RSDP.
    Returns DumpEntry records in memory order (RSDP first).
    """
    if base % 16:
        raise AcpiEncodeError(f"RSDP base 0x{base:X} must be 16-byte aligned")
    if rsdp_revision < 2:
        xsdt = False
    if not rsdt and not xsdt:
        raise AcpiEncodeError("a table set needs an RSDT or an XSDT")
    rsdp_len = L.RSDP.fixed_size({"revision": rsdp_revision})
    n = len(tables)
    addr = _align(base + rsdp_len, align)
    x_addr = r_addr = 0
    if xsdt:
        x_addr, addr = addr, _align(addr + L.XSDT.fixed_size() + L.XSDT.item_width * n, align)
    if rsdt:
        r_addr, addr = addr, _align(addr + L.RSDT.fixed_size() + L.RSDT.item_width * n, align)
    addrs = []
    for t in tables:
        addrs.append(addr)
        addr = _align(addr + len(t), align)
    if addr > 1 << 64 or (rsdt and max(addrs + [r_addr], default=0) + 1 > 1 << 32):
        raise AcpiEncodeError("tables do not fit below 4 GiB for the RSDT")
    hdr = {k: header[k] for k in ("oem_id", "oem_table_id", "oem_revision", "creator_id",
                                  "creator_revision") if k in header}
    out = []
    rsdp_hdr = {"oem_id": header.get("oem_id", ""), "revision": rsdp_revision,
                "rsdt_address": r_addr}
    rsdp_body = {"xsdt_address": x_addr} if rsdp_revision >= 2 else None
    out.append(DumpEntry("RSDP", base, encode_table(L.RSDP_SIGNATURE, rsdp_hdr, (), rsdp_body)))
    if xsdt:
        out.append(DumpEntry("XSDT", x_addr, encode_table("XSDT", {**hdr, "revision": 1}, addrs)))
    if rsdt:
        out.append(DumpEntry("RSDT", r_addr, encode_table("RSDT", {**hdr, "revision": 1}, addrs)))
    for a, t in zip(addrs, tables):
        out.append(DumpEntry(L.signature_of(t)[:4], a, bytes(t)))
    return out


def flat_image(entries: Sequence[DumpEntry]) -> tuple[int, bytes]:
    """``(base, image)``: all entries copied into one zero-filled buffer from the lowest address."""
    if not entries:
        return 0, b""
    lo = min(e.address for e in entries)
    hi = max(e.address + len(e.data) for e in entries)
    img = bytearray(hi - lo)
    for e in entries:
        img[e.address - lo:e.address - lo + len(e.data)] = e.data
    return lo, bytes(img)


def check_table_set(entries: Sequence[DumpEntry]) -> list[Problem]:
    """Check the pointers of a table set.  Offsets are within the table holding the pointer;
    messages name the table and its address."""
    probs: list[Problem] = []
    by_addr = {e.address: e for e in entries}
    roots: dict[str, tuple] = {}
    for e in entries:
        if e.signature in ("XSDT", "RSDT"):
            t, _ = decode_table(e.data)
            if t is not None:
                roots.setdefault(e.signature, (e, t))
    rsdp = next((e for e in entries if e.signature in ("RSDP", "RSD ")), None)
    if rsdp is not None:
        t, _ = decode_table(rsdp.data)
        if t is not None:
            for key, sig in (("rsdt_address", "RSDT"), ("xsdt_address", "XSDT")):
                off = L.RSDP.offset(key)
                a = t.header.get(key, (t.body or {}).get(key, 0))
                if not a:
                    continue
                tgt = by_addr.get(a)
                if tgt is None or tgt.signature != sig:
                    probs.append(Problem(off, f"RSDP @ 0x{rsdp.address:X}: {key} 0x{a:X} does "
                                              f"not point at an {sig} in the set", ERROR,
                                         "acpi-bad-pointer"))
    lists = {}
    for sig, (e, t) in roots.items():
        w, first = L.TABLES[sig].item_width, L.TABLES[sig].fixed_size()
        lists[sig] = t.entries
        for i, a in enumerate(t.entries):
            if a == 0:
                continue
            tgt = by_addr.get(a)
            if tgt is None:
                probs.append(Problem(first + i * w, f"{sig} @ 0x{e.address:X}: entry {i} points "
                                                 f"at 0x{a:X}, which holds no table of the set",
                                     WARNING, "acpi-bad-pointer"))
    if len(lists) == 2 and lists["XSDT"] != lists["RSDT"]:
        x, r = lists["XSDT"], lists["RSDT"]
        msg = (f"XSDT lists {len(x)} tables, RSDT lists {len(r)}" if len(x) != len(r)
               else "XSDT and RSDT list different addresses")
        probs.append(Problem(4, msg, ERROR, "acpi-count-mismatch"))
    listed = {a for v in lists.values() for a in v}
    if lists:
        for e in entries:
            if e.signature not in _NOT_IN_ROOT and e.address not in listed:
                probs.append(Problem(0, f"{e.signature} @ 0x{e.address:X} is not listed by "
                                        f"the root table", NOTE, "acpi-unlisted-table"))
    return probs
