"""The qemu backend: argv for qemu-q35/qemu-pc machines, its checks, and QEMU itself as oracle.

* argv: for every golden case in tests/golden/qemu/*/case.json, fwc's argv for the same
  machine means the same to QEMU (machine type, -m, node memdevs, CPU -> node and APIC IDs,
  distances, DIMMs, front end, kernel command line);
* oracle: QEMU 7.2 is started paused with fwc's argv (oracles.qemu.inspect_layout) and its
  real ram-below-4g / ram-above-4g / device-memory window, node memory (through QEMU's own
  SRAT rules), CPUs and DIMM addresses must equal fwc's model.  Skipped when QEMU is
  unavailable, except under CI=true;
* every qemu-* check fires and stays quiet; where a check says QEMU refuses the machine,
  QEMU is asked too;
* cmdline.sh round-trips through shlex.split to argv.json;
* one boot (marker `boot`): the real kernel's SRAT lines equal the model.
"""

from __future__ import annotations

import json
import os
import shlex

import pytest

from fwc import Fwc, boards
from fwc.diagnostics import NOTE

FOUR_G, GiB, MiB = boards.FOUR_G, boards.GiB, boards.MiB


@pytest.fixture(scope="module")
def fwc():
    return Fwc()


def text_of(body: str) -> str:
    return 'machine "m" {\n' + body + "\n}\n"


def compile_qemu(fwc, body, **options):
    r = fwc.compile(text=text_of(body), backends=["qemu"],
                    options={f"qemu.{k}": v for k, v in options.items()})
    assert r.ok, r.render_diagnostics()
    argv = json.loads(r.artifact("qemu/argv.json").text)
    return r, argv


# --- the golden cases, as fwc descriptions ------------------------------------------

GOLDEN = {
    "a_q35_2node": 'board qemu-q35\nnode 0 { cpus 0-1 memory size 2G }\nnode 1 { cpus 2-3 memory size 2G }\n'
                   'cmdline "console=ttyS0 nokaslr panic=-1"',
    "b_q35_2node_dimm": 'board qemu-q35\nslots 4 maxmem 16G\nnode 0 { cpus 0-1 memory size 2G }\n'
                        'node 1 { cpus 2-3 memory size 2G dimm size 1G }\n'
                        'cmdline "console=ttyS0 nokaslr movable_node memhp_default_state=online panic=-1"',
    "c_q35_3node_slit": 'board qemu-q35\nnode 0 { cpus 0-1 memory size 1G }\nnode 1 { cpus 2-3 memory size 2G }\n'
                        'node 2 { cpus 4-5 memory size 3G }\n'
                        'distance 0 1 = 21\ndistance 0 2 = 31\ndistance 1 2 = 17\n'
                        'cmdline "console=ttyS0 nokaslr panic=-1"',
    "d_pc_2node_split": 'board qemu-pc\nnode 0 { cpus 0 memory size 1G }\nnode 1 { cpus 1 memory size 3G }\n'
                        'cmdline "console=ttyS0 nokaslr panic=-1"',
    "e_q35_memoryless": 'board qemu-q35\nslots 2 maxmem 8G\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 }\n'
                        'node 2 { dimm size 1G }\n'
                        'cmdline "console=ttyS0 nokaslr movable_node memhp_default_state=online panic=-1"',
    "f_q35_maxcpus": 'board qemu-q35\ntopology sockets 4 cores 4 threads 1\n'
                     'node 0 { cpus 0-7 memory size 2G }\nnode 1 { cpus 8-15 disabled memory size 2G }\n'
                     'cmdline "console=ttyS0 nokaslr panic=-1"',
    "h_q35_maxcpus255": 'board qemu-q35\nnode 0 { cpus 0-1  cpus 2-127 disabled  memory size 2G }\n'
                        'node 1 { cpus 128-254 disabled  memory size 2G }\n'
                        'cmdline "console=ttyS0 nokaslr panic=-1"',
}
# Refused by QEMU 7.2 under TCG (tests/golden/qemu/g_q35_x2apic): fwc must say so.
G_X2APIC = ('board qemu-q35\nnode 0 { cpus 0-1  cpus 2-143 disabled  memory size 2G }\n'
            'node 1 { cpus 144-287 disabled  memory size 2G }')

