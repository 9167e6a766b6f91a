"""ASHA, Hyperband and BOHB, run in milliseconds on replayed curves with the simulated
executor and its fake clock."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.execution.simulated import FakeClock, SimulatedExecutor
from hypersearch.schedulers import ASHA, BOHB, DensityRatioSampler, Hyperband, make_scheduler
from hypersearch.schedulers.hyperband import rung_value

SPACE = {"q": hs.Float(0.0, 1.0), "z": hs.Float(0.0, 1.0)}
MAX = 27


def curve(params: dict[str, Any]) -> list[float]:
    """Error falls towards 1 - q; rankings are the same at every step (no crossing)."""
    q = params["q"]
    return [(1.0 - q) + 0.5 / (s + 1) for s in range(MAX)]


def simulate(scheduler: Any, *, n: int = 60, workers: int = 1, seed: int = 0) -> Any:
    study = hs.create_study(space=SPACE, scheduler=scheduler, sampler="random", seed=seed)
    sim = SimulatedExecutor(curve, max_steps=MAX, first_step=1, n_workers=workers)
    return study, sim.run(study, n_trials=n)


def test_rungs_and_brackets() -> None:
    asha = ASHA(min_resource=1, max_resource=27, reduction_factor=3)
    assert asha.rungs(27) == [1, 3, 9]
    hb = Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    assert hb.brackets(27) == [(0, 27), (1, 12), (2, 6), (3, 4)]  # Hyperband's n_i
    counts: dict[int, int] = {}
    for number in range(49):
        b = hb.bracket_for(number, 27)
        counts[b] = counts.get(b, 0) + 1
    assert counts == {0: 27, 1: 12, 2: 6, 3: 4}
    # Hyperband's order: the most aggressive bracket first, then the next, then again
    order = [hb.bracket_for(i, 27) for i in range(49 + 3)]
    assert order == [0] * 27 + [1] * 12 + [2] * 6 + [3] * 4 + [0] * 3


def test_rung_value_uses_best_so_far_up_to_the_rung() -> None:
    t = hs.TrialRecord(number=0, state=hs.TrialState.RUNNING, params={},
                       intermediate={1: 0.5, 2: 0.3, 4: 0.4, 9: 0.1})  # fmt: skip
    assert rung_value(t, 3, minimize=True) == 0.3
    assert rung_value(t, 10, minimize=True) is None
    assert rung_value(t, 1, minimize=False) == 0.5


@pytest.mark.parametrize("workers", [1, 4])
def test_asha_stops_most_trials_early_and_keeps_the_best(workers: int) -> None:
    study, result = simulate(ASHA(min_resource=1, max_resource=MAX), workers=workers)
    trials = study.trials
    stopped = [t for t in trials if t.state is hs.TrialState.STOPPED]
    assert len(stopped) > len(trials) / 2
    assert result.steps < 0.5 * len(trials) * MAX  # far fewer epochs than full training
    for t in stopped:  # stopped at a rung, curve kept
        assert t.last_step in (1, 3, 9)
        assert len(t.intermediate) == t.last_step
    best_q = max(t.params["q"] for t in trials)
    assert study.best_params["q"] == pytest.approx(best_q, abs=0.05)


def test_hyperband_assigns_brackets_and_decides_within_them() -> None:
    study, _ = simulate(Hyperband(min_resource=1, max_resource=MAX), n=60)
    trials = study.trials
    brackets = {t.attrs["bracket"] for t in trials}
    assert brackets == {0, 1, 2, 3}
    for t in trials:
        first_rung = 3 ** t.attrs["bracket"]
        if t.state is hs.TrialState.STOPPED:
            assert t.last_step is not None and t.last_step >= first_rung
    assert all(t.state is hs.TrialState.COMPLETE for t in trials if t.attrs["bracket"] == 3)


def test_max_resource_auto_comes_from_the_first_completed_trial() -> None:
    asha = ASHA(min_resource=1)
    study, _ = simulate(asha, n=20)
    assert asha.resolved_max(study.trials) == MAX
    assert any(t.state is hs.TrialState.STOPPED for t in study.trials)


def test_bohb_proposes_from_the_model_once_a_rung_has_enough_results() -> None:
    bohb = BOHB(min_resource=1, max_resource=MAX, random_fraction=0.2, seed=1)
    study, _ = simulate(bohb, n=50)
    modelled = [t for t in study.trials if t.attrs.get("model_rung") is not None]
    assert len(modelled) > 15
    randoms = [t.params["q"] for t in study.trials if t.attrs.get("model_rung") is None]
    late = [t.params["q"] for t in modelled[-15:]]
    assert sum(late) / len(late) > sum(randoms) / len(randoms) + 0.15  # the model finds high q
    assert max(t.params["q"] for t in modelled) > max(randoms) - 0.05


def test_bohb_takes_any_sampler_as_its_model() -> None:
    model = DensityRatioSampler(seed=3, top_fraction=0.3)
    bohb = BOHB(min_resource=1, max_resource=MAX, sampler=model, random_fraction=0.0)
    assert bohb.model is model
    study, _ = simulate(bohb, n=30)
    assert study.best_value < 0.25


def test_same_seed_same_trials() -> None:
    a, ra = simulate(BOHB(min_resource=1, max_resource=MAX, seed=5), n=25, seed=2)
    b, rb = simulate(BOHB(min_resource=1, max_resource=MAX, seed=5), n=25, seed=2)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert ra.trace == rb.trace


def test_parallel_simulated_workers_use_the_fake_clock() -> None:
    clock = FakeClock()
    study = hs.create_study(
        space=SPACE, sampler="random", scheduler=ASHA(min_resource=1, max_resource=MAX)
    )
    sim = SimulatedExecutor(curve, max_steps=MAX, first_step=1, n_workers=4, clock=clock)
    result = sim.run(study, max_total_steps=150)
    assert result.steps == 150
    assert clock() == pytest.approx(result.time)
    assert result.time < 150 / 2  # four workers in parallel
    assert not [t for t in study.trials if t.state is hs.TrialState.RUNNING]


def test_simulated_run_in_a_sqlite_study(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'mf.db'}"
    study = hs.create_study(
        "mf", space=SPACE, storage=url, sampler="random", scheduler="hyperband", seed=0
    )
    SimulatedExecutor(curve, max_steps=MAX, first_step=1).run(study, n_trials=15)
    loaded = hs.load_study("mf", storage=url)
    assert isinstance(loaded.scheduler, Hyperband)
    assert len(loaded.trials) == 15


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_resource": 5, "max_resource": 3}, "max_resource must be 'auto' or an integer"),
        ({"reduction_factor": 1}, "reduction_factor must be an integer >= 2"),
        ({"min_resource": -1}, "min_resource must be an integer >= 0"),
    ],
)
def test_conflicting_resource_bounds_are_refused(kwargs: dict[str, Any], match: str) -> None:
    for cls in (ASHA, Hyperband, BOHB):
        with pytest.raises(hs.InvalidArgumentError, match=match):
            cls(**kwargs)


def test_resource_bounds_that_conflict_with_the_objective_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    study = hs.create_study(
        space=SPACE, sampler="random", scheduler=ASHA(min_resource=1, max_resource=10)
    )
    caplog.set_level(logging.WARNING, logger="hypersearch")
    SimulatedExecutor(curve, max_steps=MAX, first_step=1).run(study, n_trials=3)
    assert "beyond max_resource=10" in caplog.text
    study = hs.create_study(
        space=SPACE, sampler="random", scheduler=ASHA(min_resource=30, max_resource=100)
    )
    caplog.clear()
    SimulatedExecutor(curve, max_steps=MAX, first_step=1).run(study, n_trials=5)
    assert "the top rungs are never reached" in caplog.text
    assert all(t.state.is_finished for t in study.trials)


@pytest.mark.parametrize("name", ["sha", "asha", "hyperband", "bohb", "pbt"])
def test_registry_names(name: str) -> None:
    scheduler = make_scheduler(name)
    assert scheduler is not None and scheduler.name == name
    again = make_scheduler(scheduler.config())
    assert again is not None and again.config() == scheduler.config()


def test_nan_reports_do_not_count_at_a_rung() -> None:
    study = hs.create_study(
        space=SPACE, sampler="random", scheduler=ASHA(min_resource=1, max_resource=MAX)
    )

    def nan_curve(params: dict[str, Any]) -> list[float]:
        return [math.nan] * MAX

    SimulatedExecutor(nan_curve, max_steps=MAX, first_step=1).run(study, n_trials=4)
    assert all(t.state is not hs.TrialState.STOPPED for t in study.trials)


def test_hyperband_promotions_do_not_move_the_bracket_order() -> None:
    study = hs.create_study(space=SPACE, scheduler=Hyperband(min_resource=1, max_resource=MAX),
                            sampler="random", seed=0)  # fmt: skip
    sim = SimulatedExecutor(curve, max_steps=MAX, first_step=1, checkpoints=True)
    sim.run(study, n_trials=60)
    new = [t.attrs["bracket"] for t in study.trials if "promoted_from" not in t.attrs]
    assert new[:27] == [0] * 27 and new[27:39] == [1] * 12


def misleading(params: dict[str, Any]) -> list[float]:
    """The first epoch ranks configurations backwards (as on some LCBench tasks): good
    configurations start slowly."""
    q = params["q"]
    return [0.9 + 0.1 * q if s == 0 else 0.5 * (1.0 - q) + 0.1 / (s + 1) for s in range(MAX)]


def test_bohb_stops_modelling_a_rung_that_misranks_configurations() -> None:
    bohb = BOHB(min_resource=1, max_resource=MAX, random_fraction=0.0, seed=0)
    study = hs.create_study(space=SPACE, scheduler=bohb, sampler="random", seed=0)
    sim = SimulatedExecutor(misleading, max_steps=MAX, first_step=1, checkpoints=True)
    sim.run(study, n_trials=90)
    trials = study.trials
    history = bohb.rung_history(trials, study)
    rho = bohb._rank_agreement(trials, history, 1, [3, 9, MAX])
    assert rho is not None and rho < 0  # measured on trials not selected at rung 1
    bohb.min_points_in_model = len(history[1])  # only rung 1 has this many results
    assert len(history[3]) < len(history[1])
    assert bohb.model_rung(trials, study) is None  # ...and it is not trusted
