"""The YAML front door with several objectives and constraints: schema and real subprocesses."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.experiment.runner import run_experiment
from hypersearch.experiment.schema import parse_experiment
from hypersearch.yaml_loader import ConfigError, load_yaml

HEAD = f"""\
name: mo
command: [{json.dumps(sys.executable)}, train.py]
space:
  width: {{type: int, low: 1, high: 8}}
budget: {{trials: 4}}
seed: 0
"""
GOALS = """\
objectives: {acc: maximize, latency_ms: minimize}
constraints: {mem_gb: <= 4, acc: [">=", 0.2]}
"""
# accuracy and latency on separate lines, as training scripts often print them
TRAIN = """\
import argparse, json
p = argparse.ArgumentParser(); p.add_argument("--width", type=int); a = p.parse_args()
for step in range(3):
    print(json.dumps({"acc": a.width / 8 * (step + 1) / 3, "step": step}))
    print(json.dumps({"latency_ms": 2.0 * a.width, "step": step}))
print(json.dumps({"mem_gb": 0.75 * a.width}))
"""


def parse(text: str) -> object:
    return parse_experiment(load_yaml(text, source="e.yaml"))


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


def test_objectives_and_constraints_parse() -> None:
    config = parse(HEAD + GOALS)
    assert config.objectives == {"acc": "maximize", "latency_ms": "minimize"}  # type: ignore[attr-defined]
    assert config.constraints == {"mem_gb": ("<=", 4.0), "acc": (">=", 0.2)}  # type: ignore[attr-defined]
    assert (config.metric, config.direction) == ("acc", "maximize")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ("objectives: {acc: maximize}\n", "e.yaml:7: objectives must map two or more"),
        ("objectives: {acc: best, ms: minimize}\n", "e.yaml:7: objectives.acc must be minimize"),
        ("objectives: {acc: maximize, ms: minimize}\nmetric: acc\n", "e.yaml:8: metric and"),
        (
            "metric: acc\ndirection: maximize\nconstraints: {mem: < 4}\n",
            "e.yaml:9: constraints.mem",
        ),
        ("metric: acc\ndirection: maximize\nconstraints: {mem: [<=, x]}\n", "constraints.mem"),
        (
            "metric: acc\ndirection: maximize\nconstraints: [mem]\n",
            "e.yaml:9: constraints must map",
        ),
        ("objectives: {acc: maximize, ms: minimize}\nscheduler: median\n", "e.yaml:8: scheduler"),
    ],
)
def test_bad_objectives_and_constraints_point_at_their_line(goals: str, message: str) -> None:
    assert message in error(HEAD + goals)


def test_a_multi_objective_experiment_runs_and_keeps_the_front(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    path = tmp_path / "experiment.yaml"
    path.write_text(HEAD + GOALS)
    study = run_experiment(path, storage=f"sqlite:///{tmp_path / 'hs.db'}")
    assert study.objectives == (
        hs.Objective("acc", "maximize"),
        hs.Objective("latency_ms", "minimize"),
    )
    trials = study.trials
    assert [t.state for t in trials] == [hs.TrialState.COMPLETE] * 4
    for t in trials:
        w = t.params["width"]
        assert t.values == pytest.approx((w / 8, 2.0 * w))
        assert t.intermediate_values[2] == pytest.approx((w / 8, 2.0 * w))
        assert t.metrics["mem_gb"] == 0.75 * w
        assert t.feasible is (0.75 * w <= 4 and w / 8 >= 0.2)
    # each feasible width is a trade-off (more accuracy costs latency): all on the front
    assert {t.number for t in study.best_trials} == {t.number for t in trials if t.feasible}


def test_a_script_missing_an_objective_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text('import json\nprint(json.dumps({"acc": 0.5}))\n')
    path = tmp_path / "experiment.yaml"
    path.write_text(HEAD.replace("trials: 4", "trials: 1") + GOALS)
    study = run_experiment(path, storage=f"sqlite:///{tmp_path / 'hs.db'}")
    (trial,) = study.trials
    assert trial.state is hs.TrialState.FAILED
    assert "printed no 'latency_ms' metric" in (trial.fail_reason or "")


def test_the_run_command_checks_runs_and_names_the_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hypersearch.cli import main

    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    path = tmp_path / "experiment.yaml"
    path.write_text(HEAD + GOALS)
    assert main(["run", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "maximize 'acc', minimize 'latency_ms'; subject to mem_gb <= 4, acc >= 0.2" in out
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    assert main(["run", str(path), "--storage", url]) == 0
    out = capsys.readouterr().out
    front = hs.load_study("mo", storage=url).best_trials
    assert f"Pareto front: {len(front)} trial(s)" in out and "best mo --storage" in out
