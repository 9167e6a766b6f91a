"""Checkpoints: where they live, how storage references them, and when they are deleted."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch import checkpoints
from hypersearch.checkpoints import CheckpointError
from hypersearch.schedulers import Scheduler, TrialPlan


def objective(trial: hs.Trial) -> float:
    q = trial.params["q"]
    for step in range(3):
        trial.report(q, step=step)
        trial.save_checkpoint({"q": q, "step": step, "weights": [q] * 100})
    return q


def test_checkpoint_next_to_the_sqlite_file_and_referenced_from_storage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ck.db'}"
    study = hs.create_study("ck", space={"q": hs.Float(0, 1)}, storage=url, seed=0)
    trial = study.ask()
    assert trial.load_checkpoint() is None
    trial.save_checkpoint({"w": [1, 2, 3]})
    trial.save_checkpoint({"w": [4, 5, 6]})  # the latest save wins
    assert trial.load_checkpoint() == {"w": [4, 5, 6]}
    ref = study.get_trial(0).attrs["checkpoint"]
    assert ref["file"] == "0/checkpoint.pkl" and ref["bytes"] > 0
    path = tmp_path / "ck.db.artifacts" / "ck" / "0" / "checkpoint.pkl"
    assert path.is_file() and study.artifact_dir == path.parent.parent
    study.tell(trial, 0.5)
    loaded = hs.load_study("ck", storage=url)  # another process finds it through storage
    assert checkpoints.load(loaded, loaded.get_trial(0)) == {"w": [4, 5, 6]}


def test_artifact_folder_is_configurable(tmp_path: Path, monkeypatch: Any) -> None:
    study = hs.create_study(space={"q": hs.Float(0, 1)})
    study.artifact_dir = tmp_path / "mine"
    trial = study.ask()
    trial.save_checkpoint(1)
    assert (tmp_path / "mine" / "0" / "checkpoint.pkl").is_file()
    monkeypatch.setenv("HYPERSEARCH_ARTIFACTS", str(tmp_path / "env"))
    other = hs.create_study("named", space={"q": hs.Float(0, 1)}, storage=None)
    other.ask().save_checkpoint(2)
    assert (tmp_path / "env" / "named" / "0" / "checkpoint.pkl").is_file()


def test_an_in_memory_study_keeps_one_temporary_folder_and_hands_it_on(monkeypatch: Any) -> None:
    monkeypatch.delenv("HYPERSEARCH_ARTIFACTS", raising=False)
    study = hs.create_study("mem", space={"q": hs.Float(0, 1)}, seed=0)
    folder = study.artifact_dir
    assert folder == study.artifact_dir and folder.name == "mem"  # chosen once, then kept
    assert checkpoints.artifact_root(study) == folder
    assert hs.Study.from_spec(study.to_spec()).artifact_dir == folder  # a worker's copy
    study.artifact_dir = None  # back to the default: a new temporary folder
    assert study.artifact_dir != folder


def test_disk_use_stays_bounded(tmp_path: Path) -> None:
    study = hs.create_study(space={"q": hs.Float(0, 1)}, sampler="random", seed=1)
    study.artifact_dir = tmp_path
    study.keep_checkpoints = 2
    study.optimize(objective, n_trials=12)
    kept = sorted(int(p.name) for p in tmp_path.iterdir())
    assert kept == sorted(t.number for t in study.top(2))  # only the best two remain
    for t in study.trials:
        assert bool(t.attrs.get("checkpoint")) == (t.number in kept)


class ResumeFrom(Scheduler):
    """Every trial after the first continues from trial 0 (like a promotion)."""

    name = "resume-from"

    def should_stop(self, trial: Any, trials: Any, study: Any) -> bool:
        return False

    def plan(self, number: int, trials: Sequence[hs.TrialRecord], study: Any) -> TrialPlan:
        if number == 0:
            return TrialPlan()
        return TrialPlan(attrs={"resume_from": 0, "start_step": 3})


def test_a_checkpoint_a_running_trial_will_read_is_never_deleted(tmp_path: Path) -> None:
    study = hs.create_study(space={"q": hs.Float(0, 1)}, scheduler=ResumeFrom())
    study.artifact_dir = tmp_path
    study.keep_checkpoints = 0
    first = study.ask()
    first.save_checkpoint("weights of trial 0")
    second = study.ask()  # will continue from trial 0 but has not loaded it yet
    study.tell(first, 0.1, state="STOPPED")
    third = study.ask()
    third.save_checkpoint("x")
    study.tell(third, 0.3)  # a clean-up runs here; trial 0 is still needed by trial 1
    assert (tmp_path / "0" / "checkpoint.pkl").is_file()
    assert second.start_step == 3 and second.resume_from == 0
    assert second.load_checkpoint() == "weights of trial 0"
    second.report(0.2, step=3)
    study.tell(second, 0.2)
    assert not (tmp_path / "0").exists()  # nobody can need it now


def test_a_deleted_or_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    study = hs.create_study(space={"q": hs.Float(0, 1)})
    study.artifact_dir = tmp_path
    trial = study.ask()
    with pytest.raises(CheckpointError, match=r"never called trial\.save_checkpoint"):
        checkpoints.load(study, study.get_trial(0))
    trial.save_checkpoint([1])
    os.remove(tmp_path / "0" / "checkpoint.pkl")
    with pytest.raises(CheckpointError, match="is gone"):
        trial.load_checkpoint()
    assert issubclass(CheckpointError, RuntimeError)


# ------------------------------------------------------------------ folders per study (issue 16)


def saving(trial: hs.Trial) -> float:
    trial.save_checkpoint({"study": trial.study.name, "number": trial.number})
    return trial.params["q"]


def test_studies_whose_names_clean_alike_never_share_checkpoints(tmp_path: Path) -> None:
    """`exp/1`, `exp 1`, `exp_1` and `EXP_1` once all wrote to `<db>.artifacts/exp_1/`:
    one study read another's weights and deleted its files."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    names = ["exp/1", "exp 1", "exp_1", "EXP_1"]
    studies = [hs.create_study(n, space={"q": hs.Float(0, 1)}, storage=url, seed=0) for n in names]
    for study in studies:
        study.keep_checkpoints = 1
        study.optimize(saving, n_trials=1, show_progress=False)
    assert len({s.artifact_dir for s in studies}) == 4
    for study in studies:  # each reads its own, after the others' clean-ups ran
        assert study.artifact_dir.parent == tmp_path / "shared.db.artifacts"
        got = checkpoints.load(study, study.get_trial(0))
        assert got == {"study": study.name, "number": 0}
    studies[0].optimize(saving, n_trials=3, show_progress=False)  # its clean-ups delete...
    for study in studies[1:]:  # ...nothing of the others
        assert checkpoints.load(study, study.get_trial(0))["study"] == study.name
    assert studies[2].artifact_dir.name == "exp_1"  # a plain name keeps its plain folder


