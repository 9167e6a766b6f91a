"""Ask + tell time per sampler with 100 / 1,000 / 10,000 finished trials in the history.

    nice .venv/bin/python -m bench.samplers.overhead [--sizes 100 1000 10000]

The history (random points of a 6-d mixed space: 4 floats, an int, a choice) is added
directly, then ``--repeats`` ask+tell cycles are timed (the median is reported); each cycle
adds a trial, so the k-th timed ask sees ``n + k - 1`` finished trials (at ``--sizes 299`` two
of three ``auto`` asks are already TPE's, past its switch at 300: time ``auto`` away from it,
or time ``gp`` and ``tpe`` themselves). Ours run
on an in-memory study (SQLite in memory, as ``create_study()`` without storage), Optuna's on
its in-memory storage. Prints a markdown table. ``--cpu-time`` times with the process's CPU
time instead of the wall clock: on a machine shared with other jobs that is what an idle
core would take (everything runs single-threaded here). ``--round 2 --options
'{"level_repeats": 3}'`` times the GP on values read to 0.01 (many repeated levels, so the
known-level rule does its work) with GP options.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from typing import Any

import numpy as np

from bench.samplers.run import _optuna_distributions, _single_thread
from hypersearch.space import Choice, Float, Int, Space

CLOCK = time.perf_counter

SPACE = Space(
    {
        "lr": Float(1e-5, 1e-1, log=True),
        "wd": Float(1e-6, 1e-2, log=True),
        "dropout": Float(0.0, 0.5),
        "momentum": Float(0.5, 0.99),
        "units": Int(16, 512),
        "opt": Choice(["sgd", "adam", "adamw"]),
    }
)


ROUND: int | None = None  # decimals the values are read to (--round), None: exact


def _value(u: np.ndarray) -> float:
    value = float(np.sum((u - 0.3) ** 2))
    return value if ROUND is None else round(value, ROUND)


def time_ours(sampler: str, n: int, repeats: int, options: dict[str, Any] | None = None) -> float:
    import hypersearch as hs

    # The GP with its safeguards off: a stalled random history would otherwise get Sobol
    # points on odd trial numbers (and values read to --round tie with the best), and the
    # model's cost is what is timed here.
    gp = {"name": "gp", "explore_after": 0, **({"plateau_window": 0} if ROUND else {})}
    spec: Any = {**gp, **(options or {})} if sampler == "gp" else sampler
    study = hs.create_study(space=SPACE, sampler=spec, seed=0)
    rng = np.random.default_rng(0)
    for u in rng.random((n, len(SPACE))):
        study.add_trial(SPACE.decode(u), _value(u))
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        trial = study.ask()
        study.tell(trial, _value(SPACE.encode(trial.params)))
        times.append(CLOCK() - t0)
    return statistics.median(times)


def time_optuna(sampler: str, n: int, repeats: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers: dict[str, Any] = {
        "optuna_tpe": lambda: optuna.samplers.TPESampler(seed=0),
        "optuna_tpe_mv": lambda: optuna.samplers.TPESampler(seed=0, multivariate=True),
        "optuna_gp": lambda: optuna.samplers.GPSampler(seed=0),
    }
    study = optuna.create_study(sampler=samplers[sampler]())
    dists = _optuna_distributions(SPACE)
    rng = np.random.default_rng(0)
    study.add_trials(
        [
            optuna.trial.create_trial(params=SPACE.decode(u), distributions=dists, value=_value(u))
            for u in rng.random((n, len(SPACE)))
        ]
    )
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        trial = study.ask(dists)
        study.tell(trial, _value(SPACE.encode(trial.params)))
        times.append(CLOCK() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--samplers",
        nargs="+",
        default=["random", "tpe", "gp", "auto", "optuna_tpe", "optuna_tpe_mv", "optuna_gp"],
    )
    ap.add_argument("--cpu-time", action="store_true", help="process CPU time, not wall time")
    ap.add_argument("--round", type=int, default=None, help="read values to these decimals")
    ap.add_argument("--options", default="{}", help="JSON options for our gp sampler")
    args = ap.parse_args(argv)
    global ROUND
    ROUND = args.round
    options = json.loads(args.options)
    if args.cpu_time:
        global CLOCK
        CLOCK = time.process_time
    _single_thread()
    logging.getLogger("hypersearch").setLevel(logging.WARNING)
    rows: dict[str, dict[int, float]] = {}
    for name in args.samplers:
        for n in args.sizes:
            if name in ("gp", "optuna_gp") and n > 1000:
                continue  # a GP over 10,000 trials is not what anyone should run
            if name.startswith("optuna"):
                rows.setdefault(name, {})[n] = time_optuna(name, n, args.repeats)
            else:
                rows.setdefault(name, {})[n] = time_ours(name, n, args.repeats, options)
            print(f"{name:14s} n={n:6d}  {rows[name][n] * 1e3:8.1f} ms", flush=True)
    print()
    print("| sampler | " + " | ".join(f"{n:,} trials" for n in args.sizes) + " |")
    print("|---|" + "---:|" * len(args.sizes))
    for name, by_n in rows.items():
        cells = [f"{by_n[n] * 1e3:.1f} ms" if n in by_n else "–" for n in args.sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if "tpe" in rows and "optuna_tpe" in rows and 1000 in rows["tpe"]:
        ratio = rows["tpe"][1000] / rows["optuna_tpe"][1000]
        print(f"\nours TPE / Optuna TPE ask+tell at 1,000 trials: {ratio:.2f}")


if __name__ == "__main__":
    main()
