"""Built-in backend ``boot``: Linux 6.1 or 6.12 x86_64 early boot, memblock and zones.

Outputs (under ``boot/``): ``dmesg.txt`` (the kernel's own line formats, diffable against a
real dmesg), ``memblock.log`` (``memblock=debug`` style, every call with its purpose as the
caller), ``memblock.txt`` (final arrays), ``zones.txt`` (per node: start_pfn, spanned,
present; at the end of early boot and after cold-plugged DIMMs are onlined), ``pins.txt``
(kernel allocations in hotpluggable memory and the nodes they keep from being hot-removed),
``policies.txt`` (upstream 6.1 against the 2013 seed design, events included),
``events.txt`` (the memory blocks after boot and every event step: outcome, blocks, zones,
DIMMs, zonelist lines), ``kernels.txt`` (the same machine under Linux 6.1 and 6.12, side by
side) and ``boot.json`` (all of it).  Every file says which kernel it predicts.

Options: ``kernel`` = ``6.1`` (default) or ``6.12``, or a bzImage (its build figures and the
version its header names); ``policy`` = ``upstream`` (default) or ``seed``; ``cmdline``: words appended to the
machine's kernel command line; ``dsdt-size``: QEMU's DSDT length, for exact ACPI addresses.

Command: ``fwc memblock run SCRIPT`` (:mod:`.command`).
"""

from __future__ import annotations

from fwc.plugin import Option, hookimpl

OUTPUTS = ["boot/dmesg.txt", "boot/memblock.log", "boot/memblock.txt", "boot/zones.txt", "boot/pins.txt",
           "boot/policies.txt", "boot/events.txt", "boot/kernels.txt", "boot/boot.json"]


@hookimpl
def fwc_register_backends(register):
    register("boot", generate, description="simulated Linux 6.1 or 6.12 x86_64 early boot: dmesg, memblock, zones, pins",
             outputs=OUTPUTS,
             options={"policy": Option("upstream", "upstream (Linux 6.1) or seed (2013 movablecore=acpi design)"),
                      "cmdline": Option("", "words appended to the machine's kernel command line"),
                      "dsdt-size": Option(0, "QEMU boards: DSDT length in bytes (0: known value or estimate)"),
                      "kernel": Option("", "the kernel predicted: 6.1 (default) or 6.12, Debian's builds; or a "
                                           "bzImage: its build figures (image sections, per-CPU size, config) "
                                           "and the version its header names")})


#: Every diagnostic name the backend emits: (name, code, level, description, analysis or None
#: for a name only :func:`generate` reports).  Codes FWC4400-4499 belong to this plugin.
CHECKS = [
    ("boot-pinned-hotplug", 4400, "warning",
     "hotpluggable memory that Linux 6.1 pins with kernel allocations at boot", "check_pinned"),
    ("boot-unsupported", 4401, "warning",
     "a machine the boot simulation does not cover (x86_64 with nodes only): boot/ is not written", None),
    ("boot-option", 4402, "error", "a bad option of backend boot (boot.policy, boot.kernel)", None),
    ("boot-kernel", 4403, "error", "the description names a kernel version fwc does not model (kernel \"6.12\")",
     "check_kernel"),
    ("boot-kernel-override", 4404, "note", "-O boot.kernel= predicts another kernel than the description names", None),
    ("event-block", 4420, "error", "an event names a memory block that does not exist at that point",
     "check_event_block"),
]


@hookimpl
def fwc_register_checks(register):
    for name, code, level, desc, fn in CHECKS:
        register(name, level, desc, globals()[fn] if fn else None, code=code)


@hookimpl
def fwc_register_commands(register):
    from .command import fwc_register_commands as commands

    commands(register)


# ---------------------------------------------------------------------------
def _applies(machine) -> bool:
    return machine.arch == "x86_64" and bool(machine.nodes)


def check_kernel(machine, report):
    from fwc.suggest import did_you_mean

    from .kernel.version import KERNELS

    v = machine.kernel_version
    if v and v not in KERNELS:
        report(f"unknown kernel version '{v}': fwc models Linux {' and '.join(KERNELS)}" + did_you_mean(v, KERNELS),
               machine.kernel_version_span)


def check_pinned(machine, report):
    # Pins only keep memory out of ZONE_MOVABLE under movable_node, and only hotpluggable
    # memory can be pinned: otherwise there is nothing to simulate for this check.
    if not _applies(machine) or "movable_node" not in machine.params:
        return
    if not any(r.hotpluggable for n in machine.nodes for r in n.memory):
        return
    from .sim import simulate

    b = simulate(machine)
    if not b.movable_node:
        return  # without movable_node no memory is ZONE_MOVABLE anyway (a different problem)
    for nid, reason, why, inside in b.pins:
        if not why and not inside:
            continue
        node = _node_of(machine, b, nid)
        what = "; ".join(f"{a.purpose} at {a.base:#x}" for a in why[:4])
        more = f" (+{len(why) - 4} more)" if len(why) > 4 else ""
        report(f"Linux node {nid}: hotpluggable memory cannot be hot-removed: {reason}"
               + (f": {what}{more}" if what else ""), node.span if node is not None else machine.span)


