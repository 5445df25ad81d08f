"""Hook specifications: every hook a plugin may implement.

Hooks are register-style: fwc passes a ``register`` callable and the plugin
calls it once per thing it adds.  Order between plugins never matters: names
are unique, and a duplicate name is reported against the later plugin.
Hooks are called with keyword arguments; an implementation may accept a
subset of them, so parameters may be added in later versions.
"""

from __future__ import annotations

from .plugin import BackendRegister, CheckRegister, CommandRegister, DecompilerRegister, hookspec


@hookspec
def fwc_register_backends(register: BackendRegister) -> None:
    """Add output backends.

    Call ``register(name, generate, *, description="", outputs=(), options=None)``
    for each backend:

    * ``name``: unique, lower-case, used with ``fwc compile -b NAME``;
    * ``generate(ctx)``: called with a :class:`fwc.plugin.BackendContext`; it
      reads ``ctx.machine`` and ``ctx.options``, calls ``ctx.emit(path, data)``
      for each output file and ``ctx.error``/``ctx.warning`` for problems
      (under names the plugin registers through ``fwc_register_checks``, with
      ``fn=None``). It must not print or write files itself, nor catch its own
      exceptions to keep going: fwc reports a raising backend as a ``backend`` error;
    * ``outputs``: the file names (or patterns) it writes, for ``fwc backends``;
    * ``options``: ``{name: fwc.plugin.Option(default, help)}``, set on the
      command line with ``-O NAME.OPTION=VALUE``.
    """


@hookspec
def fwc_register_checks(register: CheckRegister) -> None:
    """Add named checks on the machine model, and the names a backend reports.

    Call ``register(name, level, description, fn=None, *, code=N, requires=())``:

    * ``level`` is ``"error"``, ``"warning"``, ``"note"`` or ``"off"`` (new checks
      should start off or as warnings);
    * ``fn(machine, report)`` calls ``report(message, span, related=(), notes=())``
      for each problem found; ``fn=None`` registers a name the plugin's backend
      reports itself (``ctx.error(name, ...)``), so that ``-W no-NAME`` works;
    * ``code``: the check's stable number (``FWCnnnn``), owned by the plugin:
      5000-9999 for plugins outside fwc, one block of 100 per plugin.  A check
      without a code, or with a taken or reserved one, works but has no number,
      and ``fwc checks`` reports it as a ``plugin`` problem;
    * ``requires``: names of checks that must be enabled and report no error
      before this one runs (dtc's prerequisites).

    Names share one namespace with fwc's own checks and are switched with
    ``-W NAME`` / ``-E NAME``.  A check function that raises is reported as a
    ``plugin`` warning and disabled for that run; the other checks keep running.
    """


@hookspec
def fwc_register_decompilers(register: DecompilerRegister) -> None:
    """Add decompilers: firmware artefacts back into a description.

    Call ``register(name, decompile, description="")``; ``decompile(paths, fwc, name)``
    returns ``(text or None, diagnostics)`` and must never raise for bad input.
    ``fwc decompile --from NAME`` selects one (default ``acpi``).
    """


@hookspec
def fwc_register_commands(register: CommandRegister) -> None:
    """Add ``fwc`` sub-commands.

    Call ``register(name, configure, run, help="")``: ``configure(parser)`` adds
    arguments to an ``argparse`` sub-parser; ``run(args, fwc)`` does the work with the
    ``fwc.Fwc`` instance and returns the exit status (0 fine, 1 invalid input, 2 usage).
    Built-in command names cannot be taken.
    """
