"""A simulated executor with a fake clock: replays learning curves through a real study, so
schedulers are tested (and benchmarked) in milliseconds without training anything.

Several simulated workers run at once: each trial reports one step per ``step_time`` fake
seconds, and events happen in fake-time order, so asynchronous schedulers (ASHA) see trials
interleave as they would on a cluster. Trials go through ``study.ask`` / ``trial.report`` /
``study.tell`` like real ones: storage, scheduler hooks and checkpoints are all exercised.

>>> clock = FakeClock()
>>> sim = SimulatedExecutor(lambda params: curve_for(params), max_steps=27, n_workers=4,
...                         clock=clock)
>>> result = sim.run(study, n_trials=100)
>>> result.steps, result.trace[-1]

It is an ``Executor`` like the others (``study.optimize(None, executor=sim, n_trials=100)``
works too; the curve or dynamics stands in for the objective). The run uses its own view of
the study (``study.to_spec().open(storage=...)``) on a caching storage, without leases:
the study object passed in is left as it was.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError, SearchSpaceExhaustedError
from hypersearch.execution.base import Executor, RunOptions, RunPolicy, run_policy
from hypersearch.trial import Trial, TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["FakeClock", "SimulatedExecutor", "SimulationResult"]

#: ``dynamics(state, params, step) -> (new_state, value)``: one step of a simulated model.
Dynamics = Callable[[Any, dict[str, Any], int], tuple[Any, float]]


class FakeClock:
    """A clock that only moves when told to. Call it for the time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance_to(self, t: float) -> None:
        self.now = max(self.now, float(t))


@dataclass
class SimulationResult:
    """What a simulated run consumed and found."""

    steps: int = 0  #: reports made by all trials (epochs when a step is an epoch)
    time: float = 0.0  #: fake seconds at the end
    n_trials: int = 0
    #: (steps consumed so far, best value of a trial that completed) after each completion
    trace: list[tuple[int, float]] = field(default_factory=list)
    best_value: float | None = None

    def best_at(self, steps: int) -> float | None:
        """Best completed value once ``steps`` steps were consumed (None before any)."""
        best = None
        for consumed, value in self.trace:
            if consumed > steps:
                break
            best = value
        return best


