"""Watch a study live in the dashboard: a toy objective with learning curves, failures and
early stopping, slow enough to see trials appear.

    .venv/bin/python examples/dashboard_demo.py &                  # writes dashboard_demo.db
    .venv/bin/hypersearch dashboard --storage sqlite:///dashboard_demo.db
    .venv/bin/hypersearch report dashboard-demo -o demo.html --storage sqlite:///dashboard_demo.db
"""

from __future__ import annotations

import math
import random
import time

import hypersearch as hs

SPACE = {
    "lr": hs.Float(1e-4, 1e-1, log=True),
    "units": hs.Int(32, 256, step=32),
    "optimizer": hs.Choice(["sgd", "adam"]),
    "dropout": hs.Float(0.0, 0.5),
}


def objective(trial: hs.Trial) -> float:
    p = trial.params
    if random.random() < 0.08:
        raise RuntimeError("simulated CUDA out of memory")
    best = 0.97 - abs(math.log10(p["lr"]) + 2.5) * 0.08 - p["dropout"] * 0.1
    best += 0.02 if p["optimizer"] == "adam" else 0.0
    accuracy = 0.0
    for epoch in range(20):
        accuracy = best * (1 - math.exp(-(epoch + 1) / 4)) + random.uniform(-0.01, 0.01)
        trial.report(accuracy, step=epoch)
        time.sleep(0.1)
        if trial.should_stop():
            break
    return accuracy


if __name__ == "__main__":
    study = hs.create_study(
        "dashboard-demo",
        space=SPACE,
        direction="maximize",
        metric="val_accuracy",
        scheduler="median",
        storage="sqlite:///dashboard_demo.db",
        load_if_exists=True,
        seed=0,
    )
    study.enqueue({"lr": 1e-2, "optimizer": "sgd"}, note="my usual guess")
    study.optimize(objective, n_trials=60, max_failures=None)
    print(f"best {study.best_value:.4f} with {study.best_params}")
