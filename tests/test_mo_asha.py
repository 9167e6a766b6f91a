"""Multi-objective ASHA: rungs ranked by non-dominated sorting (ties by crowding distance),
stopping and pause-and-promote modes, in real SQLite studies with two objectives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.schedulers import MultiObjectiveASHA, make_scheduler
from hypersearch.schedulers.mo_asha import pareto_order, rung_vector

EPOCHS = 27
SPACE = {"q": hs.Float(0.0, 1.0), "z": hs.Float(0.0, 1.0)}
DIRECTIONS = {"error": "minimize", "size": "minimize"}


def metrics(params: dict[str, Any], epoch: int) -> dict[str, float]:
    """Error falls with epochs towards ``|q - 0.3|``; size grows with q: a trade-off whose
    front is q in [0, 0.3], and q > 0.3 is dominated (bigger and worse)."""
    return {
        "error": abs(params["q"] - 0.3) + (0.5 + 0.3 * params["z"]) / epoch,
        "size": params["q"],
    }


class Objective:
    def __init__(self, checkpoints: bool) -> None:
        self.checkpoints = checkpoints
        self.epochs_trained = 0

    def __call__(self, trial: hs.Trial) -> dict[str, float]:
        state = trial.load_checkpoint() if self.checkpoints else None
        done = 0 if state is None else state["epochs"]
        if state is not None:  # a promotion continues where the paused trial stopped
            assert state["params"] == trial.params and trial.start_step == done + 1
        out: dict[str, float] = {}
        for epoch in range(done + 1, EPOCHS + 1):
            self.epochs_trained += 1
            out = metrics(trial.params, epoch)
            trial.report(out, step=epoch)
            if self.checkpoints:
                trial.save_checkpoint({"epochs": epoch, "params": trial.params})
            if trial.should_stop():
                break
        return out


def run(tmp_path: Path, name: str, scheduler: Any, checkpoints: bool, n: int = 40) -> Any:
    study = hs.create_study(name, space=SPACE, directions=DIRECTIONS, scheduler=scheduler,
                            sampler="random", seed=3,
                            storage=f"sqlite:///{tmp_path / 'mo_asha.db'}")  # fmt: skip
    objective = Objective(checkpoints)
    study.optimize(objective, n_trials=n)
    return study, objective


def test_pareto_order_fronts_then_crowding() -> None:
    values = [(0.0, 1.0), (1.0, 0.0), (0.5, 0.5), (0.45, 0.55), (0.9, 0.9)]
    order = pareto_order(values, ("minimize", "minimize"))
    assert order[:2] == [0, 1]  # extremes of the front: infinite crowding distance
    assert order[-1] == 4  # dominated
    # a maximised objective flips what dominates
    assert pareto_order([(1.0, 1.0), (2.0, 1.0)], ("maximize", "minimize")) == [1, 0]


def test_rung_vector_takes_each_objectives_best_up_to_the_rung() -> None:
    curve = {1: (0.9, 5.0), 2: (0.5, 6.0), 3: (0.7, 4.0), 5: (0.1, 1.0)}
    assert rung_vector(curve, 3, ("minimize", "maximize")) == (0.5, 6.0)
    assert rung_vector(curve, 9, ("minimize", "minimize")) is None  # never reached
    assert rung_vector({1: (float("nan"), 1.0)}, 1, ("minimize", "minimize")) is None


def test_stopping_keeps_the_front_and_stops_dominated_trials(tmp_path: Path) -> None:
    study, objective = run(tmp_path, "stop", MultiObjectiveASHA(max_resource=EPOCHS, pause=False),
                           checkpoints=False)  # fmt: skip
    stopped = study.get_trials(["STOPPED"])
    complete = study.get_trials(["COMPLETE"])
    assert len(stopped) >= 20 and complete  # most trials stop at a rung
    assert objective.epochs_trained < 0.5 * 40 * EPOCHS
    # trials that trained in full are mostly on the true front (q <= 0.3) or its extremes
    on_front = [t for t in complete if t.params["q"] <= 0.35]
    assert len(on_front) >= len(complete) / 2
    # the dominated region (q > 0.6: bigger and worse) is stopped at the first rung
    far = [t for t in study.trials[10:] if t.params["q"] > 0.6]
    assert far and all(t.state is hs.TrialState.STOPPED for t in far)
    assert all(t.intermediate_values for t in study.trials)


def test_promotions_resume_from_checkpoints(tmp_path: Path) -> None:
    with_ckpt, a = run(tmp_path, "ckpt", MultiObjectiveASHA(max_resource=EPOCHS, pause=True),
                       checkpoints=True)  # fmt: skip
    scratch, b = run(tmp_path, "scratch", MultiObjectiveASHA(max_resource=EPOCHS, pause=True),
                     checkpoints=False)  # fmt: skip
    assert not with_ckpt.get_trials(["FAILED"]) and not scratch.get_trials(["FAILED"])
    promoted = [t for t in with_ckpt.trials if t.attrs.get("promoted_from") is not None]
    assert len(promoted) >= 3
    assert [(t.number, t.attrs["promoted_from"]) for t in promoted] == [
        (t.number, t.attrs["promoted_from"])
        for t in scratch.trials
        if t.attrs.get("promoted_from") is not None
    ]  # the same decisions with or without checkpoints
    assert a.epochs_trained < b.epochs_trained  # ... without retraining the lower rungs
    sources = [t.attrs["promoted_from"] for t in promoted]
    assert len(sources) == len(set(sources))  # each paused trial is continued once
    for t in promoted:
        parent = with_ckpt.get_trial(t.attrs["promoted_from"])
        assert parent.state is hs.TrialState.STOPPED and parent.attrs["paused_at"] in (1, 3, 9)
        assert t.params == parent.params and t.attrs["resume_from"] == parent.number
        assert t.attrs["start_step"] == parent.last_step + 1 == min(t.intermediate_values)


def test_registry_config_and_flag() -> None:
    s = make_scheduler({"name": "mo_asha", "max_resource": 27, "reduction_factor": 4})
    assert isinstance(s, MultiObjectiveASHA) and s.supports_multi_objective
    assert make_scheduler(s.config()).config() == s.config()
    assert s.rungs(27) == [1, 4, 16]


def test_bad_options_name_the_scheduler() -> None:
    with pytest.raises(InvalidArgumentError, match="MultiObjectiveASHA: reduction_factor"):
        MultiObjectiveASHA(reduction_factor=1)
    with pytest.raises(InvalidArgumentError, match="MultiObjectiveASHA: max_resource"):
        MultiObjectiveASHA(min_resource=5, max_resource=3)


def test_works_on_a_single_objective_study(tmp_path: Path) -> None:
    def objective(trial: hs.Trial) -> float:
        for epoch in range(1, 10):
            trial.report(abs(trial.params["q"] - 0.3) + 1 / epoch, step=epoch)
            if trial.should_stop():
                break
        return abs(trial.params["q"] - 0.3)

    study = hs.create_study(space=SPACE, scheduler=MultiObjectiveASHA(max_resource=9),
                            sampler="random", seed=0)  # fmt: skip
    study.optimize(objective, n_trials=15)
    assert study.get_trials(["STOPPED"]) and study.get_trials(["COMPLETE"])
