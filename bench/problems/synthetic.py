"""Synthetic functions with known optima: Branin (2-d), Hartmann-6, Levy-10, a mixed
categorical/integer Hartmann, Branin with an out-of-memory failure region, and the traits
real objectives have: irrelevant dimensions, a rough (noisy) surface, plateaus, integer and
log-integer parameters, heavy tails and diverged runs."""

from __future__ import annotations

import math
import zlib
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


def branin_irrelevant() -> Problem:
    """Branin in 2 of 6 dimensions: 3 irrelevant floats (one log-scale) and an irrelevant
    integer, as in a model whose ``tol`` or ``seed`` does not matter."""
    space = Space(
        {
            "x1": Float(-5.0, 10.0),
            "x2": Float(0.0, 15.0),
            "u1": Float(0.0, 1.0),
            "u2": Float(1e-6, 1e-1, log=True),
            "u3": Float(-3.0, 3.0),
            "u4": Int(1, 64, log=True),
        }
    )
    return Problem("branin_irrelevant", space, lambda p: branin_value(p["x1"], p["x2"]), 0.397887)


def _point_noise(p: dict[str, Any], scale: float) -> float:
    """Deterministic noise per point (like a fixed cross-validation split): the same
    parameters always give the same value, but neighbours differ."""
    key = ",".join(f"{k}={p[k]!r}" for k in sorted(p))
    return float(np.random.default_rng(zlib.crc32(key.encode())).normal(0.0, scale))


def hartmann6_rough() -> Problem:
    """Hartmann-6 plus point noise of s.d. 0.1 (3% of its range): cross-validation noise."""
    space = Space({f"x{i}": Float(0.0, 1.0) for i in range(6)})

    def loss(p: dict[str, Any]) -> float:
        return hartmann6(np.array([p[f"x{i}"] for i in range(6)])) + _point_noise(p, 0.1)

    return Problem("hartmann6_rough", space, loss, None)


def _rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosenbrock_steps() -> Problem:
    """4-d Rosenbrock on [-2, 2] read on a 0.25 grid: flat plateaus everywhere, optimum 0."""
    space = Space({f"x{i}": Float(-2.0, 2.0) for i in range(4)})

    def loss(p: dict[str, Any]) -> float:
        return _rosenbrock(np.round(np.array([p[f"x{i}"] for i in range(4)]) * 4.0) / 4.0)

    return Problem("rosenbrock_steps", space, loss, 0.0)


def hartmann6_plateau() -> Problem:
    """Hartmann-6 read to 0.1 where x0 < 0.5; elsewhere one flat value, -1.0 (better than most
    of the space: a tree that a large split size turns into a stump). Outside the split: a
    stress problem for the GP's plateau safeguard, built before any validation run of it."""
    space = Space({f"x{i}": Float(0.0, 1.0) for i in range(6)})

    def loss(p: dict[str, Any]) -> float:
        x = np.array([p[f"x{i}"] for i in range(6)])
        return -1.0 if x[0] >= 0.5 else round(hartmann6(x), 1)

    return Problem("hartmann6_plateau", space, loss, -3.3)


def tree_plateau() -> Problem:
    """A decision tree's shape: depth and four log-scale sizes; where a leaf or weight size
    is large (over a third of the cube) or the depth is 1 the tree is a stump, one flat
    error 0.09 (the second-best level); elsewhere errors of a narrow basin (best 0.05) read
    to 0.005 with cross-validation-like point noise (s.d. 0.015), so slightly-better points
    turn up early. Outside the split: a stress problem for a model that keeps re-sampling a
    wide level just above its best, built before any run of the rule measured on it."""
    space = Space(
        {
            "depth": Int(1, 15),
            "max_features": Float(0.01, 0.9, log=True),
            "min_split": Float(0.01, 0.99, log=True),
            "min_leaf": Float(0.01, 0.49, log=True),
            "min_weight": Float(0.01, 0.49, log=True),
        }
    )
    centre = np.array([0.75, 0.2, 0.15, 0.1])

    def loss(p: dict[str, Any]) -> float:
        u = np.array([space[k].encode(p[k]) for k in list(space)[1:]])
        if p["depth"] == 1 or u[2] > 0.65 or u[3] > 0.65:
            return 0.09
        q = float(np.sum(((u - centre) / 0.4) ** 2) + ((p["depth"] - 6) / 5.6) ** 2)
        error = 0.05 + 0.06 * (1.0 - math.exp(-q)) + _point_noise(p, 0.015)
        return round(error * 200) / 200

    return Problem("tree_plateau", space, loss, None)


def rosenbrock6() -> Problem:
    """6-d Rosenbrock on [-5, 10]: heavy-tailed values (up to ~1e7, optimum 0)."""
    space = Space({f"x{i}": Float(-5.0, 10.0) for i in range(6)})
    return Problem(
        "rosenbrock6", space, lambda p: _rosenbrock(np.array([p[f"x{i}"] for i in range(6)])), 0.0
    )


def levy_int() -> Problem:
    """Levy in 4-d with integer and log-integer inputs: two Int(-10, 10), one log-Int
    1..1024 (its log2 is the coordinate) and one float."""

    def loss(p: dict[str, Any]) -> float:
        x = np.array([p["a"], p["b"], math.log2(p["width"]) - 4.0, p["c"]], dtype=float)
        w = 1 + (x - 1) / 4
        head = math.sin(math.pi * w[0]) ** 2
        mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
        tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
        return float(head + mid + tail)

    space = Space(
        {
            "a": Int(-10, 10),
            "b": Int(-10, 10),
            "width": Int(1, 1024, log=True),
            "c": Float(-10.0, 10.0),
        }
    )
    return Problem("levy_int", space, loss, 0.0)  # a = b = 1, width = 32, c = 1


def branin_diverge() -> Problem:
    """Branin where a quarter of the space "diverges" to 1e12 (x1 < -1.25): one huge value
    among ordinary ones must not flatten the model."""

    def loss(p: dict[str, Any]) -> float:
        if p["x1"] < -1.25:
            return 1e12
        return branin_value(p["x1"], p["x2"])

    space = Space({"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)})
    return Problem("branin_diverge", space, loss, 0.397887)


PROBLEMS = {
    "branin_irrelevant": branin_irrelevant,
    "hartmann6_rough": hartmann6_rough,
    "rosenbrock_steps": rosenbrock_steps,
    "rosenbrock6": rosenbrock6,
    "hartmann6_plateau": hartmann6_plateau,
    "tree_plateau": tree_plateau,  # stress only, like hartmann6_plateau: not in the split
    "levy_int": levy_int,
    "branin_diverge": branin_diverge,
    "branin": branin,
    "branin_oom": branin_oom,
    "hartmann6": hartmann,
    "levy10": levy10,
    "mixed_hartmann": mixed_hartmann,
}