def test_checkpoints_in_the_old_shared_folder_are_still_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    study = hs.create_study("exp/1", space={"q": hs.Float(0, 1)}, storage=url, seed=0)
    trial = study.ask()
    old = tmp_path / "old.db.artifacts" / "exp_1" / "0"  # where 0.8 wrote it
    old.mkdir(parents=True)
    (old / "checkpoint.pkl").write_bytes(__import__("pickle").dumps("old weights"))
    study.set_attrs(0, {"checkpoint": {"file": "0/checkpoint.pkl", "step": 0, "bytes": 1}})
    trial._attrs["checkpoint"] = study.get_trial(0).attrs["checkpoint"]
    assert trial.load_checkpoint() == "old weights"


def test_a_study_name_longer_than_a_file_name_still_checkpoints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'long.db'}"
    name = "sweep-" + "x" * 300
    study = hs.create_study(name, space={"q": hs.Float(0, 1)}, storage=url, seed=0)
    study.optimize(saving, n_trials=2, show_progress=False)
    assert [t.state for t in study.trials] == [hs.TrialState.COMPLETE] * 2
    assert len(study.artifact_dir.name) < 100
    assert checkpoints.load(study, study.best_trial)["study"] == name


def test_a_corrupted_checkpoint_names_its_file_and_the_fix(tmp_path: Path) -> None:
    study = hs.create_study(space={"q": hs.Float(0, 1)})
    study.artifact_dir = tmp_path
    trial = study.ask()
    trial.save_checkpoint({"w": list(range(1000))})
    path = tmp_path / "0" / "checkpoint.pkl"
    path.write_bytes(path.read_bytes()[:100])  # cut short, as by a full disk
    with pytest.raises(CheckpointError, match=r"trial 0 \(.*0/checkpoint\.pkl\).*delete it"):
        trial.load_checkpoint()
    path.write_bytes(b"not a pickle at all")
    with pytest.raises(CheckpointError, match=r"checkpoint\.pkl.*cannot be read"):
        trial.load_checkpoint()
