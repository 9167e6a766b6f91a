"""Multi-fidelity benchmark: best validation error versus total epochs consumed.

Methods: random search at full budget; our ASHA, Hyperband and model-based Hyperband (BOHB);
Optuna TPE + HyperbandPruner and TPE + SuccessiveHalvingPruner. Epochs are the resource.
Every method sees the same learning-curve oracle: LCBench (YAHPO Gym surrogate, replayed
through ``SimulatedExecutor``) or real PyTorch training on sklearn's digits (curves computed
lazily, epoch by epoch, and shared by all methods and seeds: a curve depends only on
the configuration).

The incumbent is the best error of a trial trained to the full budget (stopped trials do not
count), the usual rule for multi-fidelity benchmarks.

Our schedulers run with checkpoints (the simulated objective saves its state after every
epoch, as a real one would), so ASHA/Hyperband/BOHB pause trials at rungs and continue
promoted ones from their checkpoint; ``--no-checkpoints`` gives the stopping form instead.
Optuna's pruners never retrain either: a trial that is not pruned trains on.

    nice .venv/bin/python -m bench.multifidelity.run --problem lcbench --seeds 10
    nice .venv/bin/python -m bench.multifidelity.run --problem digits --seeds 3

Needs ``pip install onnxruntime optuna`` (the ``bench`` extra).
"""

from __future__ import annotations

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
from hypersearch.execution.simulated import SimulatedExecutor
from hypersearch.space import Space

METHODS = ["random", "asha", "hyperband", "bohb", "optuna_tpe_hb", "optuna_tpe_sh"]


# problems ----------------------------------------------------------------------------------
class Problem:
    space: Space
    epochs: int

    def curve(self, params: dict[str, Any]) -> Sequence[float]:  # validation error per epoch
        raise NotImplementedError


class LCBenchProblem(Problem):
    def __init__(self, task: str) -> None:
        from bench.problems.lcbench import EPOCHS, LCBench

        self.lc = LCBench(task)
        self.space = self.lc.space
        self.epochs = EPOCHS

    def curve(self, params: dict[str, Any]) -> Sequence[float]:
        return self.lc.curve(params)


class _LazyCurve(Sequence[float]):
    """Trains one more epoch only when an epoch's value is asked for."""

    def __init__(self, owner: DigitsProblem, params: dict[str, Any]) -> None:
        self.owner, self.params = owner, params
        self.values: list[float] = []
        self.state: Any = None

    def __len__(self) -> int:
        return self.owner.epochs

    def __getitem__(self, i: Any) -> Any:
        while len(self.values) <= i:
            self.owner.train_epoch(self)
        return self.values[i]


