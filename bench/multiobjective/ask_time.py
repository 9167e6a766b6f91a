"""Ask latency of the multi-objective samplers on a long history (issue 18: 3 objectives at
500 trials within 1 s).

    .venv/bin/python -m bench.multiobjective.ask_time [--trials 500] [--repeats 5]
    .venv/bin/python -m bench.multiobjective.ask_time --samplers ehvi,parego --trials 100 \
        --problem dtlz2_2obj

The history is ``--trials`` finished trials of ``--problem`` (default DTLZ2 with 3
objectives, 7 inputs) at random points; each sampler is asked for the next trial
``--repeats`` times, as a study asks it (``Sampler.sample`` on a ``SamplingContext`` holding
the records). Prints the median and the worst, in wall-clock and CPU seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.multiobjective.problems import get
from hypersearch.samplers import make_sampler
from hypersearch.samplers.base import SamplingContext
from hypersearch.trial import TrialRecord, TrialState


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samplers", default="auto,motpe")
    ap.add_argument("--problem", default="dtlz2_3obj")
    args = ap.parse_args()
    problem = get(args.problem)
    rng = np.random.default_rng(0)
    trials = []
    for k in range(args.trials):
        params = problem.space.decode(rng.random(len(problem.space)))
        trials.append(
            TrialRecord(
                number=k,
                state=TrialState.COMPLETE,
                params=params,
                values=problem.evaluate(params),
                id=k,
            )
        )
    for name in args.samplers.split(","):
        sampler = make_sampler(name, seed=0)
        wall, cpu = [], []
        for r in range(args.repeats):
            ctx = SamplingContext(space=problem.space, trials=tuple(trials),
                                  number=args.trials + r, direction="minimize",
                                  directions=problem.directions)  # fmt: skip
            w0, c0 = time.perf_counter(), time.process_time()
            sampler.sample(ctx)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        print(
            f"{name}: {len(problem.directions)} objectives, {args.trials} trials: "
            f"ask median {np.median(wall):.3f} s "
            f"(worst {max(wall):.3f} s) wall, median {np.median(cpu):.3f} s CPU"
        )


if __name__ == "__main__":
    main()
