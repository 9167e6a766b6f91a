"""Benchmark problems: a space, a loss to minimise and, where known, its optimum.

``get(name)`` builds one; ``NAMES`` lists them. Real problems (scikit-learn, PyTorch, YAHPO)
import their libraries only when built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypersearch.space import Space

__all__ = ["NAMES", "Problem", "get"]


class Infeasible(RuntimeError):
    """Raised by a problem's loss in its failure region (stands for out-of-memory)."""


@dataclass
class Problem:
    name: str
    space: Space
    loss: Callable[[dict[str, Any]], float]
    optimum: float | None = None  # known minimum; else the best found by any run
    kind: str = "synthetic"


def get(name: str) -> Problem:
    from bench.problems import real, synthetic, yahpo

    for module in (synthetic, real, yahpo):
        if name in module.PROBLEMS:
            return module.PROBLEMS[name]()  # type: ignore[no-any-return]
    raise KeyError(f"Unknown problem {name!r}; choose from {NAMES}.")


NAMES = [
    "branin",
    "hartmann6",
    "levy10",
    "mixed_hartmann",
    "branin_oom",
    "svc_cancer",
    "yahpo_xgboost",
    "yahpo_rpart",
    "torch_digits",
]
