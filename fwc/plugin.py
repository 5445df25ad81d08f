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

from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, TypeVar

import pluggy

from .backends import Artifact, Backend, BackendContext, Option
from .registry import Check, CheckFn, Report, check_group
from .diagnostics import Diagnostic, Related, Span
from .exports import lazy_exports

__all__ = [
    "hookimpl", "hookspec", "Artifact", "Backend", "BackendContext", "Option", "Check", "CheckFn", "Report",
    "check_group", "register_check_group", "register_diagnostics", "lazy_exports", "BackendRegister", "CheckRegister", "DecompilerRegister",
    "CommandRegister", "Diagnostic", "Related", "Span",
]

F = TypeVar("F", bound=Callable[..., Any])
PROJECT = "fwc"
hookimpl: Callable[[F], F] = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)


class BackendRegister(Protocol):
    """The ``register`` of ``fwc_register_backends``."""

    def __call__(self, name: str, generate: Callable[[BackendContext], None], *, description: str = "",
                 outputs: Iterable[str] = (), options: Mapping[str, Option | tuple[Any, str] | Any] | None = None
                 ) -> None: ...


class CheckRegister(Protocol):
    """The ``register`` of ``fwc_register_checks`` (see docs/plugins.md for codes and levels)."""

    def __call__(self, name: str, level: str, description: str, fn: CheckFn | None = None, *,
                 code: int | None = None, requires: Sequence[str] = ()) -> None: ...


class DecompilerRegister(Protocol):
    """The ``register`` of ``fwc_register_decompilers``."""

    def __call__(self, name: str, decompile: Callable[..., tuple[str | None, list[Diagnostic]]],
                 description: str = "") -> None: ...


class CommandRegister(Protocol):
    """The ``register`` of ``fwc_register_commands``."""

    def __call__(self, name: str, configure: Callable[[Any], None], run: Callable[[Any, Any], int],
                 help: str = "") -> None: ...


def register_diagnostics(register: CheckRegister, rows: Iterable[tuple[str, int, str, str]]) -> None:
    """Register names a backend reports itself (``ctx.error(NAME, ...)``), which have no check
    function: ``rows`` are ``(name, code, level, description)``.  Registered names are listed by
    ``fwc checks`` and switched with ``-W``/``-E`` like any check."""
    for name, code, level, description in rows:
        register(name, level, description, None, code=code)


def register_check_group(register: CheckRegister, analyse: Callable[[Any], list],
                         checks: Iterable[tuple[str, int, str, str]],
                         diagnostics: Iterable[tuple[str, int, str, str]] = ()) -> None:
    """Register named checks that share one analysis of the machine (:func:`check_group`):
    ``checks``, and ``diagnostics`` (names the backend reports itself), are
    ``(name, code, level, description)`` rows."""
    for_check = check_group(analyse)
    for name, code, level, description in checks:
        register(name, level, description, for_check(name), code=code)
    register_diagnostics(register, diagnostics)
