"""Which candidates a fit runs: the grids checked against the estimator, one axis per
parameter, and the candidates listed up front (grid and random search) or left to a
model-based sampler."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.sklearn._compat import ParameterGrid, ParameterSampler, clone
from hypersearch.sklearn.axes import (
    Axis,
    ParamDistribution,
    build_axes,
    check_grids,
    is_distribution,
)
from hypersearch.space import Param

if TYPE_CHECKING:
    from hypersearch.sklearn.search import SearchCV

LISTED_SAMPLERS = ("grid", "random")  # candidates listed up front, as scikit-learn does


@dataclass
class Plan:
    """What a fit runs: one axis per parameter, the candidates when listed up front (grid
    and random search over lists and distributions), and the number of trials."""

    axes: dict[str, Axis]
    candidates: list[dict[str, Any]] | None
    n_trials: int
    declared: dict[str, Param] | None  # the study's space (None: defined per trial)
    grid: list[dict[str, Any]] | None = None  # a finite sampled space, to avoid repeats


def make_plan(search: SearchCV) -> Plan:
    grids = check_grids(search._search_space(), search._owner(), search._space_label())
    sampler = search._sampler_spec()
    budget = search._trial_budget()
    listed = isinstance(sampler, str) and sampler in LISTED_SAMPLERS
    if all(not g for g in grids):  # {} or [{}]: the estimator as it is
        grids, listed, sampler = [{}], True, "grid"
    if not listed:
        plan = _sampled_plan(search, grids, budget)
        if plan is not None:
            return plan
        sampler = "grid"  # a finite space no larger than n_trials: every point once
    if sampler == "grid":
        candidates = list(ParameterGrid(as_grid(search, grids)))
        if budget is not None and budget < len(candidates):
            order = np.random.default_rng(int_seed(search)).permutation(len(candidates))
            candidates = [candidates[i] for i in sorted(order[:budget])]
    else:
        candidates = list(
            ParameterSampler(_as_distributions(grids), budget or 10, random_state=search._seed())
        )
    _check_names(search, grids)
    axes = build_axes(grids, candidates)
    keys = {frozenset(c) for c in candidates}
    declared = None
    if len(keys) == 1:
        declared = {name: ax.definition for name, ax in axes.items() if ax.definition}
    return Plan(axes, candidates, len(candidates), declared)


def _sampled_plan(
    search: SearchCV, grids: list[dict[str, Any]], budget: int | None
) -> Plan | None:
    """A model-based sampler's plan, or None when the space has at most ``n_trials``
    points (then each is tried once, as a grid)."""
    owner = search._owner()
    if len(grids) > 1:
        raise InvalidArgumentError(
            f"{owner}: a list of grids needs sampler='grid' or sampler='random'; "
            f"sampler={search._sampler_spec()!r} searches one space (a single dict)."
        )
    for name, entry in grids[0].items():
        if is_distribution(entry):
            raise InvalidArgumentError(
                f"{owner}: {name!r} is a scipy.stats distribution, which only "
                f"sampler='random' can draw from; for sampler={search._sampler_spec()!r} use "
                "hs.Float(low, high, log=...) or hs.Int(low, high)."
            )
        if not isinstance(entry, Param):
            _check_grid_entry(owner, f"{search._space_label()}[{name!r}]", entry)
    _check_names(search, grids)
    size = _space_size(grids[0])
    if size is not None and budget is not None and size <= budget:
        if size < budget:
            warnings.warn(
                f"{owner}: the space has {size} points, fewer than n_trials={budget}; "
                f"each point runs once ({size} candidates).",
                UserWarning,
                stacklevel=3,
            )
        return None
    axes = build_axes(grids, None)
    declared = {name: ax.definition for name, ax in axes.items() if ax.definition}
    # a finite space is searched without repeats (a huge one rarely repeats anyway)
    finite = as_grid(search, grids) if size is not None and size <= 100_000 else None
    return Plan(axes, None, int(budget or 10), declared, finite)


def as_grid(search: SearchCV, grids: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for grid in grids:
        g = {}
        for name, entry in grid.items():
            if isinstance(entry, Param):
                if entry.cardinality is None:
                    raise InvalidArgumentError(
                        f"{search._owner()}: {name!r} is {entry!r}, a continuous range; a "
                        "grid needs its values: a list such as [0.1, 1.0, 10.0], or "
                        "hs.Float(..., step=...)."
                    )
                entry = entry.grid()
            g[name] = entry
        out.append(g)
    return out


def _as_distributions(grids: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for grid in grids:
        g = {}
        for name, entry in grid.items():
            if isinstance(entry, Param):
                finite = entry.cardinality is not None and entry.cardinality <= 10_000
                entry = entry.grid() if finite else ParamDistribution(entry)
            g[name] = entry
        out.append(g)
    return out


def int_seed(search: SearchCV) -> int | None:
    seed = search._seed()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed)
    return None


def point_key(stored: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A stored point's identity, to tell a repeated candidate."""
    return tuple(sorted((k, (type(v).__name__, v)) for k, v in stored.items()))


def _check_names(search: SearchCV, grids: Sequence[Mapping[str, Any]]) -> None:
    valid = search.estimator.get_params(deep=True)
    for grid in grids:
        for name in grid:
            if not isinstance(name, str):
                raise InvalidArgumentError(
                    f"{search._owner()}: parameter names must be strings, got {name!r}."
                )
            parts = name.split("__")
            # "clf__C" is fine when "clf" itself is set by the same grid
            nested = any("__".join(parts[:k]) in grid for k in range(1, len(parts)))
            if name in valid or nested or _accepts(search, name, grid[name]):
                continue
            raise InvalidArgumentError(
                f"{search._owner()}: {name!r} is not a parameter of "
                f"{type(search.estimator).__name__}; valid names: {', '.join(sorted(valid))}."
            )


def _accepts(search: SearchCV, name: str, entry: Any) -> bool:
    """Whether the estimator takes ``name`` though get_params does not list it (some
    estimators accept any attribute in set_params)."""
    if isinstance(entry, Param):
        value = entry.decode(0.5)
    elif is_distribution(entry):
        return True  # nothing to try it with before sampling
    else:
        values = list(entry)
        if not values:
            return False
        value = values[0]
    try:
        clone(search.estimator).set_params(**{name: value})
    except Exception:
        return False
    return True


def _check_grid_entry(owner: str, where: str, entry: Any) -> None:
    if isinstance(entry, str | bytes) or not hasattr(entry, "__iter__"):
        raise InvalidArgumentError(
            f"{owner}: {where} must be hs.Float, hs.Int, hs.Choice, hs.Bool or a list of "
            f"values, got {entry!r}; wrap a single value in a list: [{entry!r}]."
        )
    if isinstance(entry, np.ndarray) and entry.ndim != 1:
        raise InvalidArgumentError(
            f"{owner}: {where} is a {entry.ndim}-d array; a list of values must be "
            "one-dimensional (use a list of arrays for array-valued parameters)."
        )
    if len(list(entry)) == 0:
        raise InvalidArgumentError(f"{owner}: {where} is an empty list; give values.")


def _space_size(grid: Mapping[str, Any]) -> int | None:
    size = 1
    for entry in grid.values():
        if isinstance(entry, Param):
            if entry.cardinality is None:
                return None
            size *= entry.cardinality
        else:
            size *= len(list(entry))
    return size
