"""What a boot decided, as one comparable structure (for the real boot and a prediction).

An observation is a plain dict (JSON-ready); every key is optional, and a key that is
absent means "not known" (a prediction that does not cover it is not compared):

``srat``           ["Node 0 PXM 0 [mem 0x00000000-0x0009ffff]", ...]  (``ACPI: SRAT:`` lines)
``node_data``      {"0": "[mem 0x7fea8000-0x7fed2fff]", "1": "[mem …] on node 0"}
``zone_ranges``    {"DMA": "[mem 0x…-0x…]", …, "Device": "empty"}
``movable_start``  {"1": "0x0000000100000000"}  (empty dict: no Movable zone)
``early_ranges``   {"0": ["[mem 0x…-0x…]", …], …}
``zones``          {"0 DMA": [start_pfn, spanned, present], …}  (populated zones only)
``table_upgrade``  ["override [SRAT-BOCHS -BXPC    ]", …]
``ramdisk``        "[mem 0x7fed3000-0x7ffcffff]"
``managed``        {"0 DMA": 3840, …}  (/proc/zoneinfo ``managed`` of the populated zones)
``memtotal``       {"0": "1936372 kB", …}  (/sys/devices/system/node/nodeN/meminfo ``MemTotal``)
``lines``          {"e820": ["BIOS-e820: [mem …] usable", …], "zonelists": [...], …}: every dmesg
                   line of the categories fwc models (:data:`LINE_CATEGORIES`), in log order
``approximate``    (predictions only) what the prediction knowingly approximates:
                   ``"acpi"`` (table addresses: an estimated QEMU DSDT length), ``"rsdp"``
"""

from __future__ import annotations

import re

from .initramfs import MARK

_TS = re.compile(r"^\[ *\d+\.\d+\] ?")


def strip(line: str) -> str:
    return _TS.sub("", line.rstrip("\r"))


#: The dmesg categories fwc models, each with the pattern of its lines (the ``Zone ranges``,
#: ``Movable zone start`` and ``Early memory node ranges`` blocks are read as blocks).
LINE_CATEGORIES = (
    ("e820", r"^(BIOS-e820: |e820: (update|remove) |modified: )"),
    ("acpi", r"^ACPI: ([A-Z0-9 ]{4}|RSD PTR) 0x[0-9A-F]+ |^ACPI: Reserving \S+ table memory at "),
    ("table_upgrade", r"^ACPI: Table Upgrade: |ACPI table found in initrd|^ACPI: Physical table override|"
                      r"table override"),
    ("srat", r"^ACPI: SRAT: |^SRAT: |SLIT table looks invalid|^ACPI: \[SRAT:"),
    ("numa", r"^NUMA: |^No NUMA configuration found|^Faking a node|^NUMA turned off"),
    ("node_data", r"^\s*NODE_DATA\("),
    ("zone_ranges", None),
    ("movable_start", None),
    ("early_ranges", None),
    ("initmem", r"^Initmem setup node "),
    ("unavailable", r"^On node \d+, zone \w+: \d+ pages in unavailable ranges"),
    ("zonelists", r"^Fallback order for Node |^Built \d+ zonelists|^Policy zone: "),
    ("memory_blocks", r"^x86/mm: Memory block size: "),
    ("memory", r"^Memory: (\d+|~)K/\d+K available"),
)
_LINE_RX = [(c, re.compile(rx)) for c, rx in LINE_CATEGORIES if rx]
_BLOCKS = {"Zone ranges:": ("zone_ranges", r"^  (DMA|DMA32|Normal|Movable|Device)\s"),
           "Movable zone start for each node": ("movable_start", r"^  Node \d+: 0x"),
           "Early memory node ranges": ("early_ranges", r"^  node\s+\d+: \[mem ")}


def dmesg_lines(text: str) -> dict[str, list[str]]:
    """The lines of ``text`` in each modelled category (:data:`LINE_CATEGORIES`), in order,
    timestamps stripped and trailing blanks removed."""
    out: dict[str, list[str]] = {}
    block = None
    for raw in text.splitlines():
        ln = strip(raw).rstrip()
        if not ln:
            continue
        if ln in _BLOCKS:
            block = _BLOCKS[ln]
            out.setdefault(block[0], []).append(ln)
            continue
        if block is not None and re.match(block[1], ln):
            out[block[0]].append(ln)
            continue
        block = None
        for cat, rx in _LINE_RX:
            if rx.search(ln):
                out.setdefault(cat, []).append(ln)
                break
    return out


