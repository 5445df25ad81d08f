"""The Python API: load, check and compile machine descriptions.

Nothing here prints, exits or keeps global state; every setting lives on an
:class:`Fwc` instance, and every call returns a :class:`Result` holding the
model, the diagnostics and the artifacts::

    import fwc
    r = fwc.compile(text='machine "m" { node 0 { memory 0 size 1G } }', backends=["model"])
    if r.ok:
        print(r.artifact("machine.json").text)
    else:
        print(r.render_diagnostics())
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, TypeVar, Union

from .backends import Artifact, Backend, BackendContext, OutputBudget, generate, run_key
from .diagnostics import ERROR, WARNING, Diagnostic, Sources, malformed, render
from .output import MAX_OUTPUT

if TYPE_CHECKING:
    from .registry import CheckRegistry, Levels
    from .host import Host, PluginInfo
    from .model import Machine

#: A path argument: a string or an ``os.PathLike``.
PathArg = Union[str, "os.PathLike[str]"]
_T = TypeVar("_T")


class Result:
    """What a call returns: ``machine`` (or None), ``diagnostics``, ``artifacts``."""

    def __init__(self, machine: "Machine | None" = None, diagnostics: Iterable[Diagnostic] = (),
                 artifacts: Iterable[Artifact] = (), sources: Sources | None = None) -> None:
        self.machine = machine
        self.diagnostics: list[Diagnostic] = sorted(diagnostics, key=Diagnostic.sort_key)
        self.artifacts: list[Artifact] = list(artifacts)
        self.sources = sources or Sources()
        self.text: str | None = None  # decompile: the description

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings are fine)."""
        return not any(d.severity == ERROR for d in self.diagnostics)

    @property
    def internal_error(self) -> bool:
        """True when fwc itself (or one of its own plugins) failed: a bug, not the input's fault."""
        return any(d.check == "internal-error" for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != ERROR]

    def artifact(self, path: str, backend: str | None = None) -> Artifact:
        for a in self.artifacts:
            if a.path == path and (backend is None or a.backend == backend):
                return a
        raise KeyError(path)

    def render_diagnostics(self, colour: bool = False) -> str:
        return "\n".join(render(d, self.sources, colour) for d in self.diagnostics)

    def __repr__(self) -> str:
        return (f"<Result ok={self.ok} machine={getattr(self.machine, 'name', None)!r} "
                f"diagnostics={len(self.diagnostics)} artifacts={len(self.artifacts)}>")


