"""The history of a multi-objective (or constrained) study as its samplers see it.

Finished trials are split into feasible points with a loss per objective, infeasible points
(a violated constraint, or a failure that is the point's own fault) with how badly they
violate, points a scheduler stopped, and points still running. ``good_order`` ranks the
feasible points best first: by non-dominated front, and inside the front that the good
group cuts through, by hypervolume contribution (as MOTPE does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hypersearch.direction import Direction
from hypersearch.pareto import (
    crowding_distance,
    hypervolume_contributions,
    nondominated_ranks,
)
from hypersearch.samplers.base import EncodingCache, SamplingContext, is_infeasible_failure
from hypersearch.space import Space
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["MOObservations", "directions_of", "good_order", "mo_observations", "normalised"]

#: Front sizes (points x objectives) up to which the cut front is ordered by exact
#: hypervolume contributions; larger ones use crowding distance, which is O(n log n).
_MAX_HV_WORK = {2: 100, 3: 60}


def directions_of(ctx: SamplingContext) -> tuple[str, ...]:
    """The study's directions; ``()`` from an older caller means the single ``direction``."""
    return tuple(ctx.directions) or (ctx.direction,)


@dataclass(frozen=True)
class MOObservations:
    """Unit-cube points of one (sub)space, split by what their trials say.

    ``x``/``losses``: feasible finished trials, one loss column per objective (maximised
    objectives negated); ``infeasible`` with ``violation`` (the sum of positive constraint
    violations, ``inf`` for a trial that failed on its own account); ``stopped``: trials a
    scheduler ended early (no final values); ``running``: points being tried now.
    """

    x: np.ndarray
    losses: np.ndarray
    infeasible: np.ndarray
    violation: np.ndarray
    stopped: np.ndarray
    running: np.ndarray

    @property
    def n_told(self) -> int:
        """Trials that finished with something to learn from (feasible or infeasible)."""
        return len(self.x) + len(self.infeasible)


def _losses_of(t: TrialRecord, directions: Sequence[str]) -> tuple[float, ...] | None:
    """The trial's objective values as losses, or None when it has no complete finite set."""
    raw: Sequence[float] | None = t.values
    if raw is None and len(directions) == 1 and t.value is not None:
        raw = (t.value,)
    if raw is None or len(raw) != len(directions):
        return None
    out = []
    for v, d in zip(raw, directions, strict=True):
        if v is None or not math.isfinite(float(v)):
            return None
        out.append(Direction(d).to_loss(float(v)))
    return tuple(out)


def _violation(t: TrialRecord) -> float:
    return float(sum(max(0.0, float(v)) for v in t.constraint_violations or ()))


def mo_observations(
    ctx: SamplingContext, space: Space, cache: EncodingCache | None = None
) -> MOObservations:
    """Split ``ctx.trials`` for a multi-objective sampler (see ``MOObservations``)."""
    cache = cache if cache is not None else EncodingCache()
    directions = directions_of(ctx)
    d, m = len(space), len(directions)
    xs: list[np.ndarray] = []
    losses: list[tuple[float, ...]] = []
    bad: list[np.ndarray] = []
    violation: list[float] = []
    stopped: list[np.ndarray] = []
    running: list[np.ndarray] = []
    for t in ctx.trials:
        if t.state is TrialState.WAITING:
            continue
        row = cache.row(t, space)
        if row is None:
            continue
        if t.state is TrialState.COMPLETE:
            loss = _losses_of(t, directions)
            if not t.feasible:
                bad.append(row)
                violation.append(_violation(t))
            elif loss is not None:
                xs.append(row)
                losses.append(loss)
            else:  # an infinite objective value: the point's own fault
                bad.append(row)
                violation.append(math.inf)
        elif t.state is TrialState.STOPPED:
            stopped.append(row)
        elif t.state is TrialState.RUNNING:
            running.append(row)
        elif is_infeasible_failure(t):
            bad.append(row)
            violation.append(math.inf)

    def stack(rows: list[np.ndarray]) -> np.ndarray:
        return np.array(rows, dtype=float).reshape(len(rows), d)

    return MOObservations(
        x=stack(xs),
        losses=np.array(losses, dtype=float).reshape(len(losses), m),
        infeasible=stack(bad),
        violation=np.asarray(violation, dtype=float),
        stopped=stack(stopped),
        running=stack(running),
    )


def normalised(losses: np.ndarray) -> np.ndarray:
    """Each objective scaled to [0, 1] over the points given (a constant one to 0), so that
    objectives in seconds and in accuracy weigh alike."""
    lo, hi = losses.min(axis=0), losses.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (losses - lo) / span


def good_order(losses: np.ndarray, n_good: int) -> np.ndarray:
    """Indices of ``losses`` best first: by non-dominated front; the front that position
    ``n_good`` falls in is ordered by hypervolume contribution (crowding distance when the
    front is too large for exact contributions to be cheap), largest first."""
    n, m = losses.shape
    if n == 0:
        return np.arange(0)
    ranks = nondominated_ranks(losses)
    order = np.argsort(ranks, kind="stable")
    if n_good >= n:
        return order
    cut_rank = ranks[order[n_good - 1]] if n_good > 0 else ranks[order[0]]
    members = np.flatnonzero(ranks == cut_rank)
    if len(members) < 2:
        return order
    scaled = normalised(losses)[members]
    if m == 1:
        score = -scaled[:, 0]
    elif len(members) <= _MAX_HV_WORK.get(m, 0):
        score = hypervolume_contributions(scaled, np.full(m, 1.1))
    else:
        score = crowding_distance(scaled)
    inner = members[np.argsort(-score, kind="stable")]
    before = order[ranks[order] < cut_rank]
    after = order[ranks[order] > cut_rank]
    return np.concatenate([before, inner, after])
