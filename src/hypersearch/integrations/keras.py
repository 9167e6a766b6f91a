"""A Keras 3 callback that reports to a trial, honours its scheduler and keeps checkpoints.

Keras 3 runs on PyTorch here: importing this module sets ``KERAS_BACKEND=torch`` unless it is
set already (Keras reads it on first import); no TensorFlow is needed.

>>> def objective(trial):
...     model = build(trial.params); model.compile(optimizer=..., loss=..., metrics=["accuracy"])
...     cb = HypersearchKerasCallback(trial, monitor="val_accuracy")
...     model.fit(x, y, validation_data=(xv, yv), epochs=20,
...               initial_epoch=cb.resume(model), callbacks=[cb])  # resumes PBT / promotions
...     return cb.last_value

Each epoch it reports ``logs[monitor]`` at step ``epoch``, saves the weights and the
optimizer's variables (``trial.save_checkpoint``), and sets ``model.stop_training`` when the
scheduler says stop. ``resume(model)`` loads the trial's checkpoint into the compiled model and
returns the epoch to start from; the optimizer keeps this trial's learning rate.
"""

from __future__ import annotations

import math
import os
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.tools._torch import lazy_import

__all__ = ["HypersearchKerasCallback"]

# Keras 3 picks its backend when first imported; without a choice, use PyTorch (no TensorFlow).
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = lazy_import("keras", hint='pip install "hypersearch[keras]" (and set KERAS_BACKEND=torch)')

_KEEP = ("learning_rate",)  # optimizer variables this trial decides itself (PBT's new values)


def _opt_vars(optimizer: Any) -> list[Any]:
    """The optimizer's variables in their fixed order (paths differ between instances:
    ``adam/iteration`` vs ``adam_1/iteration``, so order and shape identify them)."""
    return list(optimizer.variables)


def _short(path: str) -> str:
    return path.split("/", 1)[-1]


class HypersearchKerasCallback(keras.callbacks.Callback):  # type: ignore[name-defined]
    """Report ``monitor`` each epoch; stop when told; checkpoint for resumption."""

    def __init__(self, trial: Any, *, monitor: str = "val_loss", checkpoint: bool = True) -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise InvalidArgumentError(f"monitor must be a metric name, got {monitor!r}.")
        self.trial = trial
        self.monitor = monitor
        self.checkpoint = checkpoint
        self.last_value: float | None = None

    # checkpoints -----------------------------------------------------------------------
    @staticmethod
    def state(model: Any, epoch: int) -> dict[str, Any]:
        state: dict[str, Any] = {"weights": model.get_weights(), "epoch": epoch}
        opt = getattr(model, "optimizer", None)
        if opt is not None and getattr(opt, "built", False):
            state["optimizer"] = [
                (_short(v.path), keras.ops.convert_to_numpy(v)) for v in _opt_vars(opt)
            ]
        return state

    @staticmethod
    def load_state(model: Any, ckpt: dict[str, Any]) -> None:
        model.set_weights(ckpt["weights"])
        saved = ckpt.get("optimizer")
        opt = getattr(model, "optimizer", None)
        if saved and opt is not None:
            if not opt.built:
                opt.build(model.trainable_variables)
            mine = _opt_vars(opt)
            if len(mine) != len(saved):
                raise InvalidArgumentError(
                    f"The checkpoint has {len(saved)} optimizer variables, this model's optimizer "
                    f"{len(mine)}: it was made for another model or optimizer."
                )
            for var, (name, value) in zip(mine, saved, strict=True):
                if any(k in name for k in _KEEP):
                    continue
                if tuple(var.shape) != tuple(value.shape):
                    raise InvalidArgumentError(
                        f"Optimizer variable {name}: checkpoint shape {value.shape} does not "
                        f"match {tuple(var.shape)}."
                    )
                var.assign(value)

    def resume(self, model: Any) -> int:
        """Load the trial's checkpoint into ``model`` (built and compiled); return the
        ``initial_epoch`` for ``model.fit``."""
        start = int(getattr(self.trial, "start_step", 0))
        ckpt = self.trial.load_checkpoint()
        if ckpt is not None:
            self.load_state(model, ckpt)
            start = max(start, int(ckpt.get("epoch", -1)) + 1)
        return start

    # reporting -------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise InvalidArgumentError(
                f"HypersearchKerasCallback: no {self.monitor!r} in the epoch's logs "
                f"{sorted(logs)}; pass validation_data=... for val_* metrics, or monitor=..."
            )
        value = float(logs[self.monitor])
        self.last_value = value
        self.trial.report(value if math.isfinite(value) else float("nan"), step=int(epoch))
        if self.checkpoint:
            self.trial.save_checkpoint(self.state(self.model, int(epoch)))
        if self.trial.should_stop():
            self.model.stop_training = True
