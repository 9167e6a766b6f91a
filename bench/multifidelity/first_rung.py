# ruff: noqa: E402  (thread limits are set before numpy is imported)
"""Where a first rung should sit, per family of the development half: the normalised gap of
the simplest early-stopping plan, "train N random configurations for r steps, then train the
best k of them in full", for each screening resource r at 1/10, 1/5 and 1/2 of the suite's
budget (N as large as the budget allows, the best k for each r). A description of the
problems, measured offline on random configurations of the surrogates (never an input to a
scheduler): it shows how early a learning curve starts to rank configurations usefully.

    nice .venv/bin/python -m bench.multifidelity.first_rung                 # every family
    nice .venv/bin/python -m bench.multifidelity.first_rung --families lcbench
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
from collections.abc import Sequence

import numpy as np

from bench.multifidelity import suite

BUDGETS = (0.1, 0.2, 0.5)
KEPT = (1, 2, 3, 4)


def random_curves(name: str, n: int, seed: int = 0) -> np.ndarray:
    """Learning curves (rows) of ``n`` random configurations of a problem."""
    problem = suite.make_problem(name)
    rng = np.random.default_rng(seed)
    d = len(problem.space)
    return np.array([problem.curve(problem.space.decode(rng.random(d))) for _ in range(n)])


def screening_gap(
    curves: np.ndarray, resource: int, kept: int, budget: int, unit: tuple[float, float],
    rng: np.random.Generator, draws: int = 300,
) -> float | None:  # fmt: skip
    """Mean gap of screening as many configurations as ``budget`` allows at ``resource`` and
    training the best ``kept`` in full (None when the budget does not allow ``kept``)."""
    steps = curves.shape[1]
    n = (budget - kept * (steps - resource)) // resource
    if n < kept:
        return None
    n = min(n, len(curves))
    best, scale = unit
    out = []
    for _ in range(draws):
        pool = rng.choice(len(curves), n, replace=False)
        chosen = pool[np.argsort(curves[pool, resource - 1], kind="stable")[:kept]]
        out.append((curves[chosen, -1].min() - best) / scale)
    return float(np.mean(out))


def family_table(names: Sequence[str], configs: int) -> dict[float, dict[int, float]]:
    """budget fraction -> screening resource -> mean gap over the problems, for the number
    kept in full that is best over the family (one k for every problem)."""
    rows = suite.rows_by_problem(suite.load(suite.HERE / "results", "surrogates"))
    per: dict[float, dict[tuple[int, int], list[float]]] = {}
    for name in names:
        best, scale, _ = suite.normaliser(rows[name], suite.reference(suite.HERE / "results",
                                                                      name, None))  # fmt: skip
        curves = random_curves(name, configs)
        steps = curves.shape[1]
        rng = np.random.default_rng(1)
        for fraction in BUDGETS:
            budget = int(fraction * suite.FULL_TRAININGS * steps)
            for r in range(1, steps // 2 + 1):
                for k in KEPT:
                    gap = screening_gap(curves, r, k, budget, (best, scale), rng)
                    if gap is not None:
                        per.setdefault(fraction, {}).setdefault((r, k), []).append(gap)
    table: dict[float, dict[int, float]] = {}
    for fraction, by_plan in per.items():
        for (r, _), values in by_plan.items():
            if len(values) == len(names):
                best_k = table.setdefault(fraction, {}).get(r, np.inf)
                table[fraction][r] = min(best_k, float(np.mean(values)))
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", nargs="+", default=["lcbench", "rbv2_xgboost", "rbv2_rpart"])
    ap.add_argument("--configs", type=int, default=600, help="random configurations per problem")
    args = ap.parse_args()
    dev = suite.split()["development"]
    for family in args.families:
        names = [n for n in dev if n.startswith(family + "-")]
        table = family_table(names, args.configs)
        print(f"\n{family} ({len(names)} development problems): gap by screening resource r")
        for fraction, by_r in table.items():
            ranked = sorted(by_r.items(), key=lambda kv: kv[1])
            cells = " ".join(f"r={r}:{g:.2f}" for r, g in sorted(by_r.items())[:12])
            print(f"  budget {fraction:g}: best r={ranked[0][0]} ({ranked[0][1]:.2f}); {cells}")


if __name__ == "__main__":
    main()
