"""The names of fwc's built-in sub-commands.

Owned here, not by :mod:`fwc.cli`, so that the plugin host (which refuses a plugin command
that takes a built-in name) does not import the command line: the CLI depends on the host,
never the other way round.  ``fwc.cli.COMMANDS`` maps exactly these names to functions.
"""

BUILTIN_COMMANDS: frozenset[str] = frozenset({"check", "compile", "decompile", "show", "backends", "checks"})
