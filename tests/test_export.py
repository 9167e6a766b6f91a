"""Flat rows, CSV and strict JSON from trial records, with the values that usually break them."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.export import trials_to_rows, write_csv, write_json

NOTE = 'naïve run, «très» bien — 学习率 "quoted", with\na newline'

S = hs.TrialState


def records() -> list[hs.TrialRecord]:
    return [
        hs.TrialRecord(
            number=0,
            state=S.COMPLETE,
            params={"lr": 1e-3, "opt": "adam"},
            value=0.25,
            metrics={"loss": 0.5, "overflow": math.inf},
            intermediate={0: 0.9, 1: math.nan},
            note=NOTE,
            tags=("a,b", "ünï"),
            attrs={"fixed_params": {"lr": 1e-3}, "size": 10},
            host="node-1",
            gpu="3",
            started_at=1_700_000_000.0,
            finished_at=1_700_000_012.5,
        ),
        hs.TrialRecord(
            number=1,
            state=S.FAILED,
            params={"lr": 0.1, "opt": "sgd", "layers": 3},
            value=math.inf,
            fail_reason="objective returned inf",
            traceback="Traceback ...",
            attrs={"grad_norm": [1.0, math.nan], "nested": {"x": -math.inf}},
        ),
        hs.TrialRecord(
            number=2,
            state=S.FAILED,
            params={"lr": 0.01},
            value=-math.inf,
            metrics={"acc": math.nan},
            fail_reason="objective returned -inf",
        ),
        hs.TrialRecord(number=3, state=S.STOPPED, params={}, value=None, source="manual"),
    ]


def test_rows_are_flat() -> None:
    rows = trials_to_rows(records(), metric="acc")
    assert [r["number"] for r in rows] == [0, 1, 2, 3]
    first = rows[0]
    assert first["state"] == "COMPLETE"
    assert first["acc"] == 0.25
    assert first["params.lr"] == 1e-3 and first["params.opt"] == "adam"
    assert first["metrics.loss"] == 0.5 and first["metrics.overflow"] == math.inf
    assert first["steps"] == 2
    assert first["duration_s"] == 12.5
    assert first["started"] == "2023-11-14T22:13:20+00:00"
    assert first["host"] == "node-1" and first["gpu"] == "3"
    assert first["note"] == NOTE
    assert first["tags"] == "a,b,ünï"
    assert rows[1]["acc"] == math.inf and rows[2]["acc"] == -math.inf
    assert rows[1]["params.layers"] == 3 and "params.layers" not in rows[0]
    assert rows[3]["duration_s"] is None and rows[3]["started"] is None
    assert rows[3]["source"] == "manual"


def test_rows_default_metric_name() -> None:
    assert trials_to_rows(records()[:1])[0]["value"] == 0.25
    assert trials_to_rows([]) == []


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_parses_back(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    write_csv(records(), path, metric="acc")
    rows = _read_csv(path.read_text(encoding="utf-8"))
    assert len(rows) == 4
    header = list(rows[0])
    assert header[:3] == ["number", "state", "acc"]
    # columns are the union over all rows, in first-seen order
    assert "params.layers" in header and "metrics.acc" in header
    assert rows[0]["note"] == NOTE
    assert rows[0]["tags"] == "a,b,ünï"
    assert float(rows[0]["acc"]) == 0.25
    assert float(rows[0]["metrics.overflow"]) == math.inf
    assert float(rows[1]["acc"]) == math.inf
    assert float(rows[2]["acc"]) == -math.inf
    assert math.isnan(float(rows[2]["metrics.acc"]))
    assert rows[3]["acc"] == "" and rows[0]["params.layers"] == ""


def test_csv_to_a_stream_matches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv(records(), path)
    buffer = io.StringIO(newline="")
    write_csv(records(), buffer)
    assert _read_csv(buffer.getvalue()) == _read_csv(path.read_text(encoding="utf-8"))


def test_csv_of_no_trials_has_a_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_csv([], path)
    assert path.read_text(encoding="utf-8").strip() == "number"


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_json_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "trials.json"
    write_json(records(), path, metric="acc")
    data = _strict(path.read_text(encoding="utf-8"))
    assert [d["number"] for d in data] == [0, 1, 2, 3]
    first, second, third, fourth = data
    assert first["acc"] == 0.25
    assert first["metrics"] == {"loss": 0.5, "overflow": "inf"}
    assert first["curve"] == {"0": 0.9, "1": "nan"}
    assert first["note"] == NOTE
    assert first["tags"] == ["a,b", "ünï"]
    assert first["attrs"] == {"size": 10}  # internal fixed_params are not exported
    assert first["duration_s"] == 12.5
    assert first["params"] == {"lr": 1e-3, "opt": "adam"}
    assert second["acc"] == "inf"
    assert second["attrs"] == {"grad_norm": [1.0, "nan"], "nested": {"x": "-inf"}}
    assert second["traceback"] == "Traceback ..."
    assert third["acc"] == "-inf" and third["metrics"] == {"acc": "nan"}
    assert fourth["acc"] is None and fourth["curve"] == {}


def test_json_to_a_stream(tmp_path: Path) -> None:
    buffer = io.StringIO()
    write_json(records(), buffer)
    assert buffer.getvalue().endswith("\n")
    assert _strict(buffer.getvalue())[0]["value"] == 0.25


def test_json_non_finite_params_and_attrs_from_a_real_study(tmp_path: Path) -> None:
    study = hs.create_study(space={"x": hs.Float(0.0, 1.0)}, seed=0)
    study.add_trial({"x": 0.5, "clip": math.inf}, 1.0, note=NOTE)
    trial = study.ask()
    trial.report(math.nan)
    trial.report(-math.inf)
    trial.set_attr("loss_scale", math.nan)
    study.tell(trial, math.inf)
    path = tmp_path / "study.json"
    write_json(study.trials, path)
    data = _strict(path.read_text(encoding="utf-8"))
    assert data[0]["params"]["clip"] == "inf"
    assert data[0]["note"] == NOTE
    assert data[1]["value"] == "inf"
    assert data[1]["curve"] == {"0": "nan", "1": "-inf"}
    assert data[1]["attrs"] == {"loss_scale": "nan"}
    write_csv(study.trials, tmp_path / "study.csv")
    rows = _read_csv((tmp_path / "study.csv").read_text(encoding="utf-8"))
    assert rows[0]["note"] == NOTE and float(rows[1]["value"]) == math.inf


@pytest.mark.parametrize("writer", [write_csv, write_json])
def test_writers_accept_str_paths(tmp_path: Path, writer: Any) -> None:
    target = str(tmp_path / "out.txt")
    writer(records(), target)
    assert Path(target).read_text(encoding="utf-8")
