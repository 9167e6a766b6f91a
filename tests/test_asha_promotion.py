"""ASHA with pause and promotion: a trial paused at a rung is continued from its checkpoint by
a later trial once it ranks among the best of its rung, in a real SQLite study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.execution.simulated import SimulatedExecutor
from hypersearch.schedulers import ASHA, BOHB, Hyperband

EPOCHS = 27
SPACE = {"q": hs.Float(0.0, 1.0), "z": hs.Float(0.0, 1.0)}


def error(params: dict[str, Any], epoch: int) -> float:
    """Falls towards 1 - q; the ranking changes a little early on (z matters at first)."""
    return (1.0 - params["q"]) + (0.5 + 0.3 * params["z"]) / epoch


class Objective:
    """Trains epoch by epoch; with ``checkpoints`` it saves its state after every epoch and
    continues from the checkpoint it is given."""

    def __init__(self, checkpoints: bool) -> None:
        self.checkpoints = checkpoints
        self.epochs_trained = 0

    def __call__(self, trial: hs.Trial) -> float:
        state = trial.load_checkpoint() if self.checkpoints else None
        done = 0 if state is None else state["epochs"]
        if state is not None:  # a promotion: continue exactly where the paused trial stopped
            assert state["params"] == trial.params
            assert trial.start_step == done + 1 and trial.resume_from is not None
        value = float("nan")
        for epoch in range(done + 1, EPOCHS + 1):
            self.epochs_trained += 1
            value = error(trial.params, epoch)
            trial.report(value, step=epoch)
            if self.checkpoints:
                trial.save_checkpoint({"epochs": epoch, "params": trial.params})
            if trial.should_stop():
                break
        return value


def run(tmp_path: Path, name: str, scheduler: Any, checkpoints: bool, n: int = 40) -> Any:
    study = hs.create_study(name, space=SPACE, scheduler=scheduler, sampler="random", seed=3,
                            storage=f"sqlite:///{tmp_path / 'asha.db'}")  # fmt: skip
    objective = Objective(checkpoints)
    study.optimize(objective, n_trials=n)
    return study, objective


def promotions(study: hs.Study) -> list[tuple[int, int, dict[str, Any]]]:
    return [
        (t.number, t.attrs["promoted_from"], t.params)
        for t in study.trials
        if t.attrs.get("promoted_from") is not None
    ]


def test_promotions_resume_from_checkpoints_and_train_fewer_epochs(tmp_path: Path) -> None:
    with_ckpt, a = run(tmp_path, "ckpt", ASHA(min_resource=1, max_resource=EPOCHS, pause=True),
                       checkpoints=True)  # fmt: skip
    scratch, b = run(tmp_path, "scratch", ASHA(min_resource=1, max_resource=EPOCHS, pause=True),
                     checkpoints=False)  # fmt: skip
    assert not with_ckpt.get_trials(["FAILED"]) and not scratch.get_trials(["FAILED"])
    # the same decisions either way: the same configurations promoted from the same trials
    assert promotions(with_ckpt) == promotions(scratch)
    assert len(promotions(with_ckpt)) >= 5
    assert a.epochs_trained < b.epochs_trained  # ...without retraining the lower rungs
    for number, source, _ in promotions(with_ckpt):
        t, parent = with_ckpt.get_trial(number), with_ckpt.get_trial(source)
        assert parent.state is hs.TrialState.STOPPED and parent.attrs["paused_at"] in (1, 3, 9)
        assert t.params == parent.params and t.attrs["resume_from"] == source
        assert t.attrs["start_step"] == parent.last_step + 1 == min(t.intermediate)
    for number, _, _ in promotions(scratch):  # nothing to resume from: retrained
        t = scratch.get_trial(number)
        assert t.attrs["start_step"] == 0 and "resume_from" not in t.attrs
        assert min(t.intermediate) == 1
    best = with_ckpt.best_trial
    assert best.last_step == EPOCHS and best.value == pytest.approx(scratch.best_value)


def test_a_paused_trial_is_promoted_only_among_the_top_of_its_rung(tmp_path: Path) -> None:
    study, _ = run(tmp_path, "rank", ASHA(min_resource=1, max_resource=EPOCHS), checkpoints=True)
    trials = study.trials
    assert any("paused_at" in t.attrs for t in trials)  # pause=None pauses with checkpoints
    for number, source, _ in promotions(study):
        rung = study.get_trial(number).attrs["promoted_at"]
        before = [t for t in trials if t.number < number]
        at_rung = sorted(
            (min(v for s, v in t.intermediate.items() if s <= rung), t.number)
            for t in before
            if t.intermediate and min(t.intermediate) <= rung <= max(t.intermediate)
        )
        k = len(at_rung) // 3
        if rung == 9:  # the last rung lets at least its best trial go on to the end
            k = max(1, k)
        assert source in [n for _, n in at_rung[:k]]


def test_needed_checkpoints_are_kept_and_the_rest_deleted(tmp_path: Path) -> None:
    scheduler = ASHA(min_resource=1, max_resource=EPOCHS)
    study, _ = run(tmp_path, "disk", scheduler, checkpoints=True)
    trials = study.trials
    waiting = {
        t.number
        for t in trials
        if "paused_at" in t.attrs
        and t.state is hs.TrialState.STOPPED
        and not any(u.attrs.get("promoted_from") == t.number for u in trials)
    }
    assert scheduler.needed_checkpoints(trials) == waiting
    completed = sorted(
        (t for t in trials if t.state is hs.TrialState.COMPLETE), key=lambda t: t.value or 0
    )
    best = {t.number for t in completed[: study.keep_checkpoints]}
    on_disk = {int(p.name) for p in study.artifact_dir.iterdir() if p.is_dir()}
    assert on_disk == waiting | best
    assert {t.number for t in trials if t.attrs.get("checkpoint")} == on_disk
    # a promoted trial's checkpoint is gone once its continuation finished
    assert not on_disk & {source for _, source, _ in promotions(study)}


def test_stopping_form_without_checkpoints_is_unchanged(tmp_path: Path) -> None:
    study, objective = run(tmp_path, "stop", ASHA(min_resource=1, max_resource=EPOCHS),
                           checkpoints=False)  # fmt: skip
    assert not promotions(study)
    assert not any("paused_at" in t.attrs for t in study.trials)
    assert objective.epochs_trained == sum(len(t.intermediate) for t in study.trials)


@pytest.mark.parametrize("cls", [Hyperband, BOHB])
def test_hyperband_and_bohb_promote_within_brackets(cls: Any) -> None:
    study = hs.create_study(space=SPACE, scheduler=cls(min_resource=1, max_resource=EPOCHS),
                            sampler="random", seed=0)  # fmt: skip
    sim = SimulatedExecutor(lambda p: [error(p, e) for e in range(1, EPOCHS + 1)],
                            max_steps=EPOCHS, first_step=1, checkpoints=True)  # fmt: skip
    result = sim.run(study, n_trials=80)
    trials = study.trials
    promoted = [t for t in trials if t.attrs.get("promoted_from") is not None]
    assert promoted
    for t in promoted:
        parent = study.get_trial(t.attrs["promoted_from"])
        assert t.attrs["bracket"] == parent.attrs["bracket"] and t.params == parent.params
        assert min(t.intermediate) == parent.last_step + 1  # continued, not retrained
    # one lineage per configuration: epochs consumed equal the epochs reported
    assert result.steps == sum(len(t.intermediate) for t in trials)
    if cls is Hyperband:  # random proposals never repeat (BOHB's may, at a bound)
        assert len({tuple(t.params.values()) for t in trials}) == len(trials) - len(promoted)


def test_parallel_workers_never_promote_the_same_paused_trial_twice(tmp_path: Path) -> None:
    """Four worker processes ask at the same moments; each promotion is claimed in the
    database, so a paused trial is continued by exactly one later trial."""
    import sys
    from collections import Counter

    sys.path.insert(0, str(Path(__file__).parent))
    import parallel_objectives

    study = hs.create_study(
        "parallel-asha",
        space=SPACE,
        scheduler=ASHA(min_resource=1, max_resource=EPOCHS, pause=True),
        sampler="random",
        seed=1,
        storage=f"sqlite:///{tmp_path / 'asha.db'}",
    )
    study.optimize(parallel_objectives.checkpointed_curve, n_trials=120, n_workers=4)

    trials = study.trials
    assert not [t for t in trials if t.state is hs.TrialState.FAILED]
    promoted = Counter(t.attrs["promoted_from"] for t in trials if "promoted_from" in t.attrs)
    assert len(promoted) >= 4
    assert max(promoted.values()) == 1, promoted
    for t in trials:
        if "promoted_from" in t.attrs:
            assert t.claim_key == f"promote:{t.attrs['promoted_from']}"
