"""The machine model <-> ACPI record mapping, declared once and used in both directions.

Each :class:`Entry` pairs one structure of :mod:`.layout` (a subtable, the MADT body, the
SDT header's identity) with the model attributes its fields hold: :meth:`Entry.record` makes
a record from a model object (``tables``: model -> SRAT/SLIT/MADT), :meth:`Entry.read` gives
the attribute values back from a decoded record (``decompile``: tables -> description).  A
field maps to an attribute of the same meaning (``address_length`` <-> ``size``), optionally
through a :class:`Values` conversion (``device_handle_type`` 0/1 <-> ``"acpi"``/``"pci"``) or
:data:`ALL_ONES_IS_NONE` (an NMI for every processor); each named flag bit maps to a bool
attribute.  A logical value split over several fields (the SRAT Processor Local APIC
proximity domain, :class:`~.layout.Split`) is one attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from . import layout as L
from .binary import Subtable
from .codec import struct_codec
from .names import SLIT_LOCAL, SLIT_NO_PATH, MadtType, SratType

__all__ = ["Entry", "Values", "ALL_ONES_IS_NONE", "HANDLE", "OEM", "MADT_BODY",
           "SRAT_CPU", "MEMORY", "NO_MEMORY", "ITS", "INITIATOR", "PORT", "GENERIC", "SRAT_ENTRIES", "SRAT_GROUPS",
           "LOCAL_APIC", "LOCAL_X2APIC", "IO_APIC", "IRQ_OVERRIDE", "LOCAL_APIC_NMI",
           "LOCAL_X2APIC_NMI", "MADT_ENTRIES", "entries_of", "no_node_distance"]


@dataclass(frozen=True)
class Values:
    """A one-to-one conversion between model values and record values."""
    to_record: Mapping[Any, int]

    def record(self, value: Any, width: int) -> int:
        return self.to_record[value]

    def model(self, value: int, width: int) -> Any:
        return next((k for k, v in self.to_record.items() if v == value), value)


class _AllOnesIsNone:
    """``None`` (every processor) <-> the all-ones value of the field's width."""

    def record(self, value: Any, width: int) -> int:
        return (1 << (8 * width)) - 1 if value is None else value

    def model(self, value: int, width: int) -> Any:
        return None if value == (1 << (8 * width)) - 1 else value


ALL_ONES_IS_NONE = _AllOnesIsNone()

#: the SRAT device-handle fields are model attributes of the same names (``hid``, ``uid``,
#: ``segment``, ``bus``, ``devfn``) in the form the ``device_handle_type`` selects
HANDLE = "<device handle>"


def _handle_values(handle: L.HandleForms, selector: int, obj: Any, attrs: Mapping) -> dict:
    """A device-handle record of the form ``selector`` picks, from same-named attributes."""
    return {f.key: f.default if f.kind == L.KIND_RESERVED else
            (attrs[f.key] if f.key in attrs else getattr(obj, f.key))
            for f in handle.forms[selector].fields}


def _handle_attrs(handle: L.HandleForms, selector: int, value: Any) -> dict:
    """The attributes in a decoded device handle ({} for a form the layout does not know)."""
    form = handle.forms.get(selector)
    if form is None or not isinstance(value, dict):
        return {}
    return {f.key: value[f.key] for f in form.fields if f.kind != L.KIND_RESERVED}


