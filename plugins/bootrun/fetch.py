"""Command ``fwc kernel [SERIES]``: fetch a Debian kernel fwc models (6.1, the default, or 6.12)
into the cache; print its path.

Exit status: 0 the path is printed (stdout, one line); 2 usage; 5 the kernel cannot be had
(no apt-get, the download failed, ``--offline`` with nothing cached): the message says why
and what to do.  See :mod:`.kernel` for where it comes from and where it is kept.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 2, 5

EXAMPLES = """\
examples:
  fwc kernel                         # Debian 12's 6.1: fetch once (about 70 MB), then print the path
  fwc kernel 6.12                    # Debian's 6.12 (about 105 MB)
  fwc kernel --offline               # only print the cached kernel's path; never download
  fwc kernel --package linux-image-6.1.0-56-amd64=6.1.192-2
  fwc boot machine.fwc --kernel "$(fwc kernel)"   # the same as leaving --kernel out (for a 6.1 prediction)

The package is downloaded with apt-get download and unpacked with dpkg-deb into the cache
($FWC_CACHE, default ~/.cache/fwc-oracles): nothing is installed, /boot is not touched.

exit status: 0 printed, 2 usage error, 5 the kernel cannot be had (the message says why)."""


def configure(p) -> None:
    from .kernel import SERIES

    p.epilog = EXAMPLES
    p.add_argument("series", nargs="?", default="6.1", choices=tuple(SERIES),
                   help="the kernel series (default 6.1; fwc boot without --kernel boots the one its prediction "
                        "is for)")
    p.add_argument("--package", default="", metavar="PKG[=VERSION]",
                   help="the kernel package (default: the series' cached one, else the one the reference results "
                        "were taken with, else the newest apt knows)")
    p.add_argument("--offline", action="store_true", help="never download: print the cached kernel or fail")
    p.add_argument("--list", action="store_true", help="list every cached kernel (package, version, path)")


def run(args, fwc) -> int:
    from fwc.diagnostics import visible

    from .kernel import KernelUnavailable, cache_dir, cached_kernel, cached_kernels, fetch_kernel

    if args.list:
        for k in cached_kernels():
            sys.stdout.write(f"{k.package}\t{k.version}\t{k.vmlinuz}\n")
        return EXIT_OK
    if args.offline:
        pkg = args.package.partition("=")[0]
        have = (next((k for k in cached_kernels() if k.package == pkg), None) if pkg
                else cached_kernel(series=args.series))
        if have is None:
            sys.stderr.write(f"fwc: error: no cached {args.series} kernel in {cache_dir()}: run "
                             f"'fwc kernel{'' if args.series == '6.1' else ' ' + args.series}' without --offline to download it\n")
            return EXIT_ENVIRONMENT
    else:
        try:
            def say(line: str) -> None:
                sys.stderr.write(visible(f"fwc: {line}") + "\n")

            have = fetch_kernel(args.package, say=say, series=args.series)
        except KernelUnavailable as e:
            sys.stderr.write(visible(f"fwc: error: {e}") + "\n")  # e names the package given
            return EXIT_ENVIRONMENT
    sys.stdout.write(f"{have.vmlinuz}\n")
    return EXIT_OK
