"""The examples of the three front doors run (small budgets here; full runs are slow tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hypersearch.cli import main as cli_main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_experiment_examples_validate() -> None:
    assert cli_main(["run", str(EXAMPLES / "experiment" / "experiment.yaml"), "--check"]) == 0
    assert cli_main(["run", str(EXAMPLES / "experiment" / "digits_main.yaml"), "--check"]) == 0


@pytest.mark.slow  # eight trainings of up to 4 epochs in subprocesses (~1 min)
def test_the_unmodified_script_example_in_full(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'main.db'}"
    path = str(EXAMPLES / "experiment" / "digits_main.yaml")
    assert cli_main(["run", path, "--storage", db]) == 0
    import hypersearch as hs

    study = hs.load_study("digits-main", storage=db)
    assert study.best_value > 0.9
    for t in study.trials:  # ASHA rungs at 1, 2 and 4 epochs completed
        assert max(t.intermediate) in (1, 2, 4)


@pytest.mark.slow  # two real training runs in subprocesses (~10 s, far more on a busy machine)
def test_the_experiment_example_runs_two_trials(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    path = str(EXAMPLES / "experiment" / "experiment.yaml")
    assert cli_main(["run", path, "--storage", db, "--n-trials", "2"]) == 0
    import hypersearch as hs

    trials = hs.load_study("digits-script", storage=db).trials
    assert len(trials) == 2 and all(t.state is hs.TrialState.COMPLETE for t in trials)
    assert sorted(trials[0].intermediate) == list(range(6))


def test_the_sklearn_example_runs_a_small_search() -> None:
    pytest.importorskip("sklearn")
    search = load("sklearn_search").main(n_trials=3)
    assert search.best_score_ > 0.5


@pytest.mark.slow
def test_the_sklearn_example_in_full() -> None:
    pytest.importorskip("sklearn")
    assert load("sklearn_search").main().best_score_ > 0.95


@pytest.mark.slow
def test_the_keras_example_in_full(tmp_path: Path) -> None:
    import hypersearch.keras  # noqa: F401  # chooses the torch backend before keras loads

    pytest.importorskip("keras")
    tuner = load("keras_tuner_digits").main(directory=str(tmp_path))
    assert tuner.study.best_value > 0.9


@pytest.mark.slow
def test_the_experiment_example_in_full(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    assert (
        cli_main(["run", str(EXAMPLES / "experiment" / "experiment.yaml"), "--storage", db]) == 0
    )


def test_the_keras_example_runs_a_small_search(tmp_path: Path) -> None:
    import hypersearch.keras  # noqa: F401  # chooses the torch backend before keras loads

    pytest.importorskip("keras")
    tuner = load("keras_tuner_digits").main(max_trials=2, epochs=2, directory=str(tmp_path))
    assert len(tuner.study.trials) == 2
    assert (tmp_path / "digits" / "hypersearch.db").is_file()
