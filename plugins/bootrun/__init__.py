"""Command ``fwc boot``: predict a machine's Linux boot, boot it for real, compare.

``fwc boot FILE --kernel BZIMAGE [--initrd BASE] [--cmdline …] [--timeout S] [--keep DIR]``
builds the QEMU command line (``qemu`` backend), the ACPI override archive (``initrd``
backend) and a small busybox init that prints what the kernel decided (SRAT lines,
NODE_DATA, zone ranges, Movable zone starts, early memory node ranges, per-node zoneinfo)
between markers on the serial console; runs the ``boot`` simulator on the same machine;
boots QEMU under TCG (bounded by ``--timeout``; the whole process group is killed at the
end); keeps the serial log; prints predicted and real side by side, differences marked.
Exit status: 0 agree, 1 invalid input, 2 usage, 3 internal error, 4 prediction and real boot
differ, 5 this host lacks something (QEMU, busybox, a kernel, memory), 6 the boot gave no answer.
See :mod:`.run`.

``fwc kernel`` fetches and caches the Debian kernel fwc models (:mod:`.kernel`); ``fwc boot``
uses it when ``--kernel`` is not given.
"""

from __future__ import annotations

from fwc.plugin import hookimpl


@hookimpl
def fwc_register_commands(register):
    register("boot", _configure, _run, help="boot a qemu-board machine for real and compare with the prediction")
    register("kernel", _configure_kernel, _run_kernel,
             help="fetch and cache a Debian kernel fwc boot uses (6.1, or 6.12); print its path")


def _configure(parser):
    """:func:`.run.configure`, imported when ``fwc boot`` runs (registering costs nothing)."""
    from .run import configure

    return configure(parser)


def _run(args, fwc) -> int:
    """:func:`.run.run`, imported when ``fwc boot`` runs."""
    from .run import run

    return run(args, fwc)


def _configure_kernel(parser):
    """:func:`.fetch.configure`, imported when ``fwc kernel`` runs."""
    from .fetch import configure

    return configure(parser)


def _run_kernel(args, fwc) -> int:
    """:func:`.fetch.run`, imported when ``fwc kernel`` runs."""
    from .fetch import run

    return run(args, fwc)
