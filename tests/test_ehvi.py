"""EHVISampler: the exact expected hypervolume improvement against brute force, the box
decomposition it integrates over, proposals on ZDT1 through a real study, constraints, bad
input, and determinism."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pytest

import hypersearch as hs
from hypersearch.pareto import hypervolume
from hypersearch.samplers import SamplingContext, make_sampler
from hypersearch.samplers.gp.model import fit_gp
from hypersearch.samplers.multiobjective import EHVISampler, MOTPESampler
from hypersearch.samplers.multiobjective.boxes import nondominated_boxes
from hypersearch.samplers.multiobjective.ehvi import EHVIAcquisition, log_ehvi
from hypersearch.space import Choice, Space
from hypersearch.trial import TrialRecord, TrialState
from mo_drive import MIN2, SPACE, ctx, drive, zdt1


def front_on_sphere(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    pts = rng.random((n, m)) + 0.05
    return np.asarray(pts / np.linalg.norm(pts, axis=1, keepdims=True))


def hvi_by_boxes(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The hypervolume each row of ``y`` adds: Σ over boxes of the part it dominates."""
    part = upper[None] - np.maximum(y[:, None, :], lower[None])
    return np.asarray(np.prod(np.clip(part, 0.0, None), axis=2).sum(axis=1))


@pytest.mark.parametrize("m", [2, 3, 4])
def test_boxes_partition_the_nondominated_region(m: int) -> None:
    rng = np.random.default_rng(m)
    front = front_on_sphere(rng, 12, m)
    ref = np.full(m, 1.2)
    lower, upper = nondominated_boxes(front, ref)
    floor = np.maximum(lower, -0.5)  # bound the region from below to measure it
    volume = float(np.prod(upper - floor, axis=1).sum())
    # the boxes fill the box [-0.5, ref] minus what the front dominates ...
    assert volume == pytest.approx(1.7**m - hypervolume(front, ref), rel=1e-9)
    # ... without overlapping: every point lies in exactly one box iff nothing dominates it
    z = rng.uniform(-0.5, 1.2, (4000, m))
    inside = np.all((z[:, None, :] >= floor[None]) & (z[:, None, :] < upper[None]), axis=2)
    dominated = np.array([np.any(np.all(front <= p, axis=1)) for p in z])
    assert inside.sum(axis=1).max() == 1
    assert np.array_equal(inside.any(axis=1), ~dominated)


def test_box_hvi_is_the_hypervolume_gain() -> None:
    rng = np.random.default_rng(0)
    front = front_on_sphere(rng, 8, 3)
    ref = np.full(3, 1.2)
    lower, upper = nondominated_boxes(front, ref)
    ys = rng.uniform(0.0, 1.3, (30, 3))
    gain = [hypervolume(np.vstack([front, y]), ref) - hypervolume(front, ref) for y in ys]
    assert hvi_by_boxes(ys, lower, upper) == pytest.approx(gain, abs=1e-12)


@pytest.mark.parametrize("m", [2, 3])
def test_exact_ehvi_matches_monte_carlo(m: int) -> None:
    rng = np.random.default_rng(10 + m)
    front = front_on_sphere(rng, 7, m)
    ref = np.full(m, 1.2)
    lower, upper = nondominated_boxes(front, ref)
    mean = rng.uniform(0.2, 1.0, (5, m))
    sd = rng.uniform(0.05, 0.4, (5, m))
    exact = np.exp(log_ehvi(mean, sd, lower, upper))
    for i in range(len(mean)):
        y = mean[i] + sd[i] * rng.standard_normal((100_000, m))
        gain = hvi_by_boxes(y, lower, upper)
        # a Monte-Carlo mean of 1e5 draws: within 5 standard errors (a 1-in-a-million miss
        # for a fixed seed's draw; the seed is fixed, so this cannot flake)
        assert abs(exact[i] - gain.mean()) < 5 * gain.std() / math.sqrt(len(gain)) + 1e-12


