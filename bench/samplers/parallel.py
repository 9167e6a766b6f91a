"""Parallel asking: 4 workers get 4 distinct points, and quality at equal trial count stays
within one standard error of sequential asking.

    nice .venv/bin/python -m bench.samplers.parallel [--seeds 5 --trials 50]

Four workers are simulated in one process, asynchronously: four trials are kept running;
each step the oldest finishes (tell) and a new one is asked while the other three are still
RUNNING, exactly what samplers see from parallel workers sharing storage. The first batch
of four asks, made at once, is checked for distinct points on every run.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections import deque

import numpy as np

from bench.samplers.run import _single_thread


def run(problem_name: str, sampler: str, seed: int, n_trials: int, workers: int) -> tuple:
    import hypersearch as hs
    from bench.problems import get
    from hypersearch.study import Study

    Study.heartbeat_interval = 1e9
    problem = get(problem_name)
    study = hs.create_study(space=problem.space, sampler=sampler, seed=seed)
    best = math.inf
    running: deque = deque()
    asked = 0
    distinct_checks = []
    while asked < n_trials or running:
        while len(running) < workers and asked < n_trials:
            running.append(study.ask())
            asked += 1
            if len(running) == workers:
                pts = {tuple(sorted(t.params.items())) for t in running}
                distinct_checks.append(len(pts) == workers)
        trial = running.popleft()
        try:
            v = float(problem.loss(trial.params))
            study.tell(trial, v)
            best = min(best, v)
        except Exception as exc:
            study.tell(trial, state="FAILED", fail_reason=str(exc))
    return best, all(distinct_checks), len(distinct_checks)


def sequential(problem_name: str, sampler: str, seed: int, n_trials: int) -> float:
    return run(problem_name, sampler, seed, n_trials, 1)[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=["branin", "hartmann6"])
    ap.add_argument("--samplers", nargs="+", default=["auto", "tpe"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args(argv)
    _single_thread()
    logging.getLogger("hypersearch").setLevel(logging.WARNING)
    from bench.problems import get

    print("| problem | sampler | sequential best | 4 workers best | Δ / s.e. | 4 asks distinct |")
    print("|---|---|---:|---:|---:|---|")
    for name in args.problems:
        optimum = get(name).optimum or 0.0
        for sampler in args.samplers:
            seq, par, ok = [], [], True
            for seed in range(args.seeds):
                seq.append(sequential(name, sampler, seed, args.trials) - optimum)
                b, distinct, _ = run(name, sampler, seed, args.trials, args.workers)
                par.append(b - optimum)
                ok &= distinct
            s, p = np.array(seq), np.array(par)
            se = math.sqrt(s.var(ddof=1) / len(s) + p.var(ddof=1) / len(p))
            z = (p.mean() - s.mean()) / se if se > 0 else 0.0
            print(
                f"| {name} | {sampler} | {s.mean():.4f} ± {s.std(ddof=1) / math.sqrt(len(s)):.4f} "
                f"| {p.mean():.4f} ± {p.std(ddof=1) / math.sqrt(len(p)):.4f} | {z:+.2f} "
                f"| {'yes' if ok else 'NO'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
