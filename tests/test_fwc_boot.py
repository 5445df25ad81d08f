"""``fwc boot`` without a real kernel: command line, serial-log parsing, the prediction
adapter, the comparison, QEMU's initrd placement, exit codes, and the process handling
(a fake QEMU prints a recorded serial log, or hangs until the timeout)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import stat
import sys
import textwrap
import time

import pytest

import fwc
import fwc_plugins.bootrun as bootrun_plugin
import fwc_plugins.initrd as initrd_plugin
from fwc.plugin import hookimpl
from fwc_plugins.bootrun import compare, observe, predict, run as runmod
from fwc_plugins.bootrun.initramfs import MARK, combine, fwc_archive
from fwc_plugins.initrd import cpio

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples", "boot-tests")

# Golden boot, kernel-boot-cases.md §4.1 (initrd SRAT marks node 1 hotplug, movable_node).
GOLDEN_41_DMESG = """\
[    0.000000] RAMDISK: [mem 0x7fed3000-0x7ffcffff]
[    0.004000] ACPI: Table Upgrade: override [SRAT-BOCHS -BXPC    ]
[    0.004000] ACPI: SRAT 0x000000007FFE295F Physical table override, new table: 0x0000000000100000
[    0.010000] ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]
[    0.010000] ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x7fffffff]
[    0.010000] ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x17fffffff] hotplug
[    0.010000] ACPI: SRAT: Node 1 PXM 1 [mem 0x180000000-0x57fffffff] hotplug
[    0.010000] NUMA: Node 0 [mem 0x00000000-0x0009ffff] + [mem 0x00100000-0x7fffffff] -> [mem 0x00000000-0x7fffffff]
[    0.010000] NODE_DATA(0) allocated [mem 0x7fea8000-0x7fed2fff]
[    0.010000] NODE_DATA(1) allocated [mem 0x7fe7d000-0x7fea7fff]
[    0.010000]     NODE_DATA(1) on node 0
[    0.010000] Zone ranges:
[    0.010000]   DMA      [mem 0x0000000000001000-0x0000000000ffffff]
[    0.010000]   DMA32    [mem 0x0000000001000000-0x00000000ffffffff]
[    0.010000]   Normal   [mem 0x0000000100000000-0x000000017fffffff]
[    0.010000]   Device   empty
[    0.010000] Movable zone start for each node
[    0.010000]   Node 1: 0x0000000100000000
[    0.010000] Early memory node ranges
[    0.010000]   node   0: [mem 0x0000000000001000-0x000000000009efff]
[    0.010000]   node   0: [mem 0x0000000000100000-0x000000007ffdefff]
[    0.010000]   node   1: [mem 0x0000000100000000-0x000000017fffffff]
[    0.010000] Initmem setup node 0 [mem 0x0000000000001000-0x000000007ffdefff]
"""
GOLDEN_41_ZONEINFO = """\
Node 0, zone      DMA
        spanned  4095
        present  3998
        managed  3839
  start_pfn:           1
Node 0, zone    DMA32
        spanned  520159
        present  520159
        managed  475025
  start_pfn:           4096
Node 0, zone   Normal
        spanned  0
        present  0
        managed  0
  start_pfn:           0
Node 1, zone  Movable
        spanned  524288
        present  524288
        managed  524288
  start_pfn:           1048576
