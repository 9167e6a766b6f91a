"""The median stopping rule: stop a trial whose best value so far is worse than the median of
what other trials had reached at the same step."""

from __future__ import annotations

import math
import statistics
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.schedulers.base import Scheduler, SchedulerContext
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["MedianStopping"]


def best_so_far(curve: dict[int, float] | Any, step: int, minimize: bool) -> float | None:
    """Best finite value reported at or before ``step`` (NaN reports are ignored)."""
    values = [v for s, v in curve.items() if s <= step and not math.isnan(v)]
    if not values:
        return None
    return min(values) if minimize else max(values)


class MedianStopping(Scheduler):
    """Stop when the trial's best-so-far at step ``s`` is worse than the median of other
    trials' best-so-far at ``s``, once ``min_trials`` trials reached ``s`` and after
    ``warmup_steps``.

    >>> hs.create_study(..., scheduler=hs.schedulers.MedianStopping(warmup_steps=3))
    """

    name = "median"

    def __init__(self, *, warmup_steps: int = 0, min_trials: int = 5) -> None:
        if warmup_steps < 0 or min_trials < 1:
            raise InvalidArgumentError(
                f"MedianStopping: warmup_steps >= 0 and min_trials >= 1 must hold, got "
                f"warmup_steps={warmup_steps}, min_trials={min_trials}."
            )
        self.warmup_steps = warmup_steps
        self.min_trials = min_trials

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "warmup_steps": self.warmup_steps,
            "min_trials": self.min_trials,
        }

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        step = trial.last_step
        if step is None or step < self.warmup_steps:
            return False
        direction = ctx.direction
        minimize = direction is Direction.MINIMIZE
        mine = best_so_far(dict(trial.intermediate), step, minimize)
        if mine is None:
            return False
        others = []
        for t in ctx.trials:
            if t.id == trial.id or t.state is TrialState.WAITING:
                continue
            if t.last_step is None or t.last_step < step:
                continue
            value = best_so_far(dict(t.intermediate), step, minimize)
            if value is not None:
                others.append(value)
        if len(others) < self.min_trials:
            return False
        return direction.better(statistics.median(others), mine)
