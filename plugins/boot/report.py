"""The ``boot/boot.json`` contract: typed classes, the schema version, one reader, one writer.

``boot.json`` is the boot backend's machine-readable output; ``fwc show``, the pytest
fixture (``Build.boot``) and ``fwc boot``'s prediction read it through :func:`from_json`
only, and the backend writes it through :meth:`BootReport.to_json` only, so the layout
lives here and nowhere else.  The schema, key by key, with the version policy:
``docs/boot-json.md``.

Writer side (the backend)::

    report = BootReport(policy="upstream", summary=PolicySummary(...), other_policy=...,
                        notes=[...], dmesg=[...], memblock=Memblock(memory, reserved),
                        allocations=allocs, zones_all={0: [...]}, zones_after_hotadd=[...],
                        pins=[Pin(1, "reason", because, in_hotpluggable)])
    text = report.to_json()

Every container field takes plain values: a sequence of the record class, of dicts with
its keys, or of tuples in its field order (so ``memblock.Region`` and the simulator's
``Alloc`` named tuples pass as they are, and a zone row ``(node, zone, start_pfn, spanned,
present)`` too; in ``zones_all`` the node may be left out: ``(zone, start_pfn, spanned,
present)``); mapping fields take any mapping with integer (or decimal string) keys; sets
of nodes are sorted.  Addresses are ints in bytes (``movable_zone_start`` is a byte
address, not a pfn), and the writer formats the hexadecimal strings.

Reader side::

    report = from_json(text)          # str, bytes or an already-decoded dict
    report.summary.zones[0].present   # typed; addresses are ints

A document of another schema version raises :class:`BootReportVersionError`, a malformed
one :class:`BootReportError` (both ``ValueError``), with the JSON path of the fault.
A document without the ``schema`` key is read as ``fwc-boot/1``: the backend wrote
that layout before the key existed.

Importing this module costs only ``attrs`` (already loaded by ``fwc``) and the small
constants module ``kernel.zones``; ``json`` is imported when a document is read or written.

It is a little over fwc's usual ~500 lines: it is the whole contract, each record beside
the converter that reads it, and splitting it would separate the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, TypeVar

import attrs

from .kernel.zones import ZONE_NAMES as _ZONE_NAMES

__all__ = [
    "SCHEMA", "SCHEMA_KEY", "SCHEMA_VERSION", "ZONE_NAMES",
    "BootReport", "BootReportError", "BootReportVersionError", "FrozenMap",
    "Allocation", "Memblock", "NodeData", "Pin", "PolicySummary", "Region", "Zone",
    "from_json", "is_boot_report",
]

#: The schema this module reads and writes.  Bumped on any incompatible change
#: (a key removed or renamed, or its type or meaning changed); see docs/boot-json.md.
SCHEMA_VERSION = 1
SCHEMA = f"fwc-boot/{SCHEMA_VERSION}"
#: The top-level key holding :data:`SCHEMA`.
SCHEMA_KEY = "schema"
#: Linux's zone names (``zone_names[]``, in ``enum zone_type`` order): the simulator's.
ZONE_NAMES = _ZONE_NAMES
_SCHEMA_RE = re.compile(r"fwc-boot/(\d+)\Z")

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class BootReportError(ValueError):
    """``boot.json`` is not a readable ``fwc-boot/1`` document.  ``path`` is the JSON path
    of the fault (``summary.zones[2].present``), empty for the whole document."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        self.reason = message
        super().__init__(f"boot.json: {path}: {message}" if path else f"boot.json: {message}")


class BootReportVersionError(BootReportError):
    """The document declares a schema this fwc does not read (``found``: its ``schema``)."""

    def __init__(self, found: object) -> None:
        self.found = found
        super().__init__(f"{found!r} is not {SCHEMA!r}, the schema this fwc reads "
                         "(recompile the description with this fwc)", SCHEMA_KEY)


