"""Elaboration: statements -> the resolved machine model.

Ordered passes, each reporting diagnostics rather than stopping:

1. read files: parse the root file, follow ``include`` (relative to the
   including file, then the include path), refuse include cycles;
2. evaluate: constants (``let``) in order, expressions, units; every value
   lands in a model field;
3. resolve defaults, once, here: board OEM identity and table revisions,
   proximity domains, interrupt controllers, QEMU's RAM layout for size-only
   memory on QEMU boards, DIMM placement, slots and maxmem.

Passes 1 and 2 are :mod:`fwc.elaborate`; this module is pass 3 and the entry point
:func:`load`.  Whole-machine rules (overlaps, SLIT validity, hotplug alignment, ...) are not
here: they are named checks in ``fwc.checks``.
"""

from __future__ import annotations

from . import boards, syntax
from .diagnostics import ERROR, Related, Span
from .build_board import board_options as _board_options, place_dimms as _place_dimms, qemu_layout as _qemu_layout
from .build_tables import table_override
from .e820 import build_e820
from .events import build_events
from .elaborate import U64, Elaborator, Loader, undecodable
from .mistakes import warn_size
from .suggest import did_you_mean
from .syntax import Num, Stmt

__all__ = ["load", "build_machine", "Loader", "Elaborator", "undecodable"]

MAX_CPUS = 1 << 18  # a description with more CPUs is surely a typo (Linux: 8192)

# ---------------------------------------------------------------------------
# The machine statement


def _all(a: int | None, b: int | None, c: int | None) -> tuple[int, int, int] | None:
    """The three values, or None when one of them did not evaluate (its error is reported)."""
    return None if a is None or b is None or c is None else (a, b, c)


def _string(el: Elaborator, s: syntax.Str, what: str, width: int, pad: str = "\0") -> str | None:
    if s is None:
        return None
    v = s.value
    if len(v) > width:
        el.error("field-range", f"{what} \"{v}\" is {len(v)} characters; the field holds {width}", s.span)
        return None
    if any(ord(c) > 0xFF for c in v):
        el.error("field-range", f"{what} must be bytes (characters up to \\xff)", s.span)
        return None
    return v.ljust(width, pad)


class _Once:
    """Statements that may appear once per machine."""

    def __init__(self, el: Elaborator):
        self.el = el
        self.seen: dict[str, Span | None] = {}

    def __call__(self, stmt: Stmt, kind: str = "") -> bool:
        kind = kind or stmt.kind
        if kind in self.seen:
            prev = self.seen[kind]
            self.el.error("duplicate-statement", f"'{kind}' is given more than once", stmt.span,
                          related=(Related("first given here", prev),))
            return False
        self.seen[kind] = stmt.span
        return True


