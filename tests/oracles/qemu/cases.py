"""Representative QEMU machines whose own ACPI tables and boots are kept as golden files.

Each case is the machine part of the QEMU command line (everything except accelerator,
front-end, kernel and initrd options; boot() adds ``-accel tcg -cpu max`` and those) plus
the kernel command line used for the recorded boot.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    description: str
    args: tuple[str, ...]
    cmdline: str = "console=ttyS0 nokaslr"
    timeout: float = 240
    optional: bool = False  # QEMU/TCG may refuse it; then it is skipped, not an error


def _nodes(sizes: list[str], cpus: list[str | None] | None = None,
           dimm_free: bool = False) -> list[str]:
    out: list[str] = []
    for i, size in enumerate(sizes):
        if size != "0":
            out += ["-object", f"memory-backend-ram,id=m{i},size={size}"]
    for i, size in enumerate(sizes):
        opt = f"node,nodeid={i}"
        if cpus and cpus[i]:
            opt += f",cpus={cpus[i]}"
        if size != "0":
            opt += f",memdev=m{i}"
        out += ["-numa", opt]
    return out


def _dimm(i: int, size: str, node: int) -> list[str]:
    return ["-object", f"memory-backend-ram,id=dimm{i}mem,size={size}",
            "-device", f"pc-dimm,id=dimm{i},memdev=dimm{i}mem,node={node}"]


def _dist(pairs: list[tuple[int, int, int]]) -> list[str]:
    out: list[str] = []
    for s, d, v in pairs:
        out += ["-numa", f"dist,src={s},dst={d},val={v}"]
    return out


# a and b re-recorded 2026-12-02 with the topology fwc's qemu backend gives them (2 sockets of 2
# cores; first recorded with QEMU's default, 1 socket of 4): SeaBIOS's F segment, and so the
# RSDP address, depends on the socket count (issue 11).
CASES: list[Case] = [
    Case("a_q35_2node",
         "q35 -smp 4,sockets=2,cores=2 -m 4G, two 2G nodes, CPUs 0-1 / 2-3, no hotplug slots",
         ("-machine", "q35", "-smp", "4,sockets=2,cores=2,threads=1", "-m", "4G",
          *_nodes(["2G", "2G"], ["0-1", "2-3"]))),
    Case("b_q35_2node_dimm",
         "as (a) with -m 4G,slots=4,maxmem=16G and a cold-plugged 1G pc-dimm on node 1",
         ("-machine", "q35", "-smp", "4,sockets=2,cores=2,threads=1", "-m", "4G,slots=4,maxmem=16G",
          *_nodes(["2G", "2G"], ["0-1", "2-3"]), *_dimm(0, "1G", 1)),
         cmdline="console=ttyS0 nokaslr movable_node memhp_default_state=online"),
    Case("c_q35_3node_slit",
         "q35 -m 6G, 3 nodes 1G/2G/3G, one socket (2 cores) per node, SLIT 0-1 21, "
         "0-2 31, 1-2 17",
         ("-machine", "q35", "-smp", "6,sockets=3,cores=2,threads=1", "-m", "6G",
          *_nodes(["1G", "2G", "3G"]),
          "-numa", "cpu,node-id=0,socket-id=0", "-numa", "cpu,node-id=1,socket-id=1",
          "-numa", "cpu,node-id=2,socket-id=2",
          *_dist([(0, 1, 21), (0, 2, 31), (1, 2, 17)]))),
    Case("d_pc_2node_split",
         "pc (i440fx) -m 4G, nodes 1G + 3G (node 1 split across the PCI hole), "
         "one CPU per node",
         ("-machine", "pc", "-smp", "2,sockets=2", "-m", "4G",
          *_nodes(["1G", "3G"], ["0", "1"]))),
    Case("e_q35_memoryless",
         "q35 -m 2G,slots=2,maxmem=8G: node 0 all RAM + CPU 0, node 1 CPU 1 only "
         "(memoryless), node 2 only a 1G pc-dimm (qemu.md §9.1)",
         ("-machine", "q35", "-smp", "2,sockets=2", "-m", "2G,slots=2,maxmem=8G",
          *_nodes(["2G", "0", "0"], ["0", "1", None]), *_dimm(0, "1G", 2)),
         cmdline="console=ttyS0 nokaslr movable_node memhp_default_state=online"),
    Case("f_q35_maxcpus",
         "q35 -m 4G, -smp 8,maxcpus=16 (8 possible but not present CPUs), sockets of 4 "
         "cores: sockets 0,1 on node 0 and 2,3 on node 1, two 2G nodes",
         ("-machine", "q35", "-smp", "8,maxcpus=16,sockets=4,cores=4,threads=1",
          "-m", "4G", *_nodes(["2G", "2G"]),
          "-numa", "cpu,node-id=0,socket-id=0", "-numa", "cpu,node-id=0,socket-id=1",
          "-numa", "cpu,node-id=1,socket-id=2", "-numa", "cpu,node-id=1,socket-id=3")),
    Case("g_q35_x2apic",
         "q35 -m 4G, -smp 2,maxcpus=288 (APIC IDs up to 287: x2APIC MADT/SRAT entries), "
         "intel-iommu with interrupt remapping and EIM, two 2G nodes (CPUs 0-143 / 144-287)",
         ("-machine", "q35,kernel-irqchip=split", "-device",
          "intel-iommu,intremap=on,eim=on", "-smp", "2,maxcpus=288", "-m", "4G",
          *_nodes(["2G", "2G"], ["0-143", "144-287"])),
         optional=True),
    # Re-recorded 2026-12-02 with the topology fwc's qemu backend gives this machine
    # (examples/qemu/h_q35_maxcpus255.fwc): 255 one-CPU sockets, so 255 SMBIOS type 4
    # structures that SeaBIOS puts above the ACPI tables (issue 11).  The first recording
    # used QEMU's default topology (1 socket of 255 cores).
    Case("h_q35_maxcpus255",
         "q35 -m 4G, -smp 2,maxcpus=255,sockets=255: the most possible CPUs QEMU 7.2 TCG accepts "
         "(APIC IDs 0-254, all xAPIC entries), two 2G nodes (CPUs 0-127 / 128-254)",
         ("-machine", "q35", "-smp", "2,maxcpus=255,sockets=255,cores=1,threads=1", "-m", "4G",
          *_nodes(["2G", "2G"], ["0-127", "128-254"]))),
]

BY_NAME = {c.name: c for c in CASES}
