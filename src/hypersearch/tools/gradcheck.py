"""Gradient check: a module's autograd gradients against central finite differences.

The module is copied to float64 (the original is not touched), put in eval mode (no dropout
noise), and a scalar loss is formed from its output: ``loss_fn(output, target)`` when given,
else a fixed random projection of the output (a plain sum would hide errors that cancel).
For each parameter, up to ``max_checks`` entries are perturbed by ±``eps``; the relative error
``(|a - n| - r) / max(|a|, |n|, tiny)`` is reported as its maximum over the checked entries,
where ``r`` is the rounding error a central difference carries in float64 (``ROUNDING_ULPS``
units of ``|loss| / eps``): below it, two correct gradients can differ by a CPU's summation
order alone, so it is not counted. The default ``eps = 1e-5`` sits near the step that balances
rounding (∝ 1/eps) against truncation (∝ eps²). Verdicts use the usual bands:

=============  ==========  ======================================================
max rel. error  verdict     meaning
=============  ==========  ======================================================
≤ 1e-7          excellent   the gradient is right
≤ 1e-5          good        right; small float error (kinks such as ReLU's at 0)
≤ 1e-3          suspect     probably right only if the model has kinks; look closer
> 1e-3          wrong       the backward pass is wrong
=============  ==========  ======================================================

>>> report = gradcheck(model, x, target=y, loss_fn=nn.CrossEntropyLoss())
>>> print(report); assert report.passed
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.tools._torch import require_torch

__all__ = ["BANDS", "ROUNDING_ULPS", "GradCheckReport", "ParamCheck", "gradcheck", "verdict"]

BANDS: tuple[tuple[float, str], ...] = ((1e-7, "excellent"), (1e-5, "good"), (1e-3, "suspect"))
_ORDER = ("excellent", "good", "suspect", "wrong")
#: The loss's float64 rounding, in units of its last place, that a finite difference may carry:
#: a few for the sums of a small network's forward pass, with a margin for other CPUs' kernels.
ROUNDING_ULPS = 8.0
_FLOAT64_EPS = float(np.finfo(np.float64).eps)


def verdict(rel_error: float) -> str:
    """The band of a relative error: excellent, good, suspect or wrong (NaN is wrong)."""
    for bound, name in BANDS:
        if rel_error <= bound:
            return name
    return "wrong"


@dataclass(frozen=True)
class ParamCheck:
    name: str
    shape: tuple[int, ...]
    checked: int
    max_rel_error: float
    mean_rel_error: float
    verdict: str


@dataclass(frozen=True)
class GradCheckReport:
    params: tuple[ParamCheck, ...]
    eps: float

    @property
    def verdict(self) -> str:
        """The worst verdict over all parameters."""
        return max((p.verdict for p in self.params), key=_ORDER.index, default="excellent")

    @property
    def passed(self) -> bool:
        """True unless some parameter is ``wrong`` (pass ``strict`` bands yourself if needed)."""
        return self.verdict != "wrong"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "eps": self.eps,
            "params": [
                {
                    "name": p.name,
                    "shape": list(p.shape),
                    "checked": p.checked,
                    "max_rel_error": p.max_rel_error,
                    "mean_rel_error": p.mean_rel_error,
                    "verdict": p.verdict,
                }
                for p in self.params
            ],
        }

    def __str__(self) -> str:
        width = max([len(p.name) for p in self.params] + [9])
        lines = [f"{'parameter':<{width}}  {'checked':>7}  {'max rel err':>11}  verdict"]
        for p in self.params:
            lines.append(
                f"{p.name:<{width}}  {p.checked:>7}  {p.max_rel_error:>11.2e}  {p.verdict}"
            )
        lines.append(f"overall: {self.verdict}")
        return "\n".join(lines)


def _cast(obj: Any, torch: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.double() if obj.is_floating_point() else obj
    if isinstance(obj, list | tuple):
        return type(obj)(_cast(o, torch) for o in obj)
    return obj


def gradcheck(
    module: Any,
    inputs: Any,
    *,
    target: Any = None,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    eps: float = 1e-5,
    max_checks: int = 20,
    params: Sequence[str] | None = None,
    seed: int = 0,
) -> GradCheckReport:
    """Compare autograd with central differences for each parameter of ``module`` (float64).

    ``inputs`` is a tensor or a tuple of tensors passed as ``module(*inputs)``; ``params``
    limits the check to those parameter names; ``max_checks`` entries per parameter are chosen
    at random (seeded) so large layers stay quick.
    """
    torch = require_torch()
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgumentError(f"gradcheck needs a torch.nn.Module, got {module!r}.")
    if not (isinstance(eps, float) and 0 < eps < 1e-1):
        raise InvalidArgumentError(f"gradcheck: eps must be a float in (0, 0.1), got {eps!r}.")
    if isinstance(max_checks, bool) or not isinstance(max_checks, int) or max_checks < 1:
        raise InvalidArgumentError(f"gradcheck: max_checks must be >= 1, got {max_checks!r}.")
    model = copy.deepcopy(module).double().eval()
    args = _cast(inputs if isinstance(inputs, tuple | list) else (inputs,), torch)
    tgt = _cast(target, torch)
    named = dict(model.named_parameters())
    names = (
        list(params) if params is not None else [n for n, p in named.items() if p.requires_grad]
    )
    unknown = [n for n in names if n not in named]
    if unknown:
        raise InvalidArgumentError(f"gradcheck: no parameter named {unknown}; have {list(named)}.")
    if not names:
        raise InvalidArgumentError("gradcheck: the module has no trainable parameter.")
    gen = torch.Generator().manual_seed(seed)
    projection: list[Any] = []

    def loss() -> Any:
        out = model(*args)
        if loss_fn is not None:
            return loss_fn(out, tgt) if tgt is not None else loss_fn(out)  # type: ignore[call-arg]
        if not projection:
            projection.append(torch.randn(out.shape, generator=gen, dtype=out.dtype))
        return (out * projection[0]).sum()

    model.zero_grad(set_to_none=True)
    value = loss()
    if value.dim() != 0:
        raise InvalidArgumentError(
            f"gradcheck: the loss must be a scalar, got shape {tuple(value.shape)}."
        )
    value.backward()
    rng = np.random.default_rng(seed)
    rows = []
    for name in names:
        p = named[name]
        analytic = (torch.zeros_like(p) if p.grad is None else p.grad.detach().clone()).reshape(-1)
        flat = p.data.view(-1)
        count = flat.numel()
        idx = rng.choice(count, size=min(max_checks, count), replace=False)
        errors = []
        with torch.no_grad():
            for i in idx:
                i = int(i)
                orig = float(flat[i])
                flat[i] = orig + eps
                up = float(loss())
                flat[i] = orig - eps
                down = float(loss())
                flat[i] = orig
                numeric = (up - down) / (2 * eps)
                a = float(analytic[i])
                scale = max(abs(a), abs(numeric))
                rounding = ROUNDING_ULPS * _FLOAT64_EPS * max(abs(up), abs(down)) / eps
                excess = max(abs(a - numeric) - rounding, 0.0)
                errors.append(0.0 if scale < 1e-12 else excess / scale)
        err = np.asarray(errors)
        worst = float(np.nanmax(err)) if not np.isnan(err).all() else float("nan")
        if np.isnan(err).any():
            worst = float("nan")
        rows.append(
            ParamCheck(
                name=name,
                shape=tuple(p.shape),
                checked=len(idx),
                max_rel_error=worst,
                mean_rel_error=float(np.mean(err)),
                verdict=verdict(worst),
            )
        )
    return GradCheckReport(params=tuple(rows), eps=eps)
