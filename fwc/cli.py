"""The ``fwc`` command: a thin layer over :mod:`fwc.api`.

Exit status: 0 fine (warnings allowed), 1 invalid input (any error
diagnostic), 2 usage error, 3 internal error (one line; ``--debug`` shows the
traceback).  Diagnostics go to stderr; machine-readable output (``--json``)
to stdout.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .commands import BUILTIN_COMMANDS, HELP
from .plugin_commands import FwcOnUse, declared_command

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    pass


class _Fallback(Exception):
    """The one-command parser met what only the whole parser answers (help, version, an error)."""


def _parser(plugin_commands=None, only=None):
    """The parser; ``only``: of built-in command ``only`` alone, silent, raising :class:`_Fallback`
    where the whole parser would print (help, --version, errors): what it accepts, it parses as
    the whole one does, without building every command's parser (fwc check's start)."""
    import argparse

    from . import __version__

    class Parser(argparse.ArgumentParser):
        def error(self, message):  # usage errors exit 2 with our prefix
            if only is not None:
                raise _Fallback(message)
            self.print_usage(sys.stderr)
            from .suggest import usage_suggestion

            raise UsageError(message + usage_suggestion(self, message))

        def _print_message(self, message, file=None):
            if only is not None:
                raise _Fallback(message)
            super()._print_message(message, file)

        def exit(self, status=0, message=None):
            if only is not None:
                raise _Fallback(message)
            super().exit(status, message)

    class Quiet(argparse.RawDescriptionHelpFormatter):  # checks metavars only: no terminal width (shutil)
        def __init__(self, prog, indent_increment=2, max_help_position=24, width=80):
            super().__init__(prog, indent_increment, max_help_position, width)

    formatter = argparse.RawDescriptionHelpFormatter if only is None else Quiet
    p = Parser(prog="fwc", description="Firmware description compiler: NUMA machines to ACPI tables, "
                                       "QEMU command lines and a simulated Linux early boot.",
               **({} if only is None else {"formatter_class": Quiet}))
    p.add_argument("--version", action="version", version=f"fwc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands (fwc COMMAND --help: "
                                                                       "options and examples)")

    def command(name, summary=None, epilog=None):
        summary, example = (summary, epilog) if summary else HELP[name]
        return sub.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:] + ".",
                              epilog=example, formatter_class=formatter)

    def common(sp):
        sp.add_argument("-W", dest="warn", action="append", default=[], metavar="[no-]CHECK",
                        help="enable CHECK as a warning (no-CHECK: disable it)")
        sp.add_argument("-E", dest="error", action="append", default=[], metavar="[no-]CHECK",
                        help="make CHECK an error (no-CHECK: back to a warning)")
        sp.add_argument("--Werror", action="store_true", help="treat every warning as an error")
        sp.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                        help="search DIR for include files")
        sp.add_argument("--read-anywhere", action="store_true",
                        help="let include and override name files outside the description's directory and -I DIRs")
        sp.add_argument("--json", action="store_true", help="print diagnostics (and outputs) as JSON on stdout")
        sp.add_argument("--debug", action="store_true", help="show tracebacks of internal errors and of raising plugins")
        sp.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    if only in (None, "check"):
        c = command("check")
        c.add_argument("file")
        common(c)

    if only in (None, "compile"):
        k = command("compile")
        k.add_argument("files", nargs="+", metavar="FILE", help="descriptions, or directories of .fwc files")
        k.add_argument("-b", "--backend", dest="backends", action="append", metavar="BACKEND",
                       help="run BACKEND (repeatable; default: all)")
        k.add_argument("-o", "--output", default=".", metavar="DIR", help="output directory (default: .)")
        k.add_argument("-O", dest="options", action="append", default=[], metavar="BACKEND.OPTION=VALUE",
                       help="set a backend option")
        k.add_argument("--depfile", metavar="FILE", help="write a make rule: outputs depend on every file read")
        k.add_argument("--allow-large-output", action="store_true", help="write outputs above 64 MiB in total")
        common(k)

    if only in (None, "decompile"):
        d = command("decompile")
        d.add_argument("inputs", nargs="+", metavar="INPUT")
        d.add_argument("-o", "--output", metavar="FILE", help="write the description here (default: stdout)")
        d.add_argument("--name", help="machine name (default: decompiled)")
        d.add_argument("--from", dest="using", default="acpi", help="decompiler (default: acpi)")
        d.add_argument("--json", action="store_true")
        d.add_argument("--debug", action="store_true")
        d.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    if only in (None, "show"):
        sh = command("show")
        sh.add_argument("file")
        sh.add_argument("--no-boot", action="store_true", help="do not run the boot simulation for the zones")
        sh.add_argument("-O", dest="options", action="append", default=[], metavar="boot.OPTION=VALUE",
                        help="an option of the boot simulation (e.g. boot.kernel=6.12)")
        common(sh)

    if only in (None, "backends"):
        b = command("backends")
        b.add_argument("--json", action="store_true")
        b.add_argument("--debug", action="store_true")

    if only in (None, "checks"):
        ch = command("checks")
        ch.add_argument("--json", action="store_true")
        ch.add_argument("--debug", action="store_true")
    for name, (configure, _, help_, plugin) in (plugin_commands or {}).items():
        sp = command(name, f"{help_} (plugin {plugin})")
        sp.add_argument("--debug", action="store_true")
        configure(sp)  # may set sp.epilog (its examples)
    return p


def _colour(args, stream) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def _say(stream, text: str) -> None:
    """Write a line of human-readable text: control characters from the input (a file name,
    a plugin's message, an argument) are shown as ``\\x1b`` (:func:`fwc.diagnostics.visible`)."""
    from .diagnostics import visible

    stream.write(visible(text, "\t") + "\n")


def _print_diagnostics(result, args) -> None:
    from .diagnostics import render, summary

    if not result.diagnostics:
        return
    colour = _colour(args, sys.stderr)
    out = [render(d, result.sources, colour) for d in result.diagnostics]
    out.append(summary(result.diagnostics))
    sys.stderr.write("\n".join(out) + "\n")


def _make_fwc(args):
    from .api import Fwc
    from .output import MAX_OUTPUT

    big = getattr(args, "allow_large_output", False)  # fwc compile's option
    f = Fwc(include_path=args.include, warn=args.warn, error=args.error, werror=args.Werror, debug=args.debug,
            read_anywhere=args.read_anywhere, max_output=None if big else MAX_OUTPUT)
    try:
        f.levels
    except ValueError as e:
        raise UsageError(str(e)) from None
    return f


def _status(ok: bool, results) -> int:
    """0, 1 (an error in the input), or 3 when fwc itself failed (an ``internal-error``)."""
    if any(r.internal_error for r in results):
        return EXIT_INTERNAL
    return EXIT_OK if ok else EXIT_INVALID


def _json_out(obj) -> None:
    import json

    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def cmd_check(args) -> int:
    f = _make_fwc(args)
    r = f.check(args.file)
    if args.json:
        _json_out({"ok": r.ok, "diagnostics": [d.as_dict() for d in r.diagnostics]})
    else:
        _print_diagnostics(r, args)
    return _status(r.ok, [r])


def _inputs(paths) -> list[str]:
    """Files, with directories expanded to the .fwc files below them (sorted)."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".fwc")]
        else:
            out.append(p)
    if not out:
        raise UsageError(f"no .fwc file in {', '.join(paths)}")
    return out


def cmd_compile(args) -> int:
    from .backends import Artifact
    from .diagnostics import ERROR, Diagnostic, render
    from .output import OutputError, depfile, publish

    options = {}
    for o in args.options:
        key, eq, value = o.partition("=")
        if not eq or "." not in key:
            raise UsageError(f"-O expects BACKEND.OPTION=VALUE, got '{o}'")
        options[key] = value
    files = _inputs(args.files)
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    if len(files) > 1 and len(set(stems)) != len(stems):
        raise UsageError("two inputs have the same file name; their outputs would collide")
    f = _make_fwc(args)
    known = f.backends
    for name in args.backends or ():
        if name not in known:
            from .suggest import did_you_mean

            raise UsageError(f"unknown backend '{name}' (known: {', '.join(sorted(known))})"
                             + did_you_mean(name, known))
    for key in options:
        bname, _, oname = key.partition(".")
        if bname not in known or oname not in known[bname].options:
            raise UsageError(f"unknown backend option '{key}'")
    results = [f.compile(path, backends=args.backends, options=options) for path in files]
    # One input writes into the output directory; several write one sub-directory each.
    staged, owner = [], []
    for path, stem, r in zip(files, stems, results):
        prefix = f"{stem}/" if len(files) > 1 else ""
        for a in r.artifacts:
            staged.append(Artifact(a.backend, prefix + a.path, a.data))
            owner.append(path)
    ok = all(r.ok for r in results)
    written, problems = [], []
    if ok:
        outs = [(os.path.join(args.output, a.path), a.data) for a in staged]
        try:
            if args.depfile:  # every output depends on its description, its includes and table files
                rules = [([p for (p, _), o in zip(outs, owner) if o == path],
                          list(r.machine.files) + [ov.file for ov in (r.machine.initrd.overrides
                                                                      if r.machine.initrd else ()) if ov.file])
                         for path, r in zip(files, results)]
                outs.append((args.depfile, depfile(rules).encode()))
            written = publish(outs, args.allow_large_output)[:len(staged)]
        except (OutputError, ValueError) as e:
            problems.append(Diagnostic(ERROR, "output", str(e)))
            ok = False
    if args.json:
        import hashlib

        _json_out({"ok": ok, "inputs": [{"file": path, "ok": r.ok,
                                          "diagnostics": [d.as_dict() for d in r.diagnostics]}
                                         for path, r in zip(files, results)],
                   "diagnostics": [d.as_dict() for r in results for d in r.diagnostics] +
                                  [d.as_dict() for d in problems],
                   "outputs": [{"backend": a.backend, "path": p, "input": o, "size": len(a.data),
                                "sha256": hashlib.sha256(a.data).hexdigest()}
                               for a, p, o in zip(staged, written, owner)]})
    else:
        for r in results:
            _print_diagnostics(r, args)
        for d in problems:
            sys.stderr.write(render(d) + "\n")
    return _status(ok, results)


def cmd_decompile(args) -> int:
    from .api import Fwc
    from .diagnostics import ERROR, Diagnostic
    from .output import OutputError, publish

    r = Fwc(debug=args.debug).decompile(args.inputs, using=args.using, name=args.name)
    if r.text is not None and args.output:
        try:
            publish([(args.output, r.text.encode())])
        except OutputError as e:
            r.diagnostics.append(Diagnostic(ERROR, "output", str(e)))
            r.text = None
    if args.json:
        _json_out({"ok": r.ok, "text": r.text, "diagnostics": [d.as_dict() for d in r.diagnostics]})
    else:
        if r.text is not None and not args.output:
            sys.stdout.write(r.text)
        _print_diagnostics(r, args)
    return _status(r.ok, [r])


def cmd_show(args) -> int:
    import json

    from rich.console import Console

    from .show import render

    f = _make_fwc(args)
    r = f.check(args.file)
    _print_diagnostics(r, args)
    if r.machine is None:
        return EXIT_INVALID
    boot = None
    options = {}
    for o in args.options:
        key, eq, value = o.partition("=")
        if not eq or not key.startswith("boot."):
            raise UsageError(f"-O expects boot.OPTION=VALUE, got '{o}'")
        options[key] = value
    if not args.no_boot and "boot" in f.backends:
        b = f._run_backends(r, backends=["boot"], options=options)  # as f.compile(args.file), without loading again
        if not b.ok:
            _print_diagnostics(b, args)
            return EXIT_INVALID
        from fwc_plugins.boot.report import BootReportError, from_json

        try:
            boot = from_json(b.artifact("boot/boot.json").text) if b.ok else None
        except KeyError:
            boot = None
        except BootReportError as e:
            _say(sys.stderr, f"fwc show: the boot backend's boot/boot.json is not readable ({e}); "
                             "showing the machine without it")
            boot = None
    colour = _colour(args, sys.stdout)
    console = Console(soft_wrap=not sys.stdout.isatty(), highlight=False, no_color=not colour,
                      force_terminal=colour if args.color != "auto" else None)
    render(r.machine, boot, console)
    return _status(r.ok, [r])


def cmd_backends(args) -> int:
    from .api import Fwc
    from .diagnostics import visible

    f = Fwc(debug=args.debug)
    rows: list[dict[str, Any]] = [{"name": b.name, "plugin": b.plugin, "version": b.version, "description": b.description,
             "outputs": list(b.outputs), "options": {k: {"default": o.default, "help": o.help}
                                                     for k, o in b.options.items()}}
            for b in sorted(f.backends.values(), key=lambda b: b.name)]
    problems = [d.message for d in f.host.diagnostics + f.host.lint]
    if args.json:
        _json_out({"backends": rows, "problems": problems})
        return EXIT_OK
    if not sys.stdout.isatty():  # piped: one plain line per backend, nothing wrapped
        for r in rows:
            _say(sys.stdout, "\t".join(visible(str(x)) for x in (r['name'], r['plugin'], r['version'],
                                                                 ' '.join(r['outputs']), r['description'])))
        for p in problems:
            _say(sys.stderr, f"fwc: warning: {p} [plugin]")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(soft_wrap=True, highlight=False)
    t = Table(show_edge=False, box=None, pad_edge=False)
    for col in ("backend", "plugin", "version", "outputs", "description"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(*(Text(visible(str(x))) for x in (r["name"], r["plugin"], r["version"], " ".join(r["outputs"]),
                                                     r["description"])))
    console.print(t)
    for p in problems:
        _say(sys.stderr, f"fwc: warning: {p} [plugin]")
    return EXIT_OK


def cmd_checks(args) -> int:
    from .api import Fwc

    f = Fwc(debug=args.debug)
    rows: list[dict[str, Any]] = [{"name": c.name, "code": c.code, "level": c.level, "plugin": c.plugin, "description": c.description}
            for c in sorted(f.checks, key=lambda c: (c.code is None, c.code or 0, c.name))]
    problems = [d.message for d in f.host.diagnostics + f.host.lint]
    if args.json:
        _json_out({"checks": rows, "problems": problems})
        return EXIT_OK
    for p in problems:
        _say(sys.stderr, f"fwc: warning: {p} [plugin]")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        code = f"FWC{r['code']:04d}" if r["code"] is not None else "-      "
        _say(sys.stdout, f"{code}  {r['name']:<{width}}  {r['level']:<7}  {r['description']}")
    return EXIT_OK


COMMANDS = {"check": cmd_check, "compile": cmd_compile, "decompile": cmd_decompile, "show": cmd_show,
            "backends": cmd_backends, "checks": cmd_checks}
assert set(COMMANDS) == BUILTIN_COMMANDS, "fwc.commands.BUILTIN_COMMANDS lists the built-in commands"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    from .registry import watch_interrupts

    watch_interrupts()  # a plugin's own KeyboardInterrupt is its failure, not a Ctrl-C
    try:
        # Plugins are loaded for the parser only when the command is not a built-in one,
        # so that built-in commands (and --version, --help) start fast.
        plugin_commands = None
        first = next((a for a in argv if not a.startswith("-")), None)
        if first not in BUILTIN_COMMANDS and (first is not None or not argv or "-h" in argv or "--help" in argv):
            # fwc's own command run as `fwc NAME ...` loads only the plugin that declares it
            declared = declared_command(first) if argv and argv[0] == first else None
            fwc = FwcOnUse(debug)
            plugin_commands = declared or fwc.host.commands
        args = None
        if plugin_commands is None and first in BUILTIN_COMMANDS:
            try:  # a valid built-in command line needs only its command's parser
                args = _parser(only=first).parse_args(argv)
            except _Fallback:
                pass
        if args is None:
            parser = _parser(plugin_commands)
            try:
                args = parser.parse_args(argv)
            except SystemExit as e:  # --help / --version
                return int(e.code or 0)
        if not args.command:
            _parser(plugin_commands).print_help(sys.stderr)
            return EXIT_USAGE
        if args.command in COMMANDS:
            if args.command != "check":
                _resume_gc()
            return COMMANDS[args.command](args)
        _resume_gc()
        assert plugin_commands is not None  # parsed, so a plugin command
        return plugin_commands[args.command][1](args, fwc)
    except UsageError as e:
        _say(sys.stderr, f"fwc: error: {e}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("fwc: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if debug:
            import traceback

            traceback.print_exc()
        _say(sys.stderr, f"fwc: internal error: {type(e).__name__}: {e}")
        _say(sys.stderr, "fwc: this is a bug in fwc or a plugin; re-run with --debug for the traceback")
        return EXIT_INTERNAL


_gc_paused = False  # console() paused the cyclic garbage collector for the start-up


def _resume_gc() -> None:
    if _gc_paused:
        import gc

        gc.enable()


def console() -> None:
    """The ``fwc`` program (console script, ``python -m fwc.cli``): :func:`main` with the cyclic
    collector paused while it starts (imports, parser, plugins: long-lived objects) and for
    ``fwc check`` to its end (its load and checks run without it anyway; re-enabling it between
    them collected over all they imported), then no collection at exit (``gc.freeze``: the exit's
    full collections walked every module to free nothing; finalizers of objects alive at exit
    are not guaranteed anyway).  ``fwc check`` of an example: 576M -> 530M instructions."""
    import gc

    global _gc_paused
    _gc_paused = gc.isenabled()
    gc.disable()
    try:
        status = main()
    finally:
        gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    console()
