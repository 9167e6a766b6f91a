"""The thread executor (``executor="threads"``): trials of an I/O-bound objective run at once
in threads of this process, on any storage (in memory too), with define-by-run parameters and a
scheduler, the shared stop policy, and Ctrl-C recording the running trials as interrupted."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.execution import RunOptions, choose_executor
from hypersearch.execution.threads import ThreadExecutor
from hypersearch.trial import TrialState

SPACE = {"x": hs.Float(0.0, 1.0)}


def waiting(trial: hs.Trial) -> float:
    """I/O-bound: mostly waits (as on a remote job), and notes when and where it ran."""
    start = time.monotonic()
    time.sleep(0.15)
    trial.set_attr("span", [start, time.monotonic()])
    trial.set_attr("thread", threading.get_ident())
    return float(trial.params["x"])


def _overlapping(trials: list[hs.TrialRecord]) -> int:
    """The most trials that were running at one moment."""
    spans = [t.attrs["span"] for t in trials]
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)


def test_trials_run_at_once_in_threads(tmp_path: Path) -> None:
    assert isinstance(choose_executor("threads", RunOptions(n_workers=4)), ThreadExecutor)
    study = hs.create_study(
        "threads", space=SPACE, storage=f"sqlite:///{tmp_path / 't.db'}", sampler="random", seed=0
    )
    study.optimize(waiting, n_trials=12, n_workers=4, executor="threads")
    trials = study.trials
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert len({t.params["x"] for t in trials}) == 12
    assert len({t.attrs["thread"] for t in trials}) >= 2
    # 4 threads, each trial sleeping 0.15 s: trials overlap (a sequential run never would)
    assert _overlapping(trials) >= 2
    assert study.best_value == min(t.params["x"] for t in trials)


def test_in_memory_define_by_run_and_a_scheduler() -> None:
    study = hs.create_study(
        space=SPACE, sampler="tpe", seed=1, scheduler=hs.schedulers.ASHA(max_resource=9)
    )

    def objective(trial: hs.Trial) -> float:
        width = trial.int("width", 1, 8)  # define-by-run, sampled while other threads run
        value = 0.0
        for step in range(trial.start_step, 9):
            time.sleep(0.002)
            value = trial.params["x"] / width + 1.0 / (step + 1)
            trial.report(value, step=step)
            if trial.should_stop():
                break
        return value

    finished: list[int] = []
    study.optimize(
        objective,
        n_trials=30,
        n_workers=4,
        executor="threads",
        callbacks=[lambda s, r: finished.append(r.number)],
    )
    trials = study.trials
    assert len(trials) == 30 and sorted(finished) == list(range(30))
    assert all(t.state in (TrialState.COMPLETE, TrialState.STOPPED) for t in trials)
    assert any(t.state is TrialState.STOPPED for t in trials)  # ASHA stopped some
    assert all(1 <= t.params["width"] <= 8 for t in trials)


def test_failures_in_a_row_stop_with_the_shared_message() -> None:
    study = hs.create_study("broken", space=SPACE, seed=0)

    def broken(trial: hs.Trial) -> float:
        time.sleep(0.01)
        raise ValueError("remote job rejected")

    with pytest.raises(hs.TooManyFailuresError) as info:
        study.optimize(broken, n_trials=40, n_workers=3, executor="threads", max_failures=4)
    assert "trials in a row failed; the last one (trial" in str(info.value)
    assert "ValueError: remote job rejected" in str(info.value)
    assert "`hypersearch trials broken --state FAILED`" in str(info.value)
    trials = study.trials
    assert 4 <= len(trials) < 40  # stopped; the trials already running finished
    assert all(t.state is TrialState.FAILED for t in trials)


def test_ctrl_c_marks_the_running_trials_interrupted() -> None:
    study = hs.create_study(space=SPACE, seed=0)
    release = threading.Event()
    all_running = threading.Barrier(4)

    def objective(trial: hs.Trial) -> float:
        all_running.wait(5)  # the 4 threads' trials are running
        if trial.number == 3:
            _thread.interrupt_main()  # Ctrl-C arrives in the calling thread
        release.wait(5)
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=20, n_workers=4, executor="threads")
    running_then = study.trials
    release.set()
    assert len(running_then) == 4  # no trial was handed out after the interrupt
    assert all(t.state is TrialState.FAILED for t in running_then)
    assert {t.fail_reason for t in running_then} == {"interrupted (Ctrl-C or SIGTERM)"}
    time.sleep(0.2)  # the objectives return; their late results are refused
    assert all(t.state is TrialState.FAILED for t in study.trials)
    assert len(study.trials) == 4