def check_event_block(machine, report):
    """Online/offline events naming memory blocks that do not exist when they are played
    (the blocks after boot and after the events before them, as Linux 6.1 creates them)."""
    if not machine.events or not _applies(machine):
        return
    if not any(e.action not in ("add", "remove", "set") for e in machine.events):
        return
    from .sim import simulate

    for st in simulate(machine).steps:
        if st.problem:
            report(st.problem, st.span)


def _node_of(machine, b, nid):
    inv = {v: k for k, v in b.pxm_to_node.items()}
    pxm = inv.get(nid)
    for n in machine.nodes:
        if n.pxm == pxm or (boards_is_qemu(machine) and n.id == pxm):
            return n
    return None


def boards_is_qemu(machine) -> bool:
    from fwc import boards

    return boards.is_qemu(machine.board)


# ---------------------------------------------------------------------------
def generate(ctx):
    from . import render
    from .kernel.policy import POLICIES
    from .kernel.version import KERNELS
    from .sim import OutputBound, simulate

    m = ctx.machine
    if not _applies(m):
        ctx.warning("boot-unsupported", "the boot simulation covers x86_64 machines with nodes only", m.span)
        return
    policy = ctx.options["policy"]
    if policy not in POLICIES:
        ctx.error("boot-option", f"option boot.policy: expected {' or '.join(POLICIES)}, got '{policy}'", m.span)
        return
    cmdline = " ".join(x for x in (m.cmdline, ctx.options["cmdline"]) if x)
    dsdt = ctx.options["dsdt-size"] or None
    kernel, build = _kernel_option(ctx, m)
    if kernel is None:
        return
    # boot/memblock.log is main's log, boot.json has its allocations: a boot whose outputs pass
    # the compile's bound stops when they do, before the other boots are simulated
    room = ctx.room()
    try:
        main = simulate(m, policy=policy, cmdline=cmdline, dsdt_size=dsdt, build=build, kernel=kernel, limit=room)
    except OutputBound as e:
        ctx.reserve(e.floor)
        return
    # the boots compared with it (policies.txt, kernels.txt) are not written whole, but one past
    # the same bound is not simulated either: it stops when it passes
    other_policy = next(p for p in POLICIES if p != policy)
    compared = {(other_policy, kernel): f"policy {other_policy}",
                **{(policy, k): f"Linux {k}" for k in KERNELS if k != kernel}}
    boots = {}
    for (pol, k), label in compared.items():
        try:
            boots[pol, k] = simulate(m, policy=pol, cmdline=cmdline, dsdt_size=dsdt, kernel=k, limit=room,
                                     build=build if k == kernel else None)
        except OutputBound as e:
            ctx.reserve(e.floor, f"compares the boot with {label}'s, whose memblock log and allocations alone "
                                 f"take at least {e.floor} bytes")
            return
    other = boots[other_policy, kernel]
    kernels = {k: boots.get((policy, k), main) for k in KERNELS}
    for path, data in render.outputs(m, main, other, kernels).items():
        ctx.emit(path, data)


def _kernel_option(ctx, m):
    """The kernel predicted and its build: ``boot.kernel``, a version fwc models (``6.1``,
    ``6.12``: Debian's recorded build figures) or a bzImage (its build figures, and the version
    its header names), over the description's ``kernel "…"`` (with a note when they differ),
    else the default; (None, None) after a boot-option error."""
    from .kernel.version import kernel_of

    spec = str(ctx.options["kernel"])
    series, build = _kernel_spec(ctx, m, spec) if spec else (kernel_of(m), None)
    if spec and series and m.kernel_version and m.kernel_version != series:
        from fwc.diagnostics import NOTE, Diagnostic

        ctx.diagnostics.append(Diagnostic(NOTE, "boot-kernel-override", f"-O boot.kernel={spec} overrides the "
                                          f"description's kernel \"{m.kernel_version}\": predicting Linux {series}",
                                          m.kernel_version_span))
    return series, build


def _kernel_spec(ctx, m, spec):
    from .kernel.version import KERNELS, bzimage_release

    if spec in KERNELS:
        return spec, None
    import os

    if not os.path.exists(spec):
        ctx.error("boot-option", f"option boot.kernel: expected {' or '.join(KERNELS)} or a bzImage, got '{spec}' "
                  "(no such file)", m.span)
        return None, None
    from .kernel_build import cached_build

    try:
        build = cached_build(spec)
        release, series = bzimage_release(spec)
    except (OSError, ValueError, LookupError) as e:
        ctx.error("boot-option", f"option boot.kernel: {e}", m.span)
        return None, None
    if series not in KERNELS:
        ctx.error("boot-option", f"option boot.kernel: '{spec}' is Linux {release or '(no version in its header)'}: "
                  f"fwc models {' and '.join(KERNELS)}", m.span)
        return None, None
    return series, build
