"""Backend records, their options, the context a backend runs in, artifacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, NamedTuple

from .diagnostics import ERROR, WARNING, Diagnostic, Related, Span, malformed

if TYPE_CHECKING:
    from .api import Fwc
    from .model import Machine


class Option(NamedTuple):
    """A backend option: its default (whose type a command-line string is converted to) and help."""

    default: Any
    help: str = ""

    def convert(self, text: str) -> Any:
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
    """A registered backend (see ``fwc_register_backends``)."""

    name: str
    generate: Callable[["BackendContext"], None]
    description: str = ""
    outputs: tuple[str, ...] = ()
    options: Mapping[str, Option] = {}
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


class OutputBudget:
    """The bytes the backends of one compile may emit together (``limit``; None: no bound,
    ``Fwc(max_output=None)`` or ``--allow-large-output``) and what they emitted so far.
    ``exceeded`` once a backend would pass it: the compile then stops."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.exceeded = False

    def fits(self, nbytes: int) -> bool:
        return self.limit is None or self.used + nbytes <= self.limit


class OutputTooLarge(Exception):
    """Raised by :meth:`BackendContext.emit` past the output bound: the backend stops there
    (fwc reports ``output-size``, not a failure of the backend)."""


class BackendContext:
    """What a backend's ``generate`` gets: the machine, its options, and sinks."""

    def __init__(self, backend: Backend, machine: "Machine", options: dict[str, Any], fwc: "Fwc | None" = None,
                 shared: "dict[Any, BackendContext] | None" = None, budget: OutputBudget | None = None) -> None:
        self.backend = backend
        self.machine = machine
        self.options = options
        self.fwc = fwc  # the Fwc instance, for backends that build on others
        #: the runs of one compile, by (backend, options): ctx.run() reuses one instead of running
        #: the backend again (a backend's outputs depend on the machine and its options only)
        self.shared = shared
        self.artifacts: list[Artifact] = []
        self.diagnostics: list[Diagnostic] = []
        #: the compile's output bound (a run for another backend, ``ctx.run``, has a bound of its own)
        self.budget = budget if budget is not None else OutputBudget(None)

    def emit(self, path: str, data: bytes | str) -> None:
        """Add the output ``path`` (relative, '/'-separated) holding ``data`` (bytes, or str
        written as UTF-8); a bad path or data raises ``ValueError``/``TypeError``."""
        artifact_problem(path, data)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not self.reserve(len(data)):
            raise OutputTooLarge(path)
        self.budget.used += len(data)
        self.artifacts.append(Artifact(self.backend.name, path, bytes(data)))

    def reserve(self, nbytes: int, why: str | None = None) -> bool:
        """Whether ``nbytes`` more output fit the compile's output bound; when they do not,
        ``output-size`` is reported and the compile stops.  A backend that can tell from the
        machine, before the work, how much it will at least write calls this first, so that
        an output too large is refused before it is made (``emit`` checks it too).  ``why``
        replaces "writes at least N more after M" in the message, for work past the bound
        whose result is not written whole."""
        b = self.budget
        if b.fits(nbytes):
            return True
        if not b.exceeded:
            b.exceeded = True
            self.error("output-size", f"the outputs would pass {b.limit} bytes: backend '{self.backend.name}' "
                                      f"{why or f'writes at least {nbytes} more after {b.used}'} (--allow-large-"
                                      "output or Fwc(max_output=None) writes them)", self.machine.span)
        return False

    def room(self) -> int | None:
        """The bytes this backend may still emit within the compile's output bound (None: no
        bound): for a backend that can stop its work once it knows it would pass it."""
        b = self.budget
        return None if b.limit is None else max(0, b.limit - b.used)

    def run(self, name: str, options: Mapping[str, Any] | None = None) -> dict[str, bytes]:
        """Run another backend on the same machine; return its outputs ``{path: bytes}``
        (empty when it is not installed or failed; its errors join this run's as warnings).
        When that run's outputs would pass the output bound, this run stops there too, with
        ``output-size``."""
        if self.fwc is None or name not in self.fwc.backends:
            return {}
        b = self.fwc.backends[name]
        opts = {k: o.default for k, o in b.options.items()}
        opts.update(options or {})
        key = run_key(name, opts)
        sub = self.shared.get(key) if self.shared is not None and key is not None else None
        if sub is None:  # its outputs are not written, but more than the bound is not made either
            sub = BackendContext(b, self.machine, opts, self.fwc, self.shared, OutputBudget(self.budget.limit))
            generate(sub, self.fwc.host.own(b.plugin), self.fwc.debug)
            if self.shared is not None and key is not None:
                self.shared[key] = sub
        if sub.budget.exceeded:  # this run cannot be made within the bound either
            if not self.budget.exceeded:
                self.budget.exceeded = True
                self.error("output-size", f"backend '{self.backend.name}' needs backend '{name}', whose outputs "
                                          f"would pass {sub.budget.limit} bytes (--allow-large-output or "
                                          "Fwc(max_output=None) makes them)", self.machine.span)
            raise OutputTooLarge(name)
        self.diagnostics += [d.with_severity(WARNING) for d in sub.diagnostics if d.severity == ERROR]
        return {} if any(d.severity == ERROR for d in sub.diagnostics) else {a.path: a.data for a in sub.artifacts}

    def error(self, check: str, message: str, span: Span | None = None, *, related: Iterable[Related] = (),
              notes: Iterable[str] = ()) -> None:
        """Report an error under the registered name ``check``: the run fails."""
        self._add(Diagnostic(ERROR, check, message, span, tuple(related), tuple(notes)))

    def warning(self, check: str, message: str, span: Span | None = None, *, related: Iterable[Related] = (),
                notes: Iterable[str] = ()) -> None:
        """Report a warning under the registered name ``check``."""
        self._add(Diagnostic(WARNING, check, message, span, tuple(related), tuple(notes)))

    def _add(self, d: Diagnostic) -> None:
        why = malformed(d)
        if why is not None:
            raise TypeError(f"backend {self.backend.name}: {why}")
        self.diagnostics.append(d)


