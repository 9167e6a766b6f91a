"""What logging to a tracker adds to the digits example's wall time.

Runs the example's objective (examples/digits_mlp.py) for the same seeded trials four ways —
no tracker, TensorBoard, MLflow on a new SQLite store, MLflow on a store used before — each in
a fresh study, and reports the wall
time and the time spent inside the tracker callback (the part logging adds; it does not depend
on what else shares the CPU as much as wall time does).

    .venv/bin/python bench/trackers/overhead.py --trials 30 --epochs 15 --repeats 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hypersearch as hs

ROOT = Path(__file__).resolve().parents[2]


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("digits_mlp", ROOT / "examples/digits_mlp.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Timed:
    """A tracker wrapped to add up the seconds spent in it."""

    def __init__(self, tracker: Any) -> None:
        self.tracker, self.seconds = tracker, 0.0

    def __call__(self, study: Any, record: Any) -> None:
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
        "mlflow": f"mlflow:sqlite:///{folder / 'ml.db'}",  # a new store: its tables made now
        "mlflow-existing": f"mlflow:sqlite:///{folder / 'ml.db'}",
    }
    if kind == "mlflow-existing":  # the usual case: a store that was used before
        from mlflow.tracking import MlflowClient

        MlflowClient(tracking_uri=spec[kind][len("mlflow:") :]).search_experiments()
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
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds of the three runs, interleaved"
    )
    args = parser.parse_args()
    kinds = ("none", "tensorboard", "mlflow", "mlflow-existing")
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    for _ in range(args.repeats):
        for kind in kinds:
            with tempfile.TemporaryDirectory() as tmp:
                results[kind].append(run(kind, Path(tmp), args.trials, args.epochs))
            rounded = {k: round(v, 4) for k, v in results[kind][-1].items()}
            print(kind, json.dumps(rounded), flush=True)
    base = statistics.median(r["wall_s"] for r in results["none"])
    for kind in kinds[1:]:
        wall = statistics.median(r["wall_s"] for r in results[kind])
        share = statistics.median(r["tracker_share"] for r in results[kind])
        print(
            f"{kind} (median of {args.repeats}): {100 * share:.2f}% of wall time inside the "
            f"tracker; wall {wall:.1f} s vs {base:.1f} s without ({100 * (wall / base - 1):+.1f}%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