class Fwc:
    """One configured compiler.

    ``entry_points``: load installed plugins (fwc's own backends are plugins
    too, so turn this off only with ``plugins=`` supplying what is needed);
    ``plugins``: extra plugin objects or modules to register;
    ``include_path``: directories searched for ``include`` files;
    ``warn``/``error``: check names, as with ``-W``/``-E`` (``no-NAME`` to turn off);
    ``werror``: warnings become errors;
    ``debug``: a plugin or backend that raises is reported with its traceback (as a note);
    ``read_anywhere``: ``include`` and ``override`` may name files outside the description's
    directory and ``include_path`` (``fwc.files``, docs/security.md);
    ``max_output``: the bytes one compile's outputs may hold together (default 64 MiB, as the
    command line's; None: no bound); past it the compile stops with ``output-size``.
    """

    def __init__(self, *, entry_points: bool = True, plugins: Iterable[Any] = (), include_path: Iterable[str] = (),
                 warn: Iterable[str] = (), error: Iterable[str] = (), werror: bool = False,
                 debug: bool = False, read_anywhere: bool = False, max_output: int | None = MAX_OUTPUT) -> None:
        self._entry_points = entry_points
        self._plugins = tuple(plugins)
        self.include_path: tuple[str, ...] = tuple(include_path)
        self._switches = (tuple(warn), tuple(error), werror)
        self.debug = debug
        self.read_anywhere = read_anywhere
        self.max_output = max_output
        self._host: Host | None = None
        self._levels: Levels | None = None

    # ---- lazily built pieces
    @property
    def host(self) -> "Host":
        if self._host is None:
            from .host import Host

            self._host = Host(self._entry_points, self._plugins, debug=self.debug)
        return self._host

    @property
    def levels(self) -> "Levels":
        """Check levels for this instance; raises ValueError for unknown check names."""
        if self._levels is None:
            from .registry import Levels

            w, e, we = self._switches
            self._levels = Levels(self.host.checks, w, e, we)
        return self._levels

    @property
    def backends(self) -> dict[str, Backend]:
        return dict(self.host.backends)

    @property
    def checks(self) -> "CheckRegistry":
        return self.host.checks

    @property
    def plugins(self) -> "list[PluginInfo]":
        return list(self.host.infos)

    # ---- the pipeline
    def load(self, path: PathArg | None = None, *, text: str | None = None,
             name: str | None = None) -> Result:
        """Parse and elaborate a description (from ``path``, or ``text``)."""
        from .build import Loader, load

        from .files import regular_file

        sources = Sources()
        top = os.fspath(path) if path is not None and text is None else None
        loader = Loader(sources, self.include_path, top=top, anywhere=self.read_anywhere)
        if text is None:
            if path is None:
                raise TypeError("load() needs a path or text=")
            name = name or os.fspath(path)
            d = None
            why = regular_file(os.fspath(path))
            if why is not None:
                d = Diagnostic(ERROR, "include", f"cannot read '{name}': {why}")
            else:
                try:
                    text = loader.read(os.fspath(path))
                except OSError as e:
                    d = Diagnostic(ERROR, "include", f"cannot read '{name}': {e.strerror or e}")
                except UnicodeDecodeError as e:
                    from .build import undecodable

                    d = Diagnostic(ERROR, "include", f"'{name}' is not UTF-8 text ({undecodable(os.fspath(path), e)})")
            if d is not None:
                return Result(None, [d], sources=sources)
        else:
            name = name or (os.fspath(path) if path is not None else "<input>")
        machine, diags = _without_gc(load, loader, text, name)
        levels = self.levels
        diags = [x for x in (levels.apply(d) for d in diags) if x is not None]
        return Result(machine, diags, sources=sources)

    def check(self, path: PathArg | None = None, *, text: str | None = None, name: str | None = None) -> Result:
        """Load, then run every enabled check."""
        from .checks import run_checks

        r = self.load(path, text=text, name=name)
        # plugin load failures are warnings like any other: -W no-plugin drops them, --Werror fails the run
        diags = list(r.diagnostics) + [x for x in map(self.levels.apply, self.host.diagnostics) if x is not None]
        if r.machine is not None:
            diags += _without_gc(run_checks, r.machine, self.host.checks, self.levels, self.debug, self.host.own)
        return Result(r.machine, diags, sources=r.sources)

    def compile(self, path: PathArg | None = None, *, text: str | None = None, name: str | None = None,
                backends: Iterable[str] | None = None, options: Mapping[str, Any] | None = None) -> Result:
        """Check, then run ``backends`` (all registered ones by default).

        ``options`` maps ``"backend.option"`` to a value (a string is converted
        to the option's type).  No artifact is returned if any error occurred.
        """
        return self._run_backends(self.check(path, text=text, name=name), backends, options)

    def _run_backends(self, r: Result, backends: Iterable[str] | None = None,
                      options: Mapping[str, Any] | None = None) -> Result:
        """What :meth:`compile` does after its check ``r`` (``fwc show`` has checked already)."""
        if not r.ok or r.machine is None:
            return r
        diags = list(r.diagnostics)
        chosen, bad = self._select(backends, options or {})
        if bad:
            return Result(r.machine, diags + bad, sources=r.sources)
        artifacts: list[Artifact] = []
        shared: dict[Any, BackendContext] = {}  # one run per backend and options (ctx.run reuses it)
        budget = OutputBudget(self.max_output)
        for backend, opts in chosen:
            if budget.exceeded:  # the compile fails: the backends after it would make outputs for nothing
                break
            ctx = BackendContext(backend, r.machine, opts, self, shared, budget)
            _without_gc(generate, ctx, self.host.own(backend.plugin), self.debug)
            # what went into ctx.artifacts other than through emit() counts too
            budget.used = sum(len(a.data) for a in artifacts + ctx.artifacts)
            if not budget.fits(0):
                ctx.reserve(0)
            key = run_key(backend.name, opts)
            if key is not None:
                shared.setdefault(key, ctx)
            diags += [x for x in (self.levels.apply(d) for d in ctx.diagnostics) if x is not None]
            diags += _unregistered(backend, ctx.diagnostics, self.checks)
            artifacts += ctx.artifacts
        shared.clear()  # each context is in it and holds it: without the cycle, the machine is freed with the result
        paths: dict[str, str] = {}
        for a in artifacts:
            if a.path in paths:
                diags.append(Diagnostic(ERROR, "backend", f"backends '{paths[a.path]}' and '{a.backend}' both write "
                                                          f"'{a.path}'"))
            paths[a.path] = a.backend
        result = Result(r.machine, diags, artifacts, sources=r.sources)
        if not result.ok:
            result.artifacts = []
        return result

    def decompile(self, paths: PathArg | Iterable[PathArg], *, using: str = "acpi",
                  name: str | None = None) -> Result:
        """Turn firmware artefacts (``paths``: files or directories) back into a description.

        The result's ``text`` is the description (None on error); it compiles back to the
        same tables (the decompiler checks that itself)."""
        items: Iterable[PathArg] = [paths] if isinstance(paths, (str, os.PathLike)) else paths
        paths = [os.fspath(p) for p in items]
        entry = self.host.decompilers.get(using)
        if entry is None:
            d = Diagnostic(ERROR, "backend", f"unknown decompiler '{using}' "
                                             f"(known: {', '.join(sorted(self.host.decompilers)) or 'none'})")
            return Result(None, [d])
        fn, _, plugin = entry
        try:
            text, diags = _without_gc(fn, paths, self, name)
            diags = list(diags)
            why = next((w for w in map(malformed, diags) if w is not None), None)
            if why is not None or not (text is None or isinstance(text, str)):
                raise TypeError(why or f"the description is a str or None, not {type(text).__name__}")
        except BaseException as e:  # noqa: BLE001 - a decompiler bug is reported, not raised
            from .registry import interrupted

            if interrupted(e):
                raise
            from .registry import raised

            text, diags = None, [raised(f"decompiler '{using}' ({plugin})", self.host.own(plugin), e, self.debug)]
        r = Result(None, diags)
        r.text = text if not any(d.severity == ERROR for d in diags) else None
        return r

    def _select(self, names: Iterable[str] | None, options: Mapping[str, Any]
                ) -> tuple[list[tuple[Backend, dict[str, Any]]], list[Diagnostic]]:
        table = self.host.backends
        bad = []
        if names is None:
            names = sorted(table)
        chosen = []
        for n in names:
            if n not in table:
                bad.append(Diagnostic(ERROR, "backend", f"unknown backend '{n}' (known: {', '.join(sorted(table))})"))
                continue
            b = table[n]
            opts = {k: o.default for k, o in b.options.items()}
            chosen.append((b, opts))
        # fwc's own backends run first: a third-party one cannot change what they see.
        chosen.sort(key=lambda c: not self.host.own(c[0].plugin))
        by_name = {b.name: opts for b, opts in chosen}
        for key, value in options.items():
            bname, _, oname = key.partition(".")
            if bname not in table or oname not in table[bname].options:
                bad.append(Diagnostic(ERROR, "backend", f"unknown backend option '{key}'"))
                continue
            if bname not in by_name:
                continue
            opt = table[bname].options[oname]
            try:
                by_name[bname][oname] = opt.convert(value) if isinstance(value, str) else value
            except ValueError as e:
                bad.append(Diagnostic(ERROR, "backend", f"option '{key}': {e}"))
        return chosen, bad


