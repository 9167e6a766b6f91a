"""Log expected improvement, numerically stable far into the tails (Ament et al. 2023)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

__all__ = ["log_ei", "log_ei_with_grad", "log_h"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(φ(z) + z Φ(z))`` without underflow or cancellation for very negative ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    hi = z > -1.0
    zh = z[hi]
    out[hi] = np.log(np.exp(-0.5 * zh * zh - _LOG_SQRT_2PI) + zh * ndtr(zh))
    zl = -z[~hi]  # positive
    t = math.sqrt(math.pi / 2.0) * zl * erfcx(zl / math.sqrt(2.0))
    one_minus = np.where(zl < 100.0, -np.expm1(np.log(np.maximum(t, 1e-300))), 1.0 / (zl * zl))
    out[~hi] = -0.5 * zl * zl - _LOG_SQRT_2PI + np.log(np.maximum(one_minus, 1e-300))
    return out


def log_ei(mean: np.ndarray, var: np.ndarray, best: float) -> np.ndarray:
    """log E[max(best - f, 0)] for a minimised f ~ N(mean, var)."""
    sd = np.sqrt(var)
    return np.log(sd) + log_h((best - mean) / sd)


def log_ei_with_grad(
    mean: np.ndarray, var: np.ndarray, dmean: np.ndarray, dvar: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray]:
    """``log_ei`` and its gradient, given the gradients of the posterior mean and variance.

    With ``z = (best - mean) / sd``: ``d log h / dz = Φ(z) / h(z)``, computed in logs so it
    stays finite where EI underflows."""
    sd = np.sqrt(var)
    z = (best - mean) / sd
    lh = log_h(z)
    ratio = np.exp(log_ndtr(z) - lh)  # Φ(z) / h(z)
    dsd = dvar / (2.0 * sd[:, None])
    dz = -(dmean + z[:, None] * dsd) / sd[:, None]
    return np.log(sd) + lh, dsd / sd[:, None] + ratio[:, None] * dz