@dataclass(frozen=True, eq=False)
class Entry:
    """One structure <-> one model object.

    ``fields``: record key -> model attribute, or ``(attribute, conversion)``, or
    :data:`HANDLE`; ``flags``: bit key of the ``flags`` field -> bool attribute; ``const``:
    attribute values that identify the entry itself (an SRAT Generic Port is an initiator of
    kind ``"port"``), given by :meth:`read` and not taken by :meth:`record`.

    Both directions are generated once, as one expression each, from these declarations:
    large tables hold tens of thousands of entries.
    """
    struct: L.Struct
    fields: Mapping[str, Any]
    flags: Mapping[str, str] = field(default_factory=dict)
    const: Mapping[str, Any] = field(default_factory=dict)
    #: the subtable type (None for a header or body)
    type: int | None = field(init=False)
    _by_key: dict[str, L.Field] = field(init=False, repr=False)
    _values: Callable[[Any, Mapping], dict] = field(init=False, repr=False)
    _read: Callable[[Mapping], dict] = field(init=False, repr=False)
    _env: dict = field(init=False, repr=False)
    _recorders: dict = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_key = {f.key: f for f in self.struct.fields}
        env: dict = {"D": dict(struct_codec(self.struct).defaults), "K": dict(self.const),
                     "_handle_values": _handle_values, "_handle_attrs": _handle_attrs}
        get = "(a[{0!r}] if {0!r} in a else o.{0})".format
        splits = {sp.key: sp for sp in self.struct.splits}

        def read(key: str) -> str:  # a logical field's value in the decoded record r
            if key not in splits:
                return f"r[{key!r}]"
            parts, shift = [], 0
            for k, bits in splits[key].parts:
                parts.append(f"(r[{k!r}] << {shift})")
                shift += bits
            return "(" + " | ".join(parts) + ")"

        to_model: list[str] = []
        for i, (key, attr) in enumerate(self.fields.items()):
            if attr == HANDLE:
                h = by_key[key].handle
                assert h is not None, f"{key}: a handle field declares its forms"
                env[f"H{i}"] = h
                to_model.append(f"**_handle_attrs(H{i}, {read(h.selector)}, {read(key)})")
            elif isinstance(attr, tuple):
                env[f"C{i}"] = attr[1]
                to_model.append(f"{attr[0]!r}: C{i}.model({read(key)}, {by_key[key].width})")
            else:
                to_model.append(f"{attr!r}: {read(key)}")
        if self.flags:
            plan = [(b.mask, self.flags[b.key]) for b in by_key["flags"].bits if b.key in self.flags]
            to_model += [f"{attr!r}: bool(r['flags'] & {mask})" for mask, attr in plan]
            to_model.append(f"'other_flags': r['flags'] & {~sum(mask for mask, _ in plan)}")
        set_ = object.__setattr__
        set_(self, "type", self.struct.type)
        set_(self, "_by_key", by_key)
        set_(self, "_env", env)
        set_(self, "_recorders", {})
        set_(self, "_values", eval(f"lambda o, a: {self._record_source(get)}", env))      # noqa: S307
        consts = ", **K" if self.const else ""
        set_(self, "_read", eval(f"lambda r: {{{', '.join(to_model)}{consts}}}", env))  # noqa: S307

    def _record_source(self, get: Callable[[str], str]) -> str:
        """The expression of the record's fields (layout defaults ``D`` filled in) from the model
        object ``o``, ``get(attribute)`` being the expression of one attribute's value."""
        return "{**D, " + ", ".join(f"{k!r}: {v}" for k, v in self._record_fields(get).items()) + "}"

    def _record_fields(self, get: Callable[[str], str]) -> dict[str, str]:
        """{record key: the expression of its value} for the fields the model gives."""
        by_key, to_record = self._by_key, {}  # type: dict[str, L.Field], dict[str, str]
        for i, (key, attr) in enumerate(self.fields.items()):
            if attr == HANDLE:
                h = by_key[key].handle
                assert h is not None
                to_record[key] = f"_handle_values(H{i}, {to_record[h.selector]}, o, a)"
            elif isinstance(attr, tuple):
                to_record[key] = f"C{i}.record({get(attr[0])}, {by_key[key].width})"
            else:
                to_record[key] = get(attr)
        if self.flags:
            plan = [(b.mask, self.flags[b.key]) for b in by_key["flags"].bits if b.key in self.flags]
            to_record["flags"] = " | ".join(f"({mask} if {get(attr)} else 0)" for mask, attr in plan)
        for sp in self.struct.splits:  # a split value is stored in its parts
            value, shift = to_record.pop(sp.key), 0
            for k, bits in sp.parts:
                to_record[k] = f"(({value}) >> {shift}) & {(1 << bits) - 1}"
                shift += bits
        return to_record

    def recorder(self, *given: str) -> Callable[..., Subtable]:
        """``record`` as a function of ``(obj, *values)``: ``recorder("pxm")(cpu, 3)`` is
        ``record(cpu, pxm=3)``, without a keyword dictionary per record (tables of tens of
        thousands of entries); generated once for each ``given``."""
        make = self._recorders.get(given)
        if make is None:
            assert self.type is not None and HANDLE not in self.fields.values(), f"{self.struct.key}: no recorder"
            params = {attr: f"_{i}" for i, attr in enumerate(given)}
            source = self._record_source(lambda attr: params.get(attr, f"o.{attr}"))
            env = {**self._env, "Subtable": Subtable, "T": self.type}
            make = self._recorders[given] = eval(  # noqa: S307
                f"lambda o{''.join(', ' + p for p in params.values())}: Subtable(T, {source})", env)
        return make

    def flat(self, *given: str) -> Callable[..., list] | None:
        """The values :meth:`recorder` ``(*given)`` puts in a record, as a tuple in the layout's
        field order (what the encoder packs for a record of plain integers), for a run of
        records: a function of ``(objs, *columns)`` (one value of each column per object)
        returning the tuples, in one comprehension; None when this entry's records are not all
        plain integers."""
        key = ("flat", *given)
        if key not in self._recorders:
            c = struct_codec(self.struct)
            fields = self._record_fields(lambda attr: f"_{given.index(attr)}" if attr in given else f"o.{attr}") \
                if HANDLE not in self.fields.values() else {}
            keys, defaults = c.fast_keys, self._env["D"]
            if not fields or keys is None or set(keys) != set(defaults) | set(fields):
                self._recorders[key] = None
            else:
                values = ", ".join(fields.get(k, repr(defaults[k]) if type(defaults.get(k)) is int else f"D[{k!r}]")
                                   for k in keys)  # (an integer default written in)
                cols = "".join(f", c{i}" for i in range(len(given)))
                each = f"o{''.join(f', _{i}' for i in range(len(given)))} in zip(objs{cols})" if given else "o in objs"
                self._recorders[key] = eval(f"lambda objs{cols}: [({values},) for {each}]", self._env)  # noqa: S307
        return self._recorders[key]

    def default(self, attr: str) -> Any:
        """The layout's default value of the field holding ``attr``."""
        return next(self._by_key[k].default for k, a in self.fields.items() if a == attr)

    def values(self, obj: Any = None, /, **attrs: Any) -> dict:
        """The record's fields (layout defaults filled in) from ``obj``'s attributes;
        keyword arguments give attributes ``obj`` lacks or override them."""
        return self._values(obj, attrs)

    def record(self, obj: Any = None, /, **attrs: Any) -> Subtable:
        """A :class:`~.binary.Subtable` of this entry's type (see :meth:`values`)."""
        assert self.type is not None, f"{self.struct.key} is not a subtable"
        return Subtable(self.type, self._values(obj, attrs))

    @property
    def reader(self) -> Callable[[Mapping], dict]:
        """:meth:`read` as a plain function (for loops over tens of thousands of records)."""
        return self._read

    def read(self, rec: Mapping) -> dict:
        """Model attribute values from a decoded record.  Flag bits without an attribute are
        given as ``other_flags``; a value a conversion does not know is given as read (a
        device handle of unknown type: ``handle_type`` is then that number, and the handle's
        attributes are missing)."""
        return self._read(rec)


