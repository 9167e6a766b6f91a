"""Stopping rules: patience, threshold, time cap, divergence, AnyOf; the extended interface."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.schedulers import (
    AnyOf,
    Decision,
    Divergence,
    MedianStopping,
    Patience,
    Scheduler,
    Threshold,
    TimeCap,
    make_scheduler,
)


def record(curve: Mapping[int, float] | Sequence[float], **kw: Any) -> hs.TrialRecord:
    if not isinstance(curve, Mapping):
        curve = dict(enumerate(curve))
    return hs.TrialRecord(id=1, number=1, state=hs.TrialState.RUNNING, params={},
                          intermediate=dict(curve), **kw)  # fmt: skip


@pytest.fixture(scope="module")
def mini() -> hs.Study:
    return hs.create_study(direction="minimize")


@pytest.fixture(scope="module")
def maxi() -> hs.Study:
    return hs.create_study(direction="maximize")


def test_patience(mini: hs.Study, maxi: hs.Study) -> None:
    rule = Patience(patience=2)
    assert not rule.should_stop(record([1.0, 0.9]), [], mini)
    assert not rule.should_stop(record([1.0, 0.9, 0.95]), [], mini)
    assert rule.should_stop(record([1.0, 0.9, 0.95, 0.91]), [], mini)
    assert not rule.should_stop(record([1.0, 0.9, 0.95, 0.89]), [], mini)
    assert rule.should_stop(record([0.5, 0.6, 0.4, 0.45]), [], maxi)


def test_patience_min_delta_and_nan(mini: hs.Study) -> None:
    rule = Patience(patience=1, min_delta=0.05)
    assert rule.should_stop(record([1.0, 0.97]), [], mini)  # improved, but by < min_delta
    assert not rule.should_stop(record([1.0, 0.9]), [], mini)
    assert not Patience(patience=1).should_stop(record([1.0, math.nan]), [], mini)


def test_threshold(mini: hs.Study, maxi: hs.Study) -> None:
    goal = Threshold(goal=0.99)
    assert goal.should_stop(record([0.5, 0.995]), [], maxi)
    assert not goal.should_stop(record([0.5, 0.98]), [], maxi)
    bound = Threshold(bounds={3: 0.5})
    assert not bound.should_stop(record([0.1, 0.1, 0.1]), [], maxi)  # before step 3
    assert bound.should_stop(record([0.1] * 4), [], maxi)
    assert not bound.should_stop(record([0.1, 0.1, 0.1, 0.6]), [], maxi)
    assert Threshold(bounds={0: 2.0}).should_stop(record([3.0]), [], mini)


def test_time_cap_with_an_injected_clock(mini: hs.Study) -> None:
    now = [0.0]
    rule = TimeCap(max_seconds=10, clock=lambda: now[0])
    rule.plan(1, [], mini)
    now[0] = 5.0
    assert not rule.should_stop(record([1.0]), [], mini)
    now[0] = 10.5
    assert rule.should_stop(record([1.0, 1.0]), [], mini)


def test_divergence(mini: hs.Study, maxi: hs.Study) -> None:
    rule = Divergence(max_ratio=10)
    assert rule.should_stop(record([1.0, math.nan]), [], mini)
    assert rule.should_stop(record([1.0, math.inf]), [], mini)
    assert rule.should_stop(record([1.0, 0.5, 6.0]), [], mini)
    assert not rule.should_stop(record([1.0, 0.5, 4.0]), [], mini)
    assert not rule.should_stop(record([0.1, 0.9]), [], maxi)
    assert Divergence(bound=0.05).should_stop(record([0.01]), [], maxi)


def test_rules_combine(mini: hs.Study) -> None:
    rule = AnyOf(Patience(patience=1), Threshold(goal=0.0))
    assert rule.decide(record([1.0, 2.0]), [], mini) is Decision.STOP
    assert rule.decide(record([1.0, 0.5]), [], mini) is Decision.CONTINUE
    again = make_scheduler(rule.config())
    assert isinstance(again, AnyOf) and again.config() == rule.config()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Patience(patience=0),
        lambda: Patience(min_delta=-1),
        lambda: Threshold(bounds={-1: 0.5}),
        lambda: TimeCap(max_seconds=0),
        lambda: Divergence(max_ratio=0.5),
        lambda: AnyOf("median"),  # type: ignore[arg-type]
    ],
)
def test_bad_rule_settings(make: Any) -> None:
    with pytest.raises(hs.InvalidArgumentError):
        make()


def test_a_rule_in_a_study_keeps_the_curve() -> None:
    study = hs.create_study(space={"x": hs.Float(0, 1)}, scheduler=Patience(patience=2))

    def objective(trial: hs.Trial) -> float:
        v = 0.0
        for step, v in enumerate([1.0, 0.5, 0.6, 0.7, 0.8, 0.9]):
            trial.report(v, step=step)
            if trial.should_stop():
                break
        return v

    study.optimize(objective, n_trials=1)
    t = study.get_trial(0)
    assert t.state is hs.TrialState.STOPPED
    assert sorted(t.intermediate) == [0, 1, 2, 3]


def test_the_simple_interface_still_works() -> None:
    class EveryOther(Scheduler):
        name = "every-other"

        def should_stop(self, trial: Any, trials: Any, study: Any) -> bool:
            return trial.last_step == 2

    study = hs.create_study(space={"x": hs.Float(0, 1)}, scheduler=EveryOther())

    def objective(trial: hs.Trial) -> float:
        for step in range(5):
            trial.report(1.0, step=step)
            if trial.should_stop():
                assert trial.decision == "stop"
                break
        return 1.0

    study.optimize(objective, n_trials=1)
    assert study.get_trial(0).state is hs.TrialState.STOPPED
    assert MedianStopping().decide(record([1.0]), [], study) is Decision.CONTINUE


def test_decreasing_or_repeated_steps_warn_and_keep_the_study_consistent() -> None:
    study = hs.create_study(space={"x": hs.Float(0, 1)})
    trial = study.ask()
    trial.report(0.5, step=3)
    with pytest.warns(hs.trial.StepOrderWarning, match=r"report\(step=3\) after step 3"):
        trial.report(0.4, step=3)
    with pytest.warns(hs.trial.StepOrderWarning, match=r"report\(step=1\) after step 3"):
        trial.report(0.4, step=1)
    study.tell(trial, 0.4)
    assert dict(study.get_trial(0).intermediate) == {1: 0.4, 3: 0.4}


def test_report_after_the_trial_ended_is_refused() -> None:
    study = hs.create_study(space={"x": hs.Float(0, 1)})
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(hs.StaleTrialError):
        trial.report(0.5, step=1)
    assert study.get_trial(0).state is hs.TrialState.COMPLETE
