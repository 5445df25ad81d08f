"""Not kernel code: the figures of one kernel *build* that the boot simulator needs, read
from the kernel package at run time.

Debian's ``System.map`` is a stub ("The real System.map is in the linux-image-…-dbg
package"), but the bzImage carries the whole vmlinux ELF (xz-compressed, its section headers
kept): :func:`read_bzimage_build` decompresses it and reads the image layout from the
sections — ``_text``/``_etext`` (.text), ``__start_rodata``/``__end_rodata`` (the end of the
read-only segment), ``_sdata``/``_edata`` (.data), ``__init_begin`` (the percpu segment's load
address) /``__init_end`` (.smp_locks), ``__smp_locks``/``__smp_locks_end``,
``__bss_start``/``__bss_stop`` (.bss), ``__end_of_kernel_reserve``/``_end`` (.brk) and the static
per-CPU size (``.data..percpu``) — and the ``config-*`` file beside it (``CONFIG_LOG_BUF_SHIFT``,
``CONFIG_LOG_CPU_MAX_BUF_SHIFT``, ``CONFIG_PAGE_EXTENSION``, ``CONFIG_NR_CPUS``).

Two figures have no section header and are measured facts of the Debian 6.1 build (a real
boot with ``memblock=debug``, docs/backends/boot.md), kept here as data beside the others:
``bss_decrypted_used`` (the used head of ``.bss..decrypted``; "Freeing unused decrypted memory"
frees the rest) and ``cpu_entry_area_pages`` (``sizeof(struct cpu_entry_area)``).

:data:`DEBIAN_6_1` is the build of ``linux-image-6.1.0-57-amd64`` 6.1.192-3 as this reader
read it; it is what ``fwc compile -b boot`` assumes when no kernel is given (the test suite
checks it against the package the QEMU oracle downloads), and ``boot.json`` records which
build a prediction used.
"""

from __future__ import annotations

import os
import re
import struct

from typing import Any

import attrs

from fwc.attrs_repr import generic_repr

__all__ = ["BUILDS", "DEBIAN_6_1", "DEBIAN_6_12", "KernelBuild", "cached_build", "read_bzimage_build"]

KERNEL_VIRT = 0xFFFFFFFF80000000   # __START_KERNEL_map: virtual - this = physical


@generic_repr
@attrs.frozen(repr=False)
class KernelBuild:
    """One kernel build's layout (physical addresses with nokaslr) and config values."""

    source: str
    text: tuple[int, int]           # _stext, _etext
    rodata: tuple[int, int]         # __start_rodata, __end_rodata
    data: tuple[int, int]           # _sdata, _edata
    init: tuple[int, int]           # __init_begin, __init_end
    smp_locks: tuple[int, int]      # __smp_locks, __smp_locks_end
    bss: tuple[int, int]            # __bss_start, __bss_stop (= __end_bss_decrypted)
    kernel_reserve_end: int         # __end_of_kernel_reserve
    end: int                        # _end
    percpu_static: int              # __per_cpu_end - __per_cpu_start
    log_buf_shift: int = 17
    log_cpu_max_buf_shift: int = 12
    page_extension: bool = True
    nr_cpus: int = 8192
    bss_decrypted_used: int = 3 * 4096   # measured: not in the section headers
    cpu_entry_area_pages: int = 59       # measured: sizeof(struct cpu_entry_area) / PAGE_SIZE

    def as_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs.asdict(self).items()}


DEBIAN_6_1 = KernelBuild(
    source="linux-image-6.1.0-57-amd64 6.1.192-3 (vmlinuz section headers and config)",
    text=(0x1000000, 0x1E01D32), rodata=(0x2000000, 0x28EB000), data=(0x2A00000, 0x2C48980),
    init=(0x3044000, 0x3306000), smp_locks=(0x3306000, 0x330F000), bss=(0x3310000, 0x4400000),
    kernel_reserve_end=0x4400000, end=0x4430000, percpu_static=0x35000)

#: Debian's 6.12 build, ``linux-image-6.12.115+deb12-amd64-unsigned`` 6.12.115-2~deb12u1, as this
#: reader read it (zstd payload); ``bss_decrypted_used`` measured on its real boot ("Freeing unused
#: decrypted memory: 2028K": 5 of the 512 pages of .bss..decrypted are used).
DEBIAN_6_12 = KernelBuild(
    source="linux-image-6.12.115+deb12-amd64-unsigned 6.12.115-2~deb12u1 (vmlinuz section headers and config)",
    text=(0x1000000, 0x2000000), rodata=(0x2000000, 0x2B71000), data=(0x2C00000, 0x2E70F80),
    init=(0x3301000, 0x372B000), smp_locks=(0x372B000, 0x3735000), bss=(0x3736000, 0x3C00000),
    kernel_reserve_end=0x3C00000, end=0x3C30000, percpu_static=0x39000, bss_decrypted_used=5 * 4096)

#: The recorded build of each kernel version fwc models (``boot.kernel=6.12`` without a bzImage).
BUILDS = {"6.1": DEBIAN_6_1, "6.12": DEBIAN_6_12}
#: The measured figures (no section header gives them) of each series' Debian build.
MEASURED = {series: {"bss_decrypted_used": b.bss_decrypted_used, "cpu_entry_area_pages": b.cpu_entry_area_pages}
            for series, b in BUILDS.items()}


