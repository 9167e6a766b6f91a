"""MultiFidelity, the recommended scheduler: ASHA's rungs with new configurations proposed by a
GP over (configuration, resource) fitted on every reported point, in stop and pause mode."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hypersearch as hs
from hypersearch.execution.simulated import SimulatedExecutor
from hypersearch.schedulers import MultiFidelity, make_scheduler
from hypersearch.schedulers.base import SchedulerContext
from hypersearch.schedulers.mf_model import Curve, CurveModel

EPOCHS = 27
SPACE = {"q": hs.Float(0.0, 1.0), "z": hs.Float(0.0, 1.0)}


def error(params: dict[str, Any], epoch: int) -> float:
    """Falls towards 1 - q; z matters early on only, so low rungs misrank a little."""
    return (1.0 - params["q"]) + (0.5 + 0.3 * params["z"]) / epoch


def curve(params: dict[str, Any]) -> list[float]:
    return [error(params, e) for e in range(1, EPOCHS + 1)]


def simulate(
    checkpoints: bool,
    *,
    seed: int = 0,
    n: int = 60,
    pause: bool | None = None,
    fast_track: bool = False,
    screen_first: int = 0,
) -> tuple[hs.Study, Any]:
    """A study of ``n`` trials; the rung ladder alone unless ``screen_first`` is given."""
    scheduler = MultiFidelity(max_resource=EPOCHS, seed=seed, pause=pause,
                              fast_track=fast_track, screen_first=screen_first)  # fmt: skip
    study = hs.create_study(space=SPACE, sampler="random", seed=seed, scheduler=scheduler)
    sim = SimulatedExecutor(curve, max_steps=EPOCHS, first_step=1, checkpoints=checkpoints)
    return study, sim.run(study, n_trials=n)


# defaults -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "max_resource, min_resource, rungs, ladder_alone",
    [
        (52, 6, [6, 18], [2, 6, 18]),
        (27, 3, [3, 9], [1, 3, 9]),
        (100, 11, [11, 33, 99], [4, 12, 36]),
        (20, 2, [2, 6, 18], [1, 3, 9]),
        (4, 1, [1, 3], [1, 3]),
        (2, 1, [1], [1]),
    ],
)
def test_only_max_resource_is_needed(
    max_resource: int, min_resource: int, rungs: list[int], ladder_alone: list[int]
) -> None:
    """After the screening start the ladder's min_resource is max_resource / 3**2 (at least
    1: two rungs below full training, three where 3**3 of it still fit); the ladder alone
    (screen_first=0) takes max_resource / 3**3 (three rungs)."""
    s = MultiFidelity(max_resource=max_resource)
    assert (s.min_resource, s.reduction_factor) == (min_resource, 3)
    assert s.rungs(max_resource) == rungs
    alone = MultiFidelity(max_resource=max_resource, screen_first=0)
    assert alone.rungs(max_resource) == ladder_alone and alone.rungs(max_resource)[0] == (
        alone.min_resource
    )


@pytest.mark.parametrize(
    "max_resource, min_resource, reduction_factor",
    [(52, 4, 13), (20, 2, 10), (27, 2, 14), (100, 8, 13), (10, 1, 10), (2, 1, 2)],
)
def test_screening_takes_one_rung_at_a_twelfth(
    max_resource: int, min_resource: int, reduction_factor: int
) -> None:
    """screening=True: one rung at round(max_resource / 12) (at least 1), and the factor
    ceil(max_resource / rung) that leaves it the only rung."""
    s = MultiFidelity(max_resource=max_resource, screening=True)
    assert (s.min_resource, s.reduction_factor) == (min_resource, reduction_factor)
    assert s.rungs(max_resource) == [min_resource]
    assert make_scheduler(s.config()).config() == s.config()
    assert s.config()["screening"] is True
    given = MultiFidelity(max_resource=52, min_resource=6, screening=True)
    assert (given.min_resource, given.reduction_factor) == (6, 9)


@pytest.mark.parametrize("checkpoints", [True, False])
def test_screening_trains_in_full_the_best_of_each_group_screened(checkpoints: bool) -> None:
    """Nothing trains in full before 14 configurations were screened at the rung (2 of 27
    epochs); then after every 14 more, the best one at the rung not yet promoted does (from
    its checkpoint, or retrained from step 1 without one)."""
    scheduler = MultiFidelity(max_resource=EPOCHS, seed=0, screening=True, random_fraction=1.0)
    study = hs.create_study(space=SPACE, sampler="random", seed=0, scheduler=scheduler)
    sim = SimulatedExecutor(curve, max_steps=EPOCHS, first_step=1, checkpoints=checkpoints)
    sim.run(study, n_trials=48)
    trials = study.trials
    screened: list[hs.TrialRecord] = []
    promoted = 0
    for i, t in enumerate(trials):
        parent = t.attrs.get("promoted_from")
        if parent is None:
            screened.append(t)
            if t.last_step == EPOCHS:  # went on at once: the best of the rung, quota free
                promoted += 1
                assert promoted <= len(screened) // 14
            else:
                assert t.last_step == 2 and t.state is hs.TrialState.STOPPED
            continue
        promoted += 1
        assert promoted <= len(screened) // 14
        assert t.last_step == EPOCHS
        assert min(t.intermediate) == (3 if checkpoints else 1)
        at_rung = {s.number: s.intermediate[2] for s in screened}
        earlier = [u.attrs.get("promoted_from") for u in trials[:i]]
        went_on = {int(p) for p in earlier if p is not None}
        went_on |= {s.number for s in screened if s.last_step == EPOCHS}
        waiting = {n: v for n, v in at_rung.items() if n not in went_on}
        assert int(parent) == min(waiting, key=waiting.__getitem__)
    assert promoted == len(screened) // 14 >= 2


@pytest.mark.parametrize("checkpoints", [True, False])
def test_the_first_two_full_trainings_are_chosen_by_screening_then_the_ladder(
    checkpoints: bool,
) -> None:
    """The default (screen_first=2): the first 2 x 14 new configurations are screened at 2 of
    27 epochs (bracket "screen", counted quota: two of them train in full); later ones climb
    ASHA's ladder 3, 9; promotions stay in their parent's bracket."""
    scheduler = MultiFidelity(max_resource=EPOCHS, seed=0)
    assert (scheduler.min_resource, scheduler.reduction_factor) == (3, 3)
    assert (scheduler.screen_rung, scheduler.screen_factor) == (2, 14)
    study = hs.create_study(space=SPACE, sampler="random", seed=0, scheduler=scheduler)
    sim = SimulatedExecutor(curve, max_steps=EPOCHS, first_step=1, checkpoints=checkpoints)
    sim.run(study, n_trials=90)
    by_number = {t.number: t for t in study.trials}
    new = [t for t in study.trials if "promoted_from" not in t.attrs]
    assert all(t.attrs.get("bracket") == "screen" for t in new[:28])
    assert all("bracket" not in t.attrs for t in new[28:]) and len(new) > 40
    for t in study.trials:
        parent = t.attrs.get("promoted_from")
        if parent is not None:
            assert t.attrs.get("bracket") == by_number[int(parent)].attrs.get("bracket")
        paused = t.attrs.get("paused_at")
        if paused is not None:
            assert paused in ((2,) if t.attrs.get("bracket") == "screen" else (3, 9))
    full_screened = [
        t for t in study.trials if t.attrs.get("bracket") == "screen" and t.last_step == EPOCHS
    ]
    assert len(full_screened) == 2
    assert any("bracket" not in t.attrs and t.last_step == EPOCHS for t in study.trials)


def test_a_define_by_run_objective_gets_the_screening_start_too() -> None:
    """No declared space: the sampler proposes the parameters, the scheduler still screens the
    first 2 x 14 configurations (bracket "screen") before the ladder."""

    def objective(trial: hs.Trial) -> float:
        params = {"q": trial.suggest("q", hs.Float(0.0, 1.0)),
                  "z": trial.suggest("z", hs.Float(0.0, 1.0))}  # fmt: skip
        value = float("nan")
        for epoch in range(1, EPOCHS + 1):
            value = error(params, epoch)
            trial.report(value, step=epoch)
            if trial.should_stop():
                break
        return value

    scheduler = MultiFidelity(max_resource=EPOCHS, seed=0)
    study = hs.create_study(sampler="random", seed=0, scheduler=scheduler)
    study.optimize(objective, n_trials=40)
    new = [t for t in study.trials if "promoted_from" not in t.attrs]
    assert [t.attrs.get("bracket") for t in new[:30]] == ["screen"] * 28 + [None] * 2
    assert {t.last_step for t in new[:28]} <= {2, EPOCHS}
    assert study.best_trial.last_step == EPOCHS


def test_screening_in_the_stopping_form_keeps_ashas_rule() -> None:
    """screening=True, pause=False: nothing is paused or promoted; a trial goes on past the
    rung (2 of 27) only while it ranks first there as it arrives (top 1/14 of fewer than 28)."""
    scheduler = MultiFidelity(max_resource=EPOCHS, seed=0, screening=True, pause=False)
    study = hs.create_study(space=SPACE, sampler="random", seed=0, scheduler=scheduler)
    SimulatedExecutor(curve, max_steps=EPOCHS, first_step=1).run(study, n_trials=20)
    trials = study.trials
    assert not any("promoted_from" in t.attrs or "paused_at" in t.attrs for t in trials)
    best_at_rung = float("inf")
    for t in trials:
        value = t.intermediate[2]
        assert (t.last_step == EPOCHS) == (value < best_at_rung)
        assert t.last_step in (2, EPOCHS)
        best_at_rung = min(best_at_rung, value)


def test_given_min_resource_and_reduction_factor_are_kept() -> None:
    s = MultiFidelity(max_resource=81, min_resource=1, reduction_factor=2)
    assert (s.min_resource, s.reduction_factor) == (1, 2)
    again = make_scheduler(s.config())
    assert isinstance(again, MultiFidelity) and again.config() == s.config()
    derived = make_scheduler({"name": "multifidelity", "max_resource": 52})
    assert isinstance(derived, MultiFidelity) and derived.min_resource == 6
    assert derived.screen_first == 2 and (derived.screen_rung, derived.screen_factor) == (4, 13)
    ladder = make_scheduler({"name": "multifidelity", "max_resource": 52, "screen_first": 0})
    assert isinstance(ladder, MultiFidelity) and not ladder.mixed
    assert make_scheduler(ladder.config()).config() == ladder.config()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_resource": 52, "screening": "yes"}, "screening must be True or False"),
        ({"max_resource": 5, "min_resource": 10}, "min_resource=10 must be below max_resource=5"),
        ({"max_resource": 5, "min_resource": 5}, "min_resource=5 must be below max_resource=5"),
        ({"max_resource": 1}, "max_resource must be an integer >= 2"),
        ({"max_resource": "auto"}, "max_resource must be an integer >= 2"),
        ({"max_resource": 27, "reduction_factor": 1}, "reduction_factor must be an integer >= 2"),
        ({"max_resource": 27, "random_fraction": 1.5}, "random_fraction must be within"),
        ({"max_resource": 27, "n_initial": 0}, "n_initial must be an integer >= 1"),
        ({"max_resource": 27, "fast_track": "yes"}, "fast_track must be True or False"),
        ({"max_resource": 27, "screen_first": -1}, "screen_first must be an integer >= 0"),
        ({"max_resource": 27, "screen_first": True}, "screen_first must be an integer >= 0"),
        ({"max_resource": 27, "screen_first": 1.5}, "screen_first must be an integer >= 0"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(hs.InvalidArgumentError, match=match):
        MultiFidelity(**kwargs)


def test_max_resource_is_required_by_name() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="max_resource"):
        make_scheduler("multifidelity")


# the model ----------------------------------------------------------------------------------
def test_model_learns_from_stopped_curves() -> None:
    """Curves that stopped at epoch 3 still inform the prediction at full training."""
    rng = np.random.default_rng(0)
    curves = []
    for i in range(14):
        x = rng.random(2)
        p = {"q": x[0], "z": x[1]}
        last = EPOCHS if i < 3 else 3  # most were stopped at the first rungs
        curves.append(Curve(x, {e: error(p, e) for e in range(1, last + 1)}))
    model = CurveModel(EPOCHS, [1, 3, 9])
    assert model.fit(curves, rng)
    good, bad = np.array([[0.95, 0.5]]), np.array([[0.05, 0.5]])
    assert model.predicted_final(good)[0] < model.predicted_final(bad)[0]
    proposal = model.propose(np.array([c.x for c in curves]), rng)
    assert proposal[0] > 0.5  # expected improvement points to high q


def test_model_needs_three_curves_and_bounds_its_points() -> None:
    model = CurveModel(EPOCHS, [1, 3, 9], max_points=10)
    rng = np.random.default_rng(0)
    two = [Curve(np.array([0.1, 0.2]), {1: 0.5}), Curve(np.array([0.3, 0.2]), {1: 0.4})]
    assert not model.fit(two, rng)
    many = [Curve(rng.random(2), {e: 1.0 / e for e in range(1, 28)}) for _ in range(20)]
    x, y = model.points(many)
    assert len(y) == 10 and x.shape == (10, 3)
    assert np.all(x[:, -1] == 1.0)  # the highest resources are kept first


# stop and pause mode -------------------------------------------------------------------------
def test_stop_mode_stops_at_rungs_and_proposes_from_the_model() -> None:
    study, result = simulate(checkpoints=False, pause=False)
    trials = study.trials
    stopped = [t for t in trials if t.state is hs.TrialState.STOPPED]
    assert len(stopped) > len(trials) / 2
    assert {t.last_step for t in stopped} <= {1, 3, 9}
    assert not any("promoted_from" in t.attrs for t in trials)
    by = Counter(t.attrs["proposed_by"] for t in trials)
    assert by["random"] >= 4 and by["model"] > by["random"]  # 4 = parameters + 2 first
    assert result.steps < 0.5 * len(trials) * EPOCHS
    # model proposals concentrate where the final error is low (random: mean q = 0.5)
    model_q = [t.params["q"] for t in trials if t.attrs["proposed_by"] == "model"]
    assert np.mean(model_q) > 0.65
    assert study.best_value < 0.1


def test_pause_mode_promotes_from_checkpoints() -> None:
    study, result = simulate(checkpoints=True, n=50)
    trials = study.trials
    promoted = [t for t in trials if t.attrs.get("promoted_from") is not None]
    assert promoted
    for t in promoted:
        parent = study.get_trial(t.attrs["promoted_from"])
        assert t.params == parent.params
        assert min(t.intermediate) == parent.last_step + 1  # continued, not retrained
    assert result.steps == sum(len(t.intermediate) for t in trials)
    assert Counter(t.attrs["promoted_from"] for t in promoted).most_common(1)[0][1] == 1
    assert study.best_value < 0.1


def test_without_checkpoints_promotions_retrain_from_step_0() -> None:
    """The default without checkpoints: trials pause at rungs (STOPPED) and a promotion
    retrains its configuration from the first step, driven through ask/tell as a user would."""
    study = hs.create_study(space=SPACE, sampler="random", seed=3,
                            scheduler=MultiFidelity(max_resource=EPOCHS, seed=3))  # fmt: skip
    epochs = 0
    for _ in range(40):
        trial = study.ask()
        value = float("nan")
        for epoch in range(1, EPOCHS + 1):  # no checkpoint: always from the first epoch
            value = error(trial.params, epoch)
            trial.report(value, step=epoch)
            epochs += 1
            if trial.should_stop():
                break
        study.tell(trial, value)
    trials = study.trials
    assert all(t.state.is_finished for t in trials)
    promoted = [t for t in trials if t.attrs.get("promoted_from") is not None]
    assert promoted
    for t in promoted:
        parent = study.get_trial(t.attrs["promoted_from"])
        assert t.params == parent.params and t.attrs["start_step"] == 0
        assert min(t.intermediate) == 1  # retrained, not continued
        assert "resume_from" not in t.attrs
    assert Counter(t.attrs["promoted_from"] for t in promoted).most_common(1)[0][1] == 1
    assert epochs == sum(len(t.intermediate) for t in trials)
    assert study.best_value < 0.1


@pytest.mark.parametrize("checkpoints", [False, True])
def test_same_seed_same_trials(checkpoints: bool) -> None:
    a, _ = simulate(checkpoints, seed=5, n=16)
    b, _ = simulate(checkpoints, seed=5, n=16)
    c, _ = simulate(checkpoints, seed=6, n=16)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]


@pytest.mark.parametrize("checkpoints", [False, True])
def test_fast_track_trains_the_predicted_best_paused_trial_in_full(checkpoints: bool) -> None:
    """fast_track=True: a paused trial the model predicts to beat every fully trained one is
    promoted once, straight to full training (no rung on the way pauses it)."""
    study, result = simulate(checkpoints, seed=1, n=50, fast_track=True)
    trials = study.trials
    fast = [t for t in trials if t.attrs.get("fast_track")]
    assert fast
    for t in fast:
        parent = study.get_trial(t.attrs["promoted_from"])
        assert t.params == parent.params and t.attrs["promoted_at"] == parent.attrs["paused_at"]
        assert t.state is hs.TrialState.COMPLETE and t.last_step == EPOCHS
        assert min(t.intermediate) == (parent.last_step + 1 if checkpoints else 1)
    promoted = Counter(t.attrs["promoted_from"] for t in trials if "promoted_from" in t.attrs)
    assert max(promoted.values()) == 1  # a paused trial is promoted once, either way
    assert result.steps == sum(len(t.intermediate) for t in trials)
    assert study.best_value < 0.1
    again = make_scheduler(MultiFidelity(max_resource=EPOCHS, fast_track=True).config())
    assert isinstance(again, MultiFidelity) and again.fast_track
    assert "fast_track" not in MultiFidelity(max_resource=EPOCHS).config()  # default unchanged


class Objective:
    """Trains epoch by epoch, saving a checkpoint after each, continuing the one given."""

    def __init__(self, steps: list[int] | None = None, report: bool = True) -> None:
        self.steps = steps or list(range(1, EPOCHS + 1))
        self.report = report

    def __call__(self, trial: hs.Trial) -> float:
        state = trial.load_checkpoint()
        done = 0 if state is None else state["epoch"]
        value = float("nan")
        for epoch in [s for s in self.steps if s > done]:
            value = error(trial.params, epoch)
            if not self.report:
                continue
            trial.report(value, step=epoch)
            trial.save_checkpoint({"epoch": epoch})
            if trial.should_stop():
                break
        return value


def test_pause_mode_in_a_sqlite_study_through_optimize(tmp_path: Path) -> None:
    study = hs.create_study("mf", space=SPACE, sampler="random", seed=2,
                            storage=f"sqlite:///{tmp_path / 'mf.db'}",
                            scheduler=MultiFidelity(max_resource=EPOCHS))  # fmt: skip
    study.optimize(Objective(), n_trials=40)
    trials = study.trials
    assert all(t.state in (hs.TrialState.COMPLETE, hs.TrialState.STOPPED) for t in trials)
    assert any("promoted_from" in t.attrs for t in trials)
    assert any(t.attrs.get("proposed_by") == "model" for t in trials)
    assert study.best_value < 0.2


@pytest.mark.parametrize("plan", ["ladder", "default", "screening"])
@pytest.mark.parametrize("objective", ["checkpointed_curve", "uncheckpointed_curve"])
def test_parallel_workers_promote_each_paused_trial_once(
    tmp_path: Path, objective: str, plan: str
) -> None:
    """Two worker processes on one SQLite file: each promotion is claimed in the database, so
    a paused trial is continued (or retrained) by exactly one later trial; with the ladder
    alone, with the default's screening start, and with screening throughout."""
    sys.path.insert(0, str(Path(__file__).parent))
    import parallel_objectives

    kwargs = {"ladder": {"screen_first": 0}, "default": {}, "screening": {"screening": True}}
    scheduler = MultiFidelity(max_resource=EPOCHS, **kwargs[plan])
    study = hs.create_study("parallel-mf", space=SPACE, sampler="random", seed=1,
                            storage=f"sqlite:///{tmp_path / 'mf.db'}",
                            scheduler=scheduler)  # fmt: skip
    study.optimize(getattr(parallel_objectives, objective), n_trials=60, n_workers=2)
    trials = study.trials
    assert not [t for t in trials if t.state is hs.TrialState.FAILED]
    promoted = Counter(t.attrs["promoted_from"] for t in trials if "promoted_from" in t.attrs)
    assert promoted and max(promoted.values()) == 1, promoted
    for t in trials:
        if "promoted_from" in t.attrs:
            assert t.claim_key == f"promote:{t.attrs['promoted_from']}"
            retrained = objective == "uncheckpointed_curve"
            assert min(t.intermediate) == (1 if retrained else t.attrs["promoted_at"] + 1)
    # one in 14 screened goes on; a trial told to go on counts only once it reports past the
    # rung, so each of the other worker's decisions may add one
    screened = [t for t in trials if "promoted_from" not in t.attrs]
    full = [t for t in trials if t.last_step == EPOCHS]
    if plan == "screening":
        assert 1 <= len(full) <= len(screened) // 14 + 2, (len(full), len(screened))
    if plan == "default":
        in_screen = [t for t in full if t.attrs.get("bracket") == "screen"]
        assert 1 <= len(in_screen) <= 2 + 2, len(in_screen)
        assert any("bracket" not in t.attrs for t in screened)


