"""`hypersearch run` on unmodified scripts: metrics read by regular expressions from their own
output, parameter names with dashes, progress lines without a terminal."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.cli import main as cli_main
from hypersearch.experiment.parse import Expression
from hypersearch.experiment.runner import CommandObjective
from hypersearch.experiment.schema import parse_experiment
from hypersearch.yaml_loader import ConfigError, load_yaml

PY = sys.executable
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "experiment" / "digits_main.py"
TEST_LINE = (
    "Test set: Average loss: (?P<test_loss>[0-9.]+), Accuracy: (?P<correct>\\d+)/(?P<total>\\d+)"
)

BASE = f"""\
name: regex
command: [{json.dumps(PY)}, train.py]
space:
  batch-size: {{type: int, low: 16, high: 64, scale: pow2}}
  lr: {{type: float, low: 0.01, high: 1.0, log: true}}
parse:
  regex: '{TEST_LINE}'
  metrics: {{accuracy: correct / total}}
metric: accuracy
direction: maximize
budget: {{trials: 1}}
seed: 0
"""


def config_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_experiment(load_yaml(text, source="e.yaml"))
    return info.value


# the parse: section -------------------------------------------------------------------------
def test_named_groups_and_expressions_become_metrics() -> None:
    config = parse_experiment(load_yaml(BASE))
    parser = config.parse
    assert parser is not None and parser.names == {"test_loss", "correct", "total", "accuracy"}
    metrics, step = parser.parse("Test set: Average loss: 0.1234, Accuracy: 348/360 (97%)")  # type: ignore[misc]
    assert step is None and metrics["correct"] == 348 and metrics["test_loss"] == 0.1234
    assert metrics["accuracy"] == pytest.approx(348 / 360)
    assert parser.parse("Train Epoch: 1 [0/1437 (0%)]\tLoss: 2.3") is None
    assert list(config.space) == ["batch-size", "lr"]  # dashes, as argparse spells them


def test_expressions_allow_arithmetic_only() -> None:
    groups = ["correct", "total"]
    assert Expression.compile("100 * correct / total", groups).evaluate(
        {"correct": 3, "total": 4}
    ) == pytest.approx(75.0)
    assert math.isnan(
        Expression.compile("correct / total", groups).evaluate({"correct": 1, "total": 0})
    )  # type: ignore[arg-type]
    assert Expression.compile("-(correct ** 2) % 7", groups).evaluate({"correct": 3}) == 5.0
    assert Expression.compile("correct / total", groups).evaluate({"correct": 1}) is None
    for bad, words in [
        ("__import__('os').system('x')", "found Call"),
        ("correct.real", "found Attribute"),
        ("correct if total else 0", "found IfExp"),
        ("correct << 2", "operator LShift is not allowed"),
        ("'a' * 3", "only numbers"),
        ("correct / wrong", "uses wrong"),
        ("correct /", "not an arithmetic expression"),
    ]:
        with pytest.raises(ValueError, match=words):
            Expression.compile(bad, groups)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        (TEST_LINE, "Accuracy: (?P<acc[", 7, "is not a regular expression"),
        (TEST_LINE, "Accuracy: (\\d+)", 7, "has no named group"),
        ("correct / total", "correct / wrong", 8, "uses wrong"),
        ("correct / total", "open('x').read()", 8, "(found Call)"),
        ("metrics: {", "metric: {", 8, "unknown key 'metric' in parse"),
        ("metric: accuracy", "metric: f1", 6, "metric 'f1' is neither a named group"),
        ("batch-size:", "-batch:", 4, "parameter names are letters, digits, _ and -"),
    ],
)
def test_bad_parse_sections_point_at_their_line(old: str, new: str, line: int, words: str) -> None:
    err = config_error(BASE.replace(old, new, 1))
    assert err.line == line, str(err)
    assert words in str(err)


def test_a_step_group_gives_the_step() -> None:
    text = BASE.replace(TEST_LINE, "epoch (?P<epoch>\\d+) acc (?P<accuracy>[0-9.]+)").replace(
        "  metrics: {accuracy: correct / total}\n", "  step: epoch\n"
    )
    parser = parse_experiment(load_yaml(text)).parse
    assert parser is not None and parser.parse("epoch 7 acc 0.5") == ({"accuracy": 0.5}, 7)
    err = config_error(text.replace("step: epoch", "step: nope"))
    assert err.line == 8 and "parse.step must be one of the named groups" in str(err)


# real runs -------------------------------------------------------------------------------------
def run_one(tmp_path: Path, script: str, extra: str = "") -> hs.trial.TrialRecord:
    (tmp_path / "train.py").write_text(textwrap.dedent(script))
    config = parse_experiment(load_yaml(BASE + extra), base=tmp_path)
    study = hs.create_study(
        space=config.space, direction=config.direction, metric=config.metric, seed=0
    )
    study.artifact_dir = tmp_path / "artifacts"
    study.optimize(CommandObjective(config), n_trials=1)
    return study.trials[0]


def test_a_regex_that_never_matches_fails_with_the_pattern_and_the_last_lines(
    tmp_path: Path,
) -> None:
    script = "for e in range(3):\n    print(f'epoch {e}: accuracy 97% (348 of 360)')\n"
    t = run_one(tmp_path, script)
    assert t.state is hs.TrialState.FAILED
    assert "no line of the output matched parse.regex" in t.fail_reason
    assert "Test set: Average loss" in t.fail_reason  # the pattern
    assert "epoch 2: accuracy 97% (348 of 360)" in t.fail_reason  # the last lines


def test_dashed_names_reach_args_env_and_placeholders(tmp_path: Path) -> None:
    script = """\
        import argparse, os
        p = argparse.ArgumentParser()
        p.add_argument("--batch-size", type=int); p.add_argument("--lr", type=float)
        p.add_argument("positional", type=int)
        a = p.parse_args()
        assert a.batch_size is None and a.positional == int(os.environ["HS_BATCH_SIZE"]), a
        for epoch in range(1, 3):
            print(f"Test set: Average loss: 0.5, Accuracy: {30 * epoch}/{a.positional} (0%)")
        """
    text = BASE.replace(
        f"[{json.dumps(PY)}, train.py]", f"[{json.dumps(PY)}, train.py, '{{batch-size}}']"
    )
    (tmp_path / "train.py").write_text(textwrap.dedent(script))
    config = parse_experiment(load_yaml(text + "params_via: [args, env]\n"), base=tmp_path)
    study = hs.create_study(space=config.space, direction="maximize", metric="accuracy", seed=0)
    study.artifact_dir = tmp_path / "artifacts"
    study.optimize(CommandObjective(config), n_trials=1)
    t = study.trials[0]
    assert t.state is hs.TrialState.COMPLETE, t.fail_reason
    assert sorted(t.intermediate) == [1, 2]  # the n-th matching line is step n
    assert t.value == pytest.approx(60 / t.params["batch-size"])
    assert "--batch-size=" not in " ".join(t.attrs["output"]["command"])  # placeholder used
    assert f"--lr={json.dumps(t.params['lr'])}" in t.attrs["output"]["command"]


@pytest.mark.torch
def test_an_unmodified_pytorch_examples_style_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    text = BASE.replace(
        f"[{json.dumps(PY)}, train.py]",
        f"[{json.dumps(PY)}, {json.dumps(str(EXAMPLE))}, --epochs, '2', --log-interval, '5']",
    ).replace("budget: {trials: 1}", "budget: {trials: 2}")
    path = tmp_path / "experiment.yaml"
    path.write_text(text + "env: {OMP_NUM_THREADS: 1}\n")
    db = f"sqlite:///{tmp_path / 'run.db'}"
    assert cli_main(["run", str(path), "--storage", db]) == 0
    captured = capsys.readouterr()
    study = hs.load_study("regex", storage=db)
    trials = study.trials
    assert [t.state for t in trials] == [hs.TrialState.COMPLETE] * 2, trials[0].fail_reason
    for t in trials:
        assert sorted(t.intermediate) == [1, 2]  # one "Test set" line per epoch completed
        tail = t.attrs["output"]["tail"]
        assert "Train Epoch: 2" in tail and "Test set: Average loss" in tail
        assert t.metrics["total"] == 360 and t.value == pytest.approx(t.metrics["correct"] / 360)
        assert any(c.startswith("--batch-size=") for c in t.attrs["output"]["command"])
    # no terminal here: each finished trial is announced on a line of its own
    lines = [x for x in captured.err.splitlines() if "[regex " in x]
    assert len(lines) == 2 and all("COMPLETE accuracy=" in x for x in lines), captured.err
    assert "best accuracy" in captured.out
