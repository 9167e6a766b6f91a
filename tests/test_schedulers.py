"""Schedulers: the median stopping rule on hand-made curves, the registry, and a real study."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.schedulers import MedianStopping, Scheduler, make_scheduler, scheduler_names


def record(
    trial_id: int,
    curve: Mapping[int, float] | Sequence[float],
    state: hs.TrialState = hs.TrialState.COMPLETE,
) -> hs.TrialRecord:
    if not isinstance(curve, Mapping):
        curve = dict(enumerate(curve))
    return hs.TrialRecord(
        id=trial_id, number=trial_id, state=state, params={}, intermediate=dict(curve)
    )


@pytest.fixture(scope="module")
def minimize() -> hs.Study:
    return hs.create_study(direction="minimize")


@pytest.fixture(scope="module")
def maximize() -> hs.Study:
    return hs.create_study(direction="maximize")


def others(curves: list[Sequence[float]]) -> list[hs.TrialRecord]:
    return [record(i + 100, c) for i, c in enumerate(curves)]


# the rule -------------------------------------------------------------------------------
def test_stops_a_trial_worse_than_the_median_when_minimizing(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=3)
    history = others([[1.0, 0.5], [1.0, 0.4], [1.0, 0.6]])
    assert rule.should_stop(record(1, [1.0, 0.9]), history, minimize) is True
    assert rule.should_stop(record(1, [1.0, 0.45]), history, minimize) is False
    assert rule.should_stop(record(1, [1.0, 0.5]), history, minimize) is False  # equal: goes on


def test_stops_a_trial_worse_than_the_median_when_maximizing(maximize: hs.Study) -> None:
    rule = MedianStopping(min_trials=3)
    history = others([[0.1, 0.8], [0.1, 0.7], [0.1, 0.9]])
    assert rule.should_stop(record(1, [0.1, 0.2]), history, maximize) is True
    assert rule.should_stop(record(1, [0.1, 0.85]), history, maximize) is False


def test_uses_best_so_far_not_the_last_value(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=3)
    history = others([[0.5, 0.5, 0.5]] * 3)
    # A noisy trial whose best so far (0.2) beats the median goes on despite a bad last value.
    assert rule.should_stop(record(1, [0.9, 0.2, 0.95]), history, minimize) is False
    # Others' best so far counts too: an early low value makes their median at step 2 low.
    history = others([[0.1, 0.9, 0.9]] * 3)
    assert rule.should_stop(record(1, [0.3, 0.3, 0.3]), history, minimize) is True


def test_warmup_steps(minimize: hs.Study) -> None:
    rule = MedianStopping(warmup_steps=3, min_trials=2)
    history = others([[0.1] * 5, [0.1] * 5])
    bad = [9.0] * 5
    for step in range(5):
        expected = step >= 3
        assert rule.should_stop(record(1, bad[: step + 1]), history, minimize) is expected


def test_min_trials(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=3)
    bad = record(1, [9.0, 9.0])
    assert rule.should_stop(bad, others([[0.1, 0.1]] * 2), minimize) is False
    assert rule.should_stop(bad, others([[0.1, 0.1]] * 3), minimize) is True


def test_only_trials_that_reached_the_step_count(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=2)
    short = others([[0.1], [0.1], [0.1]])  # they never reached step 1
    assert rule.should_stop(record(1, [9.0, 9.0]), short, minimize) is False
    mixed = short + others([[0.1, 0.1], [0.1, 0.1]])
    mixed = [record(200 + i, dict(r.intermediate)) for i, r in enumerate(mixed)]
    assert rule.should_stop(record(1, [9.0, 9.0]), mixed, minimize) is True


def test_the_trial_itself_and_waiting_trials_do_not_count(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=2)
    me = record(1, [5.0, 5.0])
    waiting = record(2, [0.1, 0.1], state=hs.TrialState.WAITING)
    assert rule.should_stop(me, [me, waiting, record(3, [0.1, 0.1])], minimize) is False
    assert (
        rule.should_stop(me, [me, record(3, [0.1, 0.1]), record(4, [0.1, 0.1])], minimize) is True
    )


def test_running_stopped_and_failed_trials_count(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=3)
    history = [
        record(10, [0.1, 0.1], state=hs.TrialState.RUNNING),
        record(11, [0.1, 0.1], state=hs.TrialState.STOPPED),
        record(12, [0.1, 0.1], state=hs.TrialState.FAILED),
    ]
    assert rule.should_stop(record(1, [1.0, 1.0]), history, minimize) is True


def test_nan_reports_are_ignored(minimize: hs.Study) -> None:
    rule = MedianStopping(min_trials=3)
    # Others' NaNs do not count as values; a trial with only NaNs does not count at all.
    history = others([[math.nan, 0.2], [0.3, math.nan], [math.nan, math.nan], [0.25, 0.25]])
    assert rule.should_stop(record(1, [0.9, 0.9]), history, minimize) is True
    assert rule.should_stop(record(1, [0.9, 0.24]), history, minimize) is False
    # The trial's own NaN reports are ignored; all NaN means no evidence to stop it.
    assert rule.should_stop(record(1, [math.nan, math.nan]), history, minimize) is False
    assert rule.should_stop(record(1, [0.1, math.nan]), history, minimize) is False
    # Too few trials with a finite value at the step: no decision.
    assert rule.should_stop(record(1, [9.0]), others([[math.nan]] * 5), minimize) is False


def test_infinite_reports_rank_as_values(minimize: hs.Study, maximize: hs.Study) -> None:
    rule = MedianStopping(min_trials=2)
    assert rule.should_stop(record(1, [math.inf]), others([[1.0], [2.0]]), minimize) is True
    assert rule.should_stop(record(1, [-math.inf]), others([[1.0], [2.0]]), maximize) is True


def test_a_trial_without_reports_is_never_stopped(minimize: hs.Study) -> None:
    assert (
        MedianStopping(min_trials=1).should_stop(record(1, {}), others([[0.1]]), minimize) is False
    )


@pytest.mark.parametrize("kwargs", [{"warmup_steps": -1}, {"min_trials": 0}, {"min_trials": -3}])
def test_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(hs.InvalidArgumentError, match="warmup_steps >= 0 and min_trials >= 1"):
        MedianStopping(**kwargs)


def test_settings_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        MedianStopping(3, 5)  # type: ignore[misc]


# make_scheduler ---------------------------------------------------------------------------
def test_scheduler_names() -> None:
    assert "median" in scheduler_names()
    assert scheduler_names() == sorted(scheduler_names())


def test_make_scheduler_by_name() -> None:
    rule = make_scheduler("median")
    assert isinstance(rule, MedianStopping)
    assert (rule.warmup_steps, rule.min_trials) == (0, 5)


def test_make_scheduler_passes_none_and_objects_through() -> None:
    rule = MedianStopping(warmup_steps=1)
    assert make_scheduler(rule) is rule
    assert make_scheduler(None) is None


@pytest.mark.parametrize("name", scheduler_names())
def test_config_round_trips(name: str) -> None:
    # MultiFidelity needs max_resource (it derives the rest from it)
    default = make_scheduler(
        {"name": name, "max_resource": 27} if name == "multifidelity" else name
    )
    assert default is not None
    again = make_scheduler(default.config())
    assert type(again) is type(default)
    assert again.config() == default.config()
    assert default.config()["name"] == name


def test_median_config_round_trips_its_settings() -> None:
    rule = MedianStopping(warmup_steps=4, min_trials=2)
    assert rule.config() == {"name": "median", "warmup_steps": 4, "min_trials": 2}
    again = make_scheduler(rule.config())
    assert isinstance(again, MedianStopping)
    assert (again.warmup_steps, again.min_trials) == (4, 2)


@pytest.mark.parametrize("spec", ["bogus", "Median", {"name": "bogus"}, {"warmup_steps": 1}, 3])
def test_unknown_scheduler(spec: Any) -> None:
    with pytest.raises(hs.InvalidArgumentError, match="Unknown scheduler") as info:
        make_scheduler(spec)
    assert "'median'" in str(info.value)


def test_unknown_scheduler_option_is_an_invalid_argument() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="bogus"):
        make_scheduler({"name": "median", "bogus": 1})


def test_scheduler_base_config() -> None:
    class Never(Scheduler):
        name = "never"

        def should_stop(self, trial: Any, trials: Any, study: Any) -> bool:
            return False

    assert Never().config() == {"name": "never"}
    study = hs.create_study(space={"x": hs.Float(0, 1)}, scheduler=Never())
    study.optimize(lambda t: (t.report(1.0), t.should_stop())[1], n_trials=1, max_failures=None)
    assert study.get_trial(0).state is hs.TrialState.FAILED  # returned a bool: not a number


# in a study ---------------------------------------------------------------------------------
QUALITIES = [0.9, 0.8, 0.85, 0.1, 0.95, 0.05, 0.92]


def curve_objective(trial: hs.Trial) -> float:
    """A deterministic learning curve that rises to the trial's quality ``q`` in 5 epochs."""
    q = trial.params["q"]
    value = 0.0
    for epoch in range(5):
        value = q * (epoch + 1) / 5
        trial.report(value, step=epoch)
        if trial.should_stop():
            break
    return value


