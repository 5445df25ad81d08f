"""Every construct of the language, parsed and elaborated into the model."""

import pytest

from conftest import machine
from fwc import Fwc
from fwc.syntax import parse_number, parse_string

G, M, K = 1 << 30, 1 << 20, 1 << 10


@pytest.fixture(scope="module")
def fwc():
    return Fwc()


def load(fwc, text, **kw):
    r = fwc.load(text=text, **kw)
    assert r.ok, r.render_diagnostics()
    return r.machine


@pytest.mark.parametrize("text,value", [
    ("0", 0), ("42", 42), ("1_000_000", 1000000), ("0x1F", 31), ("0XfF", 255), ("0xdead_beef", 0xDEADBEEF),
    ("0b1010", 10), ("0B1_1", 3), ("640K", 640 * K), ("2M", 2 * M), ("3G", 3 * G), ("1T", 1 << 40),
    ("1P", 1 << 50), ("1E", 1 << 60), ("4KiB", 4 * K), ("16MiB", 16 * M), ("2GiB", 2 * G), ("1TiB", 1 << 40),
    ("1PiB", 1 << 50), ("1EiB", 1 << 60), ("1_024K", 1024 * K),
])
def test_numbers(text, value):
    assert parse_number(text) == value


def test_numbers_in_a_description(fwc):
    m = load(fwc, machine("node 0 { memory 0x1_0000_0000 size 0b1 * 1GiB }"))
    assert (m.nodes[0].memory[0].base, m.nodes[0].memory[0].size) == (4 * G, G)


@pytest.mark.parametrize("raw,value", [
    ('"abc"', "abc"), ('"a\\"b"', 'a"b'), ('"a\\\\b"', "a\\b"), ('"\\x41\\x00"', "A\0"), ('"x\\ty"', "x\ty"),
    ('""', ""),
])
def test_strings(raw, value):
    assert parse_string(raw) == value


def test_expressions_and_constants(fwc):
    m = load(fwc, """
        let GB = 1G
        let HALF = GB / 2
        machine "m" {
            let BASE = 4 * GB + HALF
            node 0 { let S = (HALF + 256M) * 2 - 512M   memory BASE size S }
        }""")
    r = m.nodes[0].memory[0]
    assert r.base == 4 * G + G // 2
    assert r.size == G


def test_comments(fwc):
    m = load(fwc, """
        # hash comment
        // slash comment
        /* block
           comment */
        machine "m" { node 0 { memory 0 /* inline */ size 1G } } # trailing
    """)
    assert m.nodes[0].memory[0].size == G


def test_machine_name_arch_board(fwc):
    m = load(fwc, machine('arch arm64\nboard generic\nnode 0 { memory 0 size 1G }'))
    assert (m.name, m.arch, m.board) == ("m", "arm64", "generic")
    m = load(fwc, machine('node 0 { memory 0 size 1G }'))
    assert (m.arch, m.board) == ("x86_64", "generic")


def test_oem_identity(fwc):
    m = load(fwc, machine('oem id "BOCHS " table "BXPC    " revision 2 creator "BXPC" 7\nnode 0 { memory 0 size 1G }'))
    assert (m.oem.id, m.oem.table_id, m.oem.revision, m.oem.creator_id, m.oem.creator_revision) == \
        ("BOCHS ", "BXPC    ", 2, "BXPC", 7)


def test_oem_short_strings_are_nul_padded(fwc):
    m = load(fwc, machine('oem id "AB" table "T"\nnode 0 { memory 0 size 1G }'))
    assert m.oem.id == "AB\0\0\0\0" and m.oem.table_id == "T" + "\0" * 7


def test_board_defaults(fwc):
    m = load(fwc, machine('board qemu-q35\nnode 0 { memory size 1G }'))
    assert (m.oem.id, m.oem.table_id, m.oem.revision, m.oem.creator_id) == ("BOCHS ", "BXPC    ", 1, "BXPC")
    assert m.table_revision("srat", 0) == 1
    g = load(fwc, machine('node 0 { memory 0 size 1G }'))
    assert g.table_revision("srat", 0) == 3


