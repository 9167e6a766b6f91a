"""Tree-structured Parzen estimator: multivariate, mixed, conditional, cheap at 10k trials.

The finished trials are split into the best ``γ(n)`` ("good") and the rest ("bad"); each
group becomes a Parzen density in the unit cube (a truncated Gaussian per point for numeric
parameters, a smoothed categorical distribution for choices, jointly per point so that
interactions between parameters survive: the multivariate TPE of Falkner et al. 2018).
Candidates drawn from the good density are scored by ``log l(x) - log g(x)``; the best wins.

- **Failed trials** (exceptions, NaN, out of memory) join the bad group: the density of
  good points avoids them. Lost workers and Ctrl-C are not counted against the point.
- **Running trials** are not lied about: each ask draws its own candidates (the random
  stream is per trial number), so parallel workers get distinct points, and a candidate a
  running trial already holds is skipped. Putting running trials into the bad group (a
  "constant liar") cost quality on Hartmann-6 with 4 workers (bench/samplers/parallel.py).
- **Stopped trials** count with a loss imputed from their learning curve
  (``base.impute_stopped``), so model-based Hyperband works.
- **Define-by-run parameters** get a univariate TPE over the trials that have them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri

from hypersearch.samplers.base import (
    EncodingCache,
    Observations,
    ParamSpaces,
    Sampler,
    SamplingContext,
    observations,
    trial_rng,
)
from hypersearch.samplers.sobol import SobolSampler
from hypersearch.space import Choice, Param, Space

__all__ = ["TPESampler"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def default_gamma(n: int) -> int:
    """How many of ``n`` finished trials count as good: 10%, at most 25 (as in Optuna)."""
    return min(math.ceil(0.1 * n), 25)


class _Parzen:
    """A mixture with one component per point plus a broad prior component, in the unit
    cube; numeric coordinates get truncated Gaussians, categorical ones smoothed counts."""

    def __init__(
        self,
        points: np.ndarray,
        numeric: np.ndarray,
        choices: list[int],
        *,
        prior_weight: float = 1.0,
    ) -> None:
        n, d = points.shape
        self.numeric = numeric
        self.cat_cols = [j for j in range(d) if not numeric[j]]
        self.choices = choices
        dn = int(numeric.sum())
        self.mu = np.vstack([points[:, numeric], np.full((1, dn), 0.5)])
        sigma = 0.2 * (n + 1) ** (-1.0 / (max(dn, 1) + 4))
        self.sigma = np.vstack([np.full((n, dn), sigma), np.ones((1, dn))])
        self.log_w = np.full(n + 1, -math.log(n + 1))
        if n:
            self.log_w[:n] = math.log(1.0 / (n + prior_weight))
            self.log_w[n] = math.log(prior_weight / (n + prior_weight))
        a = (0.0 - self.mu) / self.sigma
        b = (1.0 - self.mu) / self.sigma
        self._log_z = np.log(np.maximum(ndtr(b) - ndtr(a), 1e-300))
        self.cat_logp: list[np.ndarray] = []  # per categorical column: (n + 1, k)
        for j, k in zip(self.cat_cols, choices, strict=True):
            idx = np.minimum((points[:, j] * k).astype(int), k - 1)
            probs = np.full((n + 1, k), prior_weight / k)
            probs[np.arange(n), idx] += 1.0
            probs[n] = 1.0
            self.cat_logp.append(np.log(probs / probs.sum(axis=1, keepdims=True)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        comp = rng.choice(len(self.log_w), size=size, p=np.exp(self.log_w - logsumexp(self.log_w)))
        d = len(self.numeric)
        out = np.empty((size, d))
        mu, sd = self.mu[comp], self.sigma[comp]
        lo, hi = ndtr((0.0 - mu) / sd), ndtr((1.0 - mu) / sd)
        q = lo + rng.random(mu.shape) * (hi - lo)
        out[:, self.numeric] = np.clip(mu + sd * ndtri(np.clip(q, 1e-12, 1 - 1e-12)), 0.0, 1.0)
        for c, (j, k) in enumerate(zip(self.cat_cols, self.choices, strict=True)):
            p = np.exp(self.cat_logp[c][comp])
            cum = np.cumsum(p, axis=1)
            idx = np.minimum((rng.random((size, 1)) * cum[:, -1:] > cum).sum(axis=1), k - 1)
            out[:, j] = (idx + 0.5) / k
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        xn = x[:, self.numeric]
        z = (xn[:, None, :] - self.mu[None]) / self.sigma[None]
        lp = (-0.5 * z * z - _LOG_SQRT_2PI - np.log(self.sigma)[None] - self._log_z[None]).sum(
            axis=2
        )
        for c, (j, k) in enumerate(zip(self.cat_cols, self.choices, strict=True)):
            idx = np.minimum((x[:, j] * k).astype(int), k - 1)
            lp = lp + self.cat_logp[c][:, idx].T
        return logsumexp(lp + self.log_w[None], axis=1)


def _layout(space: Space) -> tuple[np.ndarray, list[int]]:
    numeric = np.array([not isinstance(p, Choice) for p in space.values()], dtype=bool)
    choices = [p.cardinality for p in space.values() if isinstance(p, Choice)]
    return numeric, choices


def tpe_point(
    space: Space,
    obs: Observations,
    rng: np.random.Generator,
    *,
    n_candidates: int = 24,
    gamma: Any = default_gamma,
) -> np.ndarray:
    """One TPE proposal in the unit cube of ``space`` from ``obs``."""
    numeric, choices = _layout(space)
    order = np.argsort(obs.loss, kind="stable")
    n_good = max(1, int(gamma(len(order))))
    good = obs.x[order[:n_good]]
    bad = np.vstack([obs.x[order[n_good:]], obs.failed])
    l_dist = _Parzen(good, numeric, choices)
    g_dist = _Parzen(bad, numeric, choices)
    cand = l_dist.sample(rng, n_candidates)
    score = l_dist.log_pdf(cand) - g_dist.log_pdf(cand)
    if not len(obs.running):
        return cand[int(np.argmax(score))]
    taken = {_key(space, u) for u in obs.running}  # a point a running trial holds is skipped
    for i in np.argsort(-score, kind="stable"):
        if _key(space, cand[i]) not in taken:
            return cand[i]
    return rng.random(len(space))


def _key(space: Space, u: np.ndarray) -> tuple[Any, ...]:
    """The decoded parameters of a unit-cube point, hashable: equal keys, same trial."""
    return tuple(sorted((k, repr(v)) for k, v in space.decode(u).items()))


class TPESampler(Sampler):
    """Multivariate TPE with Sobol start-up; see the module docstring.

    >>> hs.create_study(space=space, sampler=hs.samplers.TPESampler(seed=0))
    """

    name = "tpe"

    def __init__(
        self, *, n_startup: int = 10, n_candidates: int = 24, seed: int | None = None
    ) -> None:
        super().__init__(seed=seed)
        self.n_startup = int(n_startup)
        self.n_candidates = int(n_candidates)
        self._sobol = SobolSampler(seed=self.seed)
        self._cache = EncodingCache()
        self._one_spaces = ParamSpaces()

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "n_startup": self.n_startup, "n_candidates": self.n_candidates}

    def describe(self) -> str:
        return (
            f"tpe sampler: multivariate TPE after {self.n_startup} Sobol points; failed trials "
            "count as bad, stopped ones by their learning curve"
        )

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        if not len(ctx.space):
            return {}
        obs = observations(ctx, ctx.space, self._cache)
        if len(obs.loss) < max(self.n_startup, 1):
            return self._sobol.sample(ctx)
        u = tpe_point(
            ctx.space,
            obs,
            trial_rng(self.seed, ctx.number, "tpe"),
            n_candidates=self.n_candidates,
        )
        return ctx.space.decode(u)

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        sub, cache = self._one_spaces.get(name, param)
        obs = observations(ctx, sub, cache)
        if len(obs.loss) < max(self.n_startup, 1) or param.cardinality == 1:
            return super().sample_one(ctx, name, param)
        u = tpe_point(
            sub, obs, trial_rng(self.seed, ctx.number, name), n_candidates=self.n_candidates
        )
        return param.decode(float(u[0]))