# More machines for the oracle: explicit addresses, pc splits, DIMMs with and without addr=.
EXTRA = {
    "q35_2815M_all_low": "board qemu-q35\nnode 0 { cpus 0-1 memory size 2815M }",
    "q35_2816M_split": "board qemu-q35\nnode 0 { cpus 0 memory size 1G }\nnode 1 { cpus 1 memory size 1792M }",
    "pc_3583M_all_low": "board qemu-pc\nnode 0 { cpus 0 memory size 583M }\nnode 1 { cpus 1 memory size 3000M }",
    "pc_3584M_split": "board qemu-pc\nnode 0 { cpus 0 memory size 512M }\nnode 1 { cpus 1 memory size 3G }",
    "pc_explicit": "board qemu-pc\nnode 0 { cpus 0-1 memory 0 size 640K memory 1M size 1023M }\n"
                   "node 1 { cpus 2-3 memory 1G size 2G memory 4G size 1G }",
    "example_two_node_hotplug": None,  # examples/two-node-hotplug.fwc
    "q35_cores3": "board qemu-q35\ntopology sockets 2 cores 3 threads 1\nnode 0 { cpus 0-2 memory size 1G }\n"
                  "node 1 { cpus 4-6 memory size 1G }",
    "q35_unequal_nodes": "board qemu-q35\nnode 0 { cpus 0-2 memory size 1G }\nnode 1 { cpus 3 memory size 1G }",
    "q35_3node_dimms": "board qemu-q35\nslots 4 maxmem 32G\nnode 0 { cpus 0-1 memory size 1G dimm size 512M }\n"
                       "node 1 { cpus 2-3 memory size 2G }\nnode 2 { cpus 4-5 memory size 3G dimm size 1G }\n"
                       "distance 0 1 = 21\ndistance 0 2 = 31\ndistance 1 2 = 17",
    "q35_dimm_addr": "board qemu-q35\nslots 4 maxmem 16G\n"
                     "node 0 { cpus 0-1 memory size 2G dimm size 512M at 0x1c0000000 }\n"
                     "node 1 { cpus 2-3 memory size 2G dimm size 1G }",
    "q35_memoryless_middle": "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 }\n"
                             "node 2 { cpus 2 memory size 1G }\ndistance 0 1 = 15\ndistance 1 0 = 25",
    "q35_32G_dimm": "board qemu-q35\nslots 2 maxmem 96G\nnode 0 { cpus 0-1 memory size 16G }\n"
                    "node 1 { cpus 2-3 memory size 16G dimm size 4G }",
    "pc_dimm_all_low": "board qemu-pc\nslots 1 maxmem 4G\nnode 0 { cpus 0 memory size 3G dimm size 1G }",
}


def example_text():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "examples", "two-node-hotplug.fwc"), encoding="utf-8") as f:
        return f.read()


def compile_case(fwc, name):
    if name == "boot_machine":
        return compile_qemu(fwc, BOOT_MACHINE)
    if name == "example_two_node_hotplug":
        r = fwc.compile(text=example_text(), backends=["qemu"])
        assert r.ok, r.render_diagnostics()
        return r, json.loads(r.artifact("qemu/argv.json").text)
    return compile_qemu(fwc, GOLDEN.get(name) or EXTRA[name])


# --- what an argv means to QEMU 7.2 (independent of the plugin) ---------------------

FRONTEND_ARITY = {"-nographic": 0, "-no-reboot": 0, "-nic": 1, "-serial": 1, "-monitor": 1,
                  "-kernel": 1, "-initrd": 1, "-append": 1, "-accel": 1}


def machine_part(argv):
    """argv without the binary, accelerator, front end and kernel: what inspect_layout/boot take."""
    out, i = [], 1
    while i < len(argv):
        if argv[i] in FRONTEND_ARITY:
            i += 1 + FRONTEND_ARITY[argv[i]]
            continue
        out.append(argv[i])
        i += 1
    return out


def size_of(text, default_shift=0):
    units = {"K": 10, "M": 20, "G": 30, "T": 40, "B": 0}
    if text[-1] in units:
        return int(text[:-1]) << units[text[-1]]
    return int(text) << default_shift


def opts(text):
    """'a=1,b=2,b=3' -> {'a': ['1'], 'b': ['2','3']} (repeated keys as QEMU's cpus=)."""
    out = {}
    head, *rest = text.split(",")
    parts = rest if "=" not in head else [head] + rest
    key = None
    for p in parts:
        if "=" in p:
            key, _, v = p.partition("=")
            out.setdefault(key, []).append(v)
        else:  # a continuation like cpus=0-1,... is not used by fwc
            out.setdefault(key, []).append(p)
    return head if "=" not in head else None, out


def _width(n):
    return (n - 1).bit_length() if n > 1 else 0


