"""Benchmark problems: a space, a loss to minimise and, where known, its optimum.

``get(name)`` builds one; ``NAMES`` lists them. Real problems (scikit-learn, PyTorch, YAHPO)
import their libraries only when built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypersearch.space import Space

__all__ = ["EXPENSIVE", "NAMES", "Problem", "get"]


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
    from bench.problems import real, sklearn_grid, synthetic, yahpo

    for module in (synthetic, real, sklearn_grid, yahpo):
        if name in module.PROBLEMS:
            return module.PROBLEMS[name]()
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
    # the suite of issue 14 (bench/samplers/split.json holds its development/validation split)
    "branin_irrelevant",
    "hartmann6_rough",
    "rosenbrock_steps",
    "rosenbrock6",
    "levy_int",
    "branin_diverge",
    "svm_digits",
    "svm_wine",
    "mlp_wine",
    "mlp_cancer",
    "rf_wine",
    "rf_cancer",
    "ada_wine",
    "ada_cancer",
    "knn_digits",
    "knn_cancer",
    "knn_wine",
    "lasso_diabetes",
    "enet_diabetes",
    "dt_wine",
    "dt_cancer",
    "gb_cancer",
    "xgboost_40981",
    "rpart_1067",
    "glmnet_1489",
    "glmnet_40981",
    "lcbench_189906",
    "lcbench_167168",
    "lcbench_3945",
    "lcbench_126026",
]
#: Problems left out of the default suite run: about a second a trial.
EXPENSIVE = ["torch_digits"]
