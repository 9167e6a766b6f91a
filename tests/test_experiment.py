"""Config-file experiments: the schema (line-numbered errors) and real subprocess trials."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.cli import main as cli_main
from hypersearch.experiment import report
from hypersearch.experiment.runner import CommandObjective, run_experiment
from hypersearch.experiment.schema import parse_experiment
from hypersearch.schedulers import Scheduler
from hypersearch.trial import TrialRecord, TrialState
from hypersearch.yaml_loader import ConfigError, load_yaml

PY = sys.executable

BASE = f"""\
name: exp
command: [{json.dumps(PY)}, train.py]
space:
  lr: {{type: float, low: 1e-4, high: 1e-1, log: true}}
  units: {{type: int, low: 8, high: 64, scale: pow2}}
  opt: [sgd, adam]
  nesterov: {{type: bool}}
metric: loss
direction: minimize
budget: {{trials: 3}}
seed: 0
"""

TRAIN = """\
import argparse, json, math
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float); p.add_argument("--units", type=int)
p.add_argument("--opt"); p.add_argument("--nesterov")
a = p.parse_args()
for step in range(3):
    loss = abs(math.log10(a.lr) + 2) + 1 / (step + 1)
    print(json.dumps({"loss": loss, "step": step, "acc": 0.5}))
