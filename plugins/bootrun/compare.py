"""Predicted against real, row by row, with the differences marked.

Two kinds of rows: the structured keys (:data:`KEYS`: zones from /proc/zoneinfo, SRAT,
NODE_DATA, …) and every dmesg line of the categories fwc models (``lines``,
:data:`~.observe.LINE_CATEGORIES`), compared in log order per category.  A real line in a
category the prediction covers but lacks is a difference; a category the prediction does not
cover (the ``Memory:`` line unless predicted, or a third-party predictor without ``lines``) is
shown as not predicted.  Lines fwc knowingly approximates are compared with the approximate
numbers masked and shown as ``approximate``: the ``Total pages`` of every zonelist rebuild
after early boot (it counts managed pages of the running system), ACPI table addresses when
the prediction says its QEMU DSDT length is estimated (``approximate: ["acpi"]``), and the
RSDP address in SeaBIOS's F segment (``"rsdp"``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .observe import LINE_CATEGORIES

ZONE_ORDER = {"DMA": 0, "DMA32": 1, "Normal": 2, "Movable": 3, "Device": 4}
#: Keys compared, in display order, with their row labels.
KEYS = ("ramdisk", "table_upgrade", "srat", "node_data", "zone_ranges", "movable_start", "early_ranges", "zones",
        "managed", "memtotal")
ABSENT = "-"


#: Line categories a prediction with ``lines`` covers even where it has no line of them.
ALWAYS_COVERED = tuple(c for c, _ in LINE_CATEGORIES if c not in ("memory", "memory_blocks"))
#: The ``Memory:`` line's first figure, nr_free_pages() when it is printed: it depends on deferred
#: struct-page initialisation, which fwc does not model (the prediction prints ``~K``).
_FREE_PAGES = re.compile(r"^Memory: (\d+|~)K/")
APPROX = "approximate"


class Row(NamedTuple):
    key: str  # observation key ("lines:CATEGORY" for dmesg lines)
    label: str
    predicted: str  # ABSENT when the side has no such row
    real: str
    compared: bool  # False: the prediction does not cover this key
    approximate: bool = False  # agrees only with the approximate numbers masked

    @property
    def differs(self) -> bool:
        return self.compared and not self.approximate and self.predicted != self.real

    @property
    def status(self) -> str:
        if not self.compared:
            return "not predicted"
        if self.differs:
            return "differs"
        return APPROX if self.approximate and self.predicted != self.real else "agree"


_HEXADDR = re.compile(r"0x[0-9A-Fa-f]+")


def _mask(cat: str, line: str, kinds: set[str], rebuild: bool) -> str | None:
    """``line`` with the numbers fwc approximates in it masked, or None when nothing in it is
    approximate."""
    if cat == "memory":
        return _FREE_PAGES.sub("Memory: ~K/", line)
    if cat == "zonelists" and rebuild and line.startswith("Built "):
        return re.sub(r"Total pages: \d+", "Total pages: ~", line)
    if cat == "acpi" and line.startswith("ACPI: RSDP ") and "rsdp" in kinds:
        return _HEXADDR.sub("0x~", line, count=1)
    if cat in ("acpi", "table_upgrade") and "acpi" in kinds and not line.startswith("ACPI: RSDP "):
        return _HEXADDR.sub("0x~", line)
    return None


def line_rows(predicted: dict | None, real: dict) -> list[Row]:
    """One row per real or predicted line of every modelled dmesg category."""
    rows: list[Row] = []
    plines = predicted.get("lines") if predicted is not None else None
    rlines = real.get("lines") or {}
    kinds = set(predicted.get("approximate", ())) if predicted is not None else set()
    for cat, _ in LINE_CATEGORIES:
        p = (plines or {}).get(cat) or []
        r = rlines.get(cat) or []
        covered = plines is not None and (cat in ALWAYS_COVERED or bool(p))
        if not p and not r:
            continue
        builds = 0
        for i in range(max(len(p), len(r))):
            pv = p[i] if i < len(p) else ABSENT
            rv = r[i] if i < len(r) else ABSENT
            ref = rv if rv != ABSENT else pv
            if cat == "zonelists" and ref.startswith("Built "):
                builds += 1
            approx = False
            if covered and pv != rv and ABSENT not in (pv, rv):
                mp, mr = _mask(cat, pv, kinds, builds > 1), _mask(cat, rv, kinds, builds > 1)
                approx = mp is not None and mp == mr
            rows.append(Row(f"lines:{cat}", f"{cat} #{i + 1}", pv if covered else "(not predicted)", rv,
                            covered, approx))
    return rows


def _num_key(s: str):
    parts = s.split()
    return (int(parts[0]) if parts and parts[0].isdigit() else 0, ZONE_ORDER.get(parts[-1], 9) if parts else 0, s)


def _rows_for(key: str, p, r) -> list[tuple[str, str, str]]:
    """(label, predicted, real) for one key; p/r are the values (None: unknown)."""
    out = []
    if key == "ramdisk":
        return [("RAMDISK (initrd)", p or ABSENT, r or ABSENT)]
    if key in ("srat", "table_upgrade"):
        p, r = p or [], r or []
        name = "SRAT" if key == "srat" else "table upgrade"
        for i in range(max(len(p), len(r), 1 if key == "table_upgrade" and (p or r) else 0)):
            out.append((f"{name} #{i + 1}" if key == "srat" else name,
                        p[i] if i < len(p) else ABSENT, r[i] if i < len(r) else ABSENT))
        if key == "table_upgrade" and not p and not r:
            out.append((name, "(none)", "(none)"))
        return out
    p, r = p or {}, r or {}
    keys = sorted(set(p) | set(r), key=(lambda z: ZONE_ORDER.get(z, 9)) if key == "zone_ranges" else _num_key)
    if key == "movable_start" and not keys:
        return [("Movable zone start", "(none)", "(none)")]
    for k in keys:
        pv, rv = p.get(k), r.get(k)
        if key == "early_ranges":
            pv = " ".join(pv) if pv else None
            rv = " ".join(rv) if rv else None
        elif key == "managed":
            pv = str(pv) if pv is not None else None
            rv = str(rv) if rv is not None else None
        elif key == "zones":
            pv = " ".join(str(x) for x in pv) if pv else None
            rv = " ".join(str(x) for x in rv) if rv else None
        label = {"node_data": f"NODE_DATA({k})", "zone_ranges": f"zone range {k}",
                 "movable_start": f"Movable start node {k}", "early_ranges": f"early ranges node {k}",
                 "zones": f"zone {k} (start spanned present)", "managed": f"zone {k} managed",
                 "memtotal": f"node {k} MemTotal"}[key]
        out.append((label, pv if pv is not None else ABSENT, rv if rv is not None else ABSENT))
    return out


def compare(predicted: dict | None, real: dict) -> list[Row]:
    """The structured rows (:data:`KEYS`), then one row per dmesg line (:func:`line_rows`)."""
    rows = []
    for key in KEYS:
        pv_all = predicted.get(key) if predicted is not None else None
        covered = predicted is not None and key in predicted
        if key not in real and not covered:
            continue
        for label, pv, rv in _rows_for(key, pv_all, real.get(key)):
            rows.append(Row(key, label, pv if covered else "(not predicted)", rv, covered))
    return rows + line_rows(predicted, real)


def counts(rows: list[Row]) -> dict[str, int]:
    """How many rows agree, differ, are approximate, are not predicted (dmesg lines and
    structured rows together)."""
    out = {"agree": 0, "differs": 0, APPROX: 0, "not predicted": 0}
    for r in rows:
        out[r.status] += 1
    return out


def summary(rows: list[Row]) -> str:
    c = counts(rows)
    lines = sum(1 for r in rows if r.key.startswith("lines:") and r.compared)
    return (f"{lines} dmesg lines and {sum(1 for r in rows if not r.key.startswith('lines:') and r.compared)} "
            f"other items compared: {c['agree']} agree, {c['differs']} differ, {c[APPROX]} approximate, "
            f"{c['not predicted']} not predicted")


def agree(rows: list[Row]) -> bool:
    return not any(r.differs for r in rows) and any(r.compared and r.key == "zones" for r in rows)


def render(rows: list[Row], width: int | None = None) -> str:
    """The structured rows in full; of the dmesg lines, the ones that differ, are approximate or
    not predicted in full ('!' differs, '~' approximate), the agreeing ones counted per
    category.  With ``width`` (a terminal's), a row wider than that is stacked (the item, then
    predicted and real on lines of their own) and long values are folded to fit."""
    shown = [r for r in rows if not r.key.startswith("lines:") or r.status != "agree"]
    lw = max([len("item")] + [len(r.label) for r in shown])
    pw = max([len("predicted")] + [len(r.predicted) for r in shown if not r.key.startswith("lines:")])
    if width is not None:
        lw = min(lw, max(12, width * 2 // 5))
        pw = min(pw, max(12, (width - lw - 6) // 2))
    out = [f"  {'item':<{lw}}  {'predicted':<{pw}}  real", f"  {'-' * lw}  {'-' * pw}  {'-' * 4}"]
    done: set[str] = set()
    for r in rows:
        if r.key.startswith("lines:"):
            if r.key not in done:
                done.add(r.key)
                same = [x for x in rows if x.key == r.key]
                ok = sum(1 for x in same if x.status == "agree")
                out.append(f"  [{r.key[6:]}] {len(same)} lines: {ok} agree")
            if r.status == "agree":
                continue
        mark = {"differs": "! ", APPROX: "~ "}.get(r.status, "  ")
        if r.key.startswith("lines:") and r.status != "not predicted":
            out += fit(f"{mark}{r.label:<{lw}}  predicted ", r.predicted, width)
            out += fit(f"{mark}{'':<{lw}}  real      ", r.real, width)
            continue
        line = f"{mark}{r.label:<{lw}}  {r.predicted:<{pw}}  {r.real}".rstrip()
        if width is None or len(line) <= width:
            out.append(line)
        else:
            out += fit(mark, r.label, width)
            out += fit(f"{mark}  predicted ", r.predicted, width)
            out += fit(f"{mark}  real      ", r.real, width)
    out += fit("", summary(rows), width)
    return "\n".join(out)


def fit(head: str, text: str, width: int | None) -> list[str]:
    """``head + text``, folded at ``width`` (continuation lines indented under the text)."""
    if width is None or len(head) + len(text) <= width:
        return [(head + text).rstrip()]
    import textwrap

    indent = " " * min(len(head), width // 2)
    return textwrap.wrap(text, width=width, initial_indent=head, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False) or [head.rstrip()]
