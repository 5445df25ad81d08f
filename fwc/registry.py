"""The named-checks registry (dtc's checks.c, in Python): records, levels, the runner.

A check has a kebab-case name, a stable numeric code, a default level (``error``,
``warning``, ``note`` or ``off``), optional prerequisites, and a function
``fn(machine, report)`` that calls ``report(message, span, related=(), notes=())`` for each
problem; a name without a function is one a front end or backend reports itself.  The
level, not the check, decides the severity, so ``-W``/``-E`` switches apply uniformly.
fwc's own checks are in :mod:`fwc.checks`; plugins add theirs through the
``fwc_register_checks`` hook (codes and prerequisites: docs/plugins.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

from .diagnostics import ERROR, NOTE, WARNING, Diagnostic, Related, Span, malformed

if TYPE_CHECKING:
    from .model import Machine

OFF = "off"
#: Levels a check may have.  ``note`` is for diagnostic-only names that inform (such as
#: ``qemu-board``); ``-W NAME`` makes one a warning, ``-W no-NAME`` turns it off.
LEVELS = (ERROR, WARNING, NOTE, OFF)
#: Numeric codes (shown as ``FWCnnnn``): 1000-3999 fwc itself, 4000-4999 the plugins shipped
#: with fwc (one block of 100 each), 5000-9999 every other plugin (docs/plugins.md).
CODE_MIN, CODE_MAX, THIRD_PARTY_MIN = 1000, 9999, 5000


class Report(Protocol):
    """What a check function calls for each problem it finds."""

    def __call__(self, message: str, span: Span | None = None, related: Iterable[Related] = (),
                 notes: Iterable[str] = ()) -> None: ...


#: A check function: ``fn(machine, report)``.
CheckFn = Callable[["Machine", Report], None]


class Check(NamedTuple):
    """One registered name: a check (``fn`` set) or a diagnostic-only name (``fn`` None)."""

    name: str
    code: int | None  # None: the plugin declared none (or an invalid or taken one)
    level: str
    description: str
    fn: CheckFn | None = None
    plugin: str = "fwc"
    requires: tuple[str, ...] = ()  # prerequisite checks (dtc): run only after they passed


class CheckRegistry:
    """The checks known to one fwc instance (built-ins plus plugins)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._codes: dict[int, str] = {}

    def __call__(self, name: str, level: str, description: str, fn: CheckFn | None = None, *,
                 code: int | None = None, requires: Sequence[str] = (), plugin: str = "fwc") -> Check:
        """Register a check, or with ``fn=None`` a name only a front end or backend reports.

        Raises ``ValueError`` for a taken name or code, a bad level or an out-of-range code;
        the plugin host turns that into a ``plugin`` diagnostic (docs/plugins.md)."""
        if name in self._checks:
            raise ValueError(f"check '{name}' is already registered by {self._checks[name].plugin}")
        if level not in LEVELS:
            raise ValueError(f"check '{name}': level must be one of {', '.join(LEVELS)}")
        if isinstance(requires, str):
            requires = (requires,)
        if code is not None:
            if isinstance(code, bool) or not isinstance(code, int) or not CODE_MIN <= code <= CODE_MAX:
                raise ValueError(f"check '{name}': code {code!r} is not a number from {CODE_MIN} to {CODE_MAX}")
            if code in self._codes:
                other = self._checks[self._codes[code]]
                raise ValueError(f"check '{name}': code FWC{code:04d} is already used by check '{other.name}' "
                                 f"({other.plugin})")
            self._codes[code] = name
        c = Check(name, code, level, description, fn, plugin, tuple(requires))
        self._checks[name] = c
        return c

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def get(self, name: str) -> Check | None:
        return self._checks.get(name)

    def ordered(self) -> list[Check]:
        """Checks in run order: fwc's own, then plugins' by their lowest code (fwc's plugins:
        qemu 41xx, initrd 42xx, acpi 43xx, boot 44xx: whether QEMU can start the machine before
        the tables and the boot built on it, so that its error stops the costlier checks; a
        plugin without codes last), registration order within each, every check after its
        prerequisites.  A check whose prerequisites are unknown or
        form a cycle is left out (see :meth:`problems`)."""
        out: list[Check] = []
        state: dict[str, int] = {}  # 1 visiting, 2 placed, 3 unrunnable

        def visit(c: Check) -> bool:
            s = state.get(c.name)
            if s is not None:
                return s == 2
            state[c.name] = 1
            ok = True
            for r in c.requires:
                dep = self._checks.get(r)
                if dep is None or not visit(dep):
                    ok = False
            state[c.name] = 2 if ok else 3
            if ok:
                out.append(c)
            return ok

        lowest: dict[str, int] = {}
        for c in self._checks.values():
            if c.code is not None:
                lowest[c.plugin] = min(lowest.get(c.plugin, c.code), c.code)
        for c in sorted(self._checks.values(), key=lambda c: (c.plugin != "fwc", lowest.get(c.plugin, 1 << 30))):
            visit(c)
        return out

    def problems(self) -> list[tuple[Check, str]]:
        """Checks that can never run: an unknown prerequisite, or prerequisites in a cycle."""
        runnable = {c.name for c in self.ordered()}
        out = []
        for c in self:
            if c.name in runnable:
                continue
            unknown = [r for r in c.requires if r not in self._checks]
            why = (f"requires unknown check(s) {', '.join(repr(u) for u in unknown)}" if unknown
                   else "its prerequisites form a cycle or cannot run")
            out.append((c, f"check '{c.name}' {why}; it never runs"))
        return out