def semantics(argv):
    """What QEMU 7.2 makes of an argv, as comparable data."""
    pairs, flags = {}, []
    i = 1
    while i < len(argv):
        a = argv[i]
        if FRONTEND_ARITY.get(a, 1) == 0:
            flags.append(a)
            i += 1
            continue
        pairs.setdefault(a, []).append(argv[i + 1])
        i += 2
    mtype = pairs["-machine"][0].split(",")[0]
    m_head, m_opts = opts(pairs["-m"][0])
    ram = size_of(m_head, 20)
    slots = int(m_opts.get("slots", ["0"])[0])
    maxmem = size_of(m_opts["maxmem"][0], 20) if "maxmem" in m_opts else ram
    # -smp (QEMU 7.2 machine_parse_smp_config, cores preferred)
    s_head, s = opts(pairs["-smp"][0])
    cpus = int(s_head)
    maxcpus = int(s.get("maxcpus", [cpus])[0])
    threads = int(s.get("threads", [1])[0])
    sockets = int(s["sockets"][0]) if "sockets" in s else 1
    cores = int(s["cores"][0]) if "cores" in s else maxcpus // (sockets * threads)
    assert sockets * cores * threads == maxcpus

    def apic(i):
        sock, core, th = i // (cores * threads), (i // threads) % cores, i % threads
        return (sock << (_width(threads) + _width(cores))) | (core << _width(threads)) | th

    backends, dimm_backends = {}, {}
    for o in pairs.get("-object", []):
        head, kv = opts(o)
        assert head == "memory-backend-ram"
        backends[kv["id"][0]] = size_of(kv["size"][0])
    node_mem, cpu_node, dist = {}, {}, {}
    for n in pairs.get("-numa", []):
        head, kv = opts(n)
        if head == "node":
            nid = int(kv["nodeid"][0])
            node_mem[nid] = backends[kv["memdev"][0]] if "memdev" in kv else 0
            for rng in kv.get("cpus", []):
                a, _, b = rng.partition("-")
                for c in range(int(a), int(b or a) + 1):
                    cpu_node[c] = nid
        elif head == "cpu":
            for c in range(maxcpus):
                ids = {"socket-id": c // (cores * threads), "core-id": (c // threads) % cores,
                       "thread-id": c % threads}
                if all(int(kv[k][0]) == v for k, v in ids.items() if k in kv):
                    cpu_node[c] = int(kv["node-id"][0])
        elif head == "dist":
            dist[(int(kv["src"][0]), int(kv["dst"][0]))] = int(kv["val"][0])
    for (a, b), v in list(dist.items()):
        dist.setdefault((b, a), v)  # QEMU mirrors a one-way distance
    dimms = []
    for d in pairs.get("-device", []):
        head, kv = opts(d)
        if head == "pc-dimm":
            dimms.append((backends[kv["memdev"][0]], int(kv["node"][0]),
                          int(kv["addr"][0], 0) if "addr" in kv else None))
    return {
        "machine": mtype, "ram": ram, "slots": slots, "maxmem": maxmem,
        "memdevs": [node_mem[k] for k in sorted(node_mem)],
        "cpus": sorted((apic(c), cpu_node.get(c, 0), c < cpus) for c in range(maxcpus)),
        "dist": dist, "dimms": sorted(dimms, key=lambda d: (d[1], d[0])),
        "accel": pairs.get("-accel"), "cpu": pairs.get("-cpu", ["max"]),
        "frontend": (sorted(flags), pairs.get("-nic"), pairs.get("-serial"), pairs.get("-monitor")),
        "append": pairs.get("-append"),
    }


# --- (1) argv == the golden cases' argv, semantically ------------------------------

@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_argv_matches_golden_case(fwc, case):
    from oracles.qemu.golden import load_case

    golden = load_case(case)["qemu_argv"]
    _, argv = compile_case(fwc, case)
    assert argv[0] == "qemu-system-x86_64"
    assert argv[argv.index("-kernel") + 1] == "<vmlinuz>" and argv[argv.index("-initrd") + 1] == "<initrd>"
    assert semantics(argv) == semantics(golden)


def test_argv_exact_for_the_three_node_case(fwc):
    # c used the recommended -smp/-numa cpu form already: fwc's argv is the golden argv.
    from oracles.qemu.golden import load_case

    _, argv = compile_case(fwc, "c_q35_3node_slit")
    assert argv == load_case("c_q35_3node_slit")["qemu_argv"]


def test_x2apic_case_is_refused_like_qemu(fwc):
    r = fwc.compile(text=text_of(G_X2APIC), backends=["qemu"])
    assert not r.ok and not r.artifacts
    assert [d.check for d in r.errors] == ["qemu-x2apic"]
    assert "X2APIC API support" in r.errors[0].message


def test_options_and_defaults(fwc):
    body = GOLDEN["a_q35_2node"]
    _, argv = compile_qemu(fwc, body, kernel="/boot/vmlinuz", initrd="", append="quiet", qemu="/usr/bin/qemu")
    assert argv[0] == "/usr/bin/qemu" and "-initrd" not in argv
    assert argv[argv.index("-kernel") + 1] == "/boot/vmlinuz" and argv[-2:] == ["-append", "quiet"]
    assert argv[1:5] == ["-accel", "tcg", "-cpu", "max"]
    for flag in ("-nographic", "-no-reboot"):
        assert flag in argv
    assert argv[argv.index("-nic") + 1] == "none" and argv[argv.index("-serial") + 1] == "stdio"
    # no cmdline in the machine: no -append
    _, argv = compile_qemu(fwc, "board qemu-q35\nnode 0 { cpus 0 memory size 1G }")
    assert "-append" not in argv
    assert machine_part(argv) == ["-cpu", "max", "-machine", "q35", "-smp", "1,sockets=1,cores=1,threads=1",
                                  "-m", "1G", "-object", "memory-backend-ram,id=m0,size=1G",
                                  "-numa", "node,nodeid=0,memdev=m0", "-numa", "cpu,node-id=0,socket-id=0"]


