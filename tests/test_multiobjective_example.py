"""examples/digits_multiobjective.py runs as a real process (real PyTorch training, small)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

import hypersearch as hs

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits_multiobjective.py"


def test_the_example_finds_a_feasible_front_and_resumes(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'mo.db'}"

    def run(trials: int) -> str:
        proc = subprocess.run(
            [
                *(sys.executable, str(EXAMPLE), "--trials", str(trials), "--epochs", "2"),
                *("--repeats", "3", "--memory-mb", "0.2", "--storage", storage),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "COLUMNS": "120"},
        )
        assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        return proc.stdout

    out = run(6)
    assert "Pareto front of digits-multiobjective" in out and "best digits-multiobjective" in out
    study = hs.load_study("digits-multiobjective", storage=storage)
    assert [o.name for o in study.objectives] == ["val_accuracy", "n_params", "latency_ms"]
    trials = study.trials
    assert len(trials) == 6 and all(t.state is hs.TrialState.COMPLETE for t in trials)
    for t in trials:
        accuracy, n_params, latency = t.values  # type: ignore[misc]
        assert 0.0 <= accuracy <= 1.0 and latency > 0.0
        units, layers = t.params["units"], t.params["layers"]
        assert (
            n_params
            == 64 * units + units + (layers - 1) * (units * units + units) + units * 10 + 10
        )
        assert t.feasible is (t.metrics["memory_mb"] <= 0.2)
        assert sorted(t.intermediate_values) == [0, 1]
    front = study.best_trials
    assert front and all(t.feasible for t in front)
    assert f"{len(front)} of 6 completed trials" in out
    out = run(2)  # the same study goes on
    assert "Resuming 'digits-multiobjective': 6 trials so far." in out
    assert len(hs.load_study("digits-multiobjective", storage=storage).trials) == 8