def check_group(analyse: Callable[["Machine"], Sequence[tuple]]) -> Callable[[str], CheckFn]:
    """Named checks that share one analysis of the machine.

    ``analyse(machine)`` returns ``[(check name, message, span[, notes]), ...]`` and runs once
    per machine; ``check_group(analyse)(name)`` is the check function for one name::

        checks = check_group(plan_problems)
        for name, code, level, desc in CHECKS:
            register(name, level, desc, checks(name), code=code)
    """
    import weakref

    memo: list = [None, None]  # a weak reference to the machine analysed, the analysis

    def for_check(name: str) -> CheckFn:
        def check(machine: "Machine", report: Report) -> None:
            # weak: the last machine checked does not stay alive (with the cyclic collector walking
            # its objects) until the next check
            if memo[0] is None or memo[0]() is not machine:
                memo[0], memo[1] = weakref.ref(machine), analyse(machine)
            for p in memo[1]:
                if p[0] == name:
                    report(p[1], p[2], notes=p[3] if len(p) > 3 else ())

        check.__name__ = "check_" + name.replace("-", "_")
        return check

    return for_check


class Levels:
    """Per-run check levels: defaults adjusted by -W / -E / --Werror.

    Enabling a check (``-W NAME``, ``-E NAME``) also enables its prerequisites that are off,
    as warnings (dtc).  Raises ``ValueError`` for an unknown name or an attempt to disable or
    downgrade a check whose default level is ``error``."""

    def __init__(self, registry: CheckRegistry, warn: Iterable[str] = (), error: Iterable[str] = (),
                 werror: bool = False) -> None:
        self.registry = registry
        self.level: dict[str, str] = {c.name: c.level for c in registry}
        self.switched: set[str] = set()  # names a switch set: their level overrides the emitter's
        problems = []
        for spec, target in [(s, WARNING) for s in warn] + [(s, ERROR) for s in error]:
            # "no-NAME" negates NAME; a check whose own name starts with "no-" ("no-nodes") is
            # named as it is, and negated as "no-no-nodes".
            neg = spec.startswith("no-") and (spec[3:] in registry or spec not in registry)
            name = spec[3:] if neg else spec
            c = registry.get(name)
            if c is None:
                from .suggest import did_you_mean

                problems.append(f"unknown check '{name}'" + did_you_mean(name, (c.name for c in registry))
                                + " (fwc checks lists them)")
                continue
            if c.level == ERROR and (neg or target == WARNING):
                problems.append(f"check '{name}' is an error and cannot be disabled or downgraded")
                continue
            if neg:
                self._set(name, OFF if target == WARNING else WARNING)
            else:
                self._set(name, target)
                self._enable_prerequisites(c)
        self.werror = werror
        if problems:
            raise ValueError("; ".join(problems))

    def _set(self, name: str, level: str) -> None:
        self.level[name] = level
        self.switched.add(name)

    def _enable_prerequisites(self, c: Check, seen: set[str] | None = None) -> None:
        seen = set() if seen is None else seen
        for r in c.requires:
            dep = self.registry.get(r)
            if dep is None or r in seen:
                continue
            seen.add(r)
            if self.level.get(r) == OFF:
                self._set(r, WARNING)
            self._enable_prerequisites(dep, seen)

    def apply(self, diag: Diagnostic) -> Diagnostic | None:
        """The diagnostic at its run level, or None when its check is off.

        Without a switch naming it, a diagnostic keeps the severity its emitter gave it (a
        backend may report one name as a warning here and a note there; ``ctx.run`` turns
        another backend's errors into warnings); a check whose level is ``off`` drops it.
        A switch sets the level, but never downgrades an error; ``--Werror`` makes every
        warning an error."""
        lvl = self.level.get(diag.check)
        if lvl == OFF:
            return None
        if lvl is None or diag.check not in self.switched:
            lvl = diag.severity
        if lvl in (WARNING, NOTE) and diag.severity == ERROR:
            lvl = ERROR  # never downgrade an error
        if self.werror and lvl == WARNING:
            lvl = ERROR
        return diag.with_severity(lvl) if lvl != diag.severity else diag


