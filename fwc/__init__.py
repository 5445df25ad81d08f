"""fwc: a firmware description compiler.

Describe a NUMA machine once; compile it to ACPI tables, a QEMU command line
and a simulated Linux early boot.  The API (``load``, ``check``, ``compile``,
``Fwc``, ``Result``) is imported lazily so that ``import fwc`` stays cheap.
"""

__version__ = "0.1.0"
__all__ = ["Fwc", "Result", "load", "check", "compile", "decompile", "__version__"]


def __getattr__(name):
    if name in ("Fwc", "Result", "load", "check", "compile", "decompile"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'fwc' has no attribute {name!r}")