# bad input -------------------------------------------------------------------------------------
def _consistent(study: hs.Study) -> None:
    assert all(t.state.is_finished for t in study.trials)
    assert study.best_trial is not None


def test_reports_beyond_max_resource_warn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hypersearch")
    study = hs.create_study(space=SPACE, sampler="random", seed=0,
                            scheduler=MultiFidelity(max_resource=10))  # fmt: skip
    study.optimize(Objective(), n_trials=12)  # reports epochs 1..27
    assert "beyond max_resource=10" in caplog.text
    _consistent(study)


@pytest.mark.parametrize("screen_first, rungs", [(0, "[6, 18]"), (2, "[4]")])
def test_a_resource_that_jumps_warns_and_is_judged_at_the_last_rung(
    caplog: pytest.LogCaptureFixture, screen_first: int, rungs: str
) -> None:
    """Steps 1, 2, 50: the ladder's rungs 6 and 18, and the screening rung 4, are passed at
    50 (one rung passed that far from it warns too)."""
    caplog.set_level(logging.WARNING, logger="hypersearch")
    scheduler = MultiFidelity(max_resource=52, screen_first=screen_first)
    study = hs.create_study(space=SPACE, sampler="random", seed=0, scheduler=scheduler)
    study.optimize(Objective(steps=[1, 2, 50, 52]), n_trials=30)  # 13 screened, then one
    assert f"jumped from step 2 to 50, past rungs {rungs}" in caplog.text
    stopped = [t for t in study.trials if t.state is hs.TrialState.STOPPED]
    assert stopped and {t.last_step for t in stopped} <= {2, 50}
    _consistent(study)