@pytest.mark.parametrize("scheduler", ["object", "name"])
def test_median_stopping_stops_bad_trials_in_optimize(tmp_path: Any, scheduler: str) -> None:
    rule: Any = MedianStopping(warmup_steps=1, min_trials=3)
    if scheduler == "name":
        rule = {"name": "median", "warmup_steps": 1, "min_trials": 3}
    study = hs.create_study(
        "median",
        space={"q": hs.Float(0.0, 1.0)},
        direction="maximize",
        scheduler=rule,
        storage=f"sqlite:///{tmp_path / 'median.db'}",
        seed=0,
    )
    for q in QUALITIES:
        study.enqueue({"q": q})
    study.optimize(curve_objective, n_trials=len(QUALITIES))
    states = {t.params["q"]: t.state for t in study.trials}
    stopped = sorted(q for q, s in states.items() if s is hs.TrialState.STOPPED)
    assert stopped == [0.05, 0.1]
    for t in study.trials:
        if t.state is hs.TrialState.STOPPED:
            # stopped at step 1, the first step after warm-up, with its curve kept
            assert sorted(t.intermediate) == [0, 1]
            assert t.value == pytest.approx(t.params["q"] * 2 / 5)
        else:
            assert t.state is hs.TrialState.COMPLETE
            assert sorted(t.intermediate) == [0, 1, 2, 3, 4]
            assert t.value == pytest.approx(t.params["q"])
    assert study.best_params == {"q": 0.95}
    loaded = hs.load_study("median", storage=f"sqlite:///{tmp_path / 'median.db'}")
    assert isinstance(loaded.scheduler, MedianStopping)
    assert loaded.scheduler.config() == {"name": "median", "warmup_steps": 1, "min_trials": 3}


