"""An example fwc plugin.

It adds a backend ``hello`` that writes one line per NUMA node (its CPUs,
memory and hot-pluggable memory) to ``hello/nodes.txt``, and a check
``hello-cpuless-node`` (a warning) for nodes that have memory but no CPU.

Its diagnostic codes are FWC5100-FWC5199 (a plugin owns one block of 100 in
5000-9999; see fwc's docs/plugins.md): every name it reports is registered with
its code, including ``hello-unit``, which only the backend reports.
"""

from __future__ import annotations

from fwc.model import Machine
from fwc.plugin import BackendContext, BackendRegister, CheckRegister, Option, Report, hookimpl


@hookimpl
def fwc_register_backends(register: BackendRegister) -> None:
    register(
        "hello",
        generate,
        description="one summary line per NUMA node",
        outputs=["hello/nodes.txt"],
        options={"unit": Option("MiB", "unit for sizes: KiB, MiB or GiB")},
    )


@hookimpl
def fwc_register_checks(register: CheckRegister) -> None:
    register("hello-cpuless-node", "warning", "a node with memory but no CPU", check_cpuless, code=5100)
    # Reported by the backend itself: registered without a function, so that it is listed by
    # `fwc checks` and documented, like every name a user can see.
    register("hello-unit", "error", "the hello.unit option is not KiB, MiB or GiB", code=5101)


_UNITS = {"KiB": 10, "MiB": 20, "GiB": 30}


def generate(ctx: BackendContext) -> None:
    unit = ctx.options["unit"]
    if unit not in _UNITS:
        ctx.error("hello-unit", f"unit must be one of {', '.join(_UNITS)}, not '{unit}'")
        return
    shift = _UNITS[unit]
    lines = []
    for node in ctx.machine.nodes:
        total = sum(r.size for r in node.memory if r.enabled)
        hot = sum(r.size for r in node.memory if r.enabled and r.hotpluggable)
        lines.append(f"node {node.id} pxm {node.pxm}: {len(node.cpus)} cpus, "
                     f"{total >> shift} {unit} memory, {hot >> shift} {unit} hotpluggable\n")
    ctx.emit("hello/nodes.txt", "".join(lines))


def check_cpuless(machine: Machine, report: Report) -> None:
    for node in machine.nodes:
        if node.memory and not node.cpus:
            report(f"node {node.id} has memory but no CPU", node.span)
