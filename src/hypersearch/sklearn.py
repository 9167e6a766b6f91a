"""``SearchCV``: hypersearch's samplers and schedulers behind scikit-learn's searcher API.

A drop-in for ``GridSearchCV`` / ``RandomizedSearchCV`` (both also provided, with their exact
signatures): the same ``fit``, ``best_params_``, ``best_score_``, ``best_estimator_``,
``cv_results_`` and prediction methods, multi-metric scoring, metadata routing and callbacks,
with hypersearch search spaces, strategies and storage. Each cross-validation fold is one step
of the trial's learning curve (the running mean of the fold scores), so a scheduler such as
``"median"`` stops a hopeless candidate after its first folds instead of fitting all of them.

>>> from sklearn.linear_model import LogisticRegression
>>> import hypersearch as hs
>>> from hypersearch.sklearn import SearchCV
>>> search = SearchCV(LogisticRegression(max_iter=500), {"C": hs.Float(1e-3, 1e3, log=True)},
...                   n_trials=20, cv=5, scheduler="median", random_state=0)
>>> search.fit(X, y).best_params_  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import numbers
import time
import traceback
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    from sklearn import get_config
    from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
    from sklearn.exceptions import FitFailedWarning, NotFittedError
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
    from sklearn.utils import get_tags, indexable
    from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
    from sklearn.utils.metaestimators import _safe_split, available_if
    from sklearn.utils.validation import _check_method_params, check_is_fitted
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'hypersearch.sklearn needs scikit-learn: pip install "hypersearch[sklearn]".'
    ) from exc

try:  # scikit-learn >= 1.9: estimator callbacks (set_callbacks)
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """Stands in for scikit-learn's mixin where callbacks do not exist."""

    def with_callbacks(method: Any) -> Any:
        return method


from hypersearch._sklearn_space import (
    Axis,
    ParamDistribution,
    build_axes,
    check_grids,
    is_distribution,
)
from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError, TrialPruned
from hypersearch.space import Param

__all__ = ["GridSearchCV", "RandomizedSearchCV", "SearchCV"]

_LISTED_SAMPLERS = ("grid", "random")  # candidates listed up front, as scikit-learn does
_TIMES = ("fit_time", "score_time")  # objectives a multi-objective search may minimise


def _objective_key(name: str) -> str:
    """The study's name of a ``directions`` key: as in ``cv_results_`` (``mean_test_accuracy``,
    ``mean_fit_time``)."""
    return f"mean_{name}" if name in _TIMES else f"mean_test_{name}"


class CandidateNotScored(Exception):
    """A candidate's mean score is NaN: the trial is FAILED with this reason (the search
    goes on and keeps the candidate in ``cv_results_``, as scikit-learn does)."""


def _check_refit_attr(search: SearchCV, attr: str) -> None:
    if not search.refit:
        raise AttributeError(
            f"This {type(search).__name__} instance was initialized with `refit=False`. "
            f"{attr} is available only after refitting on the best parameters. Use "
            "best_params_ to build and fit the model yourself, or pass refit=True."
        )


def _estimator_has(attr: str) -> Any:
    """For ``available_if``: refit is on and the best estimator (else the template) has
    ``attr``, so ``hasattr`` works before and after ``fit``."""

    def check(self: SearchCV) -> bool:
        _check_refit_attr(self, attr)
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
            return True
        getattr(self.estimator, attr)
        return True

    return check


@dataclass
class _Plan:
    """What a fit runs: one axis per parameter, the candidates when listed up front (grid
    and random search over lists and distributions), and the number of trials."""

    axes: dict[str, Axis]
    candidates: list[dict[str, Any]] | None
    n_trials: int
    declared: dict[str, Param] | None  # the study's space (None: defined per trial)
    grid: list[dict[str, Any]] | None = None  # a finite sampled space, to avoid repeats


@dataclass
class _Scoring:
    scorer: Any  # called as scorer(estimator, X, y, **params)
    scorer_: Any  # what search.scorer_ holds (a dict of scorers for multi-metric)
    names: list[str] | None  # metric names when known before fitting (list/dict scoring)
    per_name: dict[str, Any]  # name -> scorer, for the sample_weight check


