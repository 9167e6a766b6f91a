"""BOHB's model, for any rung scheduler: new configurations from a sampler trained on the
values trials reached at the best-informed rung.

``ASHA``, ``SuccessiveHalving`` and ``Hyperband`` take it as ``sampler=`` (a bare ``Sampler``
is wrapped with the defaults below); ``BOHB`` is ``Hyperband`` with a ``DensityRatioSampler``
here. The sampler sees each configuration's value *at that rung* (its best value up to the
rung's resource) through the ordinary ``SamplingContext``, so any sampler works.

A low rung can rank configurations differently from full training (on some LCBench tasks the
first epoch ranks them almost backwards). Hyperband's less aggressive brackets train trials
past a rung without selecting them there, which measures how well the rung predicts the next
resource; a rung with a rank correlation below ``MIN_RANK_AGREEMENT`` is then not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng
from hypersearch.schedulers.base import SchedulerContext, TrialPlan
from hypersearch.schedulers.curves import curve_value, lineage_curves, promoted_parents
from hypersearch.schedulers.density_ratio import DensityRatioSampler
from hypersearch.space import Space
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["MIN_RANK_AGREEMENT", "Ladder", "RungSampler"]

#: A rung whose values rank configurations with a Spearman correlation below this against
#: the next higher resource (measured on configurations not selected at it) is not modelled.
MIN_RANK_AGREEMENT = 0.5


@dataclass(frozen=True)
class Ladder:
    """What a rung scheduler tells its sampler: full training (``max_resource``), the
    resources to model at (every rung and ``max_resource``), and the first rung at which a
    trial is selected (``max_resource`` for a trial never selected before the end)."""

    max_resource: int
    levels: Sequence[int]
    first_rung: Callable[[TrialRecord], int]


class RungSampler:
    """Proposes new configurations with ``sampler``, trained on the highest resource (a rung
    or ``max_resource``) that at least ``min_points_in_model`` configurations reached (default:
    number of parameters + 2), skipping a rung seen to misrank configurations
    (``MIN_RANK_AGREEMENT``). ``random_fraction`` of the new trials, chosen by ``seed``, are left
    to the study's sampler, which keeps exploring.

    >>> hs.schedulers.Hyperband(max_resource=27, sampler=RungSampler(TPESampler(seed=0)))
    """

    def __init__(
        self,
        sampler: Sampler | None = None,
        *,
        random_fraction: float = 0.15,
        min_points_in_model: int | None = None,
        seed: int = 0,
        owner: str = "RungSampler",
    ) -> None:
        if sampler is not None and not isinstance(sampler, Sampler):
            raise InvalidArgumentError(
                f"{owner}: sampler must be a hypersearch Sampler (e.g. DensityRatioSampler() or "
                f"hs.samplers.TPESampler()), got {sampler!r}."
            )
        if not 0 <= random_fraction <= 1:
            raise InvalidArgumentError(
                f"{owner}: 0 <= random_fraction <= 1 must hold, got {random_fraction!r}."
            )
        if min_points_in_model is not None and min_points_in_model < 2:
            raise InvalidArgumentError(
                f"{owner}: min_points_in_model >= 2 must hold, got {min_points_in_model!r}."
            )
        self.sampler = sampler if sampler is not None else DensityRatioSampler(seed=seed)
        self.random_fraction = float(random_fraction)
        self.min_points_in_model = min_points_in_model
        self.seed = int(seed)

    @classmethod
    def of(
        cls, spec: Sampler | RungSampler | Mapping[str, Any], owner: str = "RungSampler"
    ) -> RungSampler:
        """``spec`` as a RungSampler: itself, a bare sampler with the defaults, or a config
        (``owner`` names the scheduler in errors)."""
        if isinstance(spec, RungSampler):
            return spec
        if isinstance(spec, Sampler):
            return cls(spec)
        if isinstance(spec, Mapping):
            options = dict(spec)
            inner = dict(options.pop("sampler", None) or {"name": DensityRatioSampler.name})
            seed = inner.pop("seed", options.get("seed", 0))
            if inner.get("name") == DensityRatioSampler.name:
                inner.pop("name")
                sampler: Sampler = DensityRatioSampler(seed=seed, **inner)
            else:
                from hypersearch.samplers import make_sampler  # the registry: on first use

                sampler = make_sampler(inner, seed=seed)
            try:
                return cls(sampler, **options, owner=owner)
            except TypeError as exc:  # an unknown option, e.g. from a config of another version
                raise InvalidArgumentError(f"{owner}: sampler config: {exc}.") from None
        raise InvalidArgumentError(
            f"{owner}: sampler must be a Sampler, a RungSampler or a stored config, got "
            f"{spec!r}; e.g. sampler=hs.schedulers.DensityRatioSampler() or "
            "sampler=hs.samplers.TPESampler()."
        )

    def config(self) -> dict[str, Any]:
        inner = self.sampler.config()
        if self.sampler.seed_given:  # else the sampler's seed was drawn: rebuild from ``seed``
            inner["seed"] = self.sampler.seed
        return {
            "sampler": inner,
            "random_fraction": self.random_fraction,
            "min_points_in_model": self.min_points_in_model,
            "seed": self.seed,
        }

    # proposals ------------------------------------------------------------------------------
    def propose(
        self, number: int, ctx: SchedulerContext, ladder: Ladder, attrs: Mapping[str, Any]
    ) -> TrialPlan:
        """The plan of new trial ``number``: ``attrs`` (e.g. its bracket) with
        ``model_rung`` (the resource modelled, None for a random trial) and the proposed
        parameters."""
        if trial_rng(self.seed, number, "bohb").random() < self.random_fraction:
            return TrialPlan(attrs={**attrs, "model_rung": None})
        found = self.model_rung(ctx.trials, ladder, ctx.direction, ctx.space)
        if found is None:
            return TrialPlan(attrs={**attrs, "model_rung": None})
        resource, history = found
        seen = SamplingContext(
            space=ctx.space, trials=history, number=number, direction=ctx.direction
        )
        params = self.sampler.sample(seen)
        return TrialPlan(params=params, attrs={**attrs, "model_rung": resource})

    def rung_history(
        self, trials: Sequence[TrialRecord], ladder: Ladder, direction: Direction
    ) -> dict[int, list[TrialRecord]]:
        """Per resource of ``ladder.levels``, the configurations that reached it, as records
        whose value is their best value up to that resource (a promoted trial and the paused
        trial it continues count once)."""
        max_resource = ladder.max_resource
        minimize = direction is Direction.MINIMIZE
        curves = lineage_curves(trials)
        parents = promoted_parents(trials)
        heads = [
            t
            for t in trials
            if t.state is not TrialState.WAITING
            and t.number not in parents
            and curves.get(t.number)
        ]
        out: dict[int, list[TrialRecord]] = {}
        for r in sorted(ladder.levels):
            at = min(r, max_resource - 1) if r == max_resource else r
            seen = []
            for t in heads:
                v = curve_value(curves[t.number], at, minimize)
                if v is not None and math.isfinite(v):
                    seen.append(replace(t, value=v, state=TrialState.COMPLETE))
            out[r] = seen
        return out

    def model_rung(
        self, trials: Sequence[TrialRecord], ladder: Ladder, direction: Direction, space: Space
    ) -> tuple[int, list[TrialRecord]] | None:
        """The highest resource with enough results, and the trials as seen at it."""
        need = self.min_points_in_model or len(space) + 2
        history = self.rung_history(trials, ladder, direction)
        levels = sorted(history)
        for i in range(len(levels) - 1, -1, -1):
            r = levels[i]
            if len(history[r]) < need:
                continue
            if i + 1 < len(levels):
                rho = self.rank_agreement(history, r, levels[i + 1 :], ladder)
                if rho is not None and rho < MIN_RANK_AGREEMENT:
                    continue  # this rung misranks configurations: do not model it
            return r, history[r]
        return None

    @staticmethod
    def rank_agreement(
        history: Mapping[int, Sequence[TrialRecord]],
        resource: int,
        higher: Sequence[int],
        ladder: Ladder,
    ) -> float | None:
        """Spearman correlation between values at ``resource`` and at the next higher
        resource, over configurations that reached both without being selected at
        ``resource`` (Hyperband brackets whose first rung is higher); None with < 6 of them."""
        low = {t.number: float(t.value) for t in history[resource]}  # type: ignore[arg-type]
        for r in higher:
            pairs = []
            for t in history[r]:
                if ladder.first_rung(t) > resource and t.number in low:
                    pairs.append((low[t.number], float(t.value)))  # type: ignore[arg-type]
            if len(pairs) >= 6:
                a, b = np.array(pairs).T
                ra, rb = a.argsort().argsort(), b.argsort().argsort()
                return float(np.corrcoef(ra, rb)[0, 1])
        return None
