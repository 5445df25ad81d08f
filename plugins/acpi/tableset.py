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

__all__ = ["build_table_set", "check_table_set", "flat_image", "root_in_use", "linux_order", "addresses_known"]

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


#: the tables fwc describes: roots that disagree on them give different machines
_DESCRIBED = ("SRAT", "SLIT", "APIC")


def addresses_known(entries: Sequence[DumpEntry]) -> bool:
    """False when every table of a set sits at address 0: acpidump reading
    ``/sys/firmware/acpi/tables`` prints no addresses, ``iasl -d`` output has none."""
    return len(entries) < 2 or any(e.address for e in entries)


def _root_lists(entries: Sequence[DumpEntry]) -> dict[str, tuple[DumpEntry, list[int]]]:
    roots: dict[str, tuple[DumpEntry, list[int]]] = {}
    for e in entries:
        if e.signature in ("XSDT", "RSDT") and e.signature not in roots:
            t, _ = decode_table(e.data)
            # a block labelled XSDT or RSDT whose bytes hold another table lists no tables
            if t is not None and t.signature == e.signature:
                roots[e.signature] = (e, [a for a in t.entries if isinstance(a, int)])
    return roots


def root_in_use(entries: Sequence[DumpEntry]) -> tuple[str | None, str]:
    """The root table Linux walks, and why: ACPICA ``acpi_tb_parse_root_table`` takes the
    XSDT when the RSDP revision is above 1 and its XSDT address is not zero, else the RSDT.
    Without an RSDP, the XSDT when the set has one.  ``(None, why)`` when there is no root."""
    roots = _root_lists(entries)
    rsdp = next((e for e in entries if e.signature in ("RSDP", "RSD ")), None)
    t = decode_table(rsdp.data)[0] if rsdp is not None else None
    if t is not None:
        rev = t.header.get("revision", 0)
        x = (t.body or {}).get("xsdt_address", 0) if rev > 1 else 0
        if x:
            return "XSDT", f"RSDP revision {rev} with an XSDT address"
        return "RSDT", f"RSDP revision {rev}" + (" without an XSDT address" if rev > 1 else "")
    if "XSDT" in roots:
        return "XSDT", "the XSDT when firmware has one (no RSDP in the input)"
    return ("RSDT", "the only root table") if "RSDT" in roots else (None, "no root table")


def _fadt_pointers(fadt: bytes) -> list[int]:
    """The DSDT and FACS addresses of a FADT, in the order Linux 6.1 prefers them: X_DSDT over
    DSDT (``acpi_gbl_use32_bit_fadt_addresses`` is false), FIRMWARE_CTRL over X_FIRMWARE_CTRL
    (``acpi_gbl_use32_bit_facs_addresses`` is true).  Offsets: ACPI 6.5 table 5.9."""
    def u(off: int, width: int) -> int:
        return int.from_bytes(fadt[off:off + width], "little") if len(fadt) >= off + width else 0

    return [a for a in (u(140, 8), u(40, 4), u(36, 4), u(132, 8)) if a]


def linux_order(entries: Sequence[DumpEntry]) -> list[DumpEntry]:
    """``entries`` in the order Linux finds them: the tables the root in use lists (in its
    order), the DSDT and FACS its FADT points at, then the rest as given.  The first table
    of a signature in this order is the one Linux reads (``acpi_get_table`` instance 1)."""
    if not addresses_known(entries):
        return list(entries)
    used, _ = root_in_use(entries)
    lists = _root_lists(entries)
    if used is None or used not in lists:
        return list(entries)
    by_addr: dict[int, DumpEntry] = {}
    for e in entries:
        by_addr.setdefault(e.address, e)
    first = [by_addr[a] for a in dict.fromkeys(lists[used][1]) if a in by_addr]
    fadt = next((e for e in first if e.signature == "FACP"), None)
    if fadt is not None:
        first += [by_addr[a] for a in _fadt_pointers(fadt.data) if a in by_addr]
    first = list({id(e): e for e in first}.values())
    ids = {id(e) for e in first}
    return first + [e for e in entries if id(e) not in ids]


def check_table_set(entries: Sequence[DumpEntry]) -> list[Problem]:
    """Check the pointers of a set as Linux follows them.  Offsets are within the table
    holding the pointer; messages name the table and its address.

    Nothing is checked when the set carries no addresses (:func:`addresses_known`).  Bad
    pointers of the root table Linux does not use are reported only where the one it uses
    does not repeat them.  XSDT and RSDT that list different tables are a note (AMI firmware
    lists an ACPI 1.0 FADT in the RSDT), unless they disagree on an SRAT, SLIT or MADT: fwc
    writes both listing the same tables, so that is an error."""
    probs: list[Problem] = []
    if not addresses_known(entries):
        return probs
    by_addr = {e.address: e for e in entries}
    roots = _root_lists(entries)
    used, why = root_in_use(entries)
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
                                              f"not point at an {sig} in the set",
                                         WARNING, "acpi-bad-pointer"))
    order = sorted(roots, key=lambda s: s != used)      # the root in use first
    reported: set[int] = set()
    for sig in order:
        e, addrs = roots[sig]
        w, first = L.TABLES[sig].item_width, L.TABLES[sig].fixed_size()
        for i, a in enumerate(addrs):
            if a == 0 or a in by_addr or a in reported:
                continue
            reported.add(a)
            probs.append(Problem(first + i * w, f"{sig} @ 0x{e.address:X}: entry {i} points "
                                             f"at 0x{a:X}, which holds no table of the set",
                                 WARNING, "acpi-bad-pointer"))
    if len(roots) == 2:
        probs += _compare_roots(roots, by_addr, used or "XSDT", why)
    listed = {a for _, v in roots.values() for a in v}
    if roots:
        for e in entries:
            if e.signature not in _NOT_IN_ROOT and e.address not in listed:
                probs.append(Problem(0, f"{e.signature} @ 0x{e.address:X} is not listed by "
                                        f"the root table", NOTE, "acpi-unlisted-table"))
    return probs


def _compare_roots(roots: Mapping[str, tuple[DumpEntry, list[int]]], by_addr: Mapping[int, DumpEntry],
                   used: str, why: str) -> list[Problem]:
    x, r = roots["XSDT"][1], roots["RSDT"][1]
    if x == r:
        return []

    def name(a: int) -> str:
        e = by_addr.get(a)
        return f"{e.signature} @ 0x{a:X}" if e is not None else f"0x{a:X}"

    only = {"XSDT": [a for a in x if a not in r], "RSDT": [a for a in r if a not in x]}
    parts = [f"only the {sig} lists {', '.join(map(name, v))}" for sig, v in only.items() if v]
    if not parts:
        parts = ["they list the same tables in another order"]
    head = (f"XSDT lists {len(x)} tables, RSDT lists {len(r)}" if len(x) != len(r)
            else "XSDT and RSDT list different tables")
    code = "acpi-count-mismatch" if len(x) != len(r) else "acpi-root-differ"

    def described(v: list[int]) -> list[tuple[str, int]]:
        return [(by_addr[a].signature, a) for a in v if a in by_addr and by_addr[a].signature in _DESCRIBED]

    if described(x) != described(r):
        sigs = sorted({s for s, _ in described(x)} ^ {s for s, _ in described(r)} or
                      {s for s, _ in described(x) + described(r)})
        return [Problem(4, f"{head}: {'; '.join(parts)}; they disagree on the {', '.join(sigs)}, and fwc "
                           "writes both root tables listing the same tables", ERROR, code)]
    return [Problem(4, f"{head}: {'; '.join(parts)}; Linux uses the {used} ({why})", NOTE, code)]
