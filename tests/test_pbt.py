"""Population Based Training on a simulated model whose best learning rate changes over time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.checkpoints import CheckpointError
from hypersearch.execution.simulated import SimulatedExecutor
from hypersearch.schedulers import PBT, schedule_of

STEPS = 12
SPACE = {"lr": hs.Float(1e-4, 1.0, log=True)}


def best_log_lr(step: int) -> float:
    return -1.0 - 2.5 * step / STEPS  # 0.1 early, ~3e-4 late: no fixed lr is right throughout


def dynamics(state: Any, params: dict[str, Any], step: int) -> tuple[Any, float]:
    acc = 0.0 if state is None else float(state)
    gap = math.log10(params["lr"]) - best_log_lr(step)
    acc += 0.1 * math.exp(-(gap**2))
    return acc, acc


def pbt_study(tmp_path: Path, **kw: Any) -> hs.Study:
    kw.setdefault("perturb", (0.5, 2.0))
    pbt = PBT(population_size=4, interval=3, max_resource=STEPS, seed=1, **kw)
    study = hs.create_study(space=SPACE, direction="maximize", scheduler=pbt, sampler="random",
                            seed=1)  # fmt: skip
    study.artifact_dir = tmp_path
    return study


def test_pbt_exploits_explores_and_records_the_schedule(tmp_path: Path) -> None:
    study = pbt_study(tmp_path)
    sim = SimulatedExecutor(dynamics=dynamics, max_steps=STEPS, checkpoints=True)
    result = sim.run(study, n_trials=100)
    trials = study.trials
    assert len(trials) == 4 * STEPS // 3  # four lineages of four segments each
    finals = [t for t in trials if t.state is hs.TrialState.COMPLETE]
    assert len(finals) == 4 and all(t.last_step == STEPS - 1 for t in finals)
    paused = [t for t in trials if t.state is hs.TrialState.STOPPED]
    assert len(paused) == 12 and all(len(t.intermediate) == 3 for t in paused)
    assert any(t.attrs["pbt"].get("exploited") is not None for t in trials)
    best = study.best_trial
    schedule = schedule_of(best)
    assert best.attrs["schedule"] == schedule  # stored with the final trial
    assert schedule[0][0] == 0 and len(schedule) >= 2  # this run's best was exploited
    assert [s for s, _ in schedule] == sorted(s for s, _ in schedule)
    assert all(s % 3 == 0 for s, _ in schedule)
    assert result.steps == 4 * STEPS  # PBT costs what the population costs


def test_pbt_beats_random_search_at_equal_compute(tmp_path: Path) -> None:
    study = pbt_study(tmp_path)
    SimulatedExecutor(dynamics=dynamics, max_steps=STEPS, checkpoints=True).run(
        study, n_trials=100
    )
    rand = hs.create_study(space=SPACE, direction="maximize", sampler="random", seed=1)
    SimulatedExecutor(dynamics=dynamics, max_steps=STEPS).run(rand, n_trials=4)
    assert study.best_value > rand.best_value


def test_pbt_disk_use_stays_bounded(tmp_path: Path) -> None:
    study = pbt_study(tmp_path)
    peak = [0]

    def counting(state: Any, params: dict[str, Any], step: int) -> tuple[Any, float]:
        peak[0] = max(peak[0], sum(1 for _ in tmp_path.iterdir()))
        return dynamics(state, params, step)

    SimulatedExecutor(dynamics=counting, max_steps=STEPS, n_workers=2, checkpoints=True).run(
        study, n_trials=100
    )
    assert peak[0] <= 2 * 4 + 2  # two generations of the population, plus the running ones
    left = sorted(int(p.name) for p in tmp_path.iterdir())
    assert len(left) <= 4  # the lineages' final models (at most keep_checkpoints + needed)


def test_pbt_without_checkpoints_is_a_clear_error(tmp_path: Path) -> None:
    study = pbt_study(tmp_path)

    def objective(trial: hs.Trial) -> float:
        acc = 0.0
        for step in range(trial.start_step, STEPS):
            acc, _ = dynamics(acc, trial.params, step)
            trial.report(acc, step=step)
            if trial.should_stop():
                break
        return acc

    with pytest.raises(hs.TooManyFailuresError, match=r"never called trial\.save_checkpoint"):
        study.optimize(objective, n_trials=10, max_failures=3)
    failed = study.get_trials(["FAILED"])
    assert failed and all("CheckpointError" in (t.fail_reason or "") for t in failed)
    assert not study.get_trials(["RUNNING"])
    assert issubclass(CheckpointError, hs.HypersearchError)


def test_pbt_with_one_save_per_segment(tmp_path: Path) -> None:
    """The README's pattern saves once, after the segment's loop; the pause came first and
    failed every trial with "never called save_checkpoint"."""
    study = pbt_study(tmp_path)

    def objective(trial: hs.Trial) -> float:
        acc = trial.load_checkpoint() or 0.0
        for step in range(trial.start_step, STEPS):
            acc, _ = dynamics(acc, trial.params, step)
            trial.report(acc, step=step)
            if trial.should_stop():
                break
        trial.save_checkpoint(acc)
        return acc

    study.optimize(objective, n_trials=16, max_failures=2)
    states = [t.state for t in study.trials]
    assert states.count(hs.TrialState.COMPLETE) == 4 and hs.TrialState.FAILED not in states
    assert any(t.attrs["pbt"].get("exploited") is not None for t in study.trials)


def test_pbt_settings_are_checked() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="interval=20 must be below"):
        PBT(interval=20, max_resource=20)
    with pytest.raises(hs.InvalidArgumentError, match="population_size >= 2"):
        PBT(population_size=1)
    with pytest.raises(hs.InvalidArgumentError, match="quantile"):
        PBT(quantile=0.9)
