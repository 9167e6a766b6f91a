"""What a search scores, and toward which direction: the scorer(s) of ``scoring`` checked
against ``refit``, the ``directions`` of a multi-objective search, and the study's metric."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.sklearn._compat import check_scoring

if TYPE_CHECKING:
    from hypersearch.sklearn.search import SearchCV

TIMES = ("fit_time", "score_time")  # objectives a multi-objective search may minimise


def objective_key(name: str) -> str:
    """The study's name of a ``directions`` key: as in ``cv_results_`` (``mean_test_accuracy``,
    ``mean_fit_time``)."""
    return f"mean_{name}" if name in TIMES else f"mean_test_{name}"


@dataclass
class Scoring:
    scorer: Any  # called as scorer(estimator, X, y, **params)
    scorer_: Any  # what search.scorer_ holds (a dict of scorers for multi-metric)
    names: list[str] | None  # metric names when known before fitting (list/dict scoring)
    per_name: dict[str, Any]  # name -> scorer, for the sample_weight check


def checked_directions(search: SearchCV) -> dict[str, str] | None:
    """``directions`` checked: metric (or ``fit_time`` / ``score_time``) -> direction;
    ``None`` for an ordinary search of one metric."""
    directions = getattr(search, "directions", None)  # GridSearchCV has none
    if directions is None:
        return None
    owner = search._owner()
    example = '{"accuracy": "maximize", "fit_time": "minimize"}'
    if not isinstance(directions, Mapping) or len(directions) < 2:
        raise InvalidArgumentError(
            f"{owner}: directions must map two or more metrics (names of scoring, or "
            f"'fit_time' / 'score_time') to 'maximize' or 'minimize', e.g. {example}; got "
            f"{directions!r}. Leave it out to search one metric."
        )
    scoring = search.scoring
    if isinstance(scoring, dict | list | tuple | set):
        names = [str(k) for k in scoring]
    elif scoring is None or isinstance(scoring, str):
        names = ["score"]
    else:
        names = []  # a callable: its names are known after the first fold
    for key, direction in directions.items():
        if direction not in tuple(Direction):
            raise InvalidArgumentError(
                f"{owner}: directions[{key!r}] must be 'maximize' or 'minimize', got "
                f"{direction!r}."
            )
        if key in TIMES or not names or key in names:
            continue
        raise InvalidArgumentError(
            f"{owner}: directions names {key!r}, which is neither a metric of scoring "
            f"({', '.join(map(repr, names))}) nor 'fit_time' / 'score_time'."
        )
    refit = search.refit
    if refit is True and len(names) > 1:
        raise InvalidArgumentError(
            f"{owner}: with directions, refit must name the metric to pick the refit "
            f"candidate from the Pareto front by (one of {', '.join(map(repr, names))}), "
            "be a callable taking cv_results_ (pareto_front_ lists the front), or be False."
        )
    return {str(k): str(v) for k, v in directions.items()}


def make_scoring(search: SearchCV) -> Scoring:
    """The scorer(s) of ``scoring``, checked against ``refit``."""
    scoring = search.scoring
    if callable(scoring):
        return Scoring(scoring, scoring, None, {"score": scoring})
    if scoring is None or isinstance(scoring, str):
        scorer = check_scoring(search.estimator, scoring)
        return Scoring(scorer, scorer, None, {"score": scorer})
    if isinstance(scoring, list | tuple | set | dict):
        if not scoring:
            raise ValueError(f"{search._owner()}: scoring must not be empty, got {scoring!r}.")
        if isinstance(scoring, dict):
            per_name = {k: check_scoring(search.estimator, v) for k, v in scoring.items()}
        else:
            per_name = {k: check_scoring(search.estimator, k) for k in scoring}
        check_refit_for_multimetric(search, list(per_name))
        try:
            multi = check_scoring(
                search.estimator, per_name, raise_exc=search.error_score == "raise"
            )
        except TypeError:  # scikit-learn < 1.6
            multi = check_scoring(search.estimator, per_name)
        return Scoring(multi, per_name, list(per_name), per_name)
    raise InvalidArgumentError(
        f"{search._owner()}: scoring must be None, a metric name, a callable, or a list, "
        f"tuple, set or dict of metrics, got {scoring!r}."
    )


def check_refit_for_multimetric(search: SearchCV, names: Sequence[str]) -> None:
    refit = search.refit
    if (
        refit is not False
        and not callable(refit)
        and not (isinstance(refit, str) and refit in names)
    ):
        raise ValueError(
            "For multi-metric scoring, the parameter refit must be set to a scorer key "
            "or a callable to refit an estimator with the best parameter setting on the "
            "whole data and make the best_* attributes available for that metric. If "
            f"this is not needed, refit should be set to False explicitly. {refit!r} was "
            f"passed; the metrics are {sorted(names)}."
        )


def study_metric(search: SearchCV, scoring: Scoring) -> str:
    """The study's metric: the refit metric's mean test score."""
    if scoring.names is None:
        return "mean_test_score"
    return f"mean_test_{search.refit if isinstance(search.refit, str) else scoring.names[0]}"


def scorers_accept_sample_weight(search: SearchCV, scoring: Scoring) -> bool:
    """Whether any scorer takes ``sample_weight``; warns about each one that does not."""
    accepted = []
    for name, scorer in scoring.per_name.items():
        ok = accepts_sample_weight(scorer)
        accepted.append(ok)
        if not ok:
            label = f"{name}={scorer}" if scoring.names is not None else f"{scorer}"
            warnings.warn(
                f"The scoring {label} does not support sample_weight, which may lead to "
                f"statistically incorrect results when fitting {search} with sample_weight. "
                "Use a scorer made with make_scorer from a metric that takes "
                "sample_weight.",
                UserWarning,
                stacklevel=4,
            )
    return any(accepted)


def accepts_sample_weight(scorer: Any) -> bool:
    check = getattr(scorer, "_accept_sample_weight", None)
    if callable(check):
        return bool(check())
    try:
        return "sample_weight" in inspect.signature(scorer).parameters
    except (TypeError, ValueError):
        return False
