"""What only particular samplers promise: grid coverage and claims, Sobol's even spread, random
search's uniform marginals, and the registry's errors and round trips. (What every sampler
promises is in the conformance suite, tests/test_sampler_suite.py.)"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.stats import qmc

import hypersearch as hs
from hypersearch.exceptions import (
    InvalidArgumentError,
    InvalidSpaceError,
    SearchSpaceExhaustedError,
)
from hypersearch.samplers import (
    AutoSampler,
    GridSampler,
    RandomSampler,
    Sampler,
    SamplingContext,
    SobolSampler,
    make_sampler,
    sampler_names,
)
from hypersearch.space import Bool, Choice, Float, Int, Space
from hypersearch.study import Study
from hypersearch.trial import Trial, TrialRecord, TrialState

# 3 * 2 * 3 = 18 grid points with n_points=3
GRID_SPACE = Space({"opt": Choice(["sgd", "adam", "adamw"]), "bn": Bool(), "x": Float(0.0, 1.0)})
GRID_SIZE = 18


def _grid_study(name: str | None = None, storage: str | None = None, **options: Any) -> Study:
    options.setdefault("n_points", 3)
    return hs.create_study(
        name, space=GRID_SPACE, storage=storage, sampler=GridSampler(seed=0, **options)
    )


def _loss(trial: Trial) -> float:
    return float(trial.params["x"])


def _points(study: Study) -> list[tuple[Any, ...]]:
    return [tuple(t.params[k] for k in GRID_SPACE) for t in study.trials]


def _all_points() -> set[tuple[Any, ...]]:
    axes = GridSampler(n_points=3).axes(GRID_SPACE)
    return set(itertools.product(*axes))


def _sample(sampler: Sampler, space: Space, n: int) -> np.ndarray:
    """``n`` proposals for trials 0..n-1, encoded into the unit cube."""
    return np.array(
        [
            space.encode(
                sampler.sample(
                    SamplingContext(space=space, trials=[], number=i, direction="minimize")
                )
            )
            for i in range(n)
        ]
    )


# --------------------------------------------------------------------------- grid: coverage


def test_grid_covers_every_combination_once_then_stops_cleanly() -> None:
    study = _grid_study()
    study.optimize(_loss, n_trials=50)
    points = _points(study)
    assert len(study.trials) == GRID_SIZE
    assert len(set(points)) == GRID_SIZE
    assert set(points) == _all_points()
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert study.best_params["x"] == 0.0

    # exhausted: another optimize ends at once, ask() says why, and nothing is left behind
    study.optimize(_loss, n_trials=5)
    with pytest.raises(SearchSpaceExhaustedError, match="All 18 grid points"):
        study.ask()
    assert len(study.trials) == GRID_SIZE
    assert not study.get_trials([TrialState.RUNNING])


def _drive(sampler: Sampler, space: Space) -> list[tuple[Any, ...]]:
    """Ask ``sampler`` until it is exhausted, as a study would but without storage: each
    claim key is granted once and the history grows."""
    claimed: set[str] = set()
    history: list[TrialRecord] = []
    while True:
        ctx = SamplingContext(
            space=space,
            trials=list(history),
            number=len(history),
            direction="minimize",
            claim=lambda key: key not in claimed and not claimed.add(key),
        )
        try:
            params = sampler.sample(ctx)
        except SearchSpaceExhaustedError:
            return [tuple(t.params[k] for k in space) for t in history]
        history.append(
            TrialRecord(number=len(history), state=TrialState.COMPLETE, params=params, value=0.0)
        )


def test_grid_without_shuffle_is_row_major() -> None:
    points = _drive(GridSampler(n_points=3, shuffle=False), GRID_SPACE)
    assert points[:4] == [
        ("sgd", False, 0.0),
        ("sgd", False, 0.5),
        ("sgd", False, 1.0),
        ("sgd", True, 0.0),
    ]
    assert points == sorted(points, key=lambda p: (["sgd", "adam", "adamw"].index(p[0]), *p[1:]))


def test_grid_shuffle_order_depends_on_the_seed() -> None:
    orders = [_drive(GridSampler(n_points=3, seed=seed), GRID_SPACE) for seed in (0, 0, 1)]
    assert orders[0] == orders[1]
    assert orders[0] != orders[2]
    assert len(orders[0]) == len(orders[2]) == GRID_SIZE
    assert set(orders[0]) == set(orders[2]) == _all_points()


def test_grid_never_duplicates_across_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'grid.db'}"
    study = _grid_study("grid", storage=url)
    study.optimize(_loss, n_trials=GRID_SIZE // 2)
    study.storage.close()

    resumed = hs.load_study("grid", storage=url)
    assert isinstance(resumed.sampler, GridSampler) and resumed.sampler.n_points == 3
    resumed.optimize(_loss, n_trials=100)
    points = _points(resumed)
    assert len(points) == GRID_SIZE
    assert set(points) == _all_points()
    resumed.storage.close()


def test_grid_skips_points_covered_by_enqueued_and_manual_trials() -> None:
    study = _grid_study()
    study.enqueue({"opt": "adam", "bn": True, "x": 0.5}, note="on the grid")
    study.enqueue({"opt": "sgd", "bn": False, "x": 0.3}, note="off the grid")
    study.add_trial({"opt": "adamw", "bn": False, "x": 1.0}, 0.7)
    study.optimize(_loss, n_trials=100)
    trials = study.trials
    # 18 grid points, one of them run by the enqueued trial and one added by hand, plus the
    # off-grid enqueued trial
    assert len(trials) == GRID_SIZE + 1
    points = _points(study)
    assert len(set(points)) == len(points)
    assert set(points) == _all_points() | {("sgd", False, 0.3)}
    assert [t.source for t in trials[:2]] == ["enqueued", "enqueued"]


def test_grid_fills_a_partly_enqueued_trial_with_the_point_it_runs() -> None:
    """An enqueued trial fixing some parameters claims the grid point it actually runs, so no
    other point is marked as tried without being run."""
    study = _grid_study()
    study.enqueue({"opt": "adamw"})
    study.enqueue({"x": 0.25})  # off the grid: an extra point
    study.optimize(_loss, n_trials=100)
    points = _points(study)
    assert points[0][0] == "adamw"
    assert points[1][2] == 0.25
    assert len(points) == GRID_SIZE + 1
    assert len(set(points)) == len(points)
    assert _all_points() <= set(points)
    for t in study.trials:
        assert json.loads(t.claim_key.removeprefix("grid:")) == [t.params[k] for k in GRID_SPACE]


@pytest.mark.parametrize("stale", [False, True], ids=["fresh-history", "stale-history"])
def test_two_workers_on_one_sqlite_file_never_share_a_grid_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stale: bool
) -> None:
    """Two Study objects (as two workers would) ask alternately, keeping trials running
    across each other's asks. With ``stale``, worker B never sees A's trials in its history
    and only the storage's unique claim keeps them apart."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    a = _grid_study("shared", storage=url)
    b = hs.load_study("shared", storage=url)
    if stale:
        monkeypatch.setattr(b.storage, "get_trials", lambda *args, **kwargs: [])
    running: list[tuple[Study, Trial]] = []
    exhausted: set[str] = set()
    for _ in range(2 * GRID_SIZE):  # bounded: a broken claim would never exhaust
        if len(exhausted) == 2:
            break
        for name, worker in (("a", a), ("b", b)):
            if name in exhausted:
                continue
            try:
                running.append((worker, worker.ask()))
            except SearchSpaceExhaustedError:
                exhausted.add(name)
            if len(running) > 2:  # finish the oldest; two stay running
                owner, trial = running.pop(0)
                owner.tell(trial, _loss(trial))
    for owner, trial in running:
        owner.tell(trial, _loss(trial))
    points = [tuple(t.params[k] for k in GRID_SPACE) for t in a.trials]
    assert exhausted == {"a", "b"}, f"{len(points)} trials for {GRID_SIZE} points"
    assert len(points) == GRID_SIZE
    assert set(points) == _all_points()
    assert {t.state for t in a.trials} == {TrialState.COMPLETE}
    a.storage.close()
    b.storage.close()


