# ruff: noqa: E402  (thread limits are set before numpy is imported)
"""Multi-fidelity suite: anytime normalised gap on every LCBench task, rbv2 surrogates with the
training-set fraction as fidelity, and (separately) the real PyTorch digits net.

Protocol (as the sampler benchmark's): the problems are split ONCE, with a committed seed,
into a development half (where constants and defaults may be tuned) and a validation half
(reported only); the split lives in ``split.json`` next to this file and is never redrawn.
Budget: 20 full trainings (LCBench 20 x 52 = 1040 epochs, rbv2 20 x 20 steps). Anytime
checkpoints at 1/10, 1/5, 1/2 and the full budget. The incumbent is the best value of a trial
trained to the full resource (stopped or paused trials never count); before a method has one,
its incumbent is the mean final value of a random configuration.

Normalised gap per problem: 0 = best known (best of every run and of 2,000 random
configurations trained in full), 1 = random search after the full budget (mean over seeds;
at least 5% of the mean random configuration's distance from the best, so a problem where
random search already finds the best value does not divide by zero).

Methods, all in the same run with the same seeds: random search (every trial in full); ours,
``MultiFidelity(max_resource)`` on an objective that saves a checkpoint after every step
(``multifidelity``: pause, continue from the checkpoint) and on one that saves none
(``multifidelity_nockpt``: pause, a promotion retrains), and ``pause=False`` without
checkpoints (``multifidelity_stop``, the stopping form), ``screening=True`` with and without
checkpoints (``multifidelity_screen``, ``multifidelity_screen_nockpt``); Optuna TPE +
SuccessiveHalvingPruner, TPE + HyperbandPruner and random + HyperbandPruner; optionally our
ASHA, Hyperband and BOHB (``--methods``).

    nice .venv/bin/python -m bench.multifidelity.suite --seeds 10          # run (resumable)
    nice .venv/bin/python -m bench.multifidelity.suite --report            # tables + PNG
    nice .venv/bin/python -m bench.multifidelity.suite --suite digits --seeds 3

Every finished (problem, method, seed) is appended to ``results/suite*.jsonl`` at once; a
killed run continues where it stopped. ``--shard i/n`` runs every n-th job (two processes
share the work without overlap).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrices: threads only contend on shared cores

import argparse
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import hypersearch as hs
from bench.multifidelity.run import DigitsProblem, run_optuna
from bench.multifidelity.scratch import use_ram_disk
from hypersearch.execution.simulated import SimulatedExecutor, SimulationResult
from hypersearch.space import Space

HERE = Path(__file__).resolve().parent
SPLIT_FILE = HERE / "split.json"
SPLIT_SEED = 15  # issue 15; drawn once, the split is committed in split.json
FULL_TRAININGS = 20
FRACTIONS = (0.1, 0.2, 0.5, 1.0)
METHODS = [
    "random",
    "multifidelity",
    "multifidelity_nockpt",
    "multifidelity_stop",
    "multifidelity_screen",
    "multifidelity_screen_nockpt",
    "optuna_tpe_sh",
    "optuna_tpe_hb",
    "optuna_random_hb",
]
#: Our methods reported against Optuna (the stopping form is kept for comparison only).
OURS = [m for m in METHODS if m.startswith("multifidelity") and m != "multifidelity_stop"]
RBV2_PER_SCENARIO = 6
#: Rows of earlier defaults, kept under these labels since the default changed
#: (RESULTS-multifidelity.md): ``_bestsofar`` before 2026-12-05 12:30 UTC (curves summarised
#: by their best value so far in the model), ``_curveat`` before 15:00 UTC (rungs ranked by
#: the best value so far), ``_ladder`` before 21:20 UTC (the three-rung ladder from the first
#: trial, without the screening start), ``_screenstart3`` before 22:15 UTC (the screening start
#: followed by three rungs instead of two), ``_local08`` before 2026-12-06 02:46 UTC (the
#: model's proposals perturbed the best configurations by a step of 0.08 instead of 0.25).
ARCHIVED = [
    "multifidelity_bestsofar",
    "multifidelity_nockpt_bestsofar",
    "multifidelity_stop_bestsofar",
    "multifidelity_curveat",
    "multifidelity_nockpt_curveat",
    "multifidelity_ladder",
    "multifidelity_nockpt_ladder",
    "multifidelity_screenstart3",
    "multifidelity_nockpt_screenstart3",
    "multifidelity_local08",
    "multifidelity_nockpt_local08",
    "multifidelity_screen_local08",
    "multifidelity_screen_nockpt_local08",
]


class CurveProblem:
    """A learning-curve oracle: ``curve(params)[i]`` is the value at step ``i + 1``."""

    def __init__(self, name: str, space: Space, epochs: int, curve: Callable[..., Any]) -> None:
        self.name, self.space, self.epochs, self.curve = name, space, epochs, curve

    def random_finals(self, n: int = 2000, seed: int = 0) -> list[float]:
        """Final values of ``n`` random configurations (the reference for the gap)."""
        rng = np.random.default_rng(seed)
        d = len(self.space)
        return [float(self.curve(self.space.decode(rng.random(d)))[-1]) for _ in range(n)]


def make_problem(name: str) -> CurveProblem:
    family, _, task = name.partition("-")
    if family == "lcbench":
        from bench.problems.lcbench import EPOCHS, LCBench

        lc = LCBench(task)
        return CurveProblem(name, lc.space, EPOCHS, lc.curve)
    if family in ("rbv2_xgboost", "rbv2_rpart"):
        from bench.problems.yahpo_fidelity import RBV2, STEPS

        rb = RBV2(family, task)
        return CurveProblem(name, rb.space, STEPS, rb.curve)
    if family == "digits":
        digits = DigitsProblem(seed=0)
        return CurveProblem(name, digits.space, digits.epochs, digits.curve)
    raise KeyError(name)


def split() -> dict[str, list[str]]:
    """The committed development/validation split; drawn once with ``SPLIT_SEED``."""
    if SPLIT_FILE.exists():
        return dict(json.loads(SPLIT_FILE.read_text()))
    from bench.problems.lcbench import data_dir
    from bench.problems.yahpo_fidelity import rbv2_tasks

    encoding = json.loads((data_dir() / "encoding.json").read_text())["OpenML_task_id"]
    rng = np.random.default_rng(SPLIT_SEED)
    families = [[f"lcbench-{t}" for t in sorted(encoding) if t != "#na#"]]
    for scenario in ("rbv2_xgboost", "rbv2_rpart"):
        tasks = rbv2_tasks(scenario)
        picked = rng.choice(len(tasks), RBV2_PER_SCENARIO, replace=False)
        families.append([f"{scenario}-{tasks[i]}" for i in sorted(picked)])
    out: dict[str, list[str]] = {"development": [], "validation": []}
    for names in families:
        order = list(rng.permutation(len(names)))
        half = len(names) // 2
        out["development"] += sorted(names[i] for i in order[:half])
        out["validation"] += sorted(names[i] for i in order[half:])
    SPLIT_FILE.write_text(json.dumps({**out, "seed": SPLIT_SEED}, indent=1) + "\n")
    return out


# methods ------------------------------------------------------------------------------------
def run_random(problem: CurveProblem, seed: int, budget: int) -> list[tuple[int, float]]:
    rng = np.random.default_rng([seed, 7])
    consumed, best, trace = 0, math.inf, []
    while consumed + problem.epochs <= budget:
        curve = problem.curve(problem.space.decode(rng.random(len(problem.space))))
        value = float(curve[problem.epochs - 1])
        consumed += problem.epochs
        best = min(best, value)
        trace.append((consumed, best))
    return trace


def run_ours(
    problem: CurveProblem, method: str, seed: int, budget: int
) -> list[tuple[int, float]]:
    e = problem.epochs
    scheduler: Any
    if method.startswith("multifidelity"):
        # _stop: the stopping form (pause=False); _nockpt: the default on an objective that
        # saves no checkpoint (pause at rungs, a promotion retrains from step 0)
        pause = False if method == "multifidelity_stop" else None
        scheduler = hs.schedulers.MultiFidelity(max_resource=e, seed=seed, pause=pause,
                                                screening="_screen" in method)  # fmt: skip
    elif method == "asha":
        scheduler = hs.schedulers.ASHA(min_resource=1, max_resource=e)
    elif method == "hyperband":
        scheduler = hs.schedulers.Hyperband(min_resource=1, max_resource=e)
    elif method == "bohb":
        scheduler = hs.schedulers.BOHB(min_resource=1, max_resource=e, seed=seed)
    else:
        raise KeyError(method)
    checkpoints = not method.endswith(("_stop", "_nockpt"))
    _, result = simulate(problem, scheduler, seed, checkpoints=checkpoints, budget=budget)
    return trace_of(result)


def simulate(
    problem: CurveProblem,
    scheduler: Any,
    seed: int,
    *,
    checkpoints: bool,
    budget: int,
    curve: Callable[..., Any] | None = None,
) -> tuple[hs.Study, SimulationResult]:
    """``scheduler`` on the problem's curves (or ``curve``) through ask/tell, one worker, until
    ``budget`` steps are spent: the study and the run's result (its anytime trace)."""
    study = hs.create_study(space=problem.space, direction="minimize", sampler="random",
                            scheduler=scheduler, seed=seed)  # fmt: skip
    sim = SimulatedExecutor(curve or problem.curve, max_steps=problem.epochs, first_step=1,
                            checkpoints=checkpoints)  # fmt: skip
    return study, sim.run(study, max_total_steps=budget)


