"""Built-in backend ``qemu``: the QEMU 7.2 command line that realizes a machine.

Outputs, for boards ``qemu-q35`` and ``qemu-pc``:

* ``qemu/argv.json``: the argv as a JSON list (``argv[0]`` is the QEMU binary);
* ``qemu/cmdline.sh``: the same argv as one shell line (every word ``shlex.quote``d).

The command line (QEMU 7.2, ``../shared/spec/qemu.md``)::

    qemu-system-x86_64 -accel tcg|kvm -cpu max|host -machine q35|pc[,max-ram-below-4g=S]
        [,nvdimm=on][,kernel-irqchip=X][,x-oem-id=I,x-oem-table-id=T]
      -smp N[,maxcpus=M],sockets=S,cores=C,threads=T -m RAM[,slots=K,maxmem=X]
      -object memory-backend-ram,id=mN,size=...     one per node with boot RAM
      -numa node,nodeid=N[,memdev=mN]               every node (memoryless: no memdev)
      -numa cpu,node-id=N,socket-id=S              whole sockets (else per socket/core/thread)
      -numa dist,src=A,dst=B,val=V                  every pair, when the machine has distances
      -object memory-backend-ram,id=dimmK,size=... -device pc-dimm,id=dK,memdev=dimmK,node=N[,addr=A]
      -nographic -no-reboot -nic none -serial stdio -monitor none
      -kernel <vmlinuz> -initrd <initrd> -append "<the machine's cmdline>"

Decisions:

* ``-accel tcg`` unless the board says ``accel kvm``: KVM cannot boot Linux in the reference
  environment, and KVM changes the CPU model (``-cpu host``) and so the e820 map, so boot
  results are only comparable under TCG.  A machine without NUMA gets no ``-numa`` at all.
* ``-cpu max``: under TCG this is an **AMD**-vendor CPU with 40 or more physical address
  bits.  SeaBIOS therefore reserves the AMD HyperTransport hole: the guest's e820 map ends
  with ``[0xfd00000000-0xffffffffff] reserved`` (an Intel ``-cpu`` model would not have
  it), and QEMU would move RAM above 4 GiB to 1 TiB if it reached that hole (not at these
  sizes).  The e820 map fwc predicts assumes this CPU.
* CPUs: QEMU numbers possible CPUs 0..maxcpus-1 socket-major and packs socket, core and
  thread ids into power-of-two APIC ID fields; the first ``-smp N`` CPUs are present, the
  rest possible but absent (the model's ``disabled`` CPUs).  With a ``topology`` statement
  that topology is used; otherwise one socket per node with CPUs (when all such nodes have
  as many CPUs and the APIC IDs then match), so whole sockets map to nodes and the guest
  does not warn about llc siblings on other nodes; otherwise one socket per CPU (APIC IDs
  0..n-1).
* Memory: QEMU stacks the node memdevs in node-id order into ``pc.ram`` (``-m`` is their
  sum); a node's memdev is its span of pc.ram, so explicit ``[0, 640K) + [1M, 2G)`` is a
  2 GiB memdev.  QEMU splits ``-m`` below/above 4 GiB per machine type (``fwc.boards``).
* DIMMs go out in address order; ``addr=`` is given only where QEMU's first fit from the
  device-memory window's base would not put the DIMM where the model has it.
* ``-append`` defaults to the machine's ``cmdline``; options ``kernel``, ``initrd``,
  ``append`` and ``qemu`` override the placeholders (an empty ``initrd`` drops ``-initrd``).
  fwc does not predict where QEMU's loader puts the kernel and initrd.

On the ``generic`` board (and for arm64) the backend writes nothing and reports a
**note** (check name ``qemu-board``, FWC4112; ``-W no-qemu-board`` silences it): there is
no QEMU machine to realize, so this is not a problem of the description, and
``fwc compile`` without ``-b`` runs every backend.

Where the description cannot be realized on its QEMU board, checks say why and what
would fit (see ``CHECKS``).  They are computed by :func:`plan.plan`, which simulates what
QEMU builds from the argv (below/above 4G split, its own SRAT's node ranges, the DIMM
window and first fit) and compares it with the model.  Heavy imports stay in
``generate``; the checks only import :mod:`.plan` (stdlib, and for a machine whose initrd
carries tables the initrd plugin's public API: whether Linux reads an initrd SRAT).

Public API, for other plugins and commands (``fwc boot`` uses it): :func:`cached_plan` and
the :class:`Plan` it returns (``below_4g``, ``ram``, ``memdevs``, ``dimms``, ``cpu``, ...).
Everything else in this package is private to it.  Codes: FWC4100-FWC4199.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fwc.plugin import BackendContext, CheckRegister, hookimpl, register_check_group

if TYPE_CHECKING:
    from fwc.model import Machine

    from .plan import Plan

__all__ = ["cached_plan", "Plan", "CHECKS", "DIAGNOSTICS"]

#: (name, code, level, description)
CHECKS = [
    ("qemu-cpu-numbering", 4100, "error",
     "QEMU cannot give the CPUs these APIC IDs or this present/absent pattern"),
    ("qemu-x2apic", 4101, "error",
     "APIC IDs of 255 or more (x2APIC), which QEMU 7.2 refuses under TCG"),
    ("qemu-node-ids", 4102, "error", "node ids QEMU cannot express (gaps, 128 or more)"),
    ("qemu-memory-layout", 4103, "error",
     "boot RAM that QEMU's node-ordered memdev stacking cannot produce"),
    ("qemu-hotplug-memory", 4104, "error", "slots, maxmem or DIMM addresses QEMU refuses or places elsewhere"),
    ("qemu-pxm", 4105, "warning", "a proximity domain other than the node id, without an SRAT override"),
    ("qemu-hotplug-boot-ram", 4106, "warning",
     "hotpluggable boot RAM without an initrd SRAT override (QEMU never marks boot RAM hotpluggable)"),
    ("qemu-memory-flags", 4107, "warning",
     "nonvolatile or disabled boot RAM without an SRAT override; mirror ranges (SeaBIOS has no EFI memory map)"),
    ("qemu-initiators", 4108, "warning", "generic initiators or ports without an SRAT override"),
    ("qemu-socket-split", 4109, "warning", "a CPU socket split across nodes (guest llc-sibling warning)"),
    ("qemu-kaslr", 4110, "warning", "an SRAT override for hotpluggable RAM without 'nokaslr'"),
    ("qemu-smt", 4111, "warning", "more than one thread per core, which -cpu max under TCG cannot describe"),
    ("qemu-oem", 4113, "warning",
     "an OEM revision, creator or per-table identity QEMU's tables cannot carry (only x-oem-id/x-oem-table-id)"),
]

#: Names only the backend reports (no check function): (name, code, level, description)
DIAGNOSTICS = [
    ("qemu-board", 4112, "note", "the backend writes nothing: not an x86_64 machine on a QEMU board"),
]


def __getattr__(name: str) -> Any:
    if name == "Plan":  # lazily: .plan is not imported until a QEMU-board machine is checked
        from .plan import Plan

        return Plan
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cached_plan(machine: "Machine") -> "Plan":
    """How ``machine`` (x86_64, board qemu-q35 or qemu-pc) is realized on QEMU 7.2, computed
    once per machine object: the argv's pieces, QEMU's below/above-4G split, and problems."""
    from .plan import cached_plan as plan_of

    return plan_of(machine)


def _is_target(m: "Machine") -> bool:
    from fwc import boards

    return boards.is_qemu(m.board) and m.arch == "x86_64"


def _problems(machine: "Machine") -> list[tuple]:
    """Every problem the plan of a QEMU-board machine finds, for check_group."""
    if not _is_target(machine):
        return []
    return [(p.check, p.message, p.span, p.notes) for p in cached_plan(machine).problems]


@hookimpl
def fwc_register_checks(register: CheckRegister) -> None:
    register_check_group(register, _problems, CHECKS, DIAGNOSTICS)


@hookimpl
def fwc_register_backends(register: Any) -> None:
    register("qemu", generate, description="QEMU 7.2 command line (argv JSON and shell line) for qemu boards",
             outputs=["qemu/argv.json", "qemu/cmdline.sh"],
             options={
                 "qemu": ("qemu-system-x86_64", "the QEMU binary (argv[0])"),
                 "kernel": ("<vmlinuz>", "path of the kernel image for -kernel"),
                 "initrd": ("<initrd>", "path of the initrd for -initrd (empty: no -initrd)"),
                 "append": ("", "kernel command line (default: the machine's cmdline)"),
             })


def generate(ctx: BackendContext) -> None:
    from fwc.diagnostics import NOTE, Diagnostic

    m = ctx.machine
    if not _is_target(m):
        what = f"board '{m.board}'" if m.arch == "x86_64" else f"arch '{m.arch}'"
        ctx.diagnostics.append(Diagnostic(
            NOTE, "qemu-board",
            f"backend qemu writes nothing for {what}: it realizes only x86_64 machines on boards "
            "qemu-q35 and qemu-pc", m.span))
        return
    from .argv import argv_json, full_argv, shell_line

    p = cached_plan(m)
    opts = ctx.options
    argv = full_argv(p, qemu=opts["qemu"], kernel=opts["kernel"], initrd=opts["initrd"],
                     append=opts["append"] or m.cmdline)
    ctx.emit("qemu/argv.json", argv_json(argv))
    ctx.emit("qemu/cmdline.sh", shell_line(argv))
