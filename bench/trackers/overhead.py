"""What logging to a tracker adds to the digits example's wall time.

Runs the example's objective (examples/digits_mlp.py) for the same seeded trials three ways —
no tracker, TensorBoard, MLflow (SQLite store) — each in a fresh study, and reports the wall
time and the time spent inside the tracker callback (the part logging adds; it does not depend
on what else shares the CPU as much as wall time does).

    .venv/bin/python bench/trackers/overhead.py --trials 30 --epochs 15
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import hypersearch as hs

ROOT = Path(__file__).resolve().parents[2]


def _example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("digits_mlp", ROOT / "examples/digits_mlp.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Timed:
    """A tracker wrapped to add up the seconds spent in it."""

    def __init__(self, tracker):  # type: ignore[no-untyped-def]
        self.tracker, self.seconds = tracker, 0.0

    def __call__(self, study, record):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        self.tracker(study, record)
        self.seconds += time.perf_counter() - start


def run(kind: str, folder: Path, trials: int, epochs: int) -> dict[str, float]:
    import torch

    from hypersearch.integrations.trackers import tracker_from_spec

    torch.set_num_threads(1)
    ex = _example()
    spec = {
        "tensorboard": f"tensorboard:{folder / 'tb'}",
        "mlflow": f"mlflow:sqlite:///{folder / 'ml.db'}",
    }
    made = time.perf_counter()  # opening the tracker (MLflow creates its tables) counts too
    callbacks = [Timed(tracker_from_spec(spec[kind]))] if kind in spec else []
    opening = time.perf_counter() - made
    study = hs.create_study(
        f"overhead-{kind}",
        space=ex.SPACE,
        direction="maximize",
        metric="val_accuracy",
        storage=f"sqlite:///{folder / 'hs.db'}",
        seed=0,
    )
    objective = ex.make_objective(ex.load_data(0), epochs=epochs, seed=0)
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials, callbacks=callbacks, show_progress=False)
    for c in callbacks:  # a background writer's backlog counts too
        flush = getattr(c.tracker, "flush", None)
        if flush is not None:
            flush()
    wall = time.perf_counter() - start + opening
    inside = (callbacks[0].seconds if callbacks else 0.0) + opening
    return {
        "wall_s": wall,
        "opening_s": opening,
        "tracker_s": inside,
        "tracker_share": inside / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    results = {}
    for kind in ("none", "tensorboard", "mlflow"):
        with tempfile.TemporaryDirectory() as tmp:
            results[kind] = run(kind, Path(tmp), args.trials, args.epochs)
        print(kind, json.dumps({k: round(v, 4) for k, v in results[kind].items()}), flush=True)
    base = results["none"]["wall_s"]
    for kind in ("tensorboard", "mlflow"):
        r = results[kind]
        print(
            f"{kind}: {100 * r['tracker_share']:.2f}% of wall time inside the tracker; "
            f"wall {r['wall_s']:.1f} s vs {base:.1f} s without "
            f"({100 * (r['wall_s'] / base - 1):+.1f}%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
