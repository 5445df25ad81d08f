"""The prediction side: the machine as QEMU will boot it, and an adapter over the ``boot``
backend's outputs.

The adapter only needs the backend's artifacts, read in this order (a later source only
fills the observation keys an earlier one left unknown):

* ``boot/dmesg.txt`` in Linux's message formats, read with the same parser as the real
  serial log;
* ``boot/zones.txt``: the zones, as rows ``node zone start_pfn spanned present [managed]``
  or /proc/zoneinfo text;
* ``boot/boot.json``: if it is a boot report (``"schema": "fwc-boot/1"``, or unversioned with
  ``summary`` and ``dmesg``; docs/boot-json.md), it is read with the boot plugin's typed
  reader (:func:`fwc_plugins.boot.report.from_json`): its ``dmesg`` lines and the zones
  userspace sees (:attr:`~fwc_plugins.boot.report.BootReport.final_zones`).  A report of
  another schema version, or a malformed one, is an error (:class:`BootReportError`).
  Any other JSON object is a third-party backend's own: it may add any observation key
  (see ``observe``), and give ``zones`` as a list of ``{node, zone, start_pfn, spanned,
  present}`` (or an object keyed ``"node zone"``).
"""

from __future__ import annotations

import json
import re
import struct
import time
from typing import Any, NamedTuple

from .observe import parse_dmesg, parse_zoneinfo

UINT32_MAX = 0xFFFFFFFF


class BzImage(NamedTuple):
    protocol: int
    initrd_addr_max: int
    xloadflags: int
    pref_address: int
    init_size: int
    version: str = ""   # the kernel_version string, e.g. "6.12.115+deb12-amd64 (debian-kernel@...) #1 SMP ..."

    @property
    def release(self) -> str:
        """The release, the version string's first word (``6.12.115+deb12-amd64``)."""
        return self.version.split(" ", 1)[0]

    @property
    def series(self) -> str:
        """``major.minor`` of the release (``6.12``), the name fwc's kernels go by; "" if unknown."""
        m = re.match(r"(\d+)\.(\d+)\b", self.release)
        return f"{m.group(1)}.{m.group(2)}" if m else ""


def read_bzimage(path: str) -> BzImage:
    """The boot header of an x86 bzImage (Documentation/arch/x86/boot.rst), with the
    ``kernel_version`` string the header points at (offset 0x20E, +0x200)."""
    with open(path, "rb") as f:
        h = f.read(0x270)
        if len(h) < 0x268 or h[0x202:0x206] != b"HdrS":
            raise ValueError(f"'{path}' is not an x86 bzImage (no 'HdrS' boot header)")
        protocol, = struct.unpack_from("<H", h, 0x206)
        kv, = struct.unpack_from("<H", h, 0x20E)
        version = ""
        if kv:
            f.seek(kv + 0x200)
            version = f.read(256).split(b"\0", 1)[0].decode("ascii", "replace")
    addr_max, = struct.unpack_from("<I", h, 0x22C) if protocol >= 0x203 else (0x37FFFFFF,)
    xlf, = struct.unpack_from("<H", h, 0x236) if protocol >= 0x20C else (0,)
    pref, = struct.unpack_from("<Q", h, 0x258) if protocol >= 0x20A else (0x100000,)
    init_size, = struct.unpack_from("<I", h, 0x260) if protocol >= 0x20A else (0,)
    return BzImage(protocol, addr_max, xlf, pref, init_size, version)


def qemu_initrd_base(below_4g: int, size: int, kernel: BzImage | None = None, board: str = "qemu-q35") -> int:
    """Where QEMU 7.2's -kernel loader puts an initrd of ``size`` bytes for this kernel
    (its initrd limit from the boot header; :func:`fwc.boards.qemu_initrd_base`)."""
    from fwc import boards

    if kernel is None or (kernel.protocol >= 0x20C and kernel.xloadflags & 2):
        initrd_max = UINT32_MAX  # XLF_CAN_BE_LOADED_ABOVE_4G
    elif kernel.protocol >= 0x203:
        initrd_max = kernel.initrd_addr_max
    else:
        initrd_max = 0x37FFFFFF
    return boards.qemu_initrd_base(board, below_4g, size, initrd_max)


