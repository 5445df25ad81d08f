"""How ``fwc NAME`` runs fwc's own plugin command NAME without loading every plugin: the
entry-point group ``fwc.commands`` names the one module that registers it, and the
:class:`fwc.Fwc` the command is given is made when it first uses it."""

from __future__ import annotations

from typing import Any


def declared_command(name: str) -> dict[str, Any] | None:
    """``{name: (configure, run, help, plugin)}`` when one of fwc's own plugins declares command
    ``name`` in the entry-point group ``fwc.commands`` (value: the plugin module) and registers it:
    only that module is loaded, not every plugin (their commands never shadow fwc's own)."""
    from .host import SELF_DIST, entry_points

    for ep in entry_points("fwc.commands"):
        if ep.name == name and ep.dist == SELF_DIST:
            found: dict[str, Any] = {}

            def register(cmd: str, configure: Any, run: Any, help: str = "") -> None:
                found[cmd] = (configure, run, help, ep.value)
            ep.load().fwc_register_commands(register=register)
            return {name: found[name]} if name in found else None
    return None


class FwcOnUse:
    """The :class:`fwc.Fwc` a plugin command is given, made when the command first uses it
    (``fwc memblock`` never does: it starts without the library's modules)."""

    def __init__(self, debug: bool) -> None:
        self._debug = debug
        self._fwc: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._fwc is None:
            from .api import Fwc

            self._fwc = Fwc(debug=self._debug)
        return getattr(self._fwc, name)
