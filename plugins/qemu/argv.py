"""The QEMU 7.2 argv for a :class:`~fwc_plugins.qemu.plan.Plan`."""

from __future__ import annotations

import json
import shlex

from fwc.boards import device_ids

from .plan import Plan, fmt_size

#: Console and devices: serial console on stdio, no display, no network, no monitor;
#: a guest reboot (e.g. ``panic=-1``) ends QEMU.
FRONTEND = ("-nographic", "-no-reboot", "-nic", "none", "-serial", "stdio", "-monitor", "none")


def machine_args(p: Plan) -> list[str]:
    """Everything that shapes the guest: machine, CPUs, RAM, NUMA, DIMMs."""
    out = ["-machine", ",".join((p.machine_type, *p.machine_opts))]
    cp = p.cpu
    if cp is not None:
        smp = f"{cp.present}"
        if cp.maxcpus != cp.present:
            smp += f",maxcpus={cp.maxcpus}"
        smp += f",sockets={cp.sockets},cores={cp.cores},threads={cp.threads}"
        out += ["-smp", smp]
    mem = fmt_size(p.ram)
    if p.slots:
        mem += f",slots={p.slots},maxmem={fmt_size(p.maxmem)}"
    out += ["-m", mem]
    if p.numa:
        out += numa_args(p)
    for k, (d, dev_id) in enumerate(zip(p.dimms, device_ids(len(p.dimms)))):
        out += ["-object", f"memory-backend-ram,id=dimm{k},size={fmt_size(d.size)}"]
        dev = f"{'nvdimm' if d.nonvolatile else 'pc-dimm'},id={dev_id},memdev=dimm{k},node={d.node}"
        if d.explicit:
            dev += f",addr={d.base:#x}"
        out += ["-device", dev]
    return out


def numa_args(p: Plan) -> list[str]:
    """The node memdevs and the -numa options."""
    out = []
    cp = p.cpu
    for md in p.memdevs:
        if md.size:
            out += ["-object", f"memory-backend-ram,id=m{md.node},size={fmt_size(md.size)}"]
    for md in p.memdevs:
        opt = f"node,nodeid={md.node}"
        if md.size:
            opt += f",memdev=m{md.node}"
        out += ["-numa", opt]
    if cp is not None:
        per_socket = cp.cores * cp.threads
        if cp.whole_sockets:
            seen = set()
            for i, _, nid in cp.cpus:
                s = i // per_socket
                if s not in seen:
                    seen.add(s)
                    out += ["-numa", f"cpu,node-id={nid},socket-id={s}"]
        else:
            for i, _, nid in cp.cpus:
                s, c = i // per_socket, (i // cp.threads) % cp.cores
                out += ["-numa", f"cpu,node-id={nid},socket-id={s},core-id={c},thread-id={i % cp.threads}"]
    for src, dst, val in p.distances:
        out += ["-numa", f"dist,src={src},dst={dst},val={val}"]
    return out


def full_argv(p: Plan, *, qemu: str, kernel: str, initrd: str, append: str) -> list[str]:
    # -cpu max under TCG is an AMD-vendor CPU with >= 40 physical address bits, so SeaBIOS's
    # e820 map ends with the AMD HyperTransport hole [0xfd00000000-0xffffffffff] reserved
    # (qemu.md 1.3); an Intel -cpu model would not have that entry.
    # Under KVM the guest gets the host's CPU (-cpu host), as KVM guests usually do.
    argv = [qemu, "-accel", p.accel, "-cpu", "max" if p.accel == "tcg" else "host", *machine_args(p), *FRONTEND]
    if kernel:
        argv += ["-kernel", kernel]
    if initrd:
        argv += ["-initrd", initrd]
    if append:
        argv += ["-append", append]
    return argv


def argv_json(argv: list[str]) -> str:
    return json.dumps(argv, indent=1) + "\n"


def shell_line(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv) + "\n"