def test_deterministic(fwc):
    outs = {fwc.compile(text=text_of(EXTRA["q35_3node_dimms"]), backends=["qemu"]).artifact("qemu/cmdline.sh").data
            for _ in range(3)}
    assert len(outs) == 1


def test_explicit_ranges_make_one_memdev(fwc):
    # [0, 640K) + [1M, 2G) is a 2G memdev; node 1 at 4G is the rest of pc.ram.
    r = fwc.compile(text=example_text(), backends=["qemu"])
    argv = json.loads(r.artifact("qemu/argv.json").text)
    assert "memory-backend-ram,id=m0,size=2G" in argv and "memory-backend-ram,id=m1,size=2G" in argv
    assert argv[argv.index("-m") + 1] == "4G"
    assert "dist,src=0,dst=1,val=20" in argv


def test_dimm_addr_only_where_first_fit_differs(fwc):
    _, argv = compile_case(fwc, "q35_dimm_addr")
    devs = [argv[i + 1] for i, a in enumerate(argv) if a == "-device"]
    # window [0x180000000, ...): the 512M DIMM at 0x1c0000000 needs addr=; the 1G DIMM after it
    # (model: 0x1e0000000) too, because QEMU's first fit would put it at the window base.
    assert devs == ["pc-dimm,id=d0,memdev=dimm0,node=0,addr=0x1c0000000",
                    "pc-dimm,id=d1,memdev=dimm1,node=1,addr=0x1e0000000"]
    _, argv = compile_case(fwc, "q35_3node_dimms")
    devs = [argv[i + 1] for i, a in enumerate(argv) if a == "-device"]
    assert devs == ["pc-dimm,id=d0,memdev=dimm0,node=0", "pc-dimm,id=d1,memdev=dimm1,node=2"]


def test_asymmetric_distances_give_every_direction(fwc):
    _, argv = compile_case(fwc, "q35_memoryless_middle")
    dist = [a for a in argv if a.startswith("dist,")]
    assert len(dist) == 6  # 3 nodes, asymmetric: QEMU then wants both directions of every pair
    assert "dist,src=0,dst=1,val=15" in dist and "dist,src=1,dst=0,val=25" in dist
    assert "dist,src=0,dst=2,val=20" in dist


def test_generic_board_writes_nothing_with_a_note(fwc):
    r = fwc.compile(text=text_of("node 0 { cpus 0 memory 0 size 1G }"), backends=["qemu"])
    assert r.ok and r.artifacts == []
    assert [(d.severity, d.check) for d in r.diagnostics] == [(NOTE, "qemu-board")]
    assert "qemu-q35" in r.diagnostics[0].message


# --- (4) shell line round trip ------------------------------------------------------

@pytest.mark.parametrize("case", sorted(GOLDEN) + sorted(EXTRA))
def test_shell_line_round_trips(fwc, case):
    r, argv = compile_case(fwc, case)
    line = r.artifact("qemu/cmdline.sh").text
    assert line.endswith("\n") and line.count("\n") == 1
    assert shlex.split(line) == argv


def test_shell_line_quotes_awkward_words(fwc):
    r, argv = compile_qemu(fwc, GOLDEN["a_q35_2node"], append="a='b c' $HOME \"q\" \\x;rm -rf /",
                           kernel="/path with space/bz Image")
    assert shlex.split(r.artifact("qemu/cmdline.sh").text) == argv
    assert argv[-1] == "a='b c' $HOME \"q\" \\x;rm -rf /"


# --- (3) checks ---------------------------------------------------------------------