class FrozenMap(Mapping[K, V]):
    """A read-only, hashable mapping (frozen classes hold no mutable containers)."""

    __slots__ = ("_d",)

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._d: dict[K, V] = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        return hash(tuple(self._d.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def __getstate__(self) -> dict[K, V]:
        return self._d

    def __setstate__(self, state: dict[K, V]) -> None:
        self._d = state


# ---- converters (writer side: plain values in, records out) ----------------------------------

def _as(cls: type[T], v: Any) -> T:
    """``v`` as a ``cls``: itself, ``cls(**v)`` for a mapping, ``cls(*v)`` for a tuple."""
    if isinstance(v, cls):
        return v
    if isinstance(v, Mapping):
        return cls(**v)
    return cls(*v)


def _as_all(cls: type[T], xs: Iterable[Any]) -> tuple[T, ...]:
    return tuple(_as(cls, x) for x in xs)


def _strs(xs: Iterable[str]) -> tuple[str, ...]:
    return tuple(xs)


def _sorted_ints(xs: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(int(x) for x in xs))


def _int_map(m: Mapping[Any, Any]) -> FrozenMap[int, int]:
    return FrozenMap(sorted((int(k), int(v)) for k, v in m.items()))


# ---- records ------------------------------------------------------------------------------------

@attrs.frozen
class Zone:
    """One zone of one node (``struct zone``): pfns and page counts."""
    node: int
    zone: str  #: one of :data:`ZONE_NAMES`
    start_pfn: int
    spanned: int
    present: int

    @property
    def populated(self) -> bool:
        return self.present > 0

    def to_dict(self, with_node: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"node": self.node} if with_node else {}
        d.update(zone=self.zone, start_pfn=self.start_pfn, spanned=self.spanned, present=self.present)
        return d


def _zones(xs: Iterable[Any]) -> tuple[Zone, ...]:
    return _as_all(Zone, xs)


@attrs.frozen
class NodeData:
    """Where ``NODE_DATA(nid)`` (the node's ``pg_data_t``) was allocated."""
    address: int
    on_node: int

    def to_dict(self) -> dict[str, Any]:
        return {"address": f"{self.address:#x}", "on_node": self.on_node}


def _node_data_map(m: Mapping[Any, Any]) -> FrozenMap[int, NodeData]:
    return FrozenMap(sorted((int(k), _as(NodeData, v)) for k, v in m.items()))


@attrs.frozen
class Region:
    """One ``struct memblock_region``."""
    base: int
    size: int
    flags: int
    nid: int

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "size": self.size, "flags": self.flags, "nid": self.nid}


def _regions(xs: Iterable[Any]) -> tuple[Region, ...]:
    return _as_all(Region, xs)


@attrs.frozen
class Allocation:
    """One kernel allocation the simulator made, with its caller as ``purpose``."""
    purpose: str
    base: int
    size: int
    stage: str  #: "early" (before the kernel-node mask is known) or "late"
    permanent: bool  #: False: freed later in boot

    def to_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "base": self.base, "size": self.size, "stage": self.stage,
                "permanent": self.permanent}


def _allocations(xs: Iterable[Any]) -> tuple[Allocation, ...]:
    return _as_all(Allocation, xs)


@attrs.frozen
class Pin:
    """A node that cannot be hot-removed, and the allocations in its hotpluggable memory."""
    node: int
    reason: str
    because: tuple[Allocation, ...] = attrs.field(converter=_allocations)
    in_hotpluggable: tuple[Allocation, ...] = attrs.field(converter=_allocations)

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "reason": self.reason, "because": [a.to_dict() for a in self.because],
                "in_hotpluggable": [a.to_dict() for a in self.in_hotpluggable]}


def _pins(xs: Iterable[Any]) -> tuple[Pin, ...]:
    return _as_all(Pin, xs)


@attrs.frozen
class Memblock:
    """The final memblock arrays."""
    memory: tuple[Region, ...] = attrs.field(converter=_regions)
    reserved: tuple[Region, ...] = attrs.field(converter=_regions)

    def to_dict(self) -> dict[str, Any]:
        return {"memory": [r.to_dict() for r in self.memory], "reserved": [r.to_dict() for r in self.reserved]}


def _memblock(v: Any) -> Memblock:
    return _as(Memblock, v)


