"""The plugin host: finds plugins, isolates their failures, collects registrations.

Load order: entry points of the ``fwc.backends`` group (fwc's own built-in
backends are registered there exactly like third-party ones), one at a time;
then plugins passed in by the caller (tests, API users); then
``check_pending()``.  A plugin that fails to import, has a misspelled hook or
raises inside a hook is reported by name as a ``plugin`` diagnostic, and the
others keep working.

Environment:

* ``FWC_DISABLE_PLUGIN_AUTOLOAD=1``: load only fwc's own entry points;
* ``FWC_PLUGINS=a,b``: load only the entry points with these names (plus fwc's own).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from .backends import Backend, Option
from .registry import LEVELS, THIRD_PARTY_MIN, CheckFn, CheckRegistry
from .commands import BUILTIN_COMMANDS
from .diagnostics import WARNING, Diagnostic

GROUP = "fwc.backends"
SELF_DIST = "fwc"


class PluginInfo(NamedTuple):
    name: str
    dist: str
    version: str
    module: str
    error: str | None = None


class EntryPoint(NamedTuple):
    name: str
    value: str  # "module:attr"
    dist: str
    version: str

    def load(self) -> Any:
        import importlib

        module, _, attr = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def _metadata(info_dir: str) -> tuple[str, str]:
    name = version = ""
    for fname in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(info_dir, fname), encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith("Name:"):
                        name = line[5:].strip()
                    elif line.startswith("Version:"):
                        version = line[8:].strip()
                    elif not line.strip():
                        break
        except OSError:
            continue
        break
    return name, version


def entry_points(group: str = GROUP) -> list[EntryPoint]:
    """The installed entry points of ``group``, read straight from each
    distribution's ``entry_points.txt`` on ``sys.path`` (first distribution of a
    name wins, as with importlib.metadata, whose import alone costs more than
    starting Python)."""
    import sys

    found: list[EntryPoint] = []
    dists: set[str] = set()
    header = f"[{group}]"
    for base in sys.path:
        try:
            names = os.listdir(base or ".")
        except OSError:
            continue
        for entry in names:
            if not (entry.endswith(".dist-info") or entry.endswith(".egg-info")):
                continue
            info = os.path.join(base or ".", entry)
            try:
                with open(os.path.join(info, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if header not in text:
                continue
            name, version = _metadata(info)
            key = name.lower().replace("_", "-")
            if key in dists:
                continue
            dists.add(key)
            section = None
            for line in text.splitlines():
                line = line.strip()
                if not line or line[0] in "#;":
                    continue
                if line.startswith("["):
                    section = line
                    continue
                if section == header and "=" in line:
                    ep_name, _, value = line.partition("=")
                    found.append(EntryPoint(ep_name.strip(), value.strip(), name, version))
    return found


class Host:
    """The loaded plugins of one :class:`fwc.Fwc`: what they registered and what went wrong.

    Public: ``backends`` (name -> Backend), ``checks`` (the CheckRegistry), ``decompilers``
    (name -> (function, description, plugin)), ``commands`` (name -> (configure, run, help,
    plugin)), ``infos`` (PluginInfo per plugin) and ``diagnostics`` (``plugin`` problems).
    ``lint`` holds problems that change no result (a check without a valid code of its own):
    ``fwc checks`` and ``fwc backends`` report them.  ``debug``: problems carry the traceback of a raising hook as a note."""

    def __init__(self, entry_points: bool = True, plugins: Iterable[Any] = (), debug: bool = False) -> None:
        import pluggy

        from . import hookspecs

        self.debug = debug
        self.pm = pluggy.PluginManager("fwc")
        self.pm.add_hookspecs(hookspecs)
        self.infos: list[PluginInfo] = []
        self.diagnostics: list[Diagnostic] = []  # in every run's result
        self.lint: list[Diagnostic] = []  # metadata problems (check codes): `fwc checks` shows them
        self.backends: dict[str, Backend] = {}
        self.decompilers: dict[str, tuple[Callable[..., Any], str, str]] = {}  # name -> (fn, description, plugin)
        self.commands: dict[str, tuple[Callable[..., Any], Callable[..., int], str, str]] = {}
        from .checks import builtin_registry  # (fwc.model: not for `fwc COMMAND` of one plugin)

        self.checks: CheckRegistry = builtin_registry()
        self._meta: dict[str, tuple[str, str]] = {}  # plugin name -> (dist, version)
        if entry_points:
            self._load_entry_points()
        for i, p in enumerate(plugins):
            name = getattr(p, "__name__", None) or f"plugin-{i}"
            # fwc's own plugin modules passed in directly are still fwc's (their codes are < 5000).
            self._register(p, name, SELF_DIST if name.startswith("fwc_plugins.") else "", "")
        self._collect()

    # ---- loading
    def _problem(self, plugin: str, message: str, notes: tuple[str, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(WARNING, "plugin", f"plugin '{plugin}': {message}", None, (), notes))

    def _lint(self, plugin: str, message: str) -> None:
        self.lint.append(Diagnostic(WARNING, "plugin", f"plugin '{plugin}': {message}"))

    def _traceback_notes(self, e: BaseException) -> tuple[str, ...]:
        from .registry import traceback_note

        return (traceback_note(e),) if self.debug else ()

    def _load_entry_points(self) -> None:
        only = os.environ.get("FWC_PLUGINS")
        allow = None if only is None else {x.strip() for x in only.split(",") if x.strip()}
        no_auto = os.environ.get("FWC_DISABLE_PLUGIN_AUTOLOAD", "") not in ("", "0")
        seen = set()
        for ep in sorted(entry_points(), key=lambda e: (e.dist != SELF_DIST, e.name, e.dist)):
            dist, version = ep.dist, ep.version
            own = dist == SELF_DIST
            if not own and (no_auto or (allow is not None and ep.name not in allow)):
                continue
            if ep.name in seen:
                self._problem(ep.name, f"another installed plugin already uses this name; skipped the one from {dist}")
                continue
            seen.add(ep.name)
            try:
                obj = ep.load()
            except BaseException as e:  # noqa: BLE001 - includes SystemExit from a broken import
                from .registry import interrupted

                if interrupted(e):
                    raise
                self.infos.append(PluginInfo(ep.name, dist, version, ep.value, f"{type(e).__name__}: {e}"))
                self._problem(ep.name, f"failed to load {ep.value} from {dist} {version}: {type(e).__name__}: {e}",
                              self._traceback_notes(e))
                continue
            self._register(obj, ep.name, dist, version, ep.value)

    def _register(self, obj: Any, name: str, dist: str, version: str, module: str = "") -> None:
        try:
            self.pm.register(obj, name=name)
        except Exception as e:  # noqa: BLE001 - pluggy validation errors and duplicates
            self.infos.append(PluginInfo(name, dist, version, module, f"{type(e).__name__}: {e}"))
            self._problem(name, f"cannot be registered: {e}")
            return
        try:
            self.pm.check_pending()
        except Exception as e:  # noqa: BLE001 - a misspelled hook name
            self.pm.unregister(obj)
            self.infos.append(PluginInfo(name, dist, version, module, f"{type(e).__name__}: {e}"))
            self._problem(name, f"implements an unknown hook: {e}")
            return
        self.infos.append(PluginInfo(name, dist, version, module or getattr(obj, "__name__", "")))
        self._meta[name] = (dist, version)

    def own(self, plugin: str) -> bool:
        """Whether ``plugin`` is fwc itself or one of its own plugins (its failures are fwc's bugs)."""
        return plugin == SELF_DIST or self._meta.get(plugin, ("", ""))[0] == SELF_DIST

    # ---- calling hooks, one plugin at a time
    def _call_each(self, hook_name: str, make_register: Callable[[str], Callable[..., Any]]) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order
            plugin = impl.plugin_name
            register = make_register(plugin)
            try:
                impl.function(**{k: register for k in impl.argnames})
            except BaseException as e:  # noqa: BLE001 - isolate a broken plugin (sys.exit() included)
                from .registry import interrupted

                if interrupted(e):
                    raise
                if self.own(plugin):
                    from .registry import raised

                    self.diagnostics.append(raised(f"plugin '{plugin}': {hook_name}", True, e, self.debug))
                    continue
                self._problem(plugin, f"{hook_name} raised {type(e).__name__}: {e}", self._traceback_notes(e))

    def _collect(self) -> None:
        def backend_register(plugin: str) -> Callable[..., None]:
            dist, version = self._meta.get(plugin, ("", ""))

            def register(name: str, generate: Callable[[Any], None], *, description: str = "",
                         outputs: Iterable[str] = (), options: Mapping[str, Any] | None = None) -> None:
                if not callable(generate):
                    raise TypeError(f"backend '{name}': generate must be callable")
                opts = {}
                for k, v in (options or {}).items():
                    opts[k] = v if isinstance(v, Option) else Option(*v) if isinstance(v, tuple) else Option(v)
                if name in self.backends:
                    prev = self.backends[name]
                    self._problem(plugin, f"backend '{name}' is already registered by plugin '{prev.plugin}'; "
                                          "this one is ignored")
                    return
                self.backends[name] = Backend(name, generate, description, tuple(outputs), opts, plugin,
                                              version or dist)
            return register

        def check_register(plugin: str) -> Callable[..., None]:
            dist = self._meta.get(plugin, ("", ""))[0]

            def register(name: str, level: str, description: str, fn: CheckFn | None = None, *,
                         code: int | None = None, requires: Sequence[str] = ()) -> None:
                taken = self.checks.get(name)
                if taken is not None:
                    self._problem(plugin, f"check '{name}' is already registered by '{taken.plugin}'; "
                                          "this one is ignored")
                    return
                if fn is not None and not callable(fn):
                    self._problem(plugin, f"check '{name}': fn must be callable or None; this one is ignored")
                    return
                if level not in LEVELS:
                    self._problem(plugin, f"check '{name}': level must be one of {', '.join(LEVELS)}, "
                                          f"not {level!r}; this one is ignored")
                    return
                if code is None:
                    self._lint(plugin, f"check '{name}' declares no code: pass code=N, a number the plugin "
                                          f"owns ({THIRD_PARTY_MIN}-9999 outside fwc; docs/plugins.md)")
                elif dist != SELF_DIST and isinstance(code, int) and code < THIRD_PARTY_MIN:
                    self._lint(plugin, f"check '{name}': code {code} is in the range fwc reserves for itself "
                                          f"and its own plugins (below {THIRD_PARTY_MIN}); the check has no code")
                    code = None
                try:
                    self.checks(name, level, description, fn, code=code, requires=requires, plugin=plugin)
                except ValueError as e:  # the code is taken or out of range
                    self._lint(plugin, f"{e}; the check has no code")
                    self.checks(name, level, description, fn, code=None, requires=requires, plugin=plugin)
            return register

        def decompiler_register(plugin: str) -> Callable[..., None]:
            def register(name: str, decompile: Callable[..., Any], description: str = "") -> None:
                if name in self.decompilers:
                    self._problem(plugin, f"decompiler '{name}' is already registered; this one is ignored")
                    return
                self.decompilers[name] = (decompile, description, plugin)
            return register

        def command_register(plugin: str) -> Callable[..., None]:
            def register(name: str, configure: Callable[[Any], None], run: Callable[[Any, Any], int],
                         help: str = "") -> None:
                if name in self.commands or name in BUILTIN_COMMANDS:
                    self._problem(plugin, f"command '{name}' is already taken; this one is ignored")
                    return
                self.commands[name] = (configure, run, help, plugin)
            return register

        self._call_each("fwc_register_commands", command_register)
        self._call_each("fwc_register_backends", backend_register)
        self._call_each("fwc_register_decompilers", decompiler_register)
        self._call_each("fwc_register_checks", check_register)
        for c, message in self.checks.problems():
            self._problem(c.plugin, message)