class DigitsProblem(Problem):
    """An MLP on sklearn digits (the examples' model); epochs 1..27."""

    def __init__(self, seed: int, epochs: int = 27) -> None:
        import torch
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        torch.set_num_threads(1)
        x, y = load_digits(return_X_y=True)
        x_tr, x_va, y_tr, y_va = train_test_split(
            x, y, test_size=0.25, stratify=y, random_state=seed
        )
        sc = StandardScaler().fit(x_tr)
        self.data = [
            torch.as_tensor(sc.transform(x_tr), dtype=torch.float32),
            torch.as_tensor(y_tr),
            torch.as_tensor(sc.transform(x_va), dtype=torch.float32),
            torch.as_tensor(y_va),
        ]
        self.seed = seed
        self.epochs = epochs
        self.space = Space(
            {
                "lr": hs.Float(1e-4, 3e-1, log=True),
                "momentum": hs.Float(0.5, 0.99, scale="log1m"),
                "batch_size": hs.Int(16, 256, scale="pow2"),
                "units": hs.Int(32, 512, step=32),
                "dropout": hs.Float(0.0, 0.5),
                "weight_decay": hs.Float(1e-6, 1e-2, log=True),
            }
        )
        self._cache: dict[tuple[Any, ...], _LazyCurve] = {}
        self.trained_epochs = 0

    def curve(self, params: dict[str, Any]) -> Sequence[float]:
        key = tuple(params[k] for k in self.space)
        if key not in self._cache:
            self._cache[key] = _LazyCurve(self, dict(params))
        return self._cache[key]

    def train_epoch(self, lc: _LazyCurve) -> None:
        import torch
        from torch import nn

        p = lc.params
        x_tr, y_tr, x_va, y_va = self.data
        if lc.state is None:
            gen = torch.Generator().manual_seed(self.seed)
            torch.manual_seed(self.seed)
            model = nn.Sequential(
                nn.Linear(64, p["units"]),
                nn.ReLU(),
                nn.Dropout(p["dropout"]),
                nn.Linear(p["units"], 10),
            )
            opt = torch.optim.SGD(
                model.parameters(),
                lr=p["lr"],
                momentum=p["momentum"],
                weight_decay=p["weight_decay"],
            )
            lc.state = (model, opt, gen)
        model, opt, gen = lc.state
        model.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        bs = int(p["batch_size"])
        for i in range(0, len(perm), bs):
            idx = perm[i : i + bs]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx])
            if not torch.isfinite(loss):
                break
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x_va).argmax(1) == y_va).float().mean().item()
        lc.values.append(1.0 - acc)
        self.trained_epochs += 1


# methods -------------------------------------------------------------------------------------
WORKERS = 1  # simulated workers for our methods (Optuna's loop here is sequential too)
CHECKPOINTS = True  # the simulated objective saves checkpoints: pause and promote


def run_ours(problem: Problem, method: str, seed: int, budget: int) -> list[tuple[int, float]]:
    e = problem.epochs
    scheduler: Any = None
    if method == "asha":
        scheduler = hs.schedulers.ASHA(min_resource=1, max_resource=e, reduction_factor=3)
    elif method == "hyperband":
        scheduler = hs.schedulers.Hyperband(min_resource=1, max_resource=e, reduction_factor=3)
    elif method == "bohb":
        scheduler = hs.schedulers.BOHB(
            min_resource=1, max_resource=e, reduction_factor=3, seed=seed
        )
    study = hs.create_study(
        space=problem.space, direction="minimize", sampler="random", scheduler=scheduler,
        seed=seed,
    )  # fmt: skip
    sim = SimulatedExecutor(
        problem.curve,
        max_steps=e,
        first_step=1,
        n_workers=WORKERS,
        checkpoints=CHECKPOINTS and scheduler is not None,
    )
    result = sim.run(study, max_total_steps=budget)
    return result.trace


def run_optuna(problem: Problem, method: str, seed: int, budget: int) -> list[tuple[int, float]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    e = problem.epochs
    if method.endswith("_hb"):  # optuna_tpe_hb, optuna_random_hb
        pruner: Any = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=e, reduction_factor=3
        )
    else:
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    # A fixed name: HyperbandPruner assigns brackets by a hash of the study name and trial
    # number, so with Optuna's random default name the same seed gave different results.
    study = optuna.create_study(
        study_name=f"{method}-{seed}",
        direction="minimize",
        sampler=(
            optuna.samplers.RandomSampler(seed=seed)
            if "random" in method
            else optuna.samplers.TPESampler(seed=seed)
        ),
        pruner=pruner,
    )
    dists = {k: _optuna_dist(p) for k, p in problem.space.items()}
    consumed, best, trace = 0, math.inf, []
    while consumed < budget:
        trial = study.ask(dists)
        curve = problem.curve(trial.params)
        pruned = False
        value = math.nan
        for epoch in range(1, e + 1):
            value = float(curve[epoch - 1])
            consumed += 1
            trial.report(value, epoch)
            if consumed >= budget:
                pruned = epoch < e
                break
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)
            if value < best:
                best = value
            trace.append((consumed, best))
    return trace


