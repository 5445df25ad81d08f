"""The boot backend's output files, from one simulated boot per policy; ``boot.json`` is
written through :mod:`.report` (the versioned contract), the text files here."""

from __future__ import annotations

from fwc.diagnostics import visible

from .kernel.zones import ZONE_NAMES
from .memblock import Memblock
from .report import BootReport, PolicySummary
from .report import Memblock as ReportMemblock


def _zones_text(b) -> str:
    out = [f"# Linux {b.kernel}: node zone start_pfn spanned present (populated zones, end of early boot)"]
    out += [f"{n} {z} {s} {sp} {pr}" for n, z, s, sp, pr in b.zones]
    if b.dimm_online:
        out.append("# after cold-plugged DIMMs are hot-added and onlined per memhp_default_state")
        for nid, base, size, state in b.dimm_online:
            out.append(f"# dimm [mem {base:#x}-{base + size - 1:#x}] node {nid}: {state}")
        out += [f"{n} {z} {s} {sp} {pr}" for n, z, s, sp, pr in b.zones_final]
    out.append("# per node, every zone (start_pfn spanned present)")
    for nid in sorted(b.zones_all):
        row = " | ".join(f"{z} {s} {sp} {pr}" for z, (s, sp, pr) in zip(ZONE_NAMES, b.zones_all[nid]))
        out.append(f"node {nid}: {row}")
    return "\n".join(out) + "\n"


def _memblock_text(mb: Memblock) -> str:
    return mb.dump_all() + "\n\n" + mb.dump() + "\n"


def _pins_text(b) -> str:
    out = [f"# Linux {b.kernel}, policy {b.policy}: kernel allocations in hotpluggable memory (per the SRAT Linux used)"]
    if not b.hotplug_nodes:
        out.append("no hotpluggable boot memory in the SRAT: nothing to pin")
        return "\n".join(out) + "\n"
    for nid in sorted(b.hotplug_nodes):
        out.append(f"node {nid}: {b.hotplug_nodes[nid] >> 20} MiB hotpluggable boot RAM, "
                   f"{b.movable_pages.get(nid, 0) * 4096 >> 20} MiB in ZONE_MOVABLE")
    from fwc.show import pin_lines  # the one format, shared with fwc show

    return "\n".join(out + pin_lines(b.pins)) + "\n"


def policy_summary(b) -> PolicySummary:
    """What one policy's boot decided, as boot.json's ``summary`` (report.PolicySummary)."""
    return PolicySummary(policy=b.policy, cmdline=b.cmdline, kernel_nodes=b.kernel_nodes,
                         movable_zone_start={n: v << 12 for n, v in b.zmp.items()},
                         node_data=b.node_data, zones=b.zones, movable_pages=b.movable_pages,
                         pinned_nodes={nid for nid, *_ in b.pins})


def summary(b) -> dict:
    """``policy_summary(b)`` as plain JSON values."""
    return policy_summary(b).to_dict()


def _policies_text(m, up, seed) -> str:
    a, c = summary(up), summary(seed)
    out = [f"# {m.name}: the same machine under Linux {up.kernel} (upstream, movable_node) and the 2013 seed design "
           "(movablecore=acpi: hotpluggable ranges reserved early, freed after memory init)",
           f"cmdline: {a['cmdline']}"]
    rows = [("Movable zone start", lambda s: ", ".join(f"node {n}: {v}" for n, v in s["movable_zone_start"].items())
             or "none"),
            ("kernel nodes (upstream rule)", lambda s: ",".join(map(str, s["kernel_nodes"])) or "none"),
            ("ZONE_MOVABLE pages", lambda s: ", ".join(f"node {n}: {v}" for n, v in s["movable_pages"].items())
             or "none"),
            ("NODE_DATA", lambda s: ", ".join(f"{n}@{d['address']}" + (f" (on node {d['on_node']})"
                                                                        if str(d['on_node']) != n else "")
                                               for n, d in s["node_data"].items())),
            ("nodes that cannot be hot-removed", lambda s: ",".join(map(str, s["pinned_nodes"])) or "none")]
    for title, f in rows:
        x, y = f(a), f(c)
        out.append(f"{title}:")
        out.append(f"  upstream: {x}")
        out.append(f"  seed:     {y}" + ("" if x != y else "   (same)"))
    out.append("zones (node zone start_pfn spanned present):")
    za = {(z["node"], z["zone"]): (z["start_pfn"], z["spanned"], z["present"]) for z in a["zones"]}
    zc = {(z["node"], z["zone"]): (z["start_pfn"], z["spanned"], z["present"]) for z in c["zones"]}
    for key in sorted(set(za) | set(zc)):
        zx, zy = za.get(key), zc.get(key)
        mark = "" if zx == zy else "   <- differs"
        fx = " ".join(map(str, zx)) if zx else "-"
        fy = " ".join(map(str, zy)) if zy else "-"
        out.append(f"  node {key[0]} {key[1]:<8} upstream {fx:<26} seed {fy}{mark}")
    if m.events:
        out.append("events (outcome of each step):")
        for x, y in zip(up.steps[1:], seed.steps[1:]):
            fx, fy = "; ".join(x.writes) or "-", "; ".join(y.writes) or "-"
            out.append(f"  {x.index:>3} {x.event}")
            out.append(f"      upstream: {fx}")
            out.append(f"      seed:     {fy}" + ("   (same)" if fx == fy and x.zones == y.zones else "   <- differs"))
    return "\n".join(out) + "\n"


