"""Samplers for several objectives and outcome constraints: MOTPE, ParEGO, auto's choice,
feasibility, and the single-objective samplers on constrained or multi-objective histories."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import hypersearch as hs
from hypersearch.pareto import hypervolume
from hypersearch.samplers import make_sampler
from hypersearch.samplers.base import Sampler, observations
from hypersearch.samplers.multiobjective import MOTPESampler, ParEGOSampler
from hypersearch.samplers.multiobjective.auto import MultiObjectiveAuto
from hypersearch.samplers.multiobjective.history import good_order, mo_observations
from hypersearch.space import Choice, Float, Space
from hypersearch.trial import TrialRecord, TrialState
from mo_drive import SPACE, ctx, drive, record, zdt1


def hv(trials: Sequence[TrialRecord], reference: Sequence[float] = (1.0, 6.0)) -> float:
    losses = np.array([t.values for t in trials if t.feasible], dtype=float)
    return hypervolume(losses, reference)


def test_motpe_beats_random_on_zdt1() -> None:
    # hypervolume of the first 60 trials, two seeds each; random search reaches about 3.2
    motpe = [hv(drive(MOTPESampler(seed=s), zdt1, 60)) for s in range(2)]
    rnd = [hv(drive(hs.samplers.RandomSampler(seed=s), zdt1, 60)) for s in range(2)]
    assert np.mean(motpe) > np.mean(rnd) + 0.2


def test_parego_beats_random_on_zdt1() -> None:
    parego = hv(drive(ParEGOSampler(seed=0), zdt1, 25))
    rnd = hv(drive(hs.samplers.RandomSampler(seed=0), zdt1, 25))
    assert parego > rnd + 0.2


def test_good_order_puts_fronts_first_and_spreads_the_cut_front() -> None:
    losses = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.49, 0.51], [0.9, 0.9], [2, 2]])
    order = good_order(losses, 2)
    assert set(order[:4]) == {0, 1, 2, 3}  # the front, then the dominated points
    assert list(order[4:]) == [4, 5]
    # inside the front, the extremes add the most hypervolume; the near-duplicates least
    assert set(order[:2]) == {0, 1}


def test_infeasible_trials_are_never_good() -> None:
    trials = [
        record(0, {f"x{i}": 0.1 for i in range(4)}, (0.0, 0.0), violations=(0.5,)),
        record(1, {f"x{i}": 0.9 for i in range(4)}, (1.0, 1.0), violations=(0.0,)),
        record(2, {f"x{i}": 0.5 for i in range(4)}, (2.0, 2.0), violations=(-1.0,)),
        record(
            3,
            {f"x{i}": 0.3 for i in range(4)},
            None,
            state=TrialState.FAILED,
            fail_reason="MemoryError: out of memory",
        ),
        record(
            4,
            {f"x{i}": 0.2 for i in range(4)},
            None,
            state=TrialState.FAILED,
            fail_reason="worker lost",
        ),
    ]
    obs = mo_observations(ctx(trials), SPACE)
    assert len(obs.x) == 2 and obs.losses.tolist() == [[1.0, 1.0], [2.0, 2.0]]
    assert len(obs.infeasible) == 2  # the violated constraint and the out-of-memory crash
    assert obs.violation[0] == pytest.approx(0.5) and math.isinf(obs.violation[1])


def test_maximised_objectives_are_negated() -> None:
    trials = [record(0, {f"x{i}": 0.5 for i in range(4)}, (0.9, 3.0))]
    obs = mo_observations(ctx(trials, directions=("maximize", "minimize")), SPACE)
    assert obs.losses.tolist() == [[-0.9, 3.0]]


@pytest.mark.parametrize("make", [MOTPESampler, ParEGOSampler])
def test_constraints_are_learned(make: Callable[..., Sampler]) -> None:
    # feasible only for x0 + x1 <= 0.5 (an eighth of the square): the samplers must learn
    # where that is rather than chase the infeasible part of the front
    def constraint(p: dict[str, Any]) -> float:
        return p["x0"] + p["x1"] - 0.5

    n = 26 if make is ParEGOSampler else 60
    trials = drive(make(seed=0), zdt1, n, constraint=constraint)
    late = trials[n // 2 :]
    # random search: 1/8 feasible; the good points sit on the constraint's edge, so a
    # learning sampler still crosses it often, but far less than random
    assert sum(t.feasible for t in late) >= 0.3 * len(late)


@pytest.mark.parametrize("make", [MOTPESampler, ParEGOSampler])
def test_nothing_feasible_yet_moves_towards_feasibility(make: Callable[..., Sampler]) -> None:
    def constraint(p: dict[str, Any]) -> float:  # feasible only near x0 = 0
        return p["x0"] - 0.05

    trials = drive(make(seed=1), zdt1, 30, constraint=constraint)
    first = trials[:10]
    late = trials[15:]
    assert np.mean([t.params["x0"] for t in late]) < np.mean([t.params["x0"] for t in first])


@pytest.mark.parametrize("make", [MOTPESampler, ParEGOSampler])
def test_same_seed_same_proposals(make: Callable[..., Sampler]) -> None:
    a = drive(make(seed=3), zdt1, 14)
    b = drive(make(seed=3), zdt1, 14)
    assert [t.params for t in a] == [t.params for t in b]


def test_three_objectives() -> None:
    def three(p: dict[str, Any]) -> tuple[float, float, float]:
        x = np.array([p[f"x{i}"] for i in range(4)])
        return float(x[0]), float(x[1]), float(np.sum((x - 0.5) ** 2))

    trials = drive(MOTPESampler(seed=0), three, 30, directions=("minimize",) * 3)
    assert all(set(t.params) == set(SPACE) for t in trials)


def test_define_by_run_parameters() -> None:
    sampler = MOTPESampler(seed=0, n_startup=4)
    trials = drive(sampler, zdt1, 8)
    value = sampler.sample_one(ctx(trials), "extra", Float(0.0, 1.0))
    assert 0.0 <= value <= 1.0
    assert ParEGOSampler(seed=0).sample_one(ctx(trials), "c", Choice(["a", "b"])) in ("a", "b")


def test_only_choices_fall_back_to_motpe() -> None:
    space = Space({"a": Choice(["p", "q", "r"]), "b": Choice([1, 2, 3, 4])})

    def f(p: dict[str, Any]) -> tuple[float, float]:
        return float(p["b"]), float("pqr".index(p["a"]) - p["b"])

    trials = drive(ParEGOSampler(seed=0), f, 15, space=space)
    assert all(t.params["a"] in "pqr" for t in trials)


def test_auto_chooses_by_space_and_history() -> None:
    auto = MultiObjectiveAuto(max_gp_dims=25, max_gp_trials=300, seed=0)
    assert auto.choose(SPACE, 10)[0] == "ehvi"
    assert auto.choose(SPACE, 300)[0] == "motpe"
    assert auto.choose(Space({"a": Choice(["p", "q"])}), 10)[0] == "motpe"
    wide = Space({f"x{i}": Float(0.0, 1.0) for i in range(30)})
    assert auto.choose(wide, 10)[0] == "motpe"


def test_auto_sampler_routes_several_objectives() -> None:
    trials = drive(make_sampler("auto", seed=0), zdt1, 14)
    assert len(trials) == 14  # EHVI after the Sobol start, through AutoSampler


def test_registered_names() -> None:
    assert isinstance(make_sampler("motpe", seed=0), MOTPESampler)
    parego = make_sampler({"name": "parego", "rho": 0.1}, seed=0)
    assert isinstance(parego, ParEGOSampler) and parego.rho == 0.1
    assert make_sampler(parego.config(), seed=0).config() == parego.config()


@pytest.mark.parametrize("name", ["random", "sobol", "grid", "tpe", "gp"])
def test_single_objective_samplers_run_on_several_objectives(name: str) -> None:
    spec = {"name": "grid", "n_points": 3} if name == "grid" else name
    trials = drive(make_sampler(spec, seed=0), zdt1, 14)
    assert all(set(t.params) == set(SPACE) for t in trials)


def test_observations_route_infeasible_trials_to_failed() -> None:
    # single-objective samplers: a trial that violates a constraint is infeasible, however
    # good its value
    trials = [
        TrialRecord(number=0, state=TrialState.COMPLETE, params={"x0": 0.1, "x1": 0.1,
                    "x2": 0.1, "x3": 0.1}, value=-100.0, constraint_violations=(1.0,), id=0),
        TrialRecord(number=1, state=TrialState.COMPLETE, params={"x0": 0.5, "x1": 0.5,
                    "x2": 0.5, "x3": 0.5}, value=1.0, constraint_violations=(0.0,), id=1),
    ]  # fmt: skip
    obs = observations(ctx(trials, directions=("minimize",)), SPACE)
    assert obs.loss.tolist() == [1.0]
    assert len(obs.failed) == 1


# real studies ---------------------------------------------------------------------------
def _mo_objective(trial: hs.Trial) -> dict[str, float]:
    f1, f2 = zdt1(trial.params)
    return {"f1": f1, "f2": f2, "mem": trial.params["x0"] + trial.params["x1"]}


@pytest.mark.parametrize("sampler", ["random", "sobol", {"name": "grid", "n_points": 2}])
def test_value_free_samplers_on_a_multi_objective_study(sampler: Any) -> None:
    study = hs.create_study(space=SPACE, directions={"f1": "minimize", "f2": "minimize"},
                            sampler=sampler, seed=0)  # fmt: skip
    study.optimize(_mo_objective, n_trials=12)
    assert len(study.get_trials(["COMPLETE"])) == 12
    assert study.best_trials


def test_motpe_in_a_constrained_sqlite_study_learns_and_resumes(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    kwargs: dict[str, Any] = {
        "space": SPACE,
        "directions": {"f1": "minimize", "f2": "minimize"},
        "constraints": {"mem": ("<=", 0.5)},  # an eighth of the (x0, x1) square
        "sampler": "motpe",
        "seed": 0,
        "storage": url,
    }
    study = hs.create_study("c", **kwargs)
    study.optimize(_mo_objective, n_trials=30)
    again = hs.create_study("c", load_if_exists=True, **kwargs)
    again.optimize(_mo_objective, n_trials=30)
    trials = again.trials
    assert len(trials) == 60 and all(t.values is not None for t in trials)
    late = trials[30:]
    # random search: 1/8 feasible; the good points sit on the constraint's edge, so a
    # learning sampler still crosses it often, but far less than random
    assert sum(t.feasible for t in late) >= 0.3 * len(late)
    assert all(t.feasible for t in again.best_trials)


def test_bad_options_say_what_to_use() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="MOTPESampler: n_startup must be >= 0"):
        MOTPESampler(n_candidates=0)
    with pytest.raises(hs.InvalidArgumentError, match="good_fraction must be in"):
        MOTPESampler(good_fraction=0.0)
    with pytest.raises(hs.InvalidArgumentError, match="ParEGOSampler: rho must be"):
        ParEGOSampler(rho=-1.0)
    with pytest.raises(hs.InvalidArgumentError, match="max_points=250"):
        ParEGOSampler(max_points=1)
