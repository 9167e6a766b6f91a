"""Paired comparison of two samplers on one half of the suite, seed by seed.

    .venv/bin/python -m bench.samplers.paired --in bench/samplers/suite-auto-v2.jsonl \\
        bench/samplers/suite.jsonl=random,optuna_gp,optuna_tpe bench/samplers/dev-levels.jsonl \\
        bench/samplers/dev-seeds10-19.jsonl bench/samplers/dev-levels-seeds10-19.jsonl \\
        --ours auto@lvl3 --base auto --baseline-seeds 10

The score is suite_report's (``100 (R_b - best_b) / (R_b - f*)``, clipped at -100), with one
difference: ``R_b`` is random search's mean over a *fixed* set of seeds (``--baseline-seeds
N``: seeds 0..N-1, the committed tables' baseline), so adding seeds to some optimizers (and
not to the anchors) neither moves the scale nor drops the anchors' seeds. ``f*`` is the known
optimum, else the best loss of any loaded run. For each seed both samplers finished on every
problem of the half, the per-seed difference ``ours - base`` of the mean score over the
problems is taken; the output is its mean ± s.e. over the seeds per budget, the problems
where ``ours`` is worse than random beyond one combined s.e. (on the seeds both have), and
the per-problem differences.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from typing import Any

import numpy as np

from bench.samplers.run import SPLIT
from bench.samplers.suite_report import BUDGETS, FLOOR, _best_curve, load

#: problem -> optimizer -> seed -> budget -> score
Scores = dict[str, dict[str, dict[int, dict[int, float]]]]


def fixed_baseline_scores(runs: list[dict[str, Any]], baseline_seeds: int) -> Scores:
    """Every run's score per budget, normalised by random's seeds ``0..baseline_seeds-1``."""
    by_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_problem[r["problem"]].append(r)
    out: Scores = {}
    for problem, rs in by_problem.items():
        base = [r for r in rs if r["optimizer"] == "random" and r["seed"] < baseline_seeds]
        if len(base) < baseline_seeds:
            continue  # no complete baseline: the problem is not scored
        finite = [x for r in rs for x in r["losses"] if math.isfinite(x)]
        optimum = rs[0]["optimum"]
        f_star = min(finite) if optimum is None else min(optimum, min(finite))
        rand = np.array([_best_curve(r["losses"]) for r in base])
        worst = np.where(np.isfinite(rand), rand, -np.inf).max(axis=0)
        rand = np.where(np.isfinite(rand), rand, worst[None, :])
        out[problem] = defaultdict(dict)
        for r in rs:
            curve = _best_curve(r["losses"])
            curve = np.where(np.isfinite(curve), curve, worst[: len(curve)])
            per_budget = {}
            for b in BUDGETS:
                if b > len(curve) or b > rand.shape[1]:
                    continue
                r_b = float(rand[:, b - 1].mean())
                denom = max(r_b - f_star, 1e-12 * max(1.0, abs(f_star)))
                raw = 100.0 * (r_b - float(curve[b - 1])) / denom
                per_budget[b] = float(np.clip(raw, FLOOR, 100.0))
            out[problem][r["optimizer"]][r["seed"]] = per_budget
    return out


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")


def paired(sc: Scores, problems: list[str], ours: str, base: str) -> list[str]:
    """Per budget: mean ± s.e. over seeds of the per-seed mean difference ``ours - base``."""
    seeds = sorted(set.intersection(*(set(sc[p][ours]) & set(sc[p][base]) for p in problems)))
    lines = [f"Seeds both samplers finished on all {len(problems)} problems: {seeds}", ""]
    lines += [
        f"| budget | {base} | {ours} | {ours} − {base} (± s.e., {len(seeds)} seeds) |",
        "|---:|---:|---:|---:|",
    ]
    diffs = []
    for b in BUDGETS:
        a = np.array([[sc[p][ours][s][b] for p in problems] for s in seeds]).mean(axis=1)
        o = np.array([[sc[p][base][s][b] for p in problems] for s in seeds]).mean(axis=1)
        d = a - o
        diffs.append(float(d.mean()))
        lines.append(f"| {b} | {o.mean():.2f} | {a.mean():.2f} | {d.mean():+.2f} ± {_se(d):.2f} |")
    lines += ["", f"Mean of the three differences: {np.mean(diffs):+.2f}."]
    return lines


def worse_than_random(sc: Scores, problems: list[str], who: str) -> list[str]:
    """Problems and budgets where ``who`` is below random by more than one combined s.e.,
    on the seeds both have."""
    bad = []
    for p in problems:
        seeds = sorted(set(sc[p].get(who, {})) & set(sc[p]["random"]))
        for b in BUDGETS:
            a = np.array([sc[p][who][s][b] for s in seeds])
            r = np.array([sc[p]["random"][s][b] for s in seeds])
            tol = math.sqrt(_se(a) ** 2 + _se(r) ** 2)
            if a.mean() - r.mean() < -(0.0 if math.isnan(tol) else tol):
                bad.append(f"{p} @{b}: {a.mean():.1f} ± {_se(a):.1f} vs random {r.mean():.1f}")
    return [f"**{who} worse than random beyond one s.e.:** " + ("; ".join(bad) or "none") + "."]


def per_problem(sc: Scores, problems: list[str], ours: str, base: str) -> list[str]:
    """Per problem and budget: mean score of both and the paired difference ± s.e."""
    lines = [
        f"| problem | seeds | {base} @100 | {ours} @100 | diff @20 | diff @50 | diff @100 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p in problems:
        seeds = sorted(set(sc[p][ours]) & set(sc[p][base]))
        cells = []
        for b in BUDGETS:
            d = np.array([sc[p][ours][s][b] - sc[p][base][s][b] for s in seeds])
            cells.append(f"{d.mean():+.1f} ± {_se(d):.1f}")
        a = np.mean([sc[p][ours][s][100] for s in seeds])
        o = np.mean([sc[p][base][s][100] for s in seeds])
        lines.append(f"| {p} | {len(seeds)} | {o:.1f} | {a:.1f} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--in", dest="paths", nargs="+", required=True, help="FILE or FILE=opt1,opt2")
    ap.add_argument("--ours", required=True)
    ap.add_argument("--base", default="auto")
    ap.add_argument("--half", default="development", choices=["development", "validation"])
    ap.add_argument("--baseline-seeds", type=int, default=10, help="random's seeds 0..N-1")
    ap.add_argument("--seeds", type=int, default=None, help="only seeds 0..N-1 (default: all)")
    args = ap.parse_args(argv)
    runs = [r for r in load(*args.paths) if args.seeds is None or r["seed"] < args.seeds]
    sc = fixed_baseline_scores(runs, args.baseline_seeds)
    problems = [p for p in json.loads(SPLIT.read_text())[args.half] if p in sc]
    out = [f"{args.half.capitalize()} half, {len(problems)} problems", ""]
    out += [*paired(sc, problems, args.ours, args.base), ""]
    out += [*worse_than_random(sc, problems, args.ours), ""]
    out += [*worse_than_random(sc, problems, args.base), ""]
    out += per_problem(sc, problems, args.ours, args.base)
    print("\n".join(out))


if __name__ == "__main__":
    main()