# --------------------------------------------------------------------------- grid: values


def test_grid_jitter_keeps_values_inside_their_cell() -> None:
    space = Space(
        {
            "lr": Float(1e-4, 1.0, log=True),
            "beta": Float(0.9, 0.999, scale="log1m"),
            "layers": Int(1, 100),  # discrete, more values than points: grid values, exact
            "units": Int(32, 64, step=32),  # discrete, all values
            "opt": Choice(["sgd", "adam"]),
        }
    )
    sampler = GridSampler(n_points=3, jitter=True, seed=0)
    axes = dict(zip(space, sampler.axes(space), strict=True))
    study = hs.create_study(space=space, sampler=sampler)
    study.optimize(lambda t: 0.0, n_trials=40)
    trials = study.trials
    assert len(trials) == 40
    moved = 0
    for t in trials:
        assert space.validate(t.params) == dict(t.params)
        node = dict(zip(space, json.loads(t.claim_key.removeprefix("grid:")), strict=True))
        for name in ("lr", "beta"):
            half_cell = 0.5 / (len(axes[name]) - 1)
            distance = abs(space[name].encode(t.params[name]) - space[name].encode(node[name]))
            assert distance <= half_cell + 1e-12, (name, t.params[name], node[name])
            moved += t.params[name] != node[name]
        for name in ("layers", "units", "opt"):
            assert t.params[name] == node[name]
            assert t.params[name] in axes[name]
    assert moved > len(trials)  # jitter moved most continuous coordinates off the nodes
    assert len({t.claim_key for t in trials}) == len(trials)

    again = hs.create_study(space=space, sampler=GridSampler(n_points=3, jitter=True, seed=0))
    again.optimize(lambda t: 0.0, n_trials=10)
    assert [dict(t.params) for t in again.trials] == [dict(t.params) for t in trials[:10]]


