"""Names of ACPI numbers, as ACPICA's ``actbl1.h``/``actbl2.h`` give them.

Subtable types and single-bit flags; :mod:`.layout` attaches them to its structures
(``TableLayout.types``, ``Field.enum``, the :class:`~.layout.Bit` records of flag fields),
so code names a number through the layout, never as a literal.  Members are ints: records
may hold them or plain integers alike.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = ["SLIT_LOCAL", "SLIT_NO_PATH", "SratType", "MadtType", "DeviceHandleType",
           "SratCpuFlag", "SratMemFlag", "SratGenericFlag", "MadtLapicFlag", "MadtFlag"]


class SratType(IntEnum):
    """SRAT subtable types (``enum AcpiSratType``, ``ACPI_SRAT_TYPE_*``)."""
    CPU_AFFINITY = 0
    MEMORY_AFFINITY = 1
    X2APIC_CPU_AFFINITY = 2
    GICC_AFFINITY = 3
    GIC_ITS_AFFINITY = 4
    GENERIC_AFFINITY = 5
    GENERIC_PORT_AFFINITY = 6


class MadtType(IntEnum):
    """MADT subtable types fwc knows (``enum AcpiMadtType``, ``ACPI_MADT_TYPE_*``)."""
    LOCAL_APIC = 0
    IO_APIC = 1
    INTERRUPT_OVERRIDE = 2
    NMI_SOURCE = 3
    LOCAL_APIC_NMI = 4
    LOCAL_APIC_OVERRIDE = 5
    LOCAL_X2APIC = 9
    LOCAL_X2APIC_NMI = 10


class DeviceHandleType(IntEnum):
    """SRAT Generic Initiator/Port device handle type (``ACPI_SRAT_*_DEVICE_HANDLE``)."""
    ACPI = 0
    PCI = 1


class SratCpuFlag(IntFlag):
    """SRAT Processor (x2)APIC / GICC affinity flags (``ACPI_SRAT_CPU_USE_AFFINITY``)."""
    ENABLED = 1 << 0


class SratMemFlag(IntFlag):
    """SRAT Memory Affinity flags (``ACPI_SRAT_MEM_*``)."""
    ENABLED = 1 << 0
    HOT_PLUGGABLE = 1 << 1
    NON_VOLATILE = 1 << 2


class SratGenericFlag(IntFlag):
    """SRAT Generic Initiator/Port flags (``ACPI_SRAT_GENERIC_AFFINITY_ENABLED``,
    ``ACPI_SRAT_ARCHITECTURAL_TRANSACTIONS``)."""
    ENABLED = 1 << 0
    ARCHITECTURAL_TRANSACTIONS = 1 << 1


class MadtLapicFlag(IntFlag):
    """MADT Local (x2)APIC flags (``ACPI_MADT_ENABLED``, ``ACPI_MADT_ONLINE_CAPABLE``)."""
    ENABLED = 1 << 0
    ONLINE_CAPABLE = 1 << 1


class MadtFlag(IntFlag):
    """MADT table flags (``ACPI_MADT_PCAT_COMPAT``)."""
    PCAT_COMPAT = 1 << 0


#: SLIT distances with a fixed meaning (ACPI 6.5 §5.2.17): a locality to itself, and no path
SLIT_LOCAL, SLIT_NO_PATH = 10, 0xFF
