"""A Gaussian process over (configuration, resource), fitted on every reported point.

Each learning curve contributes its value at a few resources (the rungs, full training and
its last report), stopped and paused trials included, so a configuration that was dropped
after two epochs still tells the model something (MOBSTER, Klein et al. 2020;
Hyper-Tune, Li et al. 2022). The resource is one more input, ``log(1 + r) / log(1 + max)``
in ``[0, 1]``, with its own length scale: the fitted model learns how far low-resource values
predict full training. New configurations maximise expected improvement at full training.

The model only sees what it is handed (points of the unit cube and their curves), never a
study; the fitting cost is bounded by ``max_points`` and by refitting the kernel's
hyperparameters only when the data grew by half since the last fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from hypersearch.samplers.gp.acquisition import log_ei
from hypersearch.samplers.gp.model import GaussianProcess, fit_gp
from hypersearch.schedulers.curves import curve_value, value_at

__all__ = ["Curve", "CurveModel"]

#: Refit the kernel's hyperparameters once the data grew by this factor since the last fit.
_REFIT_GROWTH = 1.5
#: Proposals: candidates perturb the ``LOCAL_TOP`` configurations predicted best by a normal
#: step of ``LOCAL_SCALE`` (unit cube). 0.25 since 2026-12-06 (0.08 before): on fresh
#: development seeds the gap at 1/5, 1/2, full fell by 0.06 / 0.07 / 0.07 (LCBench 0.09 /
#: 0.06 / 0.06); a step of 0.04 was worse by 0.21 (bench/RESULTS-multifidelity.md).
LOCAL_TOP = 5
LOCAL_SCALE = 0.25
#: Candidates per proposal: ``CANDIDATES`` uniform draws and half as many perturbations.
CANDIDATES = 256
#: Random starts of the kernel's hyperparameter fit besides the prior's centre.
FIT_RESTARTS = 0
#: What a curve contributes at a resource: "at" (its value there) or "best" (its best value
#: so far, the rule before 2026-12-05): with "best" a fidelity whose early values mislead (a
#: tree's error on 5% of the data) entered the model as the value at full training.
#: Development half of the benchmark, gap at 1/5, 1/2, full: 1.41/0.89/0.57 vs 1.47/0.96/0.69.
CURVE_VALUE = "at"
#: How a proposal is chosen among the candidates: "ei" (expected improvement at full
#: training), "ts" (the lowest of one joint posterior sample: Thompson sampling), or a number
#: p in [0, 1]: Thompson sampling with probability p, else expected improvement.
ACQUISITION = "ei"
#: How values enter the GP: "rank" (ranks to normal quantiles) or "zscore" (standardised
#: values, their magnitudes kept).
TRANSFORM = "rank"
#: Two encoded configurations closer than this in every coordinate are the same one.
_SAME = 1e-9


@dataclass(frozen=True)
class Curve:
    """One configuration (a point of the unit cube) and its learning curve (resource ->
    value, to be minimised)."""

    x: np.ndarray
    values: Mapping[int, float]


def _curve_value(values: Mapping[int, float], resource: int) -> float | None:
    """The curve's value at ``resource`` (its first report at a step >= ``resource``), or with
    ``CURVE_VALUE = "best"`` the best (lowest) value up to that step; None if never reached.
    ``values`` holds finite values only (``CurveModel.points`` drops the rest)."""
    if CURVE_VALUE == "at":
        return value_at(values, resource)
    return curve_value(values, resource, minimize=True)


class CurveModel:
    """GP surrogate of the (minimised) value at ``(x, resource)``.

    ``levels``: the resources at which curves are summarised (rungs and ``max_resource``).
    """

    def __init__(
        self,
        max_resource: int,
        levels: Sequence[int],
        *,
        max_points: int = 150,
        maxiter: int = 30,
    ) -> None:
        self.max_resource = int(max_resource)
        self.levels = sorted({int(r) for r in levels if 0 < r <= max_resource} | {max_resource})
        self.max_points = int(max_points)
        self.maxiter = int(maxiter)
        self._theta: tuple[np.ndarray, float, float] | None = None
        self._fitted_on = 0
        self.gp: GaussianProcess | None = None
        self._y_sorted: np.ndarray | None = None

    # data -------------------------------------------------------------------------------
    def _t(self, resource: float) -> float:
        r = min(max(float(resource), 0.0), float(self.max_resource))
        return math.log1p(r) / math.log1p(self.max_resource)

    def points(self, curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray]:
        """Inputs ``[x, t(resource)]`` and values: each curve's best value so far at each
        level it reached and at its last report; the highest resources first when capped."""
        rows: list[tuple[float, int, np.ndarray, float]] = []
        for i, c in enumerate(curves):
            finite = {s: v for s, v in c.values.items() if math.isfinite(v)}
            if not finite:
                continue
            last = max(finite)
            marks = [r for r in self.levels if r <= last]
            if not marks or marks[-1] != min(last, self.max_resource):
                marks.append(min(last, self.max_resource))
            for r in marks:
                v = _curve_value(finite, r)
                if v is not None:
                    rows.append((self._t(r), i, c.x, v))
        # cap: keep the most informative (highest-resource, then latest) points
        rows.sort(key=lambda p: (-p[0], -p[1]))
        rows = rows[: self.max_points]
        if not rows:
            return np.zeros((0, 0)), np.zeros(0)
        x = np.array([np.append(x, t) for t, _, x, _ in rows], dtype=float)
        y = np.array([v for *_, v in rows], dtype=float)
        return x, y

    def _transform(self, y: np.ndarray) -> np.ndarray:
        """Ranks to standard-normal quantiles: robust to diverged curves and to scale (with
        ``TRANSFORM = "zscore"``, the standardised values)."""
        if TRANSFORM == "zscore":
            return np.asarray((y - y.mean()) / (y.std() or 1.0), dtype=float)
        order = y.argsort(kind="stable").argsort(kind="stable")
        return np.asarray(ndtri((order + 0.5) / len(y)), dtype=float)

    # fitting ----------------------------------------------------------------------------
    def fit(self, curves: Sequence[Curve], rng: np.random.Generator) -> bool:
        """Fit on ``curves``; False when there are too few points (fewer than 3 curves)."""
        useful = [c for c in curves if any(math.isfinite(v) for v in c.values.values())]
        if len(useful) < 3:
            self.gp = None
            return False
        x, y_raw = self.points(useful)
        y = self._transform(y_raw)
        empty = np.zeros((len(y), 0), dtype=int)
        n_raw = sum(len(c.values) for c in useful)
        if self._theta is None or n_raw >= _REFIT_GROWTH * self._fitted_on:
            gp = fit_gp(x, empty, y, rng, restarts=FIT_RESTARTS, maxiter=self.maxiter)
            self._theta = (gp.lengthscales, gp.signal, gp.noise)
            self._fitted_on = n_raw
            self.gp = gp
        else:
            ls, signal, noise = self._theta
            self.gp = GaussianProcess(x, empty, y, ls, signal, noise)
        return True

    def _gp_inputs(self, x: np.ndarray, resource: float) -> tuple[GaussianProcess, np.ndarray]:
        """The fitted GP and configurations ``x`` (rows) with the resource appended."""
        if self.gp is None:
            raise RuntimeError("CurveModel used before a successful fit().")
        x = np.atleast_2d(x)
        return self.gp, np.hstack([x, np.full((len(x), 1), self._t(resource))])

    def predict(self, x: np.ndarray, resource: float) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (transformed scale) at configurations ``x`` (rows)."""
        gp, xt = self._gp_inputs(x, resource)
        return gp.predict(xt, np.zeros((len(xt), 0), dtype=int))

    def chance_to_beat(self, x: np.ndarray, incumbents: np.ndarray) -> np.ndarray:
        """Probability that each configuration of ``x`` ends better at full training than the
        best predicted of ``incumbents`` (configurations trained in full)."""
        best = float(self.predicted_final(incumbents).min())
        mean, var = self.predict(x, self.max_resource)
        return np.asarray(ndtr((best - mean) / np.sqrt(np.maximum(var, 1e-12))))

    # proposals --------------------------------------------------------------------------
    def propose(
        self,
        observed: np.ndarray,
        rng: np.random.Generator,
        *,
        n_random: int | None = None,
        n_local: int | None = None,
        resource: float | None = None,
        snap: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """The candidate with the highest expected improvement at ``resource`` (default: full
        training) over the best predicted value there of the ``observed`` configurations;
        candidates are uniform draws and perturbations of the five configurations predicted
        best.

        ``snap`` maps candidates to the points their configurations encode to (integers and
        choices take one value per cell): candidates are scored there, and one whose
        configuration was already tried is passed over — on a deterministic objective a
        repeat teaches nothing and costs a training (corners of integer spaces drew the same
        configuration again and again)."""
        d = observed.shape[1]
        n_random = CANDIDATES if n_random is None else n_random
        n_local = CANDIDATES // 2 if n_local is None else n_local
        at = self.max_resource if resource is None else resource
        mean_obs, _ = self.predict(observed, at)
        best = float(mean_obs.min())
        top = observed[np.argsort(mean_obs)[:LOCAL_TOP]]
        picks = top[rng.integers(0, len(top), n_local)]
        local = picks + rng.normal(0.0, LOCAL_SCALE, (n_local, d))
        cand = np.clip(np.vstack([rng.random((n_random, d)), local]), 0.0, 1.0 - 1e-12)
        if snap is not None:
            cand = snap(cand)
        if ACQUISITION == "ts" or (
            not isinstance(ACQUISITION, str) and rng.random() < float(ACQUISITION)
        ):
            score = -self._joint_sample(cand, at, rng)
        else:
            mean, var = self.predict(cand, at)
            score = log_ei(mean, var, best)
        if snap is not None:
            tried = (np.abs(cand[:, None, :] - observed[None, :, :]) <= _SAME).all(axis=2)
            score = np.where(tried.any(axis=1), -np.inf, score)
            if not np.isfinite(score).any():  # every candidate was tried: a fresh random one
                return np.asarray(snap(rng.random((1, d)))[0])
        return np.asarray(cand[int(np.argmax(score))])

    def _joint_sample(
        self, x: np.ndarray, resource: float, rng: np.random.Generator
    ) -> np.ndarray:
        """One draw of the posterior at configurations ``x`` jointly (transformed scale)."""
        gp, xt = self._gp_inputs(x, resource)
        mean, cov = gp.predict_joint(xt, np.zeros((len(xt), 0), dtype=int))
        w, v = np.linalg.eigh((cov + cov.T) / 2.0)
        return np.asarray(mean + v @ (np.sqrt(np.maximum(w, 0.0)) * rng.normal(size=len(w))))

    def predicted_final(self, x: np.ndarray) -> np.ndarray:
        """Posterior mean at full training (transformed scale; lower is better)."""
        return self.predict(x, self.max_resource)[0]
