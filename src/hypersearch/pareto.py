"""Pareto fronts in loss space: non-dominated sorting, crowding, exact hypervolume.

Every function takes losses, an ``(n, m)`` array where each of the ``m`` objectives is
minimised (a maximised objective is negated at the edge, before it gets here). A point
*dominates* another when it is no worse in every objective and better in at least one.

>>> ranks = nondominated_ranks(losses)          # 0 for the Pareto front, 1 for the next ...
>>> hv = hypervolume(losses[ranks == 0], reference=default_reference(losses))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError

__all__ = [
    "crowding_distance",
    "default_reference",
    "dominates",
    "hypervolume",
    "hypervolume_contributions",
    "nondominated_ranks",
    "pareto_mask",
]


def _losses(losses: ArrayLike, name: str = "losses") -> NDArray[np.float64]:
    arr = np.asarray(losses, dtype=float)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 1)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InvalidArgumentError(
            f"{name} must be a 2-D array (points x objectives), got shape {arr.shape}."
        )
    if np.isnan(arr).any():
        raise InvalidArgumentError(f"{name} must not contain NaN; drop failed trials first.")
    return arr


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """True when loss vector ``a`` is no worse than ``b`` everywhere and better somewhere."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(x <= y) and np.any(x < y))


def pareto_mask(losses: ArrayLike) -> NDArray[np.bool_]:
    """Which points no other point dominates (duplicates of a front point are all kept).

    In lexicographic order a point can only be dominated by points before it, and whatever
    dominates it is dominated by (or is) a front point found so far, so each point is
    compared with the front built so far only.
    """
    arr = _losses(losses)
    mask = np.zeros(len(arr), dtype=bool)
    front = np.empty((0, arr.shape[1]))
    for i in np.lexsort(arr.T[::-1]):
        point = arr[i]
        if not np.any(np.all(front <= point, axis=1) & np.any(front < point, axis=1)):
            mask[i] = True
            front = np.vstack([front, point])
    return mask


def nondominated_ranks(losses: ArrayLike) -> NDArray[np.int64]:
    """Each point's front: 0 for the Pareto front, 1 for the front once that is removed, ...

    Efficient non-dominated sorting with binary search (Zhang et al., 2015): in lexicographic
    order a point can only be dominated by points before it, and the fronts that hold a point
    dominating it form a prefix, so each point is placed by a binary search over the fronts
    built so far. Each check compares one point with one front at once (numpy), which keeps
    5,000 points well under a second instead of comparing all pairs.
    """
    arr = _losses(losses)
    n = len(arr)
    ranks = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return ranks
    order = np.lexsort(arr.T[::-1])  # by the first objective, then the second, ...
    fronts: list[list[int]] = []
    cache: list[NDArray[np.float64] | None] = []

    def dominated_by(front: int, point: NDArray[np.float64]) -> bool:
        rows = cache[front]
        if rows is None:
            rows = cache[front] = arr[fronts[front]]
        no_worse = np.all(rows <= point, axis=1)
        return bool(np.any(no_worse & np.any(rows < point, axis=1)))

    for i in order:
        point = arr[i]
        lo, hi = 0, len(fronts)  # the first front with no point dominating this one
        while lo < hi:
            mid = (lo + hi) // 2
            if dominated_by(mid, point):
                lo = mid + 1
            else:
                hi = mid
        if lo == len(fronts):
            fronts.append([])
            cache.append(None)
        fronts[lo].append(int(i))
        cache[lo] = None
        ranks[i] = lo
    return ranks


def crowding_distance(losses: ArrayLike) -> NDArray[np.float64]:
    """NSGA-II's crowding distance within one front: larger means a lonelier point; the
    extremes of each objective get ``inf`` so they are always kept."""
    arr = _losses(losses)
    n, m = arr.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(arr[:, k], kind="stable")
        values = arr[order, k]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def default_reference(losses: ArrayLike, margin: float = 0.1) -> NDArray[np.float64]:
    """A reference point just worse than every point: the worst loss of each objective plus
    ``margin`` times its range (or plus ``margin`` when the range is zero)."""
    arr = _losses(losses)
    if len(arr) == 0:
        raise InvalidArgumentError("default_reference needs at least one point.")
    if not np.isfinite(arr).all():
        raise InvalidArgumentError("default_reference needs finite losses.")
    worst, best = arr.max(axis=0), arr.min(axis=0)
    span = worst - best
    return worst + margin * np.where(span > 0, span, 1.0)


def hypervolume(losses: ArrayLike, reference: ArrayLike) -> float:
    """The volume dominated by ``losses`` and bounded by ``reference`` (exact).

    Points not strictly better than the reference in every objective add nothing. Two
    objectives take a sweep, O(n log n); more recurse on the last objective (slicing), fine
    for the front sizes a tuning study has (hundreds of points, up to four objectives)."""
    arr = _losses(losses)
    ref = np.asarray(reference, dtype=float)
    if ref.shape != (arr.shape[1],):
        raise InvalidArgumentError(
            f"reference must have one value per objective ({arr.shape[1]}), got shape {ref.shape}."
        )
    if not np.isfinite(ref).all():
        raise InvalidArgumentError(f"reference must be finite, got {ref.tolist()}.")
    inside = arr[np.all(arr < ref, axis=1)]
    if len(inside) == 0:
        return 0.0
    inside = inside[pareto_mask(inside)]
    return float(_volume(np.unique(inside, axis=0), ref))


def _volume(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    m = points.shape[1]
    if len(points) == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - points[:, 0].min())
    if m == 2:
        order = np.argsort(points[:, 0], kind="stable")
        xs, ys = points[order, 0], points[order, 1]
        volume, best_y = 0.0, ref[1]
        for x, y in zip(xs, ys, strict=True):
            if y < best_y:
                volume += (ref[0] - x) * (best_y - y)
                best_y = y
        return volume
    # slice along the last objective: between consecutive levels, the points at or below a
    # level dominate an (m-1)-dimensional region of constant shape
    order = np.argsort(points[:, -1], kind="stable")
    pts = points[order]
    levels = [*pts[:, -1].tolist(), float(ref[-1])]
    volume = 0.0
    for i in range(len(pts)):
        height = levels[i + 1] - levels[i]
        if height <= 0:
            continue
        below = pts[: i + 1, :-1]
        if below.shape[1] > 2:  # the 2-D sweep skips dominated points by itself
            below = below[pareto_mask(below)]
        volume += height * _volume(below, ref[:-1])
    return volume


def hypervolume_contributions(losses: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """How much hypervolume each point adds alone: the total minus the total without it."""
    arr = _losses(losses)
    total = hypervolume(arr, reference)
    return np.array(
        [total - hypervolume(np.delete(arr, i, axis=0), reference) for i in range(len(arr))]
    )


def as_losses(values: Sequence[Sequence[float]], directions: Sequence[str]) -> NDArray[np.float64]:
    """Objective values (rows) turned into losses: maximised objectives are negated."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != len(directions):
        raise InvalidArgumentError(
            f"values must have one column per direction ({len(directions)}), got shape "
            f"{arr.shape}."
        )
    bad = [d for d in directions if d not in tuple(Direction)]
    if bad:
        raise InvalidArgumentError(f"directions must be 'minimize' or 'maximize', got {bad!r}.")
    return arr * np.array([Direction(d).sign for d in directions])
