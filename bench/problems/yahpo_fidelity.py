"""YAHPO Gym rbv2 surrogates (xgboost, rpart) with the training-set fraction as the fidelity.

Step ``r`` of ``STEPS`` trains on the fraction ``max(0.03, r / STEPS)`` of the training set
(0.03 is the surrogate's lower bound), so a "learning curve" is the validation error as the
training set grows; each step costs one unit, as an epoch does for LCBench. The surrogate takes
raw hyperparameter values (inactive ones as 0 and ``#na#``); error = 1 - accuracy (output 0).
Data: ``$YAHPO_DATA`` or ../shared/data/yahpo_data_v1.0.2. Needs onnxruntime.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bench.problems.yahpo import load_scenario
from hypersearch.space import Choice, Float, Int, Param, Space

__all__ = ["RBV2", "STEPS", "rbv2_tasks"]

STEPS = 20
# Input order of each surrogate (yahpo_gym 1.0.2 scenario definitions).
_CONT = {
    "rbv2_xgboost": [
        "nrounds", "eta", "gamma", "lambda", "alpha", "subsample", "max_depth",
        "min_child_weight", "colsample_bytree", "colsample_bylevel", "rate_drop", "skip_drop",
        "trainsize", "repl",
    ],
    "rbv2_rpart": ["cp", "maxdepth", "minbucket", "minsplit", "trainsize", "repl"],
}  # fmt: skip
_CAT = {
    "rbv2_xgboost": ["task_id", "booster", "num.impute.selected.cpo"],
    "rbv2_rpart": ["task_id", "num.impute.selected.cpo"],
}


def rbv2_tasks(scenario: str) -> list[str]:
    """The OpenML task ids the surrogate knows."""
    return sorted(t for t in load_scenario(scenario)[2]["task_id"] if t != "#na#")


class RBV2:
    """``curve(params)``: validation error at training fractions 1/STEPS .. 1."""

    def __init__(self, scenario: str, task: str) -> None:
        self.sess, config, self.encoding = load_scenario(scenario)
        self.scenario, self.task = scenario, task
        params: dict[str, Param] = {}
        for h in config["hyperparameters"]:
            name = h["name"]
            if name in ("task_id", "trainsize", "repl"):
                continue
            if h["type"] == "categorical":
                params[name] = Choice(list(h["choices"]))
            elif h["type"] == "uniform_int":
                params[name] = Int(int(h["lower"]), int(h["upper"]), log=bool(h.get("log")))
            else:
                low, high = float(h["lower"]), float(h["upper"])
                if h.get("log"):
                    low, high = float(f"{low:.12g}"), float(f"{high:.12g}")
                params[name] = Float(low, high, log=bool(h.get("log")))
        self.space = Space(params)
        self.conditions: list[dict[str, Any]] = config.get("conditions", [])
        self._cache: dict[tuple[Any, ...], list[float]] = {}

    def _active(self, name: str, params: Mapping[str, Any]) -> bool:
        for c in self.conditions:
            if c["child"] == name:
                parent = params.get(c["parent"])
                if c["type"] == "IN" and parent not in c["values"]:
                    return False
                if c["type"] == "EQ" and parent != c["value"]:
                    return False
        return True

    def curve(self, params: Mapping[str, Any]) -> list[float]:
        key = tuple(params[k] for k in self.space)
        if key in self._cache:
            return self._cache[key]
        cont, cat = _CONT[self.scenario], _CAT[self.scenario]
        rows_c, rows_k = [], []
        for r in range(1, STEPS + 1):
            full = {**params, "trainsize": max(0.03, r / STEPS), "repl": 10, "task_id": self.task}
            rows_c.append([float(full[k]) if self._active(k, full) else 0.0 for k in cont])
            rows_k.append(
                [self.encoding[k][str(full[k]) if self._active(k, full) else "#na#"] for k in cat]
            )
        out = self.sess.run(
            None,
            {
                "x_cat": np.asarray(rows_k, dtype=np.int32),
                "x_cont": np.asarray(rows_c, dtype=np.float32),
            },
        )[0]
        acc = np.nan_to_num(out[:, 0].astype(float), nan=0.0)
        values = [float(v) for v in np.clip(1.0 - acc, 0.0, 1.0)]
        self._cache[key] = values
        return values
