"""Command ``fwc memblock run SCRIPT``: runs an op-script (the language of the memblock oracle's C
driver, tests/oracles/memblock) on the memblock model and prints the driver's output.

Declared in the entry-point group ``fwc.commands`` by this module, which imports neither
pluggy nor the plugin host: ``fwc memblock`` loads only it (the ``boot`` plugin's hook
registers the same command for the full host)."""

from __future__ import annotations


def fwc_register_commands(register):
    register("memblock", configure_memblock, run_memblock, help="run memblock op-scripts on fwc's memblock model")


def configure_memblock(parser):
    import argparse

    from .memblock_script import help_text

    parser.epilog = ("examples:\n  fwc memblock run ops.txt           # the results, as the real mm/memblock.c "
                     "prints them\n  fwc memblock run - --echo < ops.txt # each op echoed before its result\n"
                     "  fwc memblock run --help             # the op-script language")
    sub = parser.add_subparsers(dest="memblock_command", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run an op-script and print the results in the oracle driver's format",
                       epilog=help_text(), formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("script", help="op-script file ('-' for stdin)")
    r.add_argument("-e", "--echo", action="store_true", help="echo each op as '> …' before its result")
    r.add_argument("--debian", action="store_true",
                   help="Debian's build constants (MAX_NUMNODES 1024, 64-byte cache lines) instead of the harness's")
    # kernel.version.KERNELS, not imported: `fwc memblock` starts without attrs (test_boot_backend)
    r.add_argument("--kernel", choices=("6.1", "6.12"), default="6.1",
                   help="whose mm/memblock.c to run: Linux 6.1 (default) or 6.12")


def run_memblock(args, fwc):
    import sys

    from fwc.diagnostics import visible

    from .memblock import DEBIAN_X86_64, HARNESS, MemblockBug
    from .memblock_script import ScriptError, run_script

    name = args.script
    try:
        if name == "-":
            text = sys.stdin.read()
            name = "<stdin>"
        else:
            from fwc.files import read_text

            text = read_text(name)  # a regular file of bounded size (docs/security.md)
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write(visible(f"{name}: error: cannot read: {getattr(e, 'strerror', None) or e} [memblock-script]") + "\n")
        return 1
    try:
        config = DEBIAN_X86_64 if args.debian else HARNESS
        if args.kernel == "6.12":
            from .kernel612.memblock import Memblock612

            out = run_script(text, memblock=Memblock612(config), echo=args.echo)
        else:
            out = run_script(text, config=config, echo=args.echo)
    except ScriptError as e:
        sys.stderr.write(visible(f"{name}:{e.line}:{e.col}: error: {e.message} [memblock-script]") + "\n")
        return 1
    except MemblockBug as e:
        sys.stderr.write(visible(f"{name}: error: the kernel would BUG(): {e} [memblock-script]") + "\n")
        return 1
    sys.stdout.write(out)
    return 0