"""
GOLDEN_41_ZONES = {"0 DMA": [1, 4095, 3998], "0 DMA32": [4096, 520159, 520159], "1 Movable": [1048576, 524288, 524288]}


def serial_log(dmesg=GOLDEN_41_DMESG, zoneinfo=GOLDEN_41_ZONEINFO, done=True) -> str:
    out = ["SeaBIOS (version 1.16.2)", "[    0.000000] Linux version 6.1.0-56-amd64", f"{MARK} START",
           f"{MARK} BEGIN info", "release=6.1.0-56-amd64", "cmdline=console=ttyS0 nokaslr movable_node",
           f"{MARK} END info", f"{MARK} BEGIN dmesg"]
    out += [observe.strip(ln) for ln in dmesg.splitlines()]
    out += [f"{MARK} END dmesg", f"{MARK} BEGIN zoneinfo", *zoneinfo.splitlines(), f"{MARK} END zoneinfo"]
    if done:
        out.append(f"{MARK} DONE")
    return "\r\n".join(out) + "\r\n"


# ---- parsing -------------------------------------------------------------------------------

def test_parse_serial_golden_41():
    obs, info = observe.parse_serial(serial_log())
    assert info["release"] == "6.1.0-56-amd64"
    assert obs["zones"] == GOLDEN_41_ZONES  # unpopulated zones are left out
    assert obs["movable_start"] == {"1": "0x0000000100000000"}
    assert obs["node_data"] == {"0": "[mem 0x7fea8000-0x7fed2fff]", "1": "[mem 0x7fe7d000-0x7fea7fff] on node 0"}
    assert obs["zone_ranges"]["Device"] == "empty" and len(obs["zone_ranges"]) == 4
    assert obs["early_ranges"]["0"] == ["[mem 0x0000000000001000-0x000000000009efff]",
                                        "[mem 0x0000000000100000-0x000000007ffdefff]"]
    assert obs["srat"][2] == "Node 1 PXM 1 [mem 0x100000000-0x17fffffff] hotplug"
    assert obs["table_upgrade"] == ["override [SRAT-BOCHS -BXPC    ]"]
    assert obs["ramdisk"] == "[mem 0x7fed3000-0x7ffcffff]"
    assert observe.parse_serial(serial_log(done=False))[0] is None


def test_no_movable_zone_is_an_empty_dict():
    dmesg = GOLDEN_41_DMESG.replace("[    0.010000]   Node 1: 0x0000000100000000\n", "")
    assert observe.parse_dmesg(dmesg)["movable_start"] == {}


# ---- comparison ----------------------------------------------------------------------------

def test_compare_agree_and_differ():
    real = observe.parse_serial(serial_log())[0]
    pred = json.loads(json.dumps(real))
    rows = compare.compare(pred, real)
    assert compare.agree(rows) and not any(r.differs for r in rows)
    pred["zones"]["1 Movable"] = [1048576, 524288, 524287]
    pred["movable_start"] = {}
    rows = compare.compare(pred, real)
    assert not compare.agree(rows)
    diff = [r.label for r in rows if r.differs]
    assert diff == ["Movable start node 1", "zone 1 Movable (start spanned present)"]
    text = compare.render(rows)
    marked = [ln for ln in text.splitlines() if ln.startswith("!")]
    assert len(marked) == 2 and "524287" in marked[1] and "524288" in marked[1]


def test_compare_partial_prediction():
    real = observe.parse_serial(serial_log())[0]
    pred = {"zones": dict(GOLDEN_41_ZONES)}  # a simulator that predicts zones only
    rows = compare.compare(pred, real)
    assert compare.agree(rows)
    assert all(r.predicted == "(not predicted)" for r in rows if r.key != "zones")
    assert not compare.agree(compare.compare({"srat": real["srat"]}, real))  # zones are required
    extra = dict(pred, zones=dict(GOLDEN_41_ZONES, **{"1 Normal": [1048576, 1, 1]}))
    assert not compare.agree(compare.compare(extra, real))  # a zone the kernel does not have


# ---- prediction adapter --------------------------------------------------------------------

def test_adapter_reads_dmesg_zones_and_json():
    arts = {"boot/dmesg.txt": GOLDEN_41_DMESG.encode(),
            "boot/zones.txt": b"# node zone start_pfn spanned present managed\n0 DMA 1 4095 3998 3839\n"
                              b"0 DMA32 4096 520159 520159 0\n0 Normal 0 0 0 0\n1 Movable 1048576 524288 524288 1\n"}
    obs = predict.from_artifacts(arts)
    assert obs["zones"] == GOLDEN_41_ZONES and obs["movable_start"] == {"1": "0x0000000100000000"}
    real = observe.parse_serial(serial_log())[0]
    assert compare.agree(compare.compare(obs, real))
    for zones in ([{"node": 0, "zone": "DMA", "start_pfn": 1, "spanned": 4095, "present": 3998}],
                  {"0 DMA": {"start_pfn": 1, "spanned_pages": 4095, "present_pages": 3998}},
                  {"0 DMA": [1, 4095, 3998, 3839]}):
        assert predict.from_artifacts({"boot/boot.json": json.dumps({"zones": zones}).encode()})["zones"] == \
            {"0 DMA": [1, 4095, 3998]}
    assert predict.from_artifacts({"boot/zones.txt": GOLDEN_41_ZONEINFO.encode()})["zones"] == GOLDEN_41_ZONES


@pytest.mark.parametrize("board, below_4g, size, base", [
    ("qemu-q35", 0x80000000, 1032526, 0x7FED3000),  # golden a/b/c/e/f/h: q35 -m 4G, oracle initramfs
    ("qemu-pc", 0xC0000000, 1032526, 0xBFEE3000),  # golden d: pc -m 4G
])
def test_qemu_initrd_placement(board, below_4g, size, base):
    assert predict.qemu_initrd_base(below_4g, size, board=board) == base
    bz = predict.BzImage(0x20F, 0x7FFFFFFF, 0x7F, 0x1000000, 0x3F98000)  # Debian 6.1 header values
    assert predict.qemu_initrd_base(below_4g, size, bz, board) == base
    old = bz._replace(xloadflags=0)
    assert predict.qemu_initrd_base(below_4g, size, old, board) == min(base, (0x7FFFFFFF - size) & ~4095)


# ---- command line --------------------------------------------------------------------------

def test_kernel_cmdline_adds_nokaslr_and_init():
    line, notes = runmod.kernel_cmdline("movable_node", ["kernelcore=1G rdinit=/x"])
    assert line.split() == ["movable_node", "kernelcore=1G", "nokaslr", "console=ttyS0", "panic=-1",
                            "rdinit=/fwc/init"]
    assert len(notes) == 1 and "nokaslr" in notes[0]
    line, notes = runmod.kernel_cmdline("console=ttyS0 nokaslr panic=5", [])
    assert line == "console=ttyS0 nokaslr panic=5 rdinit=/fwc/init" and notes == []


def test_initramfs_parts(tmp_path):
    bb = tmp_path / "busybox"
    bb.write_bytes(b"\x7fELF-not-really")
    own = fwc_archive(str(bb))
    assert own == fwc_archive(str(bb))  # deterministic
    import gzip

    names = [e.name for e in cpio.read(gzip.decompress(own))[0]]
    assert names == ["dev", "dev/console", "fwc", "fwc/busybox", "fwc/init", "proc", "sys"]
    acpi = cpio.tree({"kernel/firmware/acpi/srat.aml": b"S" * 40})
    img = combine(acpi, b"\x1f\x8b-user-gzip-odd", own)
    assert img.startswith(acpi) and img.endswith(own) and (len(img) - len(own)) % 4 == 0
    assert [f.name for f in cpio.scan_acpi(img)] == ["srat.aml"]


# ---- the command, with a fake QEMU ---------------------------------------------------------

def _registered(module):
    return any(ep.value == module for ep in importlib.metadata.entry_points(group="fwc.backends"))


PREDICTION = {}


class FakeBoot:
    """A stand-in boot simulator: writes PREDICTION as boot/dmesg.txt and boot/zones.txt."""

    @hookimpl
    def fwc_register_backends(self, register):
        def generate(ctx):
            PREDICTION["machine"] = ctx.machine
            ctx.emit("boot/dmesg.txt", PREDICTION["dmesg"])
            ctx.emit("boot/zones.txt", "".join(f"{k} {' '.join(map(str, v))}\n"
                                               for k, v in PREDICTION["zones"].items()))
        register("fakeboot", generate)


def make_fwc():
    plugins = [m for m, name in ((initrd_plugin, "fwc_plugins.initrd"), (bootrun_plugin, "fwc_plugins.bootrun"))
               if not _registered(name)]
    return fwc.Fwc(plugins=plugins + [FakeBoot()])


def run_boot(*argv):
    p = argparse.ArgumentParser()
    runmod.configure(p)
    return runmod.run(p.parse_args(list(argv)), make_fwc())


@pytest.fixture
def kernel(tmp_path):
    k = tmp_path / "bzImage"
    h = bytearray(0x300)
    h[0x202:0x206] = b"HdrS"
    h[0x206:0x208] = (0x20F).to_bytes(2, "little")
    h[0x22C:0x230] = (0x7FFFFFFF).to_bytes(4, "little")
    h[0x236:0x238] = (0x7F).to_bytes(2, "little")
    k.write_bytes(bytes(h))
    return str(k)


@pytest.fixture
def busybox():
    from fwc_plugins.bootrun.initramfs import BusyboxError, find_busybox

    try:
        return find_busybox()
    except BusyboxError as e:
        pytest.skip(str(e))


def fake_qemu(tmp_path, body: str) -> str:
    q = tmp_path / "qemu-system-x86_64"
    q.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    q.chmod(q.stat().st_mode | stat.S_IEXEC)
    return str(q)


def test_boot_agree_and_differ(tmp_path, kernel, busybox, capsys):
    log = tmp_path / "canned.log"
    log.write_text(serial_log())
    q = fake_qemu(tmp_path, f"""
        import sys, json
        json.dump(sys.argv, open({str(tmp_path / 'argv.json')!r}, 'w'))
        sys.stdout.write(open({str(log)!r}).read())
        """)
    PREDICTION.update(dmesg=GOLDEN_41_DMESG, zones=GOLDEN_41_ZONES)
    keep = tmp_path / "keep"
    rc = run_boot(os.path.join(EXAMPLES, "hotplug-movable.fwc"), "--kernel", kernel, "--qemu", q,
                  "--busybox", busybox, "--predictor", "fakeboot", "--keep", str(keep))
    out, err = capsys.readouterr()
    argv = json.load(open(tmp_path / "argv.json"))
    assert argv[argv.index("-append") + 1] == "console=ttyS0 nokaslr movable_node panic=-1 rdinit=/fwc/init"
    assert argv[argv.index("-kernel") + 1] == kernel and argv[argv.index("-accel") + 1] == "tcg"
    # the fake's recorded RAMDISK line is the real oracle initramfs'; ours differs in size
    assert "RAMDISK (initrd)" in out
    assert f"serial log: {keep / 'serial.log'}" in err
    for name in ("serial.log", "initrd.img", "acpi-override.cpio", "predicted.json", "real.json", "argv.txt"):
        assert (keep / name).exists(), name
    img = (keep / "initrd.img").read_bytes()
    assert [f.name for f in cpio.scan_acpi(img)] == ["srat.aml"]
    m = PREDICTION["machine"]  # the prediction sees the machine as booted
    assert m.cmdline.endswith("rdinit=/fwc/init") and m.initrd.size == len(img)
    assert m.initrd.base == predict.qemu_initrd_base(0x80000000, len(img))
    ramdisk_differs = rc  # only the RAMDISK row may differ (different initrd sizes)
    rows = [ln for ln in out.splitlines() if ln.startswith("!")]
    assert all("RAMDISK" in r for r in rows)
    # fwc's own placement of the initrd (the fake simulator predicts no RAMDISK line) against a
    # log whose RAMDISK line is where QEMU puts this initrd
    base = predict.qemu_initrd_base(0x80000000, len(img))
    ramdisk = f"{base:#010x}-{base + ((len(img) + 4095) & ~4095) - 1:#010x}"
    PREDICTION["dmesg"] = "\n".join(ln for ln in GOLDEN_41_DMESG.splitlines() if "RAMDISK" not in ln)
    log.write_text(serial_log(dmesg=GOLDEN_41_DMESG.replace("0x7fed3000-0x7ffcffff", ramdisk)))
    rc = run_boot(os.path.join(EXAMPLES, "hotplug-movable.fwc"), "--kernel", kernel, "--qemu", q,
                  "--busybox", busybox, "--predictor", "fakeboot")
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "prediction and boot agree" in out and ramdisk_differs in (0, 1)
    tmp_serial = err.split("serial log: ")[1].split()[0]
    assert os.path.exists(tmp_serial) and not os.path.exists(os.path.join(os.path.dirname(tmp_serial),
                                                                           "initrd.img"))
    # a prediction that differs: exit 1 with the row marked
    PREDICTION["zones"] = dict(GOLDEN_41_ZONES, **{"1 Movable": [1048576, 524288, 1]})
    rc = run_boot(os.path.join(EXAMPLES, "hotplug-movable.fwc"), "--kernel", kernel, "--qemu", q,
                  "--busybox", busybox, "--predictor", "fakeboot")
    out, _ = capsys.readouterr()
    assert rc == 4 and [ln.split()[1] for ln in out.splitlines() if ln.startswith("!")] == ["zone"]


def test_boot_timeout_kills_everything(tmp_path, kernel, busybox, capsys):
    pidfile = tmp_path / "child.pid"
    q = fake_qemu(tmp_path, f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        print("SeaBIOS", flush=True)
        time.sleep(300)
        """)
    t0 = time.monotonic()
    rc = run_boot(os.path.join(EXAMPLES, "kernelcore.fwc"), "--kernel", kernel, "--qemu", q, "--busybox", busybox,
                  "--timeout", "2", "--predictor", "fakeboot")
    _, err = capsys.readouterr()
    assert rc == runmod.EXIT_NO_ANSWER and time.monotonic() - t0 < 30
    assert "did not finish within --timeout 2 s" in err and "the guest's last line: SeaBIOS" in err
    assert "exit status None" not in err and "full serial log: " in err
    pid = int(pidfile.read_text())
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)  # the grandchild must be gone (killed with the process group)
            time.sleep(0.1)
            try:
                if open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                    raise ProcessLookupError
            except FileNotFoundError:
                raise ProcessLookupError from None