def build_machine(el: Elaborator, mstmt: Stmt, file: str):
    from . import model as M

    once = _Once(el)
    a = mstmt.args
    el.scopes.append({})
    name = a["name"].value
    arch, board, arch_span, board_span = "x86_64", "generic", None, None
    oem_fields: dict = {}
    oem_span = None
    table_revs: dict = {}
    table_opts: list = []
    tables_base = tables_span = None
    node_stmts: list[Stmt] = []
    distances, reserved = [], []
    kernel = initrd = topology = kernel_version_span = None
    kernel_version = ""
    cmdline_parts: list[str] = []
    slots = maxmem = None
    ioapics: list = []
    irqs: list = []
    nmis: list = []
    order: list[tuple[str, int]] = []  # interrupt entries in statement order
    lapic = lapic_flags = None
    unaffined: list = []
    e820: tuple = ()
    e820_span = None
    board_opts: list = []
    loose: list = []
    events: tuple = ()

    for s in el.expand(a["body"], "body", file):
        k = s.kind
        args = s.args
        if k == "let":
            el.define(s)
        elif k == "arch":
            if once(s):
                arch, arch_span = args["value"].value, args["value"].span
                if arch not in M.ARCHES:
                    el.error("unknown-value", f"unknown arch '{arch}' (known: {', '.join(M.ARCHES)})"
                             + did_you_mean(arch, M.ARCHES), arch_span)
                    arch = "x86_64"
        elif k == "board":
            if once(s):
                board, board_span = args["value"].value, args["value"].span
                if board not in boards.BOARDS:
                    el.error("unknown-value", f"unknown board '{board}' (known: {', '.join(boards.BOARDS)})"
                             + did_you_mean(board, boards.BOARDS),
                             board_span)
                    board = "generic"
                board_opts = list(args.get("options") or ())
        elif k == "oem":
            if once(s):
                oem_span = s.span
                for f in args["fields"]:
                    if f.kind in oem_fields:
                        el.error("duplicate-statement", f"oem {f.kind} is given more than once", f.span)
                    oem_fields[f.kind] = f
        elif k == "tables":
            if once(s):
                tables_base, tables_span = el.eval(args["at"], "table address", 0, (1 << 64) - 1), s.span
                if tables_base is not None and tables_base % 16:  # ACPI: the RSDP is on a 16-byte boundary
                    el.error("field-range", f"table address {tables_base:#x} is not 16-byte aligned", s.span)
                    tables_base = None
                for opt in args["options"]:
                    t = opt.args["table"]
                    if t.value not in M.TABLE_SIGNATURES:
                        el.error("unknown-value", f"unknown table '{t.value}' (known: {', '.join(M.TABLE_SIGNATURES)})"
                                 + did_you_mean(t.value, M.TABLE_SIGNATURES),
                                 t.span)
                        continue
                    if opt.args["revision"] is not None:
                        rev = el.eval(opt.args["revision"], f"{t.value} revision", 0, 255)
                        if rev is not None:
                            table_revs[t.value] = rev
                    table_opts.append(opt)
        elif k == "node":
            node_stmts.append(s)
        elif k == "distance":
            src = el.eval(args["src"], "node id", 0, U64)
            dst = el.eval(args["dst"], "node id", 0, U64)
            val = el.eval(args["value"], "distance", 0, 255)
            if src is not None and dst is not None and val is not None:
                distances.append(M.Distance(src, dst, val, span=s.span))
        elif k == "reserved":
            base = el.eval(args["base"], "address")
            size = el.eval(args["size"], "size")
            typ = args["type"].value if args["type"] else "reserved"
            if typ not in M.E820_TYPES:
                el.error("unknown-value", f"unknown e820 type '{typ}' (known: {', '.join(M.E820_TYPES)})"
                         + did_you_mean(typ, M.E820_TYPES),
                         args["type"].span)
            elif base is not None and size is not None:
                reserved.append(M.Reserved(base, size, typ, span=s.span))
        elif k == "e820":
            if once(s):
                e820, e820_span = build_e820(el, s, M), s.span
        elif k == "events":
            if once(s):
                events = build_events(el, s, M)
        elif k == "kernel" and "version" in args:
            if once(s, "kernel version"):
                kernel_version, kernel_version_span = args["version"].value, args["version"].span
        elif k == "kernel":
            if once(s):
                base, size = el.eval(args["base"], "address"), el.eval(args["size"], "size")
                if base is not None and size is not None:
                    kernel = M.Placement(base, size, span=s.span)
        elif k == "initrd":
            if once(s):
                initrd = _initrd(el, s, M)
        elif k == "cmdline":
            cmdline_parts.extend(p.value for p in args["parts"])
        elif k == "slots":
            if once(s):
                slots = el.eval(args["count"], "slot count", 0, 256)
                maxmem = el.eval(args["maxmem"], "maxmem")
        elif k == "topology":
            if once(s):
                v = _all(*(el.eval(args[x], x, 1, 1 << 16) for x in ("sockets", "cores", "threads")))
                if v:
                    topology = M.Topology(*v, span=s.span)
        elif k == "ioapic":
            v = _all(el.eval(args["id"], "I/O APIC ID", 0, 255), el.eval(args["address"], "address", 0, 0xFFFFFFFF),
                     el.eval(args["gsi_base"], "GSI base", 0, 0xFFFFFFFF) if args["gsi_base"] else 0)
            if v:
                order.append(("ioapic", len(ioapics)))
                ioapics.append(M.IoApic(*v, span=s.span))
        elif k == "irq":
            v = _all(el.eval(args["source"], "source IRQ", 0, 255), el.eval(args["gsi"], "GSI", 0, 0xFFFFFFFF),
                     el.eval(args["flags"], "INTI flags", 0, 0xFFFF) if args["flags"] else 0)
            if v:
                order.append(("irq", len(irqs)))
                irqs.append(M.IrqOverride(*v, span=s.span))
        elif k == "nmi":
            cpu = el.eval(args["cpu"], "processor UID", 0, 0xFFFFFFFE) if args["cpu"] is not None else None
            lint = el.eval(args["lint"], "LINT#", 0, 255)
            flags = el.eval(args["flags"], "INTI flags", 0, 0xFFFF) if args["flags"] else 0
            if lint is not None and flags is not None:
                order.append(("nmi", len(nmis)))
                nmis.append(M.Nmi(cpu, lint, flags, span=s.span, x2apic=True if args.get("x2apic") else None))
        elif k == "lapic":
            if once(s):
                lapic = el.eval(args["address"], "local APIC address", 0, 0xFFFFFFFF)
                if args.get("flags") is not None:
                    lapic_flags = el.eval(args["flags"], "MADT flags", 0, 1)
        elif k == "cpus":  # CPUs without SRAT affinity
            _cpus(el, s, unaffined, M)
        elif k in ("memory", "dimm"):  # a machine without NUMA
            loose.append(s)
        else:  # node statements from an included fragment
            el.error("misplaced-statement", f"'{k}' belongs inside a node", s.span)

    bd = boards.BOARDS[board]
    board_options = _board_options(el, board, board_opts, M)
    oem = _oem(el, oem_fields, bd, oem_span, M)
    revisions = dict(bd.table_revisions)
    revisions.update(table_revs)
    overrides = {}
    for opt in table_opts:
        table = opt.args["table"].value
        if table in overrides:
            el.error("duplicate-statement", f"table '{table}' is configured twice", opt.span)
            continue
        overrides[table] = table_override(el, opt, oem, bd, M, _oem)

    nodes = [_node(el, s, arch, M) for s in node_stmts]
    implicit = _no_numa_node(el, loose, node_stmts, unaffined, M)
    nodes = [n for n in nodes + [implicit] if n is not None]
    nodes.sort(key=lambda n: n.id)
    dimm_total = sum(m.size for n in nodes for m in n.dimms)
    if boards.is_qemu(board):
        nodes, ram_size, above = _qemu_layout(el, nodes, board, board_options.max_ram_below_4g, M)
        if slots is None and dimm_total:
            slots = sum(len(n.dimms) for n in nodes)
        if maxmem is None:
            maxmem = ram_size + dimm_total
        if slots:
            nodes = _place_dimms(el, nodes, above, ram_size, slots, maxmem, M)
    else:
        for n in nodes:
            for m in n.memory:
                if m.dimm:
                    el.error("board-memory", f"dimm needs a QEMU board (this machine's board is '{board}')", m.span)
                elif m.base < 0:
                    el.error("memory-layout", f"memory on board {board} needs a base address "
                             "(only QEMU boards lay memory out themselves)", m.span)
        slots = slots or 0
        maxmem = maxmem or 0

    defaults = boards.PC_INTERRUPTS
    if "madt" in overrides and overrides["madt"].entries is not None:
        defaults = boards.Interrupts((), (), ())  # an entry list says every entry there is
    grouped = sorted(order, key=lambda o: ("ioapic", "irq", "nmi").index(o[0]))
    interrupts = M.Interrupts(
        lapic_address=0xFEE00000 if lapic is None else lapic,
        pcat_compat=True if lapic_flags is None else bool(lapic_flags),
        order=order if order != grouped else (),
        ioapics=ioapics or [M.IoApic(*x) for x in defaults.ioapics] if arch == "x86_64" else ioapics,
        overrides=irqs or [M.IrqOverride(*x) for x in defaults.overrides] if arch == "x86_64" else irqs,
        nmis=nmis or [M.Nmi(*x) for x in defaults.nmis] if arch == "x86_64" else nmis,
    )
    el.scopes.pop()
    machine = M.Machine(
        name=name, arch=arch, board=board, oem=oem, table_revisions=revisions, tables_base=tables_base, tables_span=tables_span,
        table_overrides=overrides, nodes=nodes, distances=distances, reserved=reserved, kernel=kernel, initrd=initrd,
        cmdline=" ".join(cmdline_parts), slots=slots or 0, maxmem=maxmem or 0, topology=topology,
        interrupts=interrupts, files=tuple(el.loader.files), span=mstmt.span, unaffined_cpus=unaffined,
        e820=e820, e820_span=e820_span, board_options=board_options, numa=implicit is None, events=events,
        kernel_version=kernel_version, kernel_version_span=kernel_version_span,
    )
    if any(o.entries is not None for o in overrides.values()):
        from .checks import check_table_entries

        def report(message: str, span: Span | None = None, related=(), notes=()) -> None:
            el.error("unknown-value", message, span, related=tuple(related))

        check_table_entries(machine, report)
    return machine


