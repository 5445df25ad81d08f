"""``boot/kernels.txt``: the same machine predicted under every modelled kernel (Linux 6.1 and
6.12), side by side, each row marked where the kernels differ -- the question before an
upgrade (*what changes for my machine's memory layout?*).  Same layout as ``policies.txt``."""

from __future__ import annotations

from typing import Any, Callable

from .render import summary


def _zones(rows) -> dict[tuple[int, str], tuple[int, int, int]]:
    return {(n, z): (s, sp, pr) for n, z, s, sp, pr in rows}


def kernels_text(m: Any, boots: dict[str, Any]) -> str:
    """The comparison of ``boots`` (kernel version -> Boot of the same machine, options and policy)."""
    names = list(boots)
    sums = {k: summary(b) for k, b in boots.items()}
    first = boots[names[0]]
    w = max(len(k) for k in names) + 7
    out = [f"# {m.name}: the same machine under Linux {' and '.join(names)} (policy {first.policy}); "
           "'<- differs' marks what the kernels decide differently",
           f"cmdline: {first.cmdline}"]

    def row(title: str, f: Callable[[Any, Any], str]) -> None:
        vals = [f(sums[k], boots[k]) for k in names]
        out.append(f"{title}:")
        for k, v in zip(names, vals):
            out.append(f"  {'Linux ' + k + ':':<{w}} {v}")
        if len(set(vals)) > 1:
            out[-1] += "   <- differs"

    row("NODE_DATA", lambda s, b: ", ".join(f"{n}@{d['address']}" + (f" (on node {d['on_node']})"
                                                                     if str(d['on_node']) != n else "")
                                            for n, d in s["node_data"].items()) or "none")
    row("Movable zone start", lambda s, b: ", ".join(f"node {n}: {v}" for n, v in s["movable_zone_start"].items())
        or "none")
    row("kernel nodes", lambda s, b: ",".join(map(str, s["kernel_nodes"])) or "none")
    row("ZONE_MOVABLE pages", lambda s, b: ", ".join(f"node {n}: {v}" for n, v in s["movable_pages"].items())
        or "none")
    row("nodes that cannot be hot-removed", lambda s, b: ",".join(map(str, s["pinned_nodes"])) or "none")
    row("cold-plugged DIMMs after boot", lambda s, b: ", ".join(f"[mem {base:#x}-{base + size - 1:#x}] node {nid} "
                                                                f"{state}" for nid, base, size, state in b.dimm_online)
        or "none")
    for title, attr in (("zones at the end of early boot", "zones"),
                        ("zones userspace sees (after the DIMMs are hot-added)", "zones_final")):
        out.append(f"{title} (node zone start_pfn spanned present):")
        zs = {k: _zones(getattr(b, attr) or b.zones) for k, b in boots.items()}
        for key in sorted(set().union(*zs.values())):
            vals = [" ".join(map(str, zs[k][key])) if key in zs[k] else "-" for k in names]
            cells = "  ".join(f"Linux {k} {v:<24}" for k, v in zip(names, vals))
            out.append(f"  node {key[0]} {key[1]:<8} {cells}".rstrip() + ("   <- differs" if len(set(vals)) > 1 else ""))
    return "\n".join(out) + "\n"
