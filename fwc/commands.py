"""The names of fwc's built-in sub-commands, their one-line summaries and their examples.

Owned here, not by :mod:`fwc.cli`, so that the plugin host (which refuses a plugin command
that takes a built-in name) does not import the command line: the CLI depends on the host,
never the other way round.  ``fwc.cli.COMMANDS`` maps exactly these names to functions.
"""

#: name -> (one-line summary for ``fwc --help``, examples for ``fwc NAME --help``)
HELP: dict[str, tuple[str, str]] = {
    "check": ("parse and check a description; diagnostics on stderr", """\
examples:
  fwc check machine.fwc                    # silent and exit 0 when nothing is wrong
  fwc check machine.fwc -W no-NAME         # switch warning NAME off (names: fwc checks)
  fwc check machine.fwc --Werror --json    # warnings fail the run; diagnostics as JSON

exit status: 0 fine (warnings allowed), 1 an error, 2 usage error, 3 internal error.
-I DIR is an include path (dtc's -I is the input format; fwc reads only .fwc)."""),
    "compile": ("check descriptions and write the backends' outputs", """\
examples:
  fwc compile machine.fwc -o out                  # every backend (list: fwc backends)
  fwc compile machine.fwc -b acpi -b qemu -o out  # only these backends
  fwc compile machine.fwc -O boot.policy=seed     # a backend option (BACKEND.OPTION=VALUE)
  fwc compile examples/qemu -o out --depfile out.d --json   # a directory; a make rule; a manifest

Nothing is written when any input has an error.  -O sets a backend option and -I adds
an include directory (dtc's -O/-I are output/input formats: fwc's backends are -b)."""),
    "decompile": ("turn ACPI tables (files, acpidump text, a directory) into a description", """\
examples:
  fwc decompile /sys/firmware/acpi/tables          # this machine's SRAT/SLIT/MADT (as root)
  sudo acpidump > tables.txt; fwc decompile tables.txt -o machine.fwc
  fwc decompile SRAT.dat SLIT.dat APIC.dat --name server"""),
    "show": ("the machine at a glance: nodes, memory, reservations, zones, pins", """\
examples:
  fwc show machine.fwc             # with the zones the boot simulation predicts
  fwc show machine.fwc --no-boot   # the description only (faster)"""),
    "backends": ("list backends with their plugin, version and outputs", """\
examples:
  fwc backends           # a table on a terminal, tab-separated lines when piped
  fwc backends --json    # with every option and its default"""),
    "checks": ("list checks with their code and default level", """\
examples:
  fwc checks             # FWCnnnn  name  level  description
  fwc checks --json"""),
}

BUILTIN_COMMANDS: frozenset[str] = frozenset(HELP)
