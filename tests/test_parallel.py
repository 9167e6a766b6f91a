"""Local parallelism: worker processes on shared storage, GPU assignment, deterministic
parallel runs, the `hypersearch worker` command, and the errors for what cannot work."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.exceptions import InvalidArgumentError, TooManyFailuresError
from hypersearch.execution.resources import ResourcePool
from hypersearch.samplers import GridSampler
from hypersearch.trial import TrialState

sys.path.insert(0, str(Path(__file__).parent))
import parallel_objectives as objectives

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

SPACE = {"x": hs.Float(0.0, 1.0)}


def _study(url: str, **kw: object) -> hs.Study:
    kw.setdefault("sampler", "random")
    kw.setdefault("seed", 0)
    return hs.create_study("par", space=kw.pop("space", SPACE), storage=url, **kw)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'par.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'par.db'}"


# ------------------------------------------------------------------------- happy paths


def test_two_workers_share_the_study(shared_url: str) -> None:
    study = _study(shared_url)
    study.optimize(objectives.sleepy, n_trials=24, n_workers=2)
    trials = study.trials
    assert len(trials) == 24
    assert [t.number for t in trials] == list(range(24))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert len({t.pid for t in trials}) >= 2, "trials ran in more than one process"
    assert os.getpid() not in {t.pid for t in trials}


def test_grid_points_are_never_shared_between_workers(sqlite_url: str) -> None:
    study = _study(
        sqlite_url,
        space={"a": hs.Int(0, 5), "b": hs.Choice(["p", "q", "r"])},
        sampler=GridSampler(),
    )
    study.optimize(objectives.quick_grid, n_trials=100, n_workers=3)  # 18 points only
    points = [(t.params["a"], t.params["b"]) for t in study.trials]
    assert len(points) == 18 and len(set(points)) == 18


def test_enqueued_trials_run_once_each(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    for i in range(10):
        study.enqueue({"x": i / 10})
    study.optimize(objectives.quick, n_trials=12, n_workers=2)
    xs = Counter(t.params["x"] for t in study.trials if t.source == "enqueued")
    assert sorted(xs) == [i / 10 for i in range(10)] and set(xs.values()) == {1}


def test_timeout_stops_handing_out_trials(sqlite_url: str) -> None:
    import time

    study = _study(sqlite_url)
    started = time.monotonic()
    study.optimize(objectives.sleepy, timeout=6.0, n_workers=2)
    assert time.monotonic() - started < 6.0 + 30  # + start-up and the last trials
    assert all(t.state.is_finished for t in study.trials)


# ------------------------------------------------------------------------- failures


def test_failures_in_a_row_stop_a_parallel_study(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    with pytest.raises(TooManyFailuresError, match="broken objective"):
        study.optimize(objectives.fail_always, n_trials=50, n_workers=2, max_failures=3)
    assert 3 <= len(study.trials) < 50
    assert all(t.state is TrialState.FAILED for t in study.trials)


def test_an_uncaught_error_in_a_worker_reaches_the_caller(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    with pytest.raises(objectives.Fatal, match="stop everything"):
        study.optimize(objectives.fatal, n_trials=10, n_workers=2)
    assert all(t.state is TrialState.FAILED for t in study.trials)


# ------------------------------------------------------------------------- bad input


def test_in_memory_storage_is_refused() -> None:
    study = hs.create_study(space=SPACE)
    with pytest.raises(InvalidArgumentError, match=r"in memory.*sqlite:///"):
        study.optimize(objectives.quick, n_trials=2, n_workers=2)


def test_a_lambda_is_refused_with_what_to_do(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    with pytest.raises(InvalidArgumentError, match=r"lambda.*top level of a module"):
        study.optimize(lambda t: 1.0, n_trials=2, n_workers=2)


def test_a_closure_is_refused_with_what_to_do(sqlite_url: str) -> None:
    study = _study(sqlite_url)

    def local_objective(trial: hs.Trial) -> float:
        return 1.0

    with pytest.raises(InvalidArgumentError, match=r"closure.*top level of a module"):
        study.optimize(local_objective, n_trials=2, n_workers=2)
    assert study.trials == []


@pytest.mark.parametrize(
    ("resources", "gpus", "match"),
    [
        ({"gpus": 2}, [0], "needs 2 GPUs per trial but only 1"),
        ({"gpus": 1.5}, [0, 1], "whole number"),
        ({"cpus": 10_000}, None, "more than this machine has"),
        ({"tpus": 1}, None, "unknown key"),
        ({"gpus": -1}, None, ">= 0"),
    ],
)
def test_resources_larger_than_the_machine_are_refused(
    sqlite_url: str, resources: dict[str, float], gpus: list[int] | None, match: str
) -> None:
    study = _study(sqlite_url)
    with pytest.raises(InvalidArgumentError, match=match):
        study.optimize(objectives.quick, n_trials=2, n_workers=2, resources=resources, gpus=gpus)


def test_gpus_without_any_visible_gpu_are_refused(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    study = _study(sqlite_url)
    with pytest.raises(InvalidArgumentError, match=r"no GPU is visible.*gpus=\[0, 1"):
        study.optimize(objectives.quick, n_trials=2, n_workers=2, resources={"gpus": 1})


def test_bad_n_workers_and_max_retries(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    with pytest.raises(InvalidArgumentError, match="n_workers"):
        study.optimize(objectives.quick, n_trials=2, n_workers=0)
    with pytest.raises(InvalidArgumentError, match="max_retries"):
        study.optimize(objectives.quick, n_trials=2, max_retries=-1)
    with pytest.raises(InvalidArgumentError, match="executor"):
        study.optimize(objectives.quick, n_trials=2, n_workers=2, executor="dask")


# ------------------------------------------------------------------------- GPUs


def test_fractional_gpus_pack_two_trials_per_gpu(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    study.optimize(
        objectives.record_gpu, n_trials=12, n_workers=4, resources={"gpus": 0.5}, gpus=[0, 1]
    )
    spans = [t.attrs["span"] for t in study.trials]
    # (a worker keeps its GPU, so on a busy machine one fast worker may use only one)
    assert {s[2] for s in spans} <= {"0", "1"}
    assert {t.gpu for t in study.trials} == {s[2] for s in spans}  # recorded with each trial
    for gpu in ("0", "1"):
        mine = [s for s in spans if s[2] == gpu]
        for start, _, _ in mine:
            overlapping = sum(1 for s, e, _ in mine if s <= start < e)
            assert overlapping <= 2, f"more than 2 trials at once on GPU {gpu}"


def test_whole_gpus_are_exclusive(sqlite_url: str) -> None:
    study = _study(sqlite_url)
    study.optimize(
        objectives.record_gpu, n_trials=6, n_workers=4, resources={"gpus": 1}, gpus=["3", "5"]
    )
    spans = [t.attrs["span"] for t in study.trials]
    assert len(spans) == 6 and {s[2] for s in spans} <= {"3", "5"}
    for start, _, gpu in spans:
        assert sum(1 for s, e, g in spans if g == gpu and s <= start < e) == 1


def test_resource_pool_packing_and_release() -> None:
    pool = ResourcePool({"gpus": 0.5}, gpus=[0, 1])
    assert pool.capacity == 4 and pool.slots_per_gpu == 2
    got = [pool.acquire() for _ in range(4)]
    assert sorted(d for g in got for d in g or []) == ["0", "0", "1", "1"]
    assert pool.acquire() is None
    pool.release(["1"])
    assert pool.acquire(prefer=["0"]) == ["1"]  # only GPU 1 has room
    pool = ResourcePool({"gpus": 2}, gpus=[0, 1, 2, 3])
    assert pool.capacity == 2
    assert pool.acquire() == ["0", "1"] and pool.acquire() == ["2", "3"]
    assert pool.acquire() is None
    pool = ResourcePool({"gpus": 0.3}, gpus=["7"])
    assert pool.capacity == 3


def test_visible_gpus_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert ResourcePool({"gpus": 1}).devices == ["2", "3"]
    assert ResourcePool({"gpus": 1}, gpus=[0]).devices == ["0"]


# ------------------------------------------------------------------------- deterministic


def _run_deterministic(url: str, n_workers: int) -> dict[int, float]:
    study = hs.create_study(
        "det", space=SPACE, storage=url, sampler=objectives.HistorySampler(seed=7)
    )
    study.optimize(objectives.sleepy, n_trials=16, n_workers=n_workers, deterministic=True)
    return {t.number: t.params["x"] for t in study.trials}


def test_deterministic_parallel_runs_repeat_exactly(tmp_path: Path) -> None:
    first = _run_deterministic(f"sqlite:///{tmp_path / 'a.db'}", 2)
    second = _run_deterministic(f"sqlite:///{tmp_path / 'b.db'}", 2)
    assert len(first) == 16 and first == second


# ------------------------------------------------------------------------- CLI worker


def test_worker_command_joins_a_study(sqlite_url: str, tmp_path: Path) -> None:
    _study(sqlite_url)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    cmd = [
        sys.executable,
        "-m",
        "hypersearch.cli",
        "worker",
        "par",
        "--storage",
        sqlite_url,
        "--objective",
        "parallel_objectives:quick",
        "--n-trials",
        "5",
    ]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    study = hs.load_study("par", storage=sqlite_url)
    assert len(study.trials) == 10
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert "5 trials" in outs[0]


def test_worker_command_explains_a_bad_objective(sqlite_url: str) -> None:
    _study(sqlite_url)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypersearch.cli",
            "worker",
            "par",
            "--storage",
            sqlite_url,
            "--objective",
            "no_such_module_xyz:f",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "no_such_module_xyz" in out.stderr and "module:function" in out.stderr


# ------------------------------------------------------------------ a script without a main guard

UNGUARDED = """
import sys, time
import hypersearch as hs