def _sections(elf: bytes) -> tuple[dict[str, tuple[int, int]], list[tuple[int, int, int, int]]]:
    """{name: (address, size)} and the PT_LOAD (vaddr, paddr, memsz, flags) of an ELF64 image."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        name = elf[stroff + h[0]:elf.index(b"\0", stroff + h[0])].decode()
        out[name] = (h[3], h[5])
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    loads = []
    for i in range(phnum):
        p_type, p_flags, _, vaddr, paddr, _, memsz, _ = struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1:
            loads.append((vaddr, paddr, memsz, p_flags))
    return out, loads


def _config(path: str) -> dict[str, str]:
    out = {}
    try:
        with open(path) as f:
            for ln in f:
                m = re.match(r"(CONFIG_\w+)=(.*)", ln)
                if m:
                    out[m.group(1)] = m.group(2).strip()
    except OSError:
        pass
    return out


def read_bzimage_build(path: str) -> KernelBuild:
    """The build facts of a bzImage (its ``config-<release>`` read from the same directory when
    there).  ValueError when the image is not an xz-compressed x86_64 bzImage with an ELF inside."""
    with open(path, "rb") as f:
        img = f.read()
    if len(img) < 0x250 or img[0x202:0x206] != b"HdrS":
        raise ValueError(f"'{path}' is not an x86 bzImage")
    off = ((img[0x1F1] or 4) + 1) * 512
    po, pl = struct.unpack_from("<II", img, 0x248)
    payload = img[off + po:off + po + pl]
    if payload.startswith(b"\xfd7zXZ"):
        import lzma  # only for a bzImage: not on every boot simulation's import

        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    elif payload.startswith(b"\x28\xb5\x2f\xfd"):    # zstd (Debian's 6.12): the zstd program, no module in 3.11
        elf = _unzstd(path, payload)
    else:
        raise ValueError(f"'{path}': the kernel payload is neither xz- nor zstd-compressed")
    if elf[:4] != b"\x7fELF":
        raise ValueError(f"'{path}': no ELF image inside")
    s, loads = _sections(elf)
    phys = lambda a: a - KERNEL_VIRT  # noqa: E731
    a = lambda n: phys(s[n][0])  # noqa: E731
    e = lambda n: phys(s[n][0] + s[n][1])  # noqa: E731
    ro_end = -(-next(phys(v + m) for v, _, m, fl in loads if v == s[".text"][0]) // 4096) * 4096  # ALIGN(PAGE_SIZE)
    init_begin = next(p for v, p, _, _ in loads if v == 0)   # the percpu segment opens the init area
    cfg = _config(os.path.join(os.path.dirname(path), os.path.basename(path).replace("vmlinuz", "config")))
    kw: dict[str, Any] = {}
    for key, name in (("log_buf_shift", "CONFIG_LOG_BUF_SHIFT"), ("log_cpu_max_buf_shift", "CONFIG_LOG_CPU_MAX_BUF_SHIFT"),
                      ("nr_cpus", "CONFIG_NR_CPUS")):
        if name in cfg:
            kw[key] = int(cfg[name])
    if cfg:
        kw["page_extension"] = cfg.get("CONFIG_PAGE_EXTENSION") == "y"
    from .kernel.version import bzimage_release

    kw.update(MEASURED.get(bzimage_release(path)[1], {}))
    return KernelBuild(
        source=os.path.basename(path) + " (section headers" + (" and config)" if cfg else ")"),
        text=(a(".text"), e(".text")), rodata=(a(".rodata"), ro_end), data=(a(".data"), e(".data")),
        init=(init_begin, a(".smp_locks")), smp_locks=(a(".smp_locks"), e(".smp_locks")),
        bss=(a(".bss"), e(".bss")), kernel_reserve_end=a(".brk"), end=e(".brk"),
        percpu_static=s[".data..percpu"][1], **kw)


def _unzstd(path: str, payload: bytes) -> bytes:
    """``zstd -dc`` of a zstd payload (Debian package ``zstd``); ValueError without it."""
    import shutil
    import subprocess

    exe = shutil.which("zstd")
    if exe is None:
        raise ValueError(f"'{path}': the kernel payload is zstd-compressed and the zstd program is not installed")
    r = subprocess.run([exe, "-dc"], input=payload, capture_output=True, timeout=120)
    if r.returncode != 0 and not r.stdout:   # the payload is followed by the decompressed size: zstd may complain
        raise ValueError(f"'{path}': zstd -dc failed: {r.stderr.decode(errors='replace').strip()[-200:]}")
    return r.stdout


_CACHE: dict[tuple[str, int, float], KernelBuild] = {}


def _cache_file() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fwc", "kernel-builds.json")


def cached_build(path: str) -> KernelBuild:
    """:func:`read_bzimage_build`, read once per file version: decompressing the image takes seconds,
    so the figures are kept in memory and in ``$XDG_CACHE_HOME/fwc/kernel-builds.json``, keyed by
    the image's path, size and modification time."""
    import json

    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime)
    if key in _CACHE:
        return _CACHE[key]
    name, disk = f"{key[0]}|{key[1]}|{key[2]}|2", {}   # |2: the measured figures by series
    fields: dict[str, Any]
    try:
        with open(_cache_file()) as f:
            disk = json.load(f)
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in disk[name].items()}
        b = KernelBuild(**fields)
    except (OSError, ValueError, KeyError, TypeError):
        b = read_bzimage_build(path)
        disk = disk if isinstance(disk, dict) else {}
        disk[name] = b.as_json()
        try:
            os.makedirs(os.path.dirname(_cache_file()), exist_ok=True)
            tmp = _cache_file() + f".{os.getpid()}"
            with open(tmp, "w") as f:
                json.dump(disk, f)
            os.replace(tmp, _cache_file())
        except OSError:
            pass   # a read-only home: read the image again next time
    _CACHE[key] = b
    return b
