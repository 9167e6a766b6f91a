"""Sample-efficiency benchmark: our samplers against random search and Optuna's samplers.

    nice .venv/bin/python -m bench.samplers.run                  # the full run (see README)
    nice .venv/bin/python -m bench.samplers.run --seeds 3 --problems branin hartmann6

Each (problem, optimizer, seed) runs ``--trials`` sequential trials with ask/tell and
records every loss (failures as inf) and every ask time, one JSON line per run in
``--out``; finished runs are skipped when the command is repeated, so it can be stopped and
resumed. ``bench.samplers.report`` turns the file into the tables of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

OURS = ["random", "tpe", "gp", "auto"]
OPTUNA = ["optuna_tpe", "optuna_tpe_mv", "optuna_gp"]
OPTIMIZERS = OURS + OPTUNA
DEFAULT_PROBLEMS = [
    "branin",
    "hartmann6",
    "levy10",
    "mixed_hartmann",
    "branin_oom",
    "svc_cancer",
    "yahpo_xgboost",
    "yahpo_rpart",
]
OUT = Path(__file__).with_name("results.jsonl")


def _single_thread() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _optuna_distributions(space: Any) -> dict[str, Any]:
    import optuna.distributions as od

    from hypersearch.space import Choice, Float, Int

    out: dict[str, Any] = {}
    for name, p in space.items():
        if isinstance(p, Choice):
            out[name] = od.CategoricalDistribution(list(p.values))
        elif isinstance(p, Float):
            out[name] = od.FloatDistribution(p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, Int) and p.scale == "pow2":
            lo, hi = int(math.log2(p.low)), int(math.log2(p.high))
            out[name] = od.IntDistribution(lo, hi)  # the exponent; decoded below
        elif isinstance(p, Int):
            out[name] = od.IntDistribution(p.low, p.high, log=p.log, step=p.step)
        else:
            raise TypeError(f"no Optuna distribution for {p!r}")
    return out


def run_optuna(problem: Any, optimizer: str, seed: int, n_trials: int) -> dict[str, Any]:
    import optuna

    from hypersearch.space import Int

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if optimizer == "optuna_tpe":
        sampler: Any = optuna.samplers.TPESampler(seed=seed)
    elif optimizer == "optuna_tpe_mv":
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    else:
        sampler = optuna.samplers.GPSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    dists = _optuna_distributions(problem.space)
    losses, asks = [], []
    for _ in range(n_trials):
        t0 = time.perf_counter()
        trial = study.ask(dists)
        asks.append(time.perf_counter() - t0)
        params = dict(trial.params)
        for k, p in problem.space.items():
            if isinstance(p, Int) and p.scale == "pow2":
                params[k] = 2 ** params[k]
        try:
            loss = float(problem.loss(params))
        except Exception:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            losses.append(math.inf)
            continue
        study.tell(trial, loss)
        losses.append(loss)
    return {"losses": losses, "ask_s": asks}


def run_ours(problem: Any, optimizer: str, seed: int, n_trials: int) -> dict[str, Any]:
    import hypersearch as hs
    from hypersearch.study import Study

    # Single-process ask/tell: no lease refreshes needed. (A heartbeat thread on the shared
    # in-memory SQLite connection raised "cannot start a transaction within a transaction"
    # in runs longer than the heartbeat interval; reported to the storage owner.)
    Study.heartbeat_interval = 1e9
    study = hs.create_study(space=problem.space, sampler=optimizer, seed=seed)
    losses, asks = [], []
    for _ in range(n_trials):
        t0 = time.perf_counter()
        trial = study.ask()
        asks.append(time.perf_counter() - t0)
        try:
            loss = float(problem.loss(trial.params))
        except Exception as exc:
            study.tell(trial, state="FAILED", fail_reason=f"{type(exc).__name__}: {exc}")
            losses.append(math.inf)
            continue
        study.tell(trial, loss)
        losses.append(loss)
    return {"losses": losses, "ask_s": asks}


def run_one(job: tuple[str, str, int, int]) -> dict[str, Any]:
    _single_thread()
    logging.getLogger("hypersearch").setLevel(logging.WARNING)
    from bench.problems import get

    name, optimizer, seed, n_trials = job
    problem = get(name)
    t0 = time.perf_counter()
    runner = run_optuna if optimizer.startswith("optuna") else run_ours
    out = runner(problem, optimizer, seed, n_trials)
    return {
        "problem": name,
        "optimizer": optimizer,
        "seed": seed,
        "trials": n_trials,
        "optimum": problem.optimum,
        "wall_s": time.perf_counter() - t0,
        **out,
    }


def _done(path: Path) -> set[tuple[str, str, int, int]]:
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            out.add((r["problem"], r["optimizer"], r["seed"], r["trials"]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=DEFAULT_PROBLEMS)
    ap.add_argument("--optimizers", nargs="+", default=OPTIMIZERS)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    done = _done(args.out)
    jobs = [
        (p, o, s, args.trials)
        for s in range(args.seeds)
        for p in args.problems
        for o in args.optimizers
        if (p, o, s, args.trials) not in done
    ]
    print(f"{len(jobs)} runs to do ({len(done)} already in {args.out})", flush=True)
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers, maxtasksperchild=20) as pool, args.out.open("a") as f:
        for i, r in enumerate(pool.imap_unordered(run_one, jobs)):
            f.write(json.dumps(r) + "\n")
            f.flush()
            best = min(r["losses"])
            print(
                f"[{i + 1}/{len(jobs)}] {r['problem']:15s} {r['optimizer']:14s} seed {r['seed']}"
                f"  best {best:.5g}  {r['wall_s']:.1f}s  ask {np.mean(r['ask_s']) * 1e3:.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
