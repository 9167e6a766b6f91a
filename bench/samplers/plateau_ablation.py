"""Development-half ablation of the GP's plateau safeguard (``plateau_window``), cheaply.

The safeguard changes a run only from the first trial at which its condition holds; before
that the trajectory is the recorded one. So only the (problem, seed) runs of ``auto`` in
``--base`` (default ``suite.jsonl``, recorded before the safeguard, with it off) where the
condition would have held are rerun with the new code; every other run is copied,
relabelled. ``--check N`` also reruns N untriggered runs to show they reproduce exactly.

    nice -n 10 .venv/bin/python -m bench.samplers.plateau_ablation --label auto@p8 \\
        --base bench/samplers/suite-auto-v1.jsonl --out bench/samplers/dev-ablation.jsonl

``--rule level`` picks the runs where a plateau *above* the best value would first have
acted, from runs recorded with the best-tie rule only
(``--base bench/samplers/suite-auto-v2.jsonl``).
``--rule repeats --options '{"level_repeats": 3}'`` reruns, with those GP options, the runs
where a value worse than the best had come back 3 times (the known-level rule can act only
from then on); the options go to ``gp``, which is ``auto`` on every problem of the suite.
``--rule best --after 8 --options '{"level_repeats": 3, "plateau_after": 8}'`` reruns the runs
where the best-tie condition held after 8 to 15 results (the safeguard starting earlier than
its default ``2 * window``); ``--base-label`` names the base rows (e.g. ``auto@lvl3``).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from bench.samplers.run import SUITE_OUT, run_one, suite_problems


def first_trigger(
    losses: list[float],
    window: int,
    rule: str = "best",
    recent: int = 8,
    after: int | None = None,
) -> int | None:
    """The first trial number at which the GP's plateau condition holds (None: never).

    ``rule="best"``: half of the last ``window`` results tie with the best value (the
    safeguard of commit 6726f23). ``rule="level"``: half of them share one value that is
    worse than the best and the best-tie condition does not hold -- the first trial at which
    a run recorded with the ``best`` rule would change under the rule that adds it.
    ``rule="repeats"``: some value worse than the best has come back ``window`` times (the
    GP's known-level rule, ``level_repeats``); ``rule="recent"``: the same among the last
    ``recent`` results only (``level_window``). ``after``: results before the plateau
    conditions can hold (default ``2 * window``, as the GP's ``plateau_after``)."""
    done: list[float] = []
    for n, loss in enumerate(losses):
        if rule in ("repeats", "recent") and done:
            values, counts = np.unique(
                done if rule == "repeats" else done[-recent:], return_counts=True
            )
            counts[values <= min(done)] = 0
            if bool(np.any(counts >= window)):
                return n
        if window and len(done) >= max(window, 2 * window if after is None else after):
            last = np.array(done[-window:])
            best = min(done)
            on_best = int(np.isclose(last, best, rtol=1e-9, atol=0.0).sum()) * 2 >= window
            if rule == "best" and on_best:
                return n
            if rule == "level" and not on_best:
                _, counts = np.unique(last, return_counts=True)
                if int(counts.max()) * 2 >= window:
                    return n
        if math.isfinite(loss):
            done.append(loss)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", default="auto@p8")
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--half", default="development")
    ap.add_argument("--base", type=Path, default=SUITE_OUT)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--check", type=int, default=2)
    ap.add_argument(
        "--rule",
        choices=("best", "level", "repeats", "recent"),
        default="best",
        help="which condition decides the reruns (see first_trigger); the code run is HEAD's",
    )
    ap.add_argument("--options", default="{}", help="GP options (then gp runs, not auto)")
    ap.add_argument(
        "--after",
        type=int,
        default=None,
        help="with --rule best: the safeguard may act from this many results (the base runs "
        "had 2 * window); only runs where it holds earlier than the base allowed are rerun",
    )
    ap.add_argument("--base-label", default="auto", help="the optimizer label of the base rows")
    args = ap.parse_args()
    problems = set(suite_problems(args.half))
    base: dict[Any, Any] = {}
    for line in args.base.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r["optimizer"] == args.base_label and r["problem"] in problems and r["trials"] == 100:
            base.setdefault((r["problem"], r["seed"]), r)
    done = set()
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            done.add((r["problem"], r["optimizer"], r["seed"]))
    checks = 0
    for (problem, seed), r in sorted(base.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if (problem, args.label, seed) in done:
            continue
        at = first_trigger(r["losses"], args.window, args.rule, after=args.after)
        if args.after is not None and at is not None and at >= 2 * args.window:
            at = None  # the base run's own safeguard already acted there: nothing changes
        rerun = at is not None or checks < args.check
        if rerun:
            if json.loads(args.options):
                new = run_one((problem, "gp", seed, 100, args.options))
            else:
                opts = json.dumps({"plateau_window": args.window}) if args.window != 8 else "{}"
                new = run_one((problem, "auto", seed, 100, opts))
            if "error" in new:
                print(problem, seed, "FAILED", new["error"][:200], flush=True)
                continue
            if at is None:
                checks += 1
                same = new["losses"] == r["losses"]
                print(f"check {problem} seed {seed}: reproduces {same}", flush=True)
            new["trigger"] = at
        else:
            new = {**r, "copied_from": str(args.base), "trigger": None}
        new["optimizer"] = args.label
        with args.out.open("a") as f:
            f.write(json.dumps(new) + "\n")
        if rerun:
            print(
                f"{problem:18s} seed {seed} trigger {at}: best {min(r['losses']):.5g} -> "
                f"{min(new['losses']):.5g} ({new['wall_s']:.0f}s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