def test_boot_no_output_and_usage(tmp_path, kernel, busybox, capsys):
    q = fake_qemu(tmp_path, "print('Kernel panic - not syncing: VFS')\n")
    rc = run_boot(os.path.join(EXAMPLES, "kernelcore.fwc"), "--kernel", kernel, "--qemu", q, "--busybox", busybox)
    assert rc == runmod.EXIT_NO_ANSWER and "printed no result" in capsys.readouterr().err
    ex = os.path.join(EXAMPLES, "kernelcore.fwc")
    assert run_boot(ex, "--kernel", str(tmp_path / "nope"), "--qemu", q) == 2
    assert run_boot(ex, "--kernel", kernel, "--qemu", str(tmp_path / "no-qemu")) == runmod.EXIT_ENVIRONMENT
    assert "apt-get install qemu-system-x86" in capsys.readouterr().err
    notbz = tmp_path / "notbz"
    notbz.write_bytes(b"\0" * 4096)
    assert run_boot(ex, "--kernel", str(notbz), "--qemu", q) == runmod.EXIT_ENVIRONMENT
    generic = tmp_path / "g.fwc"
    generic.write_text('machine "g" { node 0 { cpus 0 memory 0 size 1G } }\n')
    assert run_boot(str(generic), "--kernel", kernel, "--qemu", q, "--busybox", busybox) == 1
    bad = tmp_path / "bad.fwc"
    bad.write_text('machine "b" { board qemu-q35 node 0 { cpus 0 memory size 1G } node 0 { } }\n')
    assert run_boot(str(bad), "--kernel", kernel, "--qemu", q, "--busybox", busybox) == 1
    # no predictor registered under that name: the boot still runs, the comparison cannot
    log = tmp_path / "canned.log"
    log.write_text(serial_log())
    q2 = fake_qemu(tmp_path, f"import sys; sys.stdout.write(open({str(log)!r}).read())\n")
    capsys.readouterr()
    assert run_boot(ex, "--kernel", kernel, "--qemu", q2, "--busybox", busybox, "--predictor", "nothing") == runmod.EXIT_NO_ANSWER
    assert "no 'nothing' backend" in capsys.readouterr().err
    assert run_boot(ex, "--kernel", kernel, "--qemu", q2, "--busybox", busybox, "--no-predict") == 0


