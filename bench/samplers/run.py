"""Sample-efficiency benchmark: our samplers against random search and Optuna's samplers.

    nice .venv/bin/python -m bench.samplers.run --suite all      # the suite (see README)
    nice .venv/bin/python -m bench.samplers.run --seeds 3 --problems branin hartmann6
    nice .venv/bin/python -m bench.samplers.run --suite development --first-seed 10 --seeds 10

Each (problem, optimizer, seed) runs ``--trials`` sequential trials with ask/tell and
records every loss (failures as inf) and every ask time, one JSON line per run in
``--out``; finished runs are skipped when the command is repeated, so it can be stopped and
resumed. ``--suite`` takes the problems of bench/samplers/split.json (development half
first), seed by seed, so a stopped run has every problem at the same number of seeds.
Evaluations of the scikit-learn and PyTorch problems are cached on disk
(bench/samplers/.cache/, keyed by problem and parameters): a resumed or repeated run does
not train the same model twice. An optimizer written ``auto@v0`` runs ``auto`` and records
it as ``auto@v0`` (to keep runs of an earlier version of the code apart).
``bench.samplers.report`` turns the file into the tables of bench/RESULTS.md.
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
SUITE_OPTIMIZERS = ["random", "auto", "optuna_gp", "optuna_tpe"]
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
SUITE_OUT = Path(__file__).with_name("suite.jsonl")
SPLIT = Path(__file__).with_name("split.json")
CACHE = Path(__file__).with_name(".cache")
_CACHED_KINDS = ("sklearn", "real")


def suite_problems(half: str) -> list[str]:
    """The problems of ``half`` ("development", "validation" or "all": development first)."""
    split = json.loads(SPLIT.read_text())
    if half == "all":
        return [*split["development"], *split["validation"]]
    return list(split[half])


def cached(problem: Any) -> Any:
    """``problem`` whose loss reads and appends bench/samplers/.cache/<name>.jsonl."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{problem.name}.jsonl"
    memo: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                key, value = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            memo[key] = float(value)
    inner = problem.loss

    def loss(params: dict[str, Any]) -> float:
        key = json.dumps({k: params[k] for k in sorted(params)})
        if key not in memo:
            try:
                memo[key] = float(inner(params))
            except Exception:
                memo[key] = math.inf
            with path.open("a") as f:
                f.write(json.dumps([key, memo[key]]) + "\n")
        if math.isinf(memo[key]):
            raise RuntimeError("evaluation failed (cached)")
        return memo[key]

    problem.loss = loss
    return problem


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


def run_ours(
    problem: Any, optimizer: str, seed: int, n_trials: int, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    import hypersearch as hs
    from hypersearch.study import Study

    # Single-process ask/tell: no lease refreshes needed. (A heartbeat thread on the shared
    # in-memory SQLite connection raised "cannot start a transaction within a transaction"
    # in runs longer than the heartbeat interval; reported to the storage owner.)
    Study.heartbeat_interval = 1e9
    sampler: Any = {"name": optimizer, **options} if options else optimizer
    study = hs.create_study(space=problem.space, sampler=sampler, seed=seed)
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


def run_one(job: tuple[str, str, int, int, str]) -> dict[str, Any]:
    """One (problem, optimizer, seed) run; an error is returned, not raised, so one broken
    problem does not stop the other runs."""
    try:
        return _run_one(job)
    except Exception as exc:
        return {"problem": job[0], "optimizer": job[1], "seed": job[2], "error": repr(exc)}


def _run_one(job: tuple[str, str, int, int, str]) -> dict[str, Any]:
    _single_thread()
    logging.getLogger("hypersearch").setLevel(logging.WARNING)
    from bench.problems import get

    name, optimizer, seed, n_trials, options = job
    problem = get(name)
    if problem.kind in _CACHED_KINDS:
        problem = cached(problem)
    t0 = time.perf_counter()
    base = optimizer.split("@")[0]
    if base.startswith("optuna"):
        out = run_optuna(problem, base, seed, n_trials)
    else:
        out = run_ours(problem, base, seed, n_trials, json.loads(options) or None)
    out["ask_s"] = [round(a, 5) for a in out["ask_s"]]
    return {
        "problem": name,
        "optimizer": optimizer,
        "seed": seed,
        "trials": n_trials,
        "optimum": problem.optimum,
        "wall_s": time.perf_counter() - t0,
        **({"options": json.loads(options)} if json.loads(options) else {}),
        **out,
    }


def _done(path: Path) -> set[tuple[str, str, int, int]]:
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue  # empty, or cut short by a kill: that run is done again
        out.add((r["problem"], r["optimizer"], r["seed"], r["trials"]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=None)
    ap.add_argument(
        "--suite",
        choices=["development", "validation", "all"],
        default=None,
        help="the problems of bench/samplers/split.json (default out: suite.jsonl)",
    )
    ap.add_argument("--optimizers", nargs="+", default=None)
    ap.add_argument("--seeds", type=int, default=10, help="how many seeds")
    ap.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run are first-seed .. first-seed + seeds - 1 (e.g. 10 to add seeds 10-19)",
    )
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--options",
        default="{}",
        help="JSON options for our samplers, e.g. '{\"explore_every\": 0}' (label them: gp@x0)",
    )
    args = ap.parse_args(argv)
    if args.suite:
        halves = ["development", "validation"] if args.suite == "all" else [args.suite]
        groups = [suite_problems(h) for h in halves]
        optimizers = args.optimizers or SUITE_OPTIMIZERS
        out = args.out or SUITE_OUT
    else:
        groups = [args.problems or DEFAULT_PROBLEMS]
        optimizers = args.optimizers or OPTIMIZERS
        out = args.out or OUT
    args.out = out
    done = _done(args.out)
    jobs = [
        (p, o, s, args.trials, args.options)
        for problems in groups
        for s in range(args.first_seed, args.first_seed + args.seeds)
        for p in problems
        for o in optimizers
        if (p, o, s, args.trials) not in done
    ]
    print(f"{len(jobs)} runs to do ({len(done)} already in {args.out})", flush=True)
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers, maxtasksperchild=20) as pool, args.out.open("a") as f:
        for i, r in enumerate(pool.imap_unordered(run_one, jobs)):
            if "error" in r:
                print(
                    f"[{i + 1}/{len(jobs)}] {r['problem']} {r['optimizer']} seed {r['seed']}: "
                    f"FAILED {r['error'][:300]}",
                    flush=True,
                )
                continue
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
