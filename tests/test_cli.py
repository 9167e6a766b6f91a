"""Tests for the ``hypersearch`` command, in process through ``main`` and as a real program."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from rich.cells import cell_len, get_character_cell_size

import hypersearch as hs
from hypersearch import cli
from hypersearch.storage import engine as storage_engine
from hypersearch.storage import sql as sql_storage
from hypersearch.tables import format_number

SPACE = {
    "lr": hs.Float(1e-4, 1e-1, log=True),
    "batch": hs.Int(8, 128, scale="pow2"),
    "opt": hs.Choice(["sgd", "adam"]),
}
XSS = "<script>alert(1)</script>"
MARKUP_TAG = "[bold]hot[/bold]"
UNICODE_NOTE = "Zoë's baseline ✓ 🚀"
BEST_PARAMS = {"lr": 0.01, "batch": 64, "opt": "adam"}


class _Terminal(io.StringIO):
    """A stdin that claims to be a terminal, with the user's answer already typed."""

    def isatty(self) -> bool:
        return True


def _cells(line: str) -> list[str]:
    """``line`` as terminal cells: a wide character fills two (the second is empty)."""
    out: list[str] = []
    for ch in line:
        out += [ch] + [""] * (get_character_cell_size(ch) - 1)
    return out


def _table(out: str) -> tuple[list[str], list[list[str]]]:
    """The column names and body rows of the first table in ``out``, cut along the runs of
    ``─`` in its rule line; a header wrapped over two lines is joined again."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line and set(line) <= {"─", " "})
    spans = []
    start = None
    for i, ch in enumerate(lines[rule] + " "):
        if ch == "─" and start is None:
            start = i
        elif ch != "─" and start is not None:
            spans.append((start, i))
            start = None

    def split(line: str) -> list[str]:
        cells = _cells(line)
        return ["".join(cells[a:b]).strip() for a, b in spans]

    header_lines = []
    i = rule - 1
    while (
        i >= 0
        and lines[i].strip()
        and not any(
            lines[i][a - 1 : a] not in ("", " ") for a, _ in spans[1:] if a <= len(lines[i])
        )
    ):
        header_lines.insert(0, split(lines[i]))
        i -= 1
    names = []
    for parts in zip(*header_lines, strict=True):
        name = ""
        for part in parts:
            if name and part and not name.endswith(("_", "-", "/", ".")):
                name += " "
            name += part
        names.append(name)
    rows = []
    for line in lines[rule + 1 :]:
        if not line.strip() or line.startswith(("Not shown", "─")):
            break
        rows.append(split(line))
    return names, rows


def _rows(out: str) -> list[list[str]]:
    """The body cells of the table in ``out``."""
    return _table(out)[1]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.ENV_STORAGE, raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real SQLite study with every kind of trial, built once and copied for each test:

    0 COMPLETE 0.80 (sampled)     1 COMPLETE 0.95 (sampled, best, noted, tagged)
    2 FAILED with a traceback     3 STOPPED after reporting 0.5
    4 COMPLETE 0.90 (manual, XSS note, markup tag)   5 WAITING (enqueued, unicode note)
    and an empty study "empty".
    """
    path = tmp_path_factory.mktemp("template") / "s.db"
    storage = f"sqlite:///{path}"
    study = hs.create_study(
        "digits", space=SPACE, direction="maximize", storage=storage, sampler="random", seed=0
    )
    study.tell(study.ask(), 0.80)
    best = study.ask()
    study.tell(best, 0.95)
    study.set_note(best.number, "best so far")
    study.add_tags(best.number, "keep")

    def broken(trial: hs.Trial) -> float:
        raise ValueError("bad batch <b>size</b>")

    study.optimize(broken, n_trials=1, show_progress=False)
    stopped = study.ask()
    stopped.report(0.5, step=0)
    study.tell(stopped, state="STOPPED")
    study.add_trial(
        {"lr": 1e-3, "batch": 32, "opt": "sgd"}, 0.90, note=XSS, tags=["manual", MARKUP_TAG]
    )
    study.enqueue({"lr": 0.05}, note=UNICODE_NOTE + "\x1b[31m", tags=["baseline"])
    empty = hs.create_study("empty", space=SPACE, storage=storage)
    empty.storage.close()
    study.storage.close()  # checkpoints the WAL, so the .db file alone holds everything
    return path