def trace_of(result: SimulationResult) -> list[tuple[int, float]]:
    """(steps spent, best fully trained value) each time a trial completed."""
    return [(int(c), float(v)) for c, v in result.trace]


def run_method(
    problem: CurveProblem, method: str, seed: int, budget: int
) -> list[tuple[int, float]]:
    if method == "random":
        return run_random(problem, seed, budget)
    if method.startswith("optuna"):
        return [(int(c), float(v)) for c, v in run_optuna(problem, method, seed, budget)]  # type: ignore[arg-type]
    return run_ours(problem, method, seed, budget)


# running --------------------------------------------------------------------------------------
def results_files(out: Path, suite: str) -> list[Path]:
    return sorted(out.glob(f"{suite}*.jsonl"))


def load(out: Path, suite: str) -> dict[tuple[str, str, int], dict[str, Any]]:
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    for path in results_files(out, suite):
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                rows[(r["problem"], r["method"], int(r["seed"]))] = r
    return rows


def reference(out: Path, name: str, problem: CurveProblem | None) -> dict[str, float]:
    """Best and mean final value of 2,000 random configurations, cached in a JSON file."""
    path = out / "reference.json"
    refs = json.loads(path.read_text()) if path.exists() else {}
    if name not in refs and problem is not None:
        finals = problem.random_finals()
        refs = json.loads(path.read_text()) if path.exists() else {}
        refs[name] = {"best": float(np.min(finals)), "mean": float(np.mean(finals))}
        path.write_text(json.dumps(refs, indent=1, sort_keys=True) + "\n")
    return dict(refs.get(name, {}))