def _without_gc(fn: Callable[..., _T], *args: Any) -> _T:
    """Run ``fn`` with the cyclic garbage collector paused: parsing, checking, the
    backends and the decompilers create many small acyclic objects, and collections over a growing heap made
    their cost grow faster than the input (measured: 1.6 s against 0.95 s at 4x the bench
    machine; the big SRAT's acpi backend 0.15 s of collections in a 0.45 s compile)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args)
    finally:
        if enabled:
            gc.enable()


_default: Fwc | None = None


def _get_default() -> Fwc:
    global _default
    if _default is None:
        _default = Fwc()
    return _default


def load(path: PathArg | None = None, *, text: str | None = None, name: str | None = None) -> Result:
    return _get_default().load(path, text=text, name=name)


def check(path: PathArg | None = None, *, text: str | None = None, name: str | None = None) -> Result:
    return _get_default().check(path, text=text, name=name)


def decompile(paths: PathArg | Iterable[PathArg], *, using: str = "acpi", name: str | None = None) -> Result:
    return _get_default().decompile(paths, using=using, name=name)


def _unregistered(backend: Backend, diags: Iterable[Diagnostic], checks: "CheckRegistry") -> list[Diagnostic]:
    """A ``plugin`` warning for each name a backend reported without registering it (so no
    ``-W``/``-E`` switch can name it): once per name."""
    names = sorted({d.check for d in diags if d.check not in checks})
    return [Diagnostic(WARNING, "plugin", f"backend '{backend.name}' ({backend.plugin}) reports '{n}', which no "
                                          "plugin registered: -W/-E cannot switch it (register it in "
                                          "fwc_register_checks)") for n in names]


def compile(path: PathArg | None = None, *, text: str | None = None, name: str | None = None,  # noqa: A001
            backends: Iterable[str] | None = None, options: Mapping[str, Any] | None = None) -> Result:
    return _get_default().compile(path, text=text, name=name, backends=backends, options=options)
