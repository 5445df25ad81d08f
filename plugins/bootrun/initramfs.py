"""The initramfs ``fwc boot`` gives the kernel: its own small busybox init, plus the
ACPI override archive in front and, optionally, the user's initramfs.

Layout of the initrd (``initrd.img``), in this order:

1. the override archive (``initrd`` backend; uncompressed, first: the only place Linux's
   table upgrade looks);
2. the user's initramfs (``--initrd``), padded with NULs to 4 bytes, if given;
3. fwc's own gzip-compressed archive: ``/fwc/busybox`` (Debian's busybox-static),
   ``/fwc/init`` and ``/dev/console``.  Everything lives under ``/fwc`` so it never
   replaces the user's files; the kernel starts it with ``rdinit=/fwc/init``.

Deterministic: fixed names, modes, inode numbers, mtimes; gzip with mtime 0.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct

from ..initrd import Writer

MARK = "@@FWC-BOOT"
INIT_PATH = "/fwc/init"

#: /fwc/init: prints what the kernel decided between marker lines (the whole dmesg: fwc boot
#: compares every line of the categories it models), then powers off.
#: Busybox awk's printf %x truncates to 32 bits, so nothing here does arithmetic.
INIT_SCRIPT = r"""#!/fwc/busybox sh
/fwc/busybox mkdir -p /fwc/bin /proc /sys /dev
/fwc/busybox --install -s /fwc/bin
export PATH=/fwc/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
dmesg -n 1 2>/dev/null
M=@@FWC-BOOT
echo "$M START"
echo "$M BEGIN info"
echo "release=$(uname -r)"
echo "cmdline=$(cat /proc/cmdline)"
echo "$M END info"
echo "$M BEGIN dmesg"
dmesg | sed -E 's/^\[ *[0-9]+\.[0-9]+\] ?//'
echo "$M END dmesg"
echo "$M BEGIN zoneinfo"
grep -E '^Node|^ +(spanned|present|managed) |^ +start_pfn:' /proc/zoneinfo
echo "$M END zoneinfo"
echo "$M BEGIN nodes"
for m in online possible has_memory has_normal_memory has_cpu; do
  [ -f /sys/devices/system/node/$m ] && echo "$m=$(cat /sys/devices/system/node/$m)"
done
echo "$M END nodes"
echo "$M BEGIN nodemem"
grep -h MemTotal /sys/devices/system/node/node*/meminfo
echo "$M END nodemem"
# no fork per block (a 64-node guest has hundreds): read and ${//} are shell built-ins
blocks() {
  for b in /sys/devices/system/memory/memory*; do
    [ -d "$b" ] || continue
    node=-1
    for l in "$b"/node*; do [ -e "$l" ] && node=${l##*/node}; done
    z=; read -r z 2>/dev/null < "$b/valid_zones"
    s=; read -r s < "$b/state"
    z=${z// /+}
    echo "${b##*/memory} node=$node state=$s zones=${z:-none}"
  done
}
echo "$M BEGIN memory"
echo "block_size_bytes=0x$(cat /sys/devices/system/memory/block_size_bytes)"
blocks
echo "$M END memory"
# fwc.events=1: fwc boot plays events, one 'step I ACTION ARGS' line at a time on the console
case " $(cat /proc/cmdline) " in *" fwc.events=1 "*)
  T=/dev/console
  stty -echo -icrnl <$T 2>/dev/null
  exec 3<$T
  dmesg -c >/dev/null
  echo ready > $T
  while read -r w i a rest <&3; do
    [ "$w" = done ] && break
    [ "$w" = step ] || continue
    : > /fwc/w
    set -- $rest
    case "$a" in
      write) t=$1; shift
        for n in "$@"; do
          if echo "$t" > /sys/devices/system/memory/memory$n/state 2>/dev/null; then r=ok; else r=failed; fi
          echo "$n $r" >> /fwc/w
        done ;;
      set) f=/sys/module/memory_hotplug/parameters/$1
        [ "$1" = auto_online_blocks ] && f=/sys/devices/system/memory/auto_online_blocks
        if echo "$2" > $f 2>/dev/null; then echo "set ok" >> /fwc/w; else echo "set failed" >> /fwc/w; fi ;;
      wait) st=$1; shift; k=0
        while [ $k -lt 600 ]; do
          ok=1
          for n in "$@"; do s=; read -r s 2>/dev/null < /sys/devices/system/memory/memory$n/state; [ "$s" = "$st" ] || ok=0; done
          [ $ok = 1 ] && break
          usleep 100000; k=$((k+1))
        done ;;
    esac
    echo "$M BEGIN step-$i"; cat /fwc/w; echo "$M END step-$i"
    echo "$M BEGIN step-$i-dmesg"; dmesg -c | sed -E 's/^\[ *[0-9]+\.[0-9]+\] ?//'; echo "$M END step-$i-dmesg"
    echo "$M BEGIN step-$i-zoneinfo"
    grep -E '^Node|^ +(spanned|present|managed) |^ +start_pfn:' /proc/zoneinfo
    echo "$M END step-$i-zoneinfo"
    echo "$M BEGIN step-$i-memory"; blocks; echo "$M END step-$i-memory"
    echo "ack $i" > $T
  done ;;
esac
echo "$M DONE"
sync
poweroff -f
"""


class BusyboxError(RuntimeError):
    pass


def _static_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if hdr[:4] != b"\x7fELF" or hdr[4] != 2 or hdr[5] != 1:
                return False
            phoff, = struct.unpack_from("<Q", hdr, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", hdr, 0x36)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
    except OSError:
        return False
    return all(struct.unpack_from("<I", ph, i * phentsize)[0] != 3 for i in range(phnum))  # no PT_INTERP


def find_busybox(explicit: str | None = None) -> str:
    """A statically linked busybox: ``explicit``, else Debian busybox-static's."""
    cands = [explicit] if explicit else ["/bin/busybox", "/usr/bin/busybox", shutil.which("busybox") or ""]
    for c in cands:
        if c and os.path.isfile(c) and _static_elf(c):
            return os.path.realpath(c)
    if explicit:
        raise BusyboxError(f"'{explicit}' is not a statically linked x86_64 busybox")
    raise BusyboxError("no static busybox found (install Debian's busybox-static: apt-get install busybox-static)")


def fwc_archive(busybox: str) -> bytes:
    """fwc's own part: gzip'd newc with /fwc/busybox, /fwc/init, /dev/console."""
    with open(busybox, "rb") as f:
        bb = f.read()
    w = Writer()
    w.dir("dev")
    w.chardev("dev/console", 5, 1)
    w.dir("fwc")
    w.file("fwc/busybox", bb, 0o755)
    w.file("fwc/init", INIT_SCRIPT.encode(), 0o755)
    w.dir("proc")
    w.dir("sys")
    return gzip.compress(w.getvalue(), compresslevel=9, mtime=0)


def combine(override: bytes | None, base: bytes | None, own: bytes) -> bytes:
    out = bytearray(override or b"")
    if base:
        out += base
        out += b"\0" * (-len(out) % 4)
    out += own
    return bytes(out)
