"""Studies: the loop that asks samplers, runs objectives and keeps everything in storage.

``optimize`` is only a loop over ``ask`` / ``tell``; everything a trial produces is written
to storage the moment it happens, so a killed process loses at most its running trial and
``load_study`` carries on where it stopped.
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import time
import traceback as tb
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from hypersearch.direction import Direction
from hypersearch.exceptions import (
    HypersearchError,
    InvalidArgumentError,
    InvalidSpaceError,
    ParameterConflictError,
    StaleTrialError,
    StudyNotFoundError,
    TrialNotFoundError,
    TrialPruned,
)
from hypersearch.interrupts import interrupts_held
from hypersearch.lease import HOST as _HOST
from hypersearch.lease import Heartbeat as _Heartbeat
from hypersearch.lease import current_gpu as _current_gpu
from hypersearch.lease import pid_alive as _pid_alive
from hypersearch.lease import pid_running as _pid_running
from hypersearch.objectives import (
    ConstraintError,
    Constraints,
    Objective,
    pareto_front,
    parse_directions,
)
from hypersearch.samplers import Sampler, SamplingContext, make_sampler, with_seed
from hypersearch.schedulers import Scheduler, make_scheduler
from hypersearch.schedulers.base import (
    Decision,
    SchedulerContext,
    TrialPlan,
    consult,
    plan_trial,
)
from hypersearch.space import Param, Space, param_from_dict
from hypersearch.storage import SQLStorage, Storage, get_storage, open_existing_storage
from hypersearch.storage.sql import check_name
from hypersearch.trial import Trial, TrialRecord, TrialState

__all__ = ["Study", "StudySpec", "create_study", "load_study"]

logger = logging.getLogger("hypersearch")

#: Plans made again for one trial when other workers keep taking what it claims.
_PLAN_ATTEMPTS = 20


class NoCompletedTrialsError(HypersearchError, ValueError):
    """Asked for a best trial before any trial completed with a value."""


class MultiObjectiveError(HypersearchError, ValueError):
    """A single-objective call (``best_value``, ``best_params``...) on a study with several
    objectives, which has a Pareto front (``best_trials``) instead of one best trial."""


class _Result(NamedTuple):
    """An objective's return value, read: the value (one objective) or values (several),
    the other metrics, and why the trial fails (``None``: it does not)."""

    value: float | None
    values: tuple[float, ...] | None
    metrics: dict[str, Any]
    problem: str | None


@dataclass(frozen=True)
class StudySpec:
    """Everything needed to open the same study elsewhere: in a worker process, a Ray task or
    on a wrapped storage (``spec.open(storage=...)``). Picklable when its sampler, scheduler
    and constraints are; ``storage_url`` carries the password, for our own workers only."""

    name: str
    study_id: int
    storage_url: str
    direction: str
    metric: str
    space: Space
    sampler: Sampler
    scheduler: Scheduler | None
    objectives: tuple[Objective, ...] = ()
    constraints: Constraints | None = None
    connection_retry_s: float | None = None
    #: seconds between lease refreshes; ``None``: leases are not refreshed (a fake clock)
    heartbeat_interval: float | None = 10.0
    grace_period: float = 60.0
    reap_interval: float = 15.0
    max_retries: int = 0
    deterministic_lag: int | None = None
    artifact_dir: str | None = None

    def open(self, storage: Storage | None = None) -> Study:
        """The study this spec describes, on ``storage`` (default: a new connection to
        ``storage_url``)."""
        return Study.from_spec(self, storage)


class Study:
    """A named search: its space, direction, sampler, scheduler and every trial in storage.

    Create one with ``hs.create_study`` or ``hs.load_study`` rather than directly.
    """

    #: Seconds between lease refreshes of running trials.
    heartbeat_interval: float = 10.0
    #: A RUNNING trial whose lease is older than this is marked FAILED by any worker.
    grace_period: float = 60.0
    #: How often ``ask`` looks for dead workers' trials.
    reap_interval: float = 15.0
    #: Checkpoints of this many best completed trials are kept (see hypersearch.checkpoints).
    keep_checkpoints: int = 3

    def __init__(
        self,
        *,
        name: str,
        storage: Storage,
        study_id: int,
        direction: str,
        metric: str,
        space: Space,
        sampler: Sampler,
        scheduler: Scheduler | None,
        objectives: Sequence[Objective] | None = None,
        constraints: Constraints | None = None,
    ) -> None:
        self._objectives: tuple[Objective, ...] = (
            tuple(objectives) if objectives else (Objective(metric, direction),)
        )
        if len(self._objectives) > 1 and scheduler is not None:
            _check_multi_objective_scheduler(scheduler, self._objectives)
        #: The outcome constraints (``None``: every trial with a result is feasible).
        self.constraints = constraints
        self.name = name
        self.direction = Direction.parse(direction)
        self.metric = metric
        self.space = space
        self.sampler = sampler
        self.scheduler = scheduler
        self._storage = storage
        self._id = study_id
        self._definitions: dict[str, Param] = dict(space.items())
        self._history: list[TrialRecord] = []
        self._last_reap = -math.inf
        self._heartbeat = _Heartbeat(storage, self.heartbeat_interval)
        self._live: dict[int, Trial] = {}
        #: Lost trials (dead worker) are enqueued again this many times (set by ``optimize``).
        self.max_retries = 0
        #: Deterministic parallel mode: trial n is proposed from trials 0..n-lag only.
        self._deterministic_lag: int | None = None
        self._known = _KnownTrials()  # this process's copy of the history, kept up to date
        self._learned: set[int] = set()  # finished trials whose definitions were learned
        self._planned_attrs: dict[str, Any] = {}
        self._artifact_dir: Any = None

    @property
    def artifact_dir(self) -> Any:
        """Folder of this study's checkpoints (``pathlib.Path``); assign to move it."""
        from hypersearch.checkpoints import artifact_root

        return artifact_root(self)

    @artifact_dir.setter
    def artifact_dir(self, path: Any) -> None:
        self._artifact_dir = None if path is None else os.fspath(path)

    def __repr__(self) -> str:
        if self.is_multi_objective:
            goal = ", ".join(f"{o.name!r}: {str(o.direction)!r}" for o in self._objectives)
            return (
                f"Study(name={self.name!r}, directions={{{goal}}}, storage={self.storage_url!r})"
            )
        return (
            f"Study(name={self.name!r}, direction={str(self.direction)!r}, "
            f"storage={self.storage_url!r})"
        )

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def id(self) -> int:
        """The study's id in its storage (what storage calls take)."""
        return self._id

    def to_spec(self) -> StudySpec:
        """What a worker needs to open this study (see ``StudySpec``); executors hand it over
        instead of the study's private fields."""
        storage = self._storage
        url = storage.worker_url if isinstance(storage, SQLStorage) else storage.url
        return StudySpec(
            name=self.name,
            study_id=self._id,
            storage_url=url,
            direction=self.direction,
            metric=self.metric,
            space=self.space,
            sampler=self.sampler,
            scheduler=self.scheduler,
            objectives=self._objectives,
            constraints=self.constraints,
            connection_retry_s=getattr(storage, "connection_retry_s", None),
            heartbeat_interval=self.heartbeat_interval,
            grace_period=self.grace_period,
            reap_interval=self.reap_interval,
            max_retries=self.max_retries,
            deterministic_lag=self._deterministic_lag,
            artifact_dir=self._artifact_dir,
        )

    @classmethod
    def from_spec(cls, spec: StudySpec, storage: Storage | None = None) -> Study:
        """The study ``spec`` describes, on ``storage`` (default: a new connection to its
        URL), with the same settings (leases, retries, deterministic lag, artifacts)."""
        if storage is None:
            storage = SQLStorage(spec.storage_url, connection_retry_s=spec.connection_retry_s)
        study = cls(
            name=spec.name,
            storage=storage,
            study_id=spec.study_id,
            direction=spec.direction,
            metric=spec.metric,
            space=spec.space,
            sampler=spec.sampler,
            scheduler=spec.scheduler,
            objectives=spec.objectives or None,
            constraints=spec.constraints,
        )
        if spec.heartbeat_interval is not None:
            study.heartbeat_interval = spec.heartbeat_interval
        study._heartbeat = _Heartbeat(storage, spec.heartbeat_interval)
        study.grace_period = spec.grace_period
        study.reap_interval = spec.reap_interval
        study.max_retries = spec.max_retries
        study._deterministic_lag = spec.deterministic_lag
        study._artifact_dir = spec.artifact_dir
        return study

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """What the study optimises, in order: one ``Objective`` or several."""
        return self._objectives

    @property
    def directions(self) -> tuple[Direction, ...]:
        """Each objective's direction, in order."""
        return tuple(Direction.parse(o.direction) for o in self._objectives)

    @property
    def is_multi_objective(self) -> bool:
        return len(self._objectives) > 1

    def close(self) -> None:
        """Release the storage's connections; a SQLite file then holds the whole study (its
        WAL written back), ready to copy. Program exit does this too; the study stays usable.

        >>> with hs.create_study("s", storage="runs.db") as study: study.optimize(f, 10)
        """
        self._storage.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def storage_url(self) -> str:
        return self._storage.url

    # ask / tell ----------------------------------------------------------------------
    def ask(self) -> Trial:
        """Start a new trial (an enqueued one first, if any) and return its live handle.

        >>> trial = study.ask(); study.tell(trial, train(**trial.params))
        """
        for _ in range(2):
            try:
                return self._ask_once()
            except StaleTrialError as exc:
                # this process stalled (stopped, swapped out) while preparing the trial and
                # it was reaped meanwhile: nothing of it ran, so claim another
                logger.warning("%s", exc)
        return self._ask_once()  # a third stale claim is raised

    def _ask_once(self) -> Trial:
        self.reap_lost_trials(force=False)
        with interrupts_held() as release:  # a claim is never left half-made
            claimed = self._storage.claim_trial(
                self._id, host=_HOST, pid=os.getpid(), gpu=_current_gpu()
            )
            record, token = claimed.record, claimed.token
            self._heartbeat.add(record.id, token)
            try:
                # Ctrl-C waits for the sampler too (a fraction of a second): some compiled code
                # it calls reports an interrupt as "ignored" and goes on, which would lose it
                # (scipy's Sobol engine reading its tables on first use did, in CI).
                params = self._propose(record, token)
                release()  # a Ctrl-C held until now arrives here, where it is undone
            except BaseException as exc:
                # A sampled trial that never ran leaves no trace; an enqueued one keeps its reason.
                with suppress(HypersearchError), interrupts_held():
                    if record.source in ("enqueued", "retry"):
                        self._storage.finish_trial(
                            record.id,
                            token,
                            TrialState.FAILED,
                            fail_reason=f"could not prepare parameters: {exc!r}",
                            traceback=tb.format_exc(),
                        )
                    else:
                        self._storage.discard_trial(record.id, token)
                self._heartbeat.remove(record.id)
                raise
        record = replace(
            record,
            params=params,
            distributions=dict(self.space.items()),
            attrs={**record.attrs, **self._planned_attrs},
        )
        trial = Trial(self, record, token)
        self._live[record.id] = trial
        return trial

    def _propose(self, record: TrialRecord, token: str) -> dict[str, Any]:
        fixed = dict(record.attrs.get("fixed_params", {}))
        lag = self._deterministic_lag
        if lag is not None:
            from hypersearch.execution.deterministic import wait_for_history

            wait_for_history(self, record.number - lag)
        self._history = self._visible_history(record)
        self._learn_definitions(self._history)
        self._planned_attrs = {}
        plan = self._plan(record, token)
        if plan is not None:  # the scheduler fixes some parameters; the user's fixed ones win
            fixed = {**{k: v for k, v in plan.params.items() if k in self.space}, **fixed}
            if plan.attrs:
                self._planned_attrs = dict(plan.attrs)
                self.set_attrs(record.number, self._planned_attrs)
        params: dict[str, Any] = {}
        todo = [k for k in self.space if k not in fixed]
        if todo:
            ctx = self._context(record, token, fixed)
            sampled = self.sampler.sample(ctx)
            params.update({k: self.space[k].validate(sampled[k], k) for k in todo})
        for k, v in fixed.items():
            if k in self.space:
                params[k] = self.space[k].validate(v, k)
        params = {k: params[k] for k in self.space}  # keep the space's order
        if params:
            self._storage.set_trial_params(
                record.id, token, params, {k: p.to_dict() for k, p in self.space.items()}
            )
        return params

    def _visible_history(self, record: TrialRecord) -> list[TrialRecord]:
        """The trials that ``record`` is proposed from: all others, or with
        ``deterministic=True`` those up to ``number - lag`` only."""
        history = self._read_history(exclude=record.id)
        lag = self._deterministic_lag
        if lag is not None:
            history = [t for t in history if t.number <= record.number - lag]
        return history

    def _plan(self, record: TrialRecord, token: str) -> TrialPlan | None:
        """The scheduler's plan for this trial. A plan that claims a key (a promotion) which
        another worker's trial took meanwhile is made again, with that trial in view."""
        if self.scheduler is None:
            return None
        for _ in range(_PLAN_ATTEMPTS):
            plan = plan_trial(
                self.scheduler, record.number, self._scheduler_context(self._history)
            )
            if plan is None or plan.claim is None:
                return plan
            if self._storage.set_claim_key(record.id, token, plan.claim):
                return plan
            self._history = self._visible_history(record)
        logger.warning(
            "Trial %d: other workers took each promotion it was planned for; sampling afresh.",
            record.number,
        )
        return None

    def _read_history(self, exclude: int | None = None) -> list[TrialRecord]:
        """Every trial by number (but the one with id ``exclude``), reading in full only
        those not already seen finished."""
        return self._known.refresh(self._storage, self._id, exclude)

    def _context(
        self, record: TrialRecord, token: str, fixed: Mapping[str, Any]
    ) -> SamplingContext:
        return SamplingContext(
            space=self.space,
            trials=self._history,
            number=record.number,
            direction=self.direction,
            claim=lambda key: self._storage.set_claim_key(record.id, token, key),
            fixed=fixed,
            directions=self.directions,
        )

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        values: Sequence[float] | Mapping[str, float] | None = None,
        state: TrialState | str | None = None,
        fail_reason: str | None = None,
    ) -> TrialRecord:
        """Finish a trial from ``ask``: with a value (COMPLETE), or with ``state="STOPPED"`` /
        ``"FAILED"``. A value that is None, NaN, infinite or not a number fails the trial with
        the reason kept. Returns the stored record.

        With several objectives, give every objective's value: ``values=(acc, ms)`` in the
        study's order, or a dict ``{"val_accuracy": acc, "latency_ms": ms}`` (extra keys are
        kept as metrics), as ``value`` or ``values``.
        """
        live = self._resolve_live(trial)
        if values is not None:
            if value is not None:
                raise InvalidArgumentError(
                    "tell() takes value= (one objective) or values= (several), not both."
                )
            value = _values_argument(values, self._objectives)
        try:
            target = TrialState(state) if state is not None else None
        except ValueError:
            target = None
            state = repr(state)
        if state is not None and (target is None or not target.is_finished):
            raise InvalidArgumentError(
                f"tell(state=...) must be COMPLETE, STOPPED or FAILED, got {state}."
            )
        if target is TrialState.FAILED:
            return self._finish(
                live, TrialState.FAILED, None, {}, fail_reason or "failed by tell()"
            )
        result = self._parse_result(value)
        if target is TrialState.STOPPED or (target is None and live.should_stop()):
            if result.value is None and result.values is None:  # None, NaN...: last report
                result = self._last_reported(live, result.metrics)
            violations, _ = self._violations(result)  # judged only where it can be
            return self._finish(
                live,
                TrialState.STOPPED,
                result.value,
                result.metrics,
                None,
                values=result.values,
                violations=violations,
            )
        if result.problem is not None:
            return self._finish(
                live,
                TrialState.FAILED,
                result.value,
                result.metrics,
                result.problem,
                values=result.values,
            )
        violations, problem = self._violations(result)
        return self._finish(
            live,
            TrialState.COMPLETE if problem is None else TrialState.FAILED,
            result.value,
            result.metrics,
            problem,
            values=result.values,
            violations=violations,
        )

    def _resolve_live(self, trial: Trial | int) -> Trial:
        if isinstance(trial, Trial):
            if trial.study is not self:
                raise InvalidArgumentError(
                    f"Trial {trial.number} belongs to another study object."
                )
            return trial
        for live in self._live.values():
            if live.number == trial:
                return live
        raise InvalidArgumentError(
            f"Trial {trial!r} is not running in this process; tell() takes a trial from ask()."
        )

    def _parse_result(self, result: Any) -> _Result:
        """The objective's return value as its value(s), other metrics and failure reason."""
        if self.is_multi_objective:
            return _parse_several(result, self._objectives)
        value, metrics, problem = self._parse_single(result)
        return _Result(value, None, metrics, problem)

    def _parse_single(self, result: Any) -> tuple[float | None, dict[str, Any], str | None]:
        """One objective's result as (metric value, other metrics, failure reason)."""
        metrics: dict[str, Any] = {}
        if isinstance(result, Mapping):
            metrics = dict(result)
            if self.metric not in metrics:
                return (
                    None,
                    metrics,
                    (
                        f"objective returned a dict without the study's metric {self.metric!r} "
                        f"(keys: {sorted(map(str, metrics))})"
                    ),
                )
            result = metrics.pop(self.metric)
        value, problem = _read_number(result, "objective returned", "return the metric value")
        return value, metrics, problem

    def _last_reported(self, trial: Trial, metrics: dict[str, Any]) -> _Result:
        """A stopped trial's result: its last report where every objective is finite."""
        record = self._storage.get_trial(self._id, trial.number)
        if self.is_multi_objective:
            complete = [
                v
                for _, v in sorted(record.intermediate_values.items())
                if len(v) == len(self._objectives) and all(math.isfinite(x) for x in v)
            ]
            return _Result(None, complete[-1] if complete else None, metrics, None)
        finite = [v for _, v in sorted(record.intermediate.items()) if math.isfinite(v)]
        return _Result(finite[-1] if finite else None, None, metrics, None)

    def _violations(self, result: _Result) -> tuple[tuple[float, ...] | None, str | None]:
        """The result's constraint violations, or why they cannot be judged (a metric never
        reported...): then the trial fails with that reason."""
        if self.constraints is None:
            return None, None
        if self.is_multi_objective:
            if result.values is None:
                return None, None
            named = dict(zip((o.name for o in self._objectives), result.values, strict=True))
        else:
            if result.value is None:
                return None, None
            named = {self.metric: result.value}
        try:
            return self.constraints.violations({**result.metrics, **named}), None
        except ConstraintError as exc:
            return None, str(exc)

    def _finish(
        self,
        trial: Trial,
        state: TrialState,
        value: float | None,
        metrics: Mapping[str, Any],
        reason: str | None,
        traceback: str | None = None,
        *,
        values: Sequence[float] | None = None,
        violations: Sequence[float] | None = None,
    ) -> TrialRecord:
        if trial._finished:
            raise InvalidArgumentError(f"Trial {trial.number} was already told its result.")
        if (
            state is TrialState.STOPPED
            and trial.decision == Decision.PAUSE
            and not trial._attrs.get("checkpoint")
        ):  # a later trial continues this one from its checkpoint: it must have one
            state = TrialState.FAILED
            reason = (
                f"CheckpointError: the scheduler paused trial {trial.number} so that a later "
                "trial continues it, but the objective never called trial.save_checkpoint(...). "
                "Save the model (and optimizer) state before returning: after each report, or "
                "once after the loop; see docs/schedulers.md."
            )
        try:
            stored = self._storage.finish_trial(
                trial._id,
                trial._token,
                state,
                value=value,
                metrics=metrics,
                fail_reason=reason,
                traceback=traceback,
                values=values,
                constraint_violations=violations,
            )
        finally:
            trial._finished = True
            self._heartbeat.remove(trial._id)
            self._live.pop(trial._id, None)
        if trial._attrs.get("checkpoint") or trial.resume_from is not None:
            from hypersearch.checkpoints import cleanup

            try:
                cleanup(self)
            except Exception as exc:  # never lose a result over a cleanup problem
                logger.warning("Checkpoint clean-up failed (will retry): %s", exc)
        if state is TrialState.FAILED:
            logger.warning("Trial %d failed: %s", trial.number, reason)
        elif values is not None:
            shown = ", ".join(
                f"{o.name}={v}" for o, v in zip(self._objectives, values, strict=False)
            )
            logger.info("Trial %d %s: %s", trial.number, state.value.lower(), shown)
        else:
            logger.info(
                "Trial %d %s: %s=%s", trial.number, state.value.lower(), self.metric, value
            )
        if stored is not None:  # the backend returned it: no read back
            return stored
        return self._storage.get_trial(self._id, trial.number)

    # hooks used by Trial ------------------------------------------------------------
    def _check_definition(self, name: str, param: Param) -> None:
        known = self._definitions.get(name)
        if known is not None and known != param:
            self._raise_conflict(name, known, param)

    @staticmethod
    def _raise_conflict(name: str, known: Param, param: Param) -> None:
        raise ParameterConflictError(
            f"Parameter {name!r} was defined as {known!r} earlier in this study but is now "
            f"asked as {param!r}. Use one definition per name (or a new name, or a new study)."
        )

    def _learn_definitions(self, trials: Sequence[TrialRecord]) -> None:
        learned = self._learned
        for t in trials:
            if t.id in learned:
                continue  # a finished trial's definitions do not change: learned once
            for k, p in t.distributions.items():
                self._definitions.setdefault(k, p)
            if t.state.is_finished:
                learned.add(t.id)

    def _sample_one(self, trial: Trial, name: str, param: Param) -> Any:
        record = TrialRecord(number=trial.number, state=TrialState.RUNNING, params=trial.params)
        ctx = SamplingContext(
            space=self.space,
            trials=self._history,
            number=record.number,
            direction=self.direction,
            directions=self.directions,
        )
        with interrupts_held():  # as in ``_ask_once``: compiled code must not lose a Ctrl-C
            value = self.sampler.sample_one(ctx, name, param)
        return param.validate(value, name)

    def _record_param(self, trial: Trial, name: str, value: Any, param: Param) -> None:
        self._definitions.setdefault(name, param)
        self._storage.set_trial_params(
            trial._id, trial._token, {name: value}, {name: param.to_dict()}
        )

    def _save_checkpoint(self, number: int, obj: Any, step: int | None) -> Any:
        """``trial.save_checkpoint``: keep ``obj`` as trial ``number``'s checkpoint."""
        from hypersearch.checkpoints import save

        return save(self, number, obj, step)

    def _load_checkpoint(self, number: int) -> Any:
        """``trial.load_checkpoint``: trial ``number``'s checkpoint."""
        from hypersearch.checkpoints import load

        return load(self, self.get_trial(number))

    def _report_values(self, value: Any) -> tuple[float, tuple[float, ...] | None]:
        """What ``trial.report(value)`` stores: the first objective's value, and with several
        objectives all of them. NaN is kept (schedulers skip it); a wrong shape is an error."""
        if not self.is_multi_objective:
            if isinstance(value, Mapping):
                if self.metric not in value or len(value) != 1:
                    raise InvalidArgumentError(
                        f"report() needs a number, or {{{self.metric!r}: number}} with this "
                        f"study's metric; got a dict with the keys {sorted(map(str, value))}."
                    )
                value = value[self.metric]
            return _report_number(value, "report()"), None
        names = [o.name for o in self._objectives]
        listing = ", ".join(map(repr, names))
        if isinstance(value, Mapping):
            missing = [n for n in names if n not in value]
            extra = sorted(str(k) for k in value if k not in names)
            if missing or extra:
                problem = f"misses {missing}" if missing else f"has other keys {extra}"
                raise InvalidArgumentError(
                    f"report() on a study with the objectives {listing} needs a value for each "
                    f"of them, and only them; the dict {problem}. Store other numbers with "
                    "trial.set_attr(...) or return them from the objective."
                )
            items = [value[n] for n in names]
        elif _is_sequence(value):
            items = list(value)
            if len(items) != len(names):
                raise InvalidArgumentError(
                    f"report() got {len(items)} values for the {len(names)} objectives "
                    f"({listing}); give one per objective, in that order."
                )
        else:
            raise InvalidArgumentError(
                f"This study has {len(names)} objectives ({listing}): report all of them, "
                f"e.g. trial.report({{{names[0]!r}: ..., {names[1]!r}: ...}}, step=epoch), "
                f"not the single number {value!r}."
            )
        values = tuple(
            _report_number(v, f"report() value of {n!r}")
            for n, v in zip(names, items, strict=True)
        )
        return values[0], values

    def _on_report(
        self, trial: Trial, value: float, step: int, values: tuple[float, ...] | None = None
    ) -> bool:
        self._storage.report(trial._id, trial._token, step, value, values)
        if self.scheduler is None:
            return False
        previous = getattr(trial, "_previous_step", None)
        if not self.scheduler.reacts_to(step, previous, trial._attrs):
            trial.decision = str(Decision.CONTINUE)
            return False
        # one history read, through the finished-trial cache: this runs after every report
        history = self._read_history()
        record = next(t for t in history if t.id == trial._id)
        verdict = consult(self.scheduler, record, self._scheduler_context(history))
        if verdict.attrs:  # the scheduler's annotations (ASHA's paused_at), written here
            self.set_attrs(trial.number, verdict.attrs)
        trial.decision = str(verdict.decision)
        return verdict.decision is not Decision.CONTINUE

    def _scheduler_context(self, trials: Sequence[TrialRecord]) -> SchedulerContext:
        """What the scheduler may read: the trials, the space, the directions (not the study)."""
        return SchedulerContext(trials=trials, space=self.space, directions=self.directions)

    # optimize -------------------------------------------------------------------------
    def optimize(
        self,
        objective: Callable[[Trial], Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        *,
        n_workers: int = 1,
        max_failures: int | None = 10,
        catch: tuple[type[BaseException], ...] = (Exception,),
        show_progress: bool | None = None,
        callbacks: Sequence[Callable[[Study, TrialRecord], None]] = (),
        executor: Any = "local",
        resources: Mapping[str, float] | None = None,
        gpus: Sequence[int | str] | None = None,
        deterministic: bool = False,
        max_retries: int = 0,
    ) -> None:
        """Run ``objective(trial)`` for ``n_trials`` new trials and/or until ``timeout`` seconds.

        Exceptions listed in ``catch`` (all ``Exception`` by default) fail the trial with its
        traceback and the study goes on; ``max_failures`` failures in a row stop it with
        ``TooManyFailuresError``. Ctrl-C or SIGTERM marks the running trial FAILED
        ("interrupted"), keeps everything else and re-raises ``KeyboardInterrupt``.

        Parallel runs (see docs/parallel.md): ``n_workers=N`` runs trials in N worker
        processes on the study's storage (a file or PostgreSQL; the objective must be a
        top-level function of an importable module); ``resources={"gpus": 0.5, "cpus": 1}``
        gives each trial its share of the GPUs in ``gpus`` (default: CUDA_VISIBLE_DEVICES)
        through CUDA_VISIBLE_DEVICES; ``executor="ray"`` (or ``RayExecutor(address=...)``
        from ``hypersearch.execution.ray``) runs each trial as a Ray task;
        ``deterministic=True`` proposes trial n from trials 0..n-N only, so a seeded
        parallel run repeats exactly; ``max_retries`` re-runs a trial whose worker died,
        with the same parameters.

        >>> study.optimize(objective, n_trials=50, timeout=3600)
        >>> study.optimize(objective, n_trials=200, n_workers=4, resources={"gpus": 0.5})
        """
        if self.constraints is not None and self.constraints.function_missing:
            raise InvalidArgumentError(
                f"Study {self.name!r} judges trials with the constraint "
                f"{self.constraints.describe()}, which this process was not given: load the "
                "study with hs.load_study(..., constraints=<that function>) (or `hypersearch "
                "worker ... --constraints module:function`) to run trials."
            )
        from hypersearch.execution import RunOptions, choose_executor

        options = RunOptions(
            n_trials=n_trials,
            timeout=timeout,
            n_workers=n_workers,
            max_failures=max_failures,
            catch=catch,
            show_progress=show_progress,
            callbacks=tuple(callbacks),
            resources=resources,
            gpus=None if gpus is None else tuple(gpus),
            deterministic=deterministic,
            max_retries=max_retries,
        )
        runner = choose_executor(executor, options)  # refuses an unknown one before any change
        if runner.calls_objective and not callable(objective):
            raise InvalidArgumentError(
                f"objective must be a function taking a trial, got {type(objective).__name__}."
            )
        self.max_retries = options.max_retries
        self._deterministic_lag = options.deterministic_lag
        runner.run(self, objective, options)

    def run_trial(
        self,
        objective: Callable[[Trial], Any],
        trial: Trial,
        catch: tuple[type[BaseException], ...] = (Exception,),
    ) -> TrialRecord:
        """Run ``objective`` on a trial from ``ask`` and record how it ended (what executors
        call): exceptions in ``catch`` fail the trial with their traceback, ``TrialPruned``
        stops it, Ctrl-C fails it ("interrupted") and is re-raised. Returns the record."""
        try:
            result = objective(trial)
        except TrialPruned:
            try:
                return self.tell(trial, None, state=TrialState.STOPPED)
            except StaleTrialError as stale:  # reaped meanwhile: nothing to record
                return self._after_stale(trial, stale)
        except KeyboardInterrupt:
            # held: a second signal (Ctrl-C reaches a worker and then its parent's SIGTERM)
            # must not cut this write short, or the trial stays RUNNING until reaped as lost
            with suppress(Exception), interrupts_held():
                self._finish(
                    trial,
                    TrialState.FAILED,
                    None,
                    {},
                    "interrupted (Ctrl-C or SIGTERM)",
                    tb.format_exc(),
                )
            raise
        except StaleTrialError as exc:
            trial._finished = True
            self._heartbeat.remove(trial._id)
            return self._after_stale(trial, exc)
        except catch as exc:
            reason = f"{type(exc).__name__}: {exc}"
            try:
                return self._finish(trial, TrialState.FAILED, None, {}, reason, tb.format_exc())
            except StaleTrialError as stale:  # reaped meanwhile (e.g. during an outage)
                return self._after_stale(trial, stale)
        except BaseException:
            with suppress(Exception), interrupts_held():
                self._finish(
                    trial, TrialState.FAILED, None, {}, "uncaught exception", tb.format_exc()
                )
            raise
        try:
            with interrupts_held():  # Ctrl-C now: the finished work is saved first
                return self.tell(trial, result)
        except StaleTrialError as exc:
            return self._after_stale(trial, exc)

    def _after_stale(self, trial: Trial, exc: StaleTrialError) -> TrialRecord:
        """The stored record of a trial this worker no longer owns (reaped as lost while it
        ran, or gone: a database that crashed before its claim reached the disk), so the
        worker carries on with the next trial."""
        logger.warning("%s", exc)
        self._live.pop(trial._id, None)
        try:
            return self._storage.get_trial(self._id, trial.number)
        except TrialNotFoundError:
            return TrialRecord(
                number=trial.number,
                state=TrialState.FAILED,
                params=trial.params,
                fail_reason="lost by the database (its row is gone)",
                id=trial._id,
            )

    # manual trials ----------------------------------------------------------------------
    def enqueue(
        self,
        params: Mapping[str, Any],
        *,
        note: str = "",
        tags: Sequence[str] = (),
        allow_new: bool = False,
    ) -> int:
        """Queue a trial with your own parameters (the "babysitting" workflow); it runs before
        any sampled trial and is compared like any other. Parameters left out are sampled.

        Each name must be known: in the space, or asked (``trial.float(...)``...) by an
        earlier trial, so a misspelled name is an error rather than silently ignored. For a
        define-by-run parameter no trial has asked for yet, pass ``allow_new=True``. A study
        with no space and no trials yet takes any name (there is nothing to check against).

        >>> study.enqueue({"lr": 1e-3, "batch_size": 64}, note="baseline from the paper")
        """
        checked = self._validate_manual(params, partial=True)
        known = {*self.space, *self._definitions}
        unknown = [k for k in checked if k not in known]
        if unknown and known and not allow_new:
            raise InvalidSpaceError(
                f"enqueue: unknown parameter(s) {', '.join(map(repr, unknown))}; the known "
                f"parameters are {', '.join(map(repr, sorted(known)))}. Fix the name, or pass "
                "allow_new=True for a define-by-run parameter the objective asks for but no "
                "trial has asked yet."
            )
        return self._storage.enqueue_trial(self._id, checked, note=note, tags=list(tags))

    def add_trial(
        self,
        params: Mapping[str, Any],
        value: Any = None,
        *,
        values: Sequence[float] | Mapping[str, float] | None = None,
        note: str = "",
        tags: Sequence[str] = (),
        curve: Mapping[int, Any] | Sequence[Any] | None = None,
    ) -> int:
        """Record a trial you already ran by hand, with its result (and learning curve).

        With several objectives, pass every objective's value (``values=(acc, ms)`` or a
        dict by name, extra keys kept as metrics); a curve then has, per step, one value per
        objective.
        """
        checked = self._validate_manual(params, partial=False)
        if values is not None:
            if value is not None:
                raise InvalidArgumentError(
                    "add_trial() takes value= (one objective) or values= (several), not both."
                )
            value = _values_argument(values, self._objectives)
        result = self._parse_result(value)
        problem = result.problem
        violations = None
        if problem is None:
            violations, problem = self._violations(result)
        if problem is not None:
            raise InvalidArgumentError(
                f"add_trial: {problem.replace('objective returned', 'value is')}."
            )
        if curve is not None and not isinstance(curve, Mapping):
            curve = dict(enumerate(curve))
        steps: dict[int, float] = {}
        several: dict[int, tuple[float, ...]] = {}
        for k, v in (curve or {}).items():
            first, per_objective = self._report_values(v)
            steps[int(k)] = first
            if per_objective is not None:
                several[int(k)] = per_objective
        dists = {k: self._definitions[k] for k in checked if k in self._definitions}
        record = TrialRecord(
            number=-1,
            state=TrialState.COMPLETE,
            params=checked,
            distributions=dists,
            value=result.value,
            metrics=result.metrics,
            source="manual",
            note=note,
            tags=tuple(tags),
            intermediate=steps,
            host=_HOST,
            values=result.values,
            constraint_violations=violations,
            intermediate_values=several,
        )
        return self._storage.add_finished_trial(self._id, record)

    def _validate_manual(self, params: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        if not isinstance(params, Mapping):
            raise InvalidArgumentError(f"params must be a dict of name -> value, got {params!r}.")
        self._learn_definitions(self._read_history())
        declared = {k: v for k, v in params.items() if k in self.space}
        checked = self.space.validate(declared, partial=True)
        if not partial:
            missing = [k for k in self.space if k not in params]
            if missing:
                raise InvalidSpaceError(f"Missing value(s) for {missing!r}.")
        for k, v in params.items():
            if k in self.space:
                continue
            known = self._definitions.get(k)
            if known is not None:
                checked[k] = known.validate(v, k)
            elif not _json_scalar(v):
                raise InvalidSpaceError(f"{k}: {v!r} must be a number, string, bool or None.")
            else:
                checked[k] = v
        return checked

    # reading ------------------------------------------------------------------------------
    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial, by number, freshly read from storage."""
        return self._storage.get_trials(self._id)

    def get_trials(self, states: Sequence[TrialState | str] | None = None) -> list[TrialRecord]:
        return self._storage.get_trials(
            self._id, None if states is None else [TrialState(s) for s in states]
        )

    def get_trial(self, number: int) -> TrialRecord:
        return self._storage.get_trial(self._id, number)

    def top(self, k: int = 5) -> list[TrialRecord]:
        """The ``k`` best completed trials, best first (ties: earlier trial first)."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgumentError(f"top(k) needs a positive integer, got {k!r}.")
        self._single_objective_only("top()")
        done = [t for t in self.get_trials([TrialState.COMPLETE]) if t.has_value and t.feasible]
        sign = self.direction.sign
        done.sort(key=lambda t: (sign * float(t.value), t.number))  # type: ignore[arg-type]
        return done[:k]

    @property
    def best_trial(self) -> TrialRecord:
        """The best feasible completed trial (``NoCompletedTrialsError`` before any)."""
        self._single_objective_only("best_trial")
        best = self.top(1)
        if not best:
            infeasible = self.constraints is not None and any(
                t.has_value for t in self.get_trials([TrialState.COMPLETE])
            )
            raise NoCompletedTrialsError(
                f"Study {self.name!r} has no feasible completed trial: every one violates a "
                f"constraint ({self.constraints.describe()}). Relax the constraints, or look "
                "at study.trials."
                if infeasible and self.constraints is not None
                else f"Study {self.name!r} has no completed trial with a value yet; run "
                "study.optimize(...) or study.tell(...) first."
            )
        return best[0]

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The feasible COMPLETE trials no other one beats on every objective (the Pareto
        front), by number; for one objective, the best trial alone (``[]`` before any)."""
        if not self.is_multi_objective:
            return self.top(1)
        return pareto_front(self.get_trials([TrialState.COMPLETE]), self.directions)

    @property
    def best_value(self) -> float:
        self._single_objective_only("best_value")
        return float(self.best_trial.value)  # type: ignore[arg-type]

    @property
    def best_params(self) -> dict[str, Any]:
        self._single_objective_only("best_params")
        return dict(self.best_trial.params)

    def _single_objective_only(self, what: str) -> None:
        if self.is_multi_objective:
            names = ", ".join(repr(o.name) for o in self._objectives)
            raise MultiObjectiveError(
                f"Study {self.name!r} has {len(self._objectives)} objectives ({names}), so it "
                f"has no single best trial for {what}: use study.best_trials (the Pareto "
                "front: trials no other trial beats on every objective) and pick one, e.g. "
                "max(study.best_trials, key=lambda t: t.values[0])."
            )

    def table(self) -> list[dict[str, Any]]:
        """One flat dict per trial (``params.*`` and ``metrics.*`` columns), for CSV or pandas."""
        from hypersearch.export import trials_to_rows

        return trials_to_rows(
            self.trials,
            self.metric,
            objectives=[o.name for o in self._objectives] if self.is_multi_objective else None,
            constraints=self.constraint_labels(),
        )

    def constraint_labels(self) -> list[str] | None:
        """A short name per constraint (its metric), for tables; ``None`` without any."""
        return None if self.constraints is None else self.constraints.labels()

    def trials_dataframe(self) -> Any:
        """The trials as a pandas DataFrame (needs ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                'trials_dataframe() needs pandas: pip install "hypersearch[pandas]". '
                "study.table() gives the same rows as plain dicts."
            ) from None
        return pd.DataFrame(self.table())

    # annotations -----------------------------------------------------------------------
    def set_note(self, number: int, note: str) -> None:
        if not isinstance(note, str):
            raise InvalidArgumentError(f"A note is text, got {type(note).__name__}.")
        self._storage.update_trial_annotations(self._id, number, note=note)

    def add_tags(self, number: int, *tags: str) -> None:
        self._storage.update_trial_annotations(self._id, number, add_tags=_check_tags(tags))

    def remove_tags(self, number: int, *tags: str) -> None:
        self._storage.update_trial_annotations(self._id, number, remove_tags=_check_tags(tags))

    def set_attrs(self, number: int, attrs: Mapping[str, Any]) -> None:
        self._storage.update_trial_annotations(self._id, number, attrs=dict(attrs))

    # recovery -----------------------------------------------------------------------------
    def reap_lost_trials(self, *, force: bool = True) -> list[int]:
        """Mark FAILED the RUNNING trials whose worker is gone: a dead process on this host
        (found at once) or a lease older than ``grace_period`` (any host). Returns numbers."""
        now = time.monotonic()
        if not force and now - self._last_reap < self.reap_interval:
            return []
        if getattr(self._storage, "read_only", False):
            return []  # a database in a read-only folder: look, never write
        self._last_reap = now
        here = {
            pid
            for _, host, pid in self._storage.running_trials(self._id)
            if host == _HOST and pid is not None
        }
        others = here - {os.getpid()}
        dead = [pid for pid in others if not _pid_alive(pid)]
        # Another live, running process on this host is not reaped by lease age: its
        # heartbeats may be old only because the database was unreachable (a frozen one
        # still is). This process's own trials are: one it gave up on has no heartbeat.
        alive = [pid for pid in others if _pid_running(pid)]
        grace = self.grace_period
        since = time.monotonic() - getattr(self._storage, "reconnected_at", -math.inf)
        if since < grace:
            # back from an outage less than a grace period ago: every lease is old, and
            # their workers (on other hosts too) have not had the time to renew them
            grace = math.inf
        retries = {"max_retries": self.max_retries} if self.max_retries else {}
        reaped = self._storage.reap_stale_trials(
            self._id,
            grace_seconds=grace,
            host=_HOST,
            dead_pids=dead,
            alive_pids=alive,
            **retries,
        )
        if reaped:
            logger.warning("Marked lost trial(s) %s as FAILED (worker gone).", reaped)
        return reaped


class _KnownTrials:
    """A process's copy of a study's trials, refreshed by reading only what can have changed.

    Finished records do not change, so they are kept and never read again. ``after`` is the
    highest number seen finished: new trials are numbered above every existing one, which
    includes that finished trial, so a refresh reads the trials above ``after`` plus the
    ones at or below it last seen unfinished. One case escapes that rule: a claim that
    computed its number before a trial below ``after`` was deleted (a RUNNING trial that
    never started) may reuse that number. Every ``resync_s`` a narrow read of all numbers
    catches such a trial.
    """

    resync_s = 30.0

    def __init__(self) -> None:
        self.finished: list[TrialRecord] = []  # by number
        self.after = -1
        self.unfinished_below: list[int] = []  # numbers <= after last seen unfinished
        self.synced_at = time.monotonic()

    def refresh(
        self, storage: Storage, study_id: int, exclude: int | None = None
    ) -> list[TrialRecord]:
        """Every trial of the study (but the one with id ``exclude``), by number, as storage
        has it now."""
        if time.monotonic() - self.synced_at > self.resync_s:
            self._resync(storage, study_id)
        fresh = storage.get_trials_after(study_id, self.after, self.unfinished_below)
        live = []
        for record in fresh:
            if record.state.is_finished:
                self._keep(record)
            elif record.id != exclude:
                live.append(record)
        self.unfinished_below = [r.number for r in live if r.number <= self.after]
        if exclude is not None:  # the excluded trial may be one at or below ``after``
            self.unfinished_below += [
                r.number for r in fresh if r.id == exclude and r.number <= self.after
            ]
        out = list(self.finished)
        for record in live:  # few: the running and waiting trials
            bisect.insort(out, record, key=_number)
        return out

    def _resync(self, storage: Storage, study_id: int) -> None:
        """Re-read trials at or below ``after`` that this copy has never seen."""
        known = {r.number for r in self.finished}.union(self.unfinished_below)
        self.unfinished_below += [
            n for _, n, _ in storage.trial_states(study_id) if n <= self.after and n not in known
        ]
        self.synced_at = time.monotonic()

    def _keep(self, record: TrialRecord) -> None:
        if not self.finished or record.number > self.finished[-1].number:
            self.finished.append(record)  # the usual case: finished in number order
        else:
            bisect.insort(self.finished, record, key=_number)
        self.after = max(self.after, record.number)


def _number(record: TrialRecord) -> int:
    return record.number


def _json_scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _check_tags(tags: Sequence[str]) -> list[str]:
    bad = [t for t in tags if not isinstance(t, str) or not t.strip()]
    if bad:
        raise InvalidArgumentError(f"Tags must be non-empty strings, got {bad!r}.")
    return [t.strip() for t in tags]


# results ---------------------------------------------------------------------------------
def _read_number(result: Any, said: str, fix: str) -> tuple[float | None, str | None]:
    """``result`` as a float and why it cannot rank a trial (None, NaN, not a number...)."""
    if result is None:
        return None, f"{said} None; {fix}"
    if isinstance(result, bool | str):
        return None, f"{said} {result!r}, not a number"
    try:
        value = float(result)
    except (TypeError, ValueError):
        return None, f"{said} {type(result).__name__}, not a number"
    except OverflowError:  # an int beyond ~1.8e308
        return None, f"{said} an integer too large for a float"
    if math.isnan(value):
        return None, f"{said} NaN"
    if math.isinf(value):
        return value, f"{said} {value}"
    return value, None


def _is_sequence(value: Any) -> bool:
    """A tuple, list or 1-D array of values (not text, not a dict)."""
    if isinstance(value, str | bytes | Mapping):
        return False
    if isinstance(value, Sequence):
        return True
    return getattr(value, "ndim", None) == 1  # numpy and torch vectors


def _parse_several(result: Any, objectives: Sequence[Objective]) -> _Result:
    """A multi-objective result: a dict with every objective's name (other keys are
    metrics) or a tuple/list in objective order."""
    names = [o.name for o in objectives]
    listing = ", ".join(map(repr, names))
    how = (
        f"return a dict with every objective ({{{names[0]!r}: ..., {names[1]!r}: ..., ...}}) "
        "or a tuple of values in that order"
    )
    metrics: dict[str, Any] = {}
    if isinstance(result, Mapping):
        metrics = dict(result)
        missing = [n for n in names if n not in metrics]
        if missing:
            return _Result(
                None,
                None,
                metrics,
                f"objective returned a dict without the objective(s) "
                f"{', '.join(map(repr, missing))} (keys: {sorted(map(str, metrics))}); the "
                f"study's objectives are {listing}",
            )
        items = [metrics.pop(n) for n in names]
    elif _is_sequence(result):
        items = list(result)
        if len(items) != len(names):
            return _Result(
                None,
                None,
                metrics,
                f"objective returned {len(items)} values for {len(names)} objectives "
                f"({listing}); {how}",
            )
    else:
        shown = "None" if result is None else f"a single {type(result).__name__}"
        return _Result(
            None,
            None,
            metrics,
            f"objective returned {shown}, but the study has {len(names)} objectives "
            f"({listing}); {how}",
        )
    values = []
    problems = []
    for name, item in zip(names, items, strict=True):
        value, problem = _read_number(
            item, f"objective {name!r} is", f"return a number for {name!r}"
        )
        values.append(math.nan if value is None else value)
        if problem is not None:
            problems.append(problem)
    if problems:
        finite = all(not math.isnan(v) for v in values)  # infinite values are kept as given
        return _Result(None, tuple(values) if finite else None, metrics, "; ".join(problems))
    return _Result(None, tuple(values), metrics, None)


def _report_number(value: Any, what: str) -> float:
    """A reported value as a float (NaN kept, to be skipped by schedulers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            if isinstance(value, bool | str | bytes):
                raise TypeError(value)  # float("0.5") or float(True) would hide a bug
            value = float(value)  # numpy and torch scalars
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"{what} needs a number, got {value!r} of type {type(value).__name__}."
            ) from None
    return float(value)


def _values_argument(values: Any, objectives: Sequence[Objective]) -> Any:
    """``values=`` of tell/add_trial as the objective's return value would be."""
    if isinstance(values, Mapping) or len(objectives) > 1:
        return values
    if _is_sequence(values) and len(values) == 1:
        return values[0]
    raise InvalidArgumentError(
        f"values= needs one value per objective; this study has one ({objectives[0].name!r}): "
        f"pass value=... (or values=[...] with one number), got {values!r}."
    )


def _check_multi_objective_scheduler(
    scheduler: Scheduler, objectives: Sequence[Objective]
) -> None:
    if not getattr(scheduler, "supports_multi_objective", False):
        raise InvalidArgumentError(
            f"The scheduler {type(scheduler).__name__} ranks trials by one objective, but this "
            f"study has {len(objectives)} ({', '.join(repr(o.name) for o in objectives)}). "
            "Use scheduler=hs.schedulers.MultiObjectiveASHA(...), which ranks learning curves "
            "by non-dominated sorting, or no scheduler."
        )


# construction ---------------------------------------------------------------------------
def _study_config(sampler: Sampler, scheduler: Scheduler | None) -> dict[str, Any]:
    return {
        "sampler": sampler.config(),
        "seed": sampler.seed,
        "scheduler": None if scheduler is None else scheduler.config(),
    }


def create_study(
    name: str | None = None,
    *,
    space: Mapping[str, Param] | Space | None = None,
    direction: str | None = None,
    metric: str | None = None,
    directions: Mapping[str, str] | None = None,
    constraints: Mapping[str, tuple[str, float]] | Callable[..., Any] | Constraints | None = None,
    sampler: str | Sampler | None = "auto",
    scheduler: str | Scheduler | None = None,
    storage: str | Storage | None = None,
    seed: int | None = None,
    load_if_exists: bool = False,
    allow_changes: bool = False,
) -> Study:
    """Create a study (or, with ``load_if_exists``, resume the one of that name).

    One objective: ``direction`` ("minimize", the default, or "maximize") of ``metric``
    (the objective's return value, or that key of the dict it returns). Several:
    ``directions={"val_accuracy": "maximize", "latency_ms": "minimize"}``; the objective
    then returns a dict with each name (or a tuple in that order) and ``study.best_trials``
    is the Pareto front. ``constraints={"gpu_mem_gb": ("<=", 16)}`` (or a function of the
    metrics returning violations, <= 0 satisfied) keeps infeasible trials out of the best.

    A resumed study must use the same objectives, constraints, space and sampler as before;
    a difference in space or sampler is refused with a diff unless ``allow_changes=True``.

    >>> study = hs.create_study("digits", space=space, direction="maximize",
    ...                         storage="sqlite:///hypersearch.db", seed=0)
    """
    objectives = _objectives_argument(direction, metric, directions)
    direction, metric = objectives[0].direction, objectives[0].name
    the_constraints = Constraints.parse(constraints)
    the_space = Space(space)
    if name is None:
        if storage is not None:
            raise InvalidArgumentError(
                "A study kept in storage needs a name, so it can be loaded later: "
                "create_study('my-study', storage=...)."
            )
        name = f"study-{uuid.uuid4().hex[:8]}"
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"A study name must be a non-empty string, got {name!r}.")
    check_name(name, "study name")
    check_name(metric, "metric name")
    backend = get_storage(storage)
    the_sampler = make_sampler(sampler, seed=seed)
    the_scheduler = make_scheduler(scheduler)
    if len(objectives) > 1 and the_scheduler is not None:
        _check_multi_objective_scheduler(the_scheduler, objectives)
    try:
        record = backend.get_study(name)
    except StudyNotFoundError:
        record = None
    if record is not None and not load_if_exists:
        from hypersearch.exceptions import DuplicateStudyError

        raise DuplicateStudyError(
            f"A study named {name!r} already exists in {backend.url}. Pass load_if_exists=True "
            "to resume it, use hs.load_study, or choose another name."
        )
    if seed is not None:  # seed= also seeds a sampler object built without one
        the_sampler = with_seed(the_sampler, seed)
    stored_seed = None if record is None else dict(record.config).get("seed")
    if stored_seed is not None and not the_sampler.seed_given:
        # Resuming without a seed keeps the stored one (a fresh random seed would be drift).
        the_sampler = with_seed(the_sampler, stored_seed)
    config = _study_config(the_sampler, the_scheduler)
    if record is None:
        from hypersearch.exceptions import DuplicateStudyError

        try:
            record = backend.create_study(
                name,
                direction=direction,
                metric=metric,
                space=the_space.to_dict(),
                config=config,
                objectives=objectives,
                constraints=None if the_constraints is None else the_constraints.to_stored(),
            )
        except DuplicateStudyError:
            if not load_if_exists:
                raise
            # Another worker created it a moment ago: resume it like any existing study.
            return create_study(
                name,
                space=the_space,
                directions={o.name: o.direction for o in objectives},
                constraints=the_constraints,
                sampler=sampler,
                scheduler=scheduler,
                storage=backend,
                seed=seed,
                load_if_exists=True,
                allow_changes=allow_changes,
            )
    else:
        _check_goal(record, objectives, the_constraints)
        _check_drift(record, direction, metric, the_space, config, allow_changes)
        if allow_changes:
            backend.update_study(record.id, space=the_space.to_dict(), config=config)
    study = Study(
        name=name,
        storage=backend,
        study_id=record.id,
        direction=direction,
        metric=metric,
        space=the_space,
        sampler=the_sampler,
        scheduler=the_scheduler,
        objectives=objectives,
        constraints=the_constraints,
    )
    logger.info("Study %r in %s uses the %s.", name, backend.url, the_sampler.describe())
    study.reap_lost_trials()
    return study


def _objectives_argument(
    direction: str | None, metric: str | None, directions: Mapping[str, str] | None
) -> tuple[Objective, ...]:
    """The study's objectives from ``direction``/``metric`` or from ``directions``."""
    if directions is None:
        direction = Direction.parse("minimize" if direction is None else direction)
        metric = "value" if metric is None else metric
        if not isinstance(metric, str) or not metric:
            raise InvalidArgumentError(f"metric must be a non-empty name, got {metric!r}.")
        return (Objective(metric, direction),)
    given = [k for k, v in (("direction", direction), ("metric", metric)) if v is not None]
    if given:
        raise InvalidArgumentError(
            f"create_study got directions= and {' and '.join(f'{k}=' for k in given)}: "
            "directions names every objective and its direction, so leave "
            f"{' and '.join(given)} out (one objective: directions={{'val_loss': 'minimize'}} "
            "or direction='minimize', metric='val_loss')."
        )
    return parse_directions(directions)


def _check_goal(
    record: Any, objectives: Sequence[Objective], constraints: Constraints | None
) -> None:
    """A resumed study keeps what it optimises: its objectives and its constraints."""
    stored = tuple(record.objectives) or (Objective(record.metric, record.direction),)
    if stored != tuple(objectives):

        def show(objs: Sequence[Objective]) -> str:
            return ", ".join(f"{o.name} ({o.direction})" for o in objs)

        raise InvalidArgumentError(
            f"Study {record.name!r} optimizes {show(stored)}; got {show(objectives)}. Use a "
            "new study for different objectives."
        )
    before = Constraints.from_stored(record.constraints, None)
    if before != constraints:

        def describe(c: Constraints | None) -> str:
            return "no constraints" if c is None else c.describe()

        raise InvalidArgumentError(
            f"Study {record.name!r} has {describe(before)}; got {describe(constraints)}. "
            "Resume with the same constraints (a changed constraint would judge old and new "
            "trials differently), or use a new study."
        )


def _check_drift(
    record: Any,
    direction: str,
    metric: str,
    space: Space,
    config: Mapping[str, Any],
    allow_changes: bool,
) -> None:
    if record.direction != direction or record.metric != metric:  # (_check_goal said more)
        raise InvalidArgumentError(
            f"Study {record.name!r} optimizes {record.metric!r} ({record.direction}); "
            f"got {metric!r} ({direction}). Use a new study for a different objective."
        )
    if allow_changes:
        return
    stored_space = Space.from_dict(record.space or {})
    diff = stored_space.diff(space)
    old = dict(record.config)
    changes = [f"space {line}" for line in diff]
    for key in ("sampler", "seed", "scheduler"):
        if old.get(key) != config.get(key):
            changes.append(f"{key}: {old.get(key)!r} -> {config.get(key)!r}")
    if changes:
        raise InvalidArgumentError(
            f"Study {record.name!r} was created with other settings:\n  "
            + "\n  ".join(changes)
            + "\nResume with the same settings (hs.load_study reuses them), or pass "
            "allow_changes=True to switch."
        )


def load_study(
    name: str,
    *,
    storage: str | Storage,
    sampler: str | Sampler | None = None,
    scheduler: str | Scheduler | None = None,
    constraints: Callable[..., Any] | None = None,
) -> Study:
    """Open an existing study, with the space, sampler (and seed), objectives and
    constraints it was created with, so a resumed search proposes exactly what an
    uninterrupted one would have. A study whose constraint is a function needs it again
    as ``constraints=`` to run trials (functions are not stored, only their names).

    >>> study = hs.load_study("digits", storage="sqlite:///hypersearch.db")
    """
    # Loading never creates a database: a mistyped path is an error, not a new empty file.
    backend = open_existing_storage(storage) if isinstance(storage, str) else get_storage(storage)
    record = backend.get_study(name)
    config = dict(record.config)
    the_sampler = make_sampler(
        sampler if sampler is not None else config.get("sampler"), seed=config.get("seed")
    )
    if config.get("seed") is not None and not the_sampler.seed_given:
        the_sampler = with_seed(the_sampler, config["seed"])  # an object built without one
    the_scheduler = make_scheduler(scheduler if scheduler is not None else config.get("scheduler"))
    the_constraints = Constraints.from_stored(record.constraints, constraints)
    if constraints is not None:
        given = Constraints.parse(constraints)
        if given != the_constraints:
            stored = "none" if the_constraints is None else the_constraints.describe()
            raise InvalidArgumentError(
                f"Study {name!r} has the constraints {stored}; load_study(constraints=...) "
                f"got {given.describe() if given is not None else None}. Pass the function "
                "the study was created with."
            )
    study = Study(
        name=name,
        storage=backend,
        study_id=record.id,
        direction=record.direction,
        metric=record.metric,
        space=Space({k: param_from_dict(v) for k, v in (record.space or {}).items()}),
        sampler=the_sampler,
        scheduler=the_scheduler,
        objectives=record.objectives or None,
        constraints=the_constraints,
    )
    study.reap_lost_trials()
    return study
