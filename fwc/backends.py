"""Backend records, their options, the context a backend runs in, artifacts."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .diagnostics import ERROR, WARNING, Diagnostic


class Option(NamedTuple):
    default: Any
    help: str = ""

    def convert(self, text: str):
        """Convert a command-line string to the type of the default."""
        d = self.default
        if isinstance(d, bool):
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected a boolean, got '{text}'")
        if isinstance(d, int):
            return int(text, 0)
        return text


class Backend(NamedTuple):
    name: str
    generate: Callable
    description: str = ""
    outputs: tuple = ()
    options: dict = {}
    plugin: str = ""
    version: str = ""


class Artifact(NamedTuple):
    """One output: a relative path and its bytes."""

    backend: str
    path: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


class BackendContext:
    """What a backend's ``generate`` gets: the machine, its options, and sinks."""

    def __init__(self, backend: Backend, machine, options: dict, fwc=None):
        self.backend = backend
        self.machine = machine
        self.options = options
        self.fwc = fwc  # the Fwc instance, for backends that build on others
        self.artifacts: list[Artifact] = []
        self.diagnostics: list[Diagnostic] = []

    def emit(self, path: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"backend {self.backend.name}: output path '{path}' must be relative")
        self.artifacts.append(Artifact(self.backend.name, path, bytes(data)))

    def run(self, name: str, options: dict | None = None) -> dict:
        """Run another backend on the same machine; return its outputs ``{path: bytes}``
        (empty when it is not installed or failed; its errors join this run's as warnings)."""
        if self.fwc is None or name not in self.fwc.backends:
            return {}
        b = self.fwc.backends[name]
        opts = {k: o.default for k, o in b.options.items()}
        opts.update(options or {})
        sub = BackendContext(b, self.machine, opts, self.fwc)
        try:
            b.generate(sub)
        except Exception as e:  # noqa: BLE001 - reported like any backend failure
            sub.error("backend", f"backend '{name}' ({b.plugin}) failed: {type(e).__name__}: {e}")
        self.diagnostics += [d.with_severity(WARNING) for d in sub.diagnostics if d.severity == ERROR]
        return {} if any(d.severity == ERROR for d in sub.diagnostics) else {a.path: a.data for a in sub.artifacts}

    def error(self, check: str, message: str, span=None, **kw) -> None:
        self.diagnostics.append(Diagnostic(ERROR, check, message, span, **kw))

    def warning(self, check: str, message: str, span=None, **kw) -> None:
        self.diagnostics.append(Diagnostic(WARNING, check, message, span, **kw))
