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
