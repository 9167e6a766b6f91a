"""Top-k ensembles: the best few trials' saved models, averaging their class probabilities.

Each trial saves its weights with ``trial.save_checkpoint({"model": net.state_dict(), ...})``;
``from_study`` rebuilds the ``k`` best with ``build(params)`` and loads them. The study keeps
checkpoints of its ``study.keep_checkpoints`` best trials (3 by default): raise it to at least
``k`` *before* optimizing.

>>> study.keep_checkpoints = 5
>>> study.optimize(objective, n_trials=30)
>>> ens = Ensemble.from_study(study, k=5, build=lambda p: build_model(**p))
>>> ens.accuracy(x_val, y_val), ens.predict_proba(x_val)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.tools._torch import require_torch

__all__ = ["Ensemble", "EnsembleError"]

logger = logging.getLogger("hypersearch")


class EnsembleError(HypersearchError, ValueError):
    """No trial with a usable checkpoint to build the ensemble from."""


class Ensemble:
    """Average the softmax probabilities of several PyTorch classifiers (``weights`` optional).

    Members are used in eval mode; inputs go to each member as ``member(x)``.
    """

    def __init__(self, models: Sequence[Any], *, weights: Sequence[float] | None = None) -> None:
        torch = require_torch()
        if not models:
            raise EnsembleError("An ensemble needs at least one model.")
        bad = [m for m in models if not isinstance(m, torch.nn.Module)]
        if bad:
            raise InvalidArgumentError(
                f"Ensemble members must be torch.nn.Module, got {bad[0]!r}."
            )
        if weights is not None and (
            len(weights) != len(models) or any(not w >= 0 for w in weights) or sum(weights) <= 0
        ):
            raise InvalidArgumentError(
                f"weights must be {len(models)} non-negative numbers with a positive sum, "
                f"got {weights!r}."
            )
        self._torch = torch
        self.models = list(models)
        total = float(sum(weights)) if weights is not None else float(len(models))
        self.weights = [float(w) / total for w in (weights or [1.0] * len(models))]
        self.trial_numbers: list[int] = []

    def predict_proba(self, x: Any) -> Any:
        """Weighted mean of the members' softmax outputs, shape ``(n, classes)``."""
        torch = self._torch
        total = None
        with torch.no_grad():
            for model, w in zip(self.models, self.weights, strict=True):
                was = model.training
                model.eval()
                p = torch.softmax(model(x), dim=-1) * w
                model.train(was)
                total = p if total is None else total + p
        return total

    def predict(self, x: Any) -> Any:
        return self.predict_proba(x).argmax(dim=-1)

    def __call__(self, x: Any) -> Any:
        return self.predict_proba(x)

    def accuracy(self, x: Any, y: Any) -> float:
        return float((self.predict(x) == y).float().mean())

    @classmethod
    def from_study(
        cls,
        study: Any,
        *,
        k: int = 5,
        build: Callable[[dict[str, Any]], Any],
        state_key: str | None = "model",
        load: Callable[[Any, Any], None] | None = None,
    ) -> Ensemble:
        """The ``k`` best completed trials of ``study`` that have a checkpoint.

        ``build(params)`` returns a fresh model for a trial's parameters; the checkpoint (or
        ``checkpoint[state_key]``) is a state dict loaded into it, unless ``load(model,
        checkpoint)`` does that itself. Trials whose checkpoint is gone are skipped (logged).
        """
        from hypersearch import checkpoints

        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgumentError(f"from_study(k=...) needs a positive integer, got {k!r}.")
        models: list[Any] = []
        numbers: list[int] = []
        for record in study.top(max(k, 1) * 3):
            if len(models) == k:
                break
            if not record.attrs.get("checkpoint"):
                continue
            try:
                ckpt = checkpoints.load(study, record)
            except checkpoints.CheckpointError as exc:
                logger.warning("Ensemble: skipping trial %d: %s", record.number, exc)
                continue
            model = build(dict(record.params))
            if load is not None:
                load(model, ckpt)
            else:
                state = (
                    ckpt[state_key]
                    if state_key is not None and isinstance(ckpt, Mapping)
                    else ckpt
                )
                model.load_state_dict(state)
            models.append(model)
            numbers.append(record.number)
        if not models:
            raise EnsembleError(
                f"No completed trial of study {study.name!r} has a saved checkpoint: call "
                "trial.save_checkpoint({'model': net.state_dict()}) in the objective, and set "
                "study.keep_checkpoints >= k before optimizing."
            )
        if len(models) < k:
            logger.warning(
                "Ensemble of %d models, not %d: only these of the best trials kept a checkpoint "
                "(set study.keep_checkpoints >= k before optimizing).",
                len(models),
                k,
            )
        ens = cls(models)
        ens.trial_numbers = numbers
        return ens