OK2 = "board qemu-q35\nnode 0 { cpus 0-1 memory size 2G }\nnode 1 { cpus 2-3 memory size 2G }"
CHECK_CASES = {
    "qemu-cpu-numbering": (
        "board qemu-q35\nnode 0 { cpus 0,2 memory size 2G }\nnode 1 { cpus 4,6 memory size 2G }",
        OK2),
    "qemu-x2apic": (G_X2APIC, GOLDEN["h_q35_maxcpus255"]),
    "qemu-node-ids": (
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 2 { cpus 1 memory size 2G }", OK2),
    "qemu-memory-layout": (
        # q35 with 2.5G: QEMU keeps it all below 4 GiB, the description puts 512M at 4G.
        "board qemu-q35\nnode 0 { cpus 0 memory 0 size 640K memory 1M size 2047M }\n"
        "node 1 { cpus 1 memory 4G size 512M }",
        "board qemu-q35\nnode 0 { cpus 0 memory 0 size 640K memory 1M size 2047M }\n"
        "node 1 { cpus 1 memory 4G size 1G }"),
    "qemu-hotplug-memory": (
        "board qemu-q35\nslots 2\nnode 0 { cpus 0 memory size 2G }",
        "board qemu-q35\nslots 2 maxmem 8G\nnode 0 { cpus 0 memory size 2G }"),
    "qemu-pxm": (
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 pxm 4 { cpus 1 memory size 2G }",
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 pxm 4 { cpus 1 memory size 2G }\n"
        "oem revision 2\ninitrd at 1G size 8M { override srat }"),
    "qemu-hotplug-boot-ram": (
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 memory size 2G hotpluggable }",
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 memory size 2G hotpluggable }\n"
        "oem revision 2\ninitrd at 1G size 8M { override srat }\ncmdline \"nokaslr\""),
    "qemu-memory-flags": (
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 memory size 2G nonvolatile }",
        OK2),
    "qemu-initiators": (
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { initiator pci \"0000:00:02.0\" }",
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { initiator pci \"0000:00:02.0\" }\n"
        "oem revision 2\ninitrd at 1G size 8M { override srat }"),
    "qemu-socket-split": (
        "board qemu-q35\ntopology sockets 1 cores 4 threads 1\nnode 0 { cpus 0-1 memory size 2G }\n"
        "node 1 { cpus 2-3 memory size 2G }",
        "board qemu-q35\ntopology sockets 2 cores 2 threads 1\nnode 0 { cpus 0-1 memory size 2G }\n"
        "node 1 { cpus 2-3 memory size 2G }"),
    "qemu-smt": (
        "board qemu-q35\ntopology sockets 2 cores 2 threads 2\nnode 0 { cpus 0-3 memory size 1G }\n"
        "node 1 { cpus 4-7 memory size 1G }",
        "board qemu-q35\ntopology sockets 2 cores 4 threads 1\nnode 0 { cpus 0-3 memory size 1G }\n"
        "node 1 { cpus 4-7 memory size 1G }"),
    "qemu-oem": (
        "board qemu-q35\noem id \"TEST\" revision 2\nnode 0 { cpus 0 memory size 1G }",
        "board qemu-q35\noem id \"TEST\"\nnode 0 { cpus 0 memory size 1G }"),
    "qemu-kaslr": (
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 memory size 2G hotpluggable }\n"
        "oem revision 2\ninitrd at 1G size 8M { override srat }\ncmdline \"movable_node\"",
        "board qemu-q35\nnode 0 { cpus 0 memory size 2G }\nnode 1 { cpus 1 memory size 2G hotpluggable }\n"
        "oem revision 2\ninitrd at 1G size 8M { override srat }\ncmdline \"nokaslr movable_node\""),
}


def test_every_qemu_check_has_a_case(fwc):
    from fwc_plugins.qemu import CHECKS

    # Checks with a function (qemu-board, the backend's own note, is a diagnostic-only name: issue 9).
    names = {c.name for c in fwc.checks if c.name.startswith("qemu-") and c.fn is not None}
    assert names == set(CHECK_CASES) == {c[0] for c in CHECKS}
    for c in fwc.checks:
        if c.name.startswith("qemu-") and c.fn is not None:
            assert c.plugin == "qemu" and c.level in ("error", "warning")


@pytest.mark.parametrize("name", sorted(CHECK_CASES))
def test_check_fires_and_stays_quiet(fwc, name):
    bad, good = CHECK_CASES[name]
    r = fwc.check(text=text_of(bad))
    hits = [d for d in r.diagnostics if d.check == name]
    assert hits, r.render_diagnostics()
    level = fwc.checks.get(name).level
    assert all(d.severity == level for d in hits)
    assert all(d.span is not None for d in hits)
    assert all(d.notes or "QEMU" in d.message for d in hits)  # says why / what fits
    r = fwc.check(text=text_of(good))
    assert not [d for d in r.diagnostics if d.check.startswith("qemu-")], r.render_diagnostics()


def test_checks_quiet_on_all_cases_and_generic(fwc):
    for body in list(GOLDEN.values()) + [b for b in EXTRA.values() if b] + ["node 0 { cpus 0,7 memory 0 size 1G }"]:
        r = fwc.check(text=text_of(body))
        assert not [d for d in r.diagnostics if d.check.startswith("qemu-")], (body, r.render_diagnostics())
    r = fwc.check(text=example_text())
    assert not [d for d in r.diagnostics if d.check.startswith("qemu-")], r.render_diagnostics()


def test_cpu_numbering_says_what_fits(fwc):
    r = fwc.check(text=text_of("board qemu-q35\nnode 0 { cpus 0-2 memory size 2G }\nnode 1 { cpus 3-5 memory size 2G }\n"
                               "topology sockets 2 cores 3 threads 1"))
    d = [d for d in r.diagnostics if d.check == "qemu-cpu-numbering"]
    assert d and "0-2,4-6" in d[0].message
    assert any("node 1: cpus 4-6" in n for n in d[0].notes)
    r = fwc.check(text=text_of(BOOT_MACHINE.replace("cpus 4-6", "cpus 3-5")))
    assert [d.check for d in r.errors] == ["qemu-cpu-numbering"]
    # the default topology falls back to one socket per CPU when nodes differ in size
    r = fwc.check(text=text_of(EXTRA["q35_unequal_nodes"]))
    assert r.ok and not r.warnings
    # present CPUs must come first
    r = fwc.check(text=text_of("board qemu-q35\nnode 0 { cpus 0 disabled cpus 1 memory size 2G }"))
    assert [d.check for d in r.errors] == ["qemu-cpu-numbering"]


