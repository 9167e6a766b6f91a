"""Training diagnostics: *why* a run is bad, from hooks on a PyTorch model and its optimizer.

Per layer it records the update-to-weight ratio (``||Δw|| / ||w||`` per optimizer step; about
1e-3 is healthy, above 1e-1 the rate is far too high, below 1e-6 nothing moves), the gradient
norm, the activation scale (standard deviation of each layer's output) and, for ReLU layers, the
fraction of units that were zero for every sample of a batch (dead units). From those and the
loss it flags a diverging loss (rate too high), a flat loss (rate too low, or a dead network)
and dead units. ``summary()`` is JSON-ready; ``attach(trial)`` keeps it in
``trial.attrs["diagnostics"]``, where the dashboard shows it.

>>> with Diagnostics(model, optimizer) as diag:
...     for xb, yb in loader:
...         loss = loss_fn(model(xb), yb); opt.zero_grad(); loss.backward(); opt.step()
...         diag.record_loss(loss)
>>> diag.flags                    # [{"code": "diverging_loss", "message": "..."}]
>>> diag.attach(trial)
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.tools._torch import require_torch

__all__ = ["ATTR_KEY", "Diagnostics"]

#: Key under which ``attach`` stores the summary in a trial's ``attrs``.
ATTR_KEY = "diagnostics"

#: Thresholds of the flags (rules of thumb; documented in docs/tools.md).
UPDATE_RATIO_HIGH = 1e-1
UPDATE_RATIO_LOW = 1e-6
DEAD_FRACTION = 0.5
FLAT_RELATIVE_CHANGE = 0.01


def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if math.isfinite(x)]
    return float(np.median(xs)) if xs else None


class Diagnostics:
    """Hooks that watch ``model`` (and ``optimizer`` when given) while it trains.

    Statistics are taken every ``every`` steps to keep the cost small. Use as a context manager,
    or call ``close()`` to remove the hooks.
    """

    def __init__(self, model: Any, optimizer: Any = None, *, every: int = 1) -> None:
        torch = require_torch()
        if not isinstance(model, torch.nn.Module):
            raise InvalidArgumentError(f"Diagnostics needs a torch.nn.Module, got {model!r}.")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise InvalidArgumentError(
                f"Diagnostics(every=...) must be an integer >= 1, got {every!r}."
            )
        self._torch = torch
        self.model = model
        self.optimizer = optimizer
        self.every = every
        self.losses: list[float] = []
        self._step = 0
        self._active = True
        self._act: dict[str, list[float]] = defaultdict(list)
        self._dead: dict[str, list[float]] = defaultdict(list)
        self._grad: dict[str, list[float]] = defaultdict(list)
        self._ratio: dict[str, list[float]] = defaultdict(list)
        self._before: dict[str, Any] = {}
        self._handles: list[Any] = []
        relu = (torch.nn.ReLU, torch.nn.ReLU6)
        for name, module in model.named_modules():
            has_params = any(True for _ in module.parameters(recurse=False))
            if isinstance(module, relu) or has_params:
                self._handles.append(
                    module.register_forward_hook(self._forward_hook(name or "model", module))
                )
        self._params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        if optimizer is not None:
            self._handles.append(optimizer.register_step_pre_hook(self._pre_step))
            self._handles.append(optimizer.register_step_post_hook(self._post_step))

    # -- hooks ---------------------------------------------------------------------------------
    def _sampling(self) -> bool:
        return self._active and self._step % self.every == 0

    def _forward_hook(self, name: str, module: Any) -> Any:
        torch = self._torch
        is_relu = isinstance(module, torch.nn.ReLU | torch.nn.ReLU6)

        def hook(mod: Any, inputs: Any, output: Any) -> None:
            if not (self._sampling() and mod.training and isinstance(output, torch.Tensor)):
                return
            with torch.no_grad():
                out = output.detach().float()
                if out.numel() > 1:
                    self._act[name].append(float(out.std()))
                if is_relu and out.dim() >= 2 and out.shape[0] > 1:
                    alive = (out > 0).any(dim=0)  # a unit (channel x position) fired for a sample
                    self._dead[name].append(1.0 - float(alive.float().mean()))

        return hook

    def _pre_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if not self._sampling():
            return
        torch = self._torch
        with torch.no_grad():
            for name, p in self._params.items():
                if p.grad is not None:
                    self._grad[name].append(float(p.grad.detach().norm()))
                self._before[name] = p.detach().clone()

    def _post_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        torch = self._torch
        if self._before:
            with torch.no_grad():
                for name, old in self._before.items():
                    p = self._params[name]
                    norm = float(old.norm())
                    delta = float((p.detach() - old).norm())
                    self._ratio[name].append(delta / norm if norm > 0 else math.inf)
            self._before = {}
        self._step += 1

    # -- API ---------------------------------------------------------------------------------
    def record_loss(self, loss: Any) -> None:
        """Record the training loss of a step (a tensor or a number)."""
        value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
        self.losses.append(value)
        if self.optimizer is None:  # no step hook: count steps by losses, grads before step
            self._step += 1

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self._active = False

    def __enter__(self) -> Diagnostics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def layers(self) -> dict[str, dict[str, float | None]]:
        """Per layer/parameter: median over the sampled steps of each statistic."""
        out: dict[str, dict[str, float | None]] = {}
        for name in self._params:
            out[name] = {
                "grad_norm": _median(self._grad.get(name, [])),
                "update_ratio": _median(self._ratio.get(name, [])),
            }
        for name, xs in self._act.items():
            out.setdefault(name, {})["activation_std"] = _median(xs)
        for name, xs in self._dead.items():
            # dead over the last quarter of the run: units that died stay dead
            tail = xs[-max(1, len(xs) // 4) :]
            out.setdefault(name, {})["dead_fraction"] = _median(tail)
        return out

    @property
    def flags(self) -> list[dict[str, str]]:
        """What looks wrong, each as ``{"code", "message"}``; empty when nothing does."""
        flags: list[dict[str, str]] = []
        layers = self.layers()
        ratios = {
            n: s["update_ratio"] for n, s in layers.items() if s.get("update_ratio") is not None
        }
        losses = self.losses
        finite = [x for x in losses if math.isfinite(x)]
        n = len(losses)
        diverging = None
        if n and len(finite) < n:
            first_bad = next(i for i, x in enumerate(losses) if not math.isfinite(x))
            diverging = f"the loss became {losses[first_bad]} at step {first_bad}"
        elif n >= 8:
            k = max(2, n // 5)
            head, tail = float(np.median(losses[:k])), float(np.median(losses[-k:]))
            if tail > 1.5 * head and tail - head > 1e-8:
                diverging = f"the loss rose from {head:.3g} to {tail:.3g}"
        big = {k: v for k, v in ratios.items() if v is not None and v > UPDATE_RATIO_HIGH}
        if diverging or big:
            detail = diverging or "updates are large"
            if big:
                worst = max(big, key=lambda k: big[k] or 0.0)
                detail += (
                    f"; update/weight ratio {big[worst]:.2g} in {worst} "
                    f"(healthy ~1e-3, >{UPDATE_RATIO_HIGH:g} is too high)"
                )
            flags.append(
                {
                    "code": "diverging_loss",
                    "message": f"Diverging: {detail}. The learning rate is probably too high: "
                    "lower it (an LR range test finds a good one).",
                }
            )
        elif n >= 8:
            k = max(2, n // 5)
            head, tail = float(np.median(finite[:k])), float(np.median(finite[-k:]))
            if abs(head - tail) <= FLAT_RELATIVE_CHANGE * max(abs(head), 1e-12):
                tiny = ratios and all(
                    v is not None and v < UPDATE_RATIO_LOW for v in ratios.values()
                )
                grads = [
                    s.get("grad_norm") for s in layers.values() if s.get("grad_norm") is not None
                ]
                no_grad = bool(grads) and max(g or 0.0 for g in grads) < 1e-12
                why = (
                    "gradients are zero: the network is dead (dead ReLUs, a detached graph or "
                    "saturated outputs)"
                    if no_grad
                    else "updates are tiny relative to the weights: the learning rate is too low"
                    if tiny
                    else "the learning rate is too low, or the network is dead"
                )
                flags.append(
                    {
                        "code": "flat_loss",
                        "message": f"Flat loss ({head:.3g} -> {tail:.3g} over {n} steps): {why}.",
                    }
                )
        for name, s in layers.items():
            dead = s.get("dead_fraction")
            if dead is not None and dead >= DEAD_FRACTION:
                flags.append(
                    {
                        "code": "dead_units",
                        "message": f"{name}: {100 * dead:.0f}% of ReLU units never fire on a "
                        "batch. Lower the learning rate, use He init, or LeakyReLU/GELU.",
                    }
                )
        return flags

    def summary(self) -> dict[str, Any]:
        """JSON-ready: flags, per-layer statistics, loss curve (thinned to 200 points)."""
        losses = self.losses
        stride = max(1, len(losses) // 200)
        return {
            "flags": self.flags,
            "layers": self.layers(),
            "steps": self._step,
            "losses": [x if math.isfinite(x) else None for x in losses[::stride]],
            "loss_stride": stride,
        }

    def attach(self, trial: Any) -> None:
        """Store ``summary()`` in ``trial.attrs["diagnostics"]`` (shown in the dashboard)."""
        trial.set_attr(ATTR_KEY, self.summary())
