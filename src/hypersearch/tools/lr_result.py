"""The LR range test's result: the curve, the suggestion and why, its search space, JSON, the
PNG plot, and ``narrow_space`` (a search space around the suggestion)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.space import Float, Param

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
