"""Asynchronous successive halving for studies with several objectives.

Rungs sit where ``ASHA`` puts them (``min_resource * reduction_factor**k`` below
``max_resource``). When a trial first reports a step at or past a rung, it goes on only if
it is among the top ``1/reduction_factor`` of the trials that reached that rung, in Pareto
order: by non-dominated front of the objectives reported so far (each objective's best value
up to the rung), and inside a front by crowding distance (lonelier points first, so the
survivors spread along the front rather than crowd one end). The stopping and the
pause-and-promote forms are ``ASHA``'s: this class only says what a rung compares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from hypersearch.direction import Direction
from hypersearch.pareto import as_losses, crowding_distance, nondominated_ranks
from hypersearch.schedulers.base import SchedulerContext
from hypersearch.schedulers.curves import curve_value
from hypersearch.schedulers.hyperband import ASHA
from hypersearch.space import Space
from hypersearch.trial import TrialRecord

__all__ = ["MultiObjectiveASHA", "pareto_keys", "pareto_order"]

Vector = tuple[float, ...]


def pareto_keys(values: Sequence[Vector], directions: Sequence[str]) -> list[tuple[int, float]]:
    """Each vector's sort key, lower is better: (non-dominated front, minus crowding distance
    within the front, on objectives scaled to [0, 1] over ``values``)."""
    if not values:
        return []
    losses = as_losses(values, directions)
    lo, hi = losses.min(axis=0), losses.max(axis=0)
    scaled = (losses - lo) / np.where(hi > lo, hi - lo, 1.0)
    ranks = nondominated_ranks(scaled)
    crowd = np.zeros(len(values))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        crowd[members] = crowding_distance(scaled[members])
    return [(int(ranks[i]), -float(crowd[i])) for i in range(len(values))]


def pareto_order(values: Sequence[Vector], directions: Sequence[str]) -> list[int]:
    """Indices of ``values`` (one vector per trial, raw objective values) best first: by
    non-dominated front, inside a front by crowding distance (largest first), then by index."""
    keys = pareto_keys(values, directions)
    return sorted(range(len(values)), key=lambda i: (keys[i], i))


def _curve(trial: TrialRecord) -> dict[int, Vector]:
    """Step -> every objective's value (a single-objective study's curve as 1-vectors)."""
    if trial.intermediate_values:
        return {int(s): tuple(float(x) for x in v) for s, v in trial.intermediate_values.items()}
    return {int(s): (float(v),) for s, v in trial.intermediate.items()}


def lineage_vector_curves(trials: Sequence[TrialRecord]) -> dict[int, dict[int, Vector]]:
    """Each trial's vector curve with the curves of the trials it continues (promotions,
    ``attrs["promoted_from"]``) in front of its own reports."""
    by_number = {t.number: t for t in trials}
    merged: dict[int, dict[int, Vector]] = {}
    for t in sorted(trials, key=lambda t: t.number):
        parent = t.attrs.get("promoted_from")
        base: dict[int, Vector] = {}
        if parent is not None and int(parent) in by_number and int(parent) < t.number:
            base = dict(merged.get(int(parent), _curve(by_number[int(parent)])))
        base.update(_curve(t))
        merged[t.number] = base
    return merged


def rung_vector(
    curve: Mapping[int, Vector], resource: int, directions: Sequence[str]
) -> Vector | None:
    """Each objective's best finite value up to the first step >= ``resource`` (None when the
    curve never reached it or an objective has no finite value yet)."""
    out = []
    for j, direction in enumerate(directions):
        column = {s: v[j] if len(v) > j else math.nan for s, v in curve.items()}
        best = curve_value(column, resource, Direction.parse(direction) is Direction.MINIMIZE)
        if best is None or not math.isfinite(best):
            return None
        out.append(best)
    return tuple(out)


class MultiObjectiveASHA(ASHA):
    """ASHA whose rungs rank trials by non-dominated sorting of all objectives (ties by
    crowding distance); see the module docstring. Options as ``ASHA``: ``pause=False`` stops
    trials outside the top ``1/reduction_factor``, ``True`` pauses them for a later trial to
    continue from their checkpoint once they rank there, ``None`` (default) pauses when the
    objective saves checkpoints.

    >>> hs.create_study(space=space, directions={"acc": "maximize", "ms": "minimize"},
    ...                 scheduler=hs.schedulers.MultiObjectiveASHA(max_resource=27))
    """

    name = "mo_asha"
    supports_multi_objective: ClassVar[bool] = True

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
        pause: bool | None = None,
    ) -> None:
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            min_early_stopping_rate=min_early_stopping_rate,
            pause=pause,
        )

    # what a rung compares: every objective's best value, ranked in Pareto order -----------
    def _curves(self, trials: Sequence[TrialRecord]) -> Mapping[int, Mapping[int, Vector]]:
        return lineage_vector_curves(trials)

    def _own_curve(self, trial: TrialRecord) -> Mapping[int, Vector]:
        return _curve(trial)

    def _value_at(self, curve: Mapping[int, Any], rung: int, ctx: SchedulerContext) -> Any:
        return rung_vector(curve, rung, ctx.directions)

    def _rank_keys(self, values: Sequence[Any], ctx: SchedulerContext) -> list[Any]:
        return list(pareto_keys(values, ctx.directions))

    def rung_results(
        self,
        trials: Sequence[TrialRecord],
        curves: Mapping[int, Mapping[int, Vector]],
        rung: int,
        directions: Sequence[str],
    ) -> list[tuple[Vector, TrialRecord]]:
        """(objectives at ``rung``, trial) for each lineage that reached it, counted once: by
        the trial during whose own reports the lineage crossed the rung."""
        ctx = SchedulerContext(trials=trials, space=Space({}), directions=tuple(directions))
        return self._rung_results(trials, curves, None, rung, ctx)