def linuxboot_initrd_base(machine, size: int, kernel: BzImage | None = None) -> int:
    """Where ``fwc boot``'s initrd of ``size`` bytes really lands for ``machine``: QEMU's
    placement (:func:`qemu_initrd_base`), then the linuxboot_dma option ROM's move below
    SeaBIOS's usable RAM (:func:`fwc_plugins.boot.firmware.linuxboot_initrd_base`)."""
    from fwc_plugins.boot import DEBIAN_INITRD_ADDR_MAX, usable_low_end
    from fwc_plugins.boot import linuxboot_initrd_base as option_rom_initrd_base
    from fwc_plugins.qemu import cached_plan

    qbase = qemu_initrd_base(cached_plan(machine).below_4g, size, kernel, machine.board)
    if kernel is None:
        addr_max = DEBIAN_INITRD_ADDR_MAX
    else:
        addr_max = kernel.initrd_addr_max if kernel.protocol >= 0x203 else 0x37FFFFFF
    return option_rom_initrd_base(qbase, size, usable_low_end(machine), addr_max)


def machine_as_booted(machine, cmdline: str, initrd_base: int, initrd_size: int):
    """The description with what fwc boot changes: the kernel command line and where
    QEMU loads the initrd.  Where the kernel image sits (nokaslr) comes from the kernel build
    the prediction reads (``_text`` .. ``__end_of_kernel_reserve``: 0x1000000-0x4400000 for
    Debian's 6.1, 0x1000000-0x3c00000 for its 6.12) unless the description places it."""
    import attrs

    from fwc.model import Initrd

    overrides = machine.initrd.overrides if machine.initrd is not None else ()
    span = machine.initrd.span if machine.initrd is not None else None
    return attrs.evolve(machine, cmdline=cmdline,
                        initrd=Initrd(initrd_base, initrd_size, overrides=overrides, span=span))


_ZONE_ROW = re.compile(r"^\s*(?:node\s*)?(\d+)\s+(?:zone\s*)?(DMA|DMA32|Normal|Movable|Device)\s+(\d+)\s+(\d+)\s+(\d+)")


def parse_zones_txt(text: str) -> dict:
    if "Node " in text and ", zone" in text:
        return parse_zoneinfo(text)
    out = {}
    for ln in text.splitlines():
        m = _ZONE_ROW.match(ln)
        if m and int(m.group(5)) > 0:
            out[f"{m.group(1)} {m.group(2)}"] = [int(m.group(3)), int(m.group(4)), int(m.group(5))]
    return out


def _zones_from_json(z) -> dict:
    out = {}
    items = z.items() if isinstance(z, dict) else enumerate(z)
    vals: list[Any]
    for k, v in items:
        if isinstance(v, dict):
            node, zone = v.get("node"), v.get("zone") or v.get("name")
            if node is None and isinstance(k, str) and " " in k:
                node, zone = k.split()[0], k.split()[1]
            vals = [v.get("start_pfn"), v.get("spanned", v.get("spanned_pages")), v.get("present",
                                                                                      v.get("present_pages"))]
        else:
            node, zone = (k.split() if isinstance(k, str) else (None, None))
            vals = list(v)[:3]
        if node is None or zone is None or any(x is None for x in vals) or not vals[2]:
            continue
        out[f"{int(node)} {zone}"] = [int(x) for x in vals]
    return out


def from_artifacts(arts: dict[str, bytes]) -> dict:
    """An observation from the boot backend's artifacts (path -> bytes).

    Raises :class:`~fwc_plugins.boot.report.BootReportError` for a ``boot.json`` that is a
    boot report of another schema version or a malformed one."""
    obs: dict = {}
    if "boot/dmesg.txt" in arts:
        obs.update(parse_dmesg(arts["boot/dmesg.txt"].decode()))
    if "boot/zones.txt" in arts:
        obs["zones"] = parse_zones_txt(arts["boot/zones.txt"].decode())
    if "boot/boot.json" in arts:
        try:
            doc = json.loads(arts["boot/boot.json"])
        except ValueError:
            doc = None
        from fwc_plugins.boot.report import from_json, is_boot_report

        if is_boot_report(doc):
            _add_report(obs, from_json(doc))
        elif isinstance(doc, dict):
            _add_foreign(obs, doc)
    return obs


