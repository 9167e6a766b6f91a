# ruff: noqa: E402  (thread limits are set before numpy is imported)
"""How good MultiFidelity's model is part way through a study, measured offline on the
development half (a description for tuning the model, never an input to a scheduler).

Each (task, seed) runs the default scheduler on the surrogate up to ``--fraction`` of the
budget of 20 full trainings, then refits the scheduler's own curve model on what was reported
and measures: (1) the rank correlation between its predicted full-training value and the true
one, for the configurations not yet fully trained, beside the same correlation for the value
at the first rung (what ASHA ranks by); (2) where ``--proposals`` fresh proposals of the model
land among 500 random configurations' final values (percentile; the share in the best 5% and
2%), beside uniform random draws. A full pass over the 17 LCBench tasks takes about a minute
and is far less noisy than the end-to-end gap, whose per-run spread hides effects below 0.1.

    nice .venv/bin/python -m bench.multifidelity.proposal_quality --fraction 0.2 --seeds 3
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import logging
import warnings
from typing import Any

import numpy as np
from scipy.stats import spearmanr

import hypersearch as hs
from bench.multifidelity import suite
from bench.multifidelity.scratch import use_ram_disk
from hypersearch.schedulers.curves import lineage_curves, promoted_parents
from hypersearch.schedulers.mf_model import Curve


def measure(
    problem: suite.CurveProblem, seed: int, fraction: float, proposals: int
) -> dict[str, Any]:
    """The two measures for one (task, seed); see the module docstring."""
    e = problem.epochs
    scheduler = hs.schedulers.MultiFidelity(max_resource=e, seed=seed)
    budget = int(fraction * suite.FULL_TRAININGS * e)
    study, _ = suite.simulate(problem, scheduler, seed, checkpoints=True, budget=budget)
    trials = study.trials
    merged = lineage_curves(trials)
    continued = promoted_parents(trials)
    kept = [t for t in trials if t.number not in continued and merged.get(t.number)]
    curves = [Curve(problem.space.encode(t.params), dict(merged[t.number])) for t in kept]
    true = np.array([problem.curve(t.params)[-1] for t in kept])
    first_rung = scheduler.rungs(e)[0]
    at_rung = np.array([c.values.get(first_rung, np.nan) for c in curves])
    unfinished = np.array([max(c.values) < e for c in curves])
    finals = np.sort(problem.random_finals(500, seed=1))
    rng = np.random.default_rng([seed, 1])
    out: dict[str, Any] = {"model_pct": [], "random_pct": []}
    if not scheduler.model.fit(curves, rng):
        return out
    x = np.array([c.x for c in curves])
    predicted = scheduler.model.predicted_final(x)
    ok = unfinished & np.isfinite(at_rung)
    if ok.sum() > 3:
        out["rho_model"] = float(spearmanr(predicted[ok], true[ok])[0])
        out["rho_rung"] = float(spearmanr(at_rung[ok], true[ok])[0])
    for _ in range(proposals):
        pair: list[tuple[str, np.ndarray]] = [
            ("model_pct", scheduler.model.propose(x, rng)),
            ("random_pct", np.asarray(rng.random(x.shape[1]))),
        ]
        for key, u in pair:
            final = problem.curve(problem.space.decode(u))[-1]
            out[key].append(float(np.searchsorted(finals, final) / len(finals)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fraction", type=float, default=0.2, help="of the budget, before measuring")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--proposals", type=int, default=10)
    ap.add_argument("--families", nargs="+", default=["lcbench"])
    args = ap.parse_args()
    logging.getLogger("hypersearch").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    use_ram_disk("mfproposals")
    names = [n for n in suite.split()["development"] if n.split("-")[0] in args.families]
    rows: dict[str, list[float]] = {}
    for name in names:
        problem = suite.make_problem(name)
        for seed in range(args.seeds):
            m = measure(problem, seed, args.fraction, args.proposals)
            for key, value in m.items():
                rows.setdefault(key, []).extend(value if isinstance(value, list) else [value])
        print(f"{name:18s} done", flush=True)
    for who in ("model", "random"):
        pct = np.array(rows.get(f"{who}_pct", [np.nan]))
        best5, best2 = np.mean(pct < 0.05), np.mean(pct < 0.02)
        print(f"{who:6s} proposals: mean percentile {pct.mean():.3f}, in the best 5% "
              f"{best5:.3f}, best 2% {best2:.3f} (n={len(pct)})")  # fmt: skip
    print(f"rank correlation with the final value, unfinished configurations: model's "
          f"prediction {np.mean(rows.get('rho_model', [np.nan])):.3f}, value at the first "
          f"rung {np.mean(rows.get('rho_rung', [np.nan])):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
