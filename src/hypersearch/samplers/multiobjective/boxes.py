"""The region a new point would add hypervolume in, as disjoint boxes.

For losses (lower is better), a front and a reference point, the non-dominated region is
every point below the reference that no front point dominates. ``nondominated_boxes``
splits it into disjoint axis-aligned boxes (lower bounds may be ``-inf``): a sweep for two
objectives, and for more, slabs along the last objective, each the lower-dimensional region
of the points below it (slabs whose front does not change are merged). The hypervolume a
new point ``y`` adds is then ``Σ_k Π_j (u_kj - max(y_j, l_kj))⁺``, which is what expected
hypervolume improvement integrates box by box.
"""

from __future__ import annotations

import numpy as np

from hypersearch.pareto import pareto_mask

__all__ = ["nondominated_boxes"]


def nondominated_boxes(front: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)``, each ``(boxes, objectives)``: disjoint boxes whose union is the
    part of ``{z < reference}`` that no point of ``front`` dominates. Points not strictly
    below the reference in every objective, and dominated or repeated points, are ignored."""
    ref = np.asarray(reference, dtype=float)
    pts = np.asarray(front, dtype=float).reshape(-1, len(ref))
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts):
        pts = np.unique(pts[pareto_mask(pts)], axis=0)
    return _boxes(pts, ref)


def _boxes(pts: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The decomposition for a front already filtered (below ``ref``, non-dominated, unique)."""
    m = len(ref)
    if not len(pts):
        return np.full((1, m), -np.inf), ref[None, :].copy()
    if m == 1:
        return np.full((1, 1), -np.inf), np.array([[pts[:, 0].min()]])
    if m == 2:
        p = pts[np.argsort(pts[:, 0])]  # f1 ascending, so f2 descending
        n = len(p)
        lower = np.full((n + 1, 2), -np.inf)
        lower[1:, 0] = p[:, 0]
        upper = np.empty((n + 1, 2))
        upper[:, 0] = np.append(p[:, 0], ref[0])
        upper[:, 1] = np.insert(p[:, 1], 0, ref[1])
        return lower, upper
    levels = np.unique(pts[:, -1])
    edges = np.concatenate([[-np.inf], levels, [ref[-1]]])
    lowers: list[np.ndarray] = []
    uppers: list[np.ndarray] = []
    sub_front: np.ndarray | None = None
    start = edges[0]
    for t in range(len(edges) - 1):
        active = pts[pts[:, -1] <= edges[t], :-1]
        if len(active):
            active = np.unique(active[pareto_mask(active)], axis=0)
        if sub_front is not None and not np.array_equal(active, sub_front):
            _add_slab(lowers, uppers, sub_front, ref, start, edges[t])
            start = edges[t]
        sub_front = active
    assert sub_front is not None
    _add_slab(lowers, uppers, sub_front, ref, start, edges[-1])
    return np.vstack(lowers), np.vstack(uppers)


def _add_slab(
    lowers: list[np.ndarray],
    uppers: list[np.ndarray],
    sub_front: np.ndarray,
    ref: np.ndarray,
    low: float,
    high: float,
) -> None:
    """The boxes of the slab ``low <= z_last < high``, where ``sub_front`` dominates."""
    if not high > low:
        return
    lo, up = _boxes(sub_front, ref[:-1])
    lowers.append(np.hstack([lo, np.full((len(lo), 1), low)]))
    uppers.append(np.hstack([up, np.full((len(up), 1), high)]))