def _optuna_dist(p: Any) -> Any:
    import optuna

    if isinstance(p, hs.Int):
        if p.scale == "pow2":
            return optuna.distributions.CategoricalDistribution(p.grid())
        return optuna.distributions.IntDistribution(
            p.low, p.high, log=p.scale == "log", step=p.step if p.scale == "linear" else 1
        )
    if isinstance(p, hs.Float):
        if p.scale == "log1m":  # Optuna has no 1-x scale: sample 1-x log-uniformly ourselves
            return optuna.distributions.FloatDistribution(p.low, p.high)
        return optuna.distributions.FloatDistribution(p.low, p.high, log=p.scale == "log")
    if isinstance(p, hs.Choice):
        return optuna.distributions.CategoricalDistribution(list(p.values))
    raise TypeError(p)


def run(problem: Problem, method: str, seed: int, budget: int) -> list[tuple[int, float]]:
    if method.startswith("optuna"):
        return run_optuna(problem, method, seed, budget)
    return run_ours(problem, method, seed, budget)


# summary ---------------------------------------------------------------------------------------
def best_at(trace: Sequence[Sequence[float]], epochs: int) -> float:
    best = math.nan
    for consumed, value in trace:
        if consumed > epochs:
            break
        best = value
    return best


def epochs_to_reach(trace: Sequence[Sequence[float]], target: float) -> float:
    for consumed, value in trace:
        if value <= target + 1e-12:
            return consumed
    return math.inf


