"""Importing Optuna studies: real Optuna studies (RDB on SQLite, journal file) read back here."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")
from optuna.distributions import FloatDistribution, IntDistribution  # noqa: E402
from optuna.storages.journal import JournalFileBackend, JournalStorage  # noqa: E402

import hypersearch as hs  # noqa: E402
from hypersearch.importers import import_optuna  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def _objective(trial: optuna.Trial) -> float:
    """Every distribution type, a conditional parameter, pruned and failed trials."""
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    width = trial.suggest_float("width", -1.0, 1.0)
    units = trial.suggest_int("units", 32, 512, step=32)
    batch = trial.suggest_int("batch", 8, 256, log=True)
    layers = trial.suggest_int("layers", 1, 4)
    opt = trial.suggest_categorical("opt", ["sgd", "adam", None])
    flag = trial.suggest_categorical("flag", [True, False])
    trial.suggest_categorical("scale", [0.5, 1.0, 2])
    if opt == "sgd":
        trial.suggest_float("momentum", 0.5, 0.99)
    trial.set_user_attr("owner", "ana")
    if trial.number % 9 == 4:
        raise RuntimeError("boom")
    value = math.log10(lr) ** 2 + dropout + width**2 + units / 512 + batch / 256 + layers
    value += 0.5 * flag
    for step in range(1, 4):
        trial.report(value + 1.0 / step, step)
        if trial.number % 7 == 3:
            raise optuna.TrialPruned()
    return value


def _make_study(storage: object, name: str = "opt", n: int = 30) -> optuna.Study:
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.optimize(_objective, n_trials=n, catch=(RuntimeError,))
    return study


@pytest.fixture(scope="module")
def _optuna_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real Optuna study (30 trials) per module; each test gets its own copy."""
    path = tmp_path_factory.mktemp("optuna") / "optuna.db"
    _make_study(f"sqlite:///{path}")
    return path


@pytest.fixture
def optuna_db(tmp_path: Path, _optuna_template: Path) -> str:
    copy = tmp_path / "optuna.db"
    shutil.copyfile(_optuna_template, copy)
    return f"sqlite:///{copy}"


def test_every_state_value_curve_attr_and_time_is_carried_over(optuna_db, tmp_path):
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    (summary,) = import_optuna(optuna_db, storage=target)
    src = optuna.load_study(study_name="opt", storage=optuna_db).get_trials()
    assert summary.imported == len(src) == 30 and summary.already_imported == 0

    study = hs.load_study("opt", storage=target)
    assert study.direction == "minimize"
    space = study.space
    assert space["lr"] == hs.Float(1e-5, 1e-1, log=True)
    assert space["dropout"] == hs.Float(0.0, 0.5, step=0.1)
    assert space["units"] == hs.Int(32, 512, step=32)
    assert space["batch"] == hs.Int(8, 256, log=True)
    assert space["opt"] == hs.Choice(["sgd", "adam", None])
    assert space["flag"] == hs.Choice([True, False])
    assert "momentum" not in space  # conditional: stays define-by-run

    by_number = {t.attrs["optuna"]["number"]: t for t in study.trials}
    states = {"COMPLETE": "COMPLETE", "PRUNED": "STOPPED", "FAIL": "FAILED"}
    for ot in src:
        ht = by_number[ot.number]
        assert ht.state.value == states[ot.state.name]
        assert ht.source == "optuna"
        assert ht.attrs["owner"] == "ana"
        assert ht.intermediate == {int(k): v for k, v in ot.intermediate_values.items()}
        assert ht.started_at == pytest.approx(ot.datetime_start.timestamp())
        assert ht.finished_at == pytest.approx(ot.datetime_complete.timestamp())
        # Optuna keeps floats in its own columns; JSON keeps them exactly.
        assert dict(ht.params) == ot.params
        if ot.state.name == "COMPLETE":
            assert ht.value == ot.value
        elif ot.state.name == "FAIL":
            assert ht.value is None and ht.fail_reason
        if "momentum" in ot.params:
            assert ht.distributions["momentum"] == hs.Float(0.5, 0.99)
    assert study.best_value == min(t.value for t in src if t.state.name == "COMPLETE")


def test_import_is_idempotent_and_brings_only_new_trials(optuna_db, tmp_path):
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    import_optuna(optuna_db, storage=target)
    (again,) = import_optuna(optuna_db, storage=target)
    assert (again.imported, again.already_imported) == (0, 30)
    source = optuna.load_study(study_name="opt", storage=optuna_db)
    source.optimize(_objective, n_trials=5, catch=(RuntimeError,))
    (more,) = import_optuna(optuna_db, storage=target)
    assert (more.imported, more.already_imported) == (5, 30)
    assert len(hs.load_study("opt", storage=target).trials) == 35


@pytest.mark.parametrize("sampler", ["tpe", "gp", "random"])
def test_imported_trials_warm_start_our_samplers(optuna_db, tmp_path, sampler):
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    import_optuna(optuna_db, storage=target)
    study = hs.load_study("opt", storage=target, sampler=sampler)

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        if p["opt"] == "sgd":
            trial.float("momentum", 0.5, 0.99)  # the same definition as in Optuna
        return math.log10(p["lr"]) ** 2 + p["dropout"] + p["units"] / 512

    study.optimize(objective, n_trials=3)
    fresh = [t for t in study.trials if t.source != "optuna"]
    assert len(fresh) == 3 and all(t.state is hs.TrialState.COMPLETE for t in fresh)


