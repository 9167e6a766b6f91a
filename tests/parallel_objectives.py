"""Objectives for the parallel tests: top-level functions of an importable module, as worker
processes need (a lambda or closure is refused with a clear error)."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from hypersearch.samplers import Sampler, SamplingContext, trial_rng


def quick(trial: Any) -> float:
    return float(trial.params["x"])


def sleepy(trial: Any) -> float:
    """Finishes in a random order: the sleep does not depend on the parameters."""
    time.sleep(float(np.random.default_rng().uniform(0.0, 0.06)))
    return float(trial.params["x"])


def record_gpu(trial: Any) -> float:
    start = time.time()
    time.sleep(0.15)
    trial.set_attr("span", [start, time.time(), os.environ.get("CUDA_VISIBLE_DEVICES")])
    return 0.0


def fail_always(trial: Any) -> float:
    raise ValueError("broken objective")


class Fatal(BaseException):
    """Not an Exception: escapes catch=(Exception,) and stops the study."""


def fatal(trial: Any) -> float:
    raise Fatal("stop everything")


def cpu_bound(trial: Any) -> float:
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return float(total % 11) + float(trial.params["x"])


class HistorySampler(Sampler):
    """Proposes from the history (like TPE/GP do): the result depends on which trials are
    finished, so it shows whether a parallel run is reproducible."""

    name = "history-test"

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        done = [t.value for t in ctx.trials if t.value is not None]
        base = float(trial_rng(self.seed, ctx.number).random())
        shift = sum(done) + 0.37 * len(done)
        return {"x": (base + shift) % 1.0}

    def config(self) -> dict[str, Any]:
        return {"name": self.name}


def quick_grid(trial: Any) -> float:
    return float(trial.params["a"])


def sleepy_grid(trial: Any) -> float:
    time.sleep(0.05)
    return float(trial.params["a"] + trial.params["b"])


def uncheckpointed_curve(trial: Any) -> float:
    """The same curve without checkpoints: every trial, a promotion too, trains from epoch 1
    (MultiFidelity's promotions then retrain the paused configuration)."""
    value = float("nan")
    for epoch in range(1, 28):
        time.sleep(0.002)
        value = (1.0 - trial.params["q"]) + (0.5 + 0.3 * trial.params["z"]) / epoch
        trial.report(value, step=epoch)
        if trial.should_stop():
            break
    return value


def checkpointed_curve(trial: Any) -> float:
    """27 epochs of a curve that falls towards 1 - q, checkpointed after each, continuing
    from the checkpoint a promotion gives it (for ASHA with pause in worker processes)."""
    state = trial.load_checkpoint()
    done = 0 if state is None else int(state["epochs"])
    value = float("nan")
    for epoch in range(done + 1, 28):
        time.sleep(0.002)
        value = (1.0 - trial.params["q"]) + (0.5 + 0.3 * trial.params["z"]) / epoch
        trial.report(value, step=epoch)
        trial.save_checkpoint({"epochs": epoch})
        if trial.should_stop():
            break
    return value