@pytest.fixture
def url(template: Path, tmp_path: Path) -> str:
    """A fresh copy of the template database for this test."""
    shutil.copyfile(template, tmp_path / "s.db")
    return f"sqlite:///{tmp_path}/s.db"


# studies -------------------------------------------------------------------------------
def test_studies_lists_counts_best_value_and_last_activity(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "studies", "--storage", url)
    assert code == 0, err
    assert "Studies in sqlite:///" in out
    names, body = _table(out)
    # no study has a RUNNING trial, so that column carries nothing and is left out
    assert names == [
        "study",
        "direction",
        "metric",
        "complete",
        "stopped",
        "failed",
        "waiting",
        "best",
        "last activity",
    ]
    rows = {r[0]: r for r in body}
    assert rows["digits"][:8] == ["digits", "maximize", "value", "3", "1", "1", "1", "0.95"]
    assert rows["digits"][8][:2] == "20"  # a local date
    assert rows["empty"][1:8] == ["minimize", "value", "", "", "", "", "-"]


def test_storage_comes_from_env_or_the_global_option(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(capsys, "--storage", url, "studies")
    assert code == 0 and "digits" in out
    monkeypatch.setenv(cli.ENV_STORAGE, url)
    code, out, _ = _run(capsys, "studies")
    assert code == 0 and "digits" in out


def test_default_storage_is_never_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["studies"], ["trials", "digits"], ["best", "x"], ["upgrade"]):
        code, _, err = _run(capsys, *argv)
        assert code == 1
        line = _one_error_line(err)
        assert f"no database at {tmp_path / 'hypersearch.db'}" in line
        assert "run a study first or pass --storage" in line
    assert list(tmp_path.iterdir()) == []


def test_missing_database_file_given_explicitly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope" / "x.db"
    for given in (f"sqlite:///{missing}", str(missing)):
        code, _, err = _run(capsys, "studies", "--storage", given)
        assert code == 1
        assert f"no database at {missing}" in _one_error_line(err)
    assert not missing.parent.exists()


def test_foreign_files_are_not_touched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    code, _, err = _run(capsys, "studies", "--storage", str(empty))
    assert code == 1 and "is not a hypersearch database" in _one_error_line(err)
    assert empty.stat().st_size == 0
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all " * 100)
    code, _, err = _run(capsys, "studies", "--storage", str(text))
    assert code == 1 and f"cannot read {text}" in _one_error_line(err)


# trials --------------------------------------------------------------------------------
def test_trials_best_first_with_params_and_annotations(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "trials", "digits", "--storage", url)
    assert code == 0, err
    columns, rows = _table(out)
    assert columns == [
        "#",
        "state",
        "value",
        "lr",
        "batch",
        "opt",
        "duration",
        "source",
        "note",
        "tags",
        "fail reason",
    ]
    assert [r[0] for r in rows] == ["1", "4", "0", "2", "3", "5"]
    by_number = {r[0]: dict(zip(columns, r, strict=True)) for r in rows}
    assert by_number["1"]["value"] == "0.95" and by_number["1"]["note"] == "best so far"
    assert by_number["1"]["tags"] == "keep"
    assert by_number["4"]["source"] == "manual" and by_number["4"]["note"] == XSS
    assert by_number["4"]["tags"] == f"manual, {MARKUP_TAG}"  # markup shown, not applied
    assert by_number["2"]["state"] == "FAILED"
    assert by_number["2"]["fail reason"] == "ValueError: bad batch <b>size</b>"
    assert by_number["3"]["state"] == "STOPPED" and by_number["3"]["value"] == "0.5"
    waiting = by_number["5"]
    assert waiting["state"] == "WAITING" and waiting["source"] == "enqueued"
    assert waiting["lr"] == "0.05"  # the parameters it was queued with
    assert waiting["note"].startswith(UNICODE_NOTE)
    assert "\x1b" not in out and "\\x1b[31m" in out  # no terminal escape injection
    assert "Traceback" not in out
    assert "digits: 6 trials, value (maximize)" in out


