"""Linux 6.1 x86_64 early boot, simulated: e820 -> memblock -> SRAT -> NUMA -> zones.

Follows shared/spec/kernel-boot.md (the rules, with their ``setup_arch`` order) and
kernel-boot-cases.md (the seed design).  ``simulate(machine, policy=...)`` returns a
:class:`Boot` holding the dmesg lines, the memblock debug log, the final memblock state,
the zone table, every kernel allocation with its purpose, and the pinned hotplug nodes.

Policies:

* ``upstream`` -- Linux 6.1: bottom-up allocation under ``movable_node`` until the SRAT is
  parsed, hotplug flags on memblock.memory, kernel nodes cleared in
  ``numa_clear_kernel_node_hotplug``, ZONE_MOVABLE from the ``movable_node`` branch.
* ``seed`` -- the 2013 patch set (``movablecore=acpi``): the SRAT (or its initrd override)
  is parsed right after memblock is filled; the hotpluggable ranges of every node the kernel
  does not reside in (no early default reservation in it) are *reserved* in memblock, so no
  early allocation can use them; they become ZONE_MOVABLE and are freed after memory init.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from fwc import boards

from . import firmware as fwmod
from fwc_plugins.initrd.upgrade import KERNEL_REJECTION

from .memblock import DEBIAN_X86_64, HOTPLUG, MIRROR, NUMA_NO_NODE, Memblock

MiB, GiB = 1 << 20, 1 << 30
PAGE = 4096
MAX_NUMNODES = 1024
SECTION_PAGES = 1 << 15           # 128 MiB
MAX_ORDER_PAGES = 1024            # 4 MiB
DMA_PFN, DMA32_PFN = 0x1000, 0x100000
PGDAT_SIZE = 0x2B000              # roundup(sizeof(pg_data_t), PAGE_SIZE), Debian 6.1 (observed)
KERNEL_TEXT = 0x1000000           # Debian's pref_address with nokaslr
KERNEL_RESERVE = 0x3400000        # __end_of_kernel_reserve - _text (kernel-boot.md §4.1)
BRK_USED = 0x10000                # INIT_PGT_BUF_SIZE (16 pages, 5-level + RANDOMIZE_MEMORY); DMI copies ignored
BRK_SIZE = 0x30000                # _end - __end_of_kernel_reserve
PGT_BUF_PAGES = 16
REALMODE_SIZE = 0x6000            # page-aligned real-mode blob (approximate; lands in [0, 1M) anyway)
BIOS_START = 0x9F000              # reserve_bios_regions() with SeaBIOS's BDA (639 KiB -> clamped)
ZONES = ("DMA", "DMA32", "Normal", "Movable", "Device")
MAX_ARCH_PFN = 0x10000000000      # 5-level paging (observed under QEMU -cpu max)
PHYS_MAX = (1 << 64) - 1


def pfn_up(x):
    return (x + PAGE - 1) >> 12


def pfn_down(x):
    return x >> 12


def roundup(x, a):
    return (x + a - 1) // a * a


class Alloc(NamedTuple):
    purpose: str
    base: int
    size: int
    stage: str       # "early" (before the kernel-node mask) or "late"
    permanent: bool


def parse_size(s: str) -> int | None:
    """memparse(): a number with an optional K/M/G/T/P/E suffix."""
    s = s.strip()
    mult = {"k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}
    shift = mult.get(s[-1:].lower(), 0)
    body = s[:-1] if shift else s
    try:
        v = int(body, 0)
    except ValueError:
        return None
    return v << shift


class Options(NamedTuple):
    movable_node: bool = False
    kernelcore: int = 0          # pages
    kernelcore_pct: int = 0
    movablecore: int = 0
    movablecore_pct: int = 0
    mirror: bool = False
    mem: int = 0
    numa_off: bool = False
    acpi_off: bool = False
    nokaslr: bool = False
    movablecore_acpi: bool = False


def parse_cmdline(cmdline: str) -> Options:
    o = dict(Options()._asdict())
    for w in cmdline.split():
        k, eq, v = w.partition("=")
        if k == "movable_node":
            o["movable_node"] = True
        elif k == "nokaslr":
            o["nokaslr"] = True
        elif k in ("kernelcore", "movablecore") and eq:
            if v == "mirror" and k == "kernelcore":
                o["mirror"] = True
            elif v == "acpi" and k == "movablecore":
                o["movablecore_acpi"] = True
            elif v.endswith("%"):
                try:
                    pct = int(v[:-1])
                except ValueError:
                    continue
                if 0 <= pct <= 100:
                    o[k + "_pct"] = pct
            else:
                n = parse_size(v)
                if n is not None:
                    o[k] = n >> 12
                    o[k + "_pct"] = 0
        elif k == "mem" and eq:
            n = parse_size(v)
            if n:
                o["mem"] = n
        elif k == "numa" and v == "off":
            o["numa_off"] = True
        elif k == "acpi" and v == "off":
            o["acpi_off"] = True
    return Options(**o)


def fmt_e820(b, e, t, prefix="BIOS-e820"):
    return f"{prefix}: [mem {b:#018x}-{e - 1:#018x}] {fwmod.TYPE_NAMES.get(t, f'type {t}')}"


def hex10(x):
    return f"{x:#010x}"


class Boot:
    """The result of one simulated boot (see module doc)."""

    def __init__(self):
        self.dmesg: list[str] = []
        self.log: list[str] = []
        self.allocs: list[Alloc] = []
        self.notes: list[str] = []
        self.nodes = {}          # nid -> dict
        self.zones = []          # (nid, zone, start_pfn, spanned, present)
        self.zmp = {}
        self.pins = []           # (nid, reason, [Alloc])
        self.acpi_tables = {}    # signature -> bytes of the table Linux reads (after the initrd upgrade)
        self.hotplug_nodes = {}  # nid -> bytes of hotpluggable boot RAM per the SRAT used
        self.movable_pages = {}  # nid -> pages in ZONE_MOVABLE
        self.memblock = None
        self.kernel_nodes = set()
        self.policy = "upstream"


class _Sim:
    def __init__(self, m, policy, cmdline, dsdt_size=None):
        self.m = m
        self.policy = policy
        self.cmdline = cmdline
        self.o = parse_cmdline(cmdline)
        self.b = Boot()
        self.b.policy = policy
        self.fw = fwmod.build(m, dsdt_size=dsdt_size)
        self.b.notes += self.fw.notes
        self.mb = Memblock(DEBIAN_X86_64, debug=self.b.log.append)
        self.stage = "early"

    # ---- logging helpers
    def p(self, line):
        self.b.dmesg.append(line)

    def note(self, line):
        self.b.log.append("# " + line)

    def reserve(self, base, size, purpose, permanent=True):
        self.mb.caller = purpose
        self.mb.reserve(base, size)
        self.b.allocs.append(Alloc(purpose, base, size, self.stage, permanent))

    def alloc(self, fn, purpose, size, *args, permanent=True, **kw):
        self.mb.caller = purpose
        if fn == "phys_alloc_try_nid":
            align, nid = args
            self.b.log.append("memblock_phys_alloc_try_nid: %d bytes align=0x%x nid=%d %s"
                              % (size, align, nid, purpose))
        addr = getattr(self.mb, fn)(size, *args, **kw)
        if addr:
            self.b.allocs.append(Alloc(purpose, addr, size, self.stage, permanent))
        else:
            self.note(f"allocation failed: {purpose} ({size:#x} bytes)")
        return addr

    # ------------------------------------------------------------------
    def run(self) -> Boot:
        m, o, mb, b = self.m, self.o, self.mb, self.b
        self.p(f"Command line: {self.cmdline}")
        # 1. early_reserve_memory()
        kbase, ksize = (m.kernel.base, m.kernel.size) if m.kernel else (KERNEL_TEXT, KERNEL_RESERVE)
        self.kernel = (kbase, ksize)
        self.kernel_end = kbase + ksize + BRK_SIZE
        self.note("early_reserve_memory()")
        self.reserve(kbase, ksize, "kernel image (_text..__end_of_kernel_reserve)")
        self.reserve(0, 0x10000, "low 64K (early_reserve_memory)")
        self.initrd = self.fw.initrd
        if self.initrd:
            ib, isz = self.initrd
            self.reserve(ib, roundup(ib + isz, PAGE) - ib, "initrd (early_reserve_initrd)", permanent=False)
        self.reserve(BIOS_START, 0x100000 - BIOS_START, "BIOS regions (reserve_bios_regions)")
        # 2. e820__memory_setup()
        self.p("BIOS-provided physical RAM map:")
        e820 = list(self.fw.e820)
        for bb, ee, t in e820:
            self.p(fmt_e820(bb, ee, t))
        # 3. parse_early_param()
        if o.mem:
            self.p(f"e820: remove [mem {hex10(o.mem)}-{PHYS_MAX - 1:#010x}] usable")
            e820 = self._e820_remove(e820, o.mem, PHYS_MAX, fwmod.RAM)
        if o.movable_node:
            mb.movable_node = True
            mb.set_bottom_up(True)
            self.note("movable_node: memblock_set_bottom_up(true)")
        if o.mirror:
            mb.mirrored_kernelcore = True
        if o.mem:
            self.p("user-defined physical RAM map:")
            for bb, ee, t in e820:
                self.p(fmt_e820(bb, ee, t, "user"))
        # 6. trim_bios_range()
        self.p("e820: update [mem 0x00000000-0x00000fff] usable ==> reserved")
        if any(t == fwmod.RAM and bb < PAGE for bb, ee, t in e820):
            e820 = fwmod.sanitize(e820 + [(0, PAGE, fwmod.RESERVED)])
        self.p("e820: remove [mem 0x000a0000-0x000fffff] usable")
        e820 = self._e820_remove(e820, 0xA0000, 0x100000, fwmod.RAM)
        self.e820 = e820
        # 7. max_pfn
        ram = [(bb, ee) for bb, ee, t in e820 if t == fwmod.RAM]
        self.max_pfn = min(max((pfn_down(ee) for _, ee in ram), default=0), MAX_ARCH_PFN)
        self.p(f"last_pfn = {self.max_pfn:#x} max_arch_pfn = {MAX_ARCH_PFN:#x}")
        if self.max_pfn > DMA32_PFN:
            low = max((pfn_down(min(ee, 1 << 32)) for bb, ee in ram if bb < (1 << 32)), default=0)
            self.p(f"last_pfn = {low:#x} max_arch_pfn = {MAX_ARCH_PFN:#x}")
        # 9. reserve_brk()
        self.reserve(kbase + ksize, BRK_USED, "brk (reserve_brk: early page-table buffer)")
        # 10. e820__memblock_setup()
        mb.set_current_limit(0x100000)
        mb.allow_resize()
        self.note("e820__memblock_setup()")
        mb.caller = "e820__memblock_setup"
        for bb, ee, t in e820:
            if t == fwmod.RAM:
                mb.add(bb, ee - bb)
        mb.trim_memory(PAGE)
        self.log_dump("end of e820__memblock_setup")
        # 11. kernelcore=mirror: EFI's mirror map, here the description's 'mirror' ranges
        if o.mirror:
            for n in m.nodes:
                for r in n.boot_memory:
                    if r.mirror:
                        mb.mark_mirror(r.base, r.size)
        self.srat = self._choose_srat_early() if self.policy == "seed" else None
        if self.policy == "seed":
            self._seed_reserve_hotplug()
        # 13. reserve_real_mode()
        self.alloc("phys_alloc_range", "real-mode trampoline (reserve_real_mode)", REALMODE_SIZE, PAGE, 0, 0x100000)
        self.reserve(0, 0x100000, "low 1M (reserve_real_mode)")
        # 14. init_mem_mapping()
        self.init_mem_mapping()
        mb.set_current_limit(self.max_pfn_mapped << 12)
        # 17. reserve_initrd()
        if self.initrd:
            ib, isz = self.initrd
            self.p(f"RAMDISK: [mem {hex10(ib)}-{hex10(roundup(ib + isz, PAGE) - 1)}]")
        # 18-20. ACPI table upgrade, table list, reservations
        self.acpi_tables()
        # 21. initmem_init()
        self.numa_init()
        self.stage = "late"
        # 22. memblock_find_dma_reserve()
        self.dma_reserve = self._dma_reserve()
        # 23. paging_init(): sparse_init(), free_area_init()
        self.sparse_init()
        self.free_area_init()
        self.cpu_lines()
        self.zonelists()
        self.p(f"Kernel command line: {self.cmdline}")
        # memblock_free_all(): upstream clears all hotplug flags; the seed frees its reservations
        self.note("memblock_free_all()")
        if self.policy == "seed":
            for base, size in self.seed_reserved:
                mb.caller = "seed: free hotpluggable range after memory init"
                mb.phys_free(base, size)
        mb.clear_hotplug(0, PHYS_MAX)
        self.pins()
        self.hot_add_dimms()
        b.memblock = mb
        return b

    def hot_add_dimms(self):
        """After boot: cold-plugged DIMMs come in through ACPI memory devices (qemu.md §4) and are
        onlined per ``memhp_default_state`` (default: offline), block by block, with the
        kernel's default_zone_for_pfn(); zones grow to span them."""
        b = self.b
        state = ""
        for w in self.cmdline.split():
            if w.startswith("memhp_default_state="):
                state = w.partition("=")[2]
        zones = {nid: [list(z) for z in zi] for nid, zi in self.zone_info.items()}
        b.dimm_online = []
        for n in self.m.nodes:
            for r in n.dimms:
                nid = self.pxm2nid.get(n.id, n.id)
                if state not in ("online", "online_movable", "online_kernel"):
                    b.dimm_online.append((nid, r.base, r.size, "offline"))
                    continue
                zi = zones.setdefault(nid, [[0, 0, 0] for _ in range(5)])
                pfn, end = r.base >> 12, r.end >> 12
                while pfn < end:
                    nr = min(SECTION_PAGES, end - pfn)

                    def inter(z):
                        s, sp, _ = zi[z]
                        return sp and s < pfn + nr and pfn < s + sp

                    kz = next((z for z in (0, 1, 2) if inter(z)), 2)
                    if state == "online_movable":
                        z = 3
                    elif state == "online_kernel":
                        z = kz
                    else:
                        ik, im = inter(kz), inter(3)
                        z = (kz if ik else 3) if ik != im else (3 if self.o.movable_node else kz)
                    s, sp, pr = zi[z]
                    if not sp:
                        zi[z] = [pfn, nr, pr + nr]
                    else:
                        lo, hi = min(s, pfn), max(s + sp, pfn + nr)
                        zi[z] = [lo, hi - lo, pr + nr]
                    pfn += nr
                b.dimm_online.append((nid, r.base, r.size, state))
        b.zones_final = [(nid, ZONES[z], s, sp, pr) for nid in sorted(zones) for z, (s, sp, pr) in enumerate(zones[nid])
                         if pr]

    # ------------------------------------------------------------------
    def _e820_remove(self, e820, start, end, typ):
        out = []
        for bb, ee, t in e820:
            if t != typ or ee <= start or bb >= end:
                out.append((bb, ee, t))
                continue
            if bb < start:
                out.append((bb, start, t))
            if ee > end:
                out.append((end, ee, t))
        return out

    def log_dump(self, why):
        self.note(why)
        self.b.log.extend(self.mb.dump_all().split("\n"))

    # ------------------------------------------------------------------
    # direct mapping (arch/x86/mm/init.c), kernel-boot.md §4.4
    def init_mem_mapping(self):
        mb = self.mb
        self.note("init_mem_mapping()")
        self.tables = set()              # ("p4d", idx) ("pud", idx) ("pmd", GiB) ("pte", 2MiB)
        self.pgt_used = 0
        self.pgt_top = self.kernel[0] + self.kernel[1] + PGT_BUF_PAGES * PAGE
        self.pgt_base = self.kernel[0] + self.kernel[1]
        self.can_use_brk = True
        self.min_pfn_mapped = 0
        self.max_pfn_mapped = 0
        self.max_low_pfn_mapped = 0
        self.pgt_pages = []
        end = self.max_pfn << 12
        self.init_memory_mapping(0, 0x100000)
        if mb.bottom_up:
            self.memory_map_bottom_up(self.kernel_end, end)
            self.memory_map_bottom_up(0x100000, self.kernel_end)
        else:
            self.memory_map_top_down(0x100000, end)

    def _mem_ranges(self):
        t = self.mb.memory
        return [(pfn_up(bb) << 12, pfn_down(ee) << 12) for bb, ee in zip(t.B, t.E) if pfn_up(bb) < pfn_down(ee)]

    def init_range_memory_mapping(self, r_start, r_end):
        mapped = 0
        for s, e in self._mem_ranges():
            s, e = min(max(s, r_start), r_end), min(max(e, r_start), r_end)
            if s >= e:
                continue
            brk_end = self.pgt_base + self.pgt_used * PAGE
            self.can_use_brk = max(s, brk_end) >= min(e, self.pgt_top)
            self.init_memory_mapping(s, e)
            mapped += e - s
            self.can_use_brk = True
        return mapped

    def memory_map_top_down(self, start, end):
        mb = self.mb
        mb.caller = "init_mem_mapping probe (memory_map_top_down)"
        addr = mb.phys_alloc_range(2 * MiB, 2 * MiB, start, end)
        if addr:
            mb.phys_free(addr, 2 * MiB)
            real_end = addr + 2 * MiB
        else:
            real_end = end
        step = 2 * MiB
        mapped = 0
        self.max_pfn_mapped = 0
        self.min_pfn_mapped = real_end >> 12
        last = real_end
        while last > start:
            if last > step:
                s = max((last - 1) // step * step, start)
            else:
                s = start
            mapped += self.init_range_memory_mapping(s, last)
            last = s
            self.min_pfn_mapped = last >> 12
            if mapped >= step:
                step <<= 8
        if real_end < end:
            self.init_range_memory_mapping(real_end, end)

    def memory_map_bottom_up(self, start, end):
        step = 2 * MiB
        mapped = 0
        self.min_pfn_mapped = start >> 12
        while start < end:
            if step and end - start > step:
                nxt = min(roundup(start + 1, step), end)
            else:
                nxt = end
            mapped += self.init_range_memory_mapping(start, nxt)
            start = nxt
            if mapped >= step:
                step <<= 8

    def init_memory_mapping(self, start, end):
        # split_mem_range() with 1 GiB pages: 4K head, 2M, 1G, 2M, 4K tail
        need = []
        pieces = []
        s2 = min(roundup(start, 2 * MiB), end)
        if start < s2:
            pieces.append((start, s2, "4k"))
        g0 = min(roundup(s2, GiB), end // (2 * MiB) * (2 * MiB))
        if s2 < g0:
            pieces.append((s2, g0, "2m"))
        g1 = end // GiB * GiB
        if g0 < g1 and g0 % GiB == 0:
            pieces.append((g0, g1, "1g"))
            cur = g1
        else:
            cur = max(g0, s2)
        e2 = end // (2 * MiB) * (2 * MiB)
        if cur < e2:
            pieces.append((cur, e2, "2m"))
            cur = e2
        if cur < end:
            pieces.append((cur, end, "4k"))
        for ps, pe, kind in pieces:
            for top in range(ps >> 48, ((pe - 1) >> 48) + 1):
                need.append(("p4d", top))
            for pud in range(ps >> 39, ((pe - 1) >> 39) + 1):
                need.append(("pud", pud))
            if kind in ("2m", "4k"):
                for g in range(ps >> 30, ((pe - 1) >> 30) + 1):
                    need.append(("pmd", g))
            if kind == "4k":
                for t in range(ps >> 21, ((pe - 1) >> 21) + 1):
                    need.append(("pte", t))
        for key in need:
            if key in self.tables:
                continue
            self.tables.add(key)
            self.alloc_low_page(key)
        self.max_pfn_mapped = max(self.max_pfn_mapped, end >> 12)
        if start < (1 << 32):
            self.max_low_pfn_mapped = max(self.max_low_pfn_mapped, min(end, 1 << 32) >> 12)

    def alloc_low_page(self, key):
        if self.pgt_used + 1 > PGT_BUF_PAGES or not self.can_use_brk:
            addr = 0
            if self.min_pfn_mapped < self.max_pfn_mapped:
                addr = self.alloc("phys_alloc_range", f"direct-map page table ({key[0]}) (alloc_low_pages)",
                                  PAGE, PAGE, self.min_pfn_mapped << 12, self.max_pfn_mapped << 12)
            if not addr:
                self.note(f"page table {key} from brk (extend_brk)")
            else:
                self.pgt_pages.append(addr)
        else:
            self.pgt_used += 1

    # ------------------------------------------------------------------
    # ACPI: table upgrade (§4.5), table list, reservations
    def acpi_tables(self):
        mb, fw = self.mb, self.fw
        self.used_tables = {}      # signature -> bytes of the first table of that signature
        if self.o.acpi_off:
            return
        up = fw.upgrade if self.initrd else None
        copies = {}                # outcome index -> address offset in the copy
        total = 0
        if up is not None:
            for o in up.outcomes:
                path = f"kernel/firmware/acpi/{o.name}"
                if o.fate == "rejected":
                    self.p(f"ACPI: {KERNEL_REJECTION[o.check]} [{path}]")
                elif o.fate != "ignored":
                    data = up.data(o)
                    self.p(f"ACPI: {data[:4].decode('latin-1')} ACPI table found in initrd [{path}][{len(data):#x}]")
                    copies[o.index] = total
                    total += len(data)
        self.copy_addr = 0
        if copies:
            addr = self.alloc("phys_alloc_range", "ACPI table upgrade copy (acpi_table_upgrade)", total, PAGE, 0,
                              self.max_low_pfn_mapped << 12)
            self.copy_addr = addr
            if addr:
                self.e820 = fwmod.sanitize(self.e820 + [(addr, addr + total, fwmod.NVS)])
                self.p("modified physical RAM map:")
                for bb, ee, t in self.e820:
                    self.p(fmt_e820(bb, ee, t, "modified"))
        rsdp = fw.rsdp
        if rsdp is not None:
            self.p(f"ACPI: RSDP 0x{rsdp.address:016X} {rsdp.length:06X} (v{2 if rsdp.length > 20 else 0:02d} "
                   f"{self._oem6():<6.6})")
        root = fw.root
        if root is not None:
            self.p(self._hdr_line(root.signature, root.address, root.length, 1, *self._fw_ids()))
        installed = []
        for t in fw.tables:
            addr, length, data = t.address, t.length, t.data
            o = up.override_of(t.signature) if copies else None
            if o is not None:
                cd = up.data(o)
                self.p(f"ACPI: Table Upgrade: override [{self._ids(cd)}]")
                new = self.copy_addr + copies[o.index]
                self.p(f"ACPI: {t.signature} 0x{addr:016X} Physical table override, new table: 0x{new:016X}")
                addr, length, data = new, len(cd), cd
            if data:
                self.p(self._hdr(data, addr))
            installed.append((t.signature, addr, length, data))
        for sig, addr, length, data in installed:
            self.reserve(addr, length, f"ACPI {sig} table (acpi_reserve_initial_tables)")
            self.p(f"ACPI: Reserving {sig:>4} table memory at [mem {addr:#x}-{addr + length - 1:#x}]")
        for o in (up.installed() if copies else ()):
            cd = up.data(o)
            self.p(f"ACPI: Table Upgrade: install [{self._ids(cd)}]")
            self.p(self._hdr(cd, self.copy_addr + copies[o.index]))
        for sig, addr, length, data in installed:
            if data:
                self.used_tables[sig] = data
        # the table Linux reads for each signature the archive provides: one decision, the initrd plugin's
        for o in (up.accepted() if copies else ()):
            r = up.reads(o.header.signature)
            if r is not None:
                self.used_tables[o.header.signature] = up.data(r)
        self.b.acpi_tables = dict(self.used_tables)

    def _fw_ids(self):
        if boards.is_qemu(self.m.board):
            b = boards.BOARDS[self.m.board].oem
            return b
        o = self.m.oem
        return (o.id, o.table_id, o.revision, o.creator_id, o.creator_revision)

    def _oem6(self):
        return self._fw_ids()[0][:6].ljust(6)

    @staticmethod
    def _hdr_line(sig, addr, length, rev, oem, tid, orev, cid, crev):
        return (f"ACPI: {sig:<4.4} 0x{addr:016X} {length:06X} (v{rev:02d} {oem:<6.6} {tid:<8.8} {orev:08X} "
                f"{cid:<4.4} {crev:08X})")

    def _hdr(self, d, addr):
        s = lambda a, b: d[a:b].decode("latin-1").replace("\0", " ")  # noqa: E731
        return self._hdr_line(s(0, 4), addr, len(d), d[8], s(10, 16), s(16, 24),
                              int.from_bytes(d[24:28], "little"), s(28, 32), int.from_bytes(d[32:36], "little"))

    @staticmethod
    def _ids(d):
        s = lambda a, b: d[a:b].decode("latin-1").replace("\0", " ")  # noqa: E731
        return f"{s(0, 4)}-{s(10, 16)}-{s(16, 24)}"

    # ------------------------------------------------------------------
    # SRAT / NUMA (§5, §6)
    def _decode_srat(self, data):
        """The SRAT's entries as acpi_numa_init's two passes meet them (drivers/acpi/numa/srat.c):
        ``(cpus, mems, stopped)``.  A CPU entry is ``(kind, pxm, apic_id, enabled)``; one whose
        length the kernel refuses (type 0: not 16; type 2: under 24) is ``("bad", ...)``.  A memory
        entry is ``(pxm, base, length, flags)``, or ``(None, subtable length, 0, 0)`` when it is
        shorter than 40 bytes.  ``stopped``: a zero-length subtable ended the walk
        (acpi_parse_entries_array's "Invalid zero length")."""
        from fwc_plugins.acpi import decode_table

        t, problems = decode_table(data)
        if t is None:
            return None
        cpus, mems = [], []
        rev = t.header.get("revision", 1)
        for e in t.entries:
            f = e.fields
            if f is None:  # shorter than its layout: kept as raw bytes by the decoder
                if e.type in (0, 2):
                    cpus.append(("bad", None, None, 0))
                elif e.type == 1:
                    mems.append((None, e.raw[1] if e.raw and len(e.raw) > 1 else 0, 0, 0))
            elif e.type == 0:
                if e.extra:  # acpi_numa_processor_affinity_init: length != 16
                    cpus.append(("bad", None, None, 0))
                    continue
                pxm = f["proximity_domain_lo"] | ((f["proximity_domain_hi"] << 8) if rev >= 2 else 0)
                cpus.append(("lapic", pxm, f["apic_id"], f["flags"] & 1))
            elif e.type == 2:
                cpus.append(("x2apic", f["proximity_domain"], f["apic_id"], f["flags"] & 1))
            elif e.type == 1:
                pxm = f["proximity_domain"] & (0xFF if rev <= 1 else 0xFFFFFFFF)
                mems.append((pxm, f["base_address"], f["address_length"], f["flags"]))
        stopped = any(p.code == "acpi-zero-length" for p in problems)
        return cpus, mems, stopped

    def _choose_srat_early(self):
        """Seed design: the SRAT to be used (initrd override or firmware), found early."""
        fw = self.fw
        srat = next((t.data for t in fw.tables if t.signature == "SRAT"), None)
        up = fw.upgrade if self.initrd else None
        r = up.reads("SRAT") if up is not None else None
        return up.data(r) if r is not None else srat

    def _seed_reserve_hotplug(self):
        mb = self.mb
        self.seed_reserved = []
        if self.srat is None or self.o.acpi_off or self.o.numa_off:
            return
        dec = self._decode_srat(self.srat)
        if dec is None:
            return
        _, mems, stopped = dec
        if stopped or any(kind == "bad" for kind, *_ in dec[0]) or any(pxm is None for pxm, *_ in mems):
            return  # a bad SRAT: Linux does not use it
        ranges = {}
        for pxm, base, ln, flags in mems:
            if flags & 1 and ln:
                ranges.setdefault(pxm, []).append((base, base + ln, bool(flags & 2)))
        res = mb.reserved.regions()
        self.note("seed: parse SRAT memory affinity early; reserve hotpluggable ranges of nodes the kernel "
                  "does not reside in")
        for pxm, rs in ranges.items():
            resides = any(r.base < e and r.base + r.size > b for b, e, _ in rs for r in res)
            for b, e, hp in rs:
                if not hp:
                    continue
                if resides:
                    self.note(f"seed: PXM {pxm} [mem {b:#x}-{e - 1:#x}] not reserved: the kernel resides in this node")
                    continue
                # only the RAM part matters (memblock.memory)
                for mbase, mend in zip(mb.memory.B, mb.memory.E):
                    s, t = max(b, mbase), min(e, mend)
                    if s < t:
                        mb.caller = "seed: reserve hotpluggable memory (memblock_reserve_hotpluggable)"
                        mb.reserve(s, t - s)
                        self.seed_reserved.append((s, t - s))

    def numa_init(self):
        mb, o = self.mb, self.o
        self.note("initmem_init(): x86_numa_init()")
        self.pxm2nid = {}
        self.node_cpus = {}
        self.parsed = set()
        self.meminfo = []
        self.srat_hotplug = []    # (nid, base, end) hotpluggable SRAT ranges
        self.online = set()
        self.node_data = {}
        ok = False
        if not (o.numa_off or o.acpi_off):
            ok = self._numa_init_acpi()
        if not ok:
            self._numa_init_dummy("NUMA turned off" if o.numa_off else "No NUMA configuration found")

    def _reset_numa(self):
        mb = self.mb
        mb.caller = "numa_init"
        mb.set_node(0, PHYS_MAX, MAX_NUMNODES, "memory")
        mb.set_node(0, PHYS_MAX, MAX_NUMNODES, "reserved")
        mb.clear_hotplug(0, PHYS_MAX)
        self.pxm2nid, self.node_cpus, self.parsed, self.meminfo, self.srat_hotplug = {}, {}, set(), [], []

    def _map_pxm(self, pxm):
        if pxm not in self.pxm2nid:
            self.pxm2nid[pxm] = len(self.pxm2nid)
        return self.pxm2nid[pxm]

    def _numa_init_acpi(self):
        mb = self.mb
        self._reset_numa()
        srat = self.used_tables.get("SRAT")
        if srat is None:
            return False
        dec = self._decode_srat(srat)
        if dec is None:
            return False
        cpus, mems, stopped = dec
        bad = False
        for kind, pxm, apic, en in cpus:
            if kind == "bad":  # bad_srat(): later entries see srat_disabled()
                self.p("ACPI: SRAT: SRAT not used.")
                bad = True
                break
            if not en:
                continue
            if pxm >= 1024 or (pxm not in self.pxm2nid and len(self.pxm2nid) >= MAX_NUMNODES):
                self.p("SRAT: Too many proximity domains.")
                self.p("ACPI: SRAT: SRAT not used.")
                return False
            nid = self._map_pxm(pxm)
            self.node_cpus.setdefault(nid, []).append(apic)
            self.parsed.add(nid)
            if kind == "lapic":
                self.p(f"SRAT: PXM {pxm} -> APIC 0x{apic:02x} -> Node {nid}")
            else:
                self.p(f"SRAT: PXM {pxm} -> APIC 0x{apic:04x} -> Node {nid}")
        if stopped:
            self.p("ACPI: [SRAT:0x00] Invalid zero length")
        accepted = 0
        for pxm, base, ln, flags in ([] if bad else mems):
            if pxm is None:  # acpi_parse_memory_affinity: length < sizeof(struct acpi_srat_mem_affinity)
                self.p(f"ACPI: SRAT: Unexpected header length: {base}")
                self.p("ACPI: SRAT: SRAT not used.")
                bad = True
                break
            if not flags & 1:
                continue
            nid = self._map_pxm(pxm)
            end = base + ln
            if ln:
                self.meminfo.append([base, end, nid])
            self.parsed.add(nid)
            hp = bool(flags & 2)
            self.p(f"ACPI: SRAT: Node {nid} PXM {pxm} [mem {hex10(base)}-{hex10(end - 1)}]"
                   f"{' hotplug' if hp else ''}{' non-volatile' if flags & 4 else ''}")
            if hp:
                mb.caller = "acpi_numa_memory_affinity_init"
                mb.mark_hotplug(base, ln)
                self.note(f"memblock_mark_hotplug: [{base:#018x}-{end - 1:#018x}] SRAT hotpluggable")
                self.srat_hotplug.append((nid, base, end))
            accepted += 1
        if stopped:
            self.p("ACPI: [SRAT:0x01] Invalid zero length")
        slit = self.used_tables.get("SLIT")
        if slit is not None and accepted:
            n = int.from_bytes(slit[36:44], "little")
            cnt = max(self.pxm2nid.values(), default=-1) + 1
            ok_slit = n and len(slit) >= 44 + n * n and all(
                (slit[44 + i * n + j] == 10) if i == j else (slit[44 + i * n + j] > 10)
                for i in range(n) for j in range(n))
            if ok_slit:
                self.alloc("phys_alloc_range", "NUMA distance table (numa_alloc_distance)", cnt * cnt, PAGE, 0,
                           self.max_pfn_mapped << 12)
                self.p(f"NUMA: Initialized distance table, cnt={cnt}")
                self.slit = (n, slit)
            else:
                self.p("SLIT table looks invalid. Not used.")
        if not accepted or bad or stopped:
            return False
        mb.set_bottom_up(False)
        if not self._cleanup_meminfo():
            return False
        return self._register()

    def _cleanup_meminfo(self):
        high = self.max_pfn << 12
        mi = []
        self.reserved_meminfo = []
        MB_, ME_ = self.mb.memory.B, self.mb.memory.E
        for s, e, nid in self.meminfo:
            i = bisect_right(ME_, s)
            if not (i < len(MB_) and MB_[i] < e):
                self.reserved_meminfo.append((s, e, nid))
                continue
            if e > high:
                self.reserved_meminfo.append((high, e, nid))
                e = high
            if s < e:
                mi.append([s, e, nid])
        i = 0
        while i < len(mi):
            bi = mi[i]
            j = i + 1
            while j < len(mi):
                bj = mi[j]
                if bi[1] > bj[0] and bi[0] < bj[1]:
                    if bi[2] != bj[2]:
                        self.p(f"node {bi[2]} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] overlaps with node {bj[2]} "
                               f"[mem {hex10(bj[0])}-{hex10(bj[1] - 1)}]")
                        return False
                    self.p(f"Warning: node {bi[2]} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] overlaps with itself "
                           f"[mem {hex10(bj[0])}-{hex10(bj[1] - 1)}]")
                if bi[2] != bj[2]:
                    j += 1
                    continue
                s, e = min(bi[0], bj[0]), max(bi[1], bj[1])
                if any(bk[2] != bi[2] and s < bk[1] and e > bk[0] for bk in mi):
                    j += 1
                    continue
                self.p(f"NUMA: Node {bi[2]} [mem {hex10(bi[0])}-{hex10(bi[1] - 1)}] + [mem {hex10(bj[0])}-"
                       f"{hex10(bj[1] - 1)}] -> [mem {hex10(s)}-{hex10(e - 1)}]")
                bi[0], bi[1] = s, e
                del mi[j]
            i += 1
        self.meminfo = mi
        return True

    def _register(self):
        mb = self.mb
        mi = self.meminfo
        self.possible = set(self.parsed) | {b[2] for b in mi}
        mb.caller = "numa_register_memblks"
        for s, e, nid in mi:
            mb.set_node(s, e - s, nid, "memory")
        # numa_clear_kernel_node_hotplug()
        for s, e, nid in mi:
            mb.set_node(s, e - s, nid, "reserved")
        R = mb.reserved
        self.kernel_nodes = {n for n in R.N if n != MAX_NUMNODES}
        self.b.kernel_nodes = set(self.kernel_nodes)
        if self.policy == "upstream":
            for s, e, nid in mi:
                if nid in self.kernel_nodes:
                    mb.caller = "numa_clear_kernel_node_hotplug"
                    mb.clear_hotplug(s, e - s)
            self.note("numa_clear_kernel_node_hotplug(): kernel nodes " +
                      (",".join(map(str, sorted(self.kernel_nodes))) or "none"))
        # the reservations responsible, for pins.txt
        self.kernel_node_reasons = {}
        for a in self.b.allocs:
            for s, e, nid in mi:
                if a.base < e and a.base + a.size > s:
                    self.kernel_node_reasons.setdefault(nid, []).append(a)
        # numa_meminfo_cover_memory()
        covered = 0
        total = 0
        for b_, e_ in zip(mb.memory.B, mb.memory.E):
            total += pfn_down(e_) - pfn_up(b_)
        for s, e, nid in mi:
            for b_, e_ in zip(mb.memory.B, mb.memory.E):
                x, y = max(pfn_up(b_), pfn_up(s)), min(pfn_down(e_), pfn_down(e))
                if x < y:
                    covered += y - x
        if total - covered >= 256:
            self.p(f"NUMA: nodes only cover {covered >> 8}MB of your {total >> 8}MB e820 RAM. Not used.")
            return False
        for nid in sorted(self.possible):
            blocks = [b for b in mi if b[2] == nid]
            if not blocks:
                continue
            self.alloc_node_data(nid)
        self.log_dump("end of numa_register_memblks")
        return True

    def alloc_node_data(self, nid):
        addr = self.alloc("phys_alloc_try_nid", f"NODE_DATA({nid}) (alloc_node_data)", PGDAT_SIZE, 64, nid)
        if not addr:
            self.p(f"Cannot find {PGDAT_SIZE} bytes in any node (initial node: {nid})")
            return
        self.p(f"NODE_DATA({nid}) allocated [mem {hex10(addr)}-{hex10(addr + PGDAT_SIZE - 1)}]")
        t = self.mb.search_pfn_nid(addr >> 12)
        tnid = t[2] if t else nid
        if tnid != nid:
            self.p(f"    NODE_DATA({nid}) on node {tnid}")
        self.node_data[nid] = (addr, tnid)
        self.online.add(nid)

    def _numa_init_dummy(self, why):
        mb = self.mb
        self._reset_numa()
        mb.set_bottom_up(False)
        self.p(why)
        end = self.max_pfn << 12
        self.p(f"Faking a node at [mem {0:#018x}-{end - 1:#018x}]")
        self.meminfo = [[0, end, 0]]
        self.parsed = {0}
        self.node_cpus = {0: [c.apic_id for _, c in self.m.cpus]}
        self.srat_hotplug = []
        self.slit = None
        self._register()

    # ------------------------------------------------------------------
    def _dma_reserve(self):
        mb = self.mb
        nr = 0
        for b_, e_ in zip(mb.memory.B, mb.memory.E):
            s, e = min(pfn_up(b_), DMA_PFN), min(pfn_down(e_), DMA_PFN)
            nr += max(0, e - s)
        free = 0
        for s, e, _ in mb.free_ranges(NUMA_NO_NODE, 0):
            s, e = min(pfn_up(s), DMA_PFN), min(pfn_down(e), DMA_PFN)
            if s < e:
                free += e - s
        return nr - free

    def sparse_init(self):
        """sparse_init(): usemaps and memmap per node (vmemmap page-table pages not modelled)."""
        self.note("sparse_init()")
        secs = {}
        for s, e, nid in self.mem_pfn_ranges():
            for sec in range(s // SECTION_PAGES, (e - 1) // SECTION_PAGES + 1):
                secs.setdefault(sec, nid)
        self.present_sections = set(secs)
        order = sorted(secs)
        runs = []
        for sec in order:
            if runs and runs[-1][0] == secs[sec]:
                runs[-1][1].append(sec)
            else:
                runs.append((secs[sec], [sec]))
        for nid, ss in runs:
            pg = self.node_data.get(nid)
            if pg:
                goal = pg[0] & ~((SECTION_PAGES << 12) - 1)
                gnid = pg[1]
                a = self.alloc("alloc_try_nid", f"usemap of node {nid} (sparse_init)", 40 * len(ss), 64, goal,
                               goal + (SECTION_PAGES << 12), gnid)
                if not a:
                    self.alloc("alloc_try_nid", f"usemap of node {nid} (sparse_init)", 40 * len(ss), 64, goal, 0,
                               gnid)
            size = len(ss) * 2 * MiB
            buf = self.alloc("alloc_exact_nid_raw", f"memmap of node {nid} (sparse_buffer_init)", size, 2 * MiB,
                             16 * MiB, 0, nid)
            if not buf:
                for sec in ss:
                    self.alloc("alloc_try_nid_raw", f"memmap of node {nid} section {sec} (vmemmap_populate)",
                               2 * MiB, 2 * MiB, 16 * MiB, 0, nid)

    def mem_pfn_ranges(self, nid=None):
        t = self.mb.memory
        out = []
        for b_, e_, n in zip(t.B, t.E, t.N):
            s, e = pfn_up(b_), pfn_down(e_)
            if s < e and (nid is None or n == nid):
                out.append((s, e, n))
        return out

    # ------------------------------------------------------------------
    # zones (§7)
    def free_area_init(self):
        o, mb = self.o, self.mb
        max_zone = [min(DMA_PFN, self.max_pfn), min(DMA32_PFN, self.max_pfn), self.max_pfn, 0, 0]
        start = pfn_down(mb.start_of_dram())
        lowest, highest = [0] * 5, [0] * 5
        for z in (0, 1, 2, 4):
            end = max(max_zone[z], start)
            lowest[z], highest[z] = start, end
            start = end
        self.lowest, self.highest = lowest, highest
        movable_zone = max(z for z in (0, 1, 2) if highest[z] > lowest[z]) if any(
            highest[z] > lowest[z] for z in (0, 1, 2)) else 0
        self.movable_zone = movable_zone
        ranges = self.mem_pfn_ranges()
        zmp = self.find_zone_movable(ranges, movable_zone)
        self.zmp = zmp
        self.b.zmp = dict(zmp)
        self.p("Zone ranges:")
        for z in (0, 1, 2, 4):
            if lowest[z] == highest[z]:
                self.p(f"  {ZONES[z]:<8} empty")
            else:
                self.p(f"  {ZONES[z]:<8} [mem {lowest[z] << 12:#018x}-{(highest[z] << 12) - 1:#018x}]")
        self.p("Movable zone start for each node")
        for nid in sorted(zmp):
            if zmp[nid]:
                self.p(f"  Node {nid}: {zmp[nid] << 12:#018x}")
        self.p("Early memory node ranges")
        for s, e, nid in ranges:
            self.p(f"  node {nid:3d}: [mem {s << 12:#018x}-{(e << 12) - 1:#018x}]")
        self.zone_info = {}
        self.node_span = {}
        for nid in sorted(self.possible):
            if nid not in self.online:
                self.p(f"Initializing node {nid} as memoryless")
                self.alloc("alloc_try_nid", f"pgdat of memoryless node {nid} (free_area_init)", PGDAT_SIZE, 64, 0, 0,
                           NUMA_NO_NODE)
                self.p(f"Initmem setup node {nid} as memoryless")
                continue
            nr = [(s, e) for s, e, n in ranges if n == nid]
            if not nr:
                self.p(f"Initmem setup node {nid} as memoryless")
                self.zone_info[nid] = [(0, 0, 0)] * 5
                continue
            ns, ne = nr[0][0], max(e for _, e in nr)
            self.node_span[nid] = (ns, ne)
            self.p(f"Initmem setup node {nid} [mem {ns << 12:#018x}-{(ne << 12) - 1:#018x}]")
            zi = []
            for z in range(5):
                zs, ze = self._zone_range(nid, z, ns, ne)
                if ze < ns or zs > ne:
                    spanned = 0
                    zs2, ze2 = zs, zs
                else:
                    zs2, ze2 = max(zs, ns), min(ze, ne)
                    spanned = ze2 - zs2
                absent = self._absent(nr, zs, ze) if zs < ze else 0
                if o.mirror and zmp.get(nid):
                    for b_, e_, f in zip(mb.memory.B, mb.memory.E, mb.memory.F):
                        x = min(max(pfn_up(b_), zs), ze)
                        y = min(max(pfn_down(e_), zs), ze)
                        if z == 3 and f & MIRROR:
                            absent += y - x
                        if z == 2 and not f & MIRROR:
                            absent += y - x
                present = spanned - absent if spanned else 0
                zi.append((zs2 if spanned else 0, spanned, present))
            self.zone_info[nid] = zi
        for nid in sorted(self.zone_info):
            for z, (s, sp, pr) in enumerate(self.zone_info[nid]):
                if pr:
                    self.b.zones.append((nid, ZONES[z], s, sp, pr))
        self.memmap_init(ranges)

    def _zone_range(self, nid, z, ns, ne):
        lo, hi = self.lowest[z], self.highest[z]
        zs, ze = min(max(ns, lo), hi), min(max(ne, lo), hi)
        zm = self.zmp.get(nid, 0)
        if zm:
            if z == 3:
                zs, ze = zm, min(ne, self.highest[self.movable_zone])
            elif not self.o.mirror and zs < zm < ze:
                ze = zm
            elif zs >= zm:
                zs = ze
        return zs, ze

    @staticmethod
    def _absent(nr, s, e):
        cov = 0
        for a, b_ in nr:
            x, y = max(a, s), min(b_, e)
            if x < y:
                cov += y - x
        return (e - s) - cov

    def find_zone_movable(self, ranges, movable_zone):
        o, mb = self.o, self.mb
        zmp = {}
        nodes = sorted({n for _, _, n in ranges})
        totalpages = sum(e - s for s, e, _ in ranges)
        usable_nodes = len(nodes)
        if self.policy == "seed":
            # movablecore=acpi: ZONE_MOVABLE from the lowest reserved hotpluggable range per node
            for base, size in self.seed_reserved:
                t = mb.search_pfn_nid(base >> 12)
                if t:
                    nid = t[2]
                    zmp[nid] = min(zmp.get(nid) or (1 << 62), pfn_down(base))
            return self._align_zmp(zmp, ranges)
        if o.movable_node:
            for b_, f, nid in zip(mb.memory.B, mb.memory.F, mb.memory.N):
                if f & HOTPLUG:
                    zmp[nid] = min(zmp.get(nid) or (1 << 62), pfn_down(b_))
            return self._align_zmp(zmp, ranges)
        if o.mirror:
            below = False
            for b_, f, nid in zip(mb.memory.B, mb.memory.F, mb.memory.N):
                if f & MIRROR:
                    continue
                p = pfn_up(b_)
                if p < DMA32_PFN:
                    below = True
                    continue
                zmp[nid] = min(zmp.get(nid) or (1 << 62), p)
            if below:
                self.p("This configuration results in unmirrored kernel memory.")
            return self._align_zmp(zmp, ranges)
        req_k, req_m = o.kernelcore, o.movablecore
        if o.kernelcore_pct:
            req_k = totalpages * 100 * o.kernelcore_pct // 10000
        if o.movablecore_pct:
            req_m = totalpages * 100 * o.movablecore_pct // 10000
        if req_m:
            req_m = min(totalpages, roundup(req_m, MAX_ORDER_PAGES))
            req_k = max(req_k, totalpages - req_m)
        if not req_k or req_k >= totalpages:
            return {}
        usable_start = self.lowest[movable_zone]
        while True:
            kernelcore_node = req_k // usable_nodes
            for nid in nodes:
                if req_k < kernelcore_node:
                    kernelcore_node = req_k // usable_nodes
                remaining = kernelcore_node
                for s, e, n in ranges:
                    if n != nid:
                        continue
                    s = max(s, zmp.get(nid, 0))
                    if s >= e:
                        continue
                    if s < usable_start:
                        k = min(e, usable_start) - s
                        remaining -= min(k, remaining)
                        req_k -= min(k, req_k)
                        if e <= usable_start:
                            zmp[nid] = e
                            continue
                        s = usable_start
                    size = min(e - s, remaining)
                    zmp[nid] = s + size
                    req_k -= min(req_k, size)
                    remaining -= size
                    if not remaining:
                        break
            usable_nodes -= 1
            if not (usable_nodes and req_k > usable_nodes):
                break
        return self._align_zmp(zmp, ranges)

    @staticmethod
    def _align_zmp(zmp, ranges):
        out = {}
        for nid, v in zmp.items():
            v = roundup(v, MAX_ORDER_PAGES)
            ends = [e for s, e, n in ranges if n == nid]
            if ends and v < max(ends):
                out[nid] = v
        return out

    def memmap_init(self, ranges):
        hole = 0
        zone_id, last_nid, end = 0, 0, 0
        for s, e, nid in ranges:
            zi = self.zone_info.get(nid)
            if not zi:
                continue
            for z in range(5):
                zs, sp, pr = zi[z]
                if not pr:
                    continue
                ze = zs + sp
                x, y = min(max(s, zs), ze), min(max(e, zs), ze)
                zone_id = z
                if x >= y:
                    continue
                if hole < x:
                    self._unavailable(hole, x, z, nid)
                hole = y
            last_nid, end = nid, e
        end = roundup(end, SECTION_PAGES)
        if hole < end:
            self._unavailable(hole, end, zone_id, last_nid)

    def _unavailable(self, s, e, z, nid):
        cnt = 0
        sec = s // SECTION_PAGES
        while sec * SECTION_PAGES < e:
            if sec in self.present_sections:
                cnt += min(e, (sec + 1) * SECTION_PAGES) - max(s, sec * SECTION_PAGES)
            sec += 1
        if cnt:
            self.p(f"On node {nid}, zone {ZONES[z]}: {cnt} pages in unavailable ranges")

    # ------------------------------------------------------------------
    def cpu_lines(self):
        cpus = [c for _, c in self.m.cpus]
        if not cpus:
            return
        self.p("ACPI: Using ACPI (MADT) for SMP configuration information")
        n = len(cpus)
        hp = sum(1 for c in cpus if not c.enabled)
        self.p(f"smpboot: Allowing {n} CPUs, {hp} hotplug CPUs")
        nr_node_ids = max(self.possible) + 1 if self.possible else 1
        self.p(f"setup_percpu: NR_CPUS:8192 nr_cpumask_bits:{n} nr_cpu_ids:{n} nr_node_ids:{nr_node_ids}")

    def _distance(self, a, b):
        sl = getattr(self, "slit", None)
        if sl:
            n, data = sl
            inv = self._nid2pxm()
            pa, pb = inv.get(a), inv.get(b)
            if pa is not None and pb is not None and pa < n and pb < n:
                return data[44 + pa * n + pb]
        return 10 if a == b else 20

    def _nid2pxm(self):
        inv = getattr(self, "_inv_pxm", None)
        if inv is None or len(inv) != len(self.pxm2nid):
            inv = self._inv_pxm = {v: k for k, v in self.pxm2nid.items()}
        return inv

    def zonelists(self):
        """build_zonelists(): each node's fallback order.  find_next_best_node() scores the
        remaining nodes by distance (+1 below the local node, +1 with CPUs) and node_load;
        node_load only changes for nodes already taken, so within one node's loop the scores
        are fixed and the kernel's repeated minimum search is one sort (ties: lowest id)."""
        n_memory = sorted(n for n, zi in self.zone_info.items() if any(pr for _, _, pr in zi))
        has_cpu = {n for n, c in self.node_cpus.items() if c}
        node_load = {}
        orders = {}
        for local in sorted(self.possible):
            dist = {n: self._distance(local, n) for n in n_memory}
            rest = sorted((n for n in n_memory if n != local),
                          key=lambda n: ((dist[n] + (n < local) + (n in has_cpu)) * MAX_NUMNODES
                                         + node_load.get(n, 0), n))
            order = [local]
            dprev = self._distance(local, local)
            for best in rest:
                if dist[best] != dprev:
                    node_load[best] = node_load.get(best, 0) + 1
                order.append(best)
                dprev = dist[best]
            orders[local] = order
            self.p(f"Fallback order for Node {local}: " + "".join(f"{x} " for x in order))
        boot_nid = self.pxm2nid_cpu0()
        total = 0
        policy = 0
        for nid in orders.get(boot_nid, [boot_nid]):
            for z, (zs, sp, pr) in enumerate(self.zone_info.get(nid, [])):
                if not pr:
                    continue
                pages = sp
                if sp > pr + (pr >> 4):
                    pages = pr
                memmap = roundup(pages * 64, PAGE) >> 12
                free = pr - memmap if pr >= memmap else pr
                if z == 0 and free > self.dma_reserve:
                    free -= self.dma_reserve
                total += free
                if z != 3:
                    policy = max(policy, z)
        online = len(self.online | {n for n in self.possible if n in has_cpu})
        self.p(f"Built {online} zonelists, mobility grouping on.  Total pages: {total}")
        self.p(f"Policy zone: {ZONES[policy]}")

    def pxm2nid_cpu0(self):
        cpus = [c for _, c in self.m.cpus]
        if not cpus:
            return 0
        first = min((c.apic_id for c in cpus if c.enabled), default=cpus[0].apic_id)
        for nid, apics in self.node_cpus.items():
            if first in apics:
                return nid
        return 0

    # ------------------------------------------------------------------
    def pins(self):
        """The seed's problem made visible: kernel allocations in hotpluggable memory."""
        b = self.b
        hot = {}
        for nid, s, e in self.srat_hotplug:
            for x, y, _ in self.mem_pfn_ranges(nid):
                lo, hi = max(x << 12, s), min(y << 12, e)
                if lo < hi:
                    hot.setdefault(nid, []).append((lo, hi))
        b.hotplug_nodes = {n: sum(h - lo for lo, h in r) for n, r in hot.items()}
        for nid, rs in hot.items():
            ins = [a for a in b.allocs if any(a.base < h and a.base + a.size > lo for lo, h in rs)]
            zm = self.zmp.get(nid, 0)
            movable = sum(pr for z, (s, sp, pr) in enumerate(self.zone_info.get(nid, [])) if z == 3)
            b.movable_pages[nid] = movable
            hot_pages = sum((h >> 12) - (lo >> 12) for lo, h in rs)
            if self.policy == "upstream" and nid in self.kernel_nodes:
                why = [a for a in self.kernel_node_reasons.get(nid, []) if a.stage == "early"]
                b.pins.append((nid, "kernel node: reservations made before the SRAT was parsed cleared its "
                                    "hotplug flags, so none of its memory is ZONE_MOVABLE", why, ins))
            elif ins:
                b.pins.append((nid, "permanent kernel allocations in its hotpluggable memory", ins, ins))
            elif movable < hot_pages and not zm:
                reason = ("hotpluggable memory is not ZONE_MOVABLE (no movable_node)" if self.policy == "upstream"
                          else "hotpluggable memory is not ZONE_MOVABLE")
                b.pins.append((nid, reason, [], []))


def simulate(machine, *, policy: str = "upstream", cmdline: str | None = None, dsdt_size: int | None = None) -> Boot:
    """Simulate Linux 6.1's early boot of ``machine`` (``cmdline`` replaces the machine's)."""
    if policy not in ("upstream", "seed"):
        raise ValueError(f"unknown policy '{policy}' (upstream or seed)")
    sim = _Sim(machine, policy, machine.cmdline if cmdline is None else cmdline, dsdt_size)
    b = sim.run()
    b.sim = sim
    return b
