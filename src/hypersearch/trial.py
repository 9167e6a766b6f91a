"""Trials: the live handle an objective receives, and the frozen record storage keeps.

A ``Trial`` is how user code talks to the study while it trains: it reads parameters
(declared up front or asked for define-by-run), reports a learning curve, asks whether a
scheduler wants it stopped, and leaves notes and tags. A ``TrialRecord`` is one row of
history, immutable, as samplers, schedulers, the CLI and the dashboard see it.

The seam to the study is declared here, in both directions: a trial asks its study only
through the ``TrialHost`` it was given (the study's ``TrialHooks``), and the study reads a
trial only through its public names (``lease``, ``attrs``, ``decision``, ``should_stop``).
"""

from __future__ import annotations

import builtins
import enum
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from hypersearch.exceptions import InvalidArgumentError, ParameterConflictError, TrialPruned
from hypersearch.space import Bool, Choice, ChoiceValue, Float, Int, Param

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = [
    "StepOrderWarning",
    "Trial",
    "TrialHost",
    "TrialLease",
    "TrialRecord",
    "TrialState",
    "parameter_conflict",
]


class StepOrderWarning(UserWarning):
    """A report's step is not larger than the steps already reported."""


class TrialState(enum.StrEnum):
    """Where a trial is in its life. WAITING trials are enqueued and not yet claimed."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    STOPPED = "STOPPED"
    FAILED = "FAILED"

    @property
    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.STOPPED, TrialState.FAILED)


def _timestamp(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


@dataclass(frozen=True)
class TrialRecord:
    """One trial as stored: parameters, outcome, learning curve, cost and annotations."""

    number: int
    state: TrialState
    params: Mapping[str, Any]
    distributions: Mapping[str, Param] = field(default_factory=dict)
    value: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    intermediate: Mapping[int, float] = field(default_factory=dict)
    source: str = "sampler"
    note: str = ""
    tags: tuple[str, ...] = ()
    attrs: Mapping[str, Any] = field(default_factory=dict)
    fail_reason: str | None = None
    traceback: str | None = None
    host: str | None = None
    pid: int | None = None
    gpu: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    claim_key: str | None = None
    id: int = -1
    #: Objective values in the study's order, raw (multi-objective studies; else None).
    values: tuple[float, ...] | None = None
    #: One per study constraint: <= 0 satisfied, > 0 violated by that much (None: none).
    constraint_violations: tuple[float, ...] | None = None
    #: Per step, every objective's value (multi-objective studies); ``intermediate`` keeps
    #: the first objective's, so single-curve code draws them.
    intermediate_values: Mapping[int, tuple[float, ...]] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (``None`` while running or never started)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    @property
    def datetime_start(self) -> datetime | None:
        return _timestamp(self.started_at)

    @property
    def datetime_finish(self) -> datetime | None:
        return _timestamp(self.finished_at)

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate) if self.intermediate else None

    @property
    def feasible(self) -> bool:
        """True unless a constraint of the study is violated (every violation <= 0)."""
        return self.constraint_violations is None or all(
            v <= 0 for v in self.constraint_violations
        )

    @property
    def has_value(self) -> bool:
        """True when ``value`` is a finite number that can rank this trial."""
        return self.value is not None and not math.isnan(self.value)


@dataclass(frozen=True)
class TrialLease:
    """The claim on a running trial this process holds: the trial's storage id and the token
    that proves the claim on every write (for the study and executors; objectives need not)."""

    id: int
    token: str


class TrialHost(Protocol):
    """Everything a live ``Trial`` asks of its study, and nothing else: the study hands each
    trial one (``hypersearch.study.hooks.TrialHooks``); another host serves trials elsewhere."""

    @property
    def study(self) -> Study:
        """The study the trial belongs to (``trial.study``)."""
        ...

    def check_definition(self, name: str, param: Param) -> None:
        """Raise ``ParameterConflictError`` if the study defined ``name`` otherwise."""
        ...

    def sample(self, trial: Trial, name: str, param: Param) -> Any:
        """A value for the define-by-run parameter ``name`` of ``trial`` (validated)."""
        ...

    def record_param(self, trial: Trial, name: str, value: Any, param: Param) -> None:
        """Store ``trial``'s value for ``name`` and remember the definition."""
        ...

    def parse_report(self, value: Any) -> tuple[builtins.float, tuple[builtins.float, ...] | None]:
        """The stored value (and every objective's, with several) of ``trial.report(value)``."""
        ...

    def report(
        self,
        trial: Trial,
        value: builtins.float,
        step: builtins.int,
        values: tuple[builtins.float, ...] | None,
        previous_step: builtins.int | None,
    ) -> str | None:
        """Store a report, then ask the scheduler: its decision (``"continue"``, ``"stop"``,
        ``"pause"``), or ``None`` when the study has no scheduler."""
        ...

    def save_checkpoint(self, number: builtins.int, obj: Any, step: builtins.int | None) -> Any:
        """Keep ``obj`` as trial ``number``'s checkpoint; return the reference to store."""
        ...

    def load_checkpoint(self, number: builtins.int) -> Any:
        """Trial ``number``'s checkpoint."""
        ...

    def set_attrs(self, number: builtins.int, attrs: Mapping[str, Any]) -> None: ...

    def set_note(self, number: builtins.int, note: str) -> None: ...

    def add_tags(self, number: builtins.int, *tags: str) -> None: ...


