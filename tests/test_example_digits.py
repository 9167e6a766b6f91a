"""End to end: examples/digits_mlp.py runs as a real process, fills a study, and resumes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.cells import cell_len

pytest.importorskip("torch")
pytest.importorskip("sklearn")

import hypersearch as hs
from hypersearch.tables import format_number

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits_mlp.py"
NAME = "digits-mlp"
EPOCHS = 3
#: As after the README's set-up: the venv is not activated, so its bin/ is not on the PATH.
ENV = {
    **os.environ,
    "PATH": os.pathsep.join(
        p
        for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
        if Path(p).resolve() != Path(sys.executable).parent.resolve()
    ),
    "COLUMNS": "80",
}


def _run(storage: str, trials: int, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "--trials",
            str(trials),
            "--epochs",
            str(EPOCHS),
            "--storage",
            storage,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=EXAMPLE.parent,
        env=ENV,
    )


def _ctrl_c_reaches_the_child() -> None:
    """A shell that starts pytest in the background without job control ignores SIGINT, and
    children inherit an ignored signal; the example must see Ctrl-C as a terminal sends it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _check(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def test_digits_example_runs_and_resumes(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/d.db"
    first = _run(storage, trials=4)
    _check(first)

    study = hs.load_study(NAME, storage=storage)
    trials = study.trials
    # The enqueued baseline is claimed first and counts toward n_trials.
    assert [t.number for t in trials] == [0, 1, 2, 3]
    for t in trials:
        assert t.state is hs.TrialState.COMPLETE, (t.number, t.fail_reason)
        assert t.value is not None and 0.0 < t.value <= 1.0
        assert sorted(t.intermediate) == list(range(EPOCHS))
        assert t.value == pytest.approx(t.intermediate[EPOCHS - 1])
        assert t.attrs["n_params"] > 0
        assert set(t.params) == {*study.space, "layers"}
        assert 1 <= t.params["layers"] <= 3
    baseline = trials[0]
    assert baseline.source == "enqueued"
    assert baseline.note == "baseline: a hand-picked setting"
    assert baseline.params["optimizer"] == "sgd"
    assert baseline.params["lr"] == pytest.approx(1e-2)
    assert sum(t.note.startswith("baseline") for t in trials) == 1

    out = first.stdout
    assert f"Best val_accuracy: {format_number(study.best_value)}" in out
    assert "resumes the same study" in out
    _check_top5_fits_80_columns(out, study)
    _check_hints_run_as_printed(out, storage)
    # in a log, progress is one plain line per finished trial, not a squashed bar
    lines = [line for line in first.stderr.splitlines() if line.startswith(f"[{NAME} ")]
    assert [line.split("]")[0] for line in lines] == [f"[{NAME} {i}/4" for i in range(1, 5)]
    assert all(" COMPLETE val_accuracy=" in line and "; best " in line for line in lines)
    assert "━" not in first.stderr and "…" not in first.stderr

    second = _run(storage, trials=2)
    _check(second)
    assert "Resuming" in second.stdout
    resumed = hs.load_study(NAME, storage=storage).trials
    assert [t.number for t in resumed] == list(range(6))
    assert all(t.state is hs.TrialState.COMPLETE for t in resumed)
    # No second baseline, and the first run's trials are untouched.
    assert sum(t.note.startswith("baseline") for t in resumed) == 1
    assert [(t.params, t.value) for t in resumed[:4]] == [(t.params, t.value) for t in trials]


def _check_top5_fits_80_columns(out: str, study: hs.Study) -> None:
    """COLUMNS=80: the top-5 table's lines fit and its numbers are whole (never cut)."""
    table = out.split("Top 5 of")[1].split("Where to look next")[0]
    assert all(cell_len(line) <= 80 for line in table.splitlines()), table
    for t in study.top(5):
        row = next(line for line in table.splitlines() if line.split()[:1] == [str(t.number)])
        assert format_number(t.value) in row.split()
        for name in ("lr", "weight_decay", "momentum", "dropout"):
            assert format_number(t.params[name]) in row.split(), (name, row)


def _check_hints_run_as_printed(out: str, storage: str) -> None:
    """Each "where to look next" command runs as printed, in the folder the example ran in,
    with the PATH the user has (the venv not activated)."""
    hints = out.split("Where to look next:")[1].splitlines()[1:4]
    assert [h.split(" --storage ")[1] for h in hints] == [storage] * 3
    for hint in hints:
        proc = subprocess.run(
            ["bash", "-c", hint.strip()],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=EXAMPLE.parent,
            env=ENV,
        )
        assert proc.returncode == 0, (hint, proc.stderr)
        assert NAME in proc.stdout or hint.strip().split()[1] == "best"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX-only")
def test_digits_example_ctrl_c_keeps_results(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/d.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLE),
            "--trials",
            "1000",
            "--epochs",
            str(EPOCHS),
            "--storage",
            storage,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=EXAMPLE.parent,
        env=ENV,
        preexec_fn=_ctrl_c_reaches_the_child,
    )
    try:
        deadline = time.monotonic() + 60
        done: list[hs.TrialRecord] = []
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                done = hs.load_study(NAME, storage=storage).get_trials(["COMPLETE"])
            except hs.HypersearchError:
                continue  # the study is not created yet
            if done:
                break
        assert done, "the example finished no trial within 60 s"
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert f"interrupted; results so far are kept in {storage}; re-run to resume" in err
    trials = hs.load_study(NAME, storage=storage).trials
    assert len([t for t in trials if t.state is hs.TrialState.COMPLETE]) >= len(done)
    assert not [t for t in trials if t.state is hs.TrialState.RUNNING]
