"""Stopping rules that look at one trial's own curve: patience, thresholds, a time cap and
divergence, and ``AnyOf`` to combine rules (the median rule lives in ``median.py``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.schedulers.base import (
    Decision,
    Scheduler,
    SchedulerContext,
    TrialPlan,
    Verdict,
    consult,
    plan_trial,
)
from hypersearch.trial import TrialRecord

__all__ = ["AnyOf", "Divergence", "Patience", "Threshold", "TimeCap"]


def _finite_curve(trial: TrialRecord) -> list[tuple[int, float]]:
    return [(s, v) for s, v in sorted(trial.intermediate.items()) if not math.isnan(v)]


def _improves(a: float, b: float, direction: Direction, delta: float) -> bool:
    """True when ``a`` improves on ``b`` by more than ``delta``."""
    return direction.to_loss(a) < direction.to_loss(b) - delta


class Patience(Scheduler):
    """Stop when the last ``patience`` reports did not improve on the best before them by more
    than ``min_delta`` (Keras' EarlyStopping). NaN reports are ignored.

    >>> hs.create_study(..., scheduler=hs.schedulers.Patience(patience=5, min_delta=1e-3))
    """

    name = "patience"

    def __init__(
        self, *, patience: int = 5, min_delta: float = 0.0, warmup_steps: int = 0
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise InvalidArgumentError(f"Patience: patience >= 1 must hold, got {patience!r}.")
        if not isinstance(min_delta, int | float) or not min_delta >= 0:
            raise InvalidArgumentError(f"Patience: min_delta >= 0 must hold, got {min_delta!r}.")
        if warmup_steps < 0:
            raise InvalidArgumentError(
                f"Patience: warmup_steps >= 0 must hold, got {warmup_steps!r}."
            )
        self.patience = patience
        self.min_delta = float(min_delta)
        self.warmup_steps = warmup_steps

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "warmup_steps": self.warmup_steps,
        }

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        curve = _finite_curve(trial)
        if len(curve) <= self.patience or curve[-1][0] < self.warmup_steps:
            return False
        direction = ctx.direction
        head, tail = curve[: -self.patience], curve[-self.patience :]
        best = min((v for _, v in head), key=direction.to_loss)
        return not any(_improves(v, best, direction, self.min_delta) for _, v in tail)


class Threshold(Scheduler):
    """Stop when the value reaches ``goal`` (good enough: train no further), or when it is
    worse than a bound at a step: ``bounds={5: 0.2}`` stops a maximized accuracy still below
    0.2 at step 5 or later.

    >>> hs.schedulers.Threshold(goal=0.99, bounds={3: 0.5})
    """

    name = "threshold"

    def __init__(
        self, *, goal: float | None = None, bounds: Mapping[int, float] | None = None
    ) -> None:
        if goal is not None and (not isinstance(goal, int | float) or math.isnan(goal)):
            raise InvalidArgumentError(f"Threshold: goal must be a number, got {goal!r}.")
        checked: dict[int, float] = {}
        for step, bound in (bounds or {}).items():
            try:
                s, b = int(step), float(bound)
            except (TypeError, ValueError):
                raise InvalidArgumentError(
                    f"Threshold: bounds must map step -> number, got {step!r}: {bound!r}."
                ) from None
            if s < 0 or math.isnan(b):
                raise InvalidArgumentError(
                    f"Threshold: bounds need steps >= 0 and numbers, got {step!r}: {bound!r}."
                )
            checked[s] = b
        self.goal = None if goal is None else float(goal)
        self.bounds = dict(sorted(checked.items()))

    def config(self) -> dict[str, Any]:
        # JSON keys are strings; make_scheduler turns them back into ints.
        return {
            "name": self.name,
            "goal": self.goal,
            "bounds": {str(k): v for k, v in self.bounds.items()},
        }

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        curve = _finite_curve(trial)
        if not curve:
            return False
        step, value = curve[-1]
        direction = ctx.direction
        if self.goal is not None and not direction.better(self.goal, value):
            return True  # the goal is reached (or passed)
        active = [b for s, b in self.bounds.items() if s <= step]
        if not active:
            return False
        return direction.better(active[-1], value)  # worse than the bound in force


class TimeCap(Scheduler):
    """Stop a trial that has run longer than ``max_seconds`` (checked at each report).

    ``clock`` is injectable for tests and simulations; with the default the trial's start
    time in storage counts.
    """

    name = "timecap"

    def __init__(
        self, *, max_seconds: float = 3600.0, clock: Callable[[], float] | None = None
    ) -> None:
        if not isinstance(max_seconds, int | float) or not max_seconds > 0:
            raise InvalidArgumentError(f"TimeCap: max_seconds > 0 must hold, got {max_seconds!r}.")
        self.max_seconds = float(max_seconds)
        self._clock = clock
        self._first_seen: dict[int, float] = {}

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "max_seconds": self.max_seconds}

    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        if self._clock is not None:
            self._first_seen[number] = self._clock()
        return None

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        if self._clock is None:
            if trial.started_at is None:
                return False
            return time.time() - trial.started_at > self.max_seconds
        now = self._clock()
        start = self._first_seen.setdefault(trial.number, now)
        return now - start > self.max_seconds


class Divergence(Scheduler):
    """Stop a diverging trial: a NaN or infinite report, or (minimizing) a value above
    ``max_ratio`` times the trial's best so far, or beyond an absolute ``bound``.

    >>> hs.schedulers.Divergence(max_ratio=10.0)       # an exploding loss
    """

    name = "divergence"

    def __init__(self, *, max_ratio: float | None = 10.0, bound: float | None = None) -> None:
        if max_ratio is not None and not max_ratio > 1:
            raise InvalidArgumentError(
                f"Divergence: max_ratio > 1 (or None) must hold, got {max_ratio!r}."
            )
        self.max_ratio = None if max_ratio is None else float(max_ratio)
        self.bound = None if bound is None else float(bound)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "max_ratio": self.max_ratio, "bound": self.bound}

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        if not trial.intermediate:
            return False
        last = trial.intermediate[max(trial.intermediate)]
        if not math.isfinite(last):
            return True
        direction = ctx.direction
        if self.bound is not None and direction.better(self.bound, last):
            return True
        if self.max_ratio is None or direction is not Direction.MINIMIZE:
            return False
        earlier = [v for s, v in _finite_curve(trial)[:-1]]
        if not earlier:
            return False
        best = min(earlier)
        return best > 0 and last > self.max_ratio * best


class AnyOf(Scheduler):
    """Combine schedulers: stop when any of them says stop; plans and checkpoint needs merge.

    >>> from hypersearch.schedulers import AnyOf, Patience, TimeCap
    >>> AnyOf(Patience(patience=3), TimeCap(max_seconds=600))
    """

    name = "any"

    def __init__(self, *rules: Scheduler) -> None:
        for rule in rules:
            if not isinstance(rule, Scheduler):
                raise InvalidArgumentError(f"AnyOf takes schedulers, got {rule!r}.")
        self.rules = tuple(rules)
        self.requires_checkpoints = any(r.requires_checkpoints for r in rules)  # type: ignore[misc]

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "rules": [r.config() for r in self.rules]}

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        return consult(self, trial, ctx).decision is not Decision.CONTINUE

    def decide(self, trial: TrialRecord, ctx: SchedulerContext) -> Verdict:
        """STOP if any rule says so, else PAUSE if any does; every rule's annotations."""
        verdicts = [consult(r, trial, ctx) for r in self.rules]
        attrs: dict[str, Any] = {}
        for v in verdicts:
            attrs.update(v.attrs)
        decisions = [v.decision for v in verdicts]
        for wanted in (Decision.STOP, Decision.PAUSE):
            if wanted in decisions:
                return Verdict(wanted, attrs)
        return Verdict(Decision.CONTINUE, attrs)

    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        return any(r.reacts_to(step, previous, attrs) for r in self.rules)

    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        params: dict[str, Any] = {}
        attrs: dict[str, Any] = {}
        for rule in self.rules:
            plan = plan_trial(rule, number, ctx)
            if plan is not None:
                params = {**plan.params, **params}
                attrs = {**plan.attrs, **attrs}
        return TrialPlan(params=params, attrs=attrs) if params or attrs else None

    def needed_checkpoints(self, trials: Sequence[TrialRecord]) -> set[int]:
        return set().union(*(r.needed_checkpoints(trials) for r in self.rules))