def run_key(name: str, options: Mapping[str, Any]) -> "tuple[Any, ...] | None":
    """The key of a backend run among the runs of one compile (None: options not hashable)."""
    try:
        key = (name, tuple(sorted(options.items())))
        hash(key)
    except TypeError:
        return None
    return key


def artifact_problem(path: object, data: object) -> None:
    """Raise ``ValueError``/``TypeError`` for an output path or data a backend may not emit."""
    from .output import check_path

    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"ctx.emit({path!r}, ...): the data is bytes or str, not {type(data).__name__}")
    why = check_path(path)  # type: ignore[arg-type]
    if why is not None:
        raise ValueError(f"ctx.emit(): {why}")


def generate(ctx: BackendContext, own: bool, debug: bool) -> None:
    """Run ``ctx.backend`` with fwc's net: a backend that raises (``SystemExit`` included) is
    an error — ``internal-error`` for fwc's own backends (a bug), ``backend`` for a
    third-party one — and its outputs are dropped; diagnostics and artifacts it put into
    ``ctx`` by hand are checked as :meth:`BackendContext.error` and ``emit`` check them."""
    b = ctx.backend
    try:
        try:
            b.generate(ctx)
        except OutputTooLarge:
            pass  # reported by emit()
        for d in ctx.diagnostics:
            why = malformed(d)
            if why is not None:
                raise TypeError(f"a diagnostic in ctx.diagnostics: {why}")
        for a in ctx.artifacts:
            if not isinstance(a, Artifact):
                raise TypeError(f"ctx.artifacts holds {type(a).__name__}, not Artifact")
            artifact_problem(a.path, a.data)
    except BaseException as e:  # noqa: BLE001 - a backend bug is reported, not raised
        from .registry import interrupted

        if interrupted(e):
            raise
        from .registry import raised

        ctx.artifacts = []
        ctx.diagnostics = [d for d in ctx.diagnostics if malformed(d) is None]
        ctx.diagnostics.append(raised(f"backend '{b.name}' ({b.plugin})", own, e, debug))