def _sub(layout: L.TableLayout, type_: int) -> L.Struct:
    return layout.subtables[type_]


# --- header and body -------------------------------------------------------------------------
#: the table identity (``oem`` in the language) <-> the SDT header
OEM = Entry(L.Struct("oem", "OEM identity", L.SDT_HEADER),
            {"oem_id": "id", "oem_table_id": "table_id", "oem_revision": "revision",
             "creator_id": "creator_id", "creator_revision": "creator_revision"})
#: the machine's interrupt controller settings <-> the MADT's fixed body
MADT_BODY = Entry(L.Struct("madt_body", "MADT body", L.MADT.body),
                  {"local_apic_address": "lapic_address"}, {"pcat_compat": "pcat_compat"})

# --- SRAT ------------------------------------------------------------------------------------
_CPU_FLAGS = {"enabled": "enabled"}
#: a CPU (its node's ``pxm`` and its ``apic_id``) <-> the three processor affinity types
SRAT_CPU: dict[int, Entry] = {
    SratType.CPU_AFFINITY: Entry(_sub(L.SRAT, SratType.CPU_AFFINITY),
                                 {"proximity_domain": "pxm", "apic_id": "apic_id"}, _CPU_FLAGS),
    SratType.X2APIC_CPU_AFFINITY: Entry(_sub(L.SRAT, SratType.X2APIC_CPU_AFFINITY),
                                        {"proximity_domain": "pxm", "apic_id": "apic_id"},
                                        _CPU_FLAGS),
    SratType.GICC_AFFINITY: Entry(_sub(L.SRAT, SratType.GICC_AFFINITY),
                                  {"proximity_domain": "pxm", "acpi_processor_uid": "apic_id"},
                                  _CPU_FLAGS),
}
MEMORY = Entry(_sub(L.SRAT, SratType.MEMORY_AFFINITY),
               {"proximity_domain": "pxm", "base_address": "base", "address_length": "size"},
               {"enabled": "enabled", "hot_pluggable": "hotpluggable", "non_volatile": "nonvolatile"})
