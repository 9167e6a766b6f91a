"""Model-based Hyperband (BOHB-style, Falkner et al. 2018): ``Hyperband`` whose new trials
come from a ``DensityRatioSampler`` trained on the best-informed rung.

``BOHB(...)`` is a convenience for ``Hyperband(..., sampler=RungSampler(DensityRatioSampler(
seed=seed), random_fraction=..., min_points_in_model=..., seed=seed))``; the model itself lives
in ``rung_sampler.py`` and any rung scheduler can take it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hypersearch.direction import Direction
from hypersearch.samplers.base import Sampler
from hypersearch.schedulers.base import SchedulerContext
from hypersearch.schedulers.density_ratio import DensityRatioSampler
from hypersearch.schedulers.hyperband import Hyperband
from hypersearch.schedulers.rung_sampler import MIN_RANK_AGREEMENT, RungSampler
from hypersearch.trial import TrialRecord

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["BOHB", "MIN_RANK_AGREEMENT", "DensityRatioSampler"]


class BOHB(Hyperband):
    """Hyperband whose new trials come from a model of the best-informed rung.

    ``sampler`` is the model (default ``DensityRatioSampler(seed=seed)``); ``random_fraction``
    of the new trials (default 0.15; 1/3 in Falkner et al.) are left to the study's sampler;
    ``min_points_in_model`` (default: number of parameters + 2) results a rung needs before it
    is modelled (see ``RungSampler``). The other options (``min_resource``, ``max_resource``,
    ``reduction_factor``, ``pause``) are Hyperband's. Promotions come before new trials and
    are not modelled.

    >>> hs.create_study(..., scheduler=hs.schedulers.BOHB(min_resource=1, max_resource=52))
    """

    name = "bohb"

    def __init__(
        self,
        *,
        sampler: Sampler | None = None,
        random_fraction: float = 0.15,
        min_points_in_model: int | None = None,
        seed: int = 0,
        **hyperband: Any,
    ) -> None:
        model = RungSampler(
            sampler if sampler is not None else DensityRatioSampler(seed=seed),
            random_fraction=random_fraction,
            min_points_in_model=min_points_in_model,
            seed=seed,
            owner="BOHB",
        )
        super().__init__(**hyperband, sampler=model)

    @property
    def model(self) -> Sampler:
        """The sampler that proposes new configurations."""
        return self._model.sampler

    @property
    def random_fraction(self) -> float:
        return self._model.random_fraction

    @random_fraction.setter
    def random_fraction(self, value: float) -> None:
        self._model.random_fraction = float(value)

    @property
    def min_points_in_model(self) -> int | None:
        return self._model.min_points_in_model

    @min_points_in_model.setter
    def min_points_in_model(self, value: int | None) -> None:
        self._model.min_points_in_model = value

    @property
    def seed(self) -> int:
        return self._model.seed

    @property
    def _model(self) -> RungSampler:
        assert self.rung_sampler is not None  # set in __init__
        return self.rung_sampler

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.pop("sampler")  # the default model; a custom one is not stored (as before)
        return {
            **out,
            "random_fraction": self.random_fraction,
            "min_points_in_model": self.min_points_in_model,
            "seed": self.seed,
        }

    # the model's view, for inspection -------------------------------------------------------
    def rung_history(
        self, trials: Sequence[TrialRecord], ctx: SchedulerContext | Study
    ) -> dict[int, list[TrialRecord]]:
        """Per resource (each rung and ``max_resource``), the configurations that reached it,
        with their best value up to it; ``ctx`` a scheduler context (or the study)."""
        max_resource = self.resolved_max(trials)
        if max_resource is None:
            return {}
        return self._model.rung_history(trials, self.ladder(max_resource), _direction(ctx))

    def model_rung(
        self, trials: Sequence[TrialRecord], ctx: SchedulerContext | Study
    ) -> tuple[int, list[TrialRecord]] | None:
        """The highest resource with enough results, and the trials as seen at it."""
        max_resource = self.resolved_max(trials)
        if max_resource is None:
            return None
        ladder = self.ladder(max_resource)
        return self._model.model_rung(trials, ladder, _direction(ctx), ctx.space)

    def _rank_agreement(
        self,
        trials: Sequence[TrialRecord],
        history: dict[int, list[TrialRecord]],
        resource: int,
        higher: Sequence[int],
    ) -> float | None:
        max_resource = self.resolved_max(trials)
        if max_resource is None:
            return None
        return RungSampler.rank_agreement(history, resource, higher, self.ladder(max_resource))


def _direction(ctx: SchedulerContext | Study) -> Direction:
    return Direction.parse(ctx.direction)
