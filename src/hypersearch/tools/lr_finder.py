"""The learning-rate range test: one short run that tells which learning rates train a model.

The rate rises every batch from ``start_lr`` to ``end_lr`` (exponentially by default) while the
loss is recorded; the run stops when the loss diverges, and the model, the optimizer, the
gradients and PyTorch's random state are put back exactly as they were. The suggestion combines
the two usual readings of the curve, each made robust where popular finders are not:

- *steepest descent*: the rate where the smoothed loss falls fastest per decade of rate, measured
  by a local linear fit over several points (a single noisy step cannot win);
- *a tenth of the minimum*: the rate at the lowest smoothed loss, divided by 10.

The suggestion is their geometric mean, never above the minimum's rate / 3. Losses are first
median-filtered (spikes vanish) and then averaged over a centred window, so the curve has no lag;
the first 10 % of the run is ignored (early spikes).

The run stops as soon as the loss has diverged (``divergence``): a NaN or infinite loss, or a
running average of the loss (exponential, weight 0.9 on the past) above ``diverge_factor`` (4)
times its lowest, or back above its level at 10 % of the run after falling below three quarters
of that. Rates past that point only train a broken model, so they are not run.
When the curve gives no trustworthy answer (no clear decrease, or lowest at the very start) the
suggestion is ``None`` and ``reason`` says what to change, instead of an absurd number.

>>> result = lr_find(model, optimizer, nn.CrossEntropyLoss(), train_loader)
>>> result.suggestion, result.reason
>>> result.plot("lr_finder.png"); space = {"lr": result.space(), ...}
"""

from __future__ import annotations

import copy
import importlib
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.space import Float, Param
from hypersearch.tools._torch import require_torch

__all__ = [
    "ATTR_KEY",
    "LRFinderError",
    "LRFinderResult",
    "divergence",
    "lr_find",
    "lr_find_from_spec",
    "narrow_space",
]

#: Key under which results are stored in a trial's ``attrs`` (the dashboard reads it).
ATTR_KEY = "lr_finder"


class LRFinderError(HypersearchError, ValueError):
    """The range test cannot run or cannot read its curve (bad input or a NaN loss)."""


