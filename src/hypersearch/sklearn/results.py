"""``cv_results_`` from a fit's folds, exactly as scikit-learn lays it out, and the best
candidate (``best_index_``, ``best_params_``, ``best_score_``; ``pareto_front_`` with
``directions``)."""

from __future__ import annotations

import numbers
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersearch.direction import Direction
from hypersearch.sklearn._compat import FitFailedWarning
from hypersearch.sklearn.scoring import Scoring, check_refit_for_multimetric, checked_directions

if TYPE_CHECKING:
    from hypersearch.sklearn.folds import FoldRun
    from hypersearch.sklearn.search import SearchCV


def build_results(search: SearchCV, study: Any, run: FoldRun) -> None:
    trials = [t for t in study.trials if t.state.is_finished and t.number in run.folds]
    numbers_ = [t.number for t in trials]
    names = run.metric_names()
    error = search.error_score
    res: dict[str, Any] = {}
    n, k = len(trials), search.n_splits_
    ran = np.array([len(run.folds[t]) for t in numbers_], dtype=int)
    for key in ("fit_time", "score_time"):
        m = run.matrix(numbers_, k, key, None, error)
        res[f"mean_{key}"], res[f"std_{key}"] = _mean_std(m, ran)
    candidates = [run.params[t] for t in numbers_]
    for key, column in _param_columns(candidates):
        res[key] = column
    res["params"] = candidates
    complete = ran == k
    sets = ("test", "train") if search.return_train_score else ("test",)
    for name in names:
        for which in sets:
            m = run.matrix(numbers_, k, which, name, error)
            for j in range(k):
                res[f"split{j}_{which}_{name}"] = m[:, j]
            mean, std = _mean_std(m, ran)
            res[f"mean_{which}_{name}"], res[f"std_{which}_{name}"] = mean, std
            if n and np.any(~np.isfinite(mean)):
                warnings.warn(
                    f"One or more of the {which} scores are non-finite: {mean}. Those "
                    "candidates rank last; look at the scorer (or at the fit failures "
                    "above) for why a fold scored NaN.",
                    UserWarning,
                    stacklevel=3,
                )
            if which == "test":
                res[f"rank_test_{name}"] = _rank(mean, complete)
    search.cv_results_ = res
    search.trial_numbers_ = np.array(numbers_, dtype=int)
    search.trial_states_ = np.array([t.state.value for t in trials], dtype=object)


def choose_best(search: SearchCV, scoring: Scoring, run: FoldRun) -> None:
    res = search.cv_results_
    search.multimetric_ = scoring.names is not None or run.returned_dict
    if search.multimetric_ and scoring.names is None:  # a callable returning a dict
        check_refit_for_multimetric(search, run.metric_names())
    refit = search.refit
    objectives = checked_directions(search)
    if objectives is not None:
        _choose_from_front(search, objectives, run)
        if refit is False:
            return
    if not (refit or not search.multimetric_):
        return
    if objectives is not None and not callable(refit) and len(search.pareto_front_):
        return  # chosen from the front (with no front, as scikit-learn: the best rank)
    if callable(refit):
        index = refit(res)
        if not isinstance(index, numbers.Integral) or isinstance(index, bool):
            raise TypeError(
                f"best_index_ returned is not an integer: refit={refit!r} returned "
                f"{index!r}; it must return the index of a row of cv_results_."
            )
        if not 0 <= int(index) < len(res["params"]):
            raise IndexError(
                f"best_index_ index out of range: refit returned {index}, and cv_results_ "
                f"has {len(res['params'])} candidates (0 to {len(res['params']) - 1})."
            )
    else:
        metric = refit if search.multimetric_ else "score"
        index = int(np.argmin(res[f"rank_test_{metric}"]))
        search.best_score_ = float(res[f"mean_test_{metric}"][index])
    search.best_index_ = int(index)
    search.best_params_ = res["params"][search.best_index_]


