"""Pass 3 for the ``tables`` block: per-table header identity, bytes and entry lists.

An entry list (``tables { srat { … } }``) becomes :class:`fwc.model.TableEntry` runs; whether
its references name the machine's CPUs, memory and ITS is checked once the machine is built
(:func:`fwc.checks.check_table_entries`).
"""

from __future__ import annotations

from . import syntax

MAX_IDS = 1 << 18  # IDs in one entry (as MAX_CPUS in fwc.build)


def _hex(el, s: syntax.Str) -> bytes | None:
    text = "".join(s.value.split())
    try:
        return bytes.fromhex(text)
    except ValueError:
        el.error("bad-bytes", "expected hexadecimal byte pairs (white space allowed)", s.span)
        return None


def table_override(el, opt, machine_oem, bd, M, make_oem):
    """The :class:`~fwc.model.TableOverride` of one ``tables`` option (``make_oem``: the
    builder's OEM identity maker)."""
    fields = {f.kind: f for f in opt.args["oem"]}
    oem = None
    if fields:
        base = (machine_oem.id, machine_oem.table_id, machine_oem.revision, machine_oem.creator_id,
                machine_oem.creator_revision)
        oem = make_oem(el, fields, bd._replace(oem=base), opt.span, M)
    append, verbatim, body = b"", None, None
    for d in opt.args["data"]:
        data = _hex(el, d.args["value"])
        if data is None:
            continue
        if d.kind == "append":
            append += data
        elif d.kind == "body":
            body = data
        elif verbatim is not None:
            el.error("duplicate-statement", "verbatim is given more than once", d.span)
        else:
            verbatim = data
    entries = None
    if opt.args.get("entries") is not None:
        entries = tuple(e for e in (_entry(el, x, M) for x in opt.args["entries"]) if e is not None)
    return M.TableOverride(oem=oem, append=append, verbatim=verbatim, span=opt.span, entries=entries, body=body)


def _ids(el, items, what: str, limit: int = 0xFFFFFFFF) -> list[int] | None:
    """The IDs of a ``cpus``-style list (ranges expanded), or None after an error."""
    out: list[int] = []
    for item in items:
        first = el.eval(item.first, what, 0, limit)
        last = first if item.last is None else el.eval(item.last, what, 0, limit)
        if first is None or last is None:
            return None
        if last < first:
            el.error("empty-range", f"range {first}-{last} is empty", item.span)
            return None
        if len(out) + last - first + 1 > MAX_IDS:
            el.error("field-range", f"more than {MAX_IDS} entries in one statement", item.span)
            return None
        out.extend(range(first, last + 1))
    return out


def _entry(el, st, M):
    """One run of a ``tables { TABLE { … } }`` entry list."""
    k, a = st.kind, st.args
    kind = {"entry_cpus": "cpus", "placeholder_cpus": "placeholder-cpus", "entry_memory": "memory",
            "entry_its": "its", "placeholder_memory": "placeholder-memory", "entry_interrupts": "interrupts",
            "entry_initiators": "initiators", "entry_bytes": "bytes"}[k]
    fields: dict = {}
    times = 1
    for at in a.get("attrs", ()):
        if at.kind == "attr_pxm":
            fields["pxm"] = el.eval(at.args["value"], "proximity domain", 0, 0xFFFFFFFF)
        elif at.kind == "attr_clock":
            fields["clock_domain"] = el.eval(at.args["value"], "clock domain", 0, 0xFFFFFFFF)
        elif at.kind == "attr_uid":
            fields["uids"] = _ids(el, at.args["items"], "processor UID")
        elif at.kind == "attr_times":
            times = el.eval(at.args["value"], "repeat count", 1, MAX_IDS)
            if times is None:
                return None
        else:
            word = at.args["value"].value
            key = {"disabled": "enabled", "online-capable": "online_capable"}.get(word, word.replace("-", "_"))
            fields[key] = word != "disabled"
    if any(v is None for v in fields.values()):
        return None
    if kind in ("cpus", "placeholder-cpus"):
        ids = _ids(el, a["items"], "APIC ID")
        if ids is None:
            return None
        if fields.get("uids") is not None and len(fields["uids"]) != len(ids):
            el.error("field-range", f"{len(ids)} IDs but {len(fields['uids'])} UIDs", st.span)
            return None
        ids = ids * times
        if fields.get("uids") is not None:
            fields["uids"] = tuple(fields["uids"]) * times
        if kind == "cpus" and ("pxm" in fields or "enabled" in fields or "clock_domain" in fields):
            el.error("misplaced-statement", "an entry of a described CPU takes its proximity domain, state and clock "
                     "domain from its 'cpus' statement; write 'placeholder cpus' for an entry Linux ignores",
                     st.span)
            return None
        return M.TableEntry(kind, ids=ids, span=st.span, **fields)
    if kind in ("memory", "its"):
        vals = [el.eval(v, "address" if kind == "memory" else "ITS ID") for v in a["values"]]
        reserved = el.eval(a["reserved"], "reserved field", 0, 0xFFFFFFFF) if a.get("reserved") is not None else 0
        if any(v is None for v in vals) or reserved is None:
            return None
        return M.TableEntry(kind, ids=vals, span=st.span, reserved=reserved)
    if kind == "interrupts" and a.get("count") is not None:
        count = el.eval(a["count"], "entry count", 1, 1 << 16)
        return None if count is None else M.TableEntry(kind, count=count, span=st.span)
    if kind == "placeholder-memory":
        base, size = el.eval(a["base"], "address"), el.eval(a["size"], "size")
        if base is None or size is None:
            return None
        return M.TableEntry(kind, ids=(base,) * times, size=size, span=st.span, **fields)
    if kind == "bytes":
        data = _hex(el, a["value"])
        return None if data is None else M.TableEntry(kind, data=data, span=st.span)
    return M.TableEntry(kind, span=st.span)