@attrs.frozen(kw_only=True)
class PolicySummary:
    """What one policy's boot decided (``summary`` and ``other_policy``)."""
    policy: str  #: "upstream" (Linux 6.1) or "seed" (the 2013 movablecore=acpi design)
    cmdline: str
    kernel_nodes: tuple[int, ...] = attrs.field(converter=_sorted_ints)
    #: node -> physical address where its ZONE_MOVABLE starts (nodes without one absent)
    movable_zone_start: FrozenMap[int, int] = attrs.field(converter=_int_map)
    node_data: FrozenMap[int, NodeData] = attrs.field(converter=_node_data_map)
    #: populated zones at the end of early boot, in (node, zone) order
    zones: tuple[Zone, ...] = attrs.field(converter=_zones)
    movable_pages: FrozenMap[int, int] = attrs.field(converter=_int_map)
    pinned_nodes: tuple[int, ...] = attrs.field(converter=_sorted_ints)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "cmdline": self.cmdline,
            "kernel_nodes": list(self.kernel_nodes),
            "movable_zone_start": {str(n): f"{a:#x}" for n, a in self.movable_zone_start.items()},
            "node_data": {str(n): d.to_dict() for n, d in self.node_data.items()},
            "zones": [z.to_dict() for z in self.zones],
            "movable_pages": {str(n): v for n, v in self.movable_pages.items()},
            "pinned_nodes": list(self.pinned_nodes),
        }


def _summary_of(v: Any) -> PolicySummary:
    return _as(PolicySummary, v)


def _zones_all(m: Mapping[Any, Iterable[Any]]) -> FrozenMap[int, tuple[Zone, ...]]:
    out = []
    for k, zs in m.items():
        n = int(k)
        row = []
        for z in zs:
            if isinstance(z, Zone):
                row.append(z)
            elif isinstance(z, Mapping):
                row.append(Zone(**z) if "node" in z else Zone(node=n, **z))
            else:
                t = tuple(z)
                row.append(Zone(n, *t) if len(t) == 4 else Zone(*t))
        out.append((n, tuple(row)))
    return FrozenMap(sorted(out))


def _managed_map(m: Mapping[Any, Any]) -> FrozenMap[str, int]:
    return FrozenMap(sorted((str(k), int(v)) for k, v in m.items()))


def _build_map(m: Mapping[str, Any]) -> FrozenMap[str, Any]:
    return FrozenMap(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in dict(m).items()))


