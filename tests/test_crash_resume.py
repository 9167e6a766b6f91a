"""Crash safety with real processes and real SQLite files: kill -9, Ctrl-C, SIGTERM, expired
leases from another host, the heartbeat thread, and several workers on one file.

Every wait has a deadline, so a hang fails the test instead of blocking the run.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.exceptions import DuplicateStudyError, StaleTrialError, StudyNotFoundError
from hypersearch.storage import SQLStorage, StudyRecord
from hypersearch.study import Study
from hypersearch.trial import TrialState

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SPACE = {"x": hs.Float(0.0, 1.0)}

# The worker: optimizes a study on a SQLite file. Trials numbered below SLOW_FROM are quick;
# from SLOW_FROM on, each one reports slowly for a long time, so the test can hit it mid-run.
WORKER = textwrap.dedent(
    """
    import os, signal, sys, time
    import hypersearch as hs

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if the parent ignores it
    db, name = sys.argv[1], sys.argv[2]
    n_trials, slow_from = int(sys.argv[3]), int(sys.argv[4])
    steps, step_s = int(sys.argv[5]), float(sys.argv[6])
    if os.environ.get("HS_HEARTBEAT"):
        hs.Study.heartbeat_interval = float(os.environ["HS_HEARTBEAT"])

    def objective(trial):
        x = trial.params["x"]
        slow = trial.number >= slow_from
        for step in range(200 if slow else steps):
            trial.report(x + step, step=step)
            time.sleep(0.25 if slow else step_s)
        return x

    study = hs.create_study(name, space={"x": hs.Float(0.0, 1.0)}, storage=f"sqlite:///{db}",
                            sampler="random", seed=0, load_if_exists=True)
    go = os.environ.get("HS_GO_FILE")  # start together with the other workers
    if go:
        open(f"{go}.{os.getpid()}.ready", "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.005)
    study.optimize(objective, n_trials=n_trials, show_progress=False)
    print("DONE", flush=True)
    """
)


# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def worker_script(tmp_path: Path) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(WORKER)
    return path


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    """Child processes to kill whatever happens, so a failed test leaves none behind."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def _spawn(
    children: list[subprocess.Popen[str]],
    script: Path,
    db: Path,
    name: str,
    *,
    n_trials: int,
    slow_from: int = 10**9,
    steps: int = 3,
    step_s: float = 0.02,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(db),
            name,
            str(n_trials),
            str(slow_from),
            str(steps),
            str(step_s),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    children.append(proc)
    return proc


def _rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the database directly, as an outside observer (empty while it does not exist)."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


def _states(db: Path) -> dict[int, str]:
    return dict(_rows(db, "SELECT number, state FROM hs_trials ORDER BY number"))


def _wait_for(
    what: str,
    check: Callable[[], Any],
    *,
    timeout: float = 20.0,
    proc: subprocess.Popen[str] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result is not None:  # trial number 0 counts
            return result
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate(timeout=10)
            pytest.fail(f"worker exited ({proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def _running_with_reports(db: Path, min_number: int, min_reports: int) -> int | None:
    """The number of a RUNNING trial >= min_number that has reported at least min_reports."""
    rows = _rows(
        db,
        "SELECT t.number, COUNT(r.step) FROM hs_trials t LEFT JOIN hs_reports r "
        "ON r.trial_id = t.id WHERE t.state = 'RUNNING' AND t.number >= ? GROUP BY t.id",
        (min_number,),
    )
    hits = [n for n, k in rows if k >= min_reports]
    return hits[0] if hits else None


def _snapshot(study: Study, state: TrialState) -> dict[int, tuple[Any, ...]]:
    return {
        t.number: (t.value, dict(t.params), dict(t.intermediate), t.finished_at)
        for t in study.get_trials([state])
    }


def _quick(trial: hs.Trial) -> float:
    """The worker's quick objective, run in this process."""
    for step in range(3):
        trial.report(trial.params["x"] + step, step=step)
    return trial.params["x"]


# ----------------------------------------------------------------------------- (a) kill -9


def test_kill_9_loses_only_the_running_trial(
    tmp_path: Path,
    worker_script: Path,
    children: list[subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "kill.db"
    # A dead process on this host is found at once; the grace period must not be what reaps.
    monkeypatch.setattr(Study, "grace_period", 3600.0)
    seen_complete: dict[int, tuple[Any, ...]] = {}
    lost: list[int] = []
    # kill at different moments: before the slow trial's first report, after one, after three
    for round_, min_reports in enumerate((0, 1, 3)):
        start = len(_states(db))
        proc = _spawn(children, worker_script, db, "kill", n_trials=50, slow_from=start + 2)
        victim = _wait_for(
            f"a RUNNING trial with {min_reports} reports (round {round_})",
            lambda s=start, k=min_reports: _running_with_reports(db, s + 2, k),
            proc=proc,
        )
        time.sleep(0.05 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)  # reap the zombie, as a shell would: the pid is now dead
        assert proc.returncode == -signal.SIGKILL
        assert _states(db)[victim] == "RUNNING"  # a zombie RUNNING trial, until someone looks

        study = hs.load_study("kill", storage=f"sqlite:///{db}")
        lost.append(victim)
        trial = study.get_trial(victim)
        assert trial.state is TrialState.FAILED
        assert trial.fail_reason and "worker lost" in trial.fail_reason
        assert len(trial.intermediate) >= min_reports  # what it reported is kept
        assert study.get_trials([TrialState.RUNNING]) == []

        complete = _snapshot(study, TrialState.COMPLETE)
        assert len(complete) >= len(seen_complete) + 2
        for number, before in seen_complete.items():
            assert complete[number] == before, f"trial {number} changed after kill -9"
        for value, params, curve, _ in complete.values():
            assert value == params["x"]  # the objective's return value, as committed
            assert sorted(curve) == [0, 1, 2]
            assert all(curve[s] == pytest.approx(params["x"] + s) for s in curve)
        seen_complete = complete

        # the study goes on with new numbers, in this process
        before_max = max(_states(db))
        study.optimize(_quick, n_trials=2, show_progress=False)
        new = [t for t in study.trials if t.number > before_max]
        assert [t.number for t in new] == [before_max + 1, before_max + 2]
        assert all(t.state is TrialState.COMPLETE for t in new)
        seen_complete = _snapshot(study, TrialState.COMPLETE)
        study.storage.close()

    states = _states(db)
    assert sorted(states) == list(range(len(states)))  # numbers 0..n-1, no gap, no repeat
    assert [n for n, s in states.items() if s == "FAILED"] == lost
    assert set(states.values()) == {"COMPLETE", "FAILED"}


# ----------------------------------------------------------------------------- (b, c) signals


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_marks_the_running_trial_interrupted(
    tmp_path: Path,
    worker_script: Path,
    children: list[subprocess.Popen[str]],
    sig: int,
) -> None:
    db = tmp_path / "signal.db"
    proc = _spawn(children, worker_script, db, "sig", n_trials=50, slow_from=3)
    victim = _wait_for(
        "the slow trial's first report", lambda: _running_with_reports(db, 3, 1), proc=proc
    )
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)

    assert proc.returncode != 0, out + err
    assert "KeyboardInterrupt" in err
    assert "DONE" not in out
    states = _states(db)
    assert "RUNNING" not in states.values()
    assert states[victim] == "FAILED"
    assert {n: s for n, s in states.items() if n != victim} == {n: "COMPLETE" for n in range(3)}
    reason = _rows(db, "SELECT fail_reason FROM hs_trials WHERE number = ?", (victim,))[0][0]
    assert "interrupted" in reason

    study = hs.load_study("sig", storage=f"sqlite:///{db}")
    assert study.get_trial(victim).intermediate  # its curve so far is kept
    assert len(study.get_trials([TrialState.COMPLETE])) == 3
    assert study.reap_lost_trials() == []  # nothing left for anyone to clean up
    study.optimize(_quick, n_trials=1, show_progress=False)
    assert study.trials[-1].number == victim + 1


# ----------------------------------------------------------------------------- (d) leases


def _age_lease(db: Path, number: int, seconds: float, host: str = "gpu-box-7") -> None:
    """Make a trial look like another machine's worker that went silent ``seconds`` ago."""
    with sqlite3.connect(db, timeout=10) as conn:
        conn.execute(
            "UPDATE hs_trials SET host = ?, pid = 4242, heartbeat_at = heartbeat_at - ? "
            "WHERE number = ?",
            (host, seconds, number),
        )


def test_expired_lease_from_another_host_is_reaped(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "lease.db"
    url = f"sqlite:///{db}"
    monkeypatch.setattr(Study, "grace_period", 30.0)
    worker = hs.create_study("lease", space=SPACE, storage=url, sampler="random", seed=0)
    worker.optimize(_quick, n_trials=2, show_progress=False)
    trial = worker.ask()  # this handle plays the worker on the other machine
    trial.report(0.5, step=0)
    _age_lease(db, trial.number, 10.0)

    # within the grace period: left alone, even on another host with a pid we cannot check
    assert hs.load_study("lease", storage=url).get_trial(trial.number).state is (
        TrialState.RUNNING
    )
    _age_lease(db, trial.number, 60.0)
    # a row another worker left behind long ago
    with sqlite3.connect(db, timeout=10) as conn:
        (study_id,) = conn.execute("SELECT id FROM hs_studies WHERE name='lease'").fetchone()
        conn.execute(
            "INSERT INTO hs_trials (study_id, number, state, source, params, distributions, "
            "metrics, note, tags, attrs, host, pid, token, started_at, heartbeat_at) VALUES "
            "(?, 4, 'RUNNING', 'sampler', '{}', '{}', '{}', '', '[]', '{}', 'far-away', 1, "
            "'feedface', 0.0, 1000.0)",
            (study_id,),
        )

    other = hs.load_study("lease", storage=url)  # reaping happens on every open
    for number in (trial.number, 4):
        record = other.get_trial(number)
        assert record.state is TrialState.FAILED
        assert record.fail_reason and "worker lost" in record.fail_reason
    assert other.get_trial(trial.number).intermediate == {0: 0.5}

    # the reaped worker's late writes get a typed error and change nothing
    with pytest.raises(StaleTrialError, match="no longer owned"):
        trial.report(0.7, step=1)
    with pytest.raises(StaleTrialError, match="worker lost"):
        worker.tell(trial, 0.9)
    assert other.get_trial(trial.number).state is TrialState.FAILED
    assert other.get_trial(trial.number).value is None
    # and that worker carries on
    worker.optimize(_quick, n_trials=2, show_progress=False)
    assert [t.number for t in worker.get_trials([TrialState.COMPLETE])] == [0, 1, 5, 6]


def test_optimize_carries_on_when_its_trial_is_reaped_mid_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "midrun.db"
    url = f"sqlite:///{db}"
    monkeypatch.setattr(Study, "grace_period", 30.0)
    monkeypatch.setattr(Study, "heartbeat_interval", 3600.0)  # no beat rescues the lease
    study = hs.create_study("midrun", space=SPACE, storage=url, sampler="random", seed=0)

    def objective(trial: hs.Trial) -> float:
        trial.report(0.1, step=0)
        if trial.number == 1:  # this worker stalls; another one declares it lost
            _age_lease(db, trial.number, 120.0)
            assert hs.load_study("midrun", storage=url).get_trial(1).state is TrialState.FAILED
        return trial.params["x"]

    with caplog.at_level("WARNING", logger="hypersearch"):
        study.optimize(objective, n_trials=4, show_progress=False)
    states = {t.number: t.state for t in study.trials}
    assert states == {
        0: TrialState.COMPLETE,
        1: TrialState.FAILED,
        2: TrialState.COMPLETE,
        3: TrialState.COMPLETE,
    }
    assert "worker lost" in (study.get_trial(1).fail_reason or "")
    assert study.get_trial(1).value is None  # the late result was not recorded
    assert any("no longer owned" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("ending", ["exception", "pruned"])
def test_a_trial_reaped_before_it_fails_or_is_pruned_does_not_stop_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """Reaped while the database was out of reach, then the objective raised (its report
    gave up) or pruned itself: recording that raised "no longer owned" out of the worker."""
    db = tmp_path / "reaped.db"
    url = f"sqlite:///{db}"
    monkeypatch.setattr(Study, "grace_period", 30.0)
    monkeypatch.setattr(Study, "heartbeat_interval", 3600.0)
    study = hs.create_study("reaped", space=SPACE, storage=url, sampler="random", seed=0)

    def objective(trial: hs.Trial) -> float:
        if trial.number == 1:
            _age_lease(db, trial.number, 120.0)
            assert hs.load_study("reaped", storage=url).get_trial(1).state is TrialState.FAILED
            if ending == "pruned":
                raise hs.TrialPruned()
            raise ConnectionError("the database went away")
        return trial.params["x"]

    study.optimize(objective, n_trials=3, show_progress=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAILED, TrialState.COMPLETE]
    assert "worker lost" in (study.get_trial(1).fail_reason or "")


def test_live_workers_reap_on_a_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "timer.db"
    url = f"sqlite:///{db}"
    monkeypatch.setattr(Study, "grace_period", 30.0)
    monkeypatch.setattr(Study, "reap_interval", 0.0)
    study = hs.create_study("timer", space=SPACE, storage=url, sampler="random", seed=0)
    lost = study.ask()
    _age_lease(db, lost.number, 120.0)
    # no reopen: the running worker's next ask() finds the lost trial itself
    study.optimize(_quick, n_trials=1, show_progress=False)
    assert study.get_trial(lost.number).state is TrialState.FAILED


# ----------------------------------------------------------------------------- (e) heartbeat


def test_heartbeat_thread_refreshes_a_long_trial(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "beat.db"
    monkeypatch.setattr(Study, "heartbeat_interval", 0.2)
    study = hs.create_study("beat", space=SPACE, storage=f"sqlite:///{db}", seed=0)
    beats: list[float] = []

    def objective(trial: hs.Trial) -> float:  # trains for 1.5 s without reporting anything
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            beats.append(
                _rows(db, "SELECT heartbeat_at FROM hs_trials WHERE number = ?", (trial.number,))[
                    0
                ][0]
            )
            time.sleep(0.1)
        return 1.0

    study.optimize(objective, n_trials=1, show_progress=False)
    distinct = sorted(set(beats))
    assert beats == sorted(beats)
    assert len(distinct) >= 4, distinct  # about 7 beats in 1.5 s
    assert distinct[-1] - distinct[0] >= 0.6
    assert study.trials[0].state is TrialState.COMPLETE


def test_heartbeat_in_a_worker_process_keeps_its_lease(
    tmp_path: Path,
    worker_script: Path,
    children: list[subprocess.Popen[str]],
) -> None:
    db = tmp_path / "beatproc.db"
    # the slow trial reports every 0.25 s; the heartbeat beats every 0.1 s in between
    proc = _spawn(
        children, worker_script, db, "beat", n_trials=5, slow_from=0, env={"HS_HEARTBEAT": "0.1"}
    )
    _wait_for("the first report", lambda: _running_with_reports(db, 0, 1), proc=proc)

    def beat_and_last_report() -> tuple[float, float]:
        ((beat, report),) = _rows(
            db,
            "SELECT t.heartbeat_at, MAX(r.at) FROM hs_trials t JOIN hs_reports r "
            "ON r.trial_id = t.id WHERE t.number = 0",
        )
        return beat, report

    ahead = 0
    deadline = time.monotonic() + 5
    first_beat = beat_and_last_report()[0]
    while time.monotonic() < deadline and ahead < 3:
        beat, report = beat_and_last_report()
        ahead += beat > report + 0.05  # a beat that no report explains
        time.sleep(0.05)
    assert ahead >= 3
    assert beat_and_last_report()[0] > first_beat
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)


# ----------------------------------------------------------------------------- (f) many writers


def test_four_processes_share_one_sqlite_file(
    tmp_path: Path,
    worker_script: Path,
    children: list[subprocess.Popen[str]],
) -> None:
    db = tmp_path / "shared.db"
    go = tmp_path / "go"
    # all four open (and may create) the study at about the same moment...
    procs = [
        _spawn(
            children,
            worker_script,
            db,
            "shared",
            n_trials=25,
            steps=2,
            step_s=0.0,
            env={"HS_GO_FILE": str(go)},
        )
        for _ in range(4)
    ]
    # ...and once all are ready, start writing at exactly the same moment
    _wait_for(
        "all four workers ready",
        lambda: None if len(list(tmp_path.glob("go.*.ready"))) < 4 else True,
        timeout=25,
    )
    go.touch()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        outputs.append((proc.returncode, out, err))
    for code, out, err in outputs:
        assert code == 0, err
        assert "DONE" in out
        assert "locked" not in err.lower() and "Traceback" not in err, err

    rows = _rows(db, "SELECT number, state, pid, value FROM hs_trials ORDER BY number")
    assert [r[0] for r in rows] == list(range(100))
    assert {r[1] for r in rows} == {"COMPLETE"}
    per_worker = {pid: sum(1 for r in rows if r[2] == pid) for pid in {r[2] for r in rows}}
    assert sorted(per_worker) == sorted(p.pid for p in procs)
    assert set(per_worker.values()) == {25}
    assert all(not math.isnan(r[3]) for r in rows)
    reports = _rows(db, "SELECT COUNT(*) FROM hs_reports")[0][0]
    assert reports == 200
    assert _rows(db, "SELECT COUNT(*) FROM hs_studies") == [(1,)]
    assert socket.gethostname() in {h for (h,) in _rows(db, "SELECT host FROM hs_trials")}


def test_create_study_race_resumes_the_other_workers_study(tmp_path: Path) -> None:
    """The window the four workers above hit: another worker creates the study between our
    look-up and our insert. With load_if_exists=True that is a resume, not an error."""
    url = f"sqlite:///{tmp_path / 'race.db'}"

    class OtherWorkerFirst(SQLStorage):
        def get_study(self, name: str) -> StudyRecord:
            if name not in {s.name for s in self.list_studies()}:  # the other worker wins
                other = SQLStorage(url)
                hs.create_study(name, space=SPACE, storage=other, sampler="random", seed=0)
                other.close()
                raise StudyNotFoundError(f"No study named {name!r} (yet).")
            return super().get_study(name)

    study = hs.create_study(
        "race",
        space=SPACE,
        storage=OtherWorkerFirst(url),
        sampler="random",
        seed=0,
        load_if_exists=True,
    )
    study.optimize(_quick, n_trials=1, show_progress=False)
    assert [s.name for s in study.storage.list_studies()] == ["race"]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    with pytest.raises(DuplicateStudyError):  # without load_if_exists the race is an error
        hs.create_study("race2", space=SPACE, storage=OtherWorkerFirst(url), seed=0)


# ----------------------------------------------------------------------------- Ctrl-C mid-write


def _interrupt_on(storage: SQLStorage, statement_start: str) -> list[str]:
    """Deliver a real SIGINT to this process just before the first statement that starts with
    ``statement_start`` runs (so inside one of the storage's writes); returns what fired."""
    import sqlalchemy as sa

    fired: list[str] = []

    @sa.event.listens_for(storage._engine, "before_cursor_execute")
    def fire(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and statement.lstrip().startswith(statement_start):
            fired.append(statement)
            signal.raise_signal(signal.SIGINT)

    return fired


@pytest.fixture
def default_sigint() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_a_result_is_written_saves_it_then_interrupts(
    tmp_path: Path, default_sigint: None
) -> None:
    study = hs.create_study(
        "c", space=SPACE, storage=f"sqlite:///{tmp_path}/c.db", sampler="random", seed=0
    )
    study.optimize(_quick, n_trials=2, show_progress=False)
    fired = _interrupt_on(study._storage, "UPDATE hs_trials SET state")
    with pytest.raises(KeyboardInterrupt):
        study.optimize(_quick, n_trials=5, show_progress=False)

    assert fired  # the signal came in the middle of writing trial 2's result
    trials = hs.load_study("c", storage=f"sqlite:///{tmp_path}/c.db").trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3  # saved, and nothing after
    assert trials[2].value == pytest.approx(trials[2].params["x"])


@pytest.mark.parametrize(
    "statement", ["INSERT INTO hs_trials", "INSERT INTO hs_reports"], ids=["claim", "report"]
)
def test_ctrl_c_inside_a_write_reaches_the_user_and_leaves_nothing_running(
    tmp_path: Path, default_sigint: None, statement: str
) -> None:
    study = hs.create_study(
        "w", space=SPACE, storage=f"sqlite:///{tmp_path}/w.db", sampler="random", seed=0
    )

    def reporting(trial: hs.Trial) -> float:
        trial.report(trial.params["x"], step=0)
        return trial.params["x"]

    fired = _interrupt_on(study._storage, statement)
    # KeyboardInterrupt itself, not an error from cleaning up the interrupted connection
    with pytest.raises(KeyboardInterrupt):
        study.optimize(reporting, n_trials=3, show_progress=False)

    assert fired
    trials = hs.load_study("w", storage=f"sqlite:///{tmp_path}/w.db").trials
    assert TrialState.RUNNING not in {t.state for t in trials}
    if statement == "INSERT INTO hs_reports":
        assert [t.state for t in trials] == [TrialState.FAILED]
        assert "interrupted" in (trials[0].fail_reason or "")


def _a_swallowed_ctrl_c() -> None:
    """A real SIGINT that the code it lands in catches and ignores."""
    with contextlib.suppress(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


class _SwallowsInterrupts(hs.samplers.RandomSampler):
    """Stands in for compiled code that reports a Ctrl-C as "ignored" and goes on (scipy's
    Sobol engine did, reading its tables on first use): the interrupt must not be lost."""

    def sample(self, ctx: Any) -> dict[str, Any]:
        _a_swallowed_ctrl_c()
        return super().sample(ctx)


def test_ctrl_c_while_the_sampler_proposes_stops_the_study(
    tmp_path: Path, default_sigint: None
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    study = hs.create_study("s", space=SPACE, storage=url, sampler=_SwallowsInterrupts(seed=0))
    with pytest.raises(KeyboardInterrupt):
        study.optimize(_quick, n_trials=3, show_progress=False)
    assert hs.load_study("s", storage=url).trials == []  # the claimed trial was given back


def test_a_trial_whose_row_the_database_lost_does_not_stop_the_worker(tmp_path: Path) -> None:
    """A server that crashed before a claim reached its disk forgets the trial; the worker
    running it learns so when it reports the result, and goes on with the next trial."""
    db = tmp_path / "gone.db"
    study = hs.create_study(
        "gone", space=SPACE, storage=f"sqlite:///{db}", sampler="random", seed=0
    )
    told: list[hs.TrialRecord] = []

    def forgotten_once(trial: hs.Trial) -> float:
        if trial.number == 1 and not told[1:]:
            with sqlite3.connect(db, timeout=10) as conn:
                conn.execute("DELETE FROM hs_trials WHERE number = 1")
        return trial.params["x"]

    study.optimize(
        forgotten_once, n_trials=3, show_progress=False, callbacks=[lambda s, r: told.append(r)]
    )

    assert [(r.number, r.state) for r in told][1] == (1, TrialState.FAILED)
    assert "lost by the database" in (told[1].fail_reason or "")
    trials = study.trials  # the lost trial used one of the 3; its number was claimed again
    assert [(t.number, t.state) for t in trials] == [
        (0, TrialState.COMPLETE),
        (1, TrialState.COMPLETE),
    ]


def test_heartbeat_thread_ends_when_no_trial_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A study dropped between trials (a SearchCV fit, a notebook cell) leaves no thread
    behind holding its storage; the next trial starts a new one."""
    monkeypatch.setattr(Study, "heartbeat_interval", 0.05)

    def beating() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "hypersearch-heartbeat"}

    # earlier tests may leave threads beating for trials they left running: count only ours
    before = beating()
    for i in range(5):
        study = hs.create_study(f"s{i}", space=SPACE, storage=f"sqlite:///{tmp_path}/t.db")
        study.optimize(lambda t: 1.0, n_trials=2, show_progress=False)
    deadline = time.monotonic() + 5  # a thread ends within one interval of its last trial
    while beating() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not beating() - before
    study.optimize(lambda t: 1.0, n_trials=1, show_progress=False)  # starts again on demand
    assert len(study.get_trials(["COMPLETE"])) == 3


def test_ctrl_c_while_a_define_by_run_parameter_is_sampled_stops_the_study(
    tmp_path: Path, default_sigint: None
) -> None:
    class SwallowsInOneParameter(hs.samplers.RandomSampler):
        def sample_one(self, ctx: Any, name: str, param: Any) -> Any:
            _a_swallowed_ctrl_c()
            return super().sample_one(ctx, name, param)

    url = f"sqlite:///{tmp_path}/d.db"
    study = hs.create_study("d", storage=url, sampler=SwallowsInOneParameter(seed=0))
    with pytest.raises(KeyboardInterrupt):
        study.optimize(lambda t: t.float("y", 0.0, 1.0), n_trials=3, show_progress=False)
    trials = hs.load_study("d", storage=url).trials
    assert [t.state for t in trials] == [TrialState.FAILED]
    assert "interrupted" in (trials[0].fail_reason or "")
