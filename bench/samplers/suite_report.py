"""Tables of the sampler suite (bench/samplers/suite.jsonl) for bench/RESULTS.md.

    .venv/bin/python -m bench.samplers.suite_report [--in bench/samplers/suite.jsonl]

**Normalised score** (Bayesmark-style; higher is better) of a run after ``b`` trials::

    score = 100 * (R_b - best_b) / (R_b - f*)

``best_b``: the best loss of the run's first ``b`` trials; ``f*``: the known optimum, else
the best loss any run of any optimizer found on the problem; ``R_b``: random search's
expected ``best_b`` (the mean over its seeds). 100 is the best known value, 0 is what random
search gets on average with the same budget, negative is worse than that. The normalised
regret is ``1 - score / 100``. A run whose first ``b`` trials all failed scores as random's
worst seed. A run's score is clipped at -100 (twice random's distance from the best known),
so one problem where random search is close to the optimum cannot dominate the mean.
Per problem: mean ± standard error over the seeds every optimizer has finished.
Ranks: each problem ranks the optimizers by mean score (ties share), averaged over problems.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.samplers.run import SPLIT, SUITE_OUT

BUDGETS = (20, 50, 100)
#: A run's score is clipped here: where random search gets close to the optimum, a run a
#: little worse than random would otherwise score -3000 and drown every other problem.
FLOOR = -100.0
ORDER = ["random", "auto", "gp", "tpe", "optuna_gp", "optuna_tpe", "optuna_tpe_mv"]


def load(*paths: Path | str) -> list[dict[str, Any]]:
    """Runs from the files, the first of each (problem, optimizer, seed, trials) only (two
    resumed processes may both have run one). ``FILE=opt1,opt2`` takes only those
    optimizers from FILE (e.g. the anchors from a file that also holds an older ``auto``)."""
    runs, seen = [], set()
    for spec in paths:
        path, _, only = str(spec).partition("=")
        keep = set(only.split(",")) if only else None
        for line in Path(path).read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue  # empty, or cut short by a kill or a copy mid-write
            if keep is not None and r["optimizer"] not in keep:
                continue
            key = (r["problem"], r["optimizer"], r["seed"], r["trials"])
            if key not in seen:
                seen.add(key)
                runs.append(r)
    return runs


def _best_curve(losses: list[float]) -> np.ndarray:
    arr = np.array([x if math.isfinite(x) else np.inf for x in losses], dtype=float)
    return np.minimum.accumulate(arr)


def scores(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[int, np.ndarray]]]:
    """problem -> optimizer -> seed-indexed scores per budget, on the common seeds only."""
    by_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_problem[r["problem"]].append(r)
    out: dict[str, dict[str, dict[int, np.ndarray]]] = {}
    for problem, rs in by_problem.items():
        opts = {r["optimizer"] for r in rs}
        if "random" not in opts:
            continue
        seeds = set.intersection(*({r["seed"] for r in rs if r["optimizer"] == o} for o in opts))
        if not seeds:
            continue
        rs = [r for r in rs if r["seed"] in seeds]
        finite = [x for r in rs for x in r["losses"] if math.isfinite(x)]
        optimum = rs[0]["optimum"]
        f_star = min(finite) if optimum is None else min(optimum, min(finite))
        curves: dict[str, list[np.ndarray]] = defaultdict(list)
        for r in sorted(rs, key=lambda r: r["seed"]):
            curves[r["optimizer"]].append(_best_curve(r["losses"]))
        rand = np.array(curves["random"])
        worst = np.where(np.isfinite(rand), rand, -np.inf).max(axis=0)
        out[problem] = {}
        for o, cs in curves.items():
            arr = np.array(cs)
            arr = np.where(np.isfinite(arr), arr, worst[None, : arr.shape[1]])
            per_budget = {}
            for b in BUDGETS:
                if b > arr.shape[1] or b > rand.shape[1]:
                    continue
                r_b = float(
                    np.where(np.isfinite(rand[:, b - 1]), rand[:, b - 1], worst[b - 1]).mean()
                )
                denom = max(r_b - f_star, 1e-12 * max(1.0, abs(f_star)))
                raw = 100.0 * (r_b - arr[:, b - 1]) / denom
                per_budget[b] = np.clip(raw, FLOOR, 100.0)
            out[problem][o] = per_budget
    return out


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")


def _optimizers(sc: dict[str, dict[str, dict[int, np.ndarray]]]) -> list[str]:
    present = {o for by_opt in sc.values() for o in by_opt}
    base = [o for o in ORDER if o in present]
    return base + sorted(present - set(base))


def problem_table(sc: dict[str, Any], problems: list[str], b: int, opts: list[str]) -> list[str]:
    lines = [
        f"**After {b} trials** — normalised score, mean ± s.e. over seeds (higher is better; "
        "best in bold)",
        "",
        "| problem | seeds | " + " | ".join(opts) + " |",
        "|---|---:|" + "---:|" * len(opts),
    ]
    for p in problems:
        by_opt = sc.get(p)
        if not by_opt:
            continue
        means = {o: float(by_opt[o][b].mean()) for o in opts if o in by_opt and b in by_opt[o]}
        if not means:
            continue
        top = max(means.values())
        seeds = min(len(by_opt[o][b]) for o in means)
        cells = []
        for o in opts:
            if o not in means:
                cells.append("–")
                continue
            x = by_opt[o][b]
            cell = f"{x.mean():.1f} ± {_se(x):.1f}"
            cells.append(f"**{cell}**" if means[o] >= top - 1e-9 else cell)
        lines.append(f"| {p} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def aggregate(sc: dict[str, Any], problems: list[str], opts: list[str]) -> list[str]:
    """Mean score, average rank and mean normalised regret per optimizer and budget."""
    from scipy.stats import rankdata

    lines = [
        "| optimizer | " + " | ".join(f"score @{b}" for b in BUDGETS)
        + " | " + " | ".join(f"rank @{b}" for b in BUDGETS)
        + " | " + " | ".join(f"regret @{b}" for b in BUDGETS) + " |",
        "|---|" + "---:|" * (3 * len(BUDGETS)),
    ]  # fmt: skip
    stats: dict[str, dict[str, list[float]]] = {o: defaultdict(list) for o in opts}
    n_problems = 0
    for p in problems:
        by_opt = sc.get(p)
        if not by_opt or not all(o in by_opt for o in opts):
            continue
        n_problems += 1
        for b in BUDGETS:
            if not all(b in by_opt[o] for o in opts):
                continue
            means = [float(by_opt[o][b].mean()) for o in opts]
            for o, m, rk in zip(opts, means, rankdata([-m for m in means]), strict=True):
                stats[o][f"s{b}"].append(m)
                stats[o][f"r{b}"].append(float(rk))
    for o in opts:
        cells = []
        for key in ("s", "r", "g"):
            for b in BUDGETS:
                vals = stats[o][f"{'s' if key == 'g' else key}{b}"]
                if not vals:
                    cells.append("–")
                elif key == "s":
                    cells.append(f"{np.mean(vals):.1f}")
                elif key == "r":
                    cells.append(f"{np.mean(vals):.2f}")
                else:
                    cells.append(f"{1.0 - np.mean(vals) / 100.0:.3f}")
        lines.append(f"| {o} | " + " | ".join(cells) + " |")
    return [f"Over {n_problems} problems (those every optimizer has run):", "", *lines]


def worse_than_random(sc: dict[str, Any], problems: list[str], who: str) -> list[str]:
    """Problems and budgets where ``who``'s mean score is below random's by more than one
    combined standard error."""
    bad = []
    for p in problems:
        by_opt = sc.get(p, {})
        if who not in by_opt:
            continue
        for b in BUDGETS:
            if b not in by_opt[who]:
                continue
            a, r = by_opt[who][b], by_opt["random"][b]
            tol = math.sqrt(_se(a) ** 2 + _se(r) ** 2)
            tol = 0.0 if math.isnan(tol) else tol  # one seed: any shortfall counts
            if a.mean() - r.mean() < -tol:
                bad.append(
                    f"{p} @{b}: {a.mean():.1f} ± {_se(a):.1f} vs random {r.mean():.1f} "
                    f"({len(a)} seeds)"
                )
    head = f"**{who} worse than random beyond one s.e.:** "
    return [head + ("none." if not bad else "; ".join(bad) + ".")]


def versus(sc: dict[str, Any], problems: list[str], who: str, other: str) -> list[str]:
    """Ratio of mean normalised regrets ``who / other`` per budget."""
    parts = []
    for b in BUDGETS:
        a, o = [], []
        for p in problems:
            by_opt = sc.get(p, {})
            if who in by_opt and other in by_opt and b in by_opt[who]:
                a.append(1.0 - by_opt[who][b].mean() / 100.0)
                o.append(1.0 - by_opt[other][b].mean() / 100.0)
        if a:
            parts.append(f"@{b}: {np.mean(a) / max(np.mean(o), 1e-12):.2f}")
    return [f"Mean normalised regret {who} / {other}: " + ", ".join(parts) + "."]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--in",
        dest="paths",
        nargs="+",
        default=[str(SUITE_OUT)],
        help="result files; FILE=opt1,opt2 reads only those optimizers from FILE",
    )
    ap.add_argument("--optimizers", nargs="+", default=None)
    ap.add_argument("--ours", default="auto", help="the sampler checked against the anchors")
    args = ap.parse_args(argv)
    runs = load(*args.paths)
    if args.optimizers:
        runs = [r for r in runs if r["optimizer"] in args.optimizers]
    sc = scores(runs)
    opts = args.optimizers or _optimizers(sc)
    split = json.loads(SPLIT.read_text())
    out: list[str] = []
    for half in ("development", "validation"):
        problems = [p for p in split[half] if p in sc]
        if not problems:
            continue
        done = sum(1 for r in runs if r["problem"] in split[half] and r["optimizer"] in opts)
        out += [f"### {half.capitalize()} half ({len(problems)} problems, {done} runs)", ""]
        out += [*aggregate(sc, problems, opts), ""]
        if args.ours in opts:
            out += [*worse_than_random(sc, problems, args.ours), ""]
            for other in ("optuna_gp", "optuna_tpe"):
                if other in opts:
                    out += [*versus(sc, problems, args.ours, other), ""]
        for b in BUDGETS:
            out += [*problem_table(sc, problems, b, opts), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