def _oem(el, fields, bd, span, M):
    dflt = bd.oem
    oid = _string(el, fields["id"].args["value"], "OEM ID", 6) if "id" in fields else dflt[0]
    tid = _string(el, fields["table"].args["value"], "OEM table ID", 8) if "table" in fields else dflt[1]
    rev = el.eval(fields["revision"].args["value"], "OEM revision", 0, 0xFFFFFFFF) if "revision" in fields else dflt[2]
    cid, crev = dflt[3], dflt[4]
    if "creator" in fields:
        c = fields["creator"].args
        cid = _string(el, c["value"], "creator ID", 4)
        if c["revision"] is not None:
            crev = el.eval(c["revision"], "creator revision", 0, 0xFFFFFFFF)
    return M.Oem(id=oid or dflt[0], table_id=tid or dflt[1], revision=dflt[2] if rev is None else rev,
                 creator_id=cid or dflt[3], creator_revision=dflt[4] if crev is None else crev, span=span)


def _initrd(el, s, M):
    a = s.args
    base, size = el.eval(a["base"], "address"), el.eval(a["size"], "size")
    overrides = []
    for o in a["overrides"]:
        oa = o.args
        rev = el.eval(oa["revision"], "OEM revision", 0, 0xFFFFFFFF) if oa["revision"] is not None else None
        if oa["table"] is not None:
            t = oa["table"]
            if t.value not in ("srat", "slit", "madt"):
                el.error("unknown-value", f"cannot override '{t.value}': fwc generates srat, slit and madt", t.span)
                continue
            overrides.append(M.Override(table=t.value, revision=rev, span=o.span))
        else:
            f = oa["file"]
            full, why = el.loader.roots.resolve(f.value, f.span.file)
            if full is None:
                el.error("include", f"cannot read table file '{f.value}': {why}" if why
                         else f"cannot find table file '{f.value}'", f.span)
                continue
            overrides.append(M.Override(file=full, span=o.span))
    if base is None or size is None:
        return None
    return M.Initrd(base, size, span=s.span, overrides=overrides)


