"""Example records: one of every supported structure, plus the large SRAT used by the bench.

These show the record shapes :func:`~.binary.encode_table` takes; tests and the benchmark use
them.  Header fields use NUL-free full-width IDs so the iasl source compiles identically.
"""

from __future__ import annotations

from typing import Iterable

from .binary import Subtable, Table

__all__ = ["HEADER", "srat", "slit", "madt", "xsdt", "rsdt", "rsdp", "all_tables", "big_srat"]

HEADER = {"oem_id": "FWCOEM", "oem_table_id": "FWCTABLE", "oem_revision": 1,
          "creator_id": "FWC ", "creator_revision": 0x00010000}


def _hdr(revision: int) -> dict:
    return {**HEADER, "revision": revision}


def srat(with_generic_port: bool = False) -> Table:
    """An SRAT with every subtable type 0-5 (and 6 on request: iasl 20200925 lacks it)."""
    entries = [
        Subtable(0, {"proximity_domain_lo": 0, "apic_id": 0, "flags": 1, "local_sapic_eid": 0,
                     "proximity_domain_hi": 0, "clock_domain": 0}),
        Subtable(0, {"proximity_domain_lo": 0x01, "apic_id": 1, "flags": 1, "local_sapic_eid": 0,
                     "proximity_domain_hi": 0x000001, "clock_domain": 0}),
        Subtable(2, {"reserved1": 0, "proximity_domain": 2, "apic_id": 0x100, "flags": 1,
                     "clock_domain": 0, "reserved2": 0}),
        Subtable(3, {"proximity_domain": 1, "acpi_processor_uid": 7, "flags": 1,
                     "clock_domain": 3}),
        Subtable(4, {"proximity_domain": 1, "reserved": 0, "its_id": 2}),
        Subtable(1, {"proximity_domain": 0, "reserved1": 0, "base_address": 0,
                     "address_length": 0xA0000, "reserved2": 0, "flags": 1, "reserved3": 0}),
        Subtable(1, {"proximity_domain": 0, "reserved1": 0, "base_address": 0x100000,
                     "address_length": 0x7FF00000, "reserved2": 0, "flags": 1, "reserved3": 0}),
        Subtable(1, {"proximity_domain": 0x101, "reserved1": 0, "base_address": 0x100000000,
                     "address_length": 0x80000000, "reserved2": 0, "flags": 0b111,
                     "reserved3": 0}),
        Subtable(5, {"reserved1": 0, "device_handle_type": 0, "proximity_domain": 3,
                     "device_handle": {"hid": "ACPI0016", "uid": 5, "reserved": 0},
                     "flags": 1, "reserved2": 0}),
        Subtable(5, {"reserved1": 0, "device_handle_type": 1, "proximity_domain": 3,
                     "device_handle": {"segment": 1, "bus": 0x3A, "devfn": 0x08,
                                       "reserved": bytes(12)},
                     "flags": 1, "reserved2": 0}),
    ]
    if with_generic_port:
        entries.append(Subtable(6, {"reserved1": 0, "device_handle_type": 0, "proximity_domain": 4,
                                    "device_handle": {"hid": "ACPI0016", "uid": 0, "reserved": 0},
                                    "flags": 1, "reserved2": 0}))
    return Table("SRAT", _hdr(3), {"table_revision": 1, "reserved": 0}, entries)


def slit(n: int = 4) -> Table:
    rows = [bytes(10 if i == j else min(254, 20 + abs(i - j)) for j in range(n)) for i in range(n)]
    return Table("SLIT", _hdr(1), {}, rows)


def madt() -> Table:
    entries = [
        Subtable(0, {"processor_id": 0, "apic_id": 0, "flags": 1}),
        Subtable(0, {"processor_id": 1, "apic_id": 1, "flags": 0b10}),
        Subtable(9, {"reserved": 0, "x2apic_id": 0x100, "flags": 1, "processor_uid": 2}),
        Subtable(1, {"io_apic_id": 0, "reserved": 0, "address": 0xFEC00000, "gsi_base": 0}),
        Subtable(2, {"bus": 0, "source_irq": 0, "gsi": 2, "flags": 0}),
        Subtable(2, {"bus": 0, "source_irq": 9, "gsi": 9, "flags": 0x000D}),
        Subtable(3, {"flags": 0x000F, "gsi": 23}),
        Subtable(4, {"processor_id": 0xFF, "flags": 0, "lint": 1}),
        Subtable(5, {"reserved": 0, "address": 0x00000000FEE00000}),
        Subtable(0x0A, {"flags": 0, "processor_uid": 0xFFFFFFFF, "lint": 1, "reserved": 0}),
    ]
    return Table("APIC", _hdr(5), {"local_apic_address": 0xFEE00000, "flags": 1}, entries)


def xsdt(addrs: Iterable[int] = (0x7FFE0000, 0x7FFE1000, 0x1_0000_0000)) -> Table:
    return Table("XSDT", _hdr(1), {}, list(addrs))


def rsdt(addrs: Iterable[int] = (0x7FFE0000, 0x7FFE1000)) -> Table:
    return Table("RSDT", _hdr(1), {}, list(addrs))


def rsdp(revision: int = 2) -> Table:
    hdr = {"oem_id": HEADER["oem_id"], "revision": revision, "rsdt_address": 0x7FFD0040}
    body = {"xsdt_address": 0x7FFD0080, "reserved": 0} if revision >= 2 else {}
    return Table("RSD PTR ", hdr, body, [])


def all_tables() -> dict[str, Table]:
    """Every example, keyed by a short name (iasl 20200925 compiles all of them)."""
    return {"srat": srat(), "slit": slit(), "madt": madt(), "xsdt": xsdt(), "rsdt": rsdt(),
            "rsdp": rsdp(2), "rsdp_v0": rsdp(0)}


def big_srat(nodes: int = 256, cpus: int = 16384, ranges: int = 4096) -> Table:
    """The benchmark SRAT: ``cpus`` x2APIC entries spread over ``nodes`` and ``ranges`` memory
    ranges of 1 GiB from 4 GiB (256 nodes, 16384 CPUs, 4096 ranges = 557 KB)."""
    entries = []
    per_node = max(1, cpus // nodes)
    for c in range(cpus):
        entries.append(Subtable(2, {"reserved1": 0,
                                    "proximity_domain": min(c // per_node, nodes - 1),
                                    "apic_id": c, "flags": 1, "clock_domain": 0,
                                    "reserved2": 0}))
    per_node_r = max(1, ranges // nodes)
    for r in range(ranges):
        entries.append(Subtable(1, {"proximity_domain": min(r // per_node_r, nodes - 1),
                                    "reserved1": 0, "base_address": (4 + r) << 30,
                                    "address_length": 1 << 30, "reserved2": 0, "flags": 1,
                                    "reserved3": 0}))
    return Table("SRAT", _hdr(3), {"table_revision": 1, "reserved": 0}, entries)
