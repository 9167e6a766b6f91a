"""Trackers: a real TensorBoard log folder and a real MLflow store, read back with each tool's
own reader (EventAccumulator, MlflowClient)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.integrations.trackers import folder_name, tracker_from_spec
from tracker_objectives import curve

SPACE = {"x": hs.Float(0.0, 1.0), "opt": hs.Choice(["sgd", "adam"]), "bn": hs.Bool()}


def _study(tmp_path: Path, name: str = "tracked") -> hs.Study:
    """A study whose first trial fails (x > 0.9), so every state is logged."""
    study = hs.create_study(
        name,
        space=SPACE,
        direction="minimize",
        metric="val_loss",
        storage=f"sqlite:///{tmp_path / 'hs.db'}",
        sampler="random",
        seed=3,
    )
    study.enqueue({"x": 0.95})
    return study


def _tensorboard_runs(log_dir: Path, study: hs.Study) -> dict[int, dict]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    runs = {}
    for run in sorted((log_dir / folder_name(study.name)).iterdir()):
        acc = EventAccumulator(str(run))
        acc.Reload()
        content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(
            content[metadata.SESSION_START_INFO_TAG]
        )
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        scalars = {
            tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]
        }
        runs[int(run.name.split("-")[1])] = {"start": start, "end": end, "scalars": scalars}
    return runs


def _check_tensorboard(log_dir: Path, study: hs.Study) -> None:
    from tensorboard.plugins.hparams import api_pb2

    runs = _tensorboard_runs(log_dir, study)
    trials = study.trials
    assert sorted(runs) == [t.number for t in trials]
    for t in trials:
        run = runs[t.number]
        hp = run["start"].hparams
        assert hp["x"].number_value == pytest.approx(t.params["x"])
        assert hp["opt"].string_value == t.params["opt"]
        assert hp["bn"].bool_value == t.params["bn"]
        assert run["start"].group_name == study.name
        if t.state is hs.TrialState.FAILED:
            assert run["end"].status == api_pb2.STATUS_FAILURE
            assert "final/val_loss" not in run["scalars"]
            continue
        assert run["end"].status == api_pb2.STATUS_SUCCESS
        # float32 in the event file: compare at its precision
        assert run["scalars"]["val_loss"] == [
            (s, pytest.approx(v, rel=1e-6)) for s, v in sorted(t.intermediate.items())
        ]
        assert run["scalars"]["final/val_loss"] == [(3, pytest.approx(t.value, rel=1e-6))]


def test_tensorboard_one_run_per_trial_with_hparams_curve_and_final_metric(tmp_path):
    from hypersearch.integrations.tensorboard import TensorBoardCallback

    study = _study(tmp_path)
    study.optimize(curve, n_trials=8, callbacks=[TensorBoardCallback(tmp_path / "runs")])
    assert {t.state for t in study.trials} == {hs.TrialState.COMPLETE, hs.TrialState.FAILED}
    _check_tensorboard(tmp_path / "runs", study)


def test_tensorboard_from_parallel_workers(tmp_path):
    study = _study(tmp_path, "parallel")
    tracker = tracker_from_spec(f"tensorboard:{tmp_path / 'runs'}")
    study.optimize(curve, n_trials=6, n_workers=2, callbacks=[tracker])
    _check_tensorboard(tmp_path / "runs", study)


def test_worker_command_logs_to_tensorboard(tmp_path):
    study = _study(tmp_path, "cli")
    cmd = [
        sys.executable,
        "-m",
        "hypersearch.cli",
        "--storage",
        study.storage_url,
        "worker",
        "cli",
        "--objective",
        "tracker_objectives:curve",
        "--n-trials",
        "4",
        "--log-to",
        f"tensorboard:{tmp_path / 'runs'}",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    _check_tensorboard(tmp_path / "runs", hs.load_study("cli", storage=study.storage_url))


def test_mlflow_parent_run_per_study_and_nested_run_per_trial(tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from hypersearch.integrations.mlflow import MLflowCallback

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    study = _study(tmp_path)
    first = MLflowCallback(uri)
    study.optimize(curve, n_trials=5, callbacks=[first])
    assert first.flush(timeout=120)  # written by a writer process
    again = tracker_from_spec(f"mlflow:{uri}")  # a resumed study, a new callback
    study.optimize(curve, n_trials=3, callbacks=[again])
    assert again.flush(timeout=120)  # type: ignore[attr-defined]
    writer = first._writer  # the writer process: stopped cleanly by close() (also at exit)
    first.close()
    assert writer is not None and writer.returncode == 0

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tracked")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    parents = [r for r in runs if r.data.tags.get("hypersearch.role") == "study"]
    assert len(parents) == 1  # the resumed study logs under the same parent
    parent = parents[0].info.run_id
    children = {int(r.data.tags["hypersearch.trial"]): r for r in runs if r.info.run_id != parent}
    trials = study.trials
    assert sorted(children) == [t.number for t in trials]
    for t in trials:
        run = children[t.number]
        assert run.data.tags["mlflow.parentRunId"] == parent
        assert run.data.tags["hypersearch.state"] == t.state.value
        assert run.data.params == {
            "x": str(t.params["x"]),
            "opt": t.params["opt"],
            "bn": str(t.params["bn"]),
        }
        if t.state is hs.TrialState.FAILED:
            assert run.info.status == "FAILED"
            assert "x too large" in run.data.tags["hypersearch.fail_reason"]
            continue
        assert run.info.status == "FINISHED"
        assert run.data.tags["hypersearch.note"] == f"x={t.params['x']:.3f}"
        history = client.get_metric_history(run.info.run_id, "val_loss")
        assert [(m.step, m.value) for m in history] == sorted(t.intermediate.items())
        assert run.data.metrics["final/val_loss"] == pytest.approx(t.value)
    best = client.get_metric_history(parent, "best/val_loss")
    assert best[-1].value == pytest.approx(study.best_value)
    assert [m.value for m in best] == sorted((m.value for m in best), reverse=True)


def test_bad_tracker_specs_and_folders_are_clear_errors(tmp_path):
    with pytest.raises(hs.InvalidArgumentError, match="unknown tracker 'wandb'"):
        tracker_from_spec("wandb:x")
    with pytest.raises(hs.InvalidArgumentError, match="needs a folder"):
        tracker_from_spec("tensorboard")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(hs.InvalidArgumentError, match="cannot create the folder"):
        tracker_from_spec(f"tensorboard:{blocker / 'runs'}")
    pytest.importorskip("mlflow")
    with pytest.raises(hs.InvalidArgumentError, match="MLflow could not open the tracking URI"):
        tracker_from_spec("mlflow:bogus://nowhere")
    with pytest.raises(hs.InvalidArgumentError, match="cannot create the folder"):
        tracker_from_spec(f"mlflow:sqlite:///{blocker / 'mlflow.db'}")


def test_a_failing_tracker_warns_and_the_study_goes_on(tmp_path, caplog, monkeypatch):
    pytest.importorskip("mlflow")
    from hypersearch.integrations.mlflow import MLflowCallback

    # a tracking server that is not there (loopback, the discard port): every write fails
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    tracker = MLflowCallback("http://127.0.0.1:9", background=False)
    study = _study(tmp_path)
    with caplog.at_level("WARNING", logger="hypersearch"):
        study.optimize(curve, n_trials=3, callbacks=[tracker])
    assert len(study.trials) == 3
    assert caplog.text.count("MLflow: could not log trial") == 3


@pytest.mark.parametrize(
    ("spec", "extra"), [("tensorboard:runs", "tensorboard"), ("mlflow", "mlflow")]
)
def test_missing_tracker_package_names_the_extra(tmp_path, spec, extra):
    """Run where the package cannot be imported (blocked in sys.modules, as if not installed)."""
    code = (
        f"import sys; sys.modules[{extra!r}] = None\n"
        "from hypersearch.integrations.trackers import tracker_from_spec\n"
        f"tracker_from_spec({spec!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 1
    assert f'pip install "hypersearch[{extra}]"' in done.stderr


def test_hypersearch_run_logs_to_tensorboard(tmp_path, capsys):
    """`hypersearch run experiment.yaml --log-to tensorboard:DIR`: one run per trial."""
    from hypersearch.cli import main as cli_main

    (tmp_path / "train.py").write_text(
        "import argparse, json\n"
        "p = argparse.ArgumentParser(); p.add_argument('--x', type=float)\n"
        "a = p.parse_args()\n"
        "for step in (1, 2):\n"
        "    print(json.dumps({'loss': a.x / step, 'step': step}))\n"
    )
    (tmp_path / "exp.yaml").write_text(
        "name: logged\n"
        f"command: [{sys.executable!r}, train.py]\n"
        "space:\n  x: {type: float, low: 0.0, high: 1.0}\n"
        "metric: loss\ndirection: minimize\nbudget: {trials: 2}\nseed: 0\n"
    )
    db = f"sqlite:///{tmp_path / 'hs.db'}"
    runs = tmp_path / "runs"
    code = cli_main(
        ["run", str(tmp_path / "exp.yaml"), "--storage", db, "--log-to", f"tensorboard:{runs}"]
    )
    assert code == 0, capsys.readouterr().err
    study = hs.load_study("logged", storage=db)
    logged = _tensorboard_runs(runs, study)
    assert sorted(logged) == [t.number for t in study.trials] == [0, 1]
    assert all(r["scalars"]["loss"][-1][0] == 2 for r in logged.values())