def test_tables_block(fwc):
    m = load(fwc, machine('tables at 0xE0000 { srat revision 2  madt revision 3 }\nnode 0 { memory 0 size 1G }'))
    assert m.tables_base == 0xE0000
    assert m.table_revision("srat", 0) == 2 and m.table_revision("madt", 0) == 3
    m = load(fwc, machine('tables { slit revision 1 }\nnode 0 { memory 0 size 1G }'))
    assert m.tables_base is None and m.table_revision("slit", 0) == 1


def test_nodes_and_pxm(fwc):
    m = load(fwc, machine('node 1 pxm 7 { memory 1G size 1G }\nnode 0 { memory 0 size 1G }'))
    assert [(n.id, n.pxm) for n in m.nodes] == [(0, 0), (1, 7)]


def test_cpus_lists_ranges_and_flags(fwc):
    m = load(fwc, machine('node 0 { cpus 0-2, 5, 7-8  cpus 9 disabled  cpus 10 online-capable disabled '
                          'cpus 11 x2apic  cpus 300-301  memory 0 size 1G }'))
    cpus = m.nodes[0].cpus
    assert [c.apic_id for c in cpus] == [0, 1, 2, 5, 7, 8, 9, 10, 11, 300, 301]
    by = {c.apic_id: c for c in cpus}
    assert by[0].enabled and not by[0].needs_x2apic
    assert not by[9].enabled
    assert by[10].online_capable and not by[10].enabled
    assert by[11].x2apic and by[11].needs_x2apic
    assert by[300].needs_x2apic and not by[300].x2apic


def test_memory_flags(fwc):
    m = load(fwc, machine('node 0 { memory 0 size 1G  memory 1G size 1G hotpluggable  '
                          'memory 2G size 1G nonvolatile  memory 3G size 1G disabled  memory 5G size 1G mirror }'))
    mem = m.nodes[0].memory
    assert [(r.hotpluggable, r.nonvolatile, r.enabled, r.mirror) for r in mem] == [
        (False, False, True, False), (True, False, True, False), (False, True, True, False),
        (False, False, False, False), (False, False, True, True)]


def test_qemu_size_only_layout_q35(fwc):
    # q35: 4 GiB of RAM is 2 GiB below 4 GiB + 2 GiB above (qemu.md 1.1), nodes stacked in id order,
    # the 640K-1M gap skipped as QEMU's SRAT does (qemu.md 2.1).
    m = load(fwc, machine('board qemu-q35\nnode 0 { memory size 2G }\nnode 1 { memory size 2G hotpluggable }'))
    assert [(r.base, r.size) for r in m.nodes[0].memory] == [(0, 0xA0000), (0x100000, 0x7FF00000)]
    assert [(r.base, r.size, r.hotpluggable) for r in m.nodes[1].memory] == [(4 * G, 2 * G, True)]


def test_qemu_size_only_layout_pc_split_node(fwc):
    # pc, -m 4G, nodes 1G + 3G: node 1 straddles the PCI hole (qemu.md 2.1).
    m = load(fwc, machine('board qemu-pc\nnode 0 { memory size 1G }\nnode 1 { memory size 3G }'))
    assert [(r.base, r.end) for r in m.nodes[1].memory] == [(1 * G, 3 * G), (4 * G, 5 * G)]


def test_qemu_q35_all_low_below_2816M(fwc):
    m = load(fwc, machine('board qemu-q35\nnode 0 { memory size 2815M }'))
    assert m.nodes[0].memory[-1].end == 2815 * M


def test_dimms_and_slots(fwc):
    # -m 4G,slots=4,maxmem=16G: window from 6 GiB (4G + 2G above, rounded to 1 GiB); DIMMs first-fit.
    m = load(fwc, machine('board qemu-q35\nslots 4 maxmem 16G\nnode 0 { memory size 2G }\n'
                          'node 1 { memory size 2G  dimm size 512M  dimm size 1G }'))
    assert (m.slots, m.maxmem) == (4, 16 * G)
    d = m.nodes[1].dimms
    assert [(r.base, r.size) for r in d] == [(6 * G, 512 * M), (6 * G + 512 * M, G)]
    assert all(r.dimm and r.hotpluggable for r in d)


def test_dimm_defaults_slots_and_maxmem(fwc):
    m = load(fwc, machine('board qemu-q35\nnode 0 { memory size 2G  dimm size 1G at 0x100000000 }'))
    assert (m.slots, m.maxmem) == (1, 3 * G)
    assert m.nodes[0].dimms[0].base == 4 * G