def test_command_is_registered():
    f = make_fwc()
    assert "boot" in f.host.commands


# ---- the prediction reads boot.json through the boot plugin's typed reader ------------------

JSON_ONLY = {}


class JsonOnlyBoot:
    """A stand-in simulator whose only output is JSON_ONLY["doc"] as boot/boot.json."""

    @hookimpl
    def fwc_register_backends(self, register):
        register("jsononly", lambda ctx: ctx.emit("boot/boot.json", JSON_ONLY["doc"]))


def test_prediction_from_a_boot_report_alone():
    f = fwc.Fwc(plugins=[JsonOnlyBoot()])
    path = os.path.join(EXAMPLES, "hotplug-movable.fwc")
    full = f.compile(path, backends=["boot"])
    arts = {a.path: a.data for a in full.artifacts}
    JSON_ONLY["doc"] = arts["boot/boot.json"].decode()
    machine = f.check(path).machine
    p = predict.predict(f, machine, "jsononly")
    assert p.problem == "" and p.observation == predict.from_artifacts(arts)
    assert p.observation["zones"]["1 Movable"] and p.observation["movable_start"] == {"1": "0x0000000100000000"}
    doc = json.loads(JSON_ONLY["doc"])
    doc["schema"] = "fwc-boot/99"
    JSON_ONLY["doc"] = json.dumps(doc)
    p = predict.predict(f, machine, "jsononly")
    assert p.observation is None and "'fwc-boot/99' is not 'fwc-boot/1'" in p.problem
    del doc["schema"], doc["summary"]["zones"][0]["present"]
    JSON_ONLY["doc"] = json.dumps(doc)
    p = predict.predict(f, machine, "jsononly")
    assert p.observation is None and "summary.zones[0]: missing key 'present'" in p.problem
