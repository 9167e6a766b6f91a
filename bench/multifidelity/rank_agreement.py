# ruff: noqa: E402  (thread limits are set before numpy is imported)
"""How far a low rung predicts full training, per development-half LCBench task: Spearman
rank correlation between the best value after r epochs and the final value, over random
configurations of the surrogate (a description of the tasks, never an input to a scheduler).

    nice .venv/bin/python -m bench.multifidelity.rank_agreement
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse

import numpy as np
from scipy.stats import spearmanr

from bench.multifidelity import suite

RUNGS = (2, 6, 18)


def agreement(name: str, n: int = 150, seed: int = 0) -> list[float]:
    """Rank correlation of the best value up to each rung with the final value."""
    problem = suite.make_problem(name)
    rng = np.random.default_rng(seed)
    d = len(problem.space)
    curves = np.array([problem.curve(problem.space.decode(rng.random(d))) for _ in range(n)])
    best = np.minimum.accumulate(curves, axis=1)
    return [float(spearmanr(best[:, r - 1], curves[:, -1])[0]) for r in RUNGS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", type=int, default=150)
    args = ap.parse_args()
    names = [n for n in suite.split()["development"] if n.startswith("lcbench-")]
    print("task            " + "  ".join(f"rho({r},52)" for r in RUNGS))
    for name in names:
        rho = agreement(name, args.configs)
        print(f"{name:15s} " + "  ".join(f"{v:9.2f}" for v in rho), flush=True)


if __name__ == "__main__":
    main()