def test_journal_file_and_multi_objective_study(tmp_path):
    journal = tmp_path / "optuna.log"
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.create_study(
        study_name="mo", storage=storage, directions=["maximize", "minimize"]
    )
    study.set_metric_names(["accuracy", "latency_ms"])
    dist = {"x": FloatDistribution(0, 1), "n": IntDistribution(1, 9)}
    for i in range(6):  # a trade-off: more accuracy costs latency (0 to 4 on the front)
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": i / 10, "n": i + 1},
                distributions=dist,
                values=[min(i, 4) / 10, 10.0 + i],
            )
        )
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": 0.9, "n": 2},
            distributions=dist,
            state=optuna.trial.TrialState.FAIL,
        )
    )
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    (summary,) = import_optuna(str(journal), storage=target)
    assert summary.imported == 7
    imported = hs.load_study("mo", storage=target)
    assert imported.objectives == (
        hs.Objective("accuracy", "maximize"),
        hs.Objective("latency_ms", "minimize"),
    )
    trials = imported.trials
    assert trials[2].values == (0.2, 12.0) and trials[2].value is None
    assert trials[6].state is hs.TrialState.FAILED and trials[6].values is None
    assert [t.attrs["optuna"]["number"] for t in imported.best_trials] == [0, 1, 2, 3, 4]
    with pytest.raises(hs.HypersearchError, match="best_trials"):
        imported.best_value  # noqa: B018
    # the imported front is history a new multi-objective run continues from
    imported.optimize(lambda t: (t.params["x"], 10.0 + t.params["n"]), n_trials=2)
    assert len(imported.trials) == 9
    # importing again adds nothing; an unnamed multi-objective study gets value_0, value_1
    (again,) = import_optuna(str(journal), storage=target)
    assert again.imported == 0 and again.already_imported == 7
    unnamed = optuna.create_study(
        study_name="unnamed", storage=storage, directions=["minimize", "minimize"]
    )
    unnamed.optimize(lambda trial: (trial.suggest_float("a", 0, 1), 1.0), n_trials=2)
    import_optuna(str(journal), studies=["unnamed"], storage=target)
    names = [o.name for o in hs.load_study("unnamed", storage=target).objectives]
    assert names == ["value_0", "value_1"]


def test_ranges_that_changed_between_trials_are_widened_and_reported(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="drift", storage=url)
    for lr, high, k, k_high in [(0.01, 1e-1, 1, 4), (0.5, 1.0, 6, 8)]:
        dist = {"lr": FloatDistribution(1e-3, high, log=True), "k": IntDistribution(0, k_high)}
        study.add_trial(
            optuna.trial.create_trial(params={"lr": lr, "k": k}, distributions=dist, value=1.0)
        )
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    (summary,) = import_optuna(url, storage=target)
    notes = "\n".join(summary.notes)
    assert "'lr': trials used different ranges" in notes and "'k': trials used" in notes
    imported = hs.load_study("drift", storage=target)
    assert imported.space["lr"] == hs.Float(1e-3, 1.0, log=True)
    assert imported.space["k"] == hs.Int(0, 8)
    assert sorted(t.params["k"] for t in imported.trials) == [1, 6]


def test_bad_sources_are_clear_errors(tmp_path, optuna_db):
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    with pytest.raises(hs.InvalidArgumentError, match="No Optuna database"):
        import_optuna(f"sqlite:///{tmp_path / 'missing.db'}", storage=target)
    assert not (tmp_path / "missing.db").exists()  # never created as a side effect
    with pytest.raises(hs.InvalidArgumentError, match="not a URL and no such file"):
        import_optuna(str(tmp_path / "nothing.log"), storage=target)
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.storages.RDBStorage(empty)  # a valid Optuna database without any study
    with pytest.raises(hs.StudyNotFoundError, match="holds no study"):
        import_optuna(empty, storage=target)
    with pytest.raises(hs.StudyNotFoundError, match="it has 'opt'"):
        import_optuna(optuna_db, studies=["nope"], storage=target)
    hs.create_study("opt", direction="maximize", storage=target)
    with pytest.raises(hs.InvalidArgumentError, match="into="):
        import_optuna(optuna_db, storage=target)


def test_cli_imports_and_says_what_it_did(optuna_db, tmp_path):
    target = f"sqlite:///{tmp_path / 'hs.db'}"
    cmd = [sys.executable, "-m", "hypersearch.cli", "--storage", target, "import", "optuna"]
    done = subprocess.run(
        [*cmd, "--from", optuna_db, "--study", "opt", "--into", "copy"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "opt -> copy: 30 trial(s) imported" in done.stdout
    bad = subprocess.run(
        [*cmd, "--from", str(tmp_path / "nope.db")], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1 and "error:" in bad.stderr and "Traceback" not in bad.stderr


def test_optuna_study_on_postgresql_into_postgresql(postgres_url):
    """Both sides on a real PostgreSQL server: Optuna's RDB tables and ours in one database;
    the batched insert (one transaction per chunk, RETURNING ids) runs on psycopg too."""
    _make_study(postgres_url, name="pg", n=12)
    (summary,) = import_optuna(postgres_url, studies=["pg"], storage=postgres_url, into="pg-hs")
    assert summary.imported == 12
    study = hs.load_study("pg-hs", storage=postgres_url)
    source = optuna.load_study(study_name="pg", storage=postgres_url).get_trials()
    assert [t.attrs["optuna"]["number"] for t in study.trials] == [t.number for t in source]
    assert {t.number: dict(t.intermediate) for t in study.trials} == {
        t.number: {int(k): v for k, v in t.intermediate_values.items()} for t in source
    }