def test_grid_spacing_follows_each_parameters_scale() -> None:
    space = Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "beta": Float(0.9, 0.9999, scale="log1m"),
            "dropout": Float(0.0, 0.5),
            "batch": Int(8, 256, scale="pow2"),
            "width": Int(1, 1000, log=True),
        }
    )
    lr, beta, dropout, batch, width = GridSampler(n_points=5).axes(space)
    assert lr == pytest.approx([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], rel=1e-9)
    # log1m: 1 - beta evenly spaced in log space
    assert np.log10(1 - np.array(beta)) == pytest.approx([-1, -1.75, -2.5, -3.25, -4], abs=1e-9)
    assert dropout == pytest.approx([0.0, 0.125, 0.25, 0.375, 0.5])
    assert batch == [8, 16, 64, 128, 256]  # 5 of the 6 powers of two, spread on log2
    assert GridSampler(n_points=6).axes(space)[3] == [8, 16, 32, 64, 128, 256]
    assert width[0] == 1 and width[-1] == 1000
    gaps = np.diff(np.log(width))
    assert gaps.max() / gaps.min() < 2.5  # even in log space (linear would put 250 second)
    assert width[1] < 20


def test_grid_discrete_axes_use_every_value_up_to_n_points() -> None:
    space = Space(
        {
            "units": Int(32, 128, step=32),
            "opt": Choice(["a", "b", "c"]),
            "dropout": Float(0.0, 0.3, step=0.1),
            "bn": Bool(),
        }
    )
    assert GridSampler(n_points=4).axes(space) == [
        [32, 64, 96, 128],
        ["a", "b", "c"],
        [0.0, 0.1, 0.2, 0.3],
        [False, True],
    ]
    assert GridSampler().size(space) == 4 * 3 * 4 * 2  # all discrete: no n_points needed
    assert GridSampler(n_points={"units": 2}).axes(space)[0] == [32, 128]


def test_grid_too_large_is_refused_before_any_trial() -> None:
    space = Space({name: Float(0.0, 1.0) for name in "abcd"})
    study = hs.create_study(space=space, sampler=GridSampler(n_points=100))
    with pytest.raises(InvalidSpaceError, match=r"100,000,000 points"):
        study.optimize(lambda t: 0.0, n_trials=3)
    assert study.trials == []

    huge_axis = hs.create_study(space={"n": Int(0, 10**7)}, sampler="grid")
    with pytest.raises(InvalidSpaceError, match=r"Grid axis 'n'.*number of grid points"):
        huge_axis.ask()
    assert huge_axis.trials == []


def test_grid_on_a_continuous_range_without_n_points_says_what_to_pass() -> None:
    study = hs.create_study(
        space={"lr": Float(1e-5, 1e-1, log=True), "opt": Choice(["sgd"])}, sampler="grid"
    )
    with pytest.raises(InvalidSpaceError, match=r"Grid axis 'lr'.*continuous.*n_points") as err:
        study.ask()
    assert "GridSampler(n_points=" in str(err.value)
    assert study.trials == []
    # per-axis n_points leave the other axes alone
    ok = hs.create_study(
        space={"lr": Float(1e-5, 1e-1, log=True), "opt": Choice(["sgd"])},
        sampler=GridSampler(n_points={"lr": 3}),
    )
    ok.optimize(lambda t: 0.0, n_trials=10)
    assert len(ok.trials) == 3


@pytest.mark.parametrize("n_points", [0, -1, 2.5, "3", {"lr": 0}, {"lr": 1.5}])
def test_grid_rejects_bad_n_points(n_points: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="n_points must be integers >= 1"):
        GridSampler(n_points=n_points)


# --------------------------------------------------------------------------- Sobol / random

CUBE = Space(
    {
        "lr": Float(1e-6, 1.0, log=True),
        "beta": Float(0.5, 0.9999, scale="log1m"),
        "dropout": Float(0.0, 0.5),
        "shift": Float(-3.0, 3.0),
    }
)


def test_sobol_points_are_more_even_than_random() -> None:
    """Centred L2 discrepancy of 64 points in 4-D, measured in the unit cube the samplers
    work in (so log scales count as uniform), averaged over seeds."""
    sobol = [qmc.discrepancy(_sample(SobolSampler(seed=s), CUBE, 64)) for s in range(3)]
    rand = [qmc.discrepancy(_sample(RandomSampler(seed=s), CUBE, 64)) for s in range(3)]
    assert np.mean(sobol) < 0.5 * np.mean(rand)
    assert max(sobol) < min(rand)