def _add_report(obs: dict, report) -> None:
    """Fill what the other artifacts left unknown from a boot report (schema fwc-boot/1)."""
    for k, v in parse_dmesg("\n".join(report.dmesg)).items():
        obs.setdefault(k, v)
    if not obs.get("zones"):
        obs["zones"] = {f"{z.node} {z.zone}": [z.start_pfn, z.spanned, z.present]
                        for z in report.final_zones if z.populated}
    obs.setdefault("movable_start", {str(n): f"{a:#018x}" for n, a in report.summary.movable_zone_start.items()})
    if report.managed:
        obs.setdefault("managed", dict(report.managed))
        total: dict[str, int] = {}
        for key, pages in report.managed.items():
            total[key.split()[0]] = total.get(key.split()[0], 0) + pages
        for n in report.online_nodes:       # online without memory (CPUs only): MemTotal 0 kB
            total.setdefault(str(n), 0)
        obs.setdefault("memtotal", {n: f"{p * 4} kB" for n, p in sorted(total.items(), key=lambda x: int(x[0]))})


def _add_foreign(obs: dict, doc: dict) -> None:
    """A third-party backend's boot.json: observation keys, zones in a few shapes."""
    if "zones" in doc and "zones" not in obs:
        z = _zones_from_json(doc["zones"])
        if z:
            obs["zones"] = z
    for k in ("srat", "node_data", "zone_ranges", "movable_start", "early_ranges", "table_upgrade"):
        if k in doc and k not in obs and isinstance(doc[k], (dict, list)):
            obs[k] = doc[k]


class Prediction(NamedTuple):
    observation: dict | None
    seconds: float
    problem: str  # why there is no observation
    diagnostics: tuple = ()


def approximations(machine) -> list[str]:
    """What the boot simulator knowingly approximates for ``machine`` (compare.py masks it):
    ``"acpi"`` when QEMU's DSDT length for it is estimated (the addresses of the tables after
    the DSDT).  (``"rsdp"``, the RSDP address alone, is not needed since SeaBIOS's F segment
    is modelled: fwc_plugins.boot.seabios.rsdp_address.)"""
    from fwc import boards

    if not boards.is_qemu(machine.board):
        return []
    from fwc_plugins.boot import dsdt_length

    return ["acpi"] if dsdt_length(machine)[1] else []


def predict(fwc, machine, backend: str = "boot", kernel: str | None = None, options: dict | None = None) -> Prediction:
    """Run the boot simulator backend on ``machine`` (in process) and read its outputs; ``kernel``: the
    bzImage booted, whose build figures and version the ``boot`` backend reads (its ``kernel``
    option); ``options``: other options of the backend (names it does not declare are left out)."""
    from fwc.plugin import BackendContext

    b = fwc.backends.get(backend)
    if b is None:
        return Prediction(None, 0.0, f"no '{backend}' backend is registered")
    opts = {k: o.default for k, o in b.options.items()}
    opts.update({k: v for k, v in (options or {}).items() if k in opts})
    if kernel and "kernel" in opts:
        opts["kernel"] = kernel
    ctx = BackendContext(b, machine, opts, fwc)
    t0 = time.perf_counter()
    try:
        b.generate(ctx)
    except Exception as e:  # noqa: BLE001 - a simulator bug is reported, not raised
        return Prediction(None, time.perf_counter() - t0, f"backend '{backend}' failed: {type(e).__name__}: {e}")
    secs = time.perf_counter() - t0
    errs = [d for d in ctx.diagnostics if d.severity == "error"]
    if errs:
        return Prediction(None, secs, f"backend '{backend}': " + "; ".join(d.message for d in errs),
                          tuple(ctx.diagnostics))
    from fwc_plugins.boot.report import BootReportError

    try:
        obs = from_artifacts({a.path: a.data for a in ctx.artifacts})
    except BootReportError as e:
        return Prediction(None, secs, f"backend '{backend}': {e}", tuple(ctx.diagnostics))
    if backend == "boot" and obs.get("lines"):
        obs["approximate"] = approximations(machine)
    if not obs.get("zones"):
        return Prediction(None, secs, f"backend '{backend}' wrote no zones (boot/zones.txt or boot/boot.json)",
                          tuple(ctx.diagnostics))
    return Prediction(obs, secs, "", tuple(ctx.diagnostics))
