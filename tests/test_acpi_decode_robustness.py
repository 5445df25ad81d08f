"""The ACPI decoder on broken input: truncation, lying lengths, zero-length subtables, bad
checksums, count mismatches, random mutations.  It must return Problems with byte offsets and
never hang or raise (anything but AcpiError for a non-bytes argument)."""

from __future__ import annotations

import os
import struct
import sys
import tempfile
from pathlib import Path

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc_plugins.acpi import (AcpiError, Problem, Table, checksum, decode_table, encode,
                              parse_acpidump, to_acpidump)
from fwc_plugins.acpi import examples as ex

SAMPLES = {k: encode(t) for k, t in ex.all_tables().items()}
SAMPLES["srat6"] = encode(ex.srat(with_generic_port=True))


def fix_checksum(b: bytearray) -> bytes:
    b[9] = 0
    b[9] = checksum(b[:struct.unpack_from("<I", b, 4)[0]])
    return bytes(b)


def codes(probs):
    return [p.code for p in probs]


def check_contract(data: bytes):
    """The decoder contract for arbitrary bytes."""
    t, probs = decode_table(data)
    assert all(isinstance(p, Problem) for p in probs)
    assert all(isinstance(p.offset, int) and 0 <= p.offset <= max(len(data), 36) for p in probs)
    assert all(p.severity in ("error", "warning", "note") for p in probs)
    if t is None:
        assert any(p.severity == "error" for p in probs)
        return t, probs
    assert isinstance(t, Table)
    again = encode(t)                      # whatever was decoded can be written back
    if not any(p.severity == "error" for p in probs) and t.signature != "RSD PTR ":
        n = struct.unpack_from("<I", data, 4)[0]
        assert again == data[:n]
    return t, probs


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_truncation(name):
    data = SAMPLES[name]
    for n in range(len(data)):
        t, probs = check_contract(data[:n])
        assert any(p.severity == "error" for p in probs), n


def test_short_header():
    t, probs = decode_table(b"SRAT\x00")
    assert t is None and probs[0].code == "acpi-truncated" and probs[0].offset == 5
    t, probs = decode_table(b"")
    assert t is None
    t, probs = decode_table(b"RSD PTR \x00\x00")
    assert t is None and probs[0].code == "acpi-truncated"


def test_length_larger_than_data():
    b = SAMPLES["srat"]
    t, probs = decode_table(b[:-10])
    assert "acpi-truncated" in codes(probs)
    p = next(p for p in probs if p.offset == 4)
    assert "exceeds" in p.message
    # the last (cut) subtable is kept raw and the earlier ones decoded
    assert t.entries[-1].raw is not None and t.entries[0].fields is not None


def test_length_smaller_than_data():
    b = bytearray(SAMPLES["srat"]) + b"\xAA" * 7
    t, probs = decode_table(bytes(b))
    assert codes(probs) == ["acpi-trailing-data"] and probs[0].severity == "warning"
    assert probs[0].offset == len(SAMPLES["srat"])
    assert encode(t) == SAMPLES["srat"]


def test_length_smaller_than_header():
    b = bytearray(SAMPLES["srat"])
    struct.pack_into("<I", b, 4, 20)
    t, probs = decode_table(bytes(b))
    assert "acpi-bad-length" in codes(probs) and probs[0].offset == 4


def test_bad_checksum():
    b = bytearray(SAMPLES["madt"])
    b[9] ^= 0x5A
    t, probs = decode_table(bytes(b))
    assert codes(probs) == ["acpi-bad-checksum"] and probs[0].offset == 9
    assert f"should be 0x{SAMPLES['madt'][9]:02X}" in probs[0].message
    assert encode(t) == SAMPLES["madt"]      # re-encoding repairs it


def test_rsdp_bad_checksums_and_length():
    b = bytearray(SAMPLES["rsdp"])
    b[8] ^= 1
    t, probs = decode_table(bytes(b))
    assert [(p.code, p.offset) for p in probs] == [("acpi-bad-checksum", 8),
                                                   ("acpi-bad-checksum", 32)]
    b = bytearray(SAMPLES["rsdp"])
    b[32] ^= 1
    assert [(p.code, p.offset) for p in decode_table(bytes(b))[1]] == [("acpi-bad-checksum", 32)]
    b = bytearray(SAMPLES["rsdp"])
    struct.pack_into("<I", b, 20, 40)
    b[32] = 0
    b[32] = checksum(b)
    assert [(p.code, p.offset) for p in decode_table(bytes(b))[1]] == [("acpi-bad-length", 20)]
    assert codes(decode_table(SAMPLES["rsdp"][:30])[1]) == ["acpi-truncated"]


@pytest.mark.parametrize("zero_len", [0, 1])
def test_zero_length_subtable_stops(zero_len):
    b = bytearray(SAMPLES["srat"])
    b[48 + 1] = zero_len               # first subtable's length byte
    t, probs = decode_table(fix_checksum(b))
    assert codes(probs) == ["acpi-zero-length"] and probs[0].offset == 48
    assert t.entries == [] and len(t.trailing) == len(b) - 48


