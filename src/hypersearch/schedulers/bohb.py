"""Model-based Hyperband (BOHB-style): Hyperband's brackets, and new trials proposed by a
model-based sampler trained on the highest rung that has enough results.

The model sees each trial's value *at that rung* (its best value up to the rung's resource),
through the ordinary ``Sampler`` interface: ``BOHB(sampler=...)`` takes any sampler (e.g. the
TPE sampler); the default is ``DensityRatioSampler``, a small TPE-style kernel density ratio
l(x)/g(x) in the unit cube, as in Falkner et al. (2018). A fraction of trials
(``random_fraction``) is left to the study's own sampler, which keeps exploring.

A low rung can rank configurations differently from full training (on some LCBench tasks the
first epoch ranks them almost backwards). Hyperband's less aggressive brackets train trials
past a rung without selecting them there, which measures how well the rung predicts the next
resource; a rung with a rank correlation below ``MIN_RANK_AGREEMENT`` is then not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng
from hypersearch.schedulers.base import SchedulerContext, TrialPlan
from hypersearch.schedulers.hyperband import Hyperband, curve_value, lineage_curves
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["BOHB", "DensityRatioSampler"]

#: A rung whose values rank configurations with a Spearman correlation below this against
#: the next higher resource (measured on configurations not selected at it) is not modelled.
MIN_RANK_AGREEMENT = 0.5


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
        sign = 1.0 if ctx.direction == "minimize" else -1.0
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


class BOHB(Hyperband):
    """Hyperband whose new trials come from a model of the best-informed rung.

    The model uses the highest resource (a rung, or ``max_resource``) that at least
    ``min_points_in_model`` configurations reached (default: number of parameters + 2),
    skipping a rung once it is seen to misrank configurations (``MIN_RANK_AGREEMENT``).
    Promotions (pause mode, see ``ASHA``) come before new trials and are not modelled.
    ``random_fraction`` of the new trials (default 0.15; 1/3 in Falkner et al.) are left to
    the study's sampler.

    >>> hs.create_study(..., scheduler=hs.schedulers.BOHB(min_resource=1, max_resource=52))
    """

    name = "bohb"

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        sampler: Sampler | None = None,
        random_fraction: float = 0.15,
        min_points_in_model: int | None = None,
        pause: bool | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            pause=pause,
        )
        if not 0 <= random_fraction <= 1:
            raise InvalidArgumentError(
                f"BOHB: 0 <= random_fraction <= 1 must hold, got {random_fraction!r}."
            )
        if min_points_in_model is not None and min_points_in_model < 2:
            raise InvalidArgumentError(
                f"BOHB: min_points_in_model >= 2 must hold, got {min_points_in_model!r}."
            )
        self.model = sampler if sampler is not None else DensityRatioSampler(seed=seed)
        self.random_fraction = float(random_fraction)
        self.min_points_in_model = min_points_in_model
        self.seed = int(seed)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "random_fraction": self.random_fraction,
            "min_points_in_model": self.min_points_in_model,
            "seed": self.seed,
        }

    def rung_history(
        self, trials: Sequence[TrialRecord], study: SchedulerContext | Study
    ) -> dict[int, list[TrialRecord]]:
        """Per resource (each rung and ``max_resource``), the configurations that reached it,
        as records whose value is their best value up to that resource (a promoted trial and
        the paused trial it continues count once)."""
        max_resource = self.resolved_max(trials)
        if max_resource is None:
            return {}
        minimize = study.direction == "minimize"
        curves = lineage_curves(trials)
        parents = {int(p) for t in trials if (p := t.attrs.get("promoted_from")) is not None}
        heads = [
            t
            for t in trials
            if t.state is not TrialState.WAITING
            and t.number not in parents
            and curves.get(t.number)
        ]
        out: dict[int, list[TrialRecord]] = {}
        for r in sorted({max_resource, *self.rungs(max_resource, 0)}):
            at = min(r, max_resource - 1) if r == max_resource else r
            seen = []
            for t in heads:
                v = curve_value(curves[t.number], at, minimize)
                if v is not None and math.isfinite(v):
                    seen.append(replace(t, value=v, state=TrialState.COMPLETE))
            out[r] = seen
        return out

    def model_rung(
        self, trials: Sequence[TrialRecord], study: SchedulerContext | Study
    ) -> tuple[int, list[TrialRecord]] | None:
        """The highest resource with enough results, and the trials as seen at it."""
        need = self.min_points_in_model or len(study.space) + 2
        history = self.rung_history(trials, study)
        levels = sorted(history)
        for i in range(len(levels) - 1, -1, -1):
            r = levels[i]
            if len(history[r]) < need:
                continue
            if i + 1 < len(levels):
                rho = self._rank_agreement(trials, history, r, levels[i + 1 :])
                if rho is not None and rho < MIN_RANK_AGREEMENT:
                    continue  # this rung misranks configurations: do not model it
            return r, history[r]
        return None

    def _rank_agreement(
        self,
        trials: Sequence[TrialRecord],
        history: dict[int, list[TrialRecord]],
        resource: int,
        higher: Sequence[int],
    ) -> float | None:
        """Spearman correlation between values at ``resource`` and at the next higher
        resource, over configurations that reached both without being selected at
        ``resource`` (Hyperband brackets whose first rung is higher); None with < 6 of them."""
        max_resource = self.resolved_max(trials)
        if max_resource is None:
            return None
        low = {t.number: float(t.value) for t in history[resource]}  # type: ignore[arg-type]
        for r in higher:
            pairs = []
            for t in history[r]:
                rate = self._rate_of(t)
                first = self.rungs(max_resource, rate)[:1] if rate is not None else []
                unselected = (first[0] if first else max_resource) > resource
                if unselected and t.number in low:
                    pairs.append((low[t.number], float(t.value)))  # type: ignore[arg-type]
            if len(pairs) >= 6:
                a, b = np.array(pairs).T
                ra, rb = a.argsort().argsort(), b.argsort().argsort()
                return float(np.corrcoef(ra, rb)[0, 1])
        return None

    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        trials, study = ctx.trials, ctx
        plan = super().plan(number, ctx)
        if plan is None or "promoted_from" in plan.attrs:
            return plan
        attrs = dict(plan.attrs)
        if trial_rng(self.seed, number, "bohb").random() < self.random_fraction:
            return TrialPlan(attrs={**attrs, "model_rung": None})
        found = self.model_rung(trials, study)
        if found is None:
            return TrialPlan(attrs={**attrs, "model_rung": None})
        resource, history = found
        seen = SamplingContext(
            space=ctx.space, trials=history, number=number, direction=ctx.direction
        )
        params = self.model.sample(seen)
        return TrialPlan(params=params, attrs={**attrs, "model_rung": resource})
