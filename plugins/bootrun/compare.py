"""Predicted against real, row by row, with the differences marked."""

from __future__ import annotations

from typing import NamedTuple

ZONE_ORDER = {"DMA": 0, "DMA32": 1, "Normal": 2, "Movable": 3, "Device": 4}
#: Keys compared, in display order, with their row labels.
KEYS = ("ramdisk", "table_upgrade", "srat", "node_data", "zone_ranges", "movable_start", "early_ranges", "zones")
ABSENT = "-"


class Row(NamedTuple):
    key: str  # observation key
    label: str
    predicted: str  # ABSENT when the side has no such row
    real: str
    compared: bool  # False: the prediction does not cover this key

    @property
    def differs(self) -> bool:
        return self.compared and self.predicted != self.real


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
        elif key == "zones":
            pv = " ".join(str(x) for x in pv) if pv else None
            rv = " ".join(str(x) for x in rv) if rv else None
        label = {"node_data": f"NODE_DATA({k})", "zone_ranges": f"zone range {k}",
                 "movable_start": f"Movable start node {k}", "early_ranges": f"early ranges node {k}",
                 "zones": f"zone {k} (start spanned present)"}[key]
        out.append((label, pv if pv is not None else ABSENT, rv if rv is not None else ABSENT))
    return out


def compare(predicted: dict | None, real: dict) -> list[Row]:
    rows = []
    for key in KEYS:
        pv_all = predicted.get(key) if predicted is not None else None
        covered = predicted is not None and key in predicted
        if key not in real and not covered:
            continue
        for label, pv, rv in _rows_for(key, pv_all, real.get(key)):
            rows.append(Row(key, label, pv if covered else "(not predicted)", rv, covered))
    return rows


def agree(rows: list[Row]) -> bool:
    return not any(r.differs for r in rows) and any(r.compared and r.key == "zones" for r in rows)


def render(rows: list[Row], width: int | None = None) -> str:
    lw = max([len("item")] + [len(r.label) for r in rows])
    pw = max([len("predicted")] + [len(r.predicted) for r in rows])
    out = [f"  {'item':<{lw}}  {'predicted':<{pw}}  real", f"  {'-' * lw}  {'-' * pw}  {'-' * 4}"]
    for r in rows:
        mark = "! " if r.differs else "  "
        out.append(f"{mark}{r.label:<{lw}}  {r.predicted:<{pw}}  {r.real}".rstrip())
    return "\n".join(out)