def test_trials_sort_limit_and_state_filters(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "trials", "digits", "--sort", "number", "--storage", url)
    assert code == 0 and [r[0] for r in _rows(out)] == ["0", "1", "2", "3", "4", "5"]
    code, out, _ = _run(capsys, "trials", "digits", "--limit", "2", "--storage", url)
    assert code == 0 and [r[0] for r in _rows(out)] == ["1", "4"]
    assert "2 of 6 trials" in out
    code, out, _ = _run(
        capsys, "trials", "digits", "--state", "complete", "stopped", "--storage", url
    )
    assert code == 0 and [r[0] for r in _rows(out)] == ["1", "4", "0", "3"]
    code, out, _ = _run(capsys, "trials", "digits", "--state", "RUNNING", "--storage", url)
    assert code == 0 and "No RUNNING trials in study digits." in out


def test_trials_state_failed_prints_tracebacks(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "trials", "digits", "--state", "FAILED", "--storage", url)
    assert code == 0, err
    assert [r[0] for r in _rows(out)] == ["2"]
    assert "trial 2: ValueError: bad batch <b>size</b>" in out
    assert "Traceback (most recent call last)" in out
    assert "in broken" in out
    assert out.rstrip().endswith("ValueError: bad batch <b>size</b>")


def test_trials_bad_arguments_are_usage_errors(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "trials", "digits", "--state", "DONE", "--storage", url)
    assert code == 2 and "unknown state 'DONE'" in err
    code, _, err = _run(capsys, "trials", "digits", "--limit", "0", "--storage", url)
    assert code == 2 and "--limit" in err


def test_missing_study_is_one_line_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("trials", "best", "delete"):
        code, out, err = _run(capsys, command, "nope", "--storage", url)
        assert code == 1 and out == ""
        line = _one_error_line(err)
        assert "No study named 'nope'" in line and "'digits'" in line