def _node(el, s, arch, M):
    a = s.args
    el.scopes.append({})
    try:
        nid = el.eval(a["id"], "node id", 0, U64)
        pxm = el.eval(a["pxm"], "proximity domain", 0, 0xFFFFFFFF) if a["pxm"] is not None else nid
        cpus: list = []
        memory, inits, its = [], [], []
        for st in el.expand(a["body"], "body", s.span.file):
            if st.kind == "let":
                el.define(st)
            elif st.kind == "cpus":
                _cpus(el, st, cpus, M)
            elif not _node_item(el, st, memory, inits, its, M):
                el.error("misplaced-statement", f"'{st.kind}' cannot appear inside a node", st.span)
        if nid is None or pxm is None:
            return None
        return M.Node(nid, pxm, cpus=cpus, memory=memory, initiators=inits, its=its, span=s.span)
    finally:
        el.scopes.pop()


def _node_item(el, st, memory: list, inits: list, its: list, M) -> bool:
    """A node's memory, dimm, initiator or its statement, appended to its list; False for
    any other statement."""
    k, sa = st.kind, st.args
    if k == "memory":
        b, z = sa["base"], sa["size"]
        # a number in range is its value (what el.eval returns for it, without the calls)
        base = b.value if type(b) is Num and 0 <= b.value <= U64 else el.eval(b, "address") if b is not None else None
        size = z.value if type(z) is Num and 0 <= z.value <= U64 else el.eval(z, "size")
        warn_size(el, size, z)
        if size is None or (b is not None and base is None):
            return True
        flags = {f.value for f in sa["flags"]} if sa["flags"] else ()
        memory.append(M.MemoryRange(-1 if base is None else base, size,
                                    hotpluggable="hotpluggable" in flags,
                                    nonvolatile="nonvolatile" in flags,
                                    enabled="disabled" not in flags, mirror="mirror" in flags,
                                    span=st.span))
    elif k == "dimm":
        size = el.eval(sa["size"], "size")
        warn_size(el, size, sa["size"], "DIMM")
        at = el.eval(sa["at"], "address") if sa["at"] is not None else -1
        if size is not None and at is not None:
            nv = bool(sa.get("nonvolatile"))  # an NVDIMM: SRAT Enabled|NonVolatile, not hot-added as RAM
            memory.append(M.MemoryRange(at, size, hotpluggable=not nv, nonvolatile=nv, dimm=True, span=st.span))
    elif k == "initiator":
        g = _initiator(el, st, M)
        if g is not None:
            inits.append(g)
    elif k == "its":
        v = el.eval(sa["id"], "ITS ID", 0, 0xFFFFFFFF)
        if v is not None:
            its.append(M.Its(v, span=st.span))
    else:
        return False
    return True