class _CachingStorage:
    """Wraps the study's storage while one simulated run is its only writer: trial records are
    re-read only after a write touched them, so reading the history stays cheap with thousands
    of trials. Everything else is passed through."""

    def __init__(self, inner: Any, study_id: int) -> None:
        self._inner = inner
        self._study_id = study_id
        self._records: dict[int, TrialRecord] | None = None
        self._dirty: set[int] = set()
        self._number_of: dict[int, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _touch_id(self, trial_id: int) -> None:
        number = self._number_of.get(trial_id)
        if number is None:
            self._records = None
        else:
            self._dirty.add(number)

    def claim_trial(self, study_id: int, **kwargs: Any) -> Any:
        claimed = self._inner.claim_trial(study_id, **kwargs)
        self._number_of[claimed.record.id] = claimed.record.number
        self._dirty.add(claimed.record.number)
        return claimed

    def _by_id(self, method: str) -> Callable[..., Any]:
        def call(trial_id: int, *args: Any, **kwargs: Any) -> Any:
            try:
                return getattr(self._inner, method)(trial_id, *args, **kwargs)
            finally:
                self._touch_id(trial_id)

        return call

    def __getattribute__(self, name: str) -> Any:
        if name in ("report", "finish_trial", "set_trial_params", "set_claim_key"):
            return object.__getattribute__(self, "_by_id")(name)
        if name == "discard_trial":

            def discard(trial_id: int, token: str) -> None:
                self._inner.discard_trial(trial_id, token)
                self._records = None

            return discard
        return object.__getattribute__(self, name)

    def update_trial_annotations(self, study_id: int, number: int, **kwargs: Any) -> None:
        try:
            self._inner.update_trial_annotations(study_id, number, **kwargs)
        finally:
            self._dirty.add(number)

    def enqueue_trial(self, *args: Any, **kwargs: Any) -> int:
        self._records = None
        return int(self._inner.enqueue_trial(*args, **kwargs))

    def add_finished_trial(self, *args: Any, **kwargs: Any) -> int:
        self._records = None
        return int(self._inner.add_finished_trial(*args, **kwargs))

    def reap_stale_trials(self, *args: Any, **kwargs: Any) -> list[int]:
        reaped = self._inner.reap_stale_trials(*args, **kwargs)
        if reaped:
            self._records = None
        return list(reaped)

    def get_trials(self, study_id: int, states: Sequence[TrialState] | None = None) -> Any:
        if study_id != self._study_id:
            return self._inner.get_trials(study_id, states)
        if self._records is None:
            self._records = {t.number: t for t in self._inner.get_trials(study_id)}
            self._number_of.update({t.id: t.number for t in self._records.values()})
            self._dirty.clear()
        for number in sorted(self._dirty):
            try:
                record = self._inner.get_trial(study_id, number)
            except Exception:
                self._records.pop(number, None)
                continue
            self._records[number] = record
            self._number_of[record.id] = number
        self._dirty.clear()
        records = [self._records[n] for n in sorted(self._records)]
        if states is not None:
            records = [t for t in records if t.state in states]
        return records


@dataclass
class _Running:
    trial: Trial
    step: int
    end: int
    state: Any
    value: float = math.nan


class SimulatedExecutor(Executor):
    """Run a study's trials on simulated workers.

    Give either ``curve(params) -> values`` (the value reported at step ``first_step + i`` is
    ``values[i]``; a learning-curve replay) or ``dynamics(state, params, step) -> (state,
    value)`` (a stateful model whose state goes into checkpoints, for PBT). With ``curve`` a
    checkpoint holds only the step reached: the replay needs nothing else, and a lazily
    computed curve may hold a whole oracle (every model trained so far), which pickling at
    every step made slow and, with live torch models, once crashed the interpreter.
    """

    calls_objective = False  # the curve or dynamics plays the objective

    def __init__(
        self,
        curve: Callable[[dict[str, Any]], Sequence[float]] | None = None,
        *,
        dynamics: Dynamics | None = None,
        max_steps: int,
        first_step: int = 0,
        n_workers: int = 1,
        step_time: float | Callable[[dict[str, Any], int], float] = 1.0,
        clock: FakeClock | None = None,
        checkpoints: bool = False,
    ) -> None:
        if (curve is None) == (dynamics is None):
            raise InvalidArgumentError("SimulatedExecutor needs exactly one of curve or dynamics.")
        if max_steps < 1 or n_workers < 1:
            raise InvalidArgumentError(
                f"SimulatedExecutor: max_steps >= 1 and n_workers >= 1 must hold, got "
                f"max_steps={max_steps!r}, n_workers={n_workers!r}."
            )
        self.curve = curve
        self.dynamics = dynamics
        self.max_steps = max_steps
        self.first_step = first_step
        self.n_workers = n_workers
        self.step_time = step_time
        self.clock = clock if clock is not None else FakeClock()
        self.checkpoints = checkpoints

    def _duration(self, params: dict[str, Any], step: int) -> float:
        if callable(self.step_time):
            return float(self.step_time(params, step))
        return float(self.step_time)

    def _start(self, study: Study) -> _Running | None:
        try:
            trial = study.ask()
        except SearchSpaceExhaustedError:
            return None
        state = None
        if trial.resume_from is not None or trial.attrs.get("checkpoint"):
            state = trial.load_checkpoint()
        if self.curve is not None:
            state = self.curve(trial.params)  # any sequence; a lazy one is never listed
        start = max(trial.start_step, self.first_step)
        return _Running(trial, start, self.first_step + self.max_steps, state)

    def _advance(self, run: _Running) -> None:
        params = run.trial.params
        if self.dynamics is not None:
            run.state, value = self.dynamics(run.state, params, run.step)
        else:
            value = float(run.state[run.step - self.first_step])
        run.value = float(value)

    def run(
        self,
        study: Study,
        objective: Callable[..., Any] | None = None,
        options: RunOptions | None = None,
        *,
        n_trials: int | None = None,
        max_total_steps: int | None = None,
    ) -> SimulationResult:
        """Run until ``n_trials`` trials started and finished, ``max_total_steps`` steps were
        consumed (running trials are then stopped), or the scheduler has nothing left.

        ``objective`` is not called (the curve or dynamics plays it; pass ``None``); with
        ``options`` (as ``Study.optimize`` passes), its ``n_trials``, ``max_failures``,
        ``callbacks`` and progress apply; a wall-clock ``timeout`` does not (time is fake).
        """
        if objective is not None:
            raise InvalidArgumentError(
                "SimulatedExecutor replays its curve or dynamics instead of calling an "
                "objective; pass None as the objective (study.optimize(None, executor=sim))."
            )
        if options is None:
            options = RunOptions(n_trials=n_trials, max_failures=None, show_progress=False)
        elif n_trials is None:
            n_trials = options.n_trials
        if n_trials is None and max_total_steps is None:
            raise InvalidArgumentError("run() needs n_trials or max_total_steps.")
        options = replace(options, n_trials=n_trials, timeout=None)
        # its own view of the study: a caching storage (this run is its only writer) and
        # fake time, so no lease is kept alive and no simulated trial is ever reaped
        spec = replace(
            study.to_spec(),
            heartbeat_interval=None,
            grace_period=10.0**9,
        )
        if self.checkpoints:  # both views keep checkpoints in one folder (made on first use)
            spec = replace(spec, artifact_dir=str(study.artifact_dir))
        simulated = spec.open(storage=_CachingStorage(study.storage, study.id))  # type: ignore[arg-type]
        result = SimulationResult()
        with run_policy(simulated, options, signals=False) as policy:
            error = self._loop(simulated, result, policy, max_total_steps)
        result.time = self.clock()
        if error is not None:
            raise error
        return result

    def _loop(
        self,
        study: Study,
        result: SimulationResult,
        policy: RunPolicy,
        max_total_steps: int | None,
    ) -> BaseException | None:
        direction = Direction.parse(study.direction)
        error: BaseException | None = None
        events: list[tuple[float, int, int]] = []  # (time, order, slot)
        slots: dict[int, _Running] = {}
        order = 0

        def budget_left() -> bool:
            if not policy.may_start():
                return False
            return max_total_steps is None or result.steps < max_total_steps

        def fill() -> None:
            nonlocal order
            for slot in range(self.n_workers):
                if slot in slots or not budget_left():
                    continue
                run = self._start(study)
                if run is None:
                    return
                policy.started()
                slots[slot] = run
                t = self.clock() + self._duration(run.trial.params, run.step)
                heapq.heappush(events, (t, order, slot))
                order += 1

        def finish(run: _Running, *, stopped: bool) -> None:
            nonlocal error
            record = study.tell(
                run.trial, run.value, state=TrialState.STOPPED if stopped else None
            )
            error = error or policy.finished(record)
            result.n_trials += 1
            if record.state is TrialState.COMPLETE and record.has_value:
                v = float(record.value)  # type: ignore[arg-type]
                best = result.best_value
                if best is None or direction.better(v, best):
                    result.best_value = v
                result.trace.append((result.steps, float(result.best_value)))  # type: ignore[arg-type]

        fill()
        while events:
            t, _, slot = heapq.heappop(events)
            self.clock.advance_to(t)
            run = slots[slot]
            self._advance(run)
            run.trial.report(run.value, step=run.step)
            if self.checkpoints:  # as objectives do: report, save, then ask should_stop
                saved = run.state if self.dynamics is not None else {"step": run.step}
                run.trial.save_checkpoint(saved)
            result.steps += 1
            run.step += 1
            over = max_total_steps is not None and result.steps >= max_total_steps
            if run.trial.should_stop() or run.step >= run.end or over:
                del slots[slot]
                finish(run, stopped=run.step < run.end)
                if over:
                    for other in list(slots):
                        finish(slots.pop(other), stopped=True)
                    events.clear()
                    break
                fill()
            else:
                heapq.heappush(
                    events, (t + self._duration(run.trial.params, run.step), order, slot)
                )
                order += 1
            if not events:
                fill()
        return error
