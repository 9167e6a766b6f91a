"""Parallel benchmarks: storage throughput (ours vs Optuna's RDB storage, same backend and
worker count), speed-up of n_workers=2 on a CPU-bound objective, and the cost of
deterministic mode.

    nice .venv/bin/python bench/parallel/run.py            # everything, writes results.json
    nice .venv/bin/python bench/parallel/run.py --only throughput --workers 1 2

Throughput is measured from the trials' own start and finish times in storage (first start
to last finish), so process start-up, which differs between the two tools, is not counted.
PostgreSQL runs on a throwaway cluster started here (needs initdb; see tests/conftest.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "tests"))

import objectives  # noqa: E402

import hypersearch as hs  # noqa: E402


def _span(starts: list[float], ends: list[float], n: int) -> float:
    return n / (max(ends) - min(starts))


# ------------------------------------------------------------------------------ ours


def ours(url: str, n_trials: int, n_workers: int, objective: Any = None, **kw: Any) -> dict:
    name = f"b{time.time_ns()}"
    study = hs.create_study(
        name,
        space={"x": hs.Float(0.0, 1.0)},
        storage=url,
        sampler=kw.pop("sampler", "random"),
        seed=0,
    )
    t0 = time.perf_counter()
    study.optimize(
        objective or objectives.trivial,
        n_trials=n_trials,
        n_workers=n_workers,
        show_progress=False,
        **kw,
    )
    wall = time.perf_counter() - t0
    trials = [t for t in study.trials if t.state is hs.TrialState.COMPLETE]
    starts = [t.started_at for t in trials if t.started_at is not None]
    ends = [t.finished_at for t in trials if t.finished_at is not None]
    rate = _span(starts, ends, len(trials))
    return {"trials": len(trials), "trials_per_s": round(rate, 1), "wall_s": round(wall, 2)}


# ------------------------------------------------------------------------------ optuna


def _optuna_worker(url: str, name: str, n: int, go: Any) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(
        study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=os.getpid())
    )
    go.wait()
    study.optimize(objectives.optuna_trivial, n_trials=n, catch=(Exception,))


def optuna_run(url: str, n_trials: int, n_workers: int) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    name = f"o{time.time_ns()}"
    optuna.create_study(study_name=name, storage=url)
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    per = [n_trials // n_workers + (i < n_trials % n_workers) for i in range(n_workers)]
    procs = [ctx.Process(target=_optuna_worker, args=(url, name, n, go)) for n in per]
    for p in procs:
        p.start()
    time.sleep(3.0 + n_workers)  # let them import and connect before the clock starts
    t0 = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    trials = optuna.load_study(study_name=name, storage=url).trials
    done = [t for t in trials if t.state.name == "COMPLETE"]
    rate = _span(
        [t.datetime_start.timestamp() for t in done if t.datetime_start is not None],
        [t.datetime_complete.timestamp() for t in done if t.datetime_complete is not None],
        len(done),
    )
    return {
        "trials": len(done),
        "failed": len(trials) - len(done),
        "trials_per_s": round(rate, 1),
        "wall_s": round(wall, 2),
    }


# ------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["throughput", "cpu", "deterministic"], action="append")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--cpu-trials", type=int, default=48, help="trials per CPU-bound run")
    args = ap.parse_args()
    only = set(args.only or ["throughput", "cpu", "deterministic"])
    tmp = Path(tempfile.mkdtemp(prefix="hs-bench-"))
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_before": os.getloadavg(),
    }
    server = None
    try:
        if "throughput" in only:
            if "postgresql" in args.backends:
                import conftest

                server = _start_pg(conftest)
            rows = []
            for backend in args.backends:
                for n in args.workers:
                    if backend == "sqlite":
                        ours_url = f"sqlite:///{tmp}/ours-{n}.db"
                        opt_url = f"sqlite:///{tmp}/optuna-{n}.db"
                    else:
                        assert server is not None  # started above for postgresql
                        ours_url = server.url(server.create_database())
                        opt_url = server.url(server.create_database()).replace(
                            "postgresql://", "postgresql+psycopg://"
                        )
                    a = ours(ours_url, args.trials, n)
                    b = optuna_run(opt_url, args.trials, n)
                    row = {
                        "backend": backend,
                        "workers": n,
                        "ours": a,
                        "optuna": b,
                        "ratio": round(a["trials_per_s"] / max(b["trials_per_s"], 1e-9), 2),
                    }
                    print(json.dumps(row), flush=True)
                    rows.append(row)
            results["throughput"] = rows
        if "cpu" in only:
            url = f"sqlite:///{tmp}/cpu.db"
            one = ours(url, args.cpu_trials, 1, objectives.cpu_bound)
            two = ours(url, args.cpu_trials, 2, objectives.cpu_bound)
            results["cpu_bound"] = {
                "n_workers=1": one,
                "n_workers=2": two,
                "speedup": round(two["trials_per_s"] / one["trials_per_s"], 2),
            }
            print(json.dumps(results["cpu_bound"]), flush=True)
        if "deterministic" in only:
            rows = []
            for n in (2, 4):
                url = f"sqlite:///{tmp}/det-{n}.db"
                free = ours(url, 120, n, objectives.jittery)
                det = ours(url, 120, n, objectives.jittery, deterministic=True)
                row = {
                    "workers": n,
                    "free": free,
                    "deterministic": det,
                    "cost": round(1 - det["trials_per_s"] / free["trials_per_s"], 3),
                }
                print(json.dumps(row), flush=True)
                rows.append(row)
            results["deterministic"] = rows
    finally:
        if server is not None:
            server.stop("immediate")
    results["load_after"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


def _start_pg(conftest: Any) -> Any:
    import shutil
    import subprocess

    bindir = conftest._pg_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL (initdb) not found; install the postgresql package.")
    prefix = conftest._ensure_user()
    datadir = tempfile.mkdtemp(prefix="hs-bench-pg-")
    if prefix:
        shutil.chown(datadir, conftest.PG_USER)
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", datadir, "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    server = conftest.PostgresServer(
        bindir=bindir, datadir=datadir, port=conftest._free_port(), prefix=prefix
    )
    server.start()
    return server


if __name__ == "__main__":
    main()
