"""Asynchronous successive halving for studies with several objectives.

Rungs sit where ``ASHA`` puts them (``min_resource * reduction_factor**k`` below
``max_resource``). When a trial first reports a step at or past a rung, it goes on only if
it is among the top ``1/reduction_factor`` of the trials that reached that rung, in Pareto
order: by non-dominated front of the objectives reported so far (each objective's best value
up to the rung), and inside a front by crowding distance (lonelier points first, so the
survivors spread along the front rather than crowd one end). The stopping and the
pause-and-promote forms work as they do in ``ASHA``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.pareto import as_losses, crowding_distance, nondominated_ranks
from hypersearch.schedulers.base import (
    Decision,
    Scheduler,
    SchedulerContext,
    TrialPlan,
    Verdict,
    decision_of,
)
from hypersearch.schedulers.curves import curve_value
from hypersearch.schedulers.hyperband import ASHA, promotion_key
from hypersearch.trial import TrialRecord, TrialState

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


class MultiObjectiveASHA(Scheduler):
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
        try:  # the rung arithmetic (and its checks) is ASHA's
            self._ladder = ASHA(
                min_resource=min_resource,
                max_resource=max_resource,
                reduction_factor=reduction_factor,
                min_early_stopping_rate=min_early_stopping_rate,
                pause=pause,
            )
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(
                str(exc).replace("ASHA:", f"{type(self).__name__}:", 1)
            ) from None
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate
        self.pause = pause

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "min_resource": self.min_resource,
            "max_resource": self.max_resource,
            "reduction_factor": self.reduction_factor,
            "min_early_stopping_rate": self.min_early_stopping_rate,
            "pause": self.pause,
        }

    def rungs(self, max_resource: int) -> list[int]:
        """The rung resources below ``max_resource``."""
        return self._ladder.rungs(max_resource)

    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        return self._ladder.reacts_to(step, previous, attrs)

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        return decision_of(self.decide(trial, ctx)) is not Decision.CONTINUE

    # rung results ---------------------------------------------------------------------------
    def rung_results(
        self,
        trials: Sequence[TrialRecord],
        curves: Mapping[int, Mapping[int, Vector]],
        rung: int,
        directions: Sequence[str],
    ) -> list[tuple[Vector, TrialRecord]]:
        """(objectives at ``rung``, trial) for each lineage that reached it, counted once: by
        the trial during whose own reports the lineage crossed the rung."""
        out = []
        for t in trials:
            if t.state is TrialState.WAITING or rung <= int(t.attrs.get("promoted_at", -1)):
                continue
            curve = curves.get(t.number) or _curve(t)
            reached = [s for s in curve if s >= rung]
            own = t.intermediate_values or t.intermediate
            if not reached or min(reached) not in own:
                continue
            v = rung_vector(curve, rung, directions)
            if v is not None:
                out.append((v, t))
        return out

    def _pausing(self, trial: TrialRecord, trials: Sequence[TrialRecord]) -> bool:
        if self.pause is not None:
            return self.pause
        return "checkpoint" in trial.attrs or any("checkpoint" in t.attrs for t in trials)

    def _quota(self, n: int, last_rung: bool) -> int:
        """How many of ``n`` trials at a rung go on when pausing: the top 1/reduction_factor,
        at the last rung at least one (the first fully trained results do not wait)."""
        k = n // self.reduction_factor
        return max(1, k) if last_rung else k

    # decision ---------------------------------------------------------------------------
    def decide(self, trial: TrialRecord, ctx: SchedulerContext) -> Decision | Verdict:
        """CONTINUE, STOP, or (pause mode, not yet among the best at the rung) PAUSE with
        ``paused_at`` to annotate the trial with."""
        trials = ctx.trials
        step = trial.last_step
        max_resource = self._ladder.resolved_max(trials)
        if step is None or max_resource is None:
            return Decision.CONTINUE
        ladder = self.rungs(max_resource)
        curves = lineage_vector_curves(trials)
        mine_curve = curves.get(trial.number) or _curve(trial)
        earlier = [s for s in mine_curve if s < step]
        previous = max(earlier) if earlier else -1
        done = int(trial.attrs.get("promoted_at", -1))  # rungs the continued trial passed
        crossed = [r for r in ladder if max(previous, done) < r <= step]
        if not crossed:
            return Decision.CONTINUE
        rung = crossed[-1]
        directions = ctx.directions
        if rung_vector(mine_curve, rung, directions) is None:
            return Decision.CONTINUE  # no finite values yet: no evidence
        results = self.rung_results(trials, curves, rung, directions)
        if not any(t.id == trial.id for _, t in results):
            results.append((rung_vector(mine_curve, rung, directions), trial))  # type: ignore[arg-type]
        keys = pareto_keys([v for v, _ in results], directions)
        mine = next(keys[i] for i, (_, t) in enumerate(results) if t.id == trial.id)
        position = sum(1 for k in keys if k < mine)  # trials strictly ahead; ties do not count
        n = len(results)
        if not self._pausing(trial, trials):
            return (
                Decision.STOP
                if position >= max(1, n // self.reduction_factor)
                else (Decision.CONTINUE)
            )
        if position < self._quota(n, rung == ladder[-1]):
            return Decision.CONTINUE  # promotable now: train on rather than pause and resume
        saves = "checkpoint" in trial.attrs or any("checkpoint" in t.attrs for t in trials)
        return Verdict(Decision.PAUSE if saves else Decision.STOP, {"paused_at": rung})

    # promotions (pause mode) ------------------------------------------------------------
    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        """A promotion when a paused trial now ranks in the top ``1/reduction_factor`` of
        its rung (highest rung first, then Pareto order), else ``None``."""
        trials = ctx.trials
        waiting = self._waiting_for_promotion(trials)
        max_resource = self._ladder.resolved_max(trials)
        if not waiting or max_resource is None:
            return None
        ladder = self.rungs(max_resource)
        directions = ctx.directions
        curves = lineage_vector_curves(trials)
        by_rung: dict[int, list[TrialRecord]] = {}
        for t in waiting:
            by_rung.setdefault(int(t.attrs["paused_at"]), []).append(t)
        for rung in sorted(by_rung, reverse=True):
            results = self.rung_results(trials, curves, rung, directions)
            order = pareto_order([v for v, _ in results], directions)
            k = self._quota(len(results), bool(ladder) and rung == ladder[-1])
            top = [results[i][1].number for i in order[:k]]
            ids = {t.number for t in by_rung[rung]}
            chosen = next((n for n in top if n in ids), None)
            if chosen is not None:
                return self._continuation(next(t for t in waiting if t.number == chosen), rung)
        return None

    @staticmethod
    def _continuation(t: TrialRecord, rung: int) -> TrialPlan:
        attrs: dict[str, Any] = {
            "promoted_from": t.number,
            "promoted_at": rung,
            "fixed_params": dict(t.params),
        }
        ckpt = t.attrs.get("checkpoint")
        if ckpt and ckpt.get("step") is not None:
            attrs["resume_from"] = t.number
            attrs["start_step"] = int(ckpt["step"]) + 1
        else:  # nothing to continue from: retrain from scratch
            attrs["start_step"] = 0
        return TrialPlan(params=dict(t.params), attrs=attrs, claim=promotion_key(t.number))

    @staticmethod
    def _claimed(claimants: Sequence[TrialRecord], trials: Sequence[TrialRecord]) -> set[int]:
        """Trials whose promotion one of ``claimants`` holds the claim of."""
        keys = {t.claim_key for t in claimants if t.claim_key}
        return {t.number for t in trials if promotion_key(t.number) in keys}

    def _waiting_for_promotion(self, trials: Sequence[TrialRecord]) -> list[TrialRecord]:
        promoted = {
            int(t.attrs["promoted_from"])
            for t in trials
            if t.attrs.get("promoted_from") is not None
        }
        promoted |= self._claimed(trials, trials)  # by trials whose attrs are not written yet
        return [
            t
            for t in trials
            if t.state is TrialState.STOPPED
            and t.attrs.get("paused_at") is not None
            and t.number not in promoted
        ]

    def needed_checkpoints(self, trials: Sequence[TrialRecord]) -> set[int]:
        """Paused trials not promoted yet, and those a starting trial has just claimed."""
        starting = [t for t in trials if not t.state.is_finished]
        waiting = {t.number for t in self._waiting_for_promotion(trials)}
        return waiting | self._claimed(starting, trials)
