#!/bin/sh
# /init of the fwc QEMU boot oracle (busybox-static).  Prints what firmware handed the
# kernel and what the kernel decided, between marker lines on the serial console, then
# powers off.  Knobs on the kernel command line (dotted, so the kernel ignores them):
#   oracle.online=online|online_movable|online_kernel  online every offline memory block
#   oracle.tables=SRAT,SLIT,...                         dump only these /sys tables (default all)
#   oracle.sleep=N                                      sleep N seconds before printing
# NB: busybox awk's printf %x truncates to 32 bits; addresses use shell arithmetic only.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Keep asynchronous kernel messages off the console while we print.
dmesg -n 1 2>/dev/null

M=@@FWC-ORACLE
beg() { echo "$M BEGIN $*"; }
end() { echo "$M END $1"; }

online=""
tables=""
sleep_s=""
for w in $(cat /proc/cmdline); do
  case "$w" in
    oracle.online=*) online="${w#oracle.online=}" ;;
    oracle.tables=*) tables=",${w#oracle.tables=}," ;;
    oracle.sleep=*) sleep_s="${w#oracle.sleep=}" ;;
  esac
done
[ -n "$sleep_s" ] && sleep "$sleep_s"

echo "$M START"
beg info
echo "release=$(uname -r)"
echo "cmdline=$(cat /proc/cmdline)"
end info

MEM=/sys/devices/system/memory
if [ -n "$online" ]; then
  beg online "$online"
  for b in "$MEM"/memory*; do
    [ -f "$b/state" ] || continue
    if [ "$(cat "$b/state")" = offline ]; then
      if echo "$online" > "$b/state" 2>/dev/null; then r=ok; else r=failed; fi
      echo "${b##*/} $r"
    fi
  done
  end online
fi

beg dmesg
dmesg
end dmesg

beg zoneinfo
cat /proc/zoneinfo
end zoneinfo

beg meminfo
cat /proc/meminfo
end meminfo

beg nodes
N=/sys/devices/system/node
for m in online possible has_memory has_normal_memory has_cpu; do
  [ -f "$N/$m" ] && echo "$m=$(cat "$N/$m")"
done
for d in "$N"/node*; do
  [ -d "$d" ] || continue
  n=${d##*/node}
  echo "node$n cpulist=$(cat "$d/cpulist") distance=$(cat "$d/distance" | tr ' ' ',')"
  grep -E 'MemTotal|MemFree' "$d/meminfo" | sed -E 's/ +/ /g'
done
end nodes

beg memory
echo "block_size_bytes=0x$(cat "$MEM/block_size_bytes")"
echo "auto_online_blocks=$(cat "$MEM/auto_online_blocks")"
for b in "$MEM"/memory*; do
  [ -d "$b" ] || continue
  node=-1
  for l in "$b"/node*; do
    [ -e "$l" ] && node=${l##*/node}
  done
  zones=$(cat "$b/valid_zones" 2>/dev/null | tr ' ' '+')
  echo "${b##*/memory} node=$node state=$(cat "$b/state") zones=${zones:-none}"
done
end memory

beg iomem
cat /proc/iomem
end iomem

beg memmap
for e in /sys/firmware/memmap/*; do
  [ -d "$e" ] || continue
  echo "${e##*/} $(cat "$e/start") $(cat "$e/end") $(cat "$e/type")"
done
end memmap

# ACPI tables as the kernel exposes them (every top-level file; duplicates are SIG2, ...).
for f in /sys/firmware/acpi/tables/*; do
  [ -f "$f" ] || continue
  t=${f##*/}
  if [ -n "$tables" ]; then
    case "$tables" in *",$t,"*) ;; *) continue ;; esac
  fi
  beg table "$t"
  base64 "$f"
  end table
done
if [ -n "$tables" ]; then
  for t in $(echo "$tables" | tr ',' ' '); do
    [ -f "/sys/firmware/acpi/tables/$t" ] || echo "$M MISSING table $t"
  done
fi

# RSDP/RSDT/XSDT are not in sysfs: read them from /dev/mem at the addresses the kernel
# printed (firmware-reserved memory, allowed by STRICT_DEVMEM).
dmesg | sed -nE 's/.*ACPI: (RSDP|RSDT|XSDT) 0x([0-9A-Fa-f]+) ([0-9A-Fa-f]+) .*/\1 \2 \3/p' |
while read sig addr len; do
  beg memtable "$sig" "0x$addr"
  dd if=/dev/mem bs=1 skip=$((0x$addr)) count=$((0x$len)) 2>/dev/null | base64
  end memtable
done

echo "$M DONE"
sync
poweroff -f
