"""Multi-objective benchmark problems: a space, objectives with directions, and a fixed
hypervolume reference point (``references.json``, committed).

Synthetic (all objectives minimised, every input in [0, 1]): ZDT1/2/3/6 (Zitzler, Deb and
Thiele 2000) with 6 inputs, DTLZ1/2 (Deb et al. 2002) with 2 and 3 objectives and 5 distance
inputs. Tuning-shaped (YAHPO Gym surrogates, offline): LCBench validation accuracy
(maximised) against training time in seconds (minimised) after the last of 52 epochs; rbv2
xgboost/rpart accuracy (maximised) against memory (minimised).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hypersearch.space import Float, Space

__all__ = ["NAMES", "MOProblem", "get"]


@dataclass
class MOProblem:
    """One problem: ``evaluate(params)`` returns one raw value per objective."""

    name: str
    space: Space
    evaluate: Callable[[dict[str, Any]], tuple[float, ...]]
    directions: tuple[str, ...]
    kind: str = "synthetic"


def _unit_space(d: int) -> Space:
    return Space({f"x{i}": Float(0.0, 1.0) for i in range(d)})


def _vector(params: dict[str, Any], d: int) -> np.ndarray:
    return np.array([float(params[f"x{i}"]) for i in range(d)])


def zdt(which: int, d: int = 6) -> MOProblem:
    def evaluate(params: dict[str, Any]) -> tuple[float, ...]:
        x = _vector(params, d)
        if which == 6:
            f1 = 1.0 - math.exp(-4.0 * x[0]) * math.sin(6.0 * math.pi * x[0]) ** 6
            g = 1.0 + 9.0 * float(np.mean(x[1:])) ** 0.25
            return f1, g * (1.0 - (f1 / g) ** 2)
        f1 = float(x[0])
        g = 1.0 + 9.0 * float(np.mean(x[1:]))
        if which == 1:
            h = 1.0 - math.sqrt(f1 / g)
        elif which == 2:
            h = 1.0 - (f1 / g) ** 2
        else:
            h = 1.0 - math.sqrt(f1 / g) - (f1 / g) * math.sin(10.0 * math.pi * f1)
        return f1, g * h

    return MOProblem(f"zdt{which}", _unit_space(d), evaluate, ("minimize", "minimize"))


def dtlz(which: int, m: int, k: int = 5) -> MOProblem:
    d = m - 1 + k

    def evaluate(params: dict[str, Any]) -> tuple[float, ...]:
        x = _vector(params, d)
        xm = x[m - 1 :]
        if which == 1:
            g = 100.0 * (k + float(np.sum((xm - 0.5) ** 2 - np.cos(20.0 * math.pi * (xm - 0.5)))))
        else:
            g = float(np.sum((xm - 0.5) ** 2))
        out = []
        for i in range(m):
            if which == 1:
                f = 0.5 * (1.0 + g) * float(np.prod(x[: m - 1 - i]))
                if i > 0:
                    f *= 1.0 - x[m - 1 - i]
            else:
                f = (1.0 + g) * float(np.prod(np.cos(0.5 * math.pi * x[: m - 1 - i])))
                if i > 0:
                    f *= math.sin(0.5 * math.pi * x[m - 1 - i])
            out.append(f)
        return tuple(out)

    return MOProblem(f"dtlz{which}_{m}obj", _unit_space(d), evaluate, ("minimize",) * m)


# LCBench surrogate inputs, epoch first (YAHPO Gym's lcbench scenario definition).
_LCBENCH_INPUTS = [
    "epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers",
    "max_units", "max_dropout",
]  # fmt: skip


def lcbench(task: str) -> MOProblem:
    """Validation accuracy (percent, maximised) and time (s, minimised) after epoch 52."""
    from bench.problems.lcbench import lcbench_space
    from bench.problems.yahpo import load_scenario

    sess, _, encoding = load_scenario("lcbench")
    code = int(encoding["OpenML_task_id"][task])
    space = lcbench_space()

    @functools.lru_cache(maxsize=4096)
    def run(key: tuple[float, ...]) -> tuple[float, float]:
        x_cont = np.asarray([[52.0, *key]], dtype=np.float32)
        out = sess.run(None, {"x_cat": np.array([[code]], dtype=np.int32), "x_cont": x_cont})[0]
        return float(out[0, 1]), float(out[0, 0])

    def evaluate(params: dict[str, Any]) -> tuple[float, ...]:
        return run(tuple(float(params[k]) for k in _LCBENCH_INPUTS[1:]))

    return MOProblem(f"lcbench_{task}", space, evaluate, ("maximize", "minimize"), kind="lcbench")


def rbv2(learner: str, task: str) -> MOProblem:
    """Accuracy (maximised) and memory (minimised) of an rbv2 surrogate; YAHPO's rbv2 targets
    are acc, bac, auc, brier, f1, logloss, timetrain, timepredict, memory (outputs 0..8).
    ``bench.problems.yahpo.surrogate`` returns ``1 - output``, undone here."""
    from bench.problems.yahpo import surrogate

    acc = surrogate(f"rbv2_{learner}", task, target=0)
    mem = surrogate(f"rbv2_{learner}", task, target=8)

    def evaluate(params: dict[str, Any]) -> tuple[float, ...]:
        return 1.0 - acc.loss(params), 1.0 - mem.loss(params)

    return MOProblem(
        f"rbv2_{learner}_{task}", acc.space, evaluate, ("maximize", "minimize"), kind="rbv2"
    )


PROBLEMS: dict[str, Callable[[], MOProblem]] = {
    **{f"zdt{i}": functools.partial(zdt, i) for i in (1, 2, 3, 6)},
    **{f"dtlz{w}_{m}obj": functools.partial(dtlz, w, m) for w in (1, 2) for m in (2, 3)},
    **{
        f"lcbench_{t}": functools.partial(lcbench, t)
        for t in ("189906", "167168", "3945", "126026")
    },
    "rbv2_xgboost_1489": functools.partial(rbv2, "xgboost", "1489"),
    "rbv2_xgboost_40981": functools.partial(rbv2, "xgboost", "40981"),
    "rbv2_rpart_1489": functools.partial(rbv2, "rpart", "1489"),
    "rbv2_rpart_1067": functools.partial(rbv2, "rpart", "1067"),
}
NAMES: Sequence[str] = tuple(PROBLEMS)


@functools.cache
def get(name: str) -> MOProblem:
    if name not in PROBLEMS:
        raise KeyError(f"Unknown problem {name!r}; choose from {', '.join(NAMES)}.")
    return PROBLEMS[name]()
