"""Hook specifications: every hook a plugin may implement.

Hooks are register-style: fwc passes a ``register`` callable and the plugin
calls it once per thing it adds.  Order between plugins never matters: names
are unique, and a duplicate name is reported against the later plugin.
Hooks are called with keyword arguments; an implementation may accept a
subset of them, so parameters may be added in later versions.
"""

from __future__ import annotations

from .plugin import hookspec


@hookspec
def fwc_register_backends(register) -> None:
    """Add output backends.

    Call ``register(name, generate, *, description="", outputs=(), options=None)``
    for each backend:

    * ``name``: unique, lower-case, used with ``fwc compile -b NAME``;
    * ``generate(ctx)``: called with a :class:`fwc.plugin.BackendContext`; it
      reads ``ctx.machine`` and ``ctx.options``, calls ``ctx.emit(path, data)``
      for each output file and ``ctx.error``/``ctx.warning`` for problems.
      It must not print or write files itself;
    * ``outputs``: the file names (or patterns) it writes, for ``fwc backends``;
    * ``options``: ``{name: fwc.plugin.Option(default, help)}``, set on the
      command line with ``-O NAME.OPTION=VALUE``.
    """


@hookspec
def fwc_register_checks(register) -> None:
    """Add named checks on the machine model.

    Call ``register(name, level, description, fn)``: ``level`` is
    ``"error"``, ``"warning"`` or ``"off"`` (new checks should start off or as
    warnings); ``fn(machine, report)`` calls
    ``report(message, span, related=(), notes=())`` for each problem found.
    Names share one namespace with fwc's own checks and are switched with
    ``-W NAME`` / ``-E NAME``.
    """


@hookspec
def fwc_register_decompilers(register) -> None:
    """Add decompilers: firmware artefacts back into a description.

    Call ``register(name, decompile, description="")``; ``decompile(paths, fwc, name)``
    returns ``(text or None, diagnostics)`` and must never raise for bad input.
    ``fwc decompile --from NAME`` selects one (default ``acpi``).
    """


@hookspec
def fwc_register_commands(register) -> None:
    """Add ``fwc`` sub-commands.

    Call ``register(name, configure, run, help="")``: ``configure(parser)`` adds
    arguments to an ``argparse`` sub-parser; ``run(args, fwc)`` does the work with the
    ``fwc.Fwc`` instance and returns the exit status (0 fine, 1 invalid input, 2 usage).
    Built-in command names cannot be taken.
    """
