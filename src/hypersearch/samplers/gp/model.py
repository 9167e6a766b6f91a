"""A Gaussian process with a Matérn-5/2 ARD kernel on mixed (continuous + categorical) inputs.

Continuous inputs live in ``[0, 1]``; categorical ones are integer codes compared by equality
(a Hamming distance with its own length scale per parameter), which is how one-hot encoding
behaves in a stationary kernel without the extra dimensions. Hyperparameters (length scales,
signal and noise variance) are fitted by maximising the marginal likelihood plus log priors,
with analytic gradients, L-BFGS-B and a few restarts. The length-scale prior grows with the
dimension (``LogNormal(√2 + log(D)/2, √3)``, Hvarfner et al. 2024), which keeps the model
sensible at 20 dimensions with few points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

__all__ = ["GaussianProcess", "fit_gp"]

_SQRT5 = math.sqrt(5.0)
_JITTER = 1e-8
_LOG_LS_BOUNDS = (math.log(5e-3), math.log(50.0))
_LOG_SF2_BOUNDS = (math.log(0.05), math.log(20.0))
_LOG_SN2_BOUNDS = (math.log(1e-6), math.log(0.5))
_NOISE_PRIOR = (-8.0, 1.5)  # log noise variance ~ N(mean, sd), outputs standardised
_SIGNAL_PRIOR = (0.0, 1.0)
_LS_PRIOR = "gamma"  # or "symmetric"
_LS_RATE = (1.0 / 16.0, 0.1)  # Gamma rate on 1/ls^2: a + b * dimensions


def _scaled_sq(
    xc_a: np.ndarray, xk_a: np.ndarray, xc_b: np.ndarray, xk_b: np.ndarray, ls: np.ndarray
) -> np.ndarray:
    """Per-dimension scaled squared distances, shape (p, n_a, n_b)."""
    dc = xc_a.shape[1]
    parts = []
    if dc:
        diff = (xc_a[:, None, :] - xc_b[None, :, :]) / ls[:dc]
        parts.append(np.moveaxis(diff * diff, 2, 0))
    if xk_a.shape[1]:
        neq = (xk_a[:, None, :] != xk_b[None, :, :]).astype(float) / ls[dc:] ** 2
        parts.append(np.moveaxis(neq, 2, 0))
    if not parts:
        return np.zeros((0, xc_a.shape[0], xc_b.shape[0]))
    return np.concatenate(parts, axis=0)


def _matern52(r: np.ndarray) -> np.ndarray:
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-_SQRT5 * r)


@dataclass
class GaussianProcess:
    """A fitted GP: ``predict`` gives the posterior mean and variance at new points."""

    xc: np.ndarray
    xk: np.ndarray
    y: np.ndarray
    lengthscales: np.ndarray
    signal: float
    noise: float

    def __post_init__(self) -> None:
        self._factor()

    def _factor(self) -> None:
        sq = _scaled_sq(self.xc, self.xk, self.xc, self.xk, self.lengthscales).sum(axis=0)
        k = self.signal * _matern52(np.sqrt(sq)) + (self.noise + _JITTER) * np.eye(len(self.y))
        self._chol = cho_factor(k, lower=True)
        self._alpha = cho_solve(self._chol, self.y)

    def _embed(self, xc: np.ndarray, xk: np.ndarray) -> np.ndarray:
        """Points as vectors whose squared Euclidean distances are the kernel's: continuous
        coordinates over their length scales, categories one-hot over ``√2`` length scale."""
        dc = xc.shape[1]
        parts = [xc / self.lengthscales[:dc]]
        for j in range(xk.shape[1]):
            k = int(max(self.xk[:, j].max(initial=0), xk[:, j].max(initial=0))) + 1
            onehot = np.zeros((len(xk), k))
            onehot[np.arange(len(xk)), xk[:, j].astype(int)] = 1.0
            parts.append(onehot / (math.sqrt(2.0) * self.lengthscales[dc + j]))
        return np.hstack(parts)

    def distances(
        self, xc_a: np.ndarray, xk_a: np.ndarray, xc_b: np.ndarray, xk_b: np.ndarray
    ) -> np.ndarray:
        """Distances between two sets of points in the kernel's own metric (each length
        scale is one unit; a differing category counts one of its length scales)."""
        both = self._embed(np.vstack([xc_a, xc_b]), np.vstack([xk_a, xk_b]))
        return np.asarray(np.sqrt(cdist(both[: len(xc_a)], both[len(xc_a) :], "sqeuclidean")))

    def kernel(self, xc: np.ndarray, xk: np.ndarray) -> np.ndarray:
        both = self._embed(np.vstack([xc, self.xc]), np.vstack([xk, self.xk]))
        sq = cdist(both[: len(xc)], both[len(xc) :], "sqeuclidean")
        return self.signal * _matern52(np.sqrt(sq))

    def predict(self, xc: np.ndarray, xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ks = self.kernel(xc, xk)
        mean = ks @ self._alpha
        v = solve_triangular(self._chol[0], ks.T, lower=True, check_finite=False)
        var = np.maximum(self.signal - np.sum(v * v, axis=0), 1e-12)
        return mean, var

    def predict_joint(self, xc: np.ndarray, xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and full covariance at the given points (for joint samples, as
        Thompson sampling draws them)."""
        n = len(xc)
        both = self._embed(np.vstack([xc, self.xc]), np.vstack([xk, self.xk]))
        k = self.signal * _matern52(np.sqrt(cdist(both[:n], both, "sqeuclidean")))
        kss, ks = k[:, :n], k[:, n:]  # among the points, and to the training points
        mean = ks @ self._alpha
        v = solve_triangular(self._chol[0], ks.T, lower=True, check_finite=False)
        return mean, kss - v.T @ v

    def predict_with_grad(
        self, xc: np.ndarray, xk: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean and variance with their gradients in the continuous coordinates
        (shape ``(points, continuous dims)``), for gradient-based acquisition search."""
        both = self._embed(np.vstack([xc, self.xc]), np.vstack([xk, self.xk]))
        r = np.sqrt(cdist(both[: len(xc)], both[len(xc) :], "sqeuclidean"))
        ks = self.signal * _matern52(r)
        # dk/dx_c = -signal * 5/3 * (1 + sqrt5 r) exp(-sqrt5 r) * (x_c - x_i,c) / ls_c^2
        g = -self.signal * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * np.exp(-_SQRT5 * r)
        dc = xc.shape[1]
        diff = (xc[:, None, :] - self.xc[None, :, :]) / self.lengthscales[:dc] ** 2
        dk = g[:, :, None] * diff  # (points, train, dims)
        mean = ks @ self._alpha
        w = cho_solve(self._chol, ks.T, check_finite=False)  # K^-1 k, (train, points)
        var = np.maximum(self.signal - np.sum(ks.T * w, axis=0), 1e-12)
        dmean = np.einsum("ptd,t->pd", dk, self._alpha)
        dvar = -2.0 * np.einsum("ptd,tp->pd", dk, w)
        return mean, var, dmean, dvar

    def condition_on(self, xc: np.ndarray, xk: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The same hyperparameters with extra (e.g. fantasised) observations."""
        return GaussianProcess(
            np.vstack([self.xc, xc]),
            np.vstack([self.xk, xk]),
            np.concatenate([self.y, y]),
            self.lengthscales,
            self.signal,
            self.noise,
        )


def _neg_log_posterior(
    theta: np.ndarray, d2: np.ndarray, y: np.ndarray, ls_prior: tuple[float, float]
) -> tuple[float, np.ndarray]:
    p = d2.shape[0]
    log_ls, log_sf2, log_sn2 = theta[:p], float(theta[p]), float(theta[p + 1])
    ls2 = np.exp(2.0 * log_ls)
    scaled = d2 / ls2[:, None, None]
    r = np.sqrt(np.maximum(scaled.sum(axis=0), 0.0))
    sf2, sn2 = math.exp(log_sf2), math.exp(log_sn2)
    e = np.exp(-_SQRT5 * r)
    kf = sf2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
    n = len(y)
    k = kf + (sn2 + _JITTER) * np.eye(n)
    try:
        chol = cho_factor(k, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve(chol, y, check_finite=False)
    nll = (
        0.5 * float(y @ alpha)
        + float(np.sum(np.log(np.diag(chol[0]))))
        + 0.5 * n * math.log(2 * math.pi)
    )
    w = np.outer(alpha, alpha) - cho_solve(chol, np.eye(n), check_finite=False)
    grad = np.empty_like(theta)
    common = sf2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e  # dK/dlog(ls_i) = common * scaled_i
    grad[:p] = -0.5 * np.einsum("ij,pij->p", w * common, scaled)
    grad[p] = -0.5 * float(np.sum(w * kf))
    grad[p + 1] = -0.5 * sn2 * float(np.trace(w))
    # log priors (Gaussian on the log parameters)
    # Gamma(alpha, beta) on the inverse squared length scales lam = 1 / ls^2, as a density
    # over log(ls): alpha * log(lam) - beta * lam. Short length scales (wiggly fits of a
    # few points) cost a lot, long ones (irrelevant dimensions) little.
    alpha, beta = ls_prior
    lam = 1.0 / ls2
    if _LS_PRIOR == "symmetric":
        # -(0.1 / lam + 0.1 * lam): as costly at ls = 0.1 as at ls = 10, mode at ls = 1
        nll += float(np.sum(0.1 / lam + 0.1 * lam))
        grad[:p] += 0.2 / lam - 0.2 * lam
    else:
        nll -= float(np.sum(alpha * np.log(lam) - beta * lam))
        grad[:p] -= -2.0 * alpha + 2.0 * beta * lam
    nll += (log_sf2 - _SIGNAL_PRIOR[0]) ** 2 / (2 * _SIGNAL_PRIOR[1] ** 2)
    grad[p] += (log_sf2 - _SIGNAL_PRIOR[0]) / _SIGNAL_PRIOR[1] ** 2
    nll += (log_sn2 - _NOISE_PRIOR[0]) ** 2 / (2 * _NOISE_PRIOR[1] ** 2)
    grad[p + 1] += (log_sn2 - _NOISE_PRIOR[0]) / _NOISE_PRIOR[1] ** 2
    return nll, grad


def fit_gp(
    xc: np.ndarray,
    xk: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    restarts: int = 1,
    maxiter: int = 80,
) -> GaussianProcess:
    """Fit hyperparameters by maximum a posteriori marginal likelihood (L-BFGS-B, analytic
    gradients) from the prior's centre plus ``restarts`` random starts drawn from ``rng``."""
    n = len(y)
    d2 = _scaled_sq(xc, xk, xc, xk, np.ones(xc.shape[1] + xk.shape[1]))
    p = d2.shape[0]
    # Mode of the length scales at sqrt(alpha / beta): about 0.35 in 2-d, 0.65 in 10-d, 0.9
    # in 20-d of the unit cube (wider spaces need smoother models, Hvarfner et al. 2024).
    ls_prior = (2.0, _LS_RATE[0] * max(p, 1) + _LS_RATE[1])
    bounds = [_LOG_LS_BOUNDS] * p + [_LOG_SF2_BOUNDS, _LOG_SN2_BOUNDS]
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    mode = 0.5 * math.log(ls_prior[1] / ls_prior[0])  # log length scale at the prior's mode
    centre = np.concatenate([np.full(p, mode), [0.0, _NOISE_PRIOR[0]]])
    starts = [np.clip(centre, lo, hi)]
    for _ in range(restarts):
        s = centre + rng.normal(0.0, 1.0, size=p + 2) * np.concatenate(
            [np.full(p, 1.0), [0.5, 1.0]]
        )
        starts.append(np.clip(s, lo, hi))
    best: tuple[float, np.ndarray] | None = None
    for s in starts:
        with np.errstate(all="ignore"):
            res = minimize(
                _neg_log_posterior,
                s,
                args=(d2, y, ls_prior),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": maxiter},
            )
        if np.all(np.isfinite(res.x)) and (best is None or res.fun < best[0]):
            best = (float(res.fun), res.x)
    theta = best[1] if best is not None else starts[0]
    del n
    return GaussianProcess(
        xc, xk, y, np.exp(theta[:p]), float(math.exp(theta[p])), float(math.exp(theta[p + 1]))
    )
