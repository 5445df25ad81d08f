"""After boot, step by step: the memory blocks the real guest lists after boot, and for every
event step its outcome, memory blocks, zones (with the change of ``managed`` since boot),
QEMU's DIMMs and the zonelist lines, against the boot simulator's steps
(:class:`fwc_plugins.boot.events.Step`), as rows of the same table (:class:`.compare.Row`).

A *not guaranteed* offline (a kernel zone: runtime allocations decide) is shown as
``approximate`` whatever the kernel did; the prediction then follows what it did (``given``)."""

from __future__ import annotations

import re

from .compare import ABSENT, Row
from ..boot import block_ids, runs
from .observe import parse_zoneinfo_managed, sections

NG = "not guaranteed"


def real_steps(console: str, qemu: list[dict]) -> list[dict]:
    """Per step: ``writes``, ``lines`` (zonelist lines), ``zones``, ``blocks``, ``dimms``, ``outcome``."""
    secs = sections(console)
    out = []
    base: dict[str, int] = {}
    for i, q in enumerate(qemu):
        if f"step-{i}-memory" not in secs:
            break
        zi = parse_zoneinfo_managed(secs.get(f"step-{i}-zoneinfo", ""))
        if i == 0:
            base = {k: v[3] for k, v in zi.items()}
        zones = {k: v[:3] + [v[3] - base.get(k, 0)] for k, v in zi.items()}
        lines = [ln.rstrip() for ln in secs.get(f"step-{i}-dmesg", "").splitlines()
                 if re.match(r"^(Fallback order for Node |Built \d+ zonelists|Policy zone: )", ln)]
        dmesg = secs.get(f"step-{i}-dmesg", "")
        out.append({"offline_failed": {int(x) for x in re.findall(r"memory(\d+): Offline failed", dmesg)},
                    "writes": [ln.strip() for ln in secs.get(f"step-{i}", "").splitlines() if ln.strip()],
                    "lines": lines, "zones": zones, "blocks": sort_blocks(secs[f"step-{i}-memory"].splitlines()),
                    "dimms": q.get("dimms", []), "outcome": q.get("outcome")})
    return out


def sort_blocks(rows: list[str]) -> list[str]:
    return sorted((r.strip() for r in rows if r.strip()), key=lambda r: int(r.split()[0]))


def block_rows(pred_blocks: list[str] | None, block_size: int | None, real_memory: str | None) -> list[Row]:
    """The memory blocks after boot (every boot: /sys/devices/system/memory)."""
    if real_memory is None:
        return []
    lines = real_memory.splitlines()
    rsize = next((ln.split("=", 1)[1] for ln in lines if ln.startswith("block_size_bytes=")), ABSENT)
    real = runs(sort_blocks([ln for ln in lines if ln[:1].isdigit()]))
    covered = pred_blocks is not None
    pred = runs(pred_blocks or [])
    rows = [Row("memory_blocks", "memory block size", f"{block_size:#x}" if covered and block_size else ABSENT,
                rsize, covered)]
    return rows + _listed("memory_blocks", "memory", pred, real, covered)


def _listed(key: str, label: str, p: list[str], r: list[str], covered: bool, approx: bool = False) -> list[Row]:
    rows = []
    for i in range(max(len(p), len(r))):
        pv = p[i] if i < len(p) else ABSENT
        rv = r[i] if i < len(r) else ABSENT
        ok = approx and pv != rv and ABSENT not in (pv, rv) and \
            re.sub(r"Total pages: \d+", "", pv) == re.sub(r"Total pages: \d+", "", rv)
        rows.append(Row(key, f"{label} #{i + 1}", pv if covered else "(not predicted)", rv, covered, ok))
    return rows


def _added(prev: list[str], cur: list[str]) -> str:
    old = {r.split()[0] for r in prev}
    new = [r.split() for r in cur if r.split()[0] not in old]
    if not new:
        return "no new block"
    nodes = sorted({r[1].split("=")[1] for r in new})
    return f"added blocks {new[0][0]}-{new[-1][0]} on node {','.join(nodes)}"


def step_rows(pred, real: list[dict], first=None) -> list[Row]:
    """Rows for every step (``pred``: the simulator's steps, following the real outcome of
    *not guaranteed* steps; ``first``: its steps before, whose outcomes are shown)."""
    rows: list[Row] = []
    for i, st in enumerate(pred):
        said = (first or pred)[i] if i < len(first or pred) else st
        key = f"step:{i}"
        tag = f"step {i} ({st.event})"
        if i >= len(real):
            rows.append(Row(key, tag, "played", "(not reached)", True))
            break
        r = real[i]
        if i:
            action = st.event.split()[0]
            if action == "add":
                rv = r["outcome"] or _added(real[i - 1]["blocks"], r["blocks"])
                rows.append(Row(key, f"{tag} outcome", "; ".join(st.writes), rv, True))
            elif action == "set":
                rows.append(Row(key, f"{tag} outcome", "; ".join(st.writes), "; ".join(r["writes"]) or ABSENT, True))
            elif action == "remove":
                pv = "; ".join(said.writes)
                rows.append(Row(key, f"{tag} outcome", pv, r["outcome"] or ABSENT, True, NG in pv))
            else:
                for k in range(max(len(said.writes), len(r["writes"]))):
                    pv = said.writes[k] if k < len(said.writes) else ABSENT
                    rv = r["writes"][k] if k < len(r["writes"]) else ABSENT
                    rows.append(Row(key, f"{tag} write #{k + 1}", pv, rv, True, NG in pv))
            for d in said.detail:
                rows.append(Row(key, f"{tag} why", d, "", False))
        rows += _listed(key, f"{tag} memory", runs(st.blocks), runs(r["blocks"]), True)
        for z in sorted(set(st.zones) | set(r["zones"]), key=_zkey):
            pv = " ".join(str(x) for x in st.zones[z]) if z in st.zones else ABSENT
            rv = " ".join(str(x) for x in r["zones"][z]) if z in r["zones"] else ABSENT
            rows.append(Row(key, f"{tag} zone {z} (start spanned present Δmanaged)", pv, rv, True))
        rows += _listed(key, f"{tag} DIMM", st.dimms, r["dimms"], True)
        rows += _listed(key, f"{tag} zonelists", [ln.rstrip() for ln in st.lines], r["lines"], True, approx=True)
    return rows


def _zkey(z: str):
    from .compare import ZONE_ORDER

    n, name = z.split()
    return int(n), ZONE_ORDER.get(name, 9)


def given_from(pred, real: list[dict]) -> dict[int, set[int]]:
    """The blocks whose *not guaranteed* offline the real kernel did, per step (a remove's
    blocks when its eject succeeded)."""
    out: dict[int, set[int]] = {}
    for i, st in enumerate(pred):
        if i >= len(real) or not i:
            continue
        if st.event.startswith("remove") and real[i]["outcome"] in ("removed", "eject refused"):
            # every block the eject's first pass offlined: all when it was removed; when it was
            # refused, all but the one the kernel names ("memoryN: Offline failed.")
            out[i] = {b for row in pred[i - 1].blocks for b in block_ids(row)} - real[i]["offline_failed"]
        for w in real[i]["writes"]:
            bid, _, res = w.partition(" ")
            if res == "ok" and bid.isdigit():
                out.setdefault(i, set()).add(int(bid))
    return out
