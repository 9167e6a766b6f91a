"""Tables that fit the terminal, the compact number format, and progress output (bar on a
terminal, one plain line per trial elsewhere)."""

from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

import hypersearch as hs
from hypersearch.progress import study_progress
from hypersearch.tables import Column, fit_table, format_number, terminal_width


# -- numbers ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.98437, "0.9844"),  # rounded, not truncated (0.9843)
        (0.99996, "1"),
        (0.0040512, "0.004051"),
        (3.4567e-6, "3.46e-06"),
        (1e-5, "1e-05"),
        (0.001, "0.001"),
        (12.345, "12.35"),
        (128.0, "128"),
        (1234.5, "1234"),
        (12345.6, "12346"),
        (123456.0, "1.23e+05"),
        (-0.0123456, "-0.01235"),
        (0.0, "0"),
        (1e300, "1e+300"),
        (128, "128"),
        (10**12, "1000000000000"),  # integers exactly
        (np.float32(0.25), "0.25"),
        (np.int64(7), "7"),
        (True, "True"),
        ("adam", "adam"),
        (None, "-"),
        (math.nan, "nan"),
        (-math.inf, "-inf"),
    ],
)
def test_format_number(value: object, text: str) -> None:
    assert format_number(value) == text


def test_format_number_stays_narrow_and_close() -> None:
    rng = np.random.default_rng(0)
    for x in 10 ** rng.uniform(-12, 12, 2000) * rng.choice([-1, 1], 2000):
        text = format_number(float(x))
        assert len(text) <= 9, text  # sign + 8
        # 4 significant digits (3 in scientific notation): relative error below 0.5e-2
        assert abs(float(text) - x) <= 5e-3 * abs(x), (x, text)


# -- layout ---------------------------------------------------------------------------------------
def _cols() -> list[Column]:
    return [
        Column("#", ("1", "2"), "right", priority=0),
        Column("val_accuracy", ("0.9844", "0.9"), "right", priority=1),
        Column("weight_decay", ("3.46e-06", "0.001"), "right", priority=11),
        Column("optimizer", ("adam", "sgd"), "right", priority=12),
        Column("tags", ("", ""), cut=True, priority=90),
        Column("note", ("a long note that goes on and on", ""), cut=True, priority=60),
    ]


def test_empty_columns_are_left_out_unless_kept() -> None:
    assert [c.name for c in fit_table(_cols(), None).columns] == [
        "#",
        "val_accuracy",
        "weight_decay",
        "optimizer",
        "note",
    ]
    kept = [*_cols()[:4], Column("tags", ("", "-"), keep=True)]
    assert fit_table(kept, None).columns[-1].name == "tags"


def test_text_is_cut_at_its_end_then_the_gap_narrows_then_columns_hide() -> None:
    wide = fit_table(_cols(), 200)
    assert wide.gap == 2 and not wide.hidden
    assert "a long note that goes on and on" in wide.text()

    cut = fit_table(_cols(), 50)
    assert not cut.hidden and cut.gap == 2
    lines = cut.text().splitlines()
    assert all(cell_len(line) <= 50 for line in lines)
    assert any(line.endswith("…") and "a long note" in line for line in lines)
    # headers wrap after "_" rather than widening a column of short numbers
    assert "val_" in lines[0] and "accuracy" in lines[1]

    tight = fit_table(_cols(), 39)
    assert not tight.hidden and tight.gap == 1 and "note" in [c.name for c in tight.columns]

    narrow = fit_table(_cols(), 25, hidden_hint="pick columns with --columns")
    assert narrow.hidden == ("optimizer", "note")  # highest priority number first
    text = narrow.text()
    assert all(cell_len(line) <= 25 for line in text.splitlines())
    assert "3.46e-06" in text and "0.9844" in text
    assert "Not shown in 25 columns: optimizer, note; pick columns" in " ".join(text.split())


def test_columns_that_never_hide_are_printed_even_when_too_wide() -> None:
    table = fit_table([Column("#", ("123456789",), priority=0)], 4)
    assert table.columns[0].cells == ("123456789",) and "123456789" in table.text()


def test_wide_characters_count_as_two_cells() -> None:
    cols = [
        Column("#", ("1",), priority=0),
        Column("note", ("🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀",), cut=True),
        Column("x", ("1.5",), "right", priority=1),
    ]
    text = fit_table(cols, 20).text()
    assert all(cell_len(line) <= 20 for line in text.splitlines()), text
    assert text.splitlines()[-1].endswith("1.5")


def test_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "93")
    assert terminal_width(io.StringIO()) == 93
    monkeypatch.delenv("COLUMNS")
    assert terminal_width(io.StringIO()) is None  # a pipe or file: no limit


# -- progress -------------------------------------------------------------------------------------
def _study(tmp_path: Path) -> hs.Study:
    return hs.create_study(
        "prog",
        space={"lr": hs.Float(1e-5, 1e-1, log=True), "opt": hs.Choice(["sgd", "adam"])},
        direction="maximize",
        metric="acc",
        storage=f"sqlite:///{tmp_path}/p.db",
        seed=0,
    )


def _objective(trial: hs.Trial) -> float:
    if trial.number == 2:
        raise ValueError("diverged\nat epoch 3")
    if trial.number == 3:
        trial.report(0.25, step=1)
        raise hs.TrialPruned()
    return 0.5 + 0.1 * trial.number


def test_progress_in_a_log_is_one_plain_line_per_trial(tmp_path: Path) -> None:
    """show_progress=True in a pipe: no bar (it would be one squashed line), a line per trial."""
    code = (
        "import sys, hypersearch as hs\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_tables import _objective, _study\n"
        "from pathlib import Path\n"
        f"study = _study(Path({str(tmp_path)!r}))\n"
        "study.optimize(_objective, n_trials=5, show_progress=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("[prog ")]
    assert len(lines) == 5, proc.stderr
    assert "━" not in proc.stderr and "\r" not in proc.stderr and "\x1b" not in proc.stderr
    assert lines[0].startswith("[prog 1/5] trial 0 COMPLETE acc=0.5 in ")
    assert "; best acc=0.5 (trial 0); lr=" in lines[0] and "opt=" in lines[0]
    assert lines[2].startswith("[prog 3/5] trial 2 FAILED in ")
    assert "ValueError: diverged at epoch 3" in lines[2]  # one line, even for a multi-line error
    assert lines[3].startswith("[prog 4/5] trial 3 STOPPED at step 1 acc=0.25 in ")
    assert "; best acc=0.9 (trial 4);" in lines[4]


def test_progress_on_a_terminal_is_a_bar_that_fits_80_columns(tmp_path: Path) -> None:
    study = _study(tmp_path)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    with study_progress(study, 30, console=console) as update:
        for _ in range(4):
            trial = study.ask()
            try:
                value = _objective(trial)
            except (ValueError, hs.TrialPruned):
                study.tell(trial, state="FAILED")
            else:
                study.tell(trial, value)
            update(study.get_trial(trial.number))
    final = out.getvalue().split("\r")[-1].splitlines()[0].replace("\x1b[2K", "")
    assert "━" in final and "4/30" in final
    assert "best 0.6 (trial 1) · 2 failed" in final
    assert "…" not in final and cell_len(final) <= 80