def objective(trial):
    return trial.params["x"]

study = hs.create_study("noguard", space={"x": hs.Float(0, 1)}, storage=sys.argv[1],
                        seed=0, load_if_exists=True)
study.optimize(objective, n_trials=int(sys.argv[2]), n_workers=2, show_progress=False)
print("DONE", flush=True)
"""


@pytest.mark.parametrize("n_trials", [20, 500])
def test_a_script_without_a_main_guard_is_a_clear_error(tmp_path: Path, n_trials: int) -> None:
    """Each spawned worker re-ran the script: 32 tracebacks then exit 0 with zero trials, or
    (more trials) no end at all. Now: one clear error before any worker starts."""
    script = tmp_path / "train.py"
    script.write_text(UNGUARDED)
    url = f"sqlite:///{tmp_path / 'noguard.db'}"
    done = subprocess.run(
        [sys.executable, str(script), url, str(n_trials)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "DONE" not in done.stdout
    assert "if __name__ == '__main__':" in done.stderr
    assert f'"{script}", line 10' in done.stderr  # where the unguarded call is
    assert done.stderr.count("Traceback") == 1, done.stderr[-3000:]  # no worker's
    assert hs.load_study("noguard", storage=url).trials == []


FRAGILE = """
import os

if os.environ.get("FRAGILE_HOME") != str(os.getpid()):
    raise ImportError("this module cannot be imported in a worker process")


def objective(trial):
    return trial.params["x"]
"""


def test_a_worker_that_dies_while_starting_stops_the_run_at_once(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback behind the check: a worker process that cannot even start (its objective's
    module fails to import there) stops the run with the explanation, not a respawn loop."""
    (tmp_path / "fragile_objective.py").write_text(FRAGILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FRAGILE_HOME", str(os.getpid()))  # importable here only
    import fragile_objective

    study = _study(sqlite_url)
    with pytest.raises(hs.HypersearchError, match=r"could not start \(exit code 1\)"):
        study.optimize(fragile_objective.objective, n_trials=50, n_workers=2)
    assert study.trials == []