def traceback_note(e: BaseException) -> str:
    """The formatted traceback of ``e``, as a diagnostic note (``debug`` runs)."""
    import traceback

    return "traceback:\n" + "".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip()


_SIGINT = {"watched": False, "seen": False}


def watch_interrupts() -> None:
    """Tell a real Ctrl-C (SIGINT) from a ``KeyboardInterrupt`` a plugin raises itself: the
    command line calls this once; afterwards only a real one passes fwc's nets."""
    import signal

    def handler(signum: int, frame: object) -> None:
        _SIGINT["seen"] = True
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: every KeyboardInterrupt counts as real
        return
    _SIGINT["watched"] = True


def interrupted(e: BaseException) -> bool:
    """Whether a net must let ``e`` through: a ``KeyboardInterrupt`` from a real Ctrl-C (any,
    when :func:`watch_interrupts` was not called)."""
    return isinstance(e, KeyboardInterrupt) and (_SIGINT["seen"] or not _SIGINT["watched"])


def raised(what: str, own: bool, e: BaseException, debug: bool, name: str = "backend",
           severity: str = ERROR, notes: tuple[str, ...] = (), tail: str = "") -> Diagnostic:
    """The diagnostic for ``what`` (a check, backend, decompiler or hook) that raised ``e``:
    ``internal-error`` when it is fwc's own code (``own``: a bug, the command exits 3), else
    ``name`` at ``severity`` (a third-party plugin's failure).  ``debug`` adds the traceback.
    Every net that catches an exception builds its diagnostic here; a ``KeyboardInterrupt``
    is never caught (the caller re-raises it)."""
    tb = (traceback_note(e),) if debug else ()
    if own:
        return Diagnostic(ERROR, "internal-error", f"{what} raised {type(e).__name__}: {e}", None, (),
                          tb + ("this is a bug in fwc: please report it with the input "
                                "(docs/security.md); --debug shows the traceback",))
    return Diagnostic(severity, name, f"{what} raised {type(e).__name__}: {e}{tail}", None, (), tb + notes)


def run_checks(machine: "Machine", registry: CheckRegistry, levels: Levels, debug: bool = False,
               own: Callable[[str], bool] = lambda plugin: plugin == "fwc") -> list[Diagnostic]:
    """Run every enabled check; return its diagnostics (with their levels applied).

    fwc's own checks run first; plugins' checks (which may simulate, lay out or encode the
    machine) run only on a machine with no error so far — their implicit prerequisite, as in
    dtc.  A check with ``requires`` runs only when each prerequisite is enabled and reported
    no error (a failed prerequisite leaves a note).  A plugin check that raises is reported
    as a ``plugin`` warning and its own diagnostics are dropped: that check is disabled for
    this run, every other check and backend keeps working (``debug``: the note carries the
    traceback).  A raising check of fwc or its own plugins (``own``) is an ``internal-error``:
    a bug in fwc.  A diagnostic a check reports with arguments of the wrong types counts as
    raising."""
    out: list[Diagnostic] = []
    failed: set[str] = set()  # ran and reported an error, or raised
    ran: set[str] = set()
    error_so_far = False
    for c in registry.ordered():
        if c.fn is None or levels.level.get(c.name) == OFF:
            continue
        if c.plugin != "fwc" and error_so_far:
            break
        if any(r not in ran for r in c.requires):
            continue  # a prerequisite is off (or did not run): so is this check
        bad = [r for r in c.requires if r in failed]
        if bad:
            out.append(Diagnostic(NOTE, c.name, f"check '{c.name}' skipped: its prerequisite "
                                                f"'{bad[0]}' failed"))
            continue
        mine: list[Diagnostic] = []
        level = levels.level[c.name]

        def report(message: str, span: Span | None = None, related: Iterable[Related] = (),
                   notes: Iterable[str] = (), _level: str = level, _name: str = c.name) -> None:
            d = Diagnostic(_level, _name, message, span, tuple(related), tuple(notes))
            why = malformed(d)
            if why is not None:
                raise TypeError(f"report(): {why}")
            mine.append(d)

        try:
            c.fn(machine, report)
        except BaseException as e:  # noqa: BLE001 - a broken check must not stop the run
            if interrupted(e):
                raise
            failed.add(c.name)
            ran.add(c.name)
            mine_own = own(c.plugin)
            d = raised(f"plugin '{c.plugin}': check '{c.name}'", mine_own, e, debug, "plugin", WARNING,
                       ("the other checks and backends keep working",), "; the check is disabled for this run")
            error_so_far = error_so_far or mine_own
            applied = levels.apply(d)
            if applied is not None:
                out.append(applied)
            continue
        ran.add(c.name)
        for d in mine:
            error_so_far = error_so_far or d.severity == ERROR
            applied = levels.apply(d)
            if applied is not None:
                out.append(applied)
                if applied.severity == ERROR:
                    failed.add(c.name)
    return out
