# ruff: noqa: E402  (thread limits are set before numpy is imported)
"""Ablations of MultiFidelity's defaults on the DEVELOPMENT half of the suite (never the
validation half): each variant is a label, constructor keyword arguments and module constants
to set, run on the same problems and seeds as the suite; rows go to ``results/ablation.jsonl``
(resumable) and the gap is normalised exactly as the suite's (its random rows and references).

    nice .venv/bin/python -m bench.multifidelity.ablate --label rungs2 \\
        --set multifidelity.DEFAULT_RUNGS=2 --seeds 5
    nice .venv/bin/python -m bench.multifidelity.ablate --label fast_track \\
        --kwargs '{"fast_track": true}' --families lcbench
    nice .venv/bin/python -m bench.multifidelity.ablate --label explore_oracle --oracle \\
        --families lcbench --seeds 5 --shard 0/2 &    # and --shard 1/2
    nice .venv/bin/python -m bench.multifidelity.ablate --report

``--set`` changes a constant in the module that DEFINES it (a module that imported the name
holds a copy the code does not read): ``rung_sampler.MIN_RANK_AGREEMENT``, not
``bohb.MIN_RANK_AGREEMENT``; the tool refuses an imported copy and names the defining module.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import ast
import importlib
import json
import logging
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import hypersearch as hs
from bench.multifidelity import suite
from bench.multifidelity.scratch import use_ram_disk

OUT = suite.HERE / "results"
ABLATION_FILE = OUT / "ablation.jsonl"


def apply_settings(settings: Sequence[str]) -> None:
    """``module.NAME=value`` (module under hypersearch.schedulers, or a full dotted path
    from ``hypersearch.``; value as JSON)."""
    for s in settings:
        target, _, raw = s.partition("=")
        mod, _, attr = target.rpartition(".")
        full = mod if mod.startswith("hypersearch.") else f"hypersearch.schedulers.{mod}"
        module = importlib.import_module(full)
        if not hasattr(module, attr):
            raise SystemExit(f"{module.__name__} has no {attr}")
        source = defining_module(module.__file__ or "", attr)
        if source is not None:
            raise SystemExit(
                f"{module.__name__}.{attr} is imported from {source}: setting the copy changes "
                f"nothing. Use --set {source.rpartition('.')[2]}.{attr}=..."
            )
        setattr(module, attr, json.loads(raw))


def defining_module(path: str, name: str) -> str | None:
    """The module a top-level ``from M import name`` in the file at ``path`` takes ``name``
    from; None when the file assigns it itself (or does not import it)."""
    imported = None
    for node in ast.parse(Path(path).read_text()).body:
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name
                                                    for a in node.names):  # fmt: skip
            imported = node.module
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return None
    return imported


def final_value_curve(curve: Any) -> Any:
    """``curve`` reporting its final value at every step: rungs that rank configurations
    perfectly (a diagnostic bound on what better promotion rules could gain, ``--oracle``)."""

    def oracle(params: Any) -> list[float]:
        values = list(curve(params))
        return [values[-1]] * len(values)

    return oracle


def run_variant(
    problem: suite.CurveProblem,
    seed: int,
    kwargs: dict[str, Any],
    stop: bool,
    oracle: bool = False,
) -> Any:
    e = problem.epochs
    scheduler = hs.schedulers.MultiFidelity(max_resource=e, seed=seed, **kwargs)
    curve = final_value_curve(problem.curve) if oracle else None
    budget = suite.FULL_TRAININGS * e
    _, result = suite.simulate(problem, scheduler, seed, checkpoints=not stop, budget=budget,
                               curve=curve)  # fmt: skip
    return suite.trace_of(result)


def load() -> dict[tuple[str, str, int], dict[str, Any]]:
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    if ABLATION_FILE.exists():
        for line in ABLATION_FILE.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: rerun
            rows[(r["problem"], r["method"], int(r["seed"]))] = r
    return rows


def run(args: argparse.Namespace) -> None:
    apply_settings(args.set)
    kwargs = json.loads(args.kwargs)
    names = [n for n in suite.split()["development"] if n.split("-")[0] in args.families]
    done = load()
    shard, n_shards = (int(x) for x in args.shard.split("/"))
    job = -1
    for name in names:
        problem = None
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            job += 1
            if job % n_shards != shard or (name, args.label, seed) in done:
                continue
            problem = problem or suite.make_problem(name)
            t = time.time()
            trace = run_variant(problem, seed, kwargs, args.stop, args.oracle)
            row = {"problem": name, "method": args.label, "seed": seed,
                   "budget": 20 * problem.epochs, "epochs": problem.epochs, "trace": trace,
                   "seconds": round(time.time() - t, 2), "kwargs": kwargs, "set": args.set,
                   "stop": args.stop, **({"oracle": True} if args.oracle else {})}  # fmt: skip
            with ABLATION_FILE.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{args.label} seed {seed} {name} {trace[-1][1] if trace else None} "
                  f"({row['seconds']} s)", flush=True)  # fmt: skip


def report(reference: str = "multifidelity") -> str:
    """Mean gap per label at 1/10, 1/5, 1/2, full, on the (problem, seed) pairs every shown
    label has; the suite's ``multifidelity`` rows (the frozen-before default) as the reference,
    and the paired difference label - reference (mean +- standard error over runs); per
    family and over the whole development half ("all")."""
    base = suite.load(OUT, "surrogates")
    dev = set(suite.split()["development"])
    rows = {k: v for k, v in base.items() if k[0] in dev}
    ab = load()
    rows.update(ab)
    g = suite.gaps(rows, OUT, suite.FRACTIONS)
    # suite.gaps orders each (problem, method)'s rows by seed: a seed's row is its position
    position: dict[tuple[str, str], list[int]] = {}
    for p, m, s in rows:
        position.setdefault((p, m), []).append(s)
    at = {(p, m, s): i for (p, m), seeds in position.items() for i, s in enumerate(sorted(seeds))}

    def gap(p: str, m: str, s: int) -> Any:
        return g[p][m][at[(p, m, s)]]

    labels = sorted({m for (_, m, _) in ab})
    lines = []
    for fam in ("lcbench", "rbv2_xgboost", "rbv2_rpart", "all"):

        def within(problem: str, fam: str = fam) -> bool:
            return fam == "all" or problem.startswith(fam + "-")

        for label in labels:
            stop = any(r.get("stop") for r in ab.values() if r["method"] == label)
            ref = (
                reference.replace("multifidelity", "multifidelity_stop", 1) if stop else reference
            )
            cells = []
            for m in (ref, label, "optuna_tpe_sh", "optuna_tpe_hb"):
                per = []
                for (p, mm, s), _ in ab.items():
                    if mm == label and within(p) and p in g and (p, m, s) in at:
                        per.append(gap(p, m, s))
                if per:
                    cells.append(f"{m} " + "/".join(f"{x:.2f}" for x in np.mean(per, axis=0)))
            diffs = [gap(p, label, s) - gap(p, ref, s)
                     for (p, mm, s) in ab if mm == label and within(p)
                     and p in g and (p, ref, s) in at]  # fmt: skip
            if len(diffs) > 1:  # paired, same problem and seed: mean +- its standard error
                d = np.array(diffs)
                se = d.std(axis=0, ddof=1) / np.sqrt(len(d))
                pairs = zip(d.mean(axis=0), se, strict=True)
                cells.append("paired diff " + "/".join(f"{m:+.2f}±{e:.2f}" for m, e in pairs))
            n = sum(1 for (p, mm, _) in ab if mm == label and within(p))
            if n:
                lines.append(f"{fam:12s} {label:18s} n={n:3d}  " + " | ".join(cells))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--label")
    ap.add_argument("--kwargs", default="{}")
    ap.add_argument("--set", action="append", default=[],
                    help="module.NAME=JSON under hypersearch.schedulers, in the module that "
                         "defines NAME (e.g. rung_sampler.MIN_RANK_AGREEMENT=0.3)")  # fmt: skip
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds first_seed .. first_seed + seeds - 1 (a confirmation on "
                         "seeds the exploration never used)")  # fmt: skip
    ap.add_argument("--stop", action="store_true")
    ap.add_argument("--oracle", action="store_true",
                    help="the objective reports its final value at every step (perfect rungs: "
                         "a bound on what promotion rules could gain)")  # fmt: skip
    ap.add_argument(
        "--shard",
        default="0/1",
        help="i/n: run every n-th job from the i-th (one process per core)",
    )
    ap.add_argument("--families", nargs="+", default=["lcbench", "rbv2_xgboost", "rbv2_rpart"])
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--reference", default="multifidelity",
                    help="the suite's rows a variant is paired with; the variants run before "
                         "2026-12-05 12:30 UTC were measured against the default of then, "
                         "kept as multifidelity_bestsofar")  # fmt: skip
    args = ap.parse_args()
    logging.getLogger("hypersearch").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    use_ram_disk("mfablate")  # checkpoints of the simulated objective
    if not args.report:
        run(args)
    print(report(args.reference))


if __name__ == "__main__":
    main()
