"""Grid search: every combination once, never duplicated, even across workers and resumes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hypersearch.exceptions import (
    InvalidArgumentError,
    InvalidSpaceError,
    SearchSpaceExhaustedError,
)
from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng
from hypersearch.space import Param, Space

__all__ = ["GridSampler"]

_MAX_POINTS = 1_000_000


class GridSampler(Sampler):
    """Try every grid point once, in a seeded shuffled order (set ``shuffle=False`` for
    row-major order).

    Continuous ranges need ``n_points`` per axis (one number for all, or a dict per name);
    points are evenly spaced on each parameter's own scale, so a log-scale learning rate gets
    1e-5, 1e-4, ... Discrete parameters with at most ``n_points`` values use all of them.
    ``jitter=True`` shifts each continuous coordinate randomly within its grid cell, so
    repeated grids do not probe the exact same values. Each point is reserved in storage
    before it runs, so parallel workers never share one; points already tried (also by
    enqueued or manual trials) are skipped.

    >>> hs.create_study(space=space, sampler=hs.samplers.GridSampler(n_points={"lr": 7}))
    """

    name = "grid"

    def __init__(
        self,
        *,
        n_points: int | Mapping[str, int] | None = None,
        jitter: bool = False,
        shuffle: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        points: int | dict[str, int] | None
        if isinstance(n_points, Mapping):
            points = dict(n_points)
            bad = {k: v for k, v in points.items() if not isinstance(v, int) or v < 1}
        else:
            points = n_points
            bad = (
                {}
                if n_points is None or (isinstance(n_points, int) and n_points >= 1)
                else {"n_points": n_points}
            )
        if bad:
            raise InvalidArgumentError(f"GridSampler: n_points must be integers >= 1, got {bad}.")
        self.n_points = points
        self.jitter = bool(jitter)
        self.shuffle = bool(shuffle)
        self._cache: tuple[Space, list[list[Any]], list[int]] | None = None

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_points": self.n_points,
            "jitter": self.jitter,
            "shuffle": self.shuffle,
        }

    def axes(self, space: Space) -> list[list[Any]]:
        """The grid values of each parameter, in the space's order."""
        axes = []
        for name, param in space.items():
            n = self.n_points.get(name) if isinstance(self.n_points, dict) else self.n_points
            try:
                axes.append(param.grid(n))
            except InvalidSpaceError as exc:
                raise InvalidSpaceError(f"Grid axis {name!r}: {exc}") from None
        return axes

    def size(self, space: Space) -> int:
        return math.prod(len(a) for a in self.axes(space))

    def _grid(self, space: Space) -> tuple[list[list[Any]], list[int]]:
        if self._cache is None or self._cache[0] != space:
            axes = self.axes(space)
            total = math.prod(len(a) for a in axes)
            if total > _MAX_POINTS:
                raise InvalidSpaceError(
                    f"The grid has {total:,} points (more than {_MAX_POINTS:,}); use fewer "
                    "n_points per axis, or random/Sobol search."
                )
            order = list(range(total))
            if self.shuffle:
                order = [int(i) for i in np.random.default_rng(self.seed).permutation(total)]
            self._cache = (space, axes, order)
        return self._cache[1], self._cache[2]

    @staticmethod
    def _point(axes: list[list[Any]], index: int) -> list[Any]:
        point = []
        for axis in reversed(axes):
            index, k = divmod(index, len(axis))
            point.append(axis[k])
        return point[::-1]

    @staticmethod
    def _key(point: list[Any]) -> str:
        return "grid:" + json.dumps(point, default=str)

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        axes, order = self._grid(ctx.space)
        names = list(ctx.space)
        used = {t.claim_key for t in ctx.trials if t.claim_key}
        for t in ctx.trials:  # enqueued and manual trials on grid points count as tried
            if all(k in t.params for k in names):
                used.add(self._key([t.params[k] for k in names]))
        for index in order:
            # An enqueued trial's fixed values replace the grid's, so the point it claims is the
            # one it runs (else the grid point it claimed would never be tried).
            point = [
                ctx.fixed.get(k, v) for k, v in zip(names, self._point(axes, index), strict=True)
            ]
            key = self._key(point)
            if key in used or not ctx.claim(key):
                continue
            params = dict(zip(names, point, strict=True))
            if self.jitter:
                params = self._jittered(ctx, params, axes)
            return params
        raise SearchSpaceExhaustedError(
            f"All {len(order)} grid points have been tried. Enlarge the grid (n_points), or "
            "switch to random/Sobol search to keep going."
        )

    def _jittered(
        self, ctx: SamplingContext, params: dict[str, Any], axes: list[list[Any]]
    ) -> dict[str, Any]:
        rng = trial_rng(self.seed, ctx.number, "grid-jitter")
        out = dict(params)
        for (name, param), axis in zip(ctx.space.items(), axes, strict=True):
            if param.cardinality is not None or len(axis) < 2:
                continue  # discrete values stay exact
            half_cell = 0.5 / (len(axis) - 1)
            u = param.encode(params[name]) + rng.uniform(-half_cell, half_cell)
            out[name] = _decode_inside(param, u)
        return out


def _decode_inside(param: Param, u: float) -> Any:
    return param.decode(min(max(u, 0.0), 1.0))