def test_initiators_ports_its(fwc):
    m = load(fwc, machine('arch arm64\nnode 0 { memory 0 size 1G  initiator pci "0001:02:03.4" arch-transactions '
                          'port acpi "ACPI0016" uid 3  initiator acpi "ACPI0004" uid 1 disabled  its 5 }'))
    gi, gp, ga = m.nodes[0].initiators
    assert (gi.kind, gi.handle_type, gi.segment, gi.bus, gi.devfn, gi.arch_transactions) == \
        ("initiator", "pci", 1, 2, (3 << 3) | 4, True)
    assert (gp.kind, gp.handle_type, gp.hid, gp.uid, gp.enabled) == ("port", "acpi", "ACPI0016", 3, True)
    assert not ga.enabled
    assert m.nodes[0].its[0].id == 5


def test_distances_mirror_and_defaults(fwc):
    m = load(fwc, machine('node 0 { memory 0 size 1G }\nnode 1 { memory 1G size 1G }\n'
                          'node 2 { memory 2G size 1G }\ndistance 0 1 = 21\ndistance 1 2 = 17\ndistance 2 1 = 19'))
    d = m.distance_matrix()
    assert d[(0, 0)] == 10 and d[(0, 1)] == 21 and d[(1, 0)] == 21
    assert d[(1, 2)] == 17 and d[(2, 1)] == 19
    assert d[(0, 2)] == 20


def test_reserved_regions(fwc):
    m = load(fwc, machine('node 0 { memory 0 size 1G }\nreserved 0xfed1c000 size 16K\n'
                          'reserved 0x7ffdf000 size 132K acpi\nreserved 2G size 4K nvs'))
    assert [(r.base, r.size, r.type) for r in m.reserved] == [
        (0xFED1C000, 16 * K, "reserved"), (0x7FFDF000, 132 * K, "acpi"), (2 * G, 4 * K, "nvs")]


def test_kernel_initrd_overrides_cmdline(fwc, tmp_path):
    (tmp_path / "ssdt.aml").write_bytes(b"SSDT")
    f = tmp_path / "m.fwc"
    f.write_text(machine('node 0 { memory 0 size 2G }\nkernel at 16M size 52M\n'
                         'initrd at 1G size 8M { override srat  override slit revision 5  override "ssdt.aml" }\n'
                         'distance 0 0 = 10\ncmdline "console=ttyS0" "movable_node"\ncmdline "kernelcore=50%"'))
    m = load(fwc, None) if False else fwc.load(f).machine
    assert (m.kernel.base, m.kernel.size) == (16 * M, 52 * M)
    assert (m.initrd.base, m.initrd.size) == (G, 8 * M)
    o = m.initrd.overrides
    assert (o[0].table, o[0].revision) == ("srat", None)
    assert (o[1].table, o[1].revision) == ("slit", 5)
    assert o[2].file == str(tmp_path / "ssdt.aml")
    assert m.cmdline == "console=ttyS0 movable_node kernelcore=50%"
    assert m.params == {"console": "ttyS0", "movable_node": "", "kernelcore": "50%"}


def test_topology_and_interrupts(fwc):
    m = load(fwc, machine('node 0 { cpus 0-3 memory 0 size 1G }\ntopology sockets 2 cores 2 threads 1\n'
                          'ioapic 1 at 0xFEC01000 gsi 24\nirq 0 gsi 2\nirq 9 gsi 9 flags 0xD\n'
                          'nmi cpu all lint 1\nnmi cpu 3 lint 0 flags 5\nlapic at 0xFEE00000'))
    assert (m.topology.sockets, m.topology.cores, m.topology.threads) == (2, 2, 1)
    i = m.interrupts
    assert [(a.id, a.address, a.gsi_base) for a in i.ioapics] == [(1, 0xFEC01000, 24)]
    assert [(o.source, o.gsi, o.flags) for o in i.overrides] == [(0, 2, 0), (9, 9, 0xD)]
    assert [(n.cpu, n.lint, n.flags) for n in i.nmis] == [(None, 1, 0), (3, 0, 5)]