def test_stopped_trial_raising_trial_pruned_keeps_its_last_report() -> None:
    study = hs.create_study(
        space={"q": hs.Float(0.0, 1.0)},
        direction="maximize",
        scheduler=MedianStopping(min_trials=2),
    )

    def objective(trial: hs.Trial) -> float:
        q = trial.params["q"]
        for epoch in range(3):
            trial.report(q * (epoch + 1), step=epoch)
            if trial.should_stop():
                raise hs.TrialPruned()
        return 3 * q

    for q in (0.9, 0.8, 0.1):
        study.enqueue({"q": q})
    study.optimize(objective, n_trials=3)
    last = study.get_trial(2)
    assert last.state is hs.TrialState.STOPPED
    assert dict(last.intermediate) == {0: pytest.approx(0.1)}
    assert last.value == pytest.approx(0.1)


def test_nan_reports_never_stop_a_trial_in_a_study() -> None:
    study = hs.create_study(
        space={"q": hs.Float(0.0, 1.0)}, scheduler=MedianStopping(min_trials=1)
    )
    study.optimize(lambda t: (t.report(0.1), 0.1)[1], n_trials=2)

    def nan_curve(trial: hs.Trial) -> float:
        trial.report(math.nan)
        assert not trial.should_stop()
        return 0.5

    study.optimize(nan_curve, n_trials=1)
    assert study.get_trial(2).state is hs.TrialState.COMPLETE