def _no_numa_node(el, loose: list, node_stmts: list, unaffined: list, M):
    """A machine without NUMA: memory outside any node, no node blocks.  The firmware
    describes no NUMA (no SRAT); Linux puts everything on node 0 (dummy_numa_init()), so the
    model holds it as node 0, with ``Machine.numa`` False."""
    if not loose:
        return None
    if node_stmts:
        for st in loose:
            el.error("misplaced-statement", f"'{st.kind}' belongs inside a node (only a machine without nodes, "
                     "no NUMA and no SRAT, has memory of its own)", st.span,
                     related=(Related("this machine has nodes", node_stmts[0].span),))
        return None
    memory: list = []
    for st in loose:
        _node_item(el, st, memory, [], [], M)
    cpus = list(unaffined)
    unaffined.clear()
    return M.Node(0, 0, cpus=cpus, memory=memory, span=loose[0].span)


def _cpus(el, st, cpus: list, M) -> None:
    """A ``cpus`` statement's CPUs, appended to ``cpus``."""
    sa = st.args
    flags = {f.value for f in sa["flags"]}
    clock = el.eval(sa["clock"], "clock domain", 0, 0xFFFFFFFF) if sa.get("clock") is not None else 0
    if clock is None:
        return
    enabled, online_capable, x2apic = "disabled" not in flags, "online-capable" in flags, "x2apic" in flags
    for item in sa["items"]:
        first = el.eval(item.first, "APIC ID", 0, 0xFFFFFFFF)
        last = first if item.last is None else el.eval(item.last, "APIC ID", 0, 0xFFFFFFFF)
        if first is None or last is None:
            continue
        if last < first:
            el.error("empty-range", f"CPU range {first}-{last} is empty", item.span)
            continue
        seen = getattr(el, "cpus_seen", 0)  # the limit is the machine's: 16 nodes of 2**18 cost 16x
        if seen > MAX_CPUS:
            break  # reported once
        if seen + last - first + 1 > MAX_CPUS:
            el.error("field-range", f"more than {MAX_CPUS} CPUs in the machine", item.span)
            el.cpus_seen = MAX_CPUS + 1
            break
        el.cpus_seen = seen + last - first + 1
        Cpu, span = M.Cpu, item.span  # (Cpu's fields in order: positional arguments cost less than keywords)
        cpus += [Cpu(apic, enabled, online_capable, x2apic, span, clock) for apic in range(first, last + 1)]


