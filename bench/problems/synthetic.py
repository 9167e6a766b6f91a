"""Synthetic functions with known optima: Branin (2-d), Hartmann-6, Levy-10, a mixed
categorical/integer Hartmann, and Branin with an out-of-memory failure region."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bench.problems import Infeasible, Problem
from hypersearch.space import Choice, Float, Int, Space

_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
H6_MIN = -3.32237


def hartmann6(x: np.ndarray) -> float:
    inner = np.sum(_H6_A * (x[None, :] - _H6_P) ** 2, axis=1)
    return float(-np.sum(_H6_ALPHA * np.exp(-inner)))


def branin_value(x1: float, x2: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def branin() -> Problem:
    space = Space({"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)})
    return Problem("branin", space, lambda p: branin_value(p["x1"], p["x2"]), 0.397887)


def branin_oom() -> Problem:
    """Branin whose top band (x2 > 10, holding one of its three minima) "runs out of memory":
    a sampler that learns from failures stops proposing there."""

    def loss(p: dict[str, Any]) -> float:
        if p["x2"] > 10.0:
            raise Infeasible("CUDA out of memory (simulated)")
        return branin_value(p["x1"], p["x2"])

    space = Space({"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)})
    return Problem("branin_oom", space, loss, 0.397887)


def hartmann() -> Problem:
    space = Space({f"x{i}": Float(0.0, 1.0) for i in range(6)})
    return Problem(
        "hartmann6", space, lambda p: hartmann6(np.array([p[f"x{i}"] for i in range(6)])), H6_MIN
    )


def levy10() -> Problem:
    def loss(p: dict[str, Any]) -> float:
        x = np.array([p[f"x{i}"] for i in range(10)])
        w = 1 + (x - 1) / 4
        head = math.sin(math.pi * w[0]) ** 2
        mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
        tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
        return float(head + mid + tail)

    space = Space({f"x{i}": Float(-10.0, 10.0) for i in range(10)})
    return Problem("levy10", space, loss, 0.0)


_SCALE = {"relu": 1.0, "gelu": 0.85, "tanh": 0.6, "sigmoid": 0.3}


def mixed_hartmann() -> Problem:
    """Hartmann-6 with a log-scale float, an integer grid, a stepped float and a choice that
    scales the whole response (the best choice is needed to reach the optimum)."""

    def loss(p: dict[str, Any]) -> float:
        x = np.array(
            [
                p["x0"],
                p["x1"],
                p["x2"],
                (math.log10(p["lr"]) + 5) / 4,  # lr in [1e-5, 1e-1]
                p["layers"] / 10.0,  # 0..10
                p["dropout"],  # 0..1 in steps of 0.05
            ]
        )
        return hartmann6(x) * _SCALE[p["activation"]]

    space = Space(
        {
            "x0": Float(0.0, 1.0),
            "x1": Float(0.0, 1.0),
            "x2": Float(0.0, 1.0),
            "lr": Float(1e-5, 1e-1, log=True),
            "layers": Int(0, 10),
            "dropout": Float(0.0, 1.0, step=0.05),
            "activation": Choice(list(_SCALE)),
        }
    )
    return Problem("mixed_hartmann", space, loss, None)


PROBLEMS = {
    "branin": branin,
    "branin_oom": branin_oom,
    "hartmann6": hartmann,
    "levy10": levy10,
    "mixed_hartmann": mixed_hartmann,
}
