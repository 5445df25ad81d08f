"""The public API for plugin authors.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose
names are hooks from ``fwc.hookspecs``; it is found through the ``fwc.backends``
entry-point group::

    # pyproject.toml of the plugin package
    [project.entry-points."fwc.backends"]
    hello = "fwc_hello"

    # fwc_hello.py
    from fwc.plugin import hookimpl

    @hookimpl
    def fwc_register_backends(register):
        register("hello", generate, description="a greeting per node", outputs=["hello.txt"])

    def generate(ctx):
        ctx.emit("hello.txt", "".join(f"hello node {n.id}\\n" for n in ctx.machine.nodes))

See ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import pluggy

from .backends import Artifact, Backend, BackendContext, Option  # noqa: F401 - re-exported
from .checks import check_group  # noqa: F401 - re-exported

F = TypeVar("F", bound=Callable)
PROJECT = "fwc"
hookimpl: Callable[[F], F] = pluggy.HookimplMarker(PROJECT)  # type: ignore[assignment]
hookspec = pluggy.HookspecMarker(PROJECT)
