"""The machine model <-> ACPI record mapping, declared once and used in both directions.

Each :class:`Entry` pairs one structure of :mod:`.layout` (a subtable, the MADT body, the
SDT header's identity) with the model attributes its fields hold: :meth:`Entry.record` makes
a record from a model object (``tables``: model -> SRAT/SLIT/MADT), :meth:`Entry.read` gives
the attribute values back from a decoded record (``decompile``: tables -> description).  A
field maps to an attribute of the same meaning (``address_length`` <-> ``size``), optionally
through a :class:`Values` conversion (``device_handle_type`` 0/1 <-> ``"acpi"``/``"pci"``) or
:data:`ALL_ONES_IS_NONE` (an NMI for every processor); each named flag bit maps to a bool
attribute.  Logical values split over several fields (the SRAT Processor Local APIC
proximity domain) are joined and split by the layout (:class:`~.layout.Split`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import layout as L
from .binary import Subtable
from .codec import struct_codec
from .names import MadtType, SratType

__all__ = ["Entry", "Values", "ALL_ONES_IS_NONE", "HANDLE", "OEM", "MADT_BODY",
           "SRAT_CPU", "MEMORY", "NO_MEMORY", "ITS", "INITIATOR", "PORT", "SRAT_ENTRIES", "SRAT_GROUPS",
           "LOCAL_APIC", "LOCAL_X2APIC", "IO_APIC", "IRQ_OVERRIDE", "LOCAL_APIC_NMI",
           "LOCAL_X2APIC_NMI", "MADT_ENTRIES", "entry_of"]


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


@dataclass(frozen=True, eq=False)
class Entry:
    """One structure <-> one model object.

    ``fields``: record key -> model attribute, or ``(attribute, conversion)``, or
    :data:`HANDLE`; ``flags``: bit key of the ``flags`` field -> bool attribute; ``const``:
    attribute values that identify the entry itself (an SRAT Generic Port is an initiator of
    kind ``"port"``), given by :meth:`read` and not taken by :meth:`record`.
    """
    struct: L.Struct
    fields: Mapping[str, Any]
    flags: Mapping[str, str] = field(default_factory=dict)
    const: Mapping[str, Any] = field(default_factory=dict)
    #: the subtable type (None for a header or body)
    type: int | None = field(init=False)

    def __post_init__(self) -> None:
        # the mapping compiled into plans, both directions run per subtable of large tables
        fields = {f.key: f for f in self.struct.fields}
        plain, converted, handles = [], [], []
        for key, attr in self.fields.items():
            if attr == HANDLE:
                handles.append((key, fields[key].handle))
            elif isinstance(attr, tuple):
                converted.append((key, attr[0], attr[1], fields[key].width))
            else:
                plain.append((key, attr))
        flag_plan = ()
        if self.flags:
            flag_plan = tuple((b.mask, self.flags[b.key]) for b in fields["flags"].bits
                              if b.key in self.flags)
        mapped = 0
        for mask, _ in flag_plan:
            mapped |= mask
        set_ = object.__setattr__
        set_(self, "type", self.struct.type)
        set_(self, "_plain", tuple(plain))
        set_(self, "_converted", tuple(converted))
        set_(self, "_handles", tuple(handles))
        set_(self, "_flag_plan", flag_plan)
        set_(self, "_flag_mask", mapped)
        set_(self, "_defaults", dict(struct_codec(self.struct).defaults))
        set_(self, "_fields_by_key", fields)
        if not handles:  # generated once: large tables hold tens of thousands of entries
            set_(self, "_fast_values", self._generate_values())
            set_(self, "_fast_read", self._generate_read())

    def _generate_values(self):
        env: dict = {"D": self._defaults}
        get = "(a[{0!r}] if {0!r} in a else o.{0})".format
        items = [f"{key!r}: {get(attr)}" for key, attr in self._plain]
        for i, (key, attr, conv, width) in enumerate(self._converted):
            env[f"C{i}"] = conv
            items.append(f"{key!r}: C{i}.record({get(attr)}, {width})")
        if self._flag_plan:
            items.append("'flags': " + " | ".join(f"({mask} if {get(attr)} else 0)"
                                                 for mask, attr in self._flag_plan))
        return eval(f"lambda o, a: {{**D, {', '.join(items)}}}", env)  # noqa: S307

    def _generate_read(self):
        env: dict = {"K": dict(self.const)}
        items = [f"{attr!r}: r[{key!r}]" for key, attr in self._plain]
        for i, (key, attr, conv, width) in enumerate(self._converted):
            env[f"C{i}"] = conv
            items.append(f"{attr!r}: C{i}.model(r[{key!r}], {width})")
        if self._flag_plan:
            items += [f"{attr!r}: bool(r['flags'] & {mask})" for mask, attr in self._flag_plan]
            items.append(f"'other_flags': r['flags'] & {~self._flag_mask}")
        return eval(f"lambda r: {{{', '.join(items)}, **K}}", env)  # noqa: S307

    def default(self, attr: str) -> Any:
        """The layout's default value of the field holding ``attr``."""
        return next(self._fields_by_key[k].default for k, a in self.fields.items() if a == attr)

    def values(self, obj: Any = None, /, **attrs: Any) -> dict:
        """The record's fields (layout defaults filled in) from ``obj``'s attributes;
        keyword arguments give attributes ``obj`` lacks or override them."""
        fast = getattr(self, "_fast_values", None)
        if fast is not None:
            rec = fast(obj, attrs)
            return self.struct.split(rec) if self.struct.splits else rec

        def get(a):
            return attrs[a] if a in attrs else getattr(obj, a)

        rec = self._defaults.copy()
        for key, attr in self._plain:
            rec[key] = get(attr)
        for key, attr, conv, width in self._converted:
            rec[key] = conv.record(get(attr), width)
        for key, handle in self._handles:
            form = handle.forms[rec[handle.selector]]
            rec[key] = {f.key: f.default if f.kind == L.KIND_RESERVED else get(f.key)
                        for f in form.fields}
        if self._flag_plan:
            flags = 0
            for mask, attr in self._flag_plan:
                if get(attr):
                    flags |= mask
            rec["flags"] = flags
        return self.struct.split(rec) if self.struct.splits else rec

    def record(self, obj: Any = None, /, **attrs: Any) -> Subtable:
        """A :class:`~.binary.Subtable` of this entry's type (see :meth:`values`)."""
        return Subtable(self.struct.type, self.values(obj, **attrs))

    def read(self, rec: Mapping) -> dict:
        """Model attribute values from a decoded record.  Flag bits without an attribute are
        given as ``other_flags``; a value a conversion does not know is given as read (a
        device handle of unknown type: ``handle_type`` is then that number, and the handle's
        attributes are missing)."""
        if self.struct.splits:
            rec = self.struct.join(rec)
        fast = getattr(self, "_fast_read", None)
        if fast is not None:
            return fast(rec)
        out = {attr: rec[key] for key, attr in self._plain}
        if self.const:
            out.update(self.const)
        for key, attr, conv, width in self._converted:
            out[attr] = conv.model(rec[key], width)
        for key, handle in self._handles:
            form, v = handle.forms.get(rec[handle.selector]), rec[key]
            if form is not None and isinstance(v, dict):
                out.update({f.key: v[f.key] for f in form.fields if f.kind != L.KIND_RESERVED})
        if self._flag_plan:
            raw = rec["flags"]
            for mask, attr in self._flag_plan:
                out[attr] = bool(raw & mask)
            out["other_flags"] = raw & ~self._flag_mask
        return out


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
SRAT_CPU = {
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

_HANDLE_TYPES = Values({"acpi": L.DeviceHandleType.ACPI, "pci": L.DeviceHandleType.PCI})
_GENERIC = {"proximity_domain": "pxm", "device_handle_type": ("handle_type", _HANDLE_TYPES),
            "device_handle": HANDLE}
_GENERIC_FLAGS = {"enabled": "enabled", "architectural_transactions": "arch_transactions"}
INITIATOR = Entry(_sub(L.SRAT, SratType.GENERIC_AFFINITY), _GENERIC, _GENERIC_FLAGS,
                  {"kind": "initiator"})
PORT = Entry(_sub(L.SRAT, SratType.GENERIC_PORT_AFFINITY), _GENERIC, _GENERIC_FLAGS,
             {"kind": "port"})

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
MADT_ENTRIES: dict[int, Entry] = {e.type: e for e in (LOCAL_APIC, LOCAL_X2APIC, IO_APIC, IRQ_OVERRIDE,
                                                      LOCAL_APIC_NMI, LOCAL_X2APIC_NMI)}

_BY_TABLE = {"SRAT": SRAT_ENTRIES, "APIC": MADT_ENTRIES}


def entry_of(signature: str, st: Subtable) -> tuple[Entry, dict] | None:
    """``(entry, model attribute values)`` for a decoded subtable that the model maps, else
    None (raw or unknown subtables, types fwc does not model)."""
    e = _BY_TABLE[signature].get(st.type) if st.fields is not None else None
    return None if e is None else (e, e.read(st.fields))