# --- QEMU itself ---------------------------------------------------------------------



def qemu_node_ranges(lay):
    """Per node, the guest-physical RAM QEMU's build_srat() assigns, from QEMU's actual
    pc.ram stacking and ram-below-4g size (cut at 640K and at the low-RAM end)."""
    below = lay.ram_below_4g.end + 1
    out = {}
    for r in lay.pc_ram:
        nid = int(r.name[1:])  # memdev ids are m<node>
        s, e = r.start, r.end + 1
        pieces = []
        if s <= 0xA0000 < e:
            pieces.append((s, 0xA0000))
            s = 0x100000
        if s < below < e:
            pieces.append((s, below))
            pieces.append((FOUR_G, FOUR_G + e - below))
        elif s >= below:
            pieces.append((FOUR_G + s - below, FOUR_G + e - below))
        else:
            pieces.append((s, e))
        out[nid] = merge([p for p in pieces if p[1] > p[0]])
    return out


def merge(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


ORACLE_CASES = sorted(GOLDEN) + sorted(EXTRA) + ["boot_machine"]


@pytest.mark.oracle
@pytest.mark.parametrize("case", ORACLE_CASES)
def test_qemu_layout_equals_model(fwc, qemu_tools, case):
    from oracles.qemu import inspect_layout

    r, argv = compile_case(fwc, case)
    m = r.machine
    lay = inspect_layout(machine_part(argv))
    boot = merge((x.base, x.end) for n in m.nodes for x in n.boot_memory)
    low = [x for x in boot if x[1] <= FOUR_G]
    high = [x for x in boot if x[0] >= FOUR_G]
    # RAM below / above 4 GiB: the model's low RAM ends where QEMU's ram-below-4g ends
    # (the 640K-1M gap is RAM in pc.ram but never in the model).
    assert (lay.ram_below_4g.start, lay.ram_below_4g.end + 1) == (0, low[-1][1])
    if high:
        assert len(high) == 1
        assert (lay.ram_above_4g.start, lay.ram_above_4g.end + 1) == high[0]
    else:
        assert lay.ram_above_4g is None
    ram = low[-1][1] + (high[0][1] - FOUR_G if high else 0)
    # the device-memory window
    if m.slots:
        base, size = boards.device_window(ram - low[-1][1], ram, m.slots, m.maxmem)
        assert (lay.device_memory.start, lay.device_memory.end + 1) == (base, base + size)
    else:
        assert lay.device_memory is None
    # node memory: QEMU's memdev stacking through its SRAT rules == the model's node ranges
    got = qemu_node_ranges(lay)
    for n in m.nodes:
        assert got.get(n.id, []) == merge((x.base, x.end) for x in n.boot_memory), f"node {n.id}"
    # info numa: node sizes (boot + plugged DIMMs), plugged DIMMs, present CPUs by index
    order = sorted(c.apic_id for n in m.nodes for c in n.cpus)
    info = {x.node: x for x in lay.nodes}
    assert sorted(info) == [n.id for n in m.nodes]
    memdev = {int(x.name[1:]): x.size for x in lay.pc_ram}
    for n in m.nodes:
        dimm = sum(d.size for d in n.dimms)
        hole = 0x60000 if {x.end for x in n.boot_memory} >= {0xA0000} and any(
            x.base == 0x100000 for x in n.boot_memory) else 0  # [640K, 1M) is in pc.ram
        assert memdev.get(n.id, 0) == sum(x.size for x in n.boot_memory) + hole, f"node {n.id} memdev"
        assert info[n.id].size_mb * MiB == memdev.get(n.id, 0) + dimm
        assert info[n.id].plugged_mb * MiB == dimm
        assert info[n.id].cpus == sorted(order.index(c.apic_id) for c in n.cpus if c.enabled)
    # DIMMs where the model put them
    assert sorted((d.addr, d.size, d.node) for d in lay.dimms) == sorted(
        (d.base, d.size, n.id) for n in m.nodes for d in n.dimms)


@pytest.mark.oracle
@pytest.mark.parametrize("body, message", [
    (CHECK_CASES["qemu-node-ids"][0], "Node ID missing: 1"),
    (CHECK_CASES["qemu-hotplug-memory"][0], "memory slots were specified but maximum memory size"),
    (G_X2APIC, "requires kernel irqchip and X2APIC API support"),
])
def test_qemu_refuses_what_the_error_checks_refuse(fwc, qemu_tools, body, message):
    """The plan's argv (printed despite the error) is refused by QEMU with the quoted message."""
    from oracles.qemu import QemuConfigError, inspect_layout

    from fwc_plugins.qemu.argv import full_argv
    from fwc_plugins.qemu.plan import plan

    r = fwc.load(text=text_of(body))
    argv = full_argv(plan(r.machine), qemu="qemu-system-x86_64", kernel="", initrd="", append="")
    with pytest.raises(QemuConfigError, match=message.replace("(", r"\(")):
        inspect_layout(machine_part(argv))


# qemu.md 9.3's machine with 3-core sockets (APIC IDs 0-2, 4-6, 8-10: QEMU's packed numbering),
# CPUs of nodes 1 and 2 possible but absent, DIMMs on nodes 0 and 2, distances.
BOOT_MACHINE = ("board qemu-q35\ntopology sockets 3 cores 3 threads 1\nslots 4 maxmem 32G\n"
                "node 0 { cpus 0-2 memory size 1G dimm size 512M }\n"
                "node 1 { cpus 4-6 disabled memory size 2G }\n"
                "node 2 { cpus 8-10 disabled memory size 3G dimm size 1G }\n"
                "distance 0 1 = 21\ndistance 0 2 = 31\ndistance 1 2 = 17\n"
                'cmdline "console=ttyS0 nokaslr"')


@pytest.mark.boot
@pytest.mark.oracle
def test_boot_srat_matches_model(fwc, qemu_tools):
    """Boot the real kernel with fwc's argv: its SRAT lines are the model's nodes, CPUs and the
    DIMM window (proximity of the last node, hotplug); distances as described."""
    from oracles.qemu import boot

    body = BOOT_MACHINE
    r, argv = compile_qemu(fwc, body)
    m = r.machine
    res = boot(machine_part(argv), cmdline=argv[argv.index("-append") + 1], timeout=240)
    got = [ln for ln in res.dmesg_lines(r"^(ACPI: )?SRAT: ")]
    want_cpu = [f"SRAT: PXM {n.pxm} -> APIC {c.apic_id:#04x} -> Node {n.id}"
                for n in m.nodes for c in sorted(n.cpus, key=lambda c: c.apic_id)]
    want_mem = [f"ACPI: SRAT: Node {n.id} PXM {n.pxm} [mem {x.base:#010x}-{x.end - 1:#010x}]"
                for n in m.nodes for x in n.boot_memory]
    base, size = boards.device_window(4 * GiB, 6 * GiB, m.slots, m.maxmem)  # -m 6G: 2G low, 4G high
    assert base == 0x200000000
    last = m.nodes[-1]
    want_mem.append(f"ACPI: SRAT: Node {last.id} PXM {last.pxm} [mem {base:#010x}-{base + size - 1:#010x}] hotplug")
    assert [ln for ln in got if "APIC" in ln] == want_cpu
    assert [ln for ln in got if "[mem" in ln] == want_mem
    rows = {ln.split()[0]: ln.split("distance=")[1] for ln in res.nodes_text.splitlines() if "distance=" in ln}
    d = m.distance_matrix()
    assert rows == {f"node{a.id}": ",".join(str(d[(a.id, b.id)]) for b in m.nodes) for a in m.nodes}


# --- the SRAT Linux reads: one answer, the initrd plugin's table-upgrade model (issue 9) ----

HOTPLUG2 = ("board qemu-q35\nnode 0 {{ cpus 0 memory size 2G }}\nnode 1 {{ cpus 1 memory size 2G hotpluggable }}\n"
            "{oem}initrd at 1G size 8M {{ {overrides} }}\ncmdline \"nokaslr movable_node\"")
SRAT_DEPENDENT = ("qemu-pxm", "qemu-hotplug-boot-ram", "qemu-memory-flags", "qemu-initiators")


def _initrd_srat(fwc, revision=2, *, bad_checksum=False):
    """This machine's SRAT with QEMU's OEM IDs (boot RAM of node 1 hotpluggable), as an
    external table file would hold it."""
    from fwc_plugins.initrd import archive_files, upgrade

    r = fwc.load(text=text_of(HOTPLUG2.format(oem="", overrides="override srat")), name="<srat>")
    (f,) = archive_files(r.machine)
    data = bytearray(upgrade.set_oem_revision(f.data, revision))
    if bad_checksum:
        data[-1] ^= 0x01
    return bytes(data)


def _qemu_checks(fwc, body):
    r = fwc.check(text=text_of(body))
    return sorted(d.check for d in r.diagnostics if d.check.startswith("qemu-")), r


def _plan_checks(fwc, body):
    """The qemu plan's problems (they are reported only on a machine without errors: a file
    Linux rejects is an initrd error, which stops the plugin checks)."""
    from fwc_plugins.qemu import cached_plan

    r = fwc.load(text=text_of(body), name="<m>")
    return sorted(p.check for p in cached_plan(r.machine).problems), r


def test_srat_file_linux_reads_counts_as_an_override(fwc, tmp_path):
    """``override "x.aml"`` holding a higher-revision SRAT with QEMU's IDs replaces QEMU's SRAT
    (Linux reads it: the simulator boots with ZONE_MOVABLE), so the qemu checks that say
    'QEMU's SRAT cannot express this' stay quiet, exactly as for ``override srat``."""
    from fwc.api import Fwc

    fwc = Fwc(read_anywhere=True)  # the table file is outside the (text) description's directory
    p = tmp_path / "file.aml"
    p.write_bytes(_initrd_srat(fwc, 2))
    got, r = _qemu_checks(fwc, HOTPLUG2.format(oem="", overrides=f'override "{p}"'))
    assert got == [], r.render_diagnostics()
    # and without nokaslr, the override's own caveat applies
    got, r = _qemu_checks(fwc, HOTPLUG2.format(oem="", overrides=f'override "{p}"').replace("nokaslr ", ""))
    assert got == ["qemu-kaslr"], r.render_diagnostics()


@pytest.mark.parametrize("how", ["same-revision", "bad-checksum", "lower-revision"])
def test_srat_file_linux_does_not_read_still_warns(fwc, tmp_path, how):
    """A file Linux rejects (bad checksum) or drops (OEM revision not above QEMU's 1): the
    guest reads QEMU's SRAT, so boot RAM is ordinary RAM and qemu-hotplug-boot-ram says so."""
    from fwc.api import Fwc

    fwc = Fwc(read_anywhere=True)  # the table file is outside the (text) description's directory
    data = {"same-revision": lambda: _initrd_srat(fwc, 1), "lower-revision": lambda: _initrd_srat(fwc, 0),
            "bad-checksum": lambda: _initrd_srat(fwc, 2, bad_checksum=True)}[how]()
    p = tmp_path / "file.aml"
    p.write_bytes(data)
    got, r = _plan_checks(fwc, HOTPLUG2.format(oem="", overrides=f'override "{p}"'))
    assert got == ["qemu-hotplug-boot-ram"], r.render_diagnostics()
    # and no qemu-kaslr: nothing overrides the SRAT
    got, r = _plan_checks(fwc, HOTPLUG2.format(oem="", overrides=f'override "{p}"').replace("nokaslr ", ""))
    assert got == ["qemu-hotplug-boot-ram"], r.render_diagnostics()
    if how != "bad-checksum":  # a warning of the initrd plugin: the qemu checks run and report it
        got, r = _qemu_checks(fwc, HOTPLUG2.format(oem="", overrides=f'override "{p}"'))
        assert got == ["qemu-hotplug-boot-ram"], r.render_diagnostics()


def test_override_srat_that_linux_drops_still_warns(fwc):
    """``override srat`` with QEMU's OEM revision (1): Linux drops it (initrd-revision), so the
    guest sees ordinary RAM -- the same answer as for a file."""
    got, r = _qemu_checks(fwc, HOTPLUG2.format(oem="", overrides="override srat"))
    assert got == ["qemu-hotplug-boot-ram"], r.render_diagnostics()
    got, r = _qemu_checks(fwc, HOTPLUG2.format(oem="", overrides="override srat revision 2"))
    assert got == [], r.render_diagnostics()


@pytest.mark.parametrize("name", SRAT_DEPENDENT)
def test_srat_dependent_checks_follow_the_upgrade_model(fwc, tmp_path, name):
    """Every check that is quiet under an SRAT override asks the initrd plugin's table-upgrade
    model: quiet when Linux reads the initrd SRAT, reported when it reads QEMU's."""
    from fwc_plugins.initrd import effective_tables

    bad = CHECK_CASES[name][0]
    for rev, reads in ((2, True), (1, False)):
        body = bad + f"\noem revision {rev}\ninitrd at 1G size 8M {{ override srat }}\ncmdline \"nokaslr\""
        r = fwc.load(text=text_of(body), name="<m>")
        assert ("SRAT" in effective_tables(r.machine)) is reads
        got, r = _qemu_checks(fwc, body)
        assert (name in got) is not reads, r.render_diagnostics()


def test_mirror_ranges_on_a_qemu_board_say_nothing_is_mirrored():
    """'mirror' is not an SRAT flag: even with an SRAT override, SeaBIOS gives Linux no EFI
    memory map, so nothing is mirrored (found by bench/fidelity.py; examples/boot-tests/mirror-ranges.fwc)."""
    import fwc

    text = ('machine "m" { board qemu-q35\noem revision 2\nnode 0 { cpus 0 memory size 2G mirror }\n'
            'node 1 { cpus 1 memory size 2G }\ninitrd at 1G size 8M { override srat }\n'
            'cmdline "nokaslr kernelcore=mirror" }')
    r = fwc.Fwc().check(text=text, name="<t>")
    msgs = [d.message for d in r.diagnostics if d.check == "qemu-memory-flags"]
    assert len(msgs) == 1 and "no EFI memory map: nothing is mirrored" in msgs[0], r.render_diagnostics()
