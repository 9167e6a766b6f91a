"""Reading the LR range test's curve: spikes filtered, a lag-free smoothing, the steepest
descent and the minimum, combined into a suggestion (or ``None`` with the reason)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hypersearch.tools.lr_result import LRFinderResult


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
