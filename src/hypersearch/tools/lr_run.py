"""The LR range test's run: the rate rises every batch while the loss is recorded, the run
stops once the loss diverges (``divergence``), and the model, optimizer, gradients and random
state are put back exactly as they were."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.tools._torch import require_torch
from hypersearch.tools.lr_analysis import analyse
from hypersearch.tools.lr_result import LRFinderError, LRFinderResult


def _check_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidArgumentError(f"lr_find: {name} must be a positive number, got {value!r}.")
    if not math.isfinite(value):
        raise InvalidArgumentError(f"lr_find: {name} must be finite, got {value!r}.")
    return float(value)


def _schedule(start: float, end: float, n: int, mode: str) -> np.ndarray:
    if mode == "exp":
        return np.asarray(np.geomspace(start, end, n), dtype=float)
    return np.asarray(np.linspace(start, end, n), dtype=float)


def _batches(loader: Iterable[Any]) -> Iterator[Any]:
    """Cycle through ``loader``; raise when it yields nothing at all."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise LRFinderError(
                "lr_find: the data loader yielded no batch. Check the dataset's length, "
                "the batch size and drop_last."
            )


def _to(obj: Any, device: Any) -> Any:
    if device is None:
        return obj
    if hasattr(obj, "to"):
        return obj.to(device)
    if isinstance(obj, list | tuple):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def _default_step(model: Any, loss_fn: Callable[..., Any], batch: Any) -> Any:
    if isinstance(batch, list | tuple) and len(batch) >= 2:
        inputs, targets = batch[0], batch[1]
    else:
        raise LRFinderError(
            "lr_find: each batch must be (inputs, targets); for other batches pass "
            "step_fn=lambda model, batch: loss."
        )
    return loss_fn(model(inputs), targets)


def lr_find(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[..., Any] | None,
    loader: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    diverge_factor: float = 4.0,
    step_fn: Callable[[Any, Any], Any] | None = None,
    device: Any = None,
) -> LRFinderResult:
    """Run the range test on ``model`` with ``optimizer``; everything is restored afterwards.

    Every parameter group gets the same rate. ``step_fn(model, batch) -> loss`` replaces the
    default ``loss_fn(model(inputs), targets)``. The loader is cycled until ``num_iter`` batches
    have run, unless the loss diverges first (``divergence``: NaN/inf, ``diverge_factor`` times
    its minimum, or back above its start after a clear fall); ``stop_reason`` says which.

    >>> result = lr_find(net, torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
    ...                  nn.CrossEntropyLoss(), loader)
    """
    torch = require_torch()
    start = _check_rate("start_lr", start_lr)
    end = _check_rate("end_lr", end_lr)
    if not start < end:
        raise InvalidArgumentError(
            f"lr_find: start_lr < end_lr must hold, got start_lr={start_lr!r}, end_lr={end_lr!r}."
        )
    if mode not in ("exp", "linear"):
        raise InvalidArgumentError(f"lr_find: mode must be 'exp' or 'linear', got {mode!r}.")
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 10:
        raise InvalidArgumentError(
            f"lr_find: num_iter must be an integer >= 10, got {num_iter!r}."
        )
    if not (isinstance(diverge_factor, int | float) and diverge_factor > 1):
        raise InvalidArgumentError(
            f"lr_find: diverge_factor must be a number > 1, got {diverge_factor!r}."
        )
    if not isinstance(model, torch.nn.Module):
        raise InvalidArgumentError(f"lr_find: model must be a torch.nn.Module, got {model!r}.")
    groups = getattr(optimizer, "param_groups", None)
    if not groups or any("lr" not in g for g in groups):
        raise InvalidArgumentError(
            f"lr_find: the optimizer {type(optimizer).__name__} has no learning rate "
            "('lr' in every param group); use a torch.optim optimizer that takes lr=..."
        )
    if step_fn is None and loss_fn is None:
        raise InvalidArgumentError("lr_find: pass loss_fn, or step_fn(model, batch) -> loss.")

    saved = _snapshot(torch, model, optimizer)
    lrs: list[float] = []
    raw: list[float] = []
    stop_reason = f"ran all {num_iter} batches; the loss did not diverge"
    try:
        model.train()
        schedule = _schedule(start, end, num_iter, mode)
        batches = _batches(loader)
        ema, best, first = 0.0, math.inf, math.nan
        beta = 0.9
        min_iter = max(5, num_iter // 10)
        for i in range(num_iter):
            lr = float(schedule[i])
            for g in optimizer.param_groups:
                g["lr"] = lr
            batch = _to(next(batches), device)
            optimizer.zero_grad(set_to_none=True)
            loss = (
                step_fn(model, batch)
                if step_fn is not None
                else _default_step(model, loss_fn, batch)  # type: ignore[arg-type]
            )
            value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
            if not math.isfinite(value):
                if not any(math.isfinite(v) for v in raw):
                    raise LRFinderError(
                        f"lr_find: the loss is {value} from the first batch (at lr={lr:.3g}), "
                        "before any update at a high rate: check the data (NaN inputs?), the "
                        "model's initialisation and the loss function."
                    )
                lrs.append(lr)
                raw.append(value)
                stop_reason = f"stopped at lr={lr:.3g}: the loss diverged (became {value})"
                break
            lrs.append(lr)
            raw.append(value)
            ema = beta * ema + (1 - beta) * value
            smoothed = ema / (1 - beta ** (i + 1))
            best = min(best, smoothed)
            if i == min_iter - 1:
                first = smoothed
            diverged = divergence(smoothed, best, first, diverge_factor) if i >= min_iter else ""
            if diverged:
                stop_reason = f"stopped at lr={lr:.3g}: the loss diverged ({diverged})"
                break
            loss.backward()
            optimizer.step()
    finally:
        _restore(torch, model, optimizer, saved)
    return analyse(
        lrs, raw, mode=mode, start_lr=start, end_lr=end, num_iter=num_iter, stop_reason=stop_reason
    )


def divergence(smoothed: float, lowest: float, start: float, factor: float = 4.0) -> str:
    """Why the range test should stop, given the running average of the loss now
    (``smoothed``), its lowest so far and its ``start`` (at 10 % of the run); ``""``: go on.

    Diverged: above ``factor`` times its lowest (when that is positive), or back above
    ``start`` after falling below three quarters of it. The second rule catches a loss that
    blows up only to chance level (2.3 for ten classes) after a minimum too high for the first
    (0.9 x 4 = 3.6), and works for negative losses, where a ratio means nothing.
    """
    if lowest > 0 and smoothed > factor * lowest:
        return f"running average {smoothed:.3g} > {factor:g}x its lowest {lowest:.3g}"
    fell = start - lowest >= 0.25 * abs(start) and lowest < start
    if math.isfinite(start) and fell and smoothed >= start:
        return (
            f"running average {smoothed:.3g}, back above its start {start:.3g} "
            f"after falling to {lowest:.3g}"
        )
    return ""


def _snapshot(torch: Any, model: Any, optimizer: Any) -> dict[str, Any]:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "training": {name: m.training for name, m in model.named_modules()},
        "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def _restore(torch: Any, model: Any, optimizer: Any, saved: dict[str, Any]) -> None:
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    for name, m in model.named_modules():
        m.training = saved["training"].get(name, m.training)
    for p, g in zip(model.parameters(), saved["grads"], strict=True):
        p.grad = g
    torch.set_rng_state(saved["rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