def test_interrupt_defaults_are_qemus(fwc):
    i = load(fwc, machine('node 0 { memory 0 size 1G }')).interrupts
    assert [(a.id, a.address) for a in i.ioapics] == [(0, 0xFEC00000)]
    assert [(o.source, o.gsi, o.flags) for o in i.overrides] == [(0, 2, 0), (5, 5, 13), (9, 9, 13),
                                                                 (10, 10, 13), (11, 11, 13)]


def test_include_top_level_and_in_machine(fwc, tmp_path):
    (tmp_path / "consts.fwc").write_text("let NODE_MEM = 2G\n")
    sub = tmp_path / "parts"
    sub.mkdir()
    (sub / "node1.fwc").write_text("node 1 { memory 2G size NODE_MEM hotpluggable }\n")
    main = tmp_path / "m.fwc"
    main.write_text('include "consts.fwc"\nmachine "m" {\n node 0 { memory 0 size NODE_MEM }\n include "parts/node1.fwc"\n}\n')
    r = fwc.load(main)
    assert r.ok, r.render_diagnostics()
    assert [n.id for n in r.machine.nodes] == [0, 1]
    assert r.machine.nodes[1].memory[0].hotpluggable
    assert str(sub / "node1.fwc") in r.machine.files


def test_include_path_search(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "c.fwc").write_text("let X = 1G\n")
    main = tmp_path / "m.fwc"
    main.write_text('include "c.fwc"\nmachine "m" { node 0 { memory 0 size X } }\n')
    assert not Fwc().load(main).ok
    assert Fwc(include_path=[str(lib)]).load(main).ok


def test_spans_point_at_statements(fwc):
    m = load(fwc, 'machine "m" {\n  node 0 {\n    memory 0 size 1G hotpluggable\n  }\n}\n', name="s.fwc")
    s = m.nodes[0].memory[0].span
    assert (s.file, s.line, s.col, s.end_line, s.end_col) == ("s.fwc", 3, 5, 3, 34)


def test_include_inside_a_node(fwc, tmp_path):
    (tmp_path / "mem.fwc").write_text("cpus 0-1\nmemory 0 size 1G\n")
    main = tmp_path / "m.fwc"
    main.write_text('machine "m" { node 0 { include "mem.fwc" } }\n')
    r = fwc.load(main)
    assert r.ok, r.render_diagnostics()
    assert len(r.machine.nodes[0].cpus) == 2 and r.machine.nodes[0].memory[0].size == G


def test_misplaced_statements_from_fragments(fwc, tmp_path):
    (tmp_path / "node.fwc").write_text("node 5 { memory 0 size 1G }\n")
    (tmp_path / "mem.fwc").write_text("memory 0 size 1G\n")
    main = tmp_path / "m.fwc"
    main.write_text('machine "m" {\n include "mem.fwc"\n node 0 { include "node.fwc" }\n}\n')
    r = fwc.load(main)
    got = [(d.check, d.span.file.rsplit("/", 1)[1], d.message) for d in r.diagnostics]
    assert got == [("misplaced-statement", "mem.fwc", "'memory' belongs inside a node (only a machine without "
                                                      "nodes, no NUMA and no SRAT, has memory of its own)"),
                   ("misplaced-statement", "node.fwc", "'node' cannot appear inside a node")]


# --- issue 10: what real firmware says


def _tables(m):
    from fwc_plugins.acpi import tables as T
    from fwc_plugins.acpi.binary import decode_table

    return {sig: decode_table(data)[0] for sig, data in T.build_tables(m).values()}