# best ----------------------------------------------------------------------------------
def test_best_prints_params_as_json(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    study = hs.load_study("digits", storage=url)
    code, out, _ = _run(capsys, "best", "digits", "--storage", url)
    assert code == 0 and json.loads(out) == study.best_params
    code, out, _ = _run(capsys, "best", "digits", "--full", "--storage", url)
    assert code == 0
    assert json.loads(out) == {"number": 1, "value": 0.95, "params": study.best_params}


def test_best_without_completed_trial_fails(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "best", "empty", "--storage", url)
    assert code == 1 and out == ""
    line = _one_error_line(err)
    assert "no completed trial" in line and "hypersearch trials empty" in line


def test_best_minimize_and_infinite_value_stay_strict_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = f"sqlite:///{tmp_path}/m.db"
    study = hs.create_study("loss", space=SPACE, storage=storage)
    study.add_trial(BEST_PARAMS, 0.3)
    study.add_trial({"lr": 0.02, "batch": 8, "opt": "sgd"}, 0.1)
    code, out, _ = _run(capsys, "best", "loss", "--full", "--storage", storage)
    assert code == 0 and json.loads(out)["number"] == 1
    with sqlite3.connect(tmp_path / "m.db") as conn:  # ±inf is stored exactly
        conn.execute("UPDATE hs_trials SET value = ? WHERE number = 0", (-math.inf,))
    code, out, _ = _run(capsys, "best", "loss", "--full", "--storage", storage)
    assert code == 0 and json.loads(out) == {"number": 0, "value": "-inf", "params": BEST_PARAMS}


# export --------------------------------------------------------------------------------
def test_export_csv_file(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    code, out, err = _run(capsys, "export", "digits", "-o", str(target), "--storage", url)
    assert code == 0 and out == ""
    assert "Exported 6 trials of study digits" in err
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3, 4, 5]
    assert float(rows[1]["value"]) == 0.95
    assert rows[4]["note"] == XSS and rows[4]["tags"] == f"manual,{MARKUP_TAG}"
    assert rows[4]["params.lr"] == "0.001" and rows[4]["params.opt"] == "sgd"
    assert rows[2]["state"] == "FAILED" and rows[2]["fail_reason"].startswith("ValueError")
    assert rows[5]["note"].startswith(UNICODE_NOTE)


def test_export_json_file_and_stdout(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "OUT.JSON"
    code, _, _ = _run(capsys, "export", "digits", "-o", str(target), "--storage", url)
    assert code == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [d["number"] for d in data] == [0, 1, 2, 3, 4, 5]
    assert "Traceback" in data[2]["traceback"] and data[2]["state"] == "FAILED"
    assert data[3]["curve"] == {"0": 0.5}
    assert data[5]["tags"] == ["baseline"] and data[4]["note"] == XSS

    code, out, _ = _run(
        capsys, "export", "digits", "-o", "-", "--format", "json", "--storage", url
    )
    assert code == 0 and json.loads(out) == data
    code, out, _ = _run(capsys, "export", "digits", "-o", "-", "--storage", url)
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 6


def test_export_errors(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "export", "digits", "-o", "out.txt", "--storage", url)
    assert code == 1 and "--format csv|json" in _one_error_line(err)
    assert not (tmp_path / "out.txt").exists()
    bad = tmp_path / "no" / "such" / "x.csv"
    code, _, err = _run(capsys, "export", "digits", "-o", str(bad), "--storage", url)
    assert code == 1 and f"cannot write {bad}" in _one_error_line(err)


# delete --------------------------------------------------------------------------------
def test_delete_with_yes(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "delete", "digits", "--yes", "--storage", url)
    assert code == 0 and "Deleted study digits with 6 trials" in out
    code, out, _ = _run(capsys, "studies", "--storage", url)
    assert [r[0] for r in _rows(out)] == ["empty"]
    code, _, err = _run(capsys, "trials", "digits", "--storage", url)
    assert code == 1 and "No study named 'digits'" in err


def test_delete_without_tty_refuses(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, _, err = _run(capsys, "delete", "digits", "--storage", url)
    assert code == 1 and "pass --yes" in _one_error_line(err)
    assert len(hs.load_study("digits", storage=url).trials) == 6


@pytest.mark.parametrize(
    ("answer", "deleted"),
    [("y\n", True), ("YES\n", True), ("n\n", False), ("\n", False), ("", False)],
)
def test_delete_asks_on_a_terminal(
    url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    deleted: bool,
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    code, _, err = _run(capsys, "delete", "digits", "--storage", url)
    assert "Delete study digits with 6 trials? [y/N]" in err
    assert code == (0 if deleted else 1)
    names = [s.name for s in sql_storage.SQLStorage(url).list_studies()]
    assert ("digits" in names) is not deleted


# note and tag --------------------------------------------------------------------------
def test_note_and_tag(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "note", "digits", "0", "retry with warmup ✓", "--storage", url)
    assert code == 0 and "Trial 0 of study digits: note set." in out
    code, out, _ = _run(capsys, "tag", "digits", "0", "warmup", "[red]x[/red]", "--storage", url)
    assert code == 0 and "tags warmup, [red]x[/red]" in out
    code, out, _ = _run(capsys, "tag", "digits", "0", "warmup", "--remove", "--storage", url)
    assert code == 0 and "tags [red]x[/red]." in out
    trial = hs.load_study("digits", storage=url).get_trial(0)
    assert trial.note == "retry with warmup ✓" and trial.tags == ("[red]x[/red]",)
    code, out, _ = _run(capsys, "note", "digits", "0", "", "--storage", url)
    assert code == 0 and "note cleared" in out
    assert hs.load_study("digits", storage=url).get_trial(0).note == ""


def test_note_and_tag_errors(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "note", "digits", "99", "x", "--storage", url)
    assert code == 1
    assert "no trial number 99 in study 'digits'" in _one_error_line(err)
    code, _, err = _run(capsys, "tag", "digits", "99", "x", "--storage", url)
    assert code == 1 and "no trial number 99" in err
    code, _, err = _run(capsys, "tag", "digits", "0", "  ", "--storage", url)
    assert code == 1 and "non-empty" in _one_error_line(err)
    code, _, err = _run(capsys, "note", "digits", "-1", "x", "--storage", url)
    assert code == 2 and "whole number >= 0" in err


# upgrade and schema versions ------------------------------------------------------------
def _set_schema_version(url: str, version: int) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE hs_meta SET value = ? WHERE key = 'schema_version'", (str(version),))


def test_upgrade_reports_current_schema(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "upgrade", "--storage", url)
    assert code == 0 and "schema v2 is current" in out


def test_newer_schema_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _set_schema_version(url, 3)
    for argv in (["studies"], ["upgrade"]):
        code, _, err = _run(capsys, *argv, "--storage", url)
        assert code == 1 and "schema is v3" in _one_error_line(err)


def test_older_schema_points_to_upgrade_which_migrates(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_schema_version(url, 0)
    code, _, err = _run(capsys, "studies", "--storage", url)
    assert code == 1 and "hypersearch upgrade --storage" in _one_error_line(err)
    code, _, err = _run(capsys, "upgrade", "--storage", url)  # v0 never shipped
    assert code == 1 and "No upgrade from schema v0" in _one_error_line(err)

    # a database written by the release before (schema v1; see tests/test_multiobjective.py)
    old = tmp_path / "v1.db"
    shutil.copyfile(Path(__file__).parent / "data" / "schema_v1.db", old)
    code, _, err = _run(capsys, "studies", "--storage", str(old))
    assert code == 1 and "older than v2" in _one_error_line(err)
    code, out, _ = _run(capsys, "upgrade", "--storage", str(old))
    assert code == 0 and "upgraded schema v1 -> v2" in out
    code, out, _ = _run(capsys, "studies", "--storage", str(old))
    assert code == 0 and "digits-v1" in out and "loss-v1" in out


# passwords -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "storage",
    [
        "postgresql://user:secret@127.0.0.1:1/db",
        "postgresql://:secret@127.0.0.1:1/db",
        "postgresql://user:secret@127.0.0.1:notaport/db",
        "postgresql://user:s%65cret@127.0.0.1:1/db",
    ],
)
def test_passwords_never_printed(
    storage: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_engine, "WRITE_RETRIES", 1)  # fail fast if a driver is installed
    monkeypatch.setattr(storage_engine.time, "sleep", lambda s: None)
    for argv in (["studies"], ["trials", "digits"], ["upgrade"]):
        code, out, err = _run(capsys, *argv, "--storage", storage)
        assert code == 1
        line = _one_error_line(err)
        assert "secret" not in out + err and "s%65cret" not in err
        assert "***" in line


# the real program ------------------------------------------------------------------------
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.strip() == f"hypersearch {hs.__version__}"
    code, _, err = _run(capsys)
    assert code == 2 and "COMMAND" in err


def _program() -> Path:
    exe = Path(sys.executable).parent / "hypersearch"
    if not exe.exists():
        pytest.skip("the hypersearch console script is not installed in this environment")
    return exe


def test_console_script(url: str, tmp_path: Path) -> None:
    """Two real runs of the installed command, side by side (each pays the import time)."""
    env = {"PATH": "/usr/bin:/bin", cli.ENV_STORAGE: url, "PYTHONIOENCODING": "utf-8"}
    runs = [
        subprocess.Popen(
            [_program(), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for argv in (["best", "digits", "--full"], ["trials", "nope"])
    ]
    (best_out, best_err), (failed_out, failed_err) = (r.communicate(timeout=60) for r in runs)
    assert runs[0].returncode == 0, best_err
    assert json.loads(best_out)["number"] == 1
    assert runs[1].returncode == 1 and failed_out == ""
    assert failed_err.startswith("error: No study named 'nope'")
    assert len(failed_err.strip().splitlines()) == 1 and "Traceback" not in failed_err


# tables that fit the terminal ------------------------------------------------------------
WIDE_SPACE = {
    "lr": hs.Float(1e-6, 1.0, log=True),
    "momentum": hs.Float(0.5, 0.999, scale="log1m"),
    "batch_size": hs.Int(16, 1024, scale="pow2"),
    "units": hs.Int(32, 4096, step=32),
    "dropout": hs.Float(0.0, 0.5),
    "weight_decay": hs.Float(1e-9, 1e-2, log=True),
    "optimizer": hs.Choice(["sgd", "adamw", "rmsprop"]),
}


@pytest.fixture
def wide(tmp_path: Path) -> str:
    """A real SQLite study with 7 parameters and every state, notes, tags and long values."""
    storage = f"sqlite:///{tmp_path}/wide.db"
    study = hs.create_study(
        "wide",
        space=WIDE_SPACE,
        direction="maximize",
        metric="val_accuracy",
        storage=storage,
        sampler="random",
        seed=3,
    )
    for i in range(8):
        trial = study.ask()
        study.tell(trial, 0.9 + i * 0.01234567)
    study.add_trial(
        {
            "lr": 3.4567e-6,
            "momentum": 0.99876,
            "batch_size": 1024,
            "units": 4096,
            "dropout": 0.123456,
            "weight_decay": 1.23456e-9,
            "optimizer": "rmsprop",
        },
        -12345.678,
        note="a long note about this manual run " * 4,
        tags=["manual", "checked"],
    )
    stopped = study.ask()
    stopped.report(0.5, step=0)
    study.tell(stopped, state="STOPPED")
    failed = study.ask()
    study.tell(failed, state="FAILED")
    study.enqueue({"lr": 0.05}, note="queued")
    study.storage.close()
    return storage


def _program_output(storage: str, *argv: str, columns: int) -> str:
    env = {"PATH": "/usr/bin:/bin", cli.ENV_STORAGE: storage, "PYTHONIOENCODING": "utf-8"}
    env["COLUMNS"] = str(columns)
    proc = subprocess.run([_program(), *argv], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_trials_at_80_columns_show_every_number_uncut(wide: str) -> None:
    """The installed command in a subprocess, COLUMNS=80, a 7-parameter study: every line
    fits, every number is there in full, and what had to go is named."""
    out = _program_output(wide, "trials", "wide", columns=80)
    assert all(cell_len(line) <= 80 for line in out.splitlines()), out
    names, rows = _table(out)
    assert names[:3] == ["#", "state", "val_accuracy"]
    assert set(WIDE_SPACE) <= set(names), names  # all 7 parameters are shown
    study = hs.load_study("wide", storage=wide)
    assert len(rows) == len(study.trials)
    for row in rows:
        cells = dict(zip(names, row, strict=True))
        trial = study.get_trial(int(cells["#"]))
        assert cells["val_accuracy"] == format_number(trial.value)
        shown = trial.params or trial.attrs.get("fixed_params", {})
        for name in WIDE_SPACE:
            assert "…" not in cells[name]
            assert cells[name] == (format_number(shown[name]) if name in shown else "")
    assert "3.46e-06" in out and "1.23e-09" in out and "-12346" in out
    assert "Not shown in 80 columns:" in out and "--columns" in out

    chosen = _program_output(
        wide, "trials", "wide", "--columns", "value,note,lr", "--sort", "number", columns=80
    )
    assert all(cell_len(line) <= 80 for line in chosen.splitlines()), chosen
    names, rows = _table(chosen)
    assert names == ["#", "val_accuracy", "note", "lr"]
    note = rows[8][2]
    assert note.startswith("a long note about") and note.endswith("…")  # cut at its end
    assert rows[8][3] == "3.46e-06"


def test_trials_leave_out_what_carries_no_information(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = f"sqlite:///{tmp_path}/plain.db"
    study = hs.create_study("plain", space=SPACE, storage=storage, sampler="random", seed=1)
    for i in range(3):
        study.tell(study.ask(), 0.1 * (i + 1))
    code, out, err = _run(capsys, "trials", "plain", "--storage", storage)
    assert code == 0, err
    names, rows = _table(out)
    # no state or source column (the same for all, said once), no empty note/tags/reason
    assert names == ["#", "value", "lr", "batch", "opt", "duration"]
    assert "every trial: state COMPLETE, source sampler" in out
    assert [r[1] for r in rows] == ["0.1", "0.2", "0.3"]
    code, out, _ = _run(capsys, "trials", "plain", "--columns", "state,tags", "--storage", storage)
    assert code == 0 and _table(out)[0] == ["#", "state", "tags"]  # chosen: shown even if empty


def test_trials_columns_errors(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "trials", "digits", "--columns", "lr,speed", "--storage", url)
    assert code == 1 and out == ""
    line = _one_error_line(err)
    assert "unknown column 'speed'" in line and "lr, batch, opt" in line
    code, _, err = _run(capsys, "trials", "digits", "--columns", ",", "--storage", url)
    assert code == 2 and "column names" in err
    code, out, _ = _run(
        capsys, "trials", "digits", "--columns", "NUMBER,Fail_Reason", "--storage", url
    )
    assert code == 0 and _table(out)[0] == ["#", "fail reason"]


def test_narrow_terminals_hide_whole_columns_never_cut_numbers(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for width in (40, 60, 100):
        monkeypatch.setenv("COLUMNS", str(width))
        for argv in (["trials", "digits"], ["studies"]):
            code, out, err = _run(capsys, *argv, "--storage", url)
            assert code == 0, err
            assert all(cell_len(line) <= width for line in out.splitlines()), (width, out)
            names, rows = _table(out)
            if "value" in names:
                values = [r[names.index("value")] for r in rows]
                assert values == ["0.95", "0.9", "0.8", "-", "0.5", "-"]
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = _run(capsys, "trials", "digits", "--storage", url)
    assert "Not shown in 40 columns: " in out and "source" in out.split("Not shown")[1]


# hints -------------------------------------------------------------------------------------
def test_program_name_is_a_command_that_runs_as_printed(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _program()
    venv_parent = script.parent.parent.parent
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(venv_parent)  # the README's set-up: the venv lies in the current folder
    printed = cli.program_name()
    assert printed == str(script.relative_to(venv_parent))  # e.g. .venv/bin/hypersearch
    monkeypatch.chdir(tmp_path)
    assert cli.program_name() == str(script)  # elsewhere: the absolute path
    assert cli.program_name(str(script)) == str(script)
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert cli.program_name() == "hypersearch"  # on the PATH: the bare name
    for cwd, path in ((venv_parent, "/usr/bin:/bin"), (tmp_path, "/usr/bin:/bin")):
        monkeypatch.setenv("PATH", path)
        monkeypatch.chdir(cwd)
        command = f"{cli.program_name()} best digits --storage {url}"
        proc = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=cwd
        )
        assert proc.returncode == 0, (command, proc.stderr)
        assert json.loads(proc.stdout) == hs.load_study("digits", storage=url).best_params


def test_program_name_without_an_installed_script_runs_the_module(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path / "no-scripts"))
    printed = cli.program_name("/somewhere/pytest")
    assert printed.endswith(" -m hypersearch.cli")
    proc = subprocess.run(
        ["bash", "-c", f"{printed} best digits --storage {url}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == hs.load_study("digits", storage=url).best_params


def test_a_single_state_is_not_repeated(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "trials", "digits", "--state", "COMPLETE", "--storage", url)
    assert code == 0
    assert "digits: 3 COMPLETE trials, value (maximize)" in out and "every trial" not in out
    assert "state" not in _table(out)[0]