def parameter_conflict(name: str, known: Param, param: Param) -> ParameterConflictError:
    """The error for a parameter asked with another definition than it had."""
    return ParameterConflictError(
        f"Parameter {name!r} was defined as {known!r} earlier in this study but is now "
        f"asked as {param!r}. Use one definition per name (or a new name, or a new study)."
    )


class Trial:
    """The live handle an objective receives.

    >>> def objective(trial):
    ...     lr = trial.params["lr"]                      # declared in the study's space
    ...     layers = trial.int("layers", 1, 4)           # define-by-run
    ...     for epoch in range(10):
    ...         trial.report(train_one_epoch(lr, layers), step=epoch)
    ...         if trial.should_stop():
    ...             break
    """

    def __init__(self, host: TrialHost, record: TrialRecord, token: str) -> None:
        self._host = host
        self._lease = TrialLease(record.id, token)
        self.number = record.number
        self._params: dict[str, Any] = dict(record.params)
        self._distributions: dict[str, Param] = dict(record.distributions)
        self._fixed: dict[str, Any] = dict(record.attrs.get("fixed_params", {}))
        self._next_step = 0
        self._previous_step: builtins.int | None = None
        self._stop_requested = False
        self.source = record.source
        self._attrs: dict[str, Any] = dict(record.attrs)
        self._next_step = int(self._attrs.get("start_step", 0))
        self.decision: str = "continue"  # the scheduler's last word: continue, stop or pause

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self._params!r})"

    @property
    def params(self) -> dict[str, Any]:
        """The parameters chosen so far (a copy)."""
        return dict(self._params)

    @property
    def distributions(self) -> dict[str, Param]:
        return dict(self._distributions)

    @property
    def study(self) -> Study:
        return self._host.study

    @property
    def lease(self) -> TrialLease:
        """This process's claim on the trial (storage id and token): what the study and
        executors write with. Objectives need not read it."""
        return self._lease

    # define-by-run -----------------------------------------------------------------
    def suggest(self, name: str, param: Param) -> Any:
        """Return this trial's value for ``name`` from ``param``, choosing it on first ask."""
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"A parameter name must be a non-empty string, got {name!r}."
            )
        if not isinstance(param, Param):
            raise InvalidArgumentError(
                f"suggest({name!r}, ...) needs an hs.Float/Int/Choice/Bool, got {param!r}."
            )
        self._host.check_definition(name, param)
        if name in self._params:
            known = self._distributions.get(name)
            if known is not None and known != param:
                raise parameter_conflict(name, known, param)
            return self._params[name]
        if name in self._fixed:
            value = param.validate(self._fixed[name], name)
        else:
            value = self._host.sample(self, name, param)
        self._params[name] = value
        self._distributions[name] = param
        self._host.record_param(self, name, value, param)
        return value

    def float(
        self,
        name: str,
        low: float,
        high: float,
        *,
        log: bool = False,
        step: float | None = None,
        scale: str | None = None,
    ) -> float:
        """A real parameter, e.g. ``trial.float("lr", 1e-5, 1e-1, log=True)``."""
        return float(self.suggest(name, Float(low, high, log=log, step=step, scale=scale)))

    def int(
        self,
        name: str,
        low: int,
        high: int,
        *,
        step: int = 1,
        log: bool = False,
        scale: str | None = None,
    ) -> int:
        """An integer parameter, e.g. ``trial.int("batch_size", 8, 256, scale="pow2")``."""
        return int(self.suggest(name, Int(low, high, step=step, log=log, scale=scale)))

    def choice(self, name: str, values: list[ChoiceValue] | tuple[ChoiceValue, ...]) -> Any:
        """One of ``values``, e.g. ``trial.choice("optimizer", ["sgd", "adam"])``."""
        return self.suggest(name, Choice(tuple(values)))

    def bool(self, name: str) -> bool:
        return bool(self.suggest(name, Bool()))

    # learning curve and early stopping ------------------------------------------------
    def report(
        self,
        value: builtins.float | Mapping[str, builtins.float] | Sequence[builtins.float],
        step: builtins.int | None = None,
    ) -> None:
        """Record ``value`` at ``step`` (epoch, batch, samples...) of the learning curve.

        Steps default to 0, 1, 2, ... NaN is stored (and ignored by schedulers); ±inf is
        stored as is. Each report is committed at once, so a crash loses nothing reported.
        With several objectives, report them all: ``trial.report({"val_accuracy": a,
        "latency_ms": l}, step=epoch)`` or a tuple in the study's order.
        """
        value, values = self._host.parse_report(value)
        if step is None:
            step = self._next_step
        if isinstance(step, numbers.Integral) and not isinstance(step, builtins.bool):
            step = builtins.int(step)  # numpy integers too
        if isinstance(step, builtins.bool) or not isinstance(step, builtins.int) or step < 0:
            raise InvalidArgumentError(f"report(step=...) needs an integer >= 0, got {step!r}.")
        if step < self._next_step and self._next_step > int(self._attrs.get("start_step", 0)):
            warnings.warn(
                f"Trial {self.number}: report(step={step}) after step {self._next_step - 1}; "
                "steps should increase (a repeated step overwrites its value, and schedulers "
                "judge the curve by its steps). Report step=epoch or leave step out.",
                StepOrderWarning,
                stacklevel=2,
            )
        self._previous_step = self._next_step - 1 if self._next_step > self.start_step else None
        self._next_step = max(self._next_step, step + 1)
        decision = self._host.report(self, value, int(step), values, self._previous_step)
        if decision is not None:  # the study's scheduler had its say
            self.decision = decision
        self._stop_requested = decision is not None and decision != "continue"

    def should_stop(self) -> builtins.bool:
        """True when the study's scheduler decided this trial should end now.

        End the objective then (return the last value, or ``raise hs.TrialPruned()``); the
        trial is recorded as STOPPED with its curve kept.
        """
        return self._stop_requested

    # checkpoints and multi-fidelity ---------------------------------------------------------
    @property
    def start_step(self) -> builtins.int:
        """The first step this trial trains: 0, or where the trial it continues stopped
        (PBT, promotions). Loop ``for step in range(trial.start_step, n)``."""
        return builtins.int(self._attrs.get("start_step", 0))

    @property
    def resume_from(self) -> builtins.int | None:
        """Number of the trial whose checkpoint this one continues from, if any."""
        source = self._attrs.get("resume_from")
        return None if source is None else builtins.int(source)

    @property
    def attrs(self) -> dict[str, Any]:
        """Attributes set when the trial started (bracket, start_step, schedule...), a copy."""
        return dict(self._attrs)

    def save_checkpoint(self, obj: Any) -> None:
        """Keep ``obj`` (e.g. ``{"model": net.state_dict(), "opt": opt.state_dict()}``) as this
        trial's checkpoint, replacing the previous one. Schedulers continue other trials from
        it (PBT exploit, promotions); the study deletes it when nothing can need it."""
        step = self._next_step - 1 if self._next_step > self.start_step else None
        ref = self._host.save_checkpoint(self.number, obj, step)
        self._attrs["checkpoint"] = ref
        self._host.set_attrs(self.number, {"checkpoint": ref})

    def load_checkpoint(self) -> Any:
        """This trial's latest checkpoint, else the one of the trial it continues from
        (``resume_from``), else ``None`` (start from scratch)."""
        if self._attrs.get("checkpoint"):
            return self._host.load_checkpoint(self.number)
        if self.resume_from is not None:
            return self._host.load_checkpoint(self.resume_from)
        return None

    def stop(self) -> None:
        """End the trial now as STOPPED (raises ``TrialPruned`` for the study to catch)."""
        self._stop_requested = True
        raise TrialPruned(f"trial {self.number} stopped by the objective")

    # annotations -------------------------------------------------------------------
    def set_note(self, note: str) -> None:
        """Attach a free-text note (shown in the CLI and dashboard)."""
        self._host.set_note(self.number, note)

    def add_tag(self, *tags: str) -> None:
        self._host.add_tags(self.number, *tags)

    def set_attr(self, key: str, value: Any) -> None:
        """Store any JSON-serialisable value with the trial (e.g. the model's size)."""
        self._host.set_attrs(self.number, {key: value})
