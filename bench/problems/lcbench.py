"""LCBench (YAHPO Gym surrogate of real MLP learning curves on 35 OpenML tasks, epochs 1-52),
run offline with onnxruntime.

The surrogate ``model.onnx`` takes ``x_cat`` (int32: the OpenML task id, coded by
``encoding.json``) and ``x_cont`` (float32, raw values in the order of ``_CONT``, epoch first)
and returns six targets per row: time, val_accuracy (percent), val_cross_entropy,
val_balanced_accuracy, test_cross_entropy, test_balanced_accuracy. A learning curve is one
batched call with the epoch running 1..52. We report validation error ``1 - val_accuracy/100``.

Data: ``$YAHPO_DATA`` or ../shared/data/yahpo_data_v1.0.2 (``lcbench/``). Needs
``pip install onnxruntime`` (the ``bench`` extra).

>>> lc = LCBench("189906")
>>> lc.curve({"batch_size": 64, "learning_rate": 1e-3, ...})   # 52 validation errors
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hypersearch.space import Float, Int, Param, Space

__all__ = ["EPOCHS", "TASKS", "LCBench", "data_dir"]

_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "yahpo_data_v1.0.2"
# Input order of x_cont (from YAHPO Gym's lcbench scenario definition).
_CONT = [
    "epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers",
    "max_units", "max_dropout",
]  # fmt: skip
EPOCHS = 52
#: Tasks used by the multi-fidelity benchmark (YAHPO's usual LCBench picks).
TASKS = ("189906", "167168", "3945", "189909", "126026")


def data_dir() -> Path:
    return Path(os.environ.get("YAHPO_DATA", _DEFAULT)) / "lcbench"


@functools.cache
def _load() -> tuple[Any, dict[str, Any], dict[str, int]]:
    import onnxruntime as ort

    base = data_dir()
    if not (base / "model.onnx").is_file():
        raise FileNotFoundError(
            f"LCBench surrogate not found in {base}; set $YAHPO_DATA to the yahpo_data folder."
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(base / "model.onnx"), sess_options=opts)
    config = json.loads((base / "config_space.json").read_text())
    encoding = json.loads((base / "encoding.json").read_text())["OpenML_task_id"]
    return sess, config, encoding


def lcbench_space() -> Space:
    """The 7 tunable hyperparameters, with the bounds and scales of the config space."""
    _, config, _ = _load()
    params: dict[str, Param] = {}
    for hp in config["hyperparameters"]:
        name = hp["name"]
        if name in ("OpenML_task_id", "epoch"):
            continue
        if hp["type"] == "uniform_int":
            params[name] = Int(int(hp["lower"]), int(hp["upper"]), log=bool(hp["log"]))
        else:
            params[name] = Float(float(hp["lower"]), float(hp["upper"]), log=bool(hp["log"]))
    return Space(params)


class LCBench:
    """One LCBench task as a learning-curve oracle: ``curve(params)`` gives the validation
    error after each of the 52 epochs."""

    def __init__(self, task: str = "189906") -> None:
        sess, _, encoding = _load()
        if task not in encoding or task == "#na#":
            raise ValueError(f"Unknown LCBench task {task!r}; one of {sorted(encoding)}.")
        self.task = task
        self._sess = sess
        self._code = int(encoding[task])
        self.space = lcbench_space()
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}

    def curves(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Validation error, shape (len(configs), 52), in one surrogate call."""
        rows = []
        for params in configs:
            for epoch in range(1, EPOCHS + 1):
                values = {**params, "epoch": epoch}
                rows.append([float(values[k]) for k in _CONT])
        x_cont = np.asarray(rows, dtype=np.float32)
        x_cat = np.full((len(rows), 1), self._code, dtype=np.int32)
        out = self._sess.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0]
        acc = out[:, 1].reshape(len(configs), EPOCHS)
        return np.clip(1.0 - acc / 100.0, 0.0, 1.0)

    def curve(self, params: Mapping[str, Any]) -> list[float]:
        key = tuple(params[k] for k in self.space)
        if key not in self._cache:
            self._cache[key] = self.curves([params])[0]
        return [float(v) for v in self._cache[key]]