def summarise(results: dict[str, Any], budget: int, fractions: Sequence[float]) -> str:
    lines = []
    for prob, by_method in results.items():
        seeds = sorted(next(iter(by_method.values())))
        lines.append(f"\n### {prob} ({len(seeds)} seeds, budget {budget} epochs)\n")
        cols = [int(budget * f) for f in fractions]
        lines.append("| method | " + " | ".join(f"{c} ep" for c in cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        means: dict[str, list[float]] = {}
        for m, per_seed in by_method.items():
            row, cells = [], []
            for c in cols:
                vals = [best_at(per_seed[s], c) for s in seeds]
                have = len(vals) - sum(map(math.isnan, vals))
                row.append(float(np.nanmean(vals)) if have else math.nan)
                # a mean over fewer seeds (those with a fully trained trial) is marked
                cells.append(
                    f"{row[-1]:.4f}" + (f" ({have}/{len(vals)})" if have < len(vals) else "")
                )
            means[m] = row
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        if "random" in by_method and "bohb" in by_method:
            targets = {s: best_at(by_method["random"][s], budget) for s in seeds}
            reach = [epochs_to_reach(by_method["bohb"][s], targets[s]) for s in seeds]
            within = sum(r <= budget / 5 for r in reach)
            med = float(np.median(reach))
            lines.append(
                "\nRandom's final error per seed: "
                + ", ".join(f"{targets[s]:.4f}" for s in seeds)
                + "; epochs each method needed to reach it (inf: never):"
            )
            for m in by_method:
                if m != "random":
                    r = [epochs_to_reach(by_method[m][s], targets[s]) for s in seeds]
                    lines.append(f"- {m}: " + ", ".join(f"{x:.0f}" for x in r))
            lines.append(
                f"\nModel-based Hyperband vs random's final quality (per seed): median epochs "
                f"to reach it {med:.0f} of {budget} ({med / budget:.2f}); within 1/5 of the "
                f"budget in {within}/{len(seeds)} seeds. Mean BOHB error at {budget // 5} "
                f"epochs {np.nanmean([best_at(by_method['bohb'][s], budget // 5) for s in seeds]):.4f}"  # noqa: E501
                f" vs random's mean final {np.mean(list(targets.values())):.4f}."
            )
            for m in ("asha", "hyperband"):
                if m in by_method:
                    r = [epochs_to_reach(by_method[m][s], targets[s]) for s in seeds]
                    lines.append(
                        f"{m}: median epochs to reach random's final {np.median(r):.0f}; "
                        f"within 1/5 in {sum(x <= budget / 5 for x in r)}/{len(seeds)} seeds."
                    )
        for other in ("optuna_tpe_hb", "optuna_tpe_sh"):
            if "bohb" in by_method and other in by_method:
                parts = []
                for c in cols:  # over the seeds where both have a fully trained trial
                    pairs = [
                        (best_at(by_method["bohb"][s], c), best_at(by_method[other][s], c))
                        for s in seeds
                    ]
                    pairs = [(b, o) for b, o in pairs if not (math.isnan(b) or math.isnan(o))]
                    n = len(pairs)
                    if not n:
                        parts.append(f"{c}: no seed has both")
                        continue
                    ratio = np.mean([b for b, _ in pairs]) / np.mean([o for _, o in pairs])
                    both = "" if n == len(seeds) else f" over the {n} seeds where both have one"
                    parts.append(f"{c}: {ratio:.3f}{both}")
                lines.append(
                    f"\nMean error ratio BOHB / {other} at equal epochs ("
                    + "; ".join(parts)
                    + ") — below 1 means ours is better."
                )
    return "\n".join(lines)


def _lcbench_maker(task: str) -> Callable[[int], Problem]:
    """A maker of the LCBench problem ``task`` (the seed does not change the surrogate)."""
    return lambda seed: LCBenchProblem(task)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problem", choices=["lcbench", "digits"], default="lcbench")
    ap.add_argument("--tasks", default="189906,167168", help="LCBench task ids, comma separated")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--random-trials", type=int, default=50, help="budget = this many full runs")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default="bench/multifidelity/results")
    ap.add_argument("--workers", type=int, default=1, help="simulated workers (ours)")
    ap.add_argument(
        "--no-checkpoints", action="store_true", help="ours: stopping form, no pause/promote"
    )
    args = ap.parse_args(argv)
    global WORKERS, CHECKPOINTS
    WORKERS = args.workers
    CHECKPOINTS = not args.no_checkpoints
    logging.getLogger("hypersearch").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    methods = args.methods.split(",")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict[int, Any]]] = {}
    make: list[tuple[str, Callable[[int], Problem]]]
    if args.problem == "lcbench":
        make = [(f"lcbench-{t}", _lcbench_maker(t)) for t in args.tasks.split(",")]
    else:
        digits = DigitsProblem(seed=0)  # one oracle: curves depend on the config only
        make = [("digits", lambda s: digits)]
    t0 = time.time()
    budget = 0
    for name, factory in make:
        results[name] = {m: {} for m in methods}
        for seed in range(args.seeds):
            problem = factory(seed)
            budget = args.random_trials * problem.epochs
            for m in methods:
                t = time.time()
                results[name][m][seed] = run(problem, m, seed, budget)
                final = best_at(results[name][m][seed], budget)
                print(
                    f"{name} seed {seed} {m:14s} best {final:.4f} ({time.time() - t:.1f} s)",
                    flush=True,
                )
            write(out, args.problem, results, budget, t0, done_seeds=seed + 1)
    print(write(out, args.problem, results, budget, t0, done_seeds=args.seeds))


def write(
    out: Path, problem: str, results: dict[str, Any], budget: int, t0: float, done_seeds: int
) -> str:
    """Save the raw traces and the summary so far (after every seed: partial runs count)."""
    done = {
        name: {m: {s: v for s, v in per.items() if s < done_seeds} for m, per in by.items()}
        for name, by in results.items()
    }
    done = {n: by for n, by in done.items() if all(len(v) == done_seeds for v in by.values())}
    if not done:
        return ""
    text = summarise(done, budget, (0.1, 0.2, 0.5, 1.0))
    (out / f"{problem}.json").write_text(json.dumps(done))
    (out / f"{problem}.md").write_text(
        f"command: {' '.join(sys.argv)}\nwall time so far: {time.time() - t0:.0f} s\n{text}\n"
    )
    return text


if __name__ == "__main__":
    main()
