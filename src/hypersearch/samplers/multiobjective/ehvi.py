"""Expected hypervolume improvement (EHVI) on one Gaussian process per objective.

Each objective's losses get a GP fitted as ``GPSampler`` fits its one (same input layout,
value transform and hyperparameter fit). The acquisition is the log of the expected
hypervolume the candidate adds to the feasible front, computed exactly: the non-dominated
region is split into disjoint boxes (``boxes.nondominated_boxes``), and with independent
Gaussian posteriors each box contributes ``Π_j σ_j (h(z_uj) - h(z_lj))``, where
``h(z) = φ(z) + zΦ(z)`` and ``z = (bound - μ) / σ`` (Emmerich et al. 2006; Yang et al. 2019).
Sums and products are taken in logs, so the acquisition keeps a gradient far from the
front. Infeasible trials train the GP sampler's feasibility model, whose log-probability
is added; with no feasible trial yet, ParEGO's violation minimisation is used instead.

The reference point, in each objective's transformed (standardised) units, is by default
(``reference="front"``) the worst value on the feasible Pareto front (its nadir) plus 10%
of the front's range, as BoTorch infers one: improvement is counted where the front is,
not out towards the worst trials. ``reference="observed"`` takes the worst feasible value
plus 10% of that objective's range instead (1.1 per objective in the [0, 1] scaling ParEGO
uses); on the development half of the benchmark it spent most early trials on the front's
extremes (bench/RESULTS-multiobjective.md). A range of 0 gives a margin of 1 unit.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from scipy.special import log_ndtr

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.pareto import pareto_mask
from hypersearch.samplers.base import EncodingCache, Sampler, SamplingContext, trial_rng
from hypersearch.samplers.gp import GPSampler
from hypersearch.samplers.gp.acquisition import log_h
from hypersearch.samplers.gp.candidates import (
    FeasibilityModel,
    InputLayout,
    feasibility_model,
    maximise_acquisition,
)
from hypersearch.samplers.gp.model import GaussianProcess, fit_gp
from hypersearch.samplers.gp.sampler import standardised_losses
from hypersearch.samplers.multiobjective.boxes import nondominated_boxes
from hypersearch.samplers.multiobjective.history import (
    MOObservations,
    directions_of,
    good_order,
    mo_observations,
)
from hypersearch.samplers.multiobjective.parego import ParEGOSampler
from hypersearch.samplers.multiobjective.tpe import MOTPESampler
from hypersearch.samplers.sobol import SobolSampler
from hypersearch.space import Choice, Param, Space

__all__ = ["EHVIAcquisition", "EHVISampler", "log_ehvi"]

logger = logging.getLogger("hypersearch")

#: The reference point's margin beyond the worst value, as a fraction of the range.
REFERENCE_MARGIN = 0.1
REFERENCES = ("observed", "front")
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends (``-inf`` at 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


class _BoxTerms:
    """Per candidate, per box and objective: ``log T = log σ (h(z_u) - h(z_l))`` and, with
    gradients, ``d log T / dμ`` and ``d log T / dσ``. Bounds are gathered from the few
    distinct values each objective's boxes use, so the special functions run on
    ``candidates x distinct values`` only."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.m = lower.shape[1]
        self.values: list[np.ndarray] = []
        self.lo_idx: list[np.ndarray] = []
        self.up_idx: list[np.ndarray] = []
        for j in range(self.m):
            vals, inv = np.unique(np.concatenate([lower[:, j], upper[:, j]]), return_inverse=True)
            self.values.append(vals)  # -inf, if present, sorts first
            self.lo_idx.append(inv[: len(lower)])
            self.up_idx.append(inv[len(lower) :])

    def log_terms(
        self, mean: np.ndarray, sd: np.ndarray, grad: bool
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``log T`` of shape (n, boxes, m), and its derivatives in μ and σ if ``grad``."""
        n = len(mean)
        k = len(self.lo_idx[0])
        log_t = np.empty((n, k, self.m))
        d_mu = np.empty((n, k, self.m)) if grad else None
        d_sd = np.empty((n, k, self.m)) if grad else None
        for j in range(self.m):
            s = sd[:, j : j + 1]
            with np.errstate(invalid="ignore"):
                z = (self.values[j][None, :] - mean[:, j : j + 1]) / s
            finite = np.isfinite(self.values[j])
            lg = np.full(z.shape, -np.inf)
            lg[:, finite] = np.log(s) + log_h(z[:, finite])
            lu, ll = lg[:, self.up_idx[j]], lg[:, self.lo_idx[j]]
            with np.errstate(invalid="ignore"):
                lt = lu + _log1mexp(ll - lu)
            log_t[:, :, j] = lt
            if not grad:
                continue
            assert d_mu is not None and d_sd is not None
            lp = np.full(z.shape, -np.inf)  # log Φ(z)
            lp[:, finite] = log_ndtr(z[:, finite])
            lphi = np.full(z.shape, -np.inf)  # log φ(z)
            lphi[:, finite] = -0.5 * z[:, finite] ** 2 - _LOG_SQRT_2PI
            with np.errstate(over="ignore", invalid="ignore"):
                dphi_cdf = np.exp(np.minimum(lp[:, self.up_idx[j]] - lt, 700.0)) - np.exp(
                    np.minimum(lp[:, self.lo_idx[j]] - lt, 700.0)
                )
                dphi_pdf = np.exp(np.minimum(lphi[:, self.up_idx[j]] - lt, 700.0)) - np.exp(
                    np.minimum(lphi[:, self.lo_idx[j]] - lt, 700.0)
                )
            d_mu[:, :, j] = np.where(np.isfinite(lt), -dphi_cdf, 0.0)
            d_sd[:, :, j] = np.where(np.isfinite(lt), dphi_pdf, 0.0)
        return log_t, d_mu, d_sd


def log_ehvi(mean: np.ndarray, sd: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """log E[hypervolume improvement] of independent Gaussian losses (``mean``/``sd`` of
    shape (n, m)) over the non-dominated boxes ``lower``/``upper`` (``nondominated_boxes``)."""
    log_t, _, _ = _BoxTerms(lower, upper).log_terms(mean, sd, grad=False)
    return _logsumexp(log_t.sum(axis=2))


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = np.max(a, axis=1)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(np.exp(a - safe[:, None]).sum(axis=1)) + safe)


class EHVIAcquisition:
    """log EHVI under the objectives' GPs plus log P(feasible), on candidate arrays
    (continuous coordinates, category codes); ``with_grad`` adds the gradient in the
    continuous ones. Infinitely bad values are floored so the optimiser sees numbers."""

    FLOOR = -1e10

    def __init__(
        self,
        gps: list[GaussianProcess],
        lower: np.ndarray,
        upper: np.ndarray,
        feas: FeasibilityModel | None,
    ) -> None:
        self.gps, self.feas = gps, feas
        self.terms = _BoxTerms(lower, upper)

    def _posterior(self, cc: np.ndarray, ck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = [gp.predict(cc, ck) for gp in self.gps]
        mean = np.stack([p[0] for p in parts], axis=1)
        sd = np.sqrt(np.maximum(np.stack([p[1] for p in parts], axis=1), 1e-18))
        return mean, sd

    def __call__(self, cc: np.ndarray, ck: np.ndarray) -> np.ndarray:
        mean, sd = self._posterior(cc, ck)
        log_t, _, _ = self.terms.log_terms(mean, sd, grad=False)
        a = np.maximum(_logsumexp(log_t.sum(axis=2)), self.FLOOR)
        return a if self.feas is None else a + self.feas(cc, ck)

    def with_grad(self, cc: np.ndarray, ck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = [gp.predict_with_grad(cc, ck) for gp in self.gps]
        mean = np.stack([p[0] for p in parts], axis=1)
        var = np.maximum(np.stack([p[1] for p in parts], axis=1), 1e-18)
        sd = np.sqrt(var)
        log_t, d_mu, d_sd = self.terms.log_terms(mean, sd, grad=True)
        assert d_mu is not None and d_sd is not None
        per_box = log_t.sum(axis=2)
        total = _logsumexp(per_box)
        with np.errstate(invalid="ignore"):
            weight = np.exp(per_box - total[:, None])  # each box's share of the EHVI
        weight = np.where(np.isfinite(weight), weight, 0.0)
        g_mu = np.einsum("nk,nkj->nj", weight, d_mu)
        g_sd = np.einsum("nk,nkj->nj", weight, d_sd)
        grad = np.zeros_like(cc)
        for j, p in enumerate(parts):
            grad += g_mu[:, j : j + 1] * p[2] + (g_sd[:, j] / (2.0 * sd[:, j]))[:, None] * p[3]
        low = total < self.FLOOR
        a = np.maximum(total, self.FLOOR)
        grad[low] = 0.0
        grad = np.where(np.isfinite(grad), grad, 0.0)
        if self.feas is not None:
            fa, fg = self.feas.with_grad(cc, ck)
            a, grad = a + fa, grad + fg
        return a, grad


class EHVISampler(Sampler):
    """Multi-objective Bayesian optimisation by expected hypervolume improvement on one GP
    per objective (``GPSampler``'s model), constraint-aware; see the module docstring.
    Running trials are fantasised at their posterior mean (and join the front), so parallel
    workers get distinct points. Spaces of only choices use ``MOTPESampler``; a study with
    one objective uses ``GPSampler`` (EHVI is then expected improvement).

    >>> hs.create_study(space=space, directions={"acc": "maximize", "ms": "minimize"},
    ...                 sampler=hs.samplers.EHVISampler(seed=0))
    """

    name = "ehvi"

    def __init__(
        self,
        *,
        n_startup: int | None = None,
        max_points: int = 250,
        reference: str = "front",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if int(max_points) < 2:
            raise InvalidArgumentError(
                f"EHVISampler: max_points must be >= 2 (the trials each objective's GP is "
                f"fitted on), got {max_points}; the default is 250."
            )
        if reference not in REFERENCES:
            raise InvalidArgumentError(
                f"EHVISampler: reference must be one of {', '.join(map(repr, REFERENCES))}, got "
                f"{reference!r}; 'front' (the default) sets it past the worst values on the "
                "Pareto front, 'observed' past the worst feasible values."
            )
        self.n_startup = None if n_startup is None else int(n_startup)
        self.max_points = int(max_points)
        self.reference = reference
        self._gp = GPSampler(n_startup=n_startup, max_points=max_points, seed=self.seed)
        self._parego = ParEGOSampler(n_startup=n_startup, max_points=max_points, seed=self.seed)
        self._tpe = MOTPESampler(seed=self.seed)
        self._sobol = SobolSampler(seed=self.seed)
        self._cache = EncodingCache()
        self._layouts: tuple[Space, InputLayout] | None = None
        self._said: set[str] = set()

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": self.name,
            "n_startup": self.n_startup,
            "max_points": self.max_points,
        }
        if self.reference != "front":  # the default
            config["reference"] = self.reference
        return config

    def describe(self) -> str:
        return (
            "ehvi sampler: one Gaussian process per objective with log expected hypervolume "
            "improvement after a Sobol design; infeasible trials are modelled as such"
        )

    def _say(self, key: str, message: str, *args: Any) -> None:
        if key not in self._said:
            self._said.add(key)
            logger.info(message, *args)

    def _layout(self, space: Space) -> InputLayout:
        if self._layouts is None or self._layouts[0] != space:
            self._layouts = (space, InputLayout(space))
        return self._layouts[1]

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        if not len(ctx.space):
            return {}
        if len(directions_of(ctx)) == 1:
            self._say(
                "single",
                "ehvi sampler: the study has one objective, where expected hypervolume "
                "improvement is expected improvement; using the gp sampler.",
            )
            return self._gp.sample(ctx)
        if all(isinstance(p, Choice) or p.cardinality == 1 for p in ctx.space.values()):
            self._say(
                "choices",
                "ehvi sampler: every parameter is a choice, where a GP has nothing to "
                "interpolate; using multi-objective TPE for this space instead.",
            )
            return self._tpe.sample(ctx)
        obs = mo_observations(ctx, ctx.space, self._cache)
        if obs.n_told < max(self._gp.startup_trials(ctx.space), 2) or len(obs.x) < 2:
            if not len(obs.x) and len(obs.infeasible):
                self._say(
                    "infeasible",
                    "ehvi sampler: no feasible trial yet; minimising the constraint violation "
                    "(as the parego sampler does) until one is feasible.",
                )
            return self._parego.sample(ctx)
        if np.all(np.ptp(obs.losses, axis=0) == 0):
            self._say(
                "flat",
                "ehvi sampler: every feasible trial so far has the same values, so a model "
                "has nothing to rank; Sobol points until values differ.",
            )
            return self._sobol.sample(ctx)
        rng = trial_rng(self.seed, ctx.number, "ehvi")
        return ctx.space.decode(self.propose(ctx.space, obs, rng))

    def _subset(self, obs: MOObservations, rng: np.random.Generator) -> np.ndarray:
        """Indices of at most ``max_points`` feasible points: the best quarter (by front,
        then hypervolume contribution) and an even spread of the rest."""
        n = len(obs.losses)
        if n <= self.max_points:
            return np.arange(n)
        n_best = self.max_points // 4
        order = good_order(obs.losses, n_best)
        rest = np.sort(order[n_best:])
        pick = rng.choice(len(rest), size=self.max_points - n_best, replace=False)
        return np.concatenate([order[:n_best], rest[np.sort(pick)]])

    def propose(self, space: Space, obs: MOObservations, rng: np.random.Generator) -> np.ndarray:
        """One point of the unit cube maximising log EHVI (times feasibility)."""
        layout = self._layout(space)
        keep = self._subset(obs, rng)
        xc, xk = layout.features(obs.x[keep])
        m = obs.losses.shape[1]
        ys = np.column_stack([standardised_losses(obs.losses[keep, j])[0] for j in range(m)])
        restarts = 1 if len(ys) < 60 else 0
        gps = [fit_gp(xc, xk, ys[:, j], rng, restarts=restarts) for j in range(m)]
        lengthscales = np.exp(np.mean([np.log(gp.lengthscales) for gp in gps], axis=0))
        feas = feasibility_model(lengthscales, obs.x, obs.infeasible, layout)
        worst = ys.max(axis=0)
        reference = self._reference(ys)
        front = ys
        if len(obs.infeasible):  # failures look like the worst values seen: avoided
            fc, fk = layout.features(obs.infeasible)
            gps = [
                g.condition_on(fc, fk, np.full(len(fc), w))
                for g, w in zip(gps, worst, strict=True)
            ]
        if len(obs.running):  # fantasies at the posterior mean, added to the front too
            rc, rk = layout.features(obs.running)
            means = np.column_stack([g.predict(rc, rk)[0] for g in gps])
            gps = [g.condition_on(rc, rk, means[:, j]) for j, g in enumerate(gps)]
            front = np.vstack([front, means])
        lower, upper = nondominated_boxes(front, reference)
        score = EHVIAcquisition(gps, lower, upper, feas)
        best = good_order(ys, 5)[:5]
        cc, ck = maximise_acquisition(score, layout, rng, xc[best], xk[best])
        seen_c, seen_k = layout.features(np.vstack([obs.x, obs.running, obs.infeasible]))
        for i in range(len(cc)):  # the best candidate not tried yet
            same = np.all(np.isclose(seen_c, cc[i]), axis=1) & np.all(seen_k == ck[i], axis=1)
            if not same.any():
                return layout.unit(cc[i : i + 1], ck[i : i + 1])[0]
        return rng.random(layout.d)

    def _reference(self, ys: np.ndarray) -> np.ndarray:
        """The reference point for transformed losses ``ys`` (see the module docstring)."""
        span = np.ptp(ys, axis=0)
        if self.reference == "front":
            front = ys[pareto_mask(ys)]
            nadir, front_span = front.max(axis=0), np.ptp(front, axis=0)
            margin = np.where(front_span > 0, front_span, np.where(span > 0, span, 10.0))
            return np.asarray(nadir + REFERENCE_MARGIN * margin)
        return np.asarray(ys.max(axis=0) + np.where(span > 0, REFERENCE_MARGIN * span, 1.0))

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        return self._tpe.sample_one(ctx, name, param)