print("training done")
"""


def write(tmp_path: Path, yaml_text: str, script: str = TRAIN, name: str = "train.py") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(script))
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml_text)
    return path


def config_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_experiment(load_yaml(text, source="e.yaml"))
    return info.value


# schema --------------------------------------------------------------------------------
def test_a_valid_file_parses_into_the_space_and_settings() -> None:
    config = parse_experiment(load_yaml(BASE))
    assert config.space["lr"] == hs.Float(1e-4, 1e-1, log=True)
    assert config.space["units"] == hs.Int(8, 64, scale="pow2")
    assert config.space["opt"] == hs.Choice(["sgd", "adam"])
    assert config.space["nesterov"] == hs.Bool()
    assert (config.metric, config.direction, config.n_trials, config.seed) == (
        "loss",
        "minimize",
        3,
        0,
    )
    assert config.command == (PY, "train.py") and config.params_via == ("args",)


def test_unknown_key_names_the_line_and_a_suggestion() -> None:
    err = config_error(BASE + "schedular: median\n")
    assert err.line == 12
    assert "unknown key 'schedular'" in str(err) and "did you mean 'scheduler'" in str(err)


def test_unknown_key_inside_a_parameter() -> None:
    err = config_error(BASE.replace("log: true}", "log: true, lgo: 1}"))
    assert err.line == 4 and "unknown key 'lgo'" in str(err)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        (
            "budget: {trials: 3}",
            "budget: {trials: ten}",
            10,
            "budget.trials must be a positive integer",
        ),
        ("direction: minimize", "direction: down", 9, "minimize or maximize"),
        ("seed: 0", "seed: 0.5", 11, "seed must be an integer"),
        ("low: 1e-4, high: 1e-1", "low: 1e-1, high: 1e-4", 4, "Swap them"),
        ("type: bool", "type: boolean", 7, "needs type"),
        ("metric: loss", "metric: [loss]", 8, "metric must be a non-empty string"),
    ],
)
def test_wrong_types_and_values_point_at_their_line(
    old: str, new: str, line: int, words: str
) -> None:
    err = config_error(BASE.replace(old, new))
    assert err.line == line, str(err)
    assert words in str(err)


def test_missing_keys_strategies_and_schedulers_are_checked() -> None:
    assert "missing required key 'metric'" in str(config_error(BASE.replace("metric: loss\n", "")))
    err = config_error(BASE + "strategy: magic\n")
    assert err.line == 12 and "Unknown sampler 'magic'" in str(err) and "'random'" in str(err)
    err = config_error(BASE + "scheduler: {name: median, warmup: 2}\n")
    assert err.line == 12 and "median" in str(err)
    err = config_error(BASE + "scheduler: pbt\n")
    assert "checkpoints" in str(err)
    assert str(config_error("- a\n- b\n")).startswith("e.yaml:1: an experiment file is a mapping")


def test_strategy_and_scheduler_options_are_accepted() -> None:
    text = (
        BASE + "strategy: {name: grid, n_points: 3}\nscheduler: {name: median, warmup_steps: 1}\n"
    )
    config = parse_experiment(load_yaml(text))
    assert config.strategy == {"name": "grid", "n_points": 3}
    assert config.scheduler == {"name": "median", "warmup_steps": 1}


# running -----------------------------------------------------------------------------------
def test_run_completes_trials_with_curves_metrics_and_kept_output(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    study = run_experiment(path, storage=f"sqlite:///{tmp_path / 'hs.db'}")
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    t = trials[0]
    assert sorted(t.intermediate) == [0, 1, 2]
    assert t.value == pytest.approx(t.intermediate[2])
    assert t.metrics["acc"] == 0.5
    out = t.attrs["output"]
    assert "training done" in out["tail"] and out["returncode"] == 0
    log = Path(out["log"])
    assert log.is_file() and "training done" in log.read_text()
    assert log.parent == tmp_path / "hs.db.artifacts" / "exp" / "runs" / "0"
    assert json.loads((log.parent / "params.json").read_text()) == dict(t.params)
    # Running the file again resumes the same study with new trials.
    again = run_experiment(path, storage=f"sqlite:///{tmp_path / 'hs.db'}", n_trials=1)
    assert len(again.trials) == 4


ENV_SCRIPT = """\
import json, os
params = json.load(open(os.environ["HYPERSEARCH_PARAMS_FILE"]))
assert float(os.environ["HS_LR"]) == params["lr"], (os.environ["HS_LR"], params)
assert os.environ["HS_OPT"] == params["opt"] and os.environ["MY_VAR"] == "42"
print(json.dumps({"loss": params["lr"]}))
"""


def test_params_reach_the_script_as_env_vars_and_a_json_file(tmp_path: Path) -> None:
    text = BASE.replace("budget: {trials: 3}", "budget: {trials: 2}") + (
        "params_via: [env, json]\nenv: {MY_VAR: 42}\n"
    )
    study = run_experiment(
        write(tmp_path, text, ENV_SCRIPT), storage=None or "sqlite:///" + str(tmp_path / "d.db")
    )
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2, study.trials[
        0
    ].fail_reason
    assert all(t.value == pytest.approx(t.params["lr"]) for t in study.trials)


def test_placeholders_put_values_where_the_command_wants_them(tmp_path: Path) -> None:
    script = (
        "import json, sys\nprint(json.dumps({'loss': float(sys.argv[1]), 'n': int(sys.argv[2])}))"
    )
    text = BASE.replace("[" + json.dumps(PY) + ", train.py]", f"'{PY} train.py {{lr}} {{units}}'")
    study = run_experiment(write(tmp_path, text, script), storage=f"sqlite:///{tmp_path / 'p.db'}")
    t = study.trials[0]
    assert t.state is TrialState.COMPLETE, t.fail_reason
    assert t.value == pytest.approx(t.params["lr"]) and t.metrics["n"] == t.params["units"]
    command = t.attrs["output"]["command"]
    assert command[2:4] == [json.dumps(t.params["lr"]), str(t.params["units"])]
    assert "--opt=" + t.params["opt"] in command and not any("--lr" in c for c in command)


def test_report_helper_prints_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    hs.report(val_loss=0.5, step=2)
    hs.report({"acc": 1})
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x) for x in lines] == [{"val_loss": 0.5, "step": 2}, {"acc": 1}]
    with pytest.raises(TypeError):
        report()
    with pytest.raises(TypeError):
        report(x=object())


def test_a_script_using_the_report_helper(tmp_path: Path) -> None:
    script = (
        "import json, os\nimport hypersearch\n"
        "p = json.loads(os.environ['HYPERSEARCH_PARAMS'])\n"
        "for s in range(2):\n    hypersearch.report(loss=p['lr'] * (s + 1), step=s)\n"
    )
    text = BASE.replace("budget: {trials: 3}", "budget: {trials: 1}") + "params_via: json\n"
    study = run_experiment(write(tmp_path, text, script), storage=f"sqlite:///{tmp_path / 'r.db'}")
    t = study.trials[0]
    assert t.state is TrialState.COMPLETE, t.fail_reason
    assert t.value == pytest.approx(2 * t.params["lr"])


# bad scripts ----------------------------------------------------------------------------------
def one_trial(tmp_path: Path, script: str, extra: str = "", scheduler: Any = None) -> TrialRecord:
    text = BASE.replace("budget: {trials: 3}", "budget: {trials: 1}") + extra
    path = write(tmp_path, text, script)
    config = parse_experiment(load_yaml(path.read_text()), base=tmp_path)
    study = hs.create_study(
        space=config.space, direction=config.direction, metric=config.metric, scheduler=scheduler
    )
    study.artifact_dir = tmp_path / "artifacts"
    study.optimize(CommandObjective(config), n_trials=1)
    return study.trials[0]


def test_a_non_zero_exit_fails_the_trial_with_its_output_kept(tmp_path: Path) -> None:
    script = "import json, sys\nprint(json.dumps({'loss': 1.0}))\nprint('boom: out of memory')\n"
    script += "sys.exit(3)\n"
    t = one_trial(tmp_path, script)
    assert t.state is TrialState.FAILED
    assert "exited with code 3" in t.fail_reason and "boom: out of memory" in t.fail_reason
    assert "boom" in t.attrs["output"]["tail"] and t.attrs["output"]["returncode"] == 3
    assert "boom" in Path(t.attrs["output"]["log"]).read_text()


def test_a_script_printing_no_metric_fails_with_a_hint(tmp_path: Path) -> None:
    t = one_trial(tmp_path, "print('hello'); print('{\"accuracy\": 0.9}')\n")
    assert t.state is TrialState.FAILED
    assert "printed no 'loss' metric" in t.fail_reason and "hello" in t.fail_reason
    assert "hello" in t.attrs["output"]["tail"]


def test_output_is_bounded(tmp_path: Path) -> None:
    script = "import json\nfor i in range(5000):\n    print('x' * 50, i)\n"
    script += "print(json.dumps({'loss': 1}))\n"
    t = one_trial(tmp_path, script, "max_output: 4000\n")
    assert t.state is TrialState.COMPLETE
    text = Path(t.attrs["output"]["log"]).read_text()
    assert len(text) < 4200 and "bytes left out" in text and '{"loss": 1}' in text
    assert t.attrs["output"]["bytes"] > 250_000 and len(t.attrs["output"]["tail"]) <= 2000


class StopAtStep(Scheduler):
    """Stops every trial once it reports ``step``."""

    name = "stop-at-step"

    def __init__(self, step: int = 1) -> None:
        self.step = step

    def should_stop(self, trial: TrialRecord, trials: Sequence[TrialRecord], study: Any) -> bool:
        return (trial.last_step or 0) >= self.step


SLOW_SCRIPT = """\
import json, signal, sys, time
{handler}
for step in range(100):
    print(json.dumps({{"loss": 1.0 / (step + 1), "step": step}}), flush=True)
    time.sleep(0.05)