#: QEMU's padding memory entries (any node): all zero, not enabled
NO_MEMORY = {"base": 0, "size": 0, "enabled": False, "hotpluggable": False, "nonvolatile": False}
ITS = Entry(_sub(L.SRAT, SratType.GIC_ITS_AFFINITY), {"proximity_domain": "pxm", "its_id": "id"})

#: the language's handle types are the layout's names (``acpi``, ``pci``)
_HANDLE_TYPES = Values({str(t.name).lower(): t for t in L.DeviceHandleType})
_GENERIC = {"proximity_domain": "pxm", "device_handle_type": ("handle_type", _HANDLE_TYPES),
            "device_handle": HANDLE}
_GENERIC_FLAGS = {"enabled": "enabled", "architectural_transactions": "arch_transactions"}
INITIATOR = Entry(_sub(L.SRAT, SratType.GENERIC_AFFINITY), _GENERIC, _GENERIC_FLAGS,
                  {"kind": "initiator"})
PORT = Entry(_sub(L.SRAT, SratType.GENERIC_PORT_AFFINITY), _GENERIC, _GENERIC_FLAGS,
             {"kind": "port"})

#: Generic Initiator and Generic Port entries by the model's ``kind``
GENERIC: dict[str, Entry] = {e.const["kind"]: e for e in (INITIATOR, PORT)}
SRAT_ENTRIES: dict[int, Entry] = {**SRAT_CPU, SratType.MEMORY_AFFINITY: MEMORY,
                                  SratType.GIC_ITS_AFFINITY: ITS,
                                  SratType.GENERIC_AFFINITY: INITIATOR,
                                  SratType.GENERIC_PORT_AFFINITY: PORT}
#: the groups of SRAT entries in the order ``tables.srat`` writes them (each grouped by node)
SRAT_GROUPS: tuple[tuple[int, ...], ...] = (
    tuple(SRAT_CPU), (SratType.MEMORY_AFFINITY,), (SratType.GIC_ITS_AFFINITY,),
    (SratType.GENERIC_AFFINITY, SratType.GENERIC_PORT_AFFINITY))

# --- MADT ------------------------------------------------------------------------------------
_LAPIC_FLAGS = {"enabled": "enabled", "online_capable": "online_capable"}
#: a CPU (``uid`` = its index in table order, ``apic_id``) <-> a Local (x2)APIC entry
LOCAL_APIC = Entry(_sub(L.MADT, MadtType.LOCAL_APIC),
                   {"processor_id": "uid", "apic_id": "apic_id"}, _LAPIC_FLAGS)
LOCAL_X2APIC = Entry(_sub(L.MADT, MadtType.LOCAL_X2APIC),
                     {"processor_uid": "uid", "x2apic_id": "apic_id"}, _LAPIC_FLAGS)
IO_APIC = Entry(_sub(L.MADT, MadtType.IO_APIC),
                {"io_apic_id": "id", "address": "address", "gsi_base": "gsi_base"})
IRQ_OVERRIDE = Entry(_sub(L.MADT, MadtType.INTERRUPT_OVERRIDE),
                     {"bus": "bus", "source_irq": "source", "gsi": "gsi", "flags": "flags"})
LOCAL_APIC_NMI = Entry(_sub(L.MADT, MadtType.LOCAL_APIC_NMI),
                       {"processor_id": ("cpu", ALL_ONES_IS_NONE), "flags": "flags", "lint": "lint"})
LOCAL_X2APIC_NMI = Entry(_sub(L.MADT, MadtType.LOCAL_X2APIC_NMI),
                         {"processor_uid": ("cpu", ALL_ONES_IS_NONE), "flags": "flags",
                          "lint": "lint"})
MADT_ENTRIES: dict[int, Entry] = {e.struct.type: e for e in (LOCAL_APIC, LOCAL_X2APIC, IO_APIC, IRQ_OVERRIDE,
                                                             LOCAL_APIC_NMI, LOCAL_X2APIC_NMI)
                                   if e.struct.type is not None}

def no_node_distance(i: int, j: int) -> int:
    """The SLIT entry fwc writes where proximity domain ``i`` or ``j`` has no node."""
    return SLIT_LOCAL if i == j else SLIT_NO_PATH


_BY_TABLE = {"SRAT": SRAT_ENTRIES, "APIC": MADT_ENTRIES}


def entries_of(signature: str) -> dict[int, Entry]:
    """The entries of one table by subtable type ("SRAT" or "APIC")."""
    return _BY_TABLE[signature]