def test_subtable_length_lies():
    b = bytearray(SAMPLES["srat"])
    b[48 + 1] = 12                      # type 0 claims 12 bytes (needs 16)
    t, probs = decode_table(fix_checksum(b))
    assert probs[0].code == "acpi-bad-length" and probs[0].offset == 49
    assert t.entries[0].raw == bytes(b[48:60])
    # longer than the layout: fields decoded, extra bytes kept, warning
    b = bytearray(SAMPLES["madt"])
    b[44 + 1] = 10                      # local APIC claims 10 bytes (layout 8)
    t, probs = decode_table(fix_checksum(b))
    assert probs[0].code == "acpi-bad-length" and probs[0].severity == "warning"
    assert t.entries[0].fields["apic_id"] == 0 and len(t.entries[0].extra) == 2
    # runs past the end of the table
    b = bytearray(SAMPLES["srat"])
    b[-32 + 1] = 200
    t, probs = decode_table(fix_checksum(b))
    assert probs[0].code == "acpi-truncated" and probs[0].offset == len(b) - 31
    assert encode(t) == bytes(b)


def test_slit_count_mismatch():
    b = bytearray(SAMPLES["slit"])
    struct.pack_into("<Q", b, 36, 5)
    t, probs = decode_table(fix_checksum(b))
    assert codes(probs) == ["acpi-count-mismatch"] and probs[0].offset == 36
    struct.pack_into("<Q", b, 36, 2**64 - 1)
    t, probs = decode_table(fix_checksum(b))
    assert codes(probs) == ["acpi-count-mismatch"] and t.entries == [] and encode(t) == bytes(b)


def test_root_table_count_not_multiple():
    b = bytearray(SAMPLES["rsdt"]) + b"\x01\x02"
    struct.pack_into("<I", b, 4, len(b))
    t, probs = decode_table(fix_checksum(b))
    assert codes(probs) == ["acpi-count-mismatch"] and probs[0].offset == len(b) - 2
    assert len(t.entries) == 2 and t.trailing == b"\x01\x02"


def test_non_bytes_argument():
    for bad in (12345, 1.5, "SRAT", None):
        with pytest.raises(AcpiError):
            decode_table(bad)


def test_acpidump_parse_garbage():
    entries, probs = parse_acpidump("nothing here\n  0000: zz\nSRAT @ 0xZZ\n  00x0: 41 42\n")
    assert all(isinstance(p, Problem) for p in probs)
    assert entries and entries[0].signature == "SRAT"


# --- hypothesis: mutated and random binaries -----------------------------------------------------

mutation = st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
                              st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6)


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for op, pos, val in ops:
        if not b:
            break
        i = pos % len(b)
        if op == "flip":
            b[i] ^= 1 << (val % 8)
        elif op == "set":
            b[i] = val
        elif op == "cut":
            del b[i:]
        elif op == "insert":
            b[i:i] = bytes([val])
        else:
            del b[i]
    return bytes(b)


@settings(max_examples=1500, deadline=2000)
@given(st.sampled_from(sorted(SAMPLES)), mutation, st.booleans())
def test_mutated_binaries(name, ops, refix):
    data = mutate(SAMPLES[name], ops)
    if refix and len(data) >= 36 and not data.startswith(b"RSD PTR "):
        n = struct.unpack_from("<I", data, 4)[0]
        if 36 <= n <= len(data):
            data = fix_checksum(bytearray(data))   # exercise the structural checks
    check_contract(data)


@settings(max_examples=500, deadline=2000)
@given(st.binary(max_size=400), st.sampled_from([b"SRAT", b"APIC", b"SLIT", b"XSDT", b"RSDT",
                                                 b"RSD PTR ", b"HMAT"]))
def test_random_binaries(body, sig):
    check_contract(sig + body)


@settings(max_examples=300, deadline=2000)
@given(st.sampled_from(sorted(SAMPLES)), mutation)
def test_mutated_acpidump_text(name, ops):
    text = to_acpidump([SAMPLES[name]])
    raw = mutate(text.encode(), ops).decode("latin-1")
    entries, probs = parse_acpidump(raw)
    assert all(isinstance(p, Problem) for p in probs)


# --- issue 10: real firmware's SLITs, table sets and dump shapes ---------------------------------

def _slit(count: int, matrix: bytes) -> bytes:
    n = 44 + len(matrix)
    b = bytearray(b"SLIT" + struct.pack("<IBB", n, 1, 0) + b"ALASKA" + b"A M I \x00\x00" +
                  struct.pack("<I", 1) + b"INTL" + struct.pack("<I", 0x20091013) +
                  struct.pack("<Q", count) + matrix)
    return fix_checksum(b)