"""


def test_a_stopped_trial_is_signalled_and_ends_cleanly(tmp_path: Path) -> None:
    handler = (
        "signal.signal(signal.SIGTERM, lambda *a: (print('got SIGTERM', flush=True), sys.exit(0)))"
    )
    t = one_trial(tmp_path, SLOW_SCRIPT.format(handler=handler), "stop_grace: 5\n", StopAtStep(1))
    assert t.state is TrialState.STOPPED
    assert max(t.intermediate) == 1 and t.value == pytest.approx(0.5)
    assert "got SIGTERM" in t.attrs["output"]["tail"]
    assert t.duration is not None and t.duration < 4


def test_a_script_ignoring_the_stop_signal_is_killed_after_the_grace(tmp_path: Path) -> None:
    handler = "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    t = one_trial(
        tmp_path, SLOW_SCRIPT.format(handler=handler), "stop_grace: 0.5\n", StopAtStep(1)
    )
    assert t.state is TrialState.STOPPED
    assert t.attrs["output"]["returncode"] == -9
    assert t.duration is not None and t.duration < 4  # not the 5 s the script would take


def test_a_trial_running_past_its_timeout_fails(tmp_path: Path) -> None:
    script = SLOW_SCRIPT.format(handler="")
    t = one_trial(tmp_path, script, "trial_timeout: 0.5\nstop_grace: 0.5\n")
    assert t.state is TrialState.FAILED and "timed out after 0.5s" in t.fail_reason


# command line --------------------------------------------------------------------------------
def test_cli_run_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE.replace("budget: {trials: 3}", "budget: {trials: 2}"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli_main(["run", str(path), "--check"]) == 0
    assert "ok" in capsys.readouterr().out
    assert cli_main(["run", str(path), "--storage", db]) == 0
    out = capsys.readouterr().out
    assert "best loss" in out
    assert cli_main(["trials", "exp", "--storage", db]) == 0


def test_cli_reports_schema_errors_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BASE + "budget: {trials: 2}\n")
    assert cli_main(["run", str(path), "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:12: duplicate key 'budget'" in err
    missing = write(tmp_path, BASE.replace(json.dumps(PY), "no-such-program-xyz"))
    assert cli_main(["run", str(missing), "--check"]) == 1
    assert "not found" in capsys.readouterr().err
