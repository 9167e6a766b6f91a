"""Tables of the multi-objective benchmark from ``results.jsonl`` (see ``run.py``).

    .venv/bin/python -m bench.multiobjective.report > /tmp/tables.md

Per half (development, validation) and trial budget: each sampler's hypervolume as a
fraction of the best known (the hypervolume of the union of every run's trials on that
problem), averaged over seeds then problems; and ratios of mean hypervolume per problem
(geometric mean over problems) against the best Optuna sampler and against NSGA-II, on the
seeds both samplers finished.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import numpy as np

from bench.multiobjective.problems import get
from bench.multiobjective.run import CHECKPOINTS, RESULTS, load_references, load_split
from hypersearch.pareto import as_losses, hypervolume, pareto_mask

OPTUNA = ("optuna_nsga2", "optuna_tpe", "optuna_gp")
ORDER = ("hs_auto", "hs_ehvi", "hs_ehvi_observed", "hs_parego", "hs_motpe", "optuna_gp",
         "optuna_tpe", "optuna_nsga2", "random")  # fmt: skip


def load() -> list[dict[str, Any]]:
    runs = {}
    for line in RESULTS.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        runs[(r["problem"], r["sampler"], r["seed"])] = r
    return list(runs.values())


def best_known(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Hypervolume of the union of all trials of all runs, per problem."""
    refs = load_references()
    pts: dict[str, list[list[float]]] = defaultdict(list)
    for r in runs:
        pts[r["problem"]] += r["values"]
    out = {}
    for name, values in pts.items():
        losses = as_losses(values, get(name).directions)
        losses = losses[np.all(np.isfinite(losses), axis=1)]
        out[name] = hypervolume(losses[pareto_mask(losses)], refs[name])
    return out


def hv_table(runs: list[dict[str, Any]], best: dict[str, float], names: list[str]) -> str:
    cell: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in runs:
        if r["problem"] in names and best[r["problem"]] > 0:
            for n, v in r["hv"].items():
                cell[(r["sampler"], r["problem"], n)].append(v / best[r["problem"]])
    lines = ["| sampler | " + " | ".join(f"{n} trials" for n in CHECKPOINTS) + " | seeds |",
             "|---|" + "---|" * (len(CHECKPOINTS) + 1)]  # fmt: skip
    for s in ORDER:
        row, seeds = [], []
        for n in map(str, CHECKPOINTS):
            per_problem = [np.mean(cell[(s, p, n)]) for p in names if cell.get((s, p, n))]
            complete = len(per_problem) == len(names)
            row.append(f"{np.mean(per_problem):.3f}" if complete else "—")
            seeds += [len(cell[(s, p, n)]) for p in names if cell.get((s, p, n))]
        if any(c != "—" for c in row):
            lines.append(f"| {s} | " + " | ".join(row) + f" | {min(seeds)}-{max(seeds)} |")
    return "\n".join(lines)


def ratio(runs: list[dict[str, Any]], names: list[str], ours: str, theirs: tuple[str, ...],
          n: str) -> tuple[float, list[str]]:  # fmt: skip
    """Geometric mean over problems of mean HV(ours) / max over ``theirs`` of mean HV, on
    the seeds that every sampler involved finished at ``n`` trials; and per-problem notes."""
    by: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for r in runs:
        if n in r["hv"]:
            by[(r["problem"], r["sampler"])][r["seed"]] = r["hv"][n]
    logs, notes = [], []
    for p in names:
        present = [s for s in theirs if by.get((p, s))]
        if not by.get((p, ours)) or not present:
            continue
        seeds = set(by[(p, ours)])
        for s in present:
            seeds &= set(by[(p, s)])
        if not seeds:
            continue
        mine = np.mean([by[(p, ours)][k] for k in seeds])
        best_s = max(present, key=lambda s: np.mean([by[(p, s)][k] for k in seeds]))
        other = np.mean([by[(p, best_s)][k] for k in seeds])
        if other <= 0 or mine <= 0:
            notes.append(f"{p}: {ours} {mine:.4g} vs {best_s} {other:.4g} (a zero, left out)")
            continue
        logs.append(math.log(mine / other))
        notes.append(f"{p}: {mine / other:.3f} vs {best_s} ({len(seeds)} seeds)")
    return (math.exp(np.mean(logs)) if logs else float("nan")), notes


def main() -> None:
    runs = load()
    split = load_split()
    best = best_known(runs)
    for half in ("validation", "development"):
        names = split[half]
        print(f"\n### {half.capitalize()} half: {', '.join(names)}\n")
        print("Hypervolume as a fraction of the best known, mean over seeds, then problems:\n")
        print(hv_table(runs, best, names))
        # the EHVI adoption rules (bench/RESULTS-multiobjective.md), and auto against ParEGO
        for ours, n in (
            ("hs_ehvi", "50"),
            ("hs_ehvi", "100"),
            ("hs_ehvi_observed", "50"),
            ("hs_ehvi_observed", "100"),
            ("hs_auto", "100"),
            ("hs_auto", "200"),
        ):
            g, notes = ratio(runs, names, ours, ("hs_parego",), n)
            if notes:
                print(f"\n{ours} / hs_parego at {n} trials: geometric mean **{g:.3f}**")
                for note in notes:
                    print(f"- {note}")
        for ours in ("hs_auto", "hs_ehvi", "hs_parego", "hs_motpe"):
            for n, theirs, label in (
                ("100", OPTUNA, "the best Optuna sampler"),
                ("100", ("optuna_nsga2", "optuna_tpe"), "the better of NSGA-II and Optuna TPE"),
                ("200", ("optuna_nsga2",), "NSGA-II"),
                ("100", ("hs_motpe",) if ours == "hs_auto" else (), "MOTPE"),
            ):
                g, notes = ratio(runs, names, ours, theirs, n)
                if notes:
                    print(f"\n{ours} / {label} at {n} trials: geometric mean **{g:.3f}**")
                    for note in notes:
                        print(f"- {note}")


if __name__ == "__main__":
    main()
