"""Whether this host can give QEMU the machine's memory, asked before QEMU starts.

QEMU 7.2 maps each RAM block (``-m``, or each ``memory-backend-ram``, DIMMs included) with one
anonymous ``mmap()`` without ``MAP_NORESERVE``, so Linux's overcommit policy decides at start:
under ``vm.overcommit_memory=0`` (the default) a single mapping larger than RAM + swap is
refused (``cannot set up guest memory 'pc.ram': Cannot allocate memory``: a 256 GiB machine on
a 23 GiB host), under ``2`` the whole lot must fit the commit limit.  Beyond what QEMU maps,
the guest kernel writes its ``struct page`` array (64 bytes per 4 KiB page, 1/64 of its RAM)
and that memory is really used.
"""

from __future__ import annotations

from fwc.units import approx_size, memparse

#: What the guest touches besides its memmap (kernel, initrd, page tables, QEMU itself).
GUEST_OVERHEAD = 384 << 20


def ram_blocks(argv: list[str]) -> list[int]:
    """The RAM blocks QEMU maps for this command line, in bytes."""
    blocks = []
    for flag, value in zip(argv, argv[1:]):
        if flag == "-object" and value.startswith("memory-backend-ram,"):
            opts = dict(kv.partition("=")[::2] for kv in value.split(",")[1:])
            size = memparse(opts.get("size", ""))
            if size:
                blocks.append(size)
    if not blocks and "-m" in argv[:-1]:
        first = argv[argv.index("-m") + 1].split(",")[0].removeprefix("size=")
        size = int(first) << 20 if first.isdigit() else memparse(first)  # QEMU: a bare number is MiB
        blocks.append(size or 0)
    return blocks


def meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    out = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            words = rest.split()
            if words and words[0].isdigit():
                out[key] = int(words[0]) << 10 if words[1:] == ["kB"] else int(words[0])
    return out


def overcommit_mode(path: str = "/proc/sys/vm/overcommit_memory") -> int:
    with open(path) as f:
        return int(f.read().strip() or 0)


def problem(argv: list[str], info: dict[str, int] | None = None, mode: int | None = None) -> str | None:
    """Why this host cannot run QEMU with ``argv``'s memory, or None (also when /proc cannot
    be read: the check is then left to QEMU)."""
    try:
        info = meminfo() if info is None else info
        mode = overcommit_mode() if mode is None else mode
    except (OSError, ValueError):
        return None
    blocks = ram_blocks(argv)
    total = sum(blocks)
    if not blocks:
        return None
    ram, swap = info.get("MemTotal", 0), info.get("SwapTotal", 0)
    hint = "describe less memory, or run on a host with more"
    if mode == 0 and max(blocks) > ram + swap:
        return (f"the machine's largest RAM block is {approx_size(max(blocks))} and this host has "
                f"{approx_size(ram)} of RAM and {approx_size(swap)} of swap: QEMU could not allocate it "
                f"(vm.overcommit_memory=0 refuses a mapping larger than RAM + swap); {hint}")
    if mode == 2 and "CommitLimit" in info and total > info["CommitLimit"] - info.get("Committed_AS", 0):
        return (f"the machine has {approx_size(total)} of RAM and this host's commit limit leaves "
                f"{approx_size(info['CommitLimit'] - info.get('Committed_AS', 0))} (vm.overcommit_memory=2): "
                f"QEMU could not allocate it; {hint}")
    touched = total // 64 + GUEST_OVERHEAD
    avail = info.get("MemAvailable", ram)
    if touched > avail:
        return (f"the guest kernel of a machine with {approx_size(total)} of RAM uses about "
                f"{approx_size(touched)} of host memory (its struct page array is 1/64 of its RAM) and this "
                f"host has {approx_size(avail)} available; {hint}, or free memory")
    return None