def test_an_objective_that_never_reports_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hypersearch")
    study = hs.create_study(space=SPACE, sampler="random", seed=0,
                            scheduler=MultiFidelity(max_resource=EPOCHS))  # fmt: skip
    study.optimize(Objective(report=False), n_trials=10)
    assert "completed without calling trial.report(value, step=...)" in caplog.text
    assert all(t.state is hs.TrialState.COMPLETE for t in study.trials)
    # the model still learns from the final values (counted at max_resource)
    assert any(t.attrs.get("proposed_by") == "model" for t in study.trials)
    _consistent(study)


def test_acquisition_level_under_study_is_the_highest_rung_with_enough_curves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ACQUISITION_LEVEL = "bohb" (a dev-half ablation, off by default): expected improvement
    at the highest rung (or full training) that parameters + 1 configurations reached."""
    import hypersearch.schedulers.multifidelity as mf

    s = MultiFidelity(max_resource=EPOCHS)  # rungs 1, 3, 9

    def reached(last: int) -> Curve:
        return Curve(np.zeros(2), {e: 1.0 / e for e in range(1, last + 1)})

    curves = [reached(27)] * 2 + [reached(9)] + [reached(3)] * 2 + [reached(1)] * 4
    assert s._acquisition_level(curves, n_params=2) is None  # the default: full training
    monkeypatch.setattr(mf, "ACQUISITION_LEVEL", "bohb")
    assert s._acquisition_level(curves, n_params=2) == 9  # 3 reached 9, 2 full training
    assert s._acquisition_level(curves, n_params=3) == 3  # 5 reached 3, 3 reached 9
    assert s._acquisition_level(curves, n_params=1) is None  # 2 reached full training
    study, _ = simulate(checkpoints=True, n=30)
    assert any(t.attrs.get("proposed_by") == "model" for t in study.trials)


def test_top_rung_quota_under_study(monkeypatch: pytest.MonkeyPatch) -> None:
    """TOP_RUNG_MIN_PROMOTED (a dev-half ablation; default 1 = ASHA's quota): at the last rung
    at least that many of the trials there may go on, elsewhere the top 1/reduction_factor."""
    import hypersearch.schedulers.multifidelity as mf

    s = MultiFidelity(max_resource=EPOCHS)
    assert [s._quota(n, True) for n in (1, 2, 5, 9)] == [1, 1, 1, 3]
    monkeypatch.setattr(mf, "TOP_RUNG_MIN_PROMOTED", 3)
    assert [s._quota(n, True) for n in (1, 2, 5, 9, 12)] == [1, 2, 3, 3, 4]
    assert [s._quota(n, False) for n in (1, 2, 5, 9)] == [0, 0, 1, 3]


@pytest.mark.parametrize("checkpoints", [False, True])
def test_gate_at_the_last_rung_under_study(
    monkeypatch: pytest.MonkeyPatch, checkpoints: bool
) -> None:
    """GATE_MIN_PI (a dev-half ablation; default 0, off): at the ladder's last rung a top
    trial goes on to full training only while the model gives it that probability of beating
    every fully trained configuration; the others wait there and are not promoted."""
    import hypersearch.schedulers.multifidelity as mf

    def full(study: hs.Study) -> int:
        return sum(1 for t in study.trials if t.last_step == EPOCHS)

    open_study, _ = simulate(checkpoints, seed=2, n=60)
    monkeypatch.setattr(mf, "GATE_MIN_PI", 0.99)
    gated, result = simulate(checkpoints, seed=2, n=60)
    assert 0 < full(gated) < full(open_study)
    scheduler = gated.scheduler
    assert isinstance(scheduler, MultiFidelity)
    last = scheduler.rungs(EPOCHS)[-1]
    promoted = {t.attrs["promoted_from"] for t in gated.trials if "promoted_from" in t.attrs}
    waiting = [t for t in gated.trials
               if t.attrs.get("paused_at") == last and t.number not in promoted]  # fmt: skip
    assert waiting
    ctx = SchedulerContext(gated.trials, gated.space, ("minimize",))
    plan = scheduler.plan(len(gated.trials), ctx)
    assert plan is None or plan.attrs.get("promoted_at") != last  # the gate holds them
    _consistent(gated)
    assert result.steps == sum(len(t.intermediate) for t in gated.trials)


def test_value_transform_under_study(monkeypatch: pytest.MonkeyPatch) -> None:
    """mf_model.TRANSFORM (a dev-half ablation; default "rank"): ranks to normal quantiles,
    or with "zscore" the standardised values, their spacing kept."""
    import hypersearch.schedulers.mf_model as mf_model

    y = np.array([0.1, 0.2, 5.0, 0.15])
    ranks = CurveModel(EPOCHS, [1])._transform(y)
    assert list(ranks.argsort()) == [0, 3, 1, 2] and abs(ranks.mean()) < 1e-12
    assert ranks[2] < 1.5  # a diverged value is only the highest rank
    monkeypatch.setattr(mf_model, "TRANSFORM", "zscore")
    z = CurveModel(EPOCHS, [1])._transform(y)
    np.testing.assert_allclose(z, (y - y.mean()) / y.std())


def test_thompson_sampling_under_study(monkeypatch: pytest.MonkeyPatch) -> None:
    """mf_model.ACQUISITION = "ts" (a dev-half ablation; default "ei"): proposals are the
    lowest point of a joint posterior draw, and the search still finds the good region."""
    import hypersearch.schedulers.mf_model as mf_model

    model = CurveModel(EPOCHS, [1, 3, 9])
    rng = np.random.default_rng(0)
    xs = rng.random((12, 2))
    curves = [Curve(x, {e: error({"q": x[0], "z": x[1]}, e) for e in (1, 3, 9, 27)}) for x in xs]
    assert model.fit(curves, rng)

    def proposals(seeds: range) -> np.ndarray:
        return np.array([model.propose(xs, np.random.default_rng(s)) for s in seeds])

    by_ei = proposals(range(5))
    monkeypatch.setattr(mf_model, "ACQUISITION", "ts")
    by_ts = proposals(range(5))
    assert not np.allclose(by_ts, by_ei)  # the switch is what chooses
    assert by_ts[:, 0].mean() > 0.5  # draws favour high q (final error 1 - q)
    study, _ = simulate(True, seed=3, n=50)
    assert any(t.attrs.get("proposed_by") == "model" for t in study.trials)
    assert study.best_value < 0.1


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("rung_rank", ["model", "next"])
def test_model_ranked_rungs_under_study(
    monkeypatch: pytest.MonkeyPatch, direction: str, rung_rank: str
) -> None:
    """RUNG_RANK = "model" / "next" (dev-half ablations; default "at"): once a configuration
    is fully trained (or reached the next rung), rungs rank by the predicted full-training
    (next-rung) value, in the study's direction."""
    import hypersearch.schedulers.multifidelity as mf

    monkeypatch.setattr(mf, "RUNG_RANK", rung_rank)
    sign = 1.0 if direction == "minimize" else -1.0
    study = hs.create_study(space=SPACE, sampler="random", seed=4, direction=direction,
                            scheduler=MultiFidelity(max_resource=EPOCHS, seed=4))  # fmt: skip
    sim = SimulatedExecutor(
        lambda p: [sign * error(p, e) for e in range(1, EPOCHS + 1)],
        max_steps=EPOCHS,
        first_step=1,
        checkpoints=True,
    )
    sim.run(study, n_trials=50)
    scheduler = study.scheduler
    assert isinstance(scheduler, MultiFidelity)
    ctx = SchedulerContext(study.trials, study.space, (direction,))
    trials = ctx.trials
    curves = scheduler._curves(trials)
    ranked = scheduler._rung_results(trials, curves, None, 1, ctx)
    monkeypatch.setattr(mf, "RUNG_RANK", "value")
    observed = scheduler._rung_results(trials, curves, None, 1, ctx)
    assert [t.number for _, t in ranked] == [t.number for _, t in observed]
    assert [v for v, _ in ranked] != [v for v, _ in observed]  # predicted, not observed
    best_pred = min(ranked, key=lambda p: sign * p[0])[1]
    assert best_pred.params["q"] > 0.7  # the final error is 1 - q: high q is predicted best
    assert sign * study.best_value < 0.1


@pytest.mark.parametrize("rung_rank, first_goes_on", [("at", False), ("value", True)])
def test_a_rung_ranks_by_the_value_reported_there(
    monkeypatch: pytest.MonkeyPatch, rung_rank: str, first_goes_on: bool
) -> None:
    """RUNG_RANK = "at" (the default): a trial that looked best early (0.2 at step 1) but
    reports 0.6 at the rung (3) is ranked by 0.6 there, behind trials at 0.4 and 0.45; with
    "value" (ASHA's best so far, the rule before) its 0.2 would put it first."""
    import hypersearch.schedulers.multifidelity as mf

    monkeypatch.setattr(mf, "RUNG_RANK", rung_rank)
    scheduler = MultiFidelity(max_resource=EPOCHS, seed=0, screen_first=0)
    assert scheduler.rungs(EPOCHS)[:2] == [1, 3]
    curves = [{1: 0.2, 2: 0.5, 3: 0.6}, {1: 0.4, 2: 0.4, 3: 0.4}, {1: 0.45, 2: 0.45, 3: 0.45}]
    trials = [
        hs.TrialRecord(
            number=i,
            id=i + 1,
            state=hs.TrialState.RUNNING,
            params={"q": 0.5, "z": 0.1 * i},
            intermediate=c,
        )
        for i, c in enumerate(curves)
    ]
    ctx = SchedulerContext(trials, hs.Space(SPACE), ("minimize",))
    assert scheduler.should_stop(trials[0], ctx) is not first_goes_on
    assert scheduler.should_stop(trials[1], ctx) is first_goes_on


def test_sobol_initial_design_under_study(monkeypatch: pytest.MonkeyPatch) -> None:
    """INITIAL_DESIGN = "sobol" (a dev-half ablation; default "random"): the first parameters
    + 2 new configurations are the points of a seeded, scrambled Sobol sequence, in order."""
    import hypersearch.schedulers.multifidelity as mf
    from hypersearch.samplers import SobolSampler
    from hypersearch.samplers.base import SamplingContext

    monkeypatch.setattr(mf, "INITIAL_DESIGN", "sobol")
    study = hs.create_study(space=SPACE, sampler="random", seed=5,
                            scheduler=MultiFidelity(max_resource=EPOCHS, seed=5))  # fmt: skip
    sim = SimulatedExecutor(curve, max_steps=EPOCHS, first_step=1, checkpoints=True)
    sim.run(study, n_trials=12)
    new = [t for t in study.trials if "promoted_from" not in t.attrs]
    sobol = SobolSampler(seed=5)
    space = hs.Space(SPACE)
    for i, t in enumerate(new[:4]):  # 2 parameters + 2
        ctx = SamplingContext(space=space, trials=[], number=i, direction="minimize")
        assert t.params == sobol.sample(ctx) and t.attrs["proposed_by"] == "sobol"
    assert new[4].attrs["proposed_by"] in ("model", "random")


# what a curve tells the model, and repeats -----------------------------------------------------
@pytest.mark.parametrize("curve_value, at_full", [("best", 0.2), ("at", 0.3)])
def test_a_curve_enters_the_model_at_its_value_or_its_best_so_far(
    monkeypatch: pytest.MonkeyPatch, curve_value: str, at_full: float
) -> None:
    """A fidelity whose early values mislead (a tree on 5% of the data): with "at" the full-
    training point is the value reported there, not the better value seen at a lower rung."""
    import hypersearch.schedulers.mf_model as mm

    monkeypatch.setattr(mm, "CURVE_VALUE", curve_value)
    model = CurveModel(EPOCHS, [1, 3, 9])
    x, y = model.points([Curve(np.array([0.5, 0.5]), {1: 0.2, 3: 0.25, 9: 0.28, EPOCHS: 0.3})])
    full = x[:, -1] == 1.0
    assert y[full].tolist() == [at_full]
    assert sorted(y.tolist())[0] == 0.2  # the rung-1 point keeps its own value either way


def test_snapped_proposals_never_repeat_a_tried_configuration() -> None:
    """With ``snap`` candidates are scored at the configuration they decode to and a tried one
    is passed over: on a 6 x 6 integer grid whose best corner the model keeps pointing at,
    30 proposals in a row are 30 distinct configurations."""
    from hypersearch.schedulers.multifidelity import snapper
    from hypersearch.space import Space

    space = Space({"a": hs.Int(1, 6), "b": hs.Int(1, 6)})
    snap = snapper(space)
    rng = np.random.default_rng(0)

    def value(u: np.ndarray) -> float:  # best at the corner (6, 6)
        p = space.decode(u)
        return float((6 - p["a"]) + (6 - p["b"]))

    curves = [Curve(snap(rng.random((1, 2)))[0], {EPOCHS: 0.0}) for _ in range(4)]
    curves = [Curve(c.x, {EPOCHS: value(c.x)}) for c in curves]
    seen = {tuple(c.x) for c in curves}
    model = CurveModel(EPOCHS, [1, 3, 9])
    for _ in range(30):
        assert model.fit(curves, rng)
        x = model.propose(np.array([c.x for c in curves]), rng, snap=snap)
        key = tuple(x)
        assert key not in seen
        seen.add(key)
        curves.append(Curve(x, {EPOCHS: value(x)}))
    assert len(seen) == 34
