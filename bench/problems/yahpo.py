"""YAHPO Gym surrogates (rbv2_xgboost, rbv2_rpart, iaml_glmnet, LCBench) run offline with
onnxruntime.

The surrogate takes raw hyperparameter values in a fixed order (``_CONT`` below) as floats and
the categorical ones as integer codes from the scenario's ``encoding.json``; inactive
parameters (e.g. ``rate_drop`` when the booster is not ``dart``) are 0 and ``#na#``. The
loss is 1 - accuracy (rbv2: first output), the misclassification rate (iaml: first output)
or the validation error after the last epoch (LCBench, see ``lcbench.py``). One dataset
(``task_id``) per problem, at full fidelity (``trainsize=1``, ``repl=10``). Data:
``$YAHPO_DATA`` or ../shared/data/yahpo_data_v1.0.2.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from bench.problems import Problem
from hypersearch.space import Choice, Float, Int, Param, Space

_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "yahpo_data_v1.0.2"

# Input order of each surrogate (from the scenario definitions of yahpo_gym 1.0.2).
_CONT = {
    "rbv2_xgboost": [
        "nrounds", "eta", "gamma", "lambda", "alpha", "subsample", "max_depth",
        "min_child_weight", "colsample_bytree", "colsample_bylevel", "rate_drop", "skip_drop",
        "trainsize", "repl",
    ],
    "rbv2_rpart": ["cp", "maxdepth", "minbucket", "minsplit", "trainsize", "repl"],
    "iaml_glmnet": ["alpha", "s", "trainsize"],
}  # fmt: skip
_CAT = {
    "rbv2_xgboost": ["task_id", "booster", "num.impute.selected.cpo"],
    "rbv2_rpart": ["task_id", "num.impute.selected.cpo"],
    "iaml_glmnet": ["task_id"],
}
_FIXED = {"trainsize": 1.0, "repl": 10}


def data_dir() -> Path:
    return Path(os.environ.get("YAHPO_DATA", _DEFAULT))


@functools.cache
def load_scenario(name: str) -> tuple[Any, dict[str, Any], dict[str, dict[str, int]]]:
    """A scenario's ONNX session (one thread), config space and encoding, loaded once."""
    import onnxruntime as ort

    base = data_dir() / name
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(base / "model.onnx"), sess_options=opts)
    config = json.loads((base / "config_space.json").read_text())
    encoding = json.loads((base / "encoding.json").read_text())
    return sess, config, encoding


def _space(config: dict[str, Any]) -> tuple[Space, list[dict[str, Any]]]:
    params: dict[str, Param] = {}
    for h in config["hyperparameters"]:
        name = h["name"]
        if name in ("task_id", *_FIXED):
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
    return Space(params), config.get("conditions", [])


def _active(name: str, params: dict[str, Any], conditions: list[dict[str, Any]]) -> bool:
    for c in conditions:
        if c["child"] == name:
            parent = params.get(c["parent"])
            if c["type"] == "IN" and parent not in c["values"]:
                return False
            if c["type"] == "EQ" and parent != c["value"]:
                return False
    return True


def surrogate(scenario: str, task: str, target: int = 0, name: str | None = None) -> Problem:
    sess, config, encoding = load_scenario(scenario)
    space, conditions = _space(config)
    cont, cat = _CONT[scenario], _CAT[scenario]

    def loss(p: dict[str, Any]) -> float:
        full = {**p, **_FIXED, "task_id": task}
        xc = np.array(
            [[float(full[k]) if _active(k, full, conditions) else 0.0 for k in cont]],
            dtype=np.float32,
        )
        xk = np.array(
            [[encoding[k][str(full[k]) if _active(k, full, conditions) else "#na#"] for k in cat]],
            dtype=np.int32,
        )
        out = sess.run(None, {"x_cat": xk, "x_cont": xc})[0]
        value = float(out[0, target])
        if scenario.startswith("iaml"):  # mmce, an error rate already
            return min(max(value, 0.0), 1.0) if math.isfinite(value) else 1.0
        return 1.0 - value if math.isfinite(value) else 1.0

    return Problem(name or f"yahpo_{scenario.split('_')[1]}", space, loss, None, kind="yahpo")


def lcbench_final(task: str) -> Problem:
    """An LCBench task as a black box: validation error after the last of 52 epochs."""
    from bench.problems.lcbench import LCBench

    bench = LCBench(task)

    def loss(p: dict[str, Any]) -> float:
        return bench.curve(p)[-1]

    return Problem(f"lcbench_{task}", bench.space, loss, None, kind="yahpo")


PROBLEMS = {
    "yahpo_xgboost": lambda: surrogate("rbv2_xgboost", "1489"),
    "yahpo_rpart": lambda: surrogate("rbv2_rpart", "1489"),
    "xgboost_40981": lambda: surrogate("rbv2_xgboost", "40981", name="xgboost_40981"),
    "rpart_1067": lambda: surrogate("rbv2_rpart", "1067", name="rpart_1067"),
    "glmnet_1489": lambda: surrogate("iaml_glmnet", "1489", name="glmnet_1489"),
    "glmnet_40981": lambda: surrogate("iaml_glmnet", "40981", name="glmnet_40981"),
    **{
        f"lcbench_{t}": functools.partial(lcbench_final, t)
        for t in ("189906", "167168", "3945", "126026")
    },
}
