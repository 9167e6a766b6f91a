"""A Keras 3 callback that reports to a trial, honours its scheduler and keeps checkpoints.

It works on any Keras 3 backend. The callback subclasses Keras's, so importing this module
imports Keras (through ``hypersearch.keras.backend.import_keras``): if Keras is not imported
yet, you chose no backend (``KERAS_BACKEND`` unset, none other than TensorFlow in keras.json)
and PyTorch is installed, that backend is PyTorch, as ``hypersearch[keras]`` installs no
TensorFlow; a backend you chose is never overridden.

>>> def objective(trial):
...     model = build(trial.params); model.compile(optimizer=..., loss=..., metrics=["accuracy"])
...     cb = HypersearchKerasCallback(trial, monitor="val_accuracy")
...     model.fit(x, y, validation_data=(xv, yv), epochs=20,
...               initial_epoch=cb.resume(model), callbacks=[cb])  # resumes PBT / promotions
...     return cb.best_value

Each epoch it reports ``logs[monitor]`` at step ``epoch + 1`` (epochs completed, as every
hypersearch callback does), keeps the best epoch's weights (``best_weights``, ``best_epoch``),
saves the weights, the optimizer's variables and the epoch count (``trial.save_checkpoint``),
and sets ``model.stop_training`` when the scheduler says stop. ``resume(model)`` loads the
trial's checkpoint into the compiled model and returns the ``initial_epoch`` to start from;
the optimizer keeps this trial's learning rate. ``hypersearch.keras.Tuner`` trains with this
same callback.

On a study with several objectives, monitor one logged metric per objective:
``monitor=["val_accuracy", "latency_ms"]`` (logged under the objectives' names) or
``monitor={"val_accuracy": "val_accuracy", "latency_ms": "val_latency"}`` (objective ->
logged metric). Each epoch reports them together; ``last_value`` and ``curve`` hold
``{objective: value}`` dicts (return ``cb.last_value``). There is no single best epoch then:
``best_value``, ``best_epoch`` and ``best_weights`` stay None, and ``report_transform`` is
refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.integrations.monitor import (
    Monitor,
    check_monitor,
    missing,
    monitored_values,
    reportable,
)
from hypersearch.integrations.steps import epochs_done
from hypersearch.keras.backend import import_keras

__all__ = ["HypersearchKerasCallback", "ensure_built"]

keras = import_keras()  # the callback below subclasses keras.callbacks.Callback

_KEEP = ("learning_rate",)  # optimizer variables this trial decides itself (PBT's new values)
_MODES = {"min": Direction.MINIMIZE, "max": Direction.MAXIMIZE} | {d.value: d for d in Direction}


def _opt_vars(optimizer: Any) -> list[Any]:
    """The optimizer's variables in their fixed order (paths differ between instances:
    ``adam/iteration`` vs ``adam_1/iteration``, so order and shape identify them)."""
    return list(optimizer.variables)


def _short(path: str) -> str:
    return path.split("/", 1)[-1]


def ensure_built(model: Any, sample: Any) -> None:
    """Build the layers of a model that Keras builds lazily (a ``Sequential`` without an
    ``Input``) for inputs shaped like ``sample`` (a batch), so weights can be loaded into it.

    A Sequential's layers are built on a symbolic input and the model itself is left open,
    so ``model.build(input_shape)`` afterwards (as KerasTuner's guide does) still works.
    """
    if model.weights:
        return
    if sample is None:
        raise InvalidArgumentError(
            "The model has no weights yet (a Sequential without keras.Input is built on its "
            "first batch) and no input sample is known to build it: add keras.Input(shape) "
            "as its first layer, or call model.build(input_shape) first."
        )
    if isinstance(model, keras.Sequential) and model.layers:
        dtype = keras.backend.standardize_dtype(getattr(sample, "dtype", "float32"))
        x = keras.KerasTensor((None, *tuple(sample.shape)[1:]), dtype=dtype)
        for layer in model.layers:
            x = layer(x)
    else:
        model(sample)


class HypersearchKerasCallback(keras.callbacks.Callback):  # type: ignore[name-defined]
    """Report ``monitor`` each epoch; stop when told; keep the best epoch's weights;
    checkpoint for resumption.

    ``mode`` ("min", "max" or "auto": the study's direction) says which value is best;
    ``keep_best_weights=False`` skips copying the weights at each improvement.
    ``report=False`` only records (``curve``, best weights); ``report_transform(epochs,
    value)`` changes the value reported (the Tuner averages over executions);
    ``on_missing="skip"`` ignores epochs whose logs lack ``monitor`` instead of raising.
    """

    def __init__(
        self,
        trial: Any,
        *,
        monitor: Monitor = "val_loss",
        checkpoint: bool = True,
        mode: str = "auto",
        keep_best_weights: bool = True,
        report: bool = True,
        report_transform: Callable[[int, float], float] | None = None,
        on_missing: str = "raise",
    ) -> None:
        super().__init__()
        checked = check_monitor(monitor, "HypersearchKerasCallback")
        if not isinstance(checked, str) and report_transform is not None:
            raise InvalidArgumentError(
                "HypersearchKerasCallback: report_transform changes one monitored value; with "
                f"several (monitor={monitor!r}) leave it out."
            )
        if mode == "auto":
            mode = getattr(getattr(trial, "study", None), "direction", "minimize")
        if mode not in _MODES:
            raise InvalidArgumentError(
                f"mode must be 'min', 'max' or 'auto' (the study's direction), got {mode!r}."
            )
        if on_missing not in ("raise", "skip"):
            raise InvalidArgumentError(
                f"on_missing must be 'raise' or 'skip', got {on_missing!r}."
            )
        self.trial = trial
        self.monitor = checked
        self.checkpoint = checkpoint
        self.report = report
        self.report_transform = report_transform
        self.on_missing = on_missing
        self.final_weights: list[Any] | None = None  # set by the Tuner after fit
        self.direction: Direction = _MODES[mode]
        self.keep_best_weights = keep_best_weights
        self.last_value: float | dict[str, float] | None = None
        self.best_value: float | None = None
        self.best_epoch: int | None = None  # epochs completed when the best value was seen
        self.best_weights: list[Any] | None = None
        self.curve: dict[int, Any] = {}  # epochs completed -> value ({objective: value}: several)

    # checkpoints -----------------------------------------------------------------------
    @staticmethod
    def state(model: Any, epochs: int) -> dict[str, Any]:
        """A checkpoint: weights, optimizer variables and ``epochs_done``."""
        state: dict[str, Any] = {"weights": model.get_weights(), "epochs_done": epochs}
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

    def resume(self, model: Any, sample: Any = None) -> int:
        """Load the trial's checkpoint into ``model`` (compiled; built, or built here on
        ``sample``, a batch of inputs); return the ``initial_epoch`` for ``model.fit`` (the
        epochs the checkpoint had completed; 0 without one)."""
        ckpt = self.trial.load_checkpoint()
        if ckpt is None:
            return 0
        ensure_built(model, sample)
        self.load_state(model, ckpt)
        return epochs_done(ckpt)

    # reporting -------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        found = monitored_values(self.monitor, logs)
        if found is None:
            if self.on_missing == "skip":
                return
            raise InvalidArgumentError(
                f"HypersearchKerasCallback: no {missing(self.monitor, logs)[0]!r} in the "
                f"epoch's logs {sorted(logs)}; pass validation_data=... for val_* metrics, or "
                "monitor=..."
            )
        epochs = int(epoch) + 1
        self.last_value = found
        self.curve[epochs] = found
        if isinstance(found, dict):  # several objectives: no single best epoch
            self._report(found, epochs)
            return
        value = found
        if math.isfinite(value) and (
            self.best_value is None or self.direction.better(value, self.best_value)
        ):
            self.best_value, self.best_epoch = value, epochs
            if self.keep_best_weights:
                self.best_weights = self.model.get_weights()
        if not self.report:
            return
        if self.report_transform is not None:
            value = float(self.report_transform(epochs, value))
        self._report(value, epochs)

    def _report(self, value: float | dict[str, float], epochs: int) -> None:
        """Report at ``epochs`` completed, checkpoint, and stop training when told."""
        if not self.report:
            return
        self.trial.report(reportable(value), step=epochs)
        if self.checkpoint:
            self.trial.save_checkpoint(self.state(self.model, epochs))
        if self.trial.should_stop():
            self.model.stop_training = True
