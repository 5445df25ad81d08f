"""A plugin package's public API, loaded on first use (standard library only, so that a
plugin's ``__init__`` stays free to import).  Plugin authors get it as
:func:`fwc.plugin.lazy_exports`."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]]) -> tuple[Callable[[str], Any], list[str]]:
    """A plugin package's declared public API, loaded on first use (PEP 562), so that
    registering the plugin (fwc imports every plugin at start-up) costs nothing.

    ``exports`` maps a submodule to the names it provides; a name equal to its submodule's
    name is that submodule.  Returns ``(__getattr__, __all__)`` for the package::

        __getattr__, __all__ = lazy_exports(__name__, {"report": ("report",), "sim": ("simulate",)})
    """
    where = {name: mod for mod, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        mod = where.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib

        module = importlib.import_module(f"{package}.{mod}")
        return module if name == mod else getattr(module, name)

    return __getattr__, sorted(where)

