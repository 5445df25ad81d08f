"""``fwc decompile`` for tables in the firmware's own entry order.

:func:`describe_listed` describes the SRAT and MADT with entry lists
(``tables { srat { … } madt { … } }``): nodes, CPUs and memory are described as Linux 6.1
reads them, and the lists give the table order, the placeholders Linux ignores and the
per-entry fields, so the description compiles back to the same bytes.

What Linux reads (acpi-tables.md §8, kernel-boot.md §5):

* SRAT processor entries count only when Enabled (``acpi_numa_processor_affinity_init``);
  disabled ones are ``placeholder cpus``, never CPUs or nodes.  Disabled memory entries are
  ``placeholder memory``.  Nodes are numbered as Linux numbers them: by first appearance of
  their proximity domain in enabled processor entries, then in enabled memory entries
  (``acpi_map_pxm_to_node``).
* MADT: an entry with APIC ID 0xFF (type 0) or 0xFFFFFFFF (type 9) is ignored
  (``acpi_parse_lapic``/``acpi_parse_x2apic``); a CPU is present when any entry for its APIC
  ID is enabled (``acpi_register_lapic`` registers only enabled entries and
  ``allocate_logical_cpuid`` maps a repeated APIC ID to the same logical CPU), so the entry
  that describes it is its first enabled one (else its first); the others are placeholders.
  CPUs without SRAT affinity are machine-level ``cpus``: Linux gives them a node itself
  (:func:`fwc.model.linux_cpu_nodes`).

An entry fwc cannot write back exactly (non-zero reserved fields, extra bytes, an entry
type fwc does not model) is kept as ``bytes`` in place.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from fwc.model import ordered_ranges
from fwc.units import UNITS, exact_size

from . import layout as L
from . import model_map as M
from .binary import Subtable, Table
from .codec import struct_codec
from .names import SratType

__all__ = ["describe_listed", "raw_subtables", "quote", "size_text", "addr_text", "oem_text"]


# --- description text (shared with .decompile)

def quote(s: str) -> str:
    """``s`` as an fwc string literal (fwc's one escaping function)."""
    from fwc.syntax import quote_string

    return quote_string(s)


def size_text(n: int) -> str:
    if n > 0:  # exact_size's unit, from the trailing zero bits (a table has thousands of these)
        zeros = (n & -n).bit_length() - 1
        for letter, shift in UNITS:
            if zeros >= shift:
                return f"{n >> shift}{letter}"
    return exact_size(n, otherwise=lambda n: f"{n:#x}" if n >= 4096 else str(n))


def addr_text(n: int) -> str:
    return size_text(n) if n % (1 << 20) == 0 and n else (f"{n:#x}" if n else "0")


def oem_text(h: Mapping) -> str:
    o = M.OEM.read(h)
    return (f'id {quote(o["id"])} table {quote(o["table_id"])} revision {o["revision"]} '
            f'creator {quote(o["creator_id"])} {o["creator_revision"]:#x}')


_SUB_HEAD = sum(f.width for f in L.SUBTABLE_HEADER)


def raw_subtables(data: bytes, layout: L.TableLayout) -> list[bytes]:
    """The bytes of each subtable of a table (as the decoder walked them)."""
    off = L.header_size(layout) + sum(f.width for f in layout.body)
    out = []
    end = min(len(data), int.from_bytes(data[4:8], "little"))
    while off + _SUB_HEAD <= end:
        n = data[off + 1]
        if n < _SUB_HEAD:
            break
        out.append(data[off:min(off + n, end)])
        off += n
    return out


def _exact(layout: L.TableLayout, st: Subtable, raw: bytes) -> bool:
    """Whether fwc writes ``st`` back as ``raw`` (no extra bytes, fields as read)."""
    s = layout.subtables.get(st.type)
    if s is None or st.fields is None or st.extra:
        return False
    try:
        return bytes((st.type, len(raw))) + struct_codec(s).pack(st.fields, s.key) == raw
    except Exception:  # noqa: BLE001 - any record fwc cannot write is kept as bytes
        return False


class _Run:
    """Consecutive entries of one kind and the same attributes, printed as one line."""

    def __init__(self, kind: str, key: tuple, words: str) -> None:
        self.kind, self.key, self.words = kind, key, words
        self.ids: list[int] = []
        self.uids: list[int] = []


class _Lines:
    def __init__(self) -> None:
        self.runs: list[_Run | str] = []

    def add(self, kind: str, key: tuple, words: str, i: int, uid: int | None = None) -> None:
        last = self.runs[-1] if self.runs else None
        if not (isinstance(last, _Run) and last.kind == kind and last.key == key):
            last = _Run(kind, key, words)
            self.runs.append(last)
        last.ids.append(i)
        if uid is not None:
            last.uids.append(uid)

    def text(self, index_uids: bool) -> list[str]:
        out: list[str] = []
        index, repeat = 0, 1
        for k, r in enumerate(self.runs):
            if isinstance(r, str):
                if r.startswith("placeholder memory") and k + 1 < len(self.runs) and self.runs[k + 1] == r:
                    repeat += 1
                    continue
                out.append(r + (f" times {repeat}" if repeat > 1 else ""))
                repeat = 1
                continue
            if r.kind == "memory":
                shown = ", ".join(f"{b:#x}" if b >= 4096 else str(b) for b in r.ids)
            elif r.kind == "its":
                shown = ", ".join(str(b) for b in r.ids)
            else:
                shown = ordered_ranges(r.ids)
            times = ""
            same = len(r.ids) > 1 and len(set(r.ids)) == 1 and len(set(r.uids)) <= 1
            if same:  # one placeholder, repeated
                shown = f"{r.ids[0]:#x}" if r.ids[0] > 0xFFFF else str(r.ids[0])
                times = f" times {len(r.ids)}"
            line = f"{r.kind} {shown}"
            if r.uids and (not index_uids or r.uids != list(range(index, index + len(r.ids)))):
                line += f" uid {r.uids[0] if same else ordered_ranges(r.uids)}"
            index += len(r.ids)
            out.append(line + r.words + times)
        return out


def describe_listed(decoded: dict[str, Table], original: dict[str, bytes], name: str,
                    header_lines: Callable[[str], list[str]], rsdp_at: str) -> str:
    """The description of ``decoded`` tables with entry lists (see the module docstring).

    ``header_lines(arch)`` gives the machine's ``arch``/``oem`` lines; ``rsdp_at`` the
    ``tables`` block's `` at ADDR`` (or "")."""
    srat, slit, madt = decoded.get("SRAT"), decoded.get("SLIT"), decoded.get("APIC")
    arch = "x86_64"
    if srat is not None and any(e.type == SratType.GICC_AFFINITY for e in srat.entries if e.fields is not None):
        arch = "arm64"
    nodes: dict[int, dict[str, Any]] = {}  # pxm -> {"cpus": [(id, words)], "lines": [...]}

    def node(pxm: int) -> dict[str, Any]:
        return nodes.setdefault(pxm, {"cpus": [], "lines": []})

    srat_lines = _Lines()
    first = srat or madt or slit
    assert first is not None
    # --- SRAT
    cpu_pxm: dict[int, int] = {}
    cpu_at: dict[int, int] = {}  # APIC ID -> index in its node's CPU list
    pxm_seen: list[int] = []  # proximity domains of enabled processor entries, in table order
    if srat is not None:
        raws = raw_subtables(original["SRAT"], L.SRAT)
        seen_mem: set[int] = set()
        late: list[tuple[int, dict]] = []  # enabled memory: nodes numbered after processor entries
        initiators_at = None
        # acpi_numa_processor_affinity_init(): set_apicid_to_node() for every enabled entry, so
        # the last enabled entry for an APIC ID gives its node; each one allocates its node
        last: dict[int, int] = {}
        for k, st in enumerate(srat.entries):
            if st.type in M.SRAT_CPU and st.fields is not None and st.fields["flags"] == 1:
                last[M.SRAT_CPU[st.type].read(st.fields)["apic_id"]] = k
        for k, (st, raw) in enumerate(zip(srat.entries, raws)):
            e = M.SRAT_ENTRIES.get(st.type) if st.fields is not None else None
            if e is M.MEMORY and st.fields is not None and st.fields["reserved2"] and st.fields["flags"] & 1:
                pass  # a Reserved field AMD firmware sets: the 'reserved' of a memory entry run
            elif e is None or not _exact(L.SRAT, st, raw):
                srat_lines.runs.append(f'bytes "{raw.hex()}"')
                continue
            v = e.read(st.fields)
            if st.type in M.SRAT_CPU:
                v["clock_domain"] = st.fields["clock_domain"]
                the_cpu = v["enabled"] and not v["other_flags"] and last.get(v["apic_id"]) == k
                x2 = st.type == SratType.X2APIC_CPU_AFFINITY and v["apic_id"] < (255 if the_cpu else 256)
                if v["enabled"] and not v["other_flags"]:
                    node(v["pxm"])
                    pxm_seen.append(v["pxm"])
                if v["other_flags"]:
                    srat_lines.runs.append(f'bytes "{raw.hex()}"')
                elif the_cpu:
                    cpu_pxm[v["apic_id"]] = v["pxm"]
                    cpu_at[v["apic_id"]] = len(node(v["pxm"])["cpus"])
                    words = " ".join(w for w, on in (("x2apic", x2), (f"clock {v['clock_domain']}",
                                                                      v["clock_domain"] != 0)) if on)
                    node(v["pxm"])["cpus"].append((v["apic_id"], words))
                    srat_lines.add("cpus", (), "", v["apic_id"])
                else:
                    words = f" pxm {v['pxm']}" + (" disabled" if not v["enabled"] else "") + \
                        (" x2apic" if x2 else "") + (f" clock {v['clock_domain']}" if v["clock_domain"] else "")
                    srat_lines.add("placeholder cpus", (v["pxm"], v["enabled"], x2, v["clock_domain"]), words,
                                   v["apic_id"])
            elif e is M.MEMORY:
                res = st.fields["reserved2"]
                if v["other_flags"] or st.fields["reserved1"] or st.fields["reserved3"]:
                    srat_lines.runs.append(f'bytes "{raw.hex()}"')
                elif v["enabled"] and v["base"] not in seen_mem:
                    seen_mem.add(v["base"])
                    late.append((v["pxm"], v))
                    srat_lines.add("memory", (res,), f" reserved {res}" if res else "", v["base"])
                else:
                    words = "".join([" hotpluggable" if v["hotpluggable"] else "",
                                     " nonvolatile" if v["nonvolatile"] else "", "" if v["enabled"] else " disabled"])
                    srat_lines.runs.append(f"placeholder memory {addr_text(v['base'])} size {size_text(v['size'])} "
                                           f"pxm {v['pxm']}{words}")
            elif e is M.ITS:
                late.append((v["pxm"], {"its": v["id"]}))
                srat_lines.add("its", (), "", v["id"])
            else:  # Generic Initiator / Port: in place only as one contiguous group, else bytes
                if v["handle_type"] not in ("acpi", "pci") or initiators_at is not None and \
                        srat_lines.runs[-1] != "initiators":
                    srat_lines.runs.append(f'bytes "{raw.hex()}"')
                    continue
                if v["handle_type"] == "acpi":
                    handle = f'acpi {quote(v["hid"])} uid {v["uid"]}'
                else:
                    d = v["devfn"]
                    handle = f'pci "{v["segment"]:04x}:{v["bus"]:02x}:{d >> 3:02x}.{d & 7:x}"'
                state = ("" if v["enabled"] else " disabled") + (" arch-transactions" if v["arch_transactions"] else "")
                node(v["pxm"])["lines"].append(f"{v['kind']} {handle}{state}")
                if initiators_at is None:
                    initiators_at = len(srat_lines.runs)
                    srat_lines.runs.append("initiators")
        for pxm, v in late:
            if "its" in v:
                node(pxm)["lines"].append(f"its {v['its']}")
                continue
            state = "".join([" hotpluggable" if v["hotpluggable"] else "", " nonvolatile" if v["nonvolatile"] else ""])
            node(pxm)["lines"].append(f"memory {addr_text(v['base'])} size {size_text(v['size'])}{state}")
        for r in srat.entries[len(raws):]:  # pragma: no cover - the decoder and the walk agree
            srat_lines.runs.append(f'bytes "{(r.raw or b"").hex()}"')

    # --- MADT
    madt_lines = _Lines()
    unaffined: list[tuple[int, str]] = []
    interrupts: list[str] = []
    lapic_line = None
    if madt is not None:
        raws = raw_subtables(original["APIC"], L.MADT)
        values: list[tuple[Subtable, bytes, Any, Any]] = []
        for st, raw in zip(madt.entries, raws):
            e = M.MADT_ENTRIES.get(st.type) if st.fields is not None else None
            ok = e is not None and _exact(L.MADT, st, raw)
            values.append((st, raw, e, e.read(st.fields) if ok and e is not None else None))
        # the entry describing each APIC ID: its first enabled one, else its first (Linux ignores ID 0xFF)
        describing: dict[int, int] = {}
        for k, (st, raw, e, v) in enumerate(values):
            if v is None or e not in (M.LOCAL_APIC, M.LOCAL_X2APIC) or v["other_flags"]:
                continue
            apic = v["apic_id"]
            if (e is M.LOCAL_APIC and apic == 0xFF) or (e is M.LOCAL_X2APIC and apic == 0xFFFFFFFF):
                continue
            if apic not in describing or (v["enabled"] and not values[describing[apic]][3]["enabled"]):
                describing[apic] = k
        runs: list[int] = []  # interrupt entries per 'interrupts' line
        for k, (st, raw, e, v) in enumerate(values):
            if v is None or (e in (M.LOCAL_APIC, M.LOCAL_X2APIC) and v["other_flags"]):
                madt_lines.runs.append(f'bytes "{raw.hex()}"')
            elif e in (M.LOCAL_APIC, M.LOCAL_X2APIC):
                apic = v["apic_id"]
                x2 = e is M.LOCAL_X2APIC and apic < 255
                if describing.get(apic) == k:
                    words = " ".join(w for w, on in (("disabled", not v["enabled"]),
                                                     ("online-capable", v["online_capable"]), ("x2apic", x2)) if on)
                    if srat is not None and apic in cpu_pxm:
                        cpus = nodes[cpu_pxm[apic]]["cpus"]
                        idx = cpu_at[apic]
                        cpus[idx] = (apic, " ".join(dict.fromkeys(f"{words} {cpus[idx][1]}".split())))
                    elif srat is not None:
                        unaffined.append((apic, words))
                    else:
                        node(0)["cpus"].append((apic, words))
                    madt_lines.add("cpus", (), "", apic, v["uid"])
                else:
                    x2 = e is M.LOCAL_X2APIC and apic <= 255
                    words = "".join([" disabled" if not v["enabled"] else "",
                                     " online-capable" if v["online_capable"] else "", " x2apic" if x2 else ""])
                    madt_lines.add("placeholder cpus", (v["enabled"], v["online_capable"], x2), words, apic, v["uid"])
            else:
                if e is M.IRQ_OVERRIDE and v["bus"] != 0:
                    madt_lines.runs.append(f'bytes "{raw.hex()}"')
                    continue
                if not (madt_lines.runs and madt_lines.runs[-1] == "interrupts"):
                    madt_lines.runs.append("interrupts")
                    runs.append(0)
                runs[-1] += 1
                if e is M.IO_APIC:
                    interrupts.append(f"ioapic {v['id']} at {v['address']:#x} gsi {v['gsi_base']}")
                elif e is M.IRQ_OVERRIDE:
                    interrupts.append(f"irq {v['source']} gsi {v['gsi']} flags {v['flags']:#x}")
                else:
                    cpu = "all" if v["cpu"] is None else str(v["cpu"])
                    wide = " x2apic" if e is M.LOCAL_X2APIC_NMI else ""
                    interrupts.append(f"nmi cpu {cpu} lint {v['lint']} flags {v['flags']:#x}{wide}")
        if len(runs) > 1:  # several groups: each says how many of the interrupt statements it writes
            k = 0
            for i, r in enumerate(madt_lines.runs):
                if r == "interrupts":
                    madt_lines.runs[i] = f"interrupts {runs[k]}" if k < len(runs) - 1 else "interrupts"
                    k += 1
        body = M.MADT_BODY.read(madt.body) if madt.body else None
        if body is not None and (body["lapic_address"] != M.MADT_BODY.default("lapic_address")
                                 or not body["pcat_compat"] or body["other_flags"]):
            lapic_line = f"lapic at {body['lapic_address']:#x}" + ("" if body["pcat_compat"] else " flags 0")

    # --- node numbering as Linux's: first appearance in enabled processor, then memory entries
    order = list(dict.fromkeys(pxm_seen + list(nodes)))
    slit_only = set()
    if slit is not None:
        for i, row in enumerate(slit.entries):
            if i not in nodes and any(v != M.no_node_distance(i, j) for j, v in enumerate(row)):
                node(i)
                order.append(i)
                slit_only.add(i)
    if not nodes:
        node(0)
        order.append(0)
    ids = {pxm: k for k, pxm in enumerate(order)}

    lines = [f'machine {quote(name)} {{'] + header_lines(arch)
    opts = []
    for sig, t in (("SRAT", srat), ("SLIT", slit), ("APIC", madt)):
        if t is None:
            continue
        tname = {"SRAT": "srat", "SLIT": "slit", "APIC": "madt"}[sig]
        o = f"{tname} revision {t.header['revision']}"
        if t.header != {**first.header, "revision": t.header["revision"]}:
            o += f" oem {oem_text(t.header)}"
        if sig == "SRAT" and t.body != {"table_revision": 1, "reserved": 0}:
            o += f' body "{original["SRAT"][36:48].hex()}"'
        if sig == "SLIT" and t.trailing:
            o += f' {{ bytes "{t.trailing.hex()}" }}'
        ent = {"SRAT": srat_lines, "APIC": madt_lines}.get(sig)
        if ent is None:
            opts.append(o)
            continue
        opts.append(o + " {")
        opts += [f"    {x}" for x in ent.text(index_uids=sig == "APIC")]
        opts.append("}")
    lines.append(f"    tables{rsdp_at} {{")
    lines += [f"        {o}" for o in opts]
    lines.append("    }")
    for pxm in order:
        n = nodes[pxm]
        body_lines = _cpu_lines(n["cpus"]) + n["lines"]
        pxm_text = f" pxm {pxm}" if pxm != ids[pxm] else ""
        if pxm in slit_only:
            lines.append(f"    # proximity domain {pxm} is a SLIT locality only: no SRAT entry Linux reads names it")
        lines.append(f"    node {ids[pxm]}{pxm_text} {{")
        lines += [f"        {b}" for b in body_lines]
        lines.append("    }")
    lines += [f"    {b}" for b in _cpu_lines(unaffined)]
    if slit is not None:
        rows = slit.entries
        dist = []
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if i == j or i not in ids or j not in ids:
                    continue
                back = rows[j][i] if j < len(rows) and i < len(rows[j]) else None
                if back != v or (ids[i], ids[j]) < (ids[j], ids[i]):
                    dist.append((ids[i], ids[j], v))
        lines += [f"    distance {a} {b} = {v}" for a, b, v in sorted(dist)]
    if lapic_line:
        lines.append(f"    {lapic_line}")
    lines += [f"    {x}" for x in interrupts]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cpu_lines(cpus: list[tuple[int, str]]) -> list[str]:
    """``cpus`` statements: runs of CPUs with the same words, in their order."""
    out: list[tuple[str, list[int]]] = []
    for apic, words in cpus:
        if out and out[-1][0] == words:
            out[-1][1].append(apic)
        else:
            out.append((words, [apic]))
    return [f"cpus {ordered_ranges(ids)}" + (f" {w}" if w else "") for w, ids in out]