def test_sobol_trial_n_is_point_n_of_the_seeded_sequence() -> None:
    """Stateless by trial number (so resumes and workers agree), and each 1-D projection of
    the first 64 points is perfectly stratified, as a scrambled Sobol net is."""
    points = _sample(SobolSampler(seed=3), CUBE, 64)
    expected = qmc.Sobol(d=4, scramble=True, seed=3).random(64)
    np.testing.assert_allclose(points, expected, rtol=0, atol=1e-9)
    for column in points.T:
        assert sorted(np.floor(column * 64).astype(int).tolist()) == list(range(64))


def test_auto_uses_sobol_for_the_declared_space() -> None:
    np.testing.assert_array_equal(
        _sample(AutoSampler(seed=1), CUBE, 16), _sample(SobolSampler(seed=1), CUBE, 16)
    )
    assert "Sobol" in AutoSampler(seed=1).describe()


def test_random_marginals_are_uniform_in_the_unit_cube() -> None:
    """Fixed seed: deterministic, so it cannot flake; a biased sampler fails it."""
    space = Space(
        {
            **CUBE,
            "batch": Int(8, 256, scale="pow2"),
            "opt": Choice(["sgd", "adam", "adamw"]),
            "bn": Bool(),
        }
    )
    n = 3000
    u = _sample(RandomSampler(seed=0), space, n)
    assert ((u >= 0) & (u <= 1)).all()
    for j, name in enumerate(CUBE):
        assert stats.kstest(u[:, j], "uniform").pvalue > 1e-3, name
    for j, name in enumerate(space):
        param = space[name]
        if param.cardinality is None:
            continue
        counts = np.bincount(
            np.floor(u[:, j] * param.cardinality).astype(int), minlength=param.cardinality
        )
        assert stats.chisquare(counts).pvalue > 1e-3, (name, counts)
    # independent coordinates, and different trials draw different points
    corr = np.corrcoef(u[:, : len(CUBE)].T)
    assert np.abs(corr - np.eye(len(CUBE))).max() < 0.1
    assert len({tuple(row) for row in u[:, : len(CUBE)]}) == n


# --------------------------------------------------------------------------- registry


def test_unknown_sampler_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="Unknown sampler 'tpe-ish'") as err:
        make_sampler("tpe-ish")
    for name in sampler_names():
        assert repr(name) in str(err.value)
    with pytest.raises(InvalidArgumentError, match="Unknown sampler"):
        hs.create_study(sampler="nope")
    with pytest.raises(InvalidArgumentError, match="Unknown sampler None"):
        make_sampler({"n_points": 3})
    with pytest.raises(ValueError):  # also the built-in type
        make_sampler("nope")


def test_sampler_names_are_the_registry() -> None:
    names = sampler_names()
    assert names == sorted(names)
    assert {"auto", "grid", "random", "sobol"} <= set(names)
    for name in names:
        assert make_sampler(name, seed=0).name == name


@pytest.mark.parametrize(
    "sampler",
    [
        GridSampler(n_points={"lr": 7, "x": 3}, jitter=True, shuffle=False, seed=4),
        GridSampler(n_points=5, seed=4),
        GridSampler(seed=4),
        RandomSampler(seed=4),
        SobolSampler(seed=4),
        AutoSampler(seed=4),
    ],
    ids=repr,
)
def test_make_sampler_round_trips_config(sampler: Sampler) -> None:
    config = json.loads(json.dumps(sampler.config()))  # as stored with the study
    again = make_sampler(config, seed=sampler.seed)
    assert type(again) is type(sampler)
    assert again.config() == sampler.config()
    assert repr(again) == repr(sampler)
    space = Space({"units": Int(32, 512, step=32), "opt": Choice(["sgd", "adam"])})
    np.testing.assert_array_equal(_sample(again, space, 4), _sample(sampler, space, 4))


def test_make_sampler_passes_objects_through_and_defaults_to_auto() -> None:
    sampler = RandomSampler(seed=1)
    assert make_sampler(sampler) is sampler
    assert isinstance(make_sampler(None, seed=0), AutoSampler)
    assert make_sampler("random", seed=9).seed == 9
    assert isinstance(make_sampler("sobol").seed, int)  # no seed: one is drawn and kept


def test_study_stores_sampler_config_and_seed() -> None:
    study = hs.create_study(space=GRID_SPACE, sampler="random", seed=11)
    record = study.storage.get_study(study.name)
    config: Mapping[str, Any] = record.config
    assert config["sampler"] == {"name": "random"}
    assert config["seed"] == 11
    assert hs.load_study(study.name, storage=study.storage).sampler.seed == 11