def _choose_from_front(search: SearchCV, objectives: Mapping[str, str], run: FoldRun) -> None:
    """``pareto_front_``: the rows of ``cv_results_`` on the study's Pareto front, best
    first on the refit metric; with a refit metric, the best of them is ``best_index_``."""
    res = search.cv_results_
    rows = {int(n): i for i, n in enumerate(search.trial_numbers_)}
    front = [rows[t.number] for t in search.study_.best_trials if t.number in rows]
    refit = search.refit
    by = refit if isinstance(refit, str) else run.primary()
    key = f"mean_test_{by}"
    loss = Direction(objectives.get(by, Direction.MAXIMIZE)).to_loss  # a score: high is good
    if key in res:
        front.sort(key=lambda i: (loss(float(res[key][i])), i))
    search.pareto_front_ = np.array(front, dtype=int)
    if callable(refit) or refit is False or not front:
        return
    search.best_index_ = int(front[0])
    search.best_params_ = res["params"][search.best_index_]
    if key in res:
        search.best_score_ = float(res[key][search.best_index_])


def _mean_std(m: np.ndarray, ran: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over the folds each candidate ran (a NaN score stays NaN)."""
    n = m.shape[0]
    mean, std = np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        if ran[i]:
            row = m[i, : ran[i]]
            mean[i] = np.mean(row)
            std[i] = np.sqrt(np.mean((row - mean[i]) ** 2))
    return mean, std


def _rank(mean: np.ndarray, complete: np.ndarray) -> np.ndarray:
    """scikit-learn's ranking ('min' method, NaN tied last) over candidates that ran every
    fold; candidates a scheduler stopped rank after them."""
    from scipy.stats import rankdata

    n = len(mean)
    rank = np.ones(n, dtype=np.int32)
    offset = 0
    for group in (complete, ~complete):
        idx = np.flatnonzero(group)
        if not len(idx):
            continue
        values = mean[idx]
        if np.isnan(values).all():
            rank[idx] = offset + 1
        else:
            filled = np.where(np.isnan(values), np.nanmin(values) - 1, values)
            rank[idx] = offset + rankdata(-filled, method="min").astype(np.int32)
        offset += len(idx)
    return rank


def _param_columns(candidates: Sequence[Mapping[str, Any]]) -> list[tuple[str, np.ma.MaskedArray]]:
    """``param_<name>`` masked arrays (masked where a candidate lacks the parameter), typed
    like scikit-learn: numeric dtypes for numbers, object for anything else."""
    n = len(candidates)
    found: dict[str, dict[int, Any]] = {}
    for i, cand in enumerate(candidates):
        for name, value in cand.items():
            found.setdefault(f"param_{name}", {})[i] = value
    columns = []
    for key, values in found.items():
        listed = list(values.values())
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.array(listed)
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else np.dtype(object)
        except (ValueError, TypeError):  # e.g. lists of different lengths
            dtype = np.dtype(object)
        column = np.ma.MaskedArray(np.empty(n, dtype=dtype), mask=True)
        for i, value in values.items():
            column[i] = value
        columns.append((key, column))
    return columns


def warn_or_raise_about_fit_failures(results: Sequence[Mapping[str, Any]], error: Any) -> None:
    """scikit-learn's rule: every fit failed -> ValueError; some -> FitFailedWarning, with
    each distinct error once and its count."""
    errors = [r["fit_error"] for r in results if r["fit_error"] is not None]
    if not errors:
        return
    line = "-" * 80 + "\n"
    summary = "\n".join(
        f"{line}{n} fits failed with the following error:\n{text}"
        for text, n in Counter(errors).items()
    )
    if len(errors) == len(results):
        raise ValueError(
            f"\nAll the {len(results)} fits failed.\nIt is very likely that your model is "
            "misconfigured.\nYou can try to debug the error by setting error_score='raise'.\n\n"
            f"Below are more details about the failures:\n{summary}"
        )
    warnings.warn(
        f"\n{len(errors)} fits failed out of a total of {len(results)}.\nThe score on these "
        f"train-test partitions for these parameters will be set to {error}.\nIf these "
        "failures are not expected, you can try to debug them by setting "
        f"error_score='raise'.\n\nBelow are more details about the failures:\n{summary}",
        FitFailedWarning,
        stacklevel=3,
    )