def parse_dmesg(text: str) -> dict:
    """The dmesg-derived keys of an observation (Linux 6.1 message formats)."""
    obs: dict = {"srat": [], "node_data": {}, "zone_ranges": {}, "early_ranges": {}, "table_upgrade": []}
    movable = None
    section = None
    last_nd = None
    for raw in text.splitlines():
        ln = strip(raw)
        m = re.match(r"ACPI: SRAT: (Node \d+ PXM \d+ \[mem .*)$", ln)
        if m:
            obs["srat"].append(m.group(1).rstrip())
            continue
        m = re.match(r"NODE_DATA\((\d+)\) allocated (\[mem [^\]]*\])", ln)
        if m:
            last_nd = m.group(1)
            obs["node_data"][last_nd] = m.group(2)
            continue
        m = re.match(r"\s+NODE_DATA\((\d+)\) on node (\d+)", ln)
        if m and m.group(1) in obs["node_data"]:
            obs["node_data"][m.group(1)] += f" on node {m.group(2)}"
            continue
        m = re.match(r"ACPI: Table Upgrade: (.*)$", ln)
        if m:
            obs["table_upgrade"].append(m.group(1))
            continue
        m = re.match(r"RAMDISK: (\[mem .*\])", ln)
        if m:
            obs["ramdisk"] = m.group(1)
            continue
        if ln.startswith("Zone ranges:"):
            section = "zones"
            continue
        if ln.startswith("Movable zone start for each node"):
            section = "movable"
            movable = {}
            continue
        if ln.startswith("Early memory node ranges"):
            section = "early"
            continue
        if section == "zones":
            m = re.match(r"  (DMA|DMA32|Normal|Movable|Device)\s+(.*)$", ln)
            if m:
                obs["zone_ranges"][m.group(1)] = m.group(2).strip()
                continue
        if section == "movable":
            m = re.match(r"  Node (\d+): (0x[0-9a-f]+)", ln)
            if m:
                movable[m.group(1)] = m.group(2)
                continue
        if section == "early":
            m = re.match(r"  node\s+(\d+): (\[mem .*\])", ln)
            if m:
                obs["early_ranges"].setdefault(m.group(1), []).append(m.group(2))
                continue
        section = None
    if movable is not None:
        obs["movable_start"] = movable
    obs["lines"] = dmesg_lines(text)
    return {k: v for k, v in obs.items() if v or k == "movable_start"}


def parse_zoneinfo(text: str, managed: dict | None = None) -> dict:
    """``{"N ZONE": [start_pfn, spanned, present]}`` for populated zones of /proc/zoneinfo
    (or of its grep'd lines); their ``managed`` pages go into ``managed`` when given."""
    out: dict = {}
    cur = None

    def flush():
        if cur and cur.get("present", 0) > 0:
            out[f"{cur['node']} {cur['zone']}"] = [cur.get("start_pfn", 0), cur.get("spanned", 0), cur["present"]]
            if managed is not None and "managed" in cur:
                managed[f"{cur['node']} {cur['zone']}"] = cur["managed"]

    for ln in text.splitlines():
        m = re.match(r"Node (\d+), zone +(\S+)", ln)
        if m:
            flush()
            cur = {"node": int(m.group(1)), "zone": m.group(2)}
            continue
        if cur is None:
            continue
        m = re.match(r"\s+(spanned|present|managed|start_pfn):?\s+(\d+)", ln)
        if m and m.group(1) not in cur:
            cur[m.group(1)] = int(m.group(2))
    flush()
    return out


def sections(console: str) -> dict[str, str]:
    out: dict[str, str] = {}
    cur = None
    body: list[str] = []
    for ln in console.replace("\r", "").splitlines():
        if ln.startswith(MARK + " BEGIN "):
            cur, body = ln[len(MARK) + 7:].strip(), []
        elif ln.startswith(MARK + " END ") and cur is not None:
            out[cur] = "\n".join(body)
            cur = None
        elif cur is not None:
            body.append(ln)
    return out


def parse_serial(console: str) -> tuple[dict | None, dict]:
    """(observation, info) from a serial log; observation None without the DONE marker."""
    secs = sections(console)
    info = {}
    for ln in secs.get("info", "").splitlines():
        k, _, v = ln.partition("=")
        info[k] = v
    if f"{MARK} DONE" not in console or "dmesg" not in secs:
        return None, info
    obs = parse_dmesg(secs["dmesg"])
    managed: dict = {}
    obs["zones"] = parse_zoneinfo(secs.get("zoneinfo", ""), managed)
    if managed:
        obs["managed"] = managed
    memtotal = {m.group(1): f"{m.group(2)} kB" for m in re.finditer(r"Node (\d+) MemTotal:\s+(\d+) kB",
                                                                    secs.get("nodemem", ""))}
    if memtotal:
        obs["memtotal"] = memtotal
    for ln in secs.get("nodes", "").splitlines():
        k, _, v = ln.partition("=")
        if k == "has_normal_memory":
            info["has_normal_memory"] = v
    return obs, info


def parse_zoneinfo_managed(text: str) -> dict:
    """``{"N ZONE": [start_pfn, spanned, present, managed]}`` for populated zones."""
    out: dict = {}
    cur: dict | None = None
    for ln in text.splitlines() + ["Node -1, zone end"]:
        m = re.match(r"Node (-?\d+), zone +(\S+)", ln)
        if m:
            if cur and cur.get("present", 0) > 0:
                out[f"{cur['node']} {cur['zone']}"] = [cur.get(k, 0) for k in ("start_pfn", "spanned", "present",
                                                                                 "managed")]
            cur = {"node": int(m.group(1)), "zone": m.group(2)}
            continue
        m = re.match(r"\s+(spanned|present|managed|start_pfn):?\s+(\d+)", ln)
        if m and cur is not None and m.group(1) not in cur:
            cur[m.group(1)] = int(m.group(2))
    return out
