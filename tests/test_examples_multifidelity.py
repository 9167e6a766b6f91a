"""End to end, in a small size: examples/digits_hyperband.py (Hyperband with pause and promotion
from checkpoints) and examples/pbt_schedule.py (PBT) run as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

import hypersearch as hs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, *args: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("scheduler", ["hyperband", "multifidelity"])
def test_digits_hyperband_example(tmp_path: Path, scheduler: str) -> None:
    storage = f"sqlite:///{tmp_path / 'hb.db'}"
    out = _run("digits_hyperband.py", "--trials", "8", "--epochs", "6", "--storage", storage,
               "--scheduler", scheduler, cwd=tmp_path)  # fmt: skip
    assert "best val accuracy" in out and "promotions from a checkpoint" in out
    assert "epochs trained of" in out  # the summary says which epochs stopping saved
    study = hs.load_study(f"digits-{scheduler}", storage=storage)
    trials = study.trials
    assert len(trials) == 8 and not study.get_trials(["FAILED"])
    assert study.best_trial.last_step == 6 and study.best_value > 0.5
    assert any(t.state is hs.TrialState.STOPPED for t in trials)
    for t in trials:  # a promotion continues its paused trial's curve
        source = t.attrs.get("promoted_from")
        if source is not None:
            assert min(t.intermediate) == study.get_trial(source).last_step + 1


def test_digits_example_without_checkpoints_retrains_promotions(tmp_path: Path) -> None:
    """MultiFidelity on an objective that saves no checkpoint: paused trials are promoted by
    retraining from epoch 1, and the summary says so."""
    storage = f"sqlite:///{tmp_path / 'mf.db'}"
    out = _run("digits_hyperband.py", "--trials", "20", "--epochs", "6", "--storage", storage,
               "--no-checkpoints", cwd=tmp_path)  # fmt: skip
    assert "0 promotions from a checkpoint" in out and "epochs trained of" in out
    study = hs.load_study("digits-multifidelity", storage=storage)
    assert not study.get_trials(["FAILED"]) and study.best_trial.last_step == 6
    promoted = [t for t in study.trials if t.attrs.get("promoted_from") is not None]
    assert promoted and all(min(t.intermediate) == 1 for t in promoted)
    assert f"{len(promoted)} retrained" in out


def test_digits_example_with_a_screening_rung(tmp_path: Path) -> None:
    """--screening: every configuration trains 1 of 12 epochs; after 12 were screened, the
    best of them goes on to full training from its checkpoint, and only that one."""
    storage = f"sqlite:///{tmp_path / 'screen.db'}"
    out = _run("digits_hyperband.py", "--trials", "16", "--epochs", "12", "--storage", storage,
               "--screening", cwd=tmp_path)  # fmt: skip
    assert "epochs trained of" in out
    study = hs.load_study("digits-multifidelity-screening", storage=storage)
    trials = study.trials
    assert len(trials) == 16 and not study.get_trials(["FAILED"])
    full = [t for t in trials if t.last_step == 12]
    screened = [t for t in trials if t.attrs.get("promoted_from") is None]
    assert len(full) == len(screened) // 12 == 1
    assert all(t.last_step == 1 for t in screened if t not in full)
    promoted = full[0]
    if promoted.attrs.get("promoted_from") is not None:  # the best of the first 12, continued
        first = [t for t in screened if t.number < promoted.number][:12]
        best = max(first, key=lambda t: t.intermediate[1])
        assert promoted.attrs["promoted_from"] == best.number
        assert min(promoted.intermediate) == 2


def test_pbt_schedule_example(tmp_path: Path) -> None:
    out = _run("pbt_schedule.py", "--population", "4", "--epochs", "6", "--compare",
               cwd=tmp_path)  # fmt: skip
    assert "PBT best val accuracy" in out and "0 failed segments" in out
    assert "from epoch  0:" in out and "random best val accuracy" in out