def test_log_ehvi_stays_finite_far_from_the_front() -> None:
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    lower, upper = nondominated_boxes(front, np.array([1.1, 1.1]))
    far = log_ehvi(np.array([[40.0, 40.0], [0.5, 0.5]]), np.full((2, 2), 0.1), lower, upper)
    assert np.all(np.isfinite(far)) and far[0] < far[1]


def test_acquisition_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, 3))
    ys = np.column_stack([x[:, 0], 1 - np.sqrt(x[:, 0]) + x[:, 1]])
    ys = (ys - ys.mean(axis=0)) / ys.std(axis=0)
    empty = np.zeros((20, 0))
    gps = [fit_gp(x, empty, ys[:, j], rng) for j in range(2)]
    lower, upper = nondominated_boxes(ys, ys.max(axis=0) + 0.1 * np.ptp(ys, axis=0))
    acq = EHVIAcquisition(gps, lower, upper, None)
    c, k = rng.random((5, 3)), np.zeros((5, 0))
    value, grad = acq.with_grad(c, k)
    assert value == pytest.approx(acq(c, k))
    step = 1e-6
    numeric = np.column_stack(
        [
            (acq(c + step * np.eye(3)[d], k) - acq(c - step * np.eye(3)[d], k)) / (2 * step)
            for d in range(3)
        ]
    )
    # central differences of a smooth function: error O(step^2) times its third derivative,
    # plus rounding ~1e-16 / step; 1e-4 relative to the largest slope covers both
    assert np.max(np.abs(numeric - grad)) < 1e-4 * max(1.0, np.max(np.abs(grad)))


def test_ehvi_beats_random_on_zdt1_in_a_study() -> None:
    def objective(trial: hs.Trial) -> tuple[float, float]:
        return zdt1(trial.params)

    found = {}
    for name in ("ehvi", "random"):
        study = hs.create_study(
            space=SPACE, directions={"f1": "minimize", "f2": "minimize"}, sampler=name, seed=0
        )
        study.optimize(objective, n_trials=25)
        values = np.array([t.values for t in study.trials], dtype=float)
        found[name] = hypervolume(values, [1.0, 6.0])
        assert study.best_trials
    # random search reaches about 3.2 of a possible ~5.7 here; ParEGO's test asks for +0.2
    assert found["ehvi"] > found["random"] + 0.5


def test_constraints_are_learned() -> None:
    # feasible only for x0 + x1 <= 0.5 (an eighth of the square)
    def constraint(p: dict[str, Any]) -> float:
        return p["x0"] + p["x1"] - 0.5

    trials = drive(EHVISampler(seed=0), zdt1, 26, constraint=constraint)
    late = trials[13:]
    # random search: 1/8 feasible; the good points sit on the constraint's edge, so a
    # learning sampler still crosses it often, but far less than random
    assert sum(t.feasible for t in late) >= 0.3 * len(late)


def test_nothing_feasible_yet_moves_towards_feasibility(caplog: Any) -> None:
    def constraint(p: dict[str, Any]) -> float:  # feasible only near x0 = 0
        return p["x0"] - 0.05

    with caplog.at_level(logging.INFO, logger="hypersearch"):
        trials = drive(EHVISampler(seed=1), zdt1, 30, constraint=constraint)
    first, late = trials[:10], trials[15:]
    assert np.mean([t.params["x0"] for t in late]) < np.mean([t.params["x0"] for t in first])
    assert "no feasible trial yet" in caplog.text


def test_all_failed_trials_still_give_points() -> None:
    trials = [
        TrialRecord(
            number=k,
            state=TrialState.FAILED,
            params={f"x{i}": 0.1 * k for i in range(4)},
            fail_reason="ValueError: bad",
            id=k,
        )
        for k in range(8)
    ]
    params = EHVISampler(seed=0).sample(ctx(trials))
    assert set(params) == set(SPACE) and all(0.0 <= v <= 1.0 for v in params.values())


