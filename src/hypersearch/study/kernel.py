"""The study: its definition (space, objectives, sampler, scheduler) and the ask/tell kernel
that runs trials against storage.

``ask`` claims and prepares a trial, ``tell`` records how it ended, ``run_trial`` runs an
objective between the two, and ``optimize`` hands a whole run to an executor
(``hypersearch.execution``). Everything a trial produces is written to storage the moment it
happens, so a killed process loses at most its running trial and ``load_study`` carries on
where it stopped. Reading, manual trials and proposing parameters are the bases
``StudyReading``, ``ManualTrials`` and ``Proposal``; what a live trial asks of its study goes
through the ``TrialHooks`` the study hands each trial (a ``TrialHost``, see trial.py).
"""

from __future__ import annotations

import logging
import math
import os
import time
import traceback as tb
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import (
    HypersearchError,
    InvalidArgumentError,
    StaleTrialError,
    TrialNotFoundError,
    TrialPruned,
)
from hypersearch.interrupts import interrupts_held
from hypersearch.lease import HOST, Heartbeat, current_gpu
from hypersearch.objectives import Constraints, Objective
from hypersearch.samplers import Sampler
from hypersearch.schedulers import Scheduler
from hypersearch.schedulers.base import Decision
from hypersearch.space import Param, Space
from hypersearch.storage import SQLStorage, Storage
from hypersearch.study.history import KnownTrials
from hypersearch.study.hooks import TrialHooks
from hypersearch.study.manual import ManualTrials
from hypersearch.study.proposal import Proposal
from hypersearch.study.recovery import reap_lost_trials
from hypersearch.study.results import Result, judge_constraints, parse_result, values_argument
from hypersearch.study.spec import StudySpec
from hypersearch.trial import Trial, TrialRecord, TrialState

__all__ = ["Study", "StudySpec", "check_multi_objective_scheduler"]

logger = logging.getLogger("hypersearch")


class Study(Proposal, ManualTrials):
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
            check_multi_objective_scheduler(scheduler, self._objectives)
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
        self._heartbeat = Heartbeat(storage, self.heartbeat_interval)
        self._live: dict[int, Trial] = {}
        self._hooks = TrialHooks(self)  # what every trial of this study asks it through
        self._told: weakref.WeakSet[Trial] = weakref.WeakSet()  # trials already finished
        #: Lost trials (dead worker) are enqueued again this many times (set by ``optimize``).
        self.max_retries = 0
        #: Deterministic parallel mode: trial n is proposed from trials 0..n-lag only.
        self._deterministic_lag: int | None = None
        self._known = KnownTrials()  # this process's copy of the history, kept up to date
        self._learned: set[int] = set()  # finished trials whose definitions were learned
        self._planned_attrs: dict[str, Any] = {}
        self._artifact_dir: str | Path | None = None

    @property
    def artifact_dir(self) -> Path:
        """Folder of this study's checkpoints (``pathlib.Path``); assign to move it."""
        if self._artifact_dir is not None:
            return Path(self._artifact_dir)
        from hypersearch.checkpoints import default_artifact_dir, temporary_artifact_dir

        found = default_artifact_dir(self.name, self.storage_url)
        if found is None:  # in memory: a temporary folder, the same for the study's life
            found = temporary_artifact_dir(self.name)
            self._artifact_dir = found
        return found

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
            artifact_dir=None if self._artifact_dir is None else str(self._artifact_dir),
            study_class=type(self),
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
        study._heartbeat = Heartbeat(storage, spec.heartbeat_interval)
        study.grace_period = spec.grace_period
        study.reap_interval = spec.reap_interval
        study.max_retries = spec.max_retries
        study._deterministic_lag = spec.deterministic_lag
        study.artifact_dir = spec.artifact_dir
        return study

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
                self._id, host=HOST, pid=os.getpid(), gpu=current_gpu()
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
        trial = Trial(self._hooks, record, token)
        self._live[record.id] = trial
        return trial

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
            value = values_argument(values, self._objectives)
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
        result = parse_result(value, self._objectives)
        if target is TrialState.STOPPED or (target is None and live.should_stop()):
            if result.value is None and result.values is None:  # None, NaN...: last report
                result = self._last_reported(live, result.metrics)
            violations, _ = judge_constraints(
                result, self.constraints, self._objectives
            )  # judged only where it can be
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
        violations, problem = judge_constraints(result, self.constraints, self._objectives)
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

    def _last_reported(self, trial: Trial, metrics: dict[str, Any]) -> Result:
        """A stopped trial's result: its last report where every objective is finite."""
        record = self._storage.get_trial(self._id, trial.number)
        if self.is_multi_objective:
            complete = [
                v
                for _, v in sorted(record.intermediate_values.items())
                if len(v) == len(self._objectives) and all(math.isfinite(x) for x in v)
            ]
            return Result(None, complete[-1] if complete else None, metrics, None)
        finite = [v for _, v in sorted(record.intermediate.items()) if math.isfinite(v)]
        return Result(finite[-1] if finite else None, None, metrics, None)

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
        if trial in self._told:
            raise InvalidArgumentError(f"Trial {trial.number} was already told its result.")
        lease = trial.lease
        if (
            state is TrialState.STOPPED
            and trial.decision == Decision.PAUSE
            and not trial.attrs.get("checkpoint")
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
                lease.id,
                lease.token,
                state,
                value=value,
                metrics=metrics,
                fail_reason=reason,
                traceback=traceback,
                values=values,
                constraint_violations=violations,
            )
        finally:
            self._told.add(trial)
            self._heartbeat.remove(lease.id)
            self._live.pop(lease.id, None)
        if trial.attrs.get("checkpoint") or trial.resume_from is not None:
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
        ``executor="threads"`` runs N trials in threads (I/O-bound objectives); any
        ``hypersearch.execution.Executor`` instance runs the trials its own way;
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
            self._told.add(trial)
            self._heartbeat.remove(trial.lease.id)
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
        self._live.pop(trial.lease.id, None)
        try:
            return self._storage.get_trial(self._id, trial.number)
        except TrialNotFoundError:
            return TrialRecord(
                number=trial.number,
                state=TrialState.FAILED,
                params=trial.params,
                fail_reason="lost by the database (its row is gone)",
                id=trial.lease.id,
            )

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
        return reap_lost_trials(
            self._storage, self._id, grace_period=self.grace_period, max_retries=self.max_retries
        )


def check_multi_objective_scheduler(scheduler: Scheduler, objectives: Sequence[Objective]) -> None:
    if not getattr(scheduler, "supports_multi_objective", False):
        raise InvalidArgumentError(
            f"The scheduler {type(scheduler).__name__} ranks trials by one objective, but this "
            f"study has {len(objectives)} ({', '.join(repr(o.name) for o in objectives)}). "
            "Use scheduler=hs.schedulers.MultiObjectiveASHA(...), which ranks learning curves "
            "by non-dominated sorting, or no scheduler."
        )
