"""Tables for bench/RESULTS.md from the runs in results.jsonl.

    .venv/bin/python -m bench.samplers.report [--in bench/samplers/results.jsonl]

Normalised regret of a run after t trials: (best loss so far - f*) / (median random loss -
f*), where f* is the known optimum or else the best loss any run found, and the median is
over every trial of every random-search run on the problem. 0 is optimal, 1 is a typical
random point; failures (inf) never count as best. Per problem: mean ± standard error over
seeds. Ranking: each problem ranks the optimizers by mean regret (ties share), ranks are
averaged over problems.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.samplers.run import OUT

OURS = ("auto", "gp", "tpe")
OPTUNA = ("optuna_tpe", "optuna_tpe_mv", "optuna_gp")
ORDER = ["random", "tpe", "gp", "auto", "optuna_tpe", "optuna_tpe_mv", "optuna_gp"]


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def regrets(runs: list[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """problem -> optimizer -> (seeds, trials) normalised regret curves."""
    by_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_problem[r["problem"]].append(r)
    out: dict[str, dict[str, np.ndarray]] = {}
    for problem, rs in by_problem.items():
        finite = [x for r in rs for x in r["losses"] if math.isfinite(x)]
        optimum = rs[0]["optimum"]
        f_star = min(finite) if optimum is None else min(optimum, min(finite))
        rand = [x for r in rs if r["optimizer"] == "random" for x in r["losses"]]
        rand = [x for x in rand if math.isfinite(x)] or finite
        scale = max(float(np.median(rand)) - f_star, 1e-12)
        curves: dict[str, list[np.ndarray]] = defaultdict(list)
        # compare on the same seeds only: those every optimizer has finished
        opts = {r["optimizer"] for r in rs}
        seeds = set.intersection(*({r["seed"] for r in rs if r["optimizer"] == o} for o in opts))
        for r in sorted(rs, key=lambda r: r["seed"]):
            if r["seed"] not in seeds:
                continue
            losses = np.array([x if math.isfinite(x) else np.inf for x in r["losses"]])
            best = np.minimum.accumulate(losses)
            reg = np.clip((best - f_star) / scale, 0.0, None)
            reg[~np.isfinite(reg)] = max(1.0, float(np.nanmax(reg[np.isfinite(reg)], initial=1)))
            curves[r["optimizer"]].append(reg)
        out[problem] = {k: np.array(v) for k, v in curves.items()}
    return out


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")


def table(reg: dict[str, dict[str, np.ndarray]], t: int, optimizers: list[str]) -> list[str]:
    lines = [
        f"**After {t} trials** — mean normalised regret ± s.e. (lower is better; best in bold)",
        "",
        "| problem | seeds | " + " | ".join(optimizers) + " |",
        "|---|---:|" + "---:|" * len(optimizers),
    ]
    for problem, by_opt in reg.items():
        means = {o: by_opt[o][:, t - 1].mean() for o in optimizers if o in by_opt}
        best = min(means.values())
        seeds = min(len(by_opt[o]) for o in means)
        cells = []
        for o in optimizers:
            if o not in by_opt:
                cells.append("–")
                continue
            x = by_opt[o][:, t - 1]
            cell = f"{x.mean():.3f} ± {_se(x):.3f}"
            cells.append(f"**{cell}**" if means[o] == best else cell)
        lines.append(f"| {problem} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def ranking(reg: dict[str, dict[str, np.ndarray]], t: int, optimizers: list[str]) -> list[str]:
    from scipy.stats import rankdata

    ranks: dict[str, list[float]] = defaultdict(list)
    for by_opt in reg.values():
        present = [o for o in optimizers if o in by_opt]
        means = [by_opt[o][:, t - 1].mean() for o in present]
        for o, rk in zip(present, rankdata(means), strict=True):
            ranks[o].append(float(rk))
    mean_reg = {
        o: float(np.mean([by_opt[o][:, t - 1].mean() for by_opt in reg.values() if o in by_opt]))
        for o in optimizers
    }
    order = sorted(ranks, key=lambda o: np.mean(ranks[o]))
    lines = [
        f"**Aggregate after {t} trials** (average rank over {len(reg)} problems; mean "
        "normalised regret over problems)",
        "",
        "| # | optimizer | average rank | mean regret |",
        "|---:|---|---:|---:|",
    ]
    for i, o in enumerate(order, 1):
        lines.append(f"| {i} | {o} | {np.mean(ranks[o]):.2f} | {mean_reg[o]:.3f} |")
    return lines


def versus(reg: dict[str, dict[str, np.ndarray]], t: int, ours: str) -> list[str]:
    """Ours against the best Optuna sampler per problem: better, tied (within combined
    s.e.) or worse, and the ratio of mean regrets."""
    lines = [
        f"**{ours} vs the best Optuna sampler on each problem, after {t} trials**",
        "",
        "| problem | ours | best Optuna | verdict |",
        "|---|---:|---:|---|",
    ]
    wins = ties = 0
    ratios_num, ratios_den = [], []
    for problem, by_opt in reg.items():
        if ours not in by_opt:
            continue
        opts = [o for o in OPTUNA if o in by_opt]
        if not opts:
            continue
        best = min(opts, key=lambda o: by_opt[o][:, t - 1].mean())
        a, b = by_opt[ours][:, t - 1], by_opt[best][:, t - 1]
        diff = a.mean() - b.mean()
        tol = math.sqrt(_se(a) ** 2 + _se(b) ** 2)
        tol = (0.0 if math.isnan(tol) else tol) + 1e-3  # regrets below 0.001 are equal
        verdict = "better" if diff < -tol else "tied" if diff <= tol else "worse"
        wins += verdict == "better"
        ties += verdict == "tied"
        ratios_num.append(a.mean())
        ratios_den.append(b.mean())
        lines.append(f"| {problem} | {a.mean():.3f} | {b.mean():.3f} ({best}) | {verdict} |")
    ratio = float(np.mean(ratios_num) / max(np.mean(ratios_den), 1e-12))
    lines += [
        "",
        f"Better or tied on {wins + ties} of {len(ratios_num)} problems ({wins} better, {ties} "
        f"tied). Mean regret ours / best-Optuna-per-problem: {ratio:.2f}.",
    ]
    return lines


def ask_times(runs: list[dict[str, Any]], optimizers: list[str]) -> list[str]:
    lines = [
        "**Mean ask time in these runs** (ms; includes storage, under a shared 2-core load)",
        "",
        "| optimizer | trials 1–50 | trials 51–100 |",
        "|---|---:|---:|",
    ]
    for o in optimizers:
        a = [r["ask_s"] for r in runs if r["optimizer"] == o]
        if not a:
            continue
        arr = np.array([x[:100] for x in a if len(x) >= 100])
        if not len(arr):
            continue
        lines.append(f"| {o} | {arr[:, :50].mean() * 1e3:.1f} | {arr[:, 50:].mean() * 1e3:.1f} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--in", dest="path", type=Path, default=OUT)
    args = ap.parse_args(argv)
    runs = load(args.path)
    present = {r["optimizer"] for r in runs}
    if "auto" in present and "gp" not in present:
        # auto picks GP on every problem here (see its log), with the same seed: the runs
        # are identical, so they are run once.
        runs += [{**r, "optimizer": "gp"} for r in runs if r["optimizer"] == "auto"]
    optimizers = [o for o in ORDER if o in {r["optimizer"] for r in runs}]
    # gp shares auto's runs here: rank it once (as auto) so a duplicate does not split ranks
    ranked = [o for o in optimizers if not (o == "gp" and "gp" not in present)]
    reg = regrets(runs)
    n = min(len(r["losses"]) for r in runs)
    out: list[str] = []
    for t in (50, 100):
        if t > n:
            continue
        out += [*table(reg, t, optimizers), ""]
        out += [*ranking(reg, t, ranked), ""]
        out += [*versus(reg, t, "auto"), ""]
    out += ask_times(runs, optimizers)
    print("\n".join(out))


if __name__ == "__main__":
    main()