def test_identical_values_fall_back_to_sobol(caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        trials = drive(EHVISampler(seed=0), lambda p: (1.0, 2.0), 12)
    assert len({tuple(t.params.values()) for t in trials}) == 12
    assert "same values" in caplog.text


def test_one_constant_objective_still_works() -> None:
    trials = drive(EHVISampler(seed=0), lambda p: (p["x0"] + p["x1"], 3.0), 12)
    assert len({tuple(t.params.values()) for t in trials}) == 12


def test_one_objective_uses_the_gp_sampler() -> None:
    def f(p: dict[str, Any]) -> tuple[float]:
        return (float(sum((p[f"x{i}"] - 0.3) ** 2 for i in range(4))),)

    single = ("minimize",)
    ehvi = drive(EHVISampler(seed=2), f, 10, directions=single)
    gp = drive(make_sampler("gp", seed=2), f, 10, directions=single)
    assert [t.params for t in ehvi] == [t.params for t in gp]


def test_only_choices_use_motpe() -> None:
    space = Space({"a": Choice(["p", "q", "r"]), "b": Choice([1, 2, 3, 4])})

    def f(p: dict[str, Any]) -> tuple[float, float]:
        return float(p["b"]), float("pqr".index(p["a"]) - p["b"])

    ehvi = drive(EHVISampler(seed=0), f, 15, space=space)
    motpe = drive(MOTPESampler(seed=0), f, 15, space=space)
    assert [t.params for t in ehvi] == [t.params for t in motpe]


def test_three_objectives_and_a_maximised_one() -> None:
    def three(p: dict[str, Any]) -> tuple[float, float, float]:
        x = np.array([p[f"x{i}"] for i in range(4)])
        return float(x[0]), -float(x[1]), float(np.sum((x - 0.5) ** 2))

    trials = drive(EHVISampler(seed=0), three, 12, directions=("minimize", "maximize", "minimize"))
    assert all(set(t.params) == set(SPACE) for t in trials)
    assert len({tuple(t.params.values()) for t in trials}) == 12


def test_running_trials_get_distinct_points() -> None:
    trials = drive(EHVISampler(seed=0), zdt1, 12)
    sampler = EHVISampler(seed=0)
    first = sampler.sample(ctx(trials))
    running = TrialRecord(number=12, state=TrialState.RUNNING, params=first, id=12)
    again = sampler.sample(
        SamplingContext(
            space=SPACE,
            trials=(*trials, running),
            number=13,
            direction="minimize",
            directions=MIN2,
        )
    )
    assert again != first


def test_same_seed_same_proposals() -> None:
    a = drive(EHVISampler(seed=3), zdt1, 10)
    b = drive(EHVISampler(seed=3), zdt1, 10)
    assert [t.params for t in a] == [t.params for t in b]


def test_name_config_and_bad_options() -> None:
    sampler = make_sampler("ehvi", seed=0)
    assert isinstance(sampler, EHVISampler) and hs.samplers.EHVISampler is EHVISampler
    assert make_sampler(sampler.config(), seed=0).config() == sampler.config()
    assert "ehvi" in hs.samplers.sampler_names()
    with pytest.raises(hs.InvalidArgumentError, match="EHVISampler: max_points must be >= 2"):
        EHVISampler(max_points=1)
    with pytest.raises(hs.InvalidArgumentError, match="reference must be one of"):
        EHVISampler(reference="nadir")


def test_reference_at_the_front_counts_improvement_inside_the_front() -> None:
    ys = np.array([[0.0, 1.0], [1.0, 0.0], [3.0, 3.0], [0.5, 0.5]])
    # past the front's worst values (1, 1) by 10% of its range, not past the worst trial
    assert EHVISampler()._reference(ys) == pytest.approx([1.1, 1.1])
    assert EHVISampler(reference="observed")._reference(ys) == pytest.approx([3.3, 3.3])
    sampler = make_sampler({"name": "ehvi", "reference": "observed"}, seed=0)
    assert sampler.config()["reference"] == "observed"
    trials = drive(sampler, zdt1, 8)
    assert len({tuple(t.params.values()) for t in trials}) == 8