def test_entry_lists_write_the_firmware_order(fwc):
    m = load(fwc, 'machine "m" {\n'
                  '    tables {\n'
                  '        srat revision 2 body "000000000000000000000000" {\n'
                  '            memory 1G reserved 1\n'
                  '            cpus 4, 0\n'
                  '            placeholder cpus 255 pxm 7 disabled times 2\n'
                  '            placeholder memory 0 size 0 pxm 0 disabled\n'
                  '            memory 0\n'
                  '            bytes "070c000000000000000000000000"\n'
                  '        }\n'
                  '        slit { bytes "0000" }\n'
                  '        madt { cpus 4 uid 9  placeholder cpus 0xFF uid 0xFF disabled  interrupts 1  cpus 0, 5  interrupts }\n'
                  '    }\n'
                  '    node 0 { cpus 0 clock 3  memory 0 size 1G }\n'
                  '    node 1 pxm 1 { cpus 4  memory 1G size 1G }\n'
                  '    cpus 5 disabled\n'
                  '    distance 0 1 = 21\n'
                  '    nmi cpu all lint 1 x2apic\n'
                  '    ioapic 2 at 0xFEC00000\n'
                  '    lapic at 0xFEE00000 flags 0\n'
                  '}\n')
    t = _tables(m)
    srat = [(e.type, e.fields) for e in t["SRAT"].entries]
    assert [x[0] for x in srat] == [1, 0, 0, 0, 0, 1, 1, 7]
    assert srat[0][1]["reserved2"] == 1 and srat[2][1]["clock_domain"] == 3
    assert [f["apic_id"] for _, f in srat[1:5]] == [4, 0, 255, 255] and not srat[3][1]["flags"] & 1
    assert t["SRAT"].body == {"table_revision": 0, "reserved": 0}
    assert t["SLIT"].trailing == b"\0\0" and [list(r) for r in t["SLIT"].entries] == [[10, 21], [21, 10]]
    madt = [(e.type, e.fields) for e in t["APIC"].entries]
    assert [x[0] for x in madt] == [0, 0, 10, 0, 0, 1]
    assert [(f.get("apic_id"), f.get("processor_id")) for _, f in madt[:2]] == [(4, 9), (0xFF, 0xFF)]
    assert [(f["apic_id"], f["processor_id"], f["flags"]) for _, f in madt[3:5]] == [(0, 2, 1), (5, 3, 0)]
    assert t["APIC"].body["flags"] == 0
    assert [c.apic_id for c in m.unaffined_cpus] == [5]


@pytest.mark.parametrize("body,message", [
    ("tables { srat { cpus 0, 9 } }", "srat entry: no CPU with APIC ID 9 is described"),
    ("tables { srat { memory 0 } }", "the srat entry list does not name the CPU with APIC ID 0"),
    ("tables { srat { cpus 0 cpus 0 memory 0 } }", "srat entry: CPU with APIC ID 0 is listed twice"),
    ("tables { madt { cpus 0 uid 1, 2 } }", "1 IDs but 2 UIDs"),
    ("tables { srat { cpus 0 pxm 1 memory 0 } }", "write 'placeholder cpus' for an entry Linux ignores"),
    ("tables { slit { cpus 0 } }", "a SLIT's entry list holds only 'bytes'"),
    ("tables { madt { cpus 0 memory 0 } }", "the madt has no memory entries"),
])
def test_entry_list_errors(fwc, body, message):
    r = fwc.load(text=f'machine "m" {{\n    {body}\n    node 0 {{ cpus 0  memory 0 size 1G }}\n}}\n')
    assert not r.ok
    got = [d for d in r.diagnostics if message in d.message]
    assert got and got[0].span is not None and got[0].span.line in (2, 3), r.render_diagnostics()


def test_cpus_without_affinity_share_the_apic_id_space(fwc):
    r = fwc.check(text=machine("node 0 { cpus 0 memory 0 size 1G }\ncpus 0"))
    assert any(d.check == "duplicate-apic-id" for d in r.diagnostics)


@pytest.mark.parametrize("body,message", [
    ("tables { madt { cpus 0 uid 300 } }", "processor UID 300 does not fit the 8-bit UID"),
    ("tables { madt { cpus 0 } }\n    ioapic 0 at 0xFEC00000", "writes 0 interrupt entries, but the machine has 1"),
])
def test_madt_entry_list_errors(fwc, body, message):
    r = fwc.load(text=f'machine "m" {{\n    {body}\n    node 0 {{ cpus 0  memory 0 size 1G }}\n}}\n')
    assert any(message in d.message and d.span is not None for d in r.diagnostics), r.render_diagnostics()


def test_the_entry_list_example_of_the_docs_compiles(fwc):
    import os

    doc = open(os.path.join(os.path.dirname(__file__), os.pardir, "docs", "language.md"), encoding="utf-8").read()
    start = doc.index('machine "r820" {')
    m = load(fwc, doc[start:doc.index("```", start)])
    t = _tables(m)
    assert [f.get("apic_id") for f in (e.fields for e in t["SRAT"].entries) if f and "apic_id" in f] == \
        [0, 32, 2, 34, 208, 209]
    assert [c.apic_id for c in m.unaffined_cpus] == [300]