# -- result --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LRFinderResult:
    """What one range test saw and what it suggests.

    ``lrs``/``raw_losses`` are one entry per batch; ``losses`` is the smoothed curve the
    suggestion is read from. ``suggestion`` is ``None`` when the curve has no trustworthy
    answer; ``reason`` always says why.
    """

    lrs: tuple[float, ...]
    raw_losses: tuple[float, ...]
    losses: tuple[float, ...]
    suggestion: float | None
    steepest_lr: float | None
    min_loss_lr: float | None
    reason: str
    stop_reason: str
    mode: str = "exp"
    start_lr: float = 1e-7
    end_lr: float = 10.0
    num_iter: int = 100
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        s = "none" if self.suggestion is None else f"{self.suggestion:.3g}"
        stop = f"; {self.stop_reason}" if self.stop_reason else ""
        return f"LR range test ({len(self.lrs)} batches{stop}): {s}. {self.reason}"

    # -- search-space helpers ---------------------------------------------------------------
    def space(self, *, factor: float = 5.0) -> Float:
        """A log-scale ``hs.Float`` around the suggestion: ``[s / factor, s * factor]``, the top
        capped at the rate of the lowest loss (beyond it training diverges).

        >>> space = {"lr": result.space(), "batch_size": hs.Int(16, 256, scale="pow2")}
        """
        if not (isinstance(factor, int | float) and factor > 1):
            raise InvalidArgumentError(f"space(factor=...) needs a number > 1, got {factor!r}.")
        if self.suggestion is None:
            raise LRFinderError(f"The range test made no suggestion: {self.reason}")
        s = self.suggestion
        high = s * factor
        if self.min_loss_lr is not None and self.min_loss_lr > s:
            high = min(high, self.min_loss_lr)
        low = max(s / factor, min(self.lrs))
        return Float(float(f"{low:.4g}"), float(f"{high:.4g}"), log=True)

    # -- storage --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers become ``None``), kept in ``attrs["lr_finder"]``."""

        def clean(xs: Iterable[float]) -> list[float | None]:
            return [float(x) if math.isfinite(x) else None for x in xs]

        return {
            "lrs": clean(self.lrs),
            "losses": clean(self.losses),
            "raw_losses": clean(self.raw_losses),
            "suggestion": self.suggestion,
            "steepest_lr": self.steepest_lr,
            "min_loss_lr": self.min_loss_lr,
            "reason": self.reason,
            "stop_reason": self.stop_reason,
            "mode": self.mode,
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "num_iter": self.num_iter,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LRFinderResult:
        """Rebuild a result stored with ``to_dict`` (e.g. from ``trial.attrs["lr_finder"]``)."""

        def back(xs: Iterable[float | None]) -> tuple[float, ...]:
            return tuple(math.nan if x is None else float(x) for x in xs)

        return cls(
            lrs=back(data["lrs"]),
            raw_losses=back(data.get("raw_losses", data["losses"])),
            losses=back(data["losses"]),
            suggestion=data.get("suggestion"),
            steepest_lr=data.get("steepest_lr"),
            min_loss_lr=data.get("min_loss_lr"),
            reason=str(data.get("reason", "")),
            stop_reason=str(data.get("stop_reason", "")),
            mode=str(data.get("mode", "exp")),
            start_lr=float(data.get("start_lr", 1e-7)),
            end_lr=float(data.get("end_lr", 10.0)),
            num_iter=int(data.get("num_iter", len(data["lrs"]))),
        )

    def attach(self, target: Any, *, name: str = "lr") -> int | None:
        """Store this result where the dashboard shows it.

        A ``Trial``: kept in its ``attrs["lr_finder"]``. A ``Study``: the suggested rate is
        enqueued as the study's next trial (parameter ``name``), carrying the curve; returns
        that trial's number.
        """
        from hypersearch.study import Study
        from hypersearch.trial import Trial

        if isinstance(target, Trial):
            target.set_attr(ATTR_KEY, self.to_dict())
            return None
        if isinstance(target, Study):
            if self.suggestion is None:
                raise LRFinderError(f"Nothing to enqueue: {self.reason}")
            number = target.enqueue(
                {name: self.suggestion}, note=f"LR range test suggestion: {self.reason}"
            )
            target.set_attrs(number, {ATTR_KEY: self.to_dict()})
            return number
        raise InvalidArgumentError(
            f"attach() takes an hs.Trial or hs.Study, got {type(target).__name__}."
        )

    def save_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    # -- plot ------------------------------------------------------------------------------
    def plot(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write the curve as a PNG, marking the suggestion (needs matplotlib)."""
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError(
                'result.plot() needs matplotlib: pip install "hypersearch[plot]".'
            ) from None
        lrs = np.asarray(self.lrs)
        raw = np.asarray(self.raw_losses, dtype=float)
        smooth = np.asarray(self.losses, dtype=float)
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        try:
            ax.plot(lrs, raw, color="#9ecae1", lw=1, label="loss per batch")
            ax.plot(lrs, smooth, color="#08519c", lw=2, label="smoothed")
            if self.mode == "exp":
                ax.set_xscale("log")
            finite = smooth[np.isfinite(smooth)]
            if finite.size:
                lo, first = float(finite.min()), float(finite[0])
                top = max(first, lo) + 0.5 * abs(first - lo) + 1e-12
                ax.set_ylim(lo - 0.1 * (top - lo) - 1e-12, top)
            if self.steepest_lr is not None:
                ax.axvline(self.steepest_lr, color="#74c476", ls=":", lw=1.2, label="steepest")
            if self.min_loss_lr is not None:
                ax.axvline(self.min_loss_lr, color="#fd8d3c", ls=":", lw=1.2, label="min loss")
            if self.suggestion is not None:
                y = float(np.interp(math.log(self.suggestion), np.log(lrs), smooth))
                ax.axvline(self.suggestion, color="#cb181d", lw=1.5)
                ax.plot(
                    [self.suggestion],
                    [y],
                    "o",
                    color="#cb181d",
                    ms=8,
                    label=f"suggestion {self.suggestion:.3g}",
                )
            ax.set_xlabel("learning rate")
            ax.set_ylabel("training loss")
            ax.set_title(title or f"LR range test: {self.stop_reason}", fontsize=10)
            ax.legend(fontsize=8, loc="upper left")
            ax.grid(alpha=0.3, which="both")
            fig.tight_layout()
            out = Path(path)
            fig.savefig(out, format="png")
        finally:
            plt.close(fig)
        return out


# -- the run ---------------------------------------------------------------------------------
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


# -- reading the curve ---------------------------------------------------------------------
def _smooth(y: np.ndarray) -> np.ndarray:
    """Median filter (width 5: one- and two-batch spikes vanish), then a centred moving average
    whose width grows with the run; no lag, unlike the usual exponential average."""
    n = len(y)
    med = np.array([np.median(y[max(0, i - 2) : i + 3]) for i in range(n)])
    half = max(1, n // 25)
    out = np.empty(n)
    for i in range(n):
        h = min(half, i, n - 1 - i)  # shrink at the ends so the window stays centred
        out[i] = med[i - h : i + h + 1].mean()
    return out


def _slopes(x: np.ndarray, y: np.ndarray, half: int) -> np.ndarray:
    """Least-squares slope of ``y`` on ``x`` over a centred window at each point."""
    n = len(x)
    out = np.full(n, np.nan)
    for i in range(n):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        if hi - lo < 3:
            continue
        xs, ys = x[lo:hi], y[lo:hi]
        xc = xs - xs.mean()
        denom = float((xc * xc).sum())
        if denom > 0:
            out[i] = float((xc * (ys - ys.mean())).sum()) / denom
    return out


def analyse(
    lrs: list[float],
    raw: list[float],
    *,
    mode: str = "exp",
    start_lr: float | None = None,
    end_lr: float | None = None,
    num_iter: int | None = None,
    stop_reason: str = "",
) -> LRFinderResult:
    """Read a recorded curve (rates and raw losses per batch) into a result with a suggestion."""
    lr_arr = np.asarray(lrs, dtype=float)
    raw_arr = np.asarray(raw, dtype=float)
    finite = np.isfinite(raw_arr)
    n_ok = int(np.argmin(finite)) if not finite.all() else len(raw_arr)  # before the first NaN
    smooth = np.full(len(raw_arr), np.nan)
    common: dict[str, Any] = {
        "lrs": tuple(float(v) for v in lr_arr),
        "raw_losses": tuple(float(v) for v in raw_arr),
        "mode": mode,
        "start_lr": float(start_lr if start_lr is not None else (lrs[0] if lrs else 0.0)),
        "end_lr": float(end_lr if end_lr is not None else (lrs[-1] if lrs else 0.0)),
        "num_iter": int(num_iter if num_iter is not None else len(lrs)),
        "stop_reason": stop_reason,
    }

    def result(
        smooth: np.ndarray, sug: float | None, steep: float | None, mn: float | None, reason: str
    ) -> LRFinderResult:
        return LRFinderResult(
            losses=tuple(float(v) for v in smooth),
            suggestion=sug,
            steepest_lr=steep,
            min_loss_lr=mn,
            reason=reason,
            **common,
        )

    if n_ok < 10:
        return result(
            smooth,
            None,
            None,
            None,
            f"Only {n_ok} finite losses before the run stopped: the loss diverged "
            "almost at once. Lower start_lr (and end_lr) and run again.",
        )
    x = np.log10(lr_arr[:n_ok]) if mode == "exp" else lr_arr[:n_ok]
    y = _smooth(raw_arr[:n_ok])
    smooth[:n_ok] = y
    # early batches (the model and optimizer state settle) and the smoothing windows that
    # reach back into them are ignored, so an early spike cannot become a slope or a minimum
    half = max(2, n_ok // 20)
    skip = max(2, n_ok // 10) + max(1, n_ok // 25)
    i_min = skip + int(np.argmin(y[skip:]))
    lr_min = float(lr_arr[i_min])
    y_start = float(np.median(y[skip : skip + max(3, n_ok // 20)]))
    resid = raw_arr[:n_ok] - y
    noise = float(np.median(np.abs(resid - np.median(resid)))) * 1.4826 + 1e-12
    drop = y_start - float(y[i_min])
    too_high = (
        f"The loss was lowest at the start of the range ({lr_min:.3g}) and only rose after it: "
        "the whole range is too high. Lower start_lr by 100x."
    )
    at_start = i_min <= skip + half
    if drop < max(0.02 * abs(y_start), 0.5 * noise):
        rose = float(np.max(y[skip:])) > y_start + max(0.5 * abs(y_start), 3 * noise)
        if rose or (at_start and "diverged" in stop_reason):
            return result(smooth, None, None, lr_min, too_high)
        return result(
            smooth,
            None,
            None,
            lr_min,
            f"The smoothed loss never fell clearly (by {drop:.3g} from {y_start:.3g}, "
            f"noise {noise:.2g}): the range is too low (raise end_lr) or the model "
            "cannot learn from this data (check labels, loss and initialisation).",
        )
    if at_start:
        return result(smooth, None, None, lr_min, too_high)
    slopes = _slopes(x, y, half)
    first = min(skip + half, i_min)
    window = slopes[first : i_min + 1]
    if not np.isfinite(window).any() or np.nanmin(window) >= 0:
        i_steep = i_min
    else:
        i_steep = first + int(np.nanargmin(window))
    lr_steep = float(lr_arr[i_steep])
    tenth = lr_min / 10.0
    suggestion = math.sqrt(lr_steep * tenth)
    suggestion = min(suggestion, lr_min / 3.0)
    suggestion = max(suggestion, float(lr_arr[skip]))
    suggestion = float(f"{suggestion:.3g}")
    reason = (
        f"Steepest descent of the smoothed loss at {lr_steep:.3g}; lowest loss at "
        f"{lr_min:.3g}, a tenth of which is {tenth:.3g}. Suggested {suggestion:.3g}, the "
        f"geometric mean of the two (never above the minimum's rate / 3). The loss fell from "
        f"{y_start:.3g} to {float(y[i_min]):.3g}."
    )
    return result(smooth, suggestion, lr_steep, lr_min, reason)


# -- search wiring -----------------------------------------------------------------------------
def narrow_space(
    space: Mapping[str, Param],
    result: LRFinderResult,
    *,
    name: str = "lr",
    factor: float = 5.0,
) -> dict[str, Param]:
    """``space`` with ``name`` set to ``result.space(factor)``, intersected with the range it
    had (when the two overlap); the other parameters are kept as they are.

    >>> space = narrow_space(SPACE, lr_find(model, opt, loss_fn, loader))
    >>> study = hs.create_study("digits", space=space, direction="maximize")
    """
    found = result.space(factor=factor)
    out = dict(space.items())
    old = out.get(name)
    if isinstance(old, Float) and old.step is None and old.scale in ("log", "linear"):
        low, high = max(found.low, old.low), min(found.high, old.high)
        if low < high:
            found = Float(low, high, log=True)
    out[name] = found
    return out


# -- CLI form ----------------------------------------------------------------------------------
def _load_spec(spec: str) -> Callable[[], Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(
            f"Expected MODULE:FUNCTION (e.g. train:make_lr_find_setup), got {spec!r}."
        )
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(f"Cannot import {module_name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InvalidArgumentError(f"{module_name!r} has no function {attr!r}.")
    return fn


def lr_find_from_spec(spec: str, **kwargs: Any) -> LRFinderResult:
    """Run the range test on what ``MODULE:FUNCTION`` returns: a dict with ``model``,
    ``optimizer``, ``loader`` and ``loss_fn`` (or ``step_fn``), or the tuple
    ``(model, optimizer, loss_fn, loader)``. The CLI's ``hypersearch lr-find`` uses this."""
    made = _load_spec(spec)()
    if isinstance(made, Mapping):
        parts = dict(made)
    elif isinstance(made, tuple | list) and len(made) == 4:
        parts = dict(zip(("model", "optimizer", "loss_fn", "loader"), made, strict=True))
    else:
        raise InvalidArgumentError(
            f"{spec} must return a dict with model, optimizer, loss_fn, loader, or that 4-tuple; "
            f"got {type(made).__name__}."
        )
    missing = [k for k in ("model", "optimizer", "loader") if k not in parts]
    if missing:
        raise InvalidArgumentError(f"{spec} returned no {', '.join(missing)}.")
    return lr_find(
        parts["model"],
        parts["optimizer"],
        parts.get("loss_fn"),
        parts["loader"],
        step_fn=parts.get("step_fn"),
        **kwargs,
    )


def add_cli_arguments(p: Any) -> None:
    """The arguments of ``hypersearch lr-find`` (an argparse parser)."""
    p.add_argument(
        "spec",
        metavar="MODULE:FUNCTION",
        help="a function returning {model, optimizer, loss_fn, loader} (or step_fn), or the "
        "tuple (model, optimizer, loss_fn, loader); importable from here",
    )
    p.add_argument("--start-lr", type=float, default=1e-7, help="first rate (default 1e-7)")
    p.add_argument("--end-lr", type=float, default=10.0, help="last rate (default 10)")
    p.add_argument("--num-iter", type=int, default=100, help="batches at most (default 100)")
    p.add_argument("--mode", choices=("exp", "linear"), default="exp", help="rate schedule")
    p.add_argument("--plot", metavar="PNG", help="write the curve here (needs matplotlib)")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument(
        "--study", metavar="STUDY", help="store the curve with this study and enqueue the rate"
    )


def cli_main(args: Any, storage_url: str) -> int:
    """Run ``hypersearch lr-find``; errors are printed, not raised (exit 1)."""
    try:
        return run_cli(args, storage_url)
    except (HypersearchError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _printer() -> Callable[[str], None]:
    """``print``, with long lines wrapped (and indented) to the terminal's width."""
    import textwrap

    from hypersearch.tables import terminal_width

    width = terminal_width(sys.stdout)

    def say(line: str) -> None:
        if width is None or len(line) <= width:
            print(line)
        else:
            print(textwrap.fill(line, width, subsequent_indent="  ", break_long_words=False))

    return say


def run_cli(args: Any, storage: Any = None) -> int:
    """``hypersearch lr-find MODULE:FUNCTION``: run, print the suggestion, write PNG / JSON,
    and with ``--study`` store the curve and enqueue the suggested rate in that study."""
    result = lr_find_from_spec(
        args.spec,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.num_iter,
        mode=args.mode,
    )
    say = _printer()
    say(f"suggestion: {'none' if result.suggestion is None else f'{result.suggestion:.3g}'}")
    say(f"run: {len(result.lrs)} of {result.num_iter} batches; {result.stop_reason}")
    say(f"reason: {result.reason}")
    if result.suggestion is not None:
        space = result.space()
        say(f"search space: hs.Float({space.low:.4g}, {space.high:.4g}, log=True)")
    if args.plot:
        say(f"plot: {result.plot(args.plot)}")
    if args.json:
        result.save_json(args.json)
        say(f"json: {args.json}")
    if args.study:
        from hypersearch.study import load_study

        study = load_study(args.study, storage=storage)
        number = result.attach(study)
        print(f"enqueued trial {number} of study {args.study!r} with lr={result.suggestion:.3g}")
    return 0 if result.suggestion is not None else 1
