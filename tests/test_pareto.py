"""Pareto math: exact hypervolume against hand-computed and Monte Carlo values, fronts,
crowding, and properties that must hold for any points."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import hypersearch as hs
from hypersearch.pareto import (
    as_losses,
    crowding_distance,
    default_reference,
    dominates,
    hypervolume,
    hypervolume_contributions,
    nondominated_ranks,
    pareto_mask,
)


def _brute_front(points: np.ndarray) -> np.ndarray:
    return np.array([not any(dominates(q, p) for q in points) for p in points], dtype=bool)


def _grid_volume(points: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume on integer points: count the unit cells some point dominates."""
    low = points.min(axis=0).astype(int)
    ranges = [range(lo, int(r)) for lo, r in zip(low, ref, strict=True)]
    cells = 0
    for cell in itertools.product(*ranges):
        corner = np.asarray(cell, dtype=float)
        if np.any(np.all(points <= corner, axis=1)):
            cells += 1
    return float(cells)


def test_two_objective_hypervolume_by_hand():
    front = [[1, 3], [2, 2], [3, 1]]
    # reference (4, 4): staircase of 3 + 2 + 1 unit columns of height... = 6
    assert hypervolume(front, [4, 4]) == pytest.approx(6.0)
    assert hypervolume([*front, [3, 3]], [4, 4]) == pytest.approx(6.0)  # dominated: adds 0
    assert hypervolume([[5, 0]], [4, 4]) == 0.0  # outside the reference box
    assert hypervolume(np.empty((0, 2)), [4, 4]) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 7), st.integers(2, 4)), elements=st.integers(0, 5))
)
def test_hypervolume_equals_counted_cells(points):
    """Integer points and reference: the exact volume is a count of unit cells."""
    pts = points.astype(float)
    ref = np.full(pts.shape[1], 6.0)
    assert hypervolume(pts, ref) == pytest.approx(_grid_volume(pts, ref))


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 12), st.integers(1, 4)), elements=st.floats(-10, 10)
    )
)
def test_front_and_ranks_agree_with_brute_force(points):
    mask = pareto_mask(points)
    assert (mask == _brute_front(points)).all()
    ranks = nondominated_ranks(points)
    assert (ranks == 0).tolist() == mask.tolist()
    for i, j in itertools.permutations(range(len(points)), 2):
        if dominates(points[i], points[j]):
            assert ranks[i] < ranks[j]


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(2, 3)), elements=st.floats(0, 1))
)
def test_adding_a_point_never_lowers_the_hypervolume(points):
    ref = np.full(points.shape[1], 1.5)
    assert hypervolume(points, ref) >= hypervolume(points[:-1], ref) - 1e-12
    contributions = hypervolume_contributions(points, ref)
    assert (contributions >= -1e-12).all()
    assert np.allclose(contributions[~pareto_mask(points)], 0.0, atol=1e-12)


def test_three_objectives_match_monte_carlo():
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 1, size=(25, 3))
    ref = np.ones(3) * 1.1
    exact = hypervolume(pts, ref)
    samples = rng.uniform(0, 1.1, size=(200_000, 3))
    dominated = np.zeros(len(samples), dtype=bool)
    for p in pts:
        dominated |= np.all(samples >= p, axis=1)
    estimate = dominated.mean() * 1.1**3
    # 200,000 samples: the estimate's standard error is below 0.002 here; 5 s.e. of margin
    assert exact == pytest.approx(estimate, abs=0.01)


def test_crowding_keeps_extremes_and_prefers_lonely_points():
    front = np.array([[0, 4], [1, 3], [1.1, 2.9], [4, 0]])
    d = crowding_distance(front)
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] < np.inf and d[2] < np.inf
    assert crowding_distance([[0, 1], [1, 0]]).tolist() == [np.inf, np.inf]


def test_reference_and_directions_at_the_edges():
    losses = as_losses([[0.9, 12.0], [0.8, 5.0]], ["maximize", "minimize"])
    assert losses.tolist() == [[-0.9, 12.0], [-0.8, 5.0]]
    ref = default_reference(losses)
    assert ref == pytest.approx([-0.8 + 0.01, 12.0 + 0.7])
    assert default_reference([[1.0, 1.0]]).tolist() == [1.1, 1.1]


def test_bad_input_is_a_clear_error():
    with pytest.raises(hs.InvalidArgumentError, match="NaN"):
        pareto_mask([[np.nan, 1.0]])
    with pytest.raises(hs.InvalidArgumentError, match="2-D"):
        hypervolume([1.0, 2.0], [3.0, 3.0])
    with pytest.raises(hs.InvalidArgumentError, match="one value per objective"):
        hypervolume([[1.0, 2.0]], [3.0])
    with pytest.raises(hs.InvalidArgumentError, match="'minimize' or 'maximize'"):
        as_losses([[1.0]], ["max"])
