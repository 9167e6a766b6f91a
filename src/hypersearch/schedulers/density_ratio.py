"""A TPE-style kernel density ratio sampler in the unit cube: BOHB's default model
(Falkner et al., 2018). Any scheduler that takes a sampler (``Hyperband(sampler=...)``)
can use it; it needs only the ordinary ``SamplingContext``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng

__all__ = ["DensityRatioSampler"]


class DensityRatioSampler(Sampler):
    """TPE-style proposals: split the history into good (best ``top_fraction``) and bad,
    fit a Gaussian kernel density to each in the unit cube, draw ``n_candidates`` from the good
    density (bandwidths widened by ``bandwidth_factor``) and return the one with the highest
    l(x)/g(x). Falls back to uniform draws with fewer than 4 trials."""

    name = "density-ratio"

    def __init__(
        self,
        *,
        seed: int | None = None,
        top_fraction: float = 0.15,
        n_candidates: int = 64,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(seed=seed)
        if not 0 < top_fraction < 1:
            raise InvalidArgumentError(
                f"DensityRatioSampler: 0 < top_fraction < 1 must hold, got {top_fraction!r}."
            )
        self.top_fraction = top_fraction
        self.n_candidates = n_candidates
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "top_fraction": self.top_fraction,
            "n_candidates": self.n_candidates,
            "bandwidth_factor": self.bandwidth_factor,
        }

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        rng = trial_rng(self.seed, ctx.number, "density-ratio")
        space = ctx.space
        done = [
            t
            for t in ctx.trials
            if t.has_value
            and math.isfinite(float(t.value))  # type: ignore[arg-type]
            and all(k in t.params for k in space)
        ]
        d = len(space)
        if len(done) < 4 or d == 0:
            return space.decode(rng.random(d))
        sign = Direction.parse(ctx.direction).sign
        done.sort(key=lambda t: sign * float(t.value))  # type: ignore[arg-type]
        x = np.array([space.encode(t.params) for t in done], dtype=float)
        n_good = max(2, math.ceil(self.top_fraction * len(done)))
        n_good = min(n_good, len(done) - 2)
        good, bad = x[:n_good], x[n_good:]
        bw_good = self._bandwidth(good)
        bw_bad = self._bandwidth(bad)
        centres = good[rng.integers(0, len(good), self.n_candidates)]
        cand = centres + rng.normal(size=centres.shape) * bw_good * self.bandwidth_factor
        cand = np.clip(cand, 0.0, 1.0 - 1e-12)
        score = self._log_density(cand, good, bw_good) - self._log_density(cand, bad, bw_bad)
        return space.decode(cand[int(np.argmax(score))])

    def _bandwidth(self, x: np.ndarray) -> np.ndarray:
        n, d = x.shape
        std = x.std(axis=0, ddof=1) if n > 1 else np.full(d, 0.3)
        bw = std * n ** (-1.0 / (d + 4))
        return np.maximum(np.nan_to_num(bw, nan=0.3), self.min_bandwidth)

    @staticmethod
    def _log_density(points: np.ndarray, data: np.ndarray, bw: np.ndarray) -> np.ndarray:
        z = (points[:, None, :] - data[None, :, :]) / bw
        log_k = -0.5 * (z**2).sum(axis=2) - np.log(bw).sum()
        m = log_k.max(axis=1, keepdims=True)
        return (m[:, 0] + np.log(np.exp(log_k - m).sum(axis=1))) - math.log(len(data))