def _events_text(b) -> str:
    """Every step after boot: outcome, why, memory blocks, zones, DIMMs, zonelist lines."""
    from .events import runs

    out = [f"# memory block size {b.block_size:#x}"]
    for st in b.steps:
        out.append(f"step {st.index}: {st.event}")
        out += [f"  outcome: {w}" for w in st.writes] + [f"  why: {d}" for d in st.detail]
        if st.problem:
            out.append(f"  problem: {st.problem}")
        out += [f"  memory {r}" for r in runs(st.blocks)]
        out += [f"  zone {z}: start {v[0]} spanned {v[1]} present {v[2]} managed {v[3]:+d}" for z, v in st.zones.items()]
        out += [f"  dimm {d}" for d in st.dimms] + [f"  dmesg: {ln.rstrip()}" for ln in st.lines]
    return "\n".join(out) + "\n"


def outputs(m, main, other, kernels: dict | None = None) -> dict:
    """Every output file: ``main`` is the boot of the options, ``other`` the other policy's,
    ``kernels`` the boot of each modelled kernel (version -> Boot) for ``kernels.txt``."""
    from .compare_kernels import kernels_text

    up, seed = (main, other) if main.policy == "upstream" else (other, main)
    report = BootReport(
        policy=main.policy, kernel=main.kernel, online_nodes=main.online_nodes, summary=policy_summary(main), other_policy=policy_summary(other), notes=main.notes,
        dmesg=main.dmesg + main.dmesg_late,
        memblock=ReportMemblock(main.memblock.memory.regions(), main.memblock.reserved.regions()),
        allocations=main.allocs,
        zones_all={n: [{"zone": z, "start_pfn": s, "spanned": sp, "present": pr}
                       for z, (s, sp, pr) in zip(ZONE_NAMES, zi)] for n, zi in main.zones_all.items()},
        zones_after_hotadd=main.zones_final, pins=main.pins, managed=main.managed,
        kernel_build=main.build.as_json())
    out = {
        # the first line is start_kernel()'s linux_banner, as fwc knows it: the version predicted
        "boot/dmesg.txt": f"Linux version {main.kernel} (fwc's simulation of Debian's x86_64 kernel)\n"
                          + "\n".join(main.dmesg + main.dmesg_late) + "\n",
        "boot/memblock.log": f"# Linux {main.kernel}\n" + "\n".join(main.log) + "\n",
        "boot/memblock.txt": _memblock_text(main.memblock),
        "boot/zones.txt": _zones_text(main),
        "boot/pins.txt": _pins_text(main),
        "boot/policies.txt": _policies_text(m, up, seed),
        "boot/events.txt": _events_text(main),
        "boot/boot.json": report.to_json(),
    }
    if kernels:
        out["boot/kernels.txt"] = kernels_text(m, kernels)
    # The text files are read by people: names, OEM IDs and the command line from the
    # description show their control characters as \x1b (boot.json keeps them, JSON-escaped).
    return {p: t if p.endswith(".json") else visible(t, "\t\n") for p, t in out.items()}
