"""An example of another project's test suite using fwc's pytest fixture.

Installing fwc makes the ``fwc_build`` fixture available (pytest11 entry point); nothing
to import.  Run: ``pytest examples/downstream-tests``.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

TWO_NODES = '''
machine "fixture" {
    board qemu-q35
    node 0 { cpus 0-1  memory size 2G }
    node 1 { cpus 2-3  memory size 2G hotpluggable }
    distance 0 1 = 21
}
'''


def test_srat_for_my_firmware(fwc_build):
    b = fwc_build(TWO_NODES, backends=["acpi"])
    srat = b.tables["SRAT"]
    assert srat[:4] == b"SRAT" and struct.unpack_from("<I", srat, 4)[0] == len(srat)
    assert sum(srat) % 256 == 0
    assert b.tables["SLIT"][44:48] == bytes([10, 21, 21, 10])


def test_qemu_command_line(fwc_build):
    b = fwc_build(TWO_NODES, backends=["qemu"])
    argv = b.qemu_argv
    assert argv[argv.index("-machine") + 1].startswith("q35")
    assert any(a.startswith("node,nodeid=1") for a in argv)


def test_description_from_a_file(fwc_build):
    b = fwc_build(path=os.path.join(HERE, os.pardir, "two-node-hotplug.fwc"), backends=["model"])
    assert b.machine.nodes[1].memory[0].hotpluggable


def test_errors_are_reported(fwc_build):
    b = fwc_build('machine "bad" { node 0 { memory 0 size 1G } node 0 { memory 1G size 1G } }',
                  expect_errors=True)
    assert not b.ok and [d.check for d in b.diagnostics] == ["duplicate-node"]