def run_all(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = args.methods.split(",")
    # the validation half first (every seed), then the development half
    halves = split() if args.suite != "digits" else {"validation": ["digits-mlp"]}
    order = [(seed, name) for half in ("validation", "development")
             for seed in range(args.seeds) for name in halves.get(half, [])]  # fmt: skip
    shard, n_shards = (int(x) for x in args.shard.split("/"))
    done = load(out, args.suite)
    path = out / f"{args.suite}-{shard}.jsonl"
    cache: dict[str, CurveProblem] = {}
    job = -1
    t0 = time.time()
    for seed, name in order:
        for method in methods:
            job += 1
            if job % n_shards != shard or (name, method, seed) in done:
                continue
            if name not in cache:
                cache.clear()  # one problem's curve cache in memory at a time
                cache[name] = make_problem(name)
            problem = cache[name]
            if args.suite != "digits":
                reference(out, name, problem)
            budget = FULL_TRAININGS * problem.epochs
            t = time.time()
            trace = run_method(problem, method, seed, budget)
            row = {"problem": name, "method": method, "seed": seed, "budget": budget,
                   "epochs": problem.epochs, "trace": trace,
                   "seconds": round(time.time() - t, 2)}  # fmt: skip
            with path.open("a") as f:
                f.write(json.dumps(row) + "\n")
            final = trace[-1][1] if trace else math.nan
            print(f"[{time.time() - t0:7.0f}s] seed {seed} {name:24s} {method:20s} "
                  f"final {final:.4f} ({row['seconds']:.1f} s)", flush=True)  # fmt: skip


# reporting ------------------------------------------------------------------------------------
def incumbent(trace: Sequence[Sequence[float]], epochs: float, fallback: float) -> float:
    best = fallback
    for consumed, value in trace:
        if consumed > epochs:
            break
        best = min(best, value)
    return best


def rows_by_problem(
    rows: dict[tuple[str, str, int], dict[str, Any]],
) -> dict[str, dict[str, dict[int, Any]]]:
    """problem -> method -> seed -> row."""
    out: dict[str, dict[str, dict[int, Any]]] = {}
    for (p, m, s), r in rows.items():
        out.setdefault(p, {}).setdefault(m, {})[s] = r
    return out


def budget_of(by_method: dict[str, dict[int, Any]]) -> int:
    """A problem's budget in steps, as its random-search rows record it."""
    return int(next(iter(by_method["random"].values()))["budget"])


def normaliser(
    by_method: dict[str, dict[int, Any]], ref: dict[str, float]
) -> tuple[float, float, float]:
    """(best known value, unit of the gap, incumbent before anything is fully trained) of a
    problem, from its rows by method and seed (random search's among them) and its reference:
    the gap is ``(value - best) / unit``."""
    values = [v for r in by_method.values() for rr in r.values() for _, v in rr["trace"]]
    best = min([*values, ref.get("best", math.inf)])
    budget = budget_of(by_method)
    rand_final = float(np.mean([incumbent(r["trace"], budget, math.inf)
                                for r in by_method["random"].values()]))  # fmt: skip
    fallback = ref.get("mean", max(values))
    # where random search itself reaches the best known value (a saturated problem), the gap
    # is measured in 5% of a random configuration's distance from it instead of 0
    scale = max(rand_final - best, 0.05 * (fallback - best), 1e-12)
    return best, scale, fallback


def gaps(
    rows: dict[tuple[str, str, int], dict[str, Any]], out: Path, grid: Sequence[float] | np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """problem -> method -> array (seeds, len(grid)) of normalised gaps at budget fractions."""
    by_problem = rows_by_problem(rows)
    result: dict[str, dict[str, np.ndarray]] = {}
    for p, by_method in by_problem.items():
        if "random" not in by_method:
            continue
        best, scale, fallback = normaliser(by_method, reference(out, p, None))
        budget = budget_of(by_method)
        result[p] = {}
        for m, per_seed in by_method.items():
            result[p][m] = np.array(
                [[(incumbent(r["trace"], f * budget, fallback) - best) / scale for f in grid]
                 for _, r in sorted(per_seed.items())]
            )  # fmt: skip
    return result


def report(args: argparse.Namespace) -> str:
    out = Path(args.out)
    rows = load(out, args.suite)
    halves = split() if args.suite != "digits" else {"validation": ["digits-mlp"]}
    grid = np.linspace(0.02, 1.0, 50)
    g_table = gaps(rows, out, FRACTIONS)
    g_curve = gaps(rows, out, grid)
    all_methods = [m for m in [*METHODS, *ARCHIVED, "asha", "hyperband", "bohb"]
                   if any(m in by for by in g_table.values())]  # fmt: skip
    lines = []
    curves: dict[str, dict[str, np.ndarray]] = {}
    for half, names in halves.items():
        if half == "seed":
            continue
        names = [n for n in names if n in g_table]
        if not names:
            continue
        # methods run on every problem of this half; per problem, the seeds every one of them
        # has finished (same problems and seeds for all methods in a table)
        # (a method still running, with fewer seeds than random search, is left out)
        methods = [
            m
            for m in all_methods
            if all(len(g_table[n].get(m, [])) >= len(g_table[n]["random"]) for n in names)
        ]
        seeds_of = {n: min(len(g_table[n][m]) for m in methods) for n in names}
        names = [n for n in names if seeds_of[n] > 0]
        if not names:
            continue
        lo, hi = min(seeds_of.values()), max(seeds_of.values())
        seeds = f"{lo}" if lo == hi else f"{lo}-{hi}"
        lines.append(f"\n### {half} half: {len(names)} problems, {seeds} seeds each "
                     f"(budget {FULL_TRAININGS} full trainings)\n")  # fmt: skip
        lines.append("| method | " + " | ".join(f"{f:g} budget" for f in FRACTIONS) + " |")
        lines.append("|---|" + "---:|" * len(FRACTIONS))
        means = {}
        for m in methods:
            per_problem = np.array([g_table[n][m][: seeds_of[n]].mean(axis=0) for n in names])
            means[m] = per_problem.mean(axis=0)
            curves.setdefault(half, {})[m] = np.array(
                [g_curve[n][m][: seeds_of[n]].mean(axis=0) for n in names]
            ).mean(axis=0)
        for m in methods:
            cells = []
            for j in range(len(FRACTIONS)):
                best = min(means[k][j] for k in methods)
                cell = f"{means[m][j]:.3f}"
                cells.append(f"**{cell}**" if means[m][j] == best else cell)
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        optuna = [m for m in methods if m.startswith("optuna")]
        j = FRACTIONS.index(0.2)
        for ours_m in [m for m in OURS if m in means]:
            if not optuna:
                break
            best_optuna = min(means[m][j] for m in optuna)
            ours = means[ours_m][j]
            lines.append(f"\nAt 1/5 of the budget: {ours_m} {ours:.3f} vs best Optuna "
                         f"combination {best_optuna:.3f} (ratio "
                         f"{ours / max(best_optuna, 1e-12):.2f}).")  # fmt: skip
        fam: dict[str, list[str]] = {}
        for n in names:
            fam.setdefault(n.split("-")[0], []).append(n)
        if len(fam) > 1:
            lines.append("\nBy family (mean gap at 1/10, 1/5, 1/2, full):")
            for f, ns in fam.items():
                parts = []
                for m in methods:
                    v = np.mean([g_table[n][m][: seeds_of[n]].mean(axis=0) for n in ns], axis=0)
                    parts.append(f"{m} " + "/".join(f"{x:.2f}" for x in v))
                lines.append(f"- {f} ({len(ns)}): " + "; ".join(parts))
    text = "\n".join(lines)
    stem = "digits-suite" if args.suite == "digits" else args.suite  # digits.md: run.py's
    (out / f"{stem}.md").write_text(text + "\n")
    if curves:
        plot(curves, grid, out / f"{stem}-anytime.png")
    return text


def plot(curves: dict[str, dict[str, np.ndarray]], grid: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.2), squeeze=False)
    for ax, (half, by_method) in zip(axes[0], curves.items(), strict=True):
        for m, y in by_method.items():
            if m in ARCHIVED:
                continue  # earlier defaults: in the tables, not drawn (too many lines to read)
            ax.plot(
                grid * FULL_TRAININGS,
                y,
                label=m,
                lw=2.2 if m in OURS else 1.2,
            )
        ax.axhline(1.0, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("budget spent (full trainings)")
        ax.set_ylabel("mean normalised gap")
        ax.set_ylim(0, 3)
        ax.set_title(f"{half} half (0: best known, 1: random search at 20)", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", choices=["surrogates", "digits"], default="surrogates")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--shard", default="0/1", help="i/n: run every n-th job from the i-th")
    ap.add_argument("--report", action="store_true", help="only summarise what is there")
    args = ap.parse_args(argv)
    logging.getLogger("hypersearch").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    use_ram_disk("mfbench")  # checkpoints of the simulated objective
    if not args.report:
        run_all(args)
    print(report(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
