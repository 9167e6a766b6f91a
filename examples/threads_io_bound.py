"""Trials of an I/O-bound objective at once, in threads: here each trial "trains" on a remote
service, simulated by a sleep, so 8 threads finish 24 trials in a fraction of the time one
thread would take. Run: python examples/threads_io_bound.py"""

from __future__ import annotations

import time

import hypersearch as hs


def remote_training(lr: float, layers: int) -> float:
    """Stands in for a job submitted to a training service and waited on (the network)."""
    time.sleep(0.2)
    return (lr * 1e3 - 3.0) ** 2 / 10 + abs(layers - 3) * 0.1


def objective(trial: hs.Trial) -> float:
    lr = trial.float("lr", 1e-4, 1e-2, log=True)
    layers = trial.int("layers", 1, 6)
    return remote_training(lr, layers)


if __name__ == "__main__":
    study = hs.create_study("remote", direction="minimize", seed=0)
    start = time.monotonic()
    study.optimize(objective, n_trials=24, n_workers=8, executor="threads")
    took = time.monotonic() - start
    print(f"24 trials in {took:.1f} s (one at a time: about {24 * 0.2:.1f} s)")
    print("best:", study.best_params, round(study.best_value, 4))
