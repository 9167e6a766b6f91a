"""Objectives for the parallel benchmarks (top-level, so worker processes can import them)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def trivial(trial: Any) -> float:
    return float(trial.params["x"])


def optuna_trivial(trial: Any) -> float:
    return float(trial.suggest_float("x", 0.0, 1.0))


def cpu_bound(trial: Any) -> float:
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return float(total % 11) + float(trial.params["x"])


def jittery(trial: Any) -> float:
    """20-60 ms, in an order unrelated to the parameters: the case deterministic mode pays
    for (a fast trial may wait for a slow earlier one)."""
    time.sleep(float(np.random.default_rng().uniform(0.02, 0.06)))
    return float(trial.params["x"])
