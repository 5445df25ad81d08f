"""Pass 3 of the build for QEMU boards: the board options (``board qemu-q35
max-ram-below-4g 1G``), QEMU's memory layout for size-only memory, and first-fit DIMM
placement in the device-memory window (the rules themselves are :mod:`fwc.boards`)."""

from __future__ import annotations

from . import boards
from .diagnostics import Related


def board_options(el, board, stmts, M):
    """The QEMU board options (``board qemu-q35 max-ram-below-4g 1G``)."""
    values: dict = {}
    span = None
    for o in stmts:
        span = o.span if span is None else span
        if not boards.is_qemu(board):
            el.error("misplaced-statement", f"'{o.kind}' is an option of the QEMU boards (qemu-q35, qemu-pc), "
                     f"not of board '{board}'", o.span)
            continue
        if o.kind in values:
            el.error("duplicate-statement", f"board option '{o.kind}' is given more than once", o.span)
            continue
        if o.kind == "max-ram-below-4g":
            # QEMU 7.2 pc_machine_set_max_ram_below_4g(): at most 4 GiB
            v = el.eval(o.args["value"], "max-ram-below-4g", 1, boards.FOUR_G)
            if v is not None:
                values["max_ram_below_4g"] = v
        else:
            word = o.args["value"]
            known = ("tcg", "kvm") if o.kind == "accel" else ("on", "off", "split")
            if word.value not in known:
                el.error("unknown-value", f"unknown {o.kind} '{word.value}' (known: {', '.join(known)})", word.span)
            else:
                values[o.kind.replace("-", "_")] = word.value
    if values.get("kernel_irqchip") and values.get("accel") != "kvm":
        el.error("misplaced-statement", "kernel-irqchip is KVM's in-kernel interrupt controller: it needs 'accel kvm' "
                 "(TCG emulates the interrupt controllers itself)", span)
        values.pop("kernel_irqchip")
    return M.BoardOptions(**values, span=span)


def qemu_layout(el, nodes, board, limit, M):
    """Give size-only memory its QEMU addresses; return (nodes, ram_size, above_4g)."""
    import attrs

    boot = [(n, m) for n in nodes for m in n.boot_memory]
    sized = [(n, m) for n, m in boot if m.base < 0]
    placed = [(n, m) for n, m in boot if m.base >= 0]
    if sized and placed:
        el.error("memory-layout",
                 f"on board {board} give either every memory range a base address or none "
                 "(fwc then lays the RAM out as QEMU does)", sized[0][1].span,
                 related=(Related("this range has a base address", placed[0][1].span),))
        return nodes, 0, 0
    if not sized:
        ram = boards.ram_size(board, [m for _, m in boot], limit)
        below = boards.below_4g(board, ram, limit)
        return nodes, ram, ram - below
    ram = sum(m.size for _, m in sized)
    below = boards.below_4g(board, ram, limit)
    pieces = iter(boards.srat_ranges((m.size for n in nodes for m in n.memory if not m.dimm), below))
    out = []
    for n in nodes:
        mem = []
        for m in n.memory:
            if m.dimm:
                mem.append(m)
                continue
            mem += [attrs.evolve(m, base=base, size=size) for base, size in next(pieces)]
        out.append(attrs.evolve(n, memory=mem))
    return out, ram, ram - below


def place_dimms(el, nodes, above, ram, slots, maxmem, M):
    import attrs

    if maxmem < ram:
        return nodes
    base, size = boards.device_window(above, ram, slots, maxmem)
    cursor = base
    out = []
    for n in nodes:
        mem = []
        for m in n.memory:
            if m.dimm and m.base < 0:
                m = attrs.evolve(m, base=cursor)
            if m.dimm:
                cursor = max(cursor, m.end)
            mem.append(m)
        out.append(attrs.evolve(n, memory=mem))
    return out
