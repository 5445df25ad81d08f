"""Issue 10: real firmware's table shapes, described structurally and compiled back byte for byte.

The bugs of ``../shared/acpi-realworld/repro/`` 05-10, each rebuilt here from tables fwc
encodes itself, and a property test generating SRAT/MADT pairs in the shapes real firmware
writes (random entry order, disabled placeholders, duplicate and absent IDs, padding
entries, clock domains): decompile -> compile is the identity and fwc's reading of the
machine (nodes, CPUs) is Linux 6.1's.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fwc import Fwc
from fwc.model import linux_cpu_nodes
from fwc_plugins.acpi import Subtable, Table, encode
from fwc_plugins.acpi import tables as T

FWC = Fwc()
HDR = {"revision": 3, "oem_id": "MINOEM", "oem_table_id": "MINTABLE", "oem_revision": 1,
       "creator_id": "MINC", "creator_revision": 1}


def cpu(apic, pxm, enabled=True, clock=0):
    return Subtable(0, {"proximity_domain_lo": pxm & 0xFF, "apic_id": apic, "flags": int(enabled),
                        "local_sapic_eid": 0, "proximity_domain_hi": pxm >> 8, "clock_domain": clock})


def mem(base, size, pxm, flags=1):
    return Subtable(1, {"proximity_domain": pxm, "reserved1": 0, "base_address": base, "address_length": size,
                        "reserved2": 0, "flags": flags, "reserved3": 0})


def lapic(apic, uid, enabled=True):
    if apic > 255:
        return Subtable(9, {"reserved": 0, "x2apic_id": apic, "flags": int(enabled), "processor_uid": uid})
    return Subtable(0, {"processor_id": uid, "apic_id": apic, "flags": int(enabled)})


def x2cpu(apic, pxm, enabled=True):
    return Subtable(2, {"reserved1": 0, "proximity_domain": pxm, "apic_id": apic, "flags": int(enabled),
                        "clock_domain": 0, "reserved2": 0})


INTERRUPTS = [Subtable(1, {"io_apic_id": 8, "reserved": 0, "address": 0xFEC00000, "gsi_base": 0}),
              Subtable(2, {"bus": 0, "source_irq": 0, "gsi": 2, "flags": 0}),
              Subtable(2, {"bus": 0, "source_irq": 9, "gsi": 9, "flags": 0xD}),
              Subtable(4, {"processor_id": 0xFF, "flags": 5, "lint": 1}),
              Subtable(10, {"flags": 5, "processor_uid": 0xFFFFFFFF, "lint": 1, "reserved": 0}),
              Subtable.from_raw(bytes.fromhex("7f0c0d000000c2fe00000000"))]


def srat(entries):
    return encode(Table("SRAT", HDR, {"table_revision": 1, "reserved": 0}, entries))


def madt(entries):
    return encode(Table("APIC", {**HDR, "revision": 1}, {"local_apic_address": 0xFEE00000, "flags": 1}, entries))


def write(tmp_path, **tables):
    paths = []
    for sig, data in tables.items():
        p = tmp_path / f"{sig}.dat"
        p.write_bytes(data)
        paths.append(str(p))
    return paths


def decompiled(tmp_path, **tables):
    r = FWC.decompile(write(tmp_path, **tables))
    assert r.ok and r.text, r.render_diagnostics()
    m = FWC.load(text=r.text)
    assert m.ok, m.render_diagnostics() + r.text
    out = {sig: data for sig, data in T.build_tables(m.machine).values()}
    for sig, data in tables.items():
        assert out.get(sig) == data, (sig, r.text)
    return r.text, m.machine


# --- repro 09: a tables block breaks the model backend and renames the machine


def test_tables_block_keeps_the_name_and_the_model_backend_works(tmp_path):
    text = ('machine "my-server" {\n    tables { srat revision 3 append "070c0000000000000000000000" }\n'
            '    node 0 { cpus 0 memory 0 size 1G }\n}\n')
    r = FWC.compile(text=text)  # every default backend
    assert r.ok, r.render_diagnostics()
    data = json.loads(r.artifact("machine.json", "model").text)
    assert data["name"] == "my-server"
    assert data["table_overrides"]["srat"]["append"] == "070c0000000000000000000000"
    assert FWC.load(text=text).machine.name == "my-server"


# --- repro 10: arm64 kept when the tables only fit verbatim


def test_verbatim_only_keeps_arm64(tmp_path):
    gicc = Subtable(3, {"proximity_domain": 0, "acpi_processor_uid": 0, "flags": 1, "clock_domain": 0})
    # two nodes claiming the same boot RAM: Linux rejects the NUMA layout, fwc keeps bytes only
    data = srat([gicc, mem(0, 1 << 30, 0), mem(0, 1 << 30, 1)])
    r = FWC.decompile(write(tmp_path, SRAT=data))
    assert r.ok and r.text
    assert "arch arm64" in r.text
    m = FWC.load(text=r.text)
    out = {sig for sig, _ in T.build_tables(m.machine).values()}
    assert "APIC" not in out  # no x86 MADT the input never had


# --- repro 07: disabled SRAT CPU entries are neither CPUs nor nodes


def test_disabled_srat_cpus_are_placeholders(tmp_path):
    data = srat([cpu(0, 1), cpu(1, 1), cpu(208, 0, False), cpu(209, 0, False), mem(0, 1 << 30, 1),
                 mem(0, 0, 0, flags=0)])
    text, m = decompiled(tmp_path, SRAT=data)
    assert [n.pxm for n in m.nodes] == [1]
    assert [c.apic_id for _, c in m.cpus] == [0, 1]
    assert "placeholder cpus 208-209 pxm 0 disabled" in text
    assert "verbatim" not in text


# --- repro 08: MADT CPUs without SRAT affinity get Linux's node, not the first node


def test_madt_cpus_without_affinity(tmp_path):
    s = srat([cpu(0, 0), cpu(1, 1), mem(0, 1 << 30, 0), mem(1 << 30, 1 << 30, 1)])
    a = madt([lapic(0, 0), lapic(1, 1), lapic(144, 2), lapic(145, 3, False)])
    text, m = decompiled(tmp_path, SRAT=s, APIC=a)
    assert [c.apic_id for n in m.nodes for c in n.cpus] == [0, 1]
    assert [(c.apic_id, c.enabled) for c in m.unaffined_cpus] == [(144, True), (145, False)]
    # numa_init_array(): logical CPU 2 (APIC 144) gets online node 2 % 2 = node 0
    assert [(c.apic_id, n.id) for c, n in linux_cpu_nodes(m)] == [(0, 0), (1, 1), (144, 0)]
    assert "verbatim" not in text


# --- repro 06: a duplicated MADT APIC ID: the CPU is present if any entry is enabled


def test_duplicate_madt_apic_id_follows_linux(tmp_path):
    s = srat([mem(0, 1 << 30, 0), cpu(0, 0), cpu(1, 0, clock=1)])
    a = madt([lapic(0, 0), lapic(1, 1), lapic(0, 2, False), lapic(0, 3, False)])
    text, m = decompiled(tmp_path, SRAT=s, APIC=a)
    assert all(c.enabled for _, c in m.cpus)
    assert "placeholder cpus 0, 0 disabled" in text
    assert m.nodes[0].cpus[1].clock_domain == 1


def test_entry_list_errors_have_positions():
    r = FWC.check(text='machine "m" {\n    tables { srat { cpus 0, 5 } }\n    node 0 { cpus 0 memory 0 size 1G }\n}\n')
    msgs = [(d.check, d.span.line if d.span else None, d.message) for d in r.diagnostics]
    assert ("unknown-value", 2, "srat entry: no CPU with APIC ID 5 is described; write 'placeholder' for an "
            "entry Linux ignores") in msgs
    r = FWC.check(text='machine "m" {\n    tables { srat { cpus 0 } }\n    node 0 { cpus 0 memory 0 size 1G }\n}\n')
    assert any("does not name the memory range at 0" in d.message for d in r.diagnostics)


# --- the property: real firmware's shapes


@st.composite
def firmware(draw):
    npxm = draw(st.integers(1, 4))
    pxms = draw(st.permutations(range(npxm)))
    ids = draw(st.lists(st.one_of(st.integers(0, 254), st.integers(256, 4096)), min_size=1, max_size=12,
                        unique=True))
    items = []
    for k, apic in enumerate(ids):
        if apic > 255:
            items.append(x2cpu(apic, pxms[k % npxm]))
        else:
            items.append(cpu(apic, pxms[k % npxm], clock=draw(st.sampled_from([0, 0, 1, 3]))))
    items += [x2cpu(0xFFFFFFFF, 0, False) for _ in range(draw(st.integers(0, 2)))]
    for k, p in enumerate(pxms):
        items.append(mem((k + 1) << 30, 1 << 30, p))
    items += [cpu(draw(st.sampled_from([0xFF, 200, 201])), draw(st.integers(0, 5)), False)
              for _ in range(draw(st.integers(0, 4)))]
    # an APIC ID listed twice, enabled both times, with another proximity domain
    items += [cpu(i, draw(st.sampled_from(pxms))) for i in draw(st.lists(st.sampled_from(ids), max_size=1))
              if i < 255]
    items += [mem(0, 0, draw(st.integers(0, 5)), 0) for _ in range(draw(st.integers(0, 3)))]
    order = draw(st.permutations(range(len(items))))
    srat_entries = [items[i] for i in order]
    # MADT: the CPUs in another order, some absent from the SRAT, placeholders and duplicates
    mids = draw(st.permutations(ids)) + draw(st.lists(st.integers(210, 254), max_size=3, unique=True))
    mad = [lapic(a, draw(st.integers(0, 254)), draw(st.booleans()) or k == 0) for k, a in enumerate(mids)]
    mad += [lapic(draw(st.sampled_from([0xFF] + list(ids))), draw(st.integers(0, 254)), False)
            for _ in range(draw(st.integers(0, 3)))]
    mad += draw(st.lists(st.sampled_from(INTERRUPTS), max_size=6))
    mad = [mad[i] for i in draw(st.permutations(range(len(mad))))]
    # a SLIT, valid for Linux, sometimes with bytes after the matrix (X299 firmware)
    rows = [[10 if i == j else 0 for j in range(npxm)] for i in range(npxm)]
    for i in range(npxm):
        for j in range(i + 1, npxm):
            rows[i][j] = rows[j][i] = draw(st.integers(11, 254))
    trailing = draw(st.sampled_from([b"", bytes(3), b"\x0a" * 8]))
    return srat_entries, mad, (rows, trailing)


def linux_reading(srat_entries, madt_entries):
    """Linux 6.1's reading: apicid -> pxm from enabled SRAT CPU entries (the last one wins:
    set_apicid_to_node()), present APIC IDs from enabled MADT entries (ID 0xFF ignored), and
    the node numbering (first appearance in enabled CPU entries, then memory entries)."""
    node = {}
    for e in srat_entries:
        if e.type in (0, 2) and e.fields["flags"] & 1:
            node[e.fields["apic_id"]] = e.fields["proximity_domain_lo" if e.type == 0 else "proximity_domain"]
    present = {e.fields.get("apic_id", e.fields.get("x2apic_id")) for e in madt_entries
               if e.type in (0, 9) and e.fields["flags"] & 1 and e.fields.get("apic_id") != 0xFF}
    return node, present


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(firmware())
def test_real_firmware_shapes_round_trip_with_linux_semantics(tmp_path_factory, fw):
    srat_entries, madt_entries, (rows, trailing) = fw
    s, a = srat(srat_entries), madt(madt_entries)
    slit = encode(Table("SLIT", {**HDR, "revision": 1}, {}, [bytes(r) for r in rows], trailing))
    tmp = tmp_path_factory.mktemp("fw")
    text, m = decompiled(tmp, SRAT=s, APIC=a, SLIT=slit)
    assert "verbatim" not in text
    node, present = linux_reading(srat_entries, madt_entries)
    assert {c.apic_id: n.pxm for n in m.nodes for c in n.cpus} == node
    order = []
    for e in [e for e in srat_entries if e.type in (0, 2)] + [e for e in srat_entries if e.type == 1]:
        pxm = e.fields["proximity_domain_lo"] if e.type == 0 else e.fields["proximity_domain"]
        if e.fields["flags"] & 1 and pxm not in order:
            order.append(pxm)
    assert [n.pxm for n in sorted(m.nodes, key=lambda n: n.id)][:len(order)] == order
    described = {c.apic_id: c for n in m.nodes for c in n.cpus}
    described.update({c.apic_id: c for c in m.unaffined_cpus})
    d = m.distance_matrix()
    for x in m.nodes:
        for y in m.nodes:
            if x.pxm < len(rows) and y.pxm < len(rows):
                assert d[(x.id, y.id)] == rows[x.pxm][y.pxm]
    madt_ids = {e.fields.get("apic_id", e.fields.get("x2apic_id")) for e in madt_entries if e.type in (0, 9)}
    assert {i for i, c in described.items() if c.enabled and i in madt_ids} == present


def test_the_boot_simulator_counts_cpus_without_srat_affinity():
    """MADT CPUs that no SRAT entry places are still possible CPUs (prefill_possible_map)."""
    from fwc_plugins.boot.sim import simulate

    import fwc

    text = '''machine "m" {
        node 0 { cpus 0-1  memory 0 size 640K  memory 1M size 2047M }
        node 1 { cpus 2-3  memory 4G size 2G }
        cpus 4-5
        kernel at 16M size 52M
        cmdline "nokaslr"
    }'''
    r = fwc.Fwc().load(text=text, name="<t>")
    assert r.machine is not None, r.render_diagnostics()
    b = simulate(r.machine)
    assert "smpboot: Allowing 6 CPUs, 0 hotplug CPUs" in b.dmesg
    assert any(ln.startswith("setup_percpu: NR_CPUS:8192 nr_cpumask_bits:6 nr_cpu_ids:6 ") for ln in b.dmesg)