def _initiator(el, st, M):
    sa = st.args
    kind = sa["kind"].value
    flags = {f.value for f in sa["flags"]}
    h = sa["handle"]
    common = dict(kind=kind, enabled="disabled" not in flags,
                  arch_transactions="arch-transactions" in flags, span=st.span)
    if h.kind == "acpi":
        hid = _string(el, h.args["hid"], "_HID", 8)
        uid = el.eval(h.args["uid"], "_UID", 0, 0xFFFFFFFF)
        if hid is None or uid is None:
            return None
        return M.Initiator(handle_type="acpi", hid=hid, uid=uid, **common)
    bdf = h.args["bdf"]
    parts = _parse_bdf(bdf.value)
    if parts is None:
        el.error("unknown-value", f"PCI address '{bdf.value}' is not of the form SSSS:BB:DD.F", bdf.span)
        return None
    seg, bus, dev, fn = parts
    return M.Initiator(handle_type="pci", segment=seg, bus=bus, devfn=(dev << 3) | fn, **common)


def _parse_bdf(text: str) -> tuple[int, int, int, int] | None:
    try:
        seg_s, bus_s, rest = text.split(":")
        dev_s, fn_s = rest.split(".")
        seg, bus, dev, fn = int(seg_s, 16), int(bus_s, 16), int(dev_s, 16), int(fn_s, 16)
    except ValueError:
        return None
    if seg > 0xFFFF or bus > 0xFF or dev > 0x1F or fn > 7:
        return None
    return seg, bus, dev, fn


# ---------------------------------------------------------------------------
# Entry point


def load(loader: Loader, text: str, name: str):
    """Parse and elaborate a file; return (machine or None, diagnostics).  The loader forgets
    the statements when it returns: the model keeps what it needs of them."""
    try:
        return _load(loader, text, name)
    finally:
        loader.forget()


def _load(loader: Loader, text: str, name: str):
    el = Elaborator(loader)
    stmts = loader.parse(text, name, "start", el.diags)
    if stmts is None:
        return None, el.diags
    machines = []
    for s in el.expand(stmts, "start", name):
        if s.kind == "let":
            el.define(s)
        elif s.kind == "machine":
            machines.append(s)
    if not machines:
        el.error("no-machine", "no machine is described (expected 'machine \"name\" { ... }')",
                 Span(name, 1, 1, 1, 2))
        return None, el.diags
    for extra in machines[1:]:
        el.error("duplicate-statement", "only one machine may be described per file", extra.span,
                 related=(Related("first machine here", machines[0].span),))
    machine = build_machine(el, machines[0], machines[0].span.file)
    if any(d.severity == ERROR for d in el.diags):
        return None, el.diags
    return machine, el.diags
