"""Differential table testing against QEMU 7.2 itself (issue 16), the CI sample.

Random valid QEMU machines from a fixed seed (tests/oracles/qemu/table_machines.py): for
each, QEMU runs fwc's own ``-b qemu`` command line to the firmware (SeaBIOS only, no kernel,
under a second) and its SRAT, SLIT and MADT must equal fwc's byte for byte; fwc's decompile
of QEMU's tables must give back the same machine.  Thousands: bench/qemu_tables.py.
"""

from __future__ import annotations


import pytest

from oracles.qemu.table_machines import differential, machines

SEED, N = 16, 30


@pytest.fixture(scope="module")
def sample():
    return machines(N, SEED)[0]


def test_sample_covers_the_features(sample):
    feats = {f for d in sample for f in d.features}
    for f in ("qemu-q35", "qemu-pc", "no-numa", "memoryless", "cpu-hotplug", "dimm", "slit", "slit-asymmetric",
              "oem", "max-ram-below-4g", "topology", "nodes=1", "nodes=8", "nvdimm"):
        assert f in feats, f


def test_generator_is_deterministic():
    assert [d.text for d in machines(5, 3)[0]] == [d.text for d in machines(5, 3)[0]]


@pytest.mark.oracle
def test_tables_equal_qemus(qemu, sample):
    """TCG machines; the KVM ones only where KVM runs SeaBIOS (test_kvm_machines)."""
    failed = {d.name: differential(d, qemu, kvm=False) for d in sample}
    failed = {k: v for k, v in failed.items() if v}
    assert not failed, failed


@pytest.mark.oracle
def test_kvm_machines(qemu):
    """x2APIC machines (APIC IDs 255 and up) under KVM, as QEMU 7.2 builds them (needs KVM that
    runs SeaBIOS: the reference host's nested KVM does, with -cpu host,-arch-capabilities)."""
    from oracles.qemu.firmware_tables import kvm_runs_firmware
    from oracles.qemu.table_machines import draw_kvm
    import random

    why = kvm_runs_firmware(qemu)
    if why is not None:
        pytest.skip(f"KVM cannot run SeaBIOS here: {why}")
    rng = random.Random(SEED)
    for k in range(2):
        d = draw_kvm(rng, f"kvm{k}")
        assert differential(d, qemu) == [], d.text