@attrs.frozen(kw_only=True)
class BootReport:
    """The whole ``boot.json`` document (schema :data:`SCHEMA`)."""
    policy: str  #: the policy of this run (``boot.policy``)
    summary: PolicySummary = attrs.field(converter=_summary_of)
    other_policy: PolicySummary = attrs.field(converter=_summary_of)
    notes: tuple[str, ...] = attrs.field(converter=_strs)
    dmesg: tuple[str, ...] = attrs.field(converter=_strs)
    memblock: Memblock = attrs.field(converter=_memblock)
    allocations: tuple[Allocation, ...] = attrs.field(converter=_allocations)
    #: node -> every zone of the node, populated or not, in :data:`ZONE_NAMES` order
    zones_all: FrozenMap[int, tuple[Zone, ...]] = attrs.field(converter=_zones_all)
    #: populated zones once cold-plugged DIMMs are hot-added and onlined
    zones_after_hotadd: tuple[Zone, ...] = attrs.field(converter=_zones)
    pins: tuple[Pin, ...] = attrs.field(converter=_pins)
    #: "nid Zone" -> managed pages of each populated zone userspace sees (optional; default empty)
    managed: FrozenMap[str, int] = attrs.field(default=FrozenMap(), converter=_managed_map)
    #: the kernel build's figures the prediction assumed (kernel_build.KernelBuild; optional)
    kernel_build: FrozenMap[str, Any] = attrs.field(default=FrozenMap(), converter=_build_map)
    #: the kernel version this report predicts (``boot.kernel``: "6.1" or "6.12"); a document
    #: written before the key existed predicts 6.1
    kernel: str = "6.1"
    #: the online nodes userspace sees (/sys/devices/system/node/online): those with memory or CPUs
    #: (a memoryless node with CPUs shows ``MemTotal: 0 kB``); optional, default empty
    online_nodes: tuple[int, ...] = attrs.field(default=(), converter=_sorted_ints)

    schema = SCHEMA

    @property
    def final_zones(self) -> tuple[Zone, ...]:
        """The zones ``/proc/zoneinfo`` shows once userspace runs: ``zones_after_hotadd``,
        or ``summary.zones`` if that is empty."""
        return self.zones_after_hotadd or self.summary.zones

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as plain values (with the ``schema`` key)."""
        return {
            SCHEMA_KEY: SCHEMA,
            "policy": self.policy,
            "kernel": self.kernel,
            "online_nodes": list(self.online_nodes),
            "summary": self.summary.to_dict(),
            "other_policy": self.other_policy.to_dict(),
            "notes": list(self.notes),
            "dmesg": list(self.dmesg),
            "memblock": self.memblock.to_dict(),
            "allocations": [a.to_dict() for a in self.allocations],
            "zones_all": {str(n): [z.to_dict(with_node=False) for z in zs] for n, zs in self.zones_all.items()},
            "zones_after_hotadd": [z.to_dict() for z in self.zones_after_hotadd],
            "pins": [p.to_dict() for p in self.pins],
            "managed": dict(self.managed),
            "kernel_build": {k: list(v) if isinstance(v, tuple) else v for k, v in self.kernel_build.items()},
        }

    def to_json(self) -> str:
        """The file ``boot/boot.json``: ``json.dumps(indent=1, sort_keys=True)`` and a newline."""
        from fwc.jsontext import dumps

        return dumps(self.to_dict(), 1) + "\n"

    # Read-only dict-style access to the JSON document, for code written against the
    # untyped layout (``report["summary"]["zones"]``); new code uses the attributes.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()


# ---- reader -------------------------------------------------------------------------------------

def is_boot_report(doc: object) -> bool:
    """Whether a decoded JSON document claims to be a boot report of any version: it has
    the ``schema`` key, or (unversioned ``fwc-boot/1``) both ``summary`` and ``dmesg``.
    Other documents (a third-party backend's own ``boot.json``) are not read here."""
    return isinstance(doc, Mapping) and (SCHEMA_KEY in doc or ("summary" in doc and "dmesg" in doc))


class _Reader:
    """Type-checked access to one JSON object, with the JSON path for errors."""

    __slots__ = ("d", "path")

    def __init__(self, d: Any, path: str) -> None:
        if not isinstance(d, Mapping):
            raise BootReportError(f"expected an object, got {_kind(d)}", path)
        self.d, self.path = d, path

    def _sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        if key not in self.d:
            raise BootReportError(f"missing key {key!r}", self.path)
        return self.d[key]

    def integer(self, key: str) -> int:
        return _want_int(self.get(key), self._sub(key))

    def string(self, key: str) -> str:
        return _want(self.get(key), str, "a string", self._sub(key))

    def boolean(self, key: str) -> bool:
        return _want(self.get(key), bool, "true or false", self._sub(key))

    def address(self, key: str) -> int:
        return _want_hex(self.get(key), self._sub(key))

    def array(self, key: str, item: Callable[[Any, str], T]) -> tuple[T, ...]:
        v, p = self.get(key), self._sub(key)
        _want(v, list, "an array", p)
        return tuple(item(x, f"{p}[{i}]") for i, x in enumerate(v))

    def nodes(self, key: str, item: Callable[[Any, str, int], T]) -> FrozenMap[int, T]:
        """An object keyed by decimal node numbers."""
        v, p = self.get(key), self._sub(key)
        if not isinstance(v, Mapping):
            raise BootReportError(f"expected an object, got {_kind(v)}", p)
        out = []
        for k, x in v.items():
            if not (isinstance(k, str) and k.isdigit() and k == str(int(k))):
                raise BootReportError(f"key {k!r} is not a node number", p)
            out.append((int(k), item(x, f"{p}.{k}", int(k))))
        return FrozenMap(sorted(out))


def _kind(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "an integer", float: "a number"}.get(type(v), type(v).__name__)


def _want(v: Any, t: type[T], what: str, path: str) -> T:
    if not isinstance(v, t) or (t is not bool and isinstance(v, bool)):
        raise BootReportError(f"expected {what}, got {_kind(v)} {v!r}" if not isinstance(v, (dict, list))
                              else f"expected {what}, got {_kind(v)}", path)
    return v


def _want_int(v: Any, path: str) -> int:
    return _want(v, int, "an integer", path)


def _want_str(v: Any, path: str) -> str:
    return _want(v, str, "a string", path)


def _want_hex(v: Any, path: str) -> int:
    _want(v, str, "a hexadecimal address string", path)
    if not re.fullmatch(r"0x[0-9a-f]+", v):
        raise BootReportError(f"expected a hexadecimal address like '0x100000000', got {v!r}", path)
    return int(v, 16)


def _zone(v: Any, path: str, node: int | None = None) -> Zone:
    r = _Reader(v, path)
    name = r.string("zone")
    if name not in ZONE_NAMES:
        raise BootReportError(f"unknown zone {name!r} (one of {', '.join(ZONE_NAMES)})", r._sub("zone"))
    nid = r.integer("node") if node is None else node
    return Zone(nid, name, r.integer("start_pfn"), r.integer("spanned"), r.integer("present"))


def _node_zones(v: Any, path: str, node: int) -> tuple[Zone, ...]:
    _want(v, list, "an array", path)
    return tuple(_zone(z, f"{path}[{i}]", node) for i, z in enumerate(v))


def _allocation(v: Any, path: str) -> Allocation:
    r = _Reader(v, path)
    return Allocation(r.string("purpose"), r.integer("base"), r.integer("size"), r.string("stage"),
                      r.boolean("permanent"))


def _region(v: Any, path: str) -> Region:
    r = _Reader(v, path)
    return Region(r.integer("base"), r.integer("size"), r.integer("flags"), r.integer("nid"))


def _node_data(v: Any, path: str, node: int) -> NodeData:
    r = _Reader(v, path)
    return NodeData(r.address("address"), r.integer("on_node"))


def _pin(v: Any, path: str) -> Pin:
    r = _Reader(v, path)
    return Pin(r.integer("node"), r.string("reason"), r.array("because", _allocation),
               r.array("in_hotpluggable", _allocation))


def _summary(v: Any, path: str) -> PolicySummary:
    r = _Reader(v, path)
    return PolicySummary(
        policy=r.string("policy"), cmdline=r.string("cmdline"),
        kernel_nodes=r.array("kernel_nodes", _want_int),
        movable_zone_start=r.nodes("movable_zone_start", lambda x, p, n: _want_hex(x, p)),
        node_data=r.nodes("node_data", _node_data),
        zones=r.array("zones", _zone),
        movable_pages=r.nodes("movable_pages", lambda x, p, n: _want_int(x, p)),
        pinned_nodes=r.array("pinned_nodes", _want_int))


def from_json(doc: str | bytes | bytearray | Mapping[str, Any]) -> BootReport:
    """Read a ``boot.json`` document (its text, or the decoded object).

    Raises :class:`BootReportVersionError` if it declares another schema,
    :class:`BootReportError` if it is not JSON or lacks a key or has a value of the wrong
    type.  Keys this version does not know are ignored (see the version policy)."""
    if isinstance(doc, (str, bytes, bytearray)):
        import json

        try:
            doc = json.loads(doc)
        except ValueError as e:
            raise BootReportError(f"not JSON: {e}") from None
    if not isinstance(doc, Mapping):
        raise BootReportError(f"expected an object at the top level, got {_kind(doc)}")
    if SCHEMA_KEY in doc and doc[SCHEMA_KEY] != SCHEMA:
        found = doc[SCHEMA_KEY]
        if isinstance(found, str) and _SCHEMA_RE.match(found):
            raise BootReportVersionError(found)
        raise BootReportError(f"expected a schema name like {SCHEMA!r}, got {found!r}", SCHEMA_KEY)
    r = _Reader(doc, "")
    memblock = _Reader(r.get("memblock"), "memblock")
    return BootReport(
        policy=r.string("policy"),
        kernel=r.string("kernel") if "kernel" in doc else "6.1",
        online_nodes=r.array("online_nodes", _want_int) if "online_nodes" in doc else (),
        summary=_summary(r.get("summary"), "summary"),
        other_policy=_summary(r.get("other_policy"), "other_policy"),
        notes=r.array("notes", _want_str),
        dmesg=r.array("dmesg", _want_str),
        memblock=Memblock(memblock.array("memory", _region), memblock.array("reserved", _region)),
        allocations=r.array("allocations", _allocation),
        zones_all=r.nodes("zones_all", _node_zones),
        zones_after_hotadd=r.array("zones_after_hotadd", _zone),
        pins=r.array("pins", _pin),
        managed={k: _want_int(v, f"managed.{k}") for k, v in _want(r.d.get("managed", {}), dict, "an object",
                                                                    "managed").items()},
        kernel_build=_want(r.d.get("kernel_build", {}), dict, "an object", "kernel_build"))
