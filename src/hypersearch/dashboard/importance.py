"""Hyperparameter importance: the fANOVA main-effect share of each parameter.

Functional ANOVA splits the variance of the objective over the search space into the parts
each parameter explains alone (main effects) and together (interactions). The dashboard shows
each parameter's main-effect share ``Var(E[y | x_i]) / Var(y)``, estimated without a surrogate
model: the conditional mean ``E[y | x_i]`` is the mean of the ranked objective in quantile bins
of ``x_i`` (one bin per value for choices and small integer ranges), and the share is corrected
for the variance that bin means show by chance (the ε² estimator, clipped at 0).

Why not a random-forest fANOVA (Hutter et al.)? It needs a forest implementation (scikit-learn
is only an optional extra) and seconds of fitting on 50,000 trials, on every refresh. This
estimator is O(trials x params), takes milliseconds, uses ranks so outliers and ±inf values
cannot dominate, and its main-effect shares are what the fANOVA bar chart reports. It does not
show interactions; with few trials (< 20) it returns nothing rather than noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["MIN_TRIALS", "main_effects"]

MIN_TRIALS = 20
MAX_BINS = 10


def _ranks(values: np.ndarray) -> np.ndarray:
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=float)
    return ranks / max(1, len(values) - 1)


def _groups(column: Sequence[Any]) -> np.ndarray | None:
    """An integer bin per trial: quantile bins for numbers, one bin per category otherwise."""
    numeric = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in column
    )
    if numeric:
        x = np.asarray(column, dtype=float)
        unique = np.unique(x)
        if len(unique) <= MAX_BINS:
            return np.searchsorted(unique, x)
        edges = np.unique(np.quantile(x, np.linspace(0, 1, MAX_BINS + 1)[1:-1]))
        return np.searchsorted(edges, x, side="right")
    labels: dict[str, int] = {}
    return np.array([labels.setdefault(repr(v), len(labels)) for v in column])


def _epsilon_squared(y: np.ndarray, groups: np.ndarray) -> float:
    k = int(groups.max()) + 1
    n = len(y)
    if k < 2 or n <= k:
        return 0.0
    counts = np.bincount(groups, minlength=k)
    sums = np.bincount(groups, weights=y, minlength=k)
    used = counts > 0
    means = sums[used] / counts[used]
    grand = y.mean()
    ss_total = float(((y - grand) ** 2).sum())
    if ss_total <= 0:
        return 0.0
    ss_between = float((counts[used] * (means - grand) ** 2).sum())
    k_used = int(used.sum())
    ms_within = (ss_total - ss_between) / max(1, n - k_used)
    share = (ss_between - (k_used - 1) * ms_within) / (ss_total + ms_within)
    return max(0.0, min(1.0, share))


def main_effects(params: Sequence[Mapping[str, Any]], values: Sequence[float]) -> dict[str, float]:
    """Each parameter's main-effect share of the objective's variance, largest first.

    >>> main_effects([{"lr": i / 40, "units": 8} for i in range(40)], [i for i in range(40)])
    {'lr': 0.99..., 'units': 0.0}
    """
    if len(params) != len(values):
        raise ValueError(f"{len(params)} parameter sets but {len(values)} values.")
    if len(values) < MIN_TRIALS:
        return {}
    y_all = np.asarray(values, dtype=float)
    names = sorted({name for p in params for name in p})
    out: dict[str, float] = {}
    for name in names:
        rows = [i for i, p in enumerate(params) if name in p and p[name] is not None]
        if len(rows) < MIN_TRIALS:
            continue
        groups = _groups([params[i][name] for i in rows])
        if groups is None:
            continue
        out[name] = round(_epsilon_squared(_ranks(y_all[rows]), groups), 4)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