class SearchCV(CallbackSupportMixin, MetaEstimatorMixin, BaseEstimator):
    """Search ``estimator``'s hyperparameters in ``space`` with cross-validation.

    Parameters
    ----------
    estimator : a scikit-learn estimator (anything with ``fit`` and ``get_params``).
    space : dict of parameter name (as in ``estimator.get_params()``, e.g. ``"svc__C"``) to
        ``hs.Float`` / ``hs.Int`` / ``hs.Choice`` / ``hs.Bool``, a list of values (any picklable
        objects: tuples, dicts, estimators, arrays, None) or, with ``sampler="random"``, a
        scipy.stats distribution; or a list of such dicts (with ``sampler="grid"`` or
        ``"random"``). ``{}`` tries the estimator as it is.
    n_trials : number of candidates to try (a finite space smaller than that is tried once
        per point, without repeats).
    cv, scoring, n_jobs, refit, verbose, pre_dispatch, error_score, return_train_score : as in
        ``GridSearchCV``: multi-metric ``scoring`` (list, tuple, set, dict or a callable
        returning a dict) with ``refit`` a metric name, a callable or False. ``n_jobs`` runs
        that many folds of a candidate at once (joblib); the scheduler judges after each batch.
    sampler : strategy name (``hs.samplers.sampler_names()``) or a Sampler object.
        ``"grid"`` runs the grid points in scikit-learn's order; ``"random"`` draws like
        ``RandomizedSearchCV`` (without replacement when every value is listed).
    scheduler : ``None``, a name such as ``"median"`` (``hs.schedulers.scheduler_names()``) or a
        Scheduler object; it sees one step per fold (step = folds completed).
    random_state : seed of the sampler.
    storage, study_name : keep the search as a named study (``"sqlite:///search.db"``) to
        inspect it with the CLI or dashboard; by default it lives in memory.
    directions : several objectives at once, e.g. ``{"accuracy": "maximize", "fit_time":
        "minimize"}``: each key is a metric of ``scoring`` (``"score"`` for a single one) or
        ``"fit_time"`` / ``"score_time"`` (mean seconds per fold). The search is then a
        multi-objective study: the sampler looks for the Pareto front of the trade-off, and
        ``pareto_front_`` lists its rows of ``cv_results_``; ``refit`` picks the candidate to
        refit from the front (a metric name: the front's best on it; a callable: your choice
        from ``cv_results_``; ``True`` with one scoring metric: the front's best score).

    Attributes (after ``fit``): ``cv_results_`` (exactly scikit-learn's keys), ``best_params_``,
    ``best_score_``, ``best_index_``, ``best_estimator_`` (with refit), ``n_splits_``,
    ``scorer_``, ``refit_time_``, ``multimetric_``, ``classes_``, ``study_`` (the hypersearch
    Study), ``trial_numbers_`` and ``trial_states_`` (COMPLETE, STOPPED or FAILED per row of
    ``cv_results_``). A stopped candidate's unfitted folds are NaN, its mean is over the folds
    it ran, and it ranks after every candidate that ran all folds. With ``directions``,
    ``pareto_front_`` (row indices of ``cv_results_``, best first on the refit metric).
    """

    def __init__(
        self,
        estimator: Any,
        space: Any,
        *,
        n_trials: int = 10,
        cv: Any = None,
        scoring: Any = None,
        sampler: Any = "auto",
        scheduler: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        random_state: Any = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        storage: Any = None,
        study_name: str | None = None,
        directions: Mapping[str, str] | None = None,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.sampler = sampler
        self.scheduler = scheduler
        self.n_jobs = n_jobs
        self.refit = refit
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.storage = storage
        self.study_name = study_name
        self.directions = directions

    # what the subclasses change -------------------------------------------------------
    def _search_space(self) -> Any:
        return self.space

    def _space_label(self) -> str:
        return "space"

    def _trial_budget(self) -> int | None:
        """Number of candidates (None: every grid point)."""
        return self.n_trials

    def _sampler_spec(self) -> Any:
        return self.sampler

    def _seed(self) -> Any:
        return self.random_state

    # scikit-learn plumbing ------------------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        try:
            sub = get_tags(self.estimator)
        except Exception:  # not an estimator: fit() says so clearly
            return tags
        from copy import deepcopy

        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = deepcopy(sub.classifier_tags)
        tags.regressor_tags = deepcopy(sub.regressor_tags)
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.sparse = sub.input_tags.sparse
        if hasattr(tags, "array_api_support"):
            tags.array_api_support = sub.array_api_support
        return tags

    def get_metadata_routing(self) -> MetadataRouter:
        """Where ``fit`` / ``score`` metadata go: the estimator's ``fit``, the scorer(s) and the
        splitter's ``split`` (with ``sklearn.set_config(enable_metadata_routing=True)``)."""
        router = MetadataRouter(owner=self)
        router.add(
            estimator=self.estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        router.add(
            scorer=self._scoring().scorer,
            method_mapping=MethodMapping()
            .add(caller="score", callee="score")
            .add(caller="fit", callee="score"),
        )
        router.add(
            splitter=self.cv,
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router

    # validation ---------------------------------------------------------------------------
    def _owner(self) -> str:
        return type(self).__name__

    def _check_estimator(self) -> None:
        est = self.estimator
        if isinstance(est, type):
            raise InvalidArgumentError(
                f"{self._owner()}: estimator must be an estimator instance, got the class "
                f"{est.__name__}; write {est.__name__}() instead."
            )
        missing = [m for m in ("fit", "get_params", "set_params") if not hasattr(est, m)]
        if missing:
            raise InvalidArgumentError(
                f"{self._owner()}: estimator must be a scikit-learn estimator (with fit, "
                f"get_params and set_params), got {type(est).__name__} without "
                f"{', '.join(missing)}. Wrap your model in a class deriving from "
                "sklearn.base.BaseEstimator."
            )

    def _check_settings(self) -> None:
        owner = self._owner()
        n = self._trial_budget()
        if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
            label = "n_iter" if isinstance(self, RandomizedSearchCV) else "n_trials"
            raise InvalidArgumentError(f"{owner}: {label} must be a positive integer, got {n!r}.")
        error = self.error_score
        is_number = isinstance(error, numbers.Real) and not isinstance(error, bool)
        if not (is_number or (isinstance(error, str) and error == "raise")):
            raise InvalidArgumentError(
                f"{owner}: error_score must be 'raise' or a number, got {self.error_score!r}."
            )
        if not (isinstance(self.refit, bool | str) or callable(self.refit)):
            raise InvalidArgumentError(
                f"{owner}: refit must be True, False, a metric name or a callable taking "
                f"cv_results_ and returning the best index, got {self.refit!r}."
            )
        self._objectives()  # checks directions
        if not isinstance(self.verbose, numbers.Integral):  # True counts as 1
            raise InvalidArgumentError(
                f"{owner}: verbose must be an integer (0 silent, 1 progress, 2+ one line per "
                f"fold), got {self.verbose!r}."
            )

    def _objectives(self) -> dict[str, str] | None:
        """``directions`` checked: metric (or ``fit_time`` / ``score_time``) -> direction;
        ``None`` for an ordinary search of one metric."""
        directions = getattr(self, "directions", None)  # GridSearchCV has none
        if directions is None:
            return None
        owner = self._owner()
        example = '{"accuracy": "maximize", "fit_time": "minimize"}'
        if not isinstance(directions, Mapping) or len(directions) < 2:
            raise InvalidArgumentError(
                f"{owner}: directions must map two or more metrics (names of scoring, or "
                f"'fit_time' / 'score_time') to 'maximize' or 'minimize', e.g. {example}; got "
                f"{directions!r}. Leave it out to search one metric."
            )
        scoring = self.scoring
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
            if key in _TIMES or not names or key in names:
                continue
            raise InvalidArgumentError(
                f"{owner}: directions names {key!r}, which is neither a metric of scoring "
                f"({', '.join(map(repr, names))}) nor 'fit_time' / 'score_time'."
            )
        refit = self.refit
        if refit is True and len(names) > 1:
            raise InvalidArgumentError(
                f"{owner}: with directions, refit must name the metric to pick the refit "
                f"candidate from the Pareto front by (one of {', '.join(map(repr, names))}), "
                "be a callable taking cv_results_ (pareto_front_ lists the front), or be False."
            )
        return {str(k): str(v) for k, v in directions.items()}

    def _check_names(self, grids: Sequence[Mapping[str, Any]]) -> None:
        valid = self.estimator.get_params(deep=True)
        for grid in grids:
            for name in grid:
                if not isinstance(name, str):
                    raise InvalidArgumentError(
                        f"{self._owner()}: parameter names must be strings, got {name!r}."
                    )
                parts = name.split("__")
                # "clf__C" is fine when "clf" itself is set by the same grid
                nested = any("__".join(parts[:k]) in grid for k in range(1, len(parts)))
                if name in valid or nested or self._accepts(name, grid[name]):
                    continue
                raise InvalidArgumentError(
                    f"{self._owner()}: {name!r} is not a parameter of "
                    f"{type(self.estimator).__name__}; valid names: {', '.join(sorted(valid))}."
                )

    def _accepts(self, name: str, entry: Any) -> bool:
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
            clone(self.estimator).set_params(**{name: value})
        except Exception:
            return False
        return True

    def _scoring(self) -> _Scoring:
        """The scorer(s) of ``scoring``, checked against ``refit``."""
        scoring = self.scoring
        if callable(scoring):
            return _Scoring(scoring, scoring, None, {"score": scoring})
        if scoring is None or isinstance(scoring, str):
            scorer = check_scoring(self.estimator, scoring)
            return _Scoring(scorer, scorer, None, {"score": scorer})
        if isinstance(scoring, list | tuple | set | dict):
            if not scoring:
                raise ValueError(f"{self._owner()}: scoring must not be empty, got {scoring!r}.")
            if isinstance(scoring, dict):
                per_name = {k: check_scoring(self.estimator, v) for k, v in scoring.items()}
            else:
                per_name = {k: check_scoring(self.estimator, k) for k in scoring}
            self._check_refit_for_multimetric(list(per_name))
            try:
                multi = check_scoring(
                    self.estimator, per_name, raise_exc=self.error_score == "raise"
                )
            except TypeError:  # scikit-learn < 1.6
                multi = check_scoring(self.estimator, per_name)
            return _Scoring(multi, per_name, list(per_name), per_name)
        raise InvalidArgumentError(
            f"{self._owner()}: scoring must be None, a metric name, a callable, or a list, "
            f"tuple, set or dict of metrics, got {scoring!r}."
        )

    def _check_refit_for_multimetric(self, names: Sequence[str]) -> None:
        refit = self.refit
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

    # planning the candidates ----------------------------------------------------------------
    def _plan(self) -> _Plan:
        grids = check_grids(self._search_space(), self._owner(), self._space_label())
        sampler = self._sampler_spec()
        budget = self._trial_budget()
        listed = isinstance(sampler, str) and sampler in _LISTED_SAMPLERS
        if all(not g for g in grids):  # {} or [{}]: the estimator as it is
            grids, listed, sampler = [{}], True, "grid"
        if not listed:
            plan = self._sampled_plan(grids, budget)
            if plan is not None:
                return plan
            sampler = "grid"  # a finite space no larger than n_trials: every point once
        if sampler == "grid":
            candidates = list(ParameterGrid(self._as_grid(grids)))
            if budget is not None and budget < len(candidates):
                order = np.random.default_rng(self._int_seed()).permutation(len(candidates))
                candidates = [candidates[i] for i in sorted(order[:budget])]
        else:
            candidates = list(
                ParameterSampler(
                    self._as_distributions(grids), budget or 10, random_state=self._seed()
                )
            )
        self._check_names(grids)
        axes = build_axes(grids, candidates)
        keys = {frozenset(c) for c in candidates}
        declared = None
        if len(keys) == 1:
            declared = {name: ax.definition for name, ax in axes.items() if ax.definition}
        return _Plan(axes, candidates, len(candidates), declared)

    def _sampled_plan(self, grids: list[dict[str, Any]], budget: int | None) -> _Plan | None:
        """A model-based sampler's plan, or None when the space has at most ``n_trials``
        points (then each is tried once, as a grid)."""
        owner = self._owner()
        if len(grids) > 1:
            raise InvalidArgumentError(
                f"{owner}: a list of grids needs sampler='grid' or sampler='random'; "
                f"sampler={self._sampler_spec()!r} searches one space (a single dict)."
            )
        for name, entry in grids[0].items():
            if is_distribution(entry):
                raise InvalidArgumentError(
                    f"{owner}: {name!r} is a scipy.stats distribution, which only "
                    f"sampler='random' can draw from; for sampler={self._sampler_spec()!r} use "
                    "hs.Float(low, high, log=...) or hs.Int(low, high)."
                )
            if not isinstance(entry, Param):
                _check_grid_entry(owner, f"{self._space_label()}[{name!r}]", entry)
        self._check_names(grids)
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
        finite = self._as_grid(grids) if size is not None and size <= 100_000 else None
        return _Plan(axes, None, int(budget or 10), declared, finite)

    def _as_grid(self, grids: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for grid in grids:
            g = {}
            for name, entry in grid.items():
                if isinstance(entry, Param):
                    if entry.cardinality is None:
                        raise InvalidArgumentError(
                            f"{self._owner()}: {name!r} is {entry!r}, a continuous range; a "
                            "grid needs its values: a list such as [0.1, 1.0, 10.0], or "
                            "hs.Float(..., step=...)."
                        )
                    entry = entry.grid()
                g[name] = entry
            out.append(g)
        return out

    def _as_distributions(self, grids: list[dict[str, Any]]) -> list[dict[str, Any]]:
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

    def _int_seed(self) -> int | None:
        seed = self._seed()
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            return int(seed)
        return None

    # fitting ------------------------------------------------------------------------------
    @with_callbacks
    def fit(self, X: Any, y: Any = None, **params: Any) -> SearchCV:
        """Run the search (each candidate cross-validated), then refit the best candidate.

        ``params`` go to the estimator's ``fit`` (split per fold when they have one entry
        per sample), ``groups`` to the splitter and ``sample_weight`` also to the scorer;
        with metadata routing enabled they go where each consumer requests them.
        """
        self._check_estimator()
        self._check_settings()
        scoring = self._scoring()
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        fit_params, score_params, split_params = self._route_fit(params, scoring)
        sample_weight = params.get("sample_weight")
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        root = self._callback_root(max_subtasks=1 + (self.refit is not False))
        if root is not None:
            root.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)

        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        n_splits = cv.get_n_splits(X, y, **split_params)
        splits = list(cv.split(X, y, **split_params))
        if not splits:
            raise ValueError(
                "No fits were performed. Was the CV iterator empty? Were there no candidates? "
                "Pass cv as a number of folds, a splitter, or a list of (train, test) pairs."
            )
        if len(splits) != n_splits:
            raise ValueError(
                f"cv.split and cv.get_n_splits return inconsistent results. Expected "
                f"{n_splits} splits, got {len(splits)}. Check the splitter's get_n_splits."
            )
        plan = self._plan()
        study = self._create_study(plan, scoring)
        if self.verbose > 0:
            print(
                f"Fitting {n_splits} folds for each of {plan.n_trials} candidates, totalling "
                f"{n_splits * plan.n_trials} fits"
            )
        search_ctx = None
        if root is not None:
            search_ctx = root.subcontext(
                task_name="search",
                max_subtasks=plan.n_trials * n_splits,
                sequential_subtasks=False,
            )
            search_ctx.call_on_fit_task_begin(estimator=self)
        run = _Run(self, X, y, splits, scoring, fit_params, score_params, search_ctx)
        if plan.candidates is not None:
            for cand in plan.candidates:
                study.enqueue({k: plan.axes[k].store(v) for k, v in cand.items()})
        self._optimize(study, run, plan)
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        self._study = study
        self.study_name_ = study.name
        self.n_splits_ = n_splits
        _warn_or_raise_about_fit_failures(run.all_folds(), self.error_score)
        self._build_results(study, run)
        self._choose_best(scoring, run)
        if self.refit:
            self._refit(X, y, fit_params, root, metadata)
        self.scorer_ = scoring.scorer_
        if root is not None:
            root.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)
        return self

    def _optimize(self, study: Any, run: _Run, plan: _Plan) -> None:
        """Run the trials. In a finite space a model-based sampler may propose a candidate
        again: that trial is STOPPED as a repeat, and after a few rounds unseen points are
        queued, so ``n_trials`` distinct candidates run (sampling without replacement)."""

        def optimize(n: int) -> None:
            study.optimize(
                run.objective(plan),
                n_trials=n,
                max_failures=None,
                catch=(CandidateNotScored,),
                show_progress=True if self.verbose > 0 else None,
            )

        optimize(plan.n_trials)
        if plan.grid is None:
            return
        for attempt in range(4):
            missing = plan.n_trials - len(run.folds)
            if missing <= 0:
                return
            if attempt == 3:  # the sampler keeps repeating itself: queue unseen points
                points = ParameterGrid(plan.grid)
                rng = np.random.default_rng(self._int_seed())
                queued: set[Any] = set()
                for i in rng.permutation(len(points)):
                    stored = {k: plan.axes[k].store(v) for k, v in points[int(i)].items()}
                    key = _key(stored)
                    if key not in run.seen and key not in queued:
                        queued.add(key)
                        study.enqueue(stored, note="unseen point (the sampler repeated itself)")
                    if len(queued) == missing:
                        break
            optimize(missing)

    def _callback_root(self, max_subtasks: int) -> Any:
        init = getattr(self, "_init_callback_context", None)
        return None if init is None else init(max_subtasks=max_subtasks)

    def _route_fit(
        self, params: dict[str, Any], scoring: _Scoring
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(estimator fit params, scorer params, splitter params) for ``fit(**params)``."""
        if get_config().get("enable_metadata_routing", False):
            routed = process_routing(self, "fit", **params)
            return (
                dict(routed.estimator.fit),
                dict(routed.scorer.score),
                dict(routed.splitter.split),
            )
        params = dict(params)
        groups = params.pop("groups", None)
        score_params = {}
        sample_weight = params.get("sample_weight")
        if sample_weight is not None and self._scorers_accept_sample_weight(scoring):
            score_params["sample_weight"] = sample_weight
        return params, score_params, {"groups": groups}

    def _scorers_accept_sample_weight(self, scoring: _Scoring) -> bool:
        """Whether any scorer takes ``sample_weight``; warns about each one that does not."""
        accepted = []
        for name, scorer in scoring.per_name.items():
            ok = _accepts_sample_weight(scorer)
            accepted.append(ok)
            if not ok:
                label = f"{name}={scorer}" if scoring.names is not None else f"{scorer}"
                warnings.warn(
                    f"The scoring {label} does not support sample_weight, which may lead to "
                    f"statistically incorrect results when fitting {self} with sample_weight. "
                    "Use a scorer made with make_scorer from a metric that takes "
                    "sample_weight.",
                    UserWarning,
                    stacklevel=4,
                )
        return any(accepted)

    def _create_study(self, plan: _Plan, scoring: _Scoring) -> Any:
        import hypersearch as hs

        name = self.study_name
        if name is None and self.storage is not None:
            name = f"searchcv-{type(self.estimator).__name__}-{uuid.uuid4().hex[:8]}"
        sampler = "random" if plan.candidates is not None else self._sampler_spec()
        objectives = self._objectives()
        if objectives is None:
            goal: dict[str, Any] = {
                "direction": "maximize",
                "metric": self._study_metric(scoring),
            }
        else:
            goal = {"directions": {_objective_key(k): d for k, d in objectives.items()}}
        study = hs.create_study(
            name,
            space=plan.declared,
            **goal,
            sampler=sampler,
            scheduler=self.scheduler,
            storage=self.storage,
            seed=self._int_seed(),
            load_if_exists=self.study_name is not None,
        )
        if self.study_name is not None:  # resuming: same meaning for every stored name
            for trial in study.trials:
                for key, known in trial.distributions.items():
                    ax = plan.axes.get(key)
                    if ax is not None and ax.definition != known:
                        raise InvalidArgumentError(
                            f"{self._owner()}: study {study.name!r} stored {key!r} as "
                            f"{known!r}, and this search defines it as {ax.definition!r}; "
                            "resuming would mix meanings. Use the same values, or a new "
                            "study_name."
                        )
        return study

    def _study_metric(self, scoring: _Scoring) -> str:
        """The study's metric: the refit metric's mean test score."""
        if scoring.names is None:
            return "mean_test_score"
        return f"mean_test_{self.refit if isinstance(self.refit, str) else scoring.names[0]}"

    def _build_results(self, study: Any, run: _Run) -> None:
        trials = [t for t in study.trials if t.state.is_finished and t.number in run.folds]
        numbers_ = [t.number for t in trials]
        names = run.metric_names()
        error = self.error_score
        res: dict[str, Any] = {}
        n, k = len(trials), self.n_splits_
        ran = np.array([len(run.folds[t]) for t in numbers_], dtype=int)
        for key in ("fit_time", "score_time"):
            m = run.matrix(numbers_, k, key, None, error)
            res[f"mean_{key}"], res[f"std_{key}"] = _mean_std(m, ran)
        candidates = [run.params[t] for t in numbers_]
        for key, column in _param_columns(candidates):
            res[key] = column
        res["params"] = candidates
        complete = ran == k
        sets = ("test", "train") if self.return_train_score else ("test",)
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
        self.cv_results_ = res
        self.trial_numbers_ = np.array(numbers_, dtype=int)
        self.trial_states_ = np.array([t.state.value for t in trials], dtype=object)

    def _choose_best(self, scoring: _Scoring, run: _Run) -> None:
        res = self.cv_results_
        self.multimetric_ = scoring.names is not None or run.returned_dict
        if self.multimetric_ and scoring.names is None:  # a callable returning a dict
            self._check_refit_for_multimetric(run.metric_names())
        refit = self.refit
        objectives = self._objectives()
        if objectives is not None:
            self._choose_from_front(objectives, run)
            if refit is False:
                return
        if not (refit or not self.multimetric_):
            return
        if objectives is not None and not callable(refit) and len(self.pareto_front_):
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
            metric = refit if self.multimetric_ else "score"
            index = int(np.argmin(res[f"rank_test_{metric}"]))
            self.best_score_ = float(res[f"mean_test_{metric}"][index])
        self.best_index_ = int(index)
        self.best_params_ = res["params"][self.best_index_]

    def _choose_from_front(self, objectives: Mapping[str, str], run: _Run) -> None:
        """``pareto_front_``: the rows of ``cv_results_`` on the study's Pareto front, best
        first on the refit metric; with a refit metric, the best of them is ``best_index_``."""
        res = self.cv_results_
        rows = {int(n): i for i, n in enumerate(self.trial_numbers_)}
        front = [rows[t.number] for t in self.study_.best_trials if t.number in rows]
        refit = self.refit
        by = refit if isinstance(refit, str) else run.primary()
        key = f"mean_test_{by}"
        loss = Direction(objectives.get(by, Direction.MAXIMIZE)).to_loss  # a score: high is good
        if key in res:
            front.sort(key=lambda i: (loss(float(res[key][i])), i))
        self.pareto_front_ = np.array(front, dtype=int)
        if callable(refit) or refit is False or not front:
            return
        self.best_index_ = int(front[0])
        self.best_params_ = res["params"][self.best_index_]
        if key in res:
            self.best_score_ = float(res[key][self.best_index_])

    def _refit(self, X: Any, y: Any, fit_params: dict[str, Any], root: Any, metadata: Any) -> None:
        # the parameters are cloned too: a grid value may itself be an estimator
        best = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
        self.best_estimator_ = best
        ctx = None if root is None else root.subcontext(task_name="refit-with-best-params")
        t0 = time.perf_counter()
        if ctx is None:
            _fit(best, X, y, fit_params)
        else:
            with ctx.propagate_callback_context(best):
                ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
                _fit(best, X, y, fit_params)
        self.refit_time_ = float(time.perf_counter() - t0)
        if hasattr(best, "feature_names_in_"):
            self.feature_names_in_ = best.feature_names_in_
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)

    # delegation ---------------------------------------------------------------------------
    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("score_samples"))
    def score_samples(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @available_if(_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    def score(self, X: Any, y: Any = None, **params: Any) -> float:
        """The search's scorer (the ``refit`` metric) on the refit best estimator;
        ``params`` go to the scorer when metadata routing is enabled."""
        _check_refit_attr(self, "score")
        check_is_fitted(self)
        routing = get_config().get("enable_metadata_routing", False)
        if params and not routing:
            raise ValueError(
                f"Passing extra keyword arguments to {type(self).__name__}.score is only "
                "supported if enable_metadata_routing=True, which you can set with "
                f"sklearn.set_config(enable_metadata_routing=True); got {sorted(params)}."
            )
        score_params = process_routing(self, "score", **params).scorer["score"] if routing else {}
        scorer = self.scorer_
        if isinstance(scorer, dict):
            scorer = scorer[self.refit]
        value = scorer(self.best_estimator_, X, y, **score_params)
        if isinstance(value, dict):
            value = value[self.refit]
        return value

    @property
    def classes_(self) -> Any:
        _estimator_has("classes_")(self)
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        try:
            check_is_fitted(self)
        except NotFittedError as nfe:
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from nfe
        return int(self.best_estimator_.n_features_in_)

    @property
    def study_(self) -> Any:
        """The hypersearch Study of the last ``fit`` (reloaded from ``storage`` after
        unpickling when the search was kept in a database)."""
        study = self.__dict__.get("_study")
        if study is None:
            if not hasattr(self, "study_name_"):
                raise AttributeError("study_ exists after fit().")
            if not isinstance(self.storage, str):
                raise AttributeError(
                    "study_ is not kept when an in-memory search is pickled; pass "
                    "storage='sqlite:///search.db' to keep the study."
                )
            import hypersearch as hs

            study = hs.load_study(self.study_name_, storage=self.storage)
            self._study = study
        return study

    def _sk_visual_block_(self) -> Any:
        """The HTML diagram shows the best estimator once refit, else the template."""
        from sklearn.utils._repr_html.estimator import _VisualBlock  # scikit-learn's own hook

        if hasattr(self, "best_estimator_"):
            key, estimator = "best_estimator_", self.best_estimator_
        else:
            key, estimator = "estimator", self.estimator
        return _VisualBlock(
            "parallel",
            [estimator],
            names=[f"{key}: {type(estimator).__name__}"],
            name_details=[str(estimator)],
        )

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state = dict(state) if isinstance(state, dict) else dict(self.__dict__)
        state.pop("_study", None)  # holds a database connection; reloaded on demand
        return state

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cv_results_")


class GridSearchCV(SearchCV):
    """``sklearn.model_selection.GridSearchCV`` with the same signature, run as a hypersearch
    study: every point of ``param_grid`` (a dict or a list of dicts of value lists) in
    scikit-learn's order. ``scheduler``, ``storage`` and ``study_name`` as in ``SearchCV``.

    >>> GridSearchCV(SVC(), [{"kernel": ["rbf"], "C": [1, 10]}, {"kernel": ["poly"]}], cv=3)
    """

    def __init__(
        self,
        estimator: Any,
        param_grid: Any,
        *,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
        scheduler: Any = None,
        storage: Any = None,
        study_name: str | None = None,
    ) -> None:
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.scheduler = scheduler
        self.storage = storage
        self.study_name = study_name

    def _search_space(self) -> Any:
        return self.param_grid

    def _space_label(self) -> str:
        return "param_grid"

    def _trial_budget(self) -> int | None:
        return None

    def _sampler_spec(self) -> Any:
        return "grid"

    def _seed(self) -> Any:
        return None


class RandomizedSearchCV(SearchCV):
    """``sklearn.model_selection.RandomizedSearchCV`` with the same signature, run as a
    hypersearch study: ``n_iter`` candidates drawn like scikit-learn (lists without
    replacement when every value is listed; scipy.stats distributions and ``hs.Float`` /
    ``hs.Int`` sampled). ``scheduler``, ``storage`` and ``study_name`` as in ``SearchCV``.

    >>> RandomizedSearchCV(SVC(), {"C": scipy.stats.loguniform(1e-2, 1e2)}, n_iter=20)
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        *,
        n_iter: int = 10,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        random_state: Any = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        scheduler: Any = None,
        storage: Any = None,
        study_name: str | None = None,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.scheduler = scheduler
        self.storage = storage
        self.study_name = study_name

    def _search_space(self) -> Any:
        return self.param_distributions

    def _space_label(self) -> str:
        return "param_distributions"

    def _trial_budget(self) -> int | None:
        return self.n_iter

    def _sampler_spec(self) -> Any:
        return "random"


# one fit's bookkeeping ----------------------------------------------------------------------
class _Run:
    """The folds of one ``fit``: fits and scores each candidate, and keeps every fold's
    scores, times and fit error for ``cv_results_``."""

    def __init__(
        self,
        search: SearchCV,
        X: Any,
        y: Any,
        splits: list[tuple[np.ndarray, np.ndarray]],
        scoring: _Scoring,
        fit_params: dict[str, Any],
        score_params: dict[str, Any],
        search_ctx: Any,
    ) -> None:
        self.search = search
        self.X, self.y, self.splits = X, y, splits
        self.scoring = scoring
        self.fit_params, self.score_params = fit_params, score_params
        self.search_ctx = search_ctx
        self.folds: dict[int, list[dict[str, Any]]] = {}
        self.params: dict[int, dict[str, Any]] = {}
        self.seen: dict[Any, int] = {}  # stored parameters -> trial, to skip repeats
        self.returned_dict = scoring.names is not None
        self._names: list[str] | None = scoring.names
        self._task_id = 0

    def objective(self, plan: _Plan) -> Callable[[Any], Any]:
        search = self.search
        n_splits = len(self.splits)
        from joblib import effective_n_jobs

        batch = int(max(1, min(n_splits, effective_n_jobs(search.n_jobs))))
        queue = list(plan.candidates or [])

        def run(trial: Any) -> Any:
            params = self._trial_params(trial, plan, queue)
            if plan.grid is not None:
                key = _key(trial.params)
                if key in self.seen:
                    trial.set_note(f"a repeat of trial {self.seen[key]}: not fitted again")
                    raise TrialPruned()
                self.seen[key] = trial.number
            self.params[trial.number] = params
            results = self.folds.setdefault(trial.number, [])
            for start in range(0, n_splits, batch):
                chunk = self.splits[start : start + batch]
                results.extend(self._run_folds(params, chunk, start))
                for i in range(start, len(results)):
                    trial.report(self._running_value(results[: i + 1]), step=i + 1)
                if trial.should_stop():
                    break
            return self._trial_value(results)

        return run

    def _trial_params(
        self, trial: Any, plan: _Plan, queue: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if plan.candidates is None:
            stored = trial.params
            return {name: ax.load(stored[name]) for name, ax in plan.axes.items()}
        if not queue:
            raise InvalidArgumentError(
                "SearchCV: the study ran more trials than candidates were listed; was an "
                "earlier fit of this stored study interrupted? Use a new study_name."
            )
        cand = queue.pop(0)
        for name, value in cand.items():
            ax = plan.axes[name]
            expected = ax.store(value)
            got = (
                trial.params[name] if name in trial.params else trial.suggest(name, ax.definition)
            )
            if got != expected:
                raise InvalidArgumentError(
                    f"SearchCV: trial {trial.number} of the stored study has {name}={got!r} "
                    f"where this fit listed {expected!r} (an earlier fit of this study left "
                    "queued trials); use a new study_name."
                )
        return cand

    def primary(self) -> str:
        names = self.metric_names()
        refit = self.search.refit
        if isinstance(refit, str) and refit in names:
            return refit
        return names[0] if names else "score"

    def metric_names(self) -> list[str]:
        if self._names is not None:
            return self._names
        for r in self.all_folds():
            if r["test"] is not None:
                return list(r["test"])
        return ["score"]

    def all_folds(self) -> list[dict[str, Any]]:
        return [r for rs in self.folds.values() for r in rs]

    def matrix(
        self, numbers_: Sequence[int], k: int, key: str, metric: str | None, error: Any
    ) -> np.ndarray:
        """Candidates x folds of a time (``metric`` None) or of ``metric``'s ``key`` scores
        (test or train); folds never run are NaN."""
        m = np.full((len(numbers_), k), np.nan)
        for i, t in enumerate(numbers_):
            for j, r in enumerate(self.folds[t]):
                m[i, j] = r[key] if metric is None else _fold_score(r, key, metric, error)
        return m

    def _running_value(self, results: list[dict[str, Any]]) -> Any:
        """What a trial reports after ``results`` folds: the running mean of the refit
        metric, or with ``directions`` of every objective."""
        objectives = self.search._objectives()
        if objectives is None:
            return _running_mean(results, self.primary())
        out = {}
        for name in objectives:
            if name in _TIMES:
                out[_objective_key(name)] = float(np.mean([r[name] for r in results]))
            else:
                out[_objective_key(name)] = _running_mean(results, name)
        return out

    def _trial_value(self, results: list[dict[str, Any]]) -> Any:
        error = self.search.error_score
        names = self.metric_names()
        means = {
            name: float(np.mean([_fold_score(r, "test", name, error) for r in results]))
            for name in names
        }
        objectives = self.search._objectives()
        judged = self.primary()  # the metric whose NaN mean fails the trial
        if objectives is not None:
            unscored = [
                k for k in objectives if k not in _TIMES and np.isnan(means.get(k, np.nan))
            ]
            scored = [k for k in objectives if k not in _TIMES]
            judged = (unscored or scored or [judged])[0]
        primary = means.get(judged, np.nan) if objectives is not None else means[judged]
        if np.isnan(primary):
            failed = [i for i, r in enumerate(results) if r["fit_error"] is not None]
            if failed:
                last = results[failed[-1]]["fit_error"].strip().splitlines()[-1]
                reason = (
                    f"{len(failed)} of {len(results)} folds failed to fit and scored "
                    f"error_score={error!r} ({last})"
                )
            else:
                nan = [
                    i
                    for i, r in enumerate(results)
                    if np.isnan(_fold_score(r, "test", judged, error))
                ]
                reason = (
                    f"the scorer returned NaN on fold(s) {', '.join(str(i) for i in nan)} "
                    "(no fit failed); the candidate is kept and ranked last"
                )
            raise CandidateNotScored(reason)
        if objectives is not None:
            value = {f"mean_test_{name}": mean for name, mean in means.items()}
            for name in objectives:
                if name in _TIMES:
                    value[_objective_key(name)] = float(np.mean([r[name] for r in results]))
            return value
        metric = self.search._study_metric(self.scoring)
        value = {metric: primary}
        for name, mean in means.items():
            key = f"mean_test_{name}"
            if key != metric and np.isfinite(mean):
                value[key] = mean
        return value

    def _run_folds(
        self, params: dict[str, Any], chunk: Sequence[tuple[np.ndarray, np.ndarray]], start: int
    ) -> list[dict[str, Any]]:
        contexts = [self._fold_context() for _ in chunk]
        if len(chunk) == 1:
            return [self._fit_and_score(params, *chunk[0], start, contexts[0])]
        from joblib import Parallel, delayed

        # Threads by default (most estimators release the GIL while fitting); a
        # joblib.parallel_config(backend="loky") context switches to processes.
        jobs = Parallel(
            n_jobs=len(chunk), prefer="threads", pre_dispatch=self.search.pre_dispatch
        )(
            delayed(self._fit_and_score)(params, tr, te, start + k, ctx)
            for k, ((tr, te), ctx) in enumerate(zip(chunk, contexts, strict=True))
        )
        return list(jobs)

    def _fold_context(self) -> Any:
        if self.search_ctx is None:
            return None
        ctx = self.search_ctx.subcontext(
            task_name="candidate-split-evaluation", task_id=self._task_id
        )
        self._task_id += 1
        return ctx

    def _fit_and_score(
        self, params: dict[str, Any], train: np.ndarray, test: np.ndarray, fold: int, ctx: Any
    ) -> dict[str, Any]:
        search = self.search
        X, y = self.X, self.y
        est = clone(search.estimator).set_params(**clone(params, safe=False))
        X_train, y_train = _safe_split(est, X, y, train)
        X_test, y_test = _safe_split(est, X, y, test, train)
        fit_params = _check_method_params(X, params=self.fit_params, indices=train)
        score_test = _check_method_params(X, params=self.score_params, indices=test)
        score_train = _check_method_params(X, params=self.score_params, indices=train)
        weight = fit_params.get("sample_weight")
        metadata = None if weight is None else {"sample_weight": weight}
        result: dict[str, Any] = {"test": None, "train": None, "fit_error": None}
        t0 = time.perf_counter()
        try:
            if ctx is not None:
                with ctx.propagate_callback_context(est):
                    ctx.call_on_fit_task_begin(
                        estimator=search, X=X_train, y=y_train, metadata=metadata
                    )
                    _fit(est, X_train, y_train, fit_params)
            else:
                _fit(est, X_train, y_train, fit_params)
        except Exception:
            if search.error_score == "raise":
                raise
            result["fit_error"] = traceback.format_exc()
            result["fit_time"] = time.perf_counter() - t0
            result["score_time"] = 0.0
        else:
            result["fit_time"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            result["test"] = self._score(est, X_test, y_test, score_test)
            result["score_time"] = time.perf_counter() - t1
            if search.return_train_score:
                result["train"] = self._score(est, X_train, y_train, score_train)
        finally:
            if ctx is not None:
                ctx.call_on_fit_task_end(estimator=search, X=X_train, y=y_train, metadata=metadata)
        if search.verbose > 1:
            self._print_fold(params, fold, result)
        return result

    def _score(self, est: Any, X: Any, y: Any, params: dict[str, Any]) -> dict[str, float]:
        error = self.search.error_score
        try:
            raw = (
                self.scoring.scorer(est, X, **params)
                if y is None
                else self.scoring.scorer(est, X, y, **params)
            )
        except Exception:
            if error == "raise":
                raise
            warnings.warn(
                f"Scoring failed. The score on this train-test partition for these parameters "
                f"will be set to {error}. Details: \n{traceback.format_exc()}",
                UserWarning,
                stacklevel=2,
            )
            return {name: float(error) for name in self.metric_names()}
        if isinstance(raw, dict):
            self.returned_dict = True
            scores = {}
            for name, value in raw.items():
                if isinstance(value, str):  # a multi-metric scorer's error message
                    warnings.warn(
                        f"Scoring failed. The score on this train-test partition for these "
                        f"parameters will be set to {error}. Details: \n{value}",
                        UserWarning,
                        stacklevel=2,
                    )
                    value = error
                scores[str(name)] = _as_number(value, name)
            return scores
        return {"score": _as_number(raw, "score")}

    def _print_fold(self, params: dict[str, Any], fold: int, result: dict[str, Any]) -> None:
        n = len(self.splits)
        shown = ", ".join(f"{k}={params[k]}" for k in sorted(params))
        msg = shown + (";" if shown else "")
        if self.search.verbose > 2:
            error = self.search.error_score
            names = self.metric_names()
            test = {s: _fold_score(result, "test", s, error) for s in names}
            train = None
            if self.search.return_train_score:
                train = {s: _fold_score(result, "train", s, error) for s in names}
            if names == ["score"] and not self.returned_dict:
                if train is None:
                    msg += f" score={test['score']:.3f}"
                else:
                    msg += f" score=(train={train['score']:.3f}, test={test['score']:.3f})"
            else:
                for s in sorted(names):
                    part = f"train={train[s]:.3f}, " if train is not None else ""
                    msg += f" {s}: ({part}test={test[s]:.3f})"
        total = result["fit_time"] + result["score_time"]
        print(f"[CV {fold + 1}/{n}] END {msg} total time={total:.1f}s")


# helpers --------------------------------------------------------------------------------------
def _key(stored: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, (type(v).__name__, v)) for k, v in stored.items()))


def _fit(est: Any, X: Any, y: Any, params: Mapping[str, Any]) -> None:
    if y is None:
        est.fit(X, **params)
    else:
        est.fit(X, y, **params)


def _as_number(value: Any, name: Any) -> float:
    if hasattr(value, "item"):
        with suppress(ValueError):  # e.g. unwrap numpy scalars
            value = value.item()
    if not isinstance(value, numbers.Number):
        raise ValueError(
            f"scoring must return a number, got {value!r} ({type(value).__name__}) instead "
            f"(scorer={name})."
        )
    return float(value)  # type: ignore[arg-type]


def _fold_score(result: Mapping[str, Any], which: str, name: str, error: Any) -> float:
    scores = result[which]
    if scores is None:  # the fit failed (or train scores are off)
        return float(error) if result["fit_error"] is not None else np.nan
    return float(scores.get(name, np.nan))


def _running_mean(results: Sequence[Mapping[str, Any]], name: str) -> float:
    values = [_fold_score(r, "test", name, np.nan) for r in results]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _accepts_sample_weight(scorer: Any) -> bool:
    check = getattr(scorer, "_accept_sample_weight", None)
    if callable(check):
        return bool(check())
    try:
        return "sample_weight" in inspect.signature(scorer).parameters
    except (TypeError, ValueError):
        return False


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


def _warn_or_raise_about_fit_failures(results: Sequence[Mapping[str, Any]], error: Any) -> None:
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