@settings(max_examples=300, deadline=2000)
@given(st.integers(0, 12), st.binary(max_size=200))
def test_slit_count_against_length(count, matrix):
    """Linux reads count x count bytes whatever the length says (X299 firmware: count 1, 64
    bytes): more bytes are trailing (a note), fewer are a count mismatch (an error)."""
    data = _slit(count, matrix)
    t, probs = check_contract(data)
    need = count * count
    if need <= len(matrix):
        assert [bytes(r) for r in t.entries] == [matrix[i * count:(i + 1) * count] for i in range(count)]
        assert t.trailing == matrix[need:]
        assert [p.code for p in probs] == (["acpi-slit-extra-bytes"] if need < len(matrix) else [])
        assert all(p.severity == "note" for p in probs)
    else:
        assert [p.code for p in probs] == ["acpi-count-mismatch"] and probs[0].severity == "error"
    assert encode(t) == data


def test_facs_has_no_checksum_in_dump_text():
    from fwc_plugins.acpi.acpidump import decode_problems

    facs = bytearray(64)
    facs[0:4] = b"FACS"
    struct.pack_into("<II", facs, 4, 64, 0x1234ABCD)      # length, hardware signature
    assert [p.code for p in decode_problems(bytes(facs))] == ["acpi-unknown-table"]
    _, probs = parse_acpidump(to_acpidump([bytes(facs)]))
    assert "acpi-bad-checksum" not in [p.code for p in probs]


@settings(max_examples=200, deadline=2000)
@given(st.sampled_from(sorted(SAMPLES)), mutation)
def test_mutated_iasl_raw_table_data(name, ops):
    """``iasl -d`` output's Raw Table Data blocks (hw-probe logs), mutated: Problems only."""
    data = SAMPLES[name]
    lines = ["SRAT", "----", f"Raw Table Data: Length {len(data)} (0x{len(data):X})", ""]
    for off in range(0, len(data), 16):
        lines.append(f"    {off:04X}: " + " ".join(f"{b:02X}" for b in data[off:off + 16]) + "  // ....")
    text = "\n".join(lines) + "\n\n"
    entries, probs = parse_acpidump(text)
    assert [e.data for e in entries] == [data] and not [p for p in probs if p.code == "acpidump-format"]
    raw = mutate(text.encode(), ops).decode("latin-1")
    entries, probs = parse_acpidump(raw)
    assert all(isinstance(p, Problem) for p in probs)


@settings(max_examples=150, deadline=4000)
@given(st.lists(st.sampled_from(["SRAT", "SLIT", "APIC", "FACP", "HPET"]), min_size=1, max_size=5,
                unique=True),
       st.lists(st.integers(0, 5), max_size=4), st.integers(0, 2), st.booleans())
def test_table_sets_as_linux_walks_them(sigs, drop, rsdp_revision, xsdt_first):
    """XSDT and RSDT listing different tables: the root Linux uses decides which instance
    counts, and only a disagreement on an SRAT, SLIT or MADT is an error."""
    from fwc_plugins.acpi import DumpEntry, check_table_set, encode_table
    from fwc_plugins.acpi import examples as ex2
    from fwc_plugins.acpi.tableset import linux_order, root_in_use

    tables = {s: (SAMPLES[{"SRAT": "srat", "SLIT": "slit", "APIC": "madt"}[s]] if s in ("SRAT", "SLIT", "APIC")
                  else fix_checksum(bytearray(s.encode() + struct.pack("<IBB", 40, 1, 0) + bytes(30))))
              for s in sigs}
    addr = {s: 0x1000 * (i + 1) for i, s in enumerate(sigs)}
    x = [addr[s] for s in sigs]
    r = [a for i, a in enumerate(x) if i not in drop]
    hdr = {k: ex2.HEADER[k] for k in ("oem_id", "oem_table_id", "oem_revision", "creator_id",
                                      "creator_revision")}
    rev = 2 if rsdp_revision == 1 else rsdp_revision        # 1 is undefined
    body = {"xsdt_address": 0x200} if rev >= 2 else None
    entries = [DumpEntry("RSDP", 0x100, encode_table("RSD PTR ", {"oem_id": "FWCOEM", "revision": rev,
                                                                  "rsdt_address": 0x300}, (), body))]
    roots = [DumpEntry("XSDT", 0x200, encode_table("XSDT", hdr, x)),
             DumpEntry("RSDT", 0x300, encode_table("RSDT", hdr, r))]
    entries += roots if xsdt_first else roots[::-1]
    entries += [DumpEntry(s, addr[s], tables[s]) for s in reversed(sigs)]
    used = root_in_use(entries)[0]
    assert used == ("XSDT" if rev >= 2 else "RSDT")
    order = [e.signature for e in linux_order(entries)]
    listed = [s for s in sigs if addr[s] in (x if used == "XSDT" else r)]
    assert order[:len(listed)] == listed
    probs = check_table_set(entries)
    described = {s for i, s in enumerate(sigs) if i in drop and s in ("SRAT", "SLIT", "APIC")}
    errors = [p for p in probs if p.severity == "error"]
    assert bool(errors) == bool(described), probs
