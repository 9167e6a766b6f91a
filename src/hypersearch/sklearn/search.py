"""``SearchCV``: hypersearch's samplers and schedulers behind scikit-learn's searcher API.

The estimator itself: its parameters, scikit-learn's plumbing (tags, metadata routing,
callbacks, the HTML diagram), ``fit`` (candidates -> study -> folds -> ``cv_results_`` ->
refit) and the prediction methods, which go to the refit best estimator.
"""

from __future__ import annotations

import numbers
import time
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.sklearn._compat import (
    BaseEstimator,
    CallbackSupportMixin,
    MetadataRouter,
    MetaEstimatorMixin,
    MethodMapping,
    NotFittedError,
    ParameterGrid,
    _check_method_params,
    available_if,
    check_cv,
    check_is_fitted,
    clone,
    get_config,
    get_tags,
    indexable,
    is_classifier,
    process_routing,
    with_callbacks,
)
from hypersearch.sklearn.folds import CandidateNotScored, FoldRun, fit_estimator
from hypersearch.sklearn.plan import Plan, int_seed, make_plan, point_key
from hypersearch.sklearn.results import (
    build_results,
    choose_best,
    warn_or_raise_about_fit_failures,
)
from hypersearch.sklearn.scoring import (
    Scoring,
    checked_directions,
    make_scoring,
    objective_key,
    scorers_accept_sample_weight,
    study_metric,
)


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

    def _budget_label(self) -> str:
        """The budget parameter's name, for error messages."""
        return "n_trials"

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
            scorer=make_scoring(self).scorer,
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
            raise InvalidArgumentError(
                f"{owner}: {self._budget_label()} must be a positive integer, got {n!r}."
            )
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
        checked_directions(self)  # checks directions
        if not isinstance(self.verbose, numbers.Integral):  # True counts as 1
            raise InvalidArgumentError(
                f"{owner}: verbose must be an integer (0 silent, 1 progress, 2+ one line per "
                f"fold), got {self.verbose!r}."
            )

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
        scoring = make_scoring(self)
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
        plan = make_plan(self)
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
        run = FoldRun(self, X, y, splits, scoring, fit_params, score_params, search_ctx)
        if plan.candidates is not None:
            for cand in plan.candidates:
                study.enqueue({k: plan.axes[k].store(v) for k, v in cand.items()})
        self._optimize(study, run, plan)
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        self._study = study
        self.study_name_ = study.name
        self.n_splits_ = n_splits
        warn_or_raise_about_fit_failures(run.all_folds(), self.error_score)
        build_results(self, study, run)
        choose_best(self, scoring, run)
        if self.refit:
            self._refit(X, y, fit_params, root, metadata)
        self.scorer_ = scoring.scorer_
        if root is not None:
            root.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)
        return self

    def _optimize(self, study: Any, run: FoldRun, plan: Plan) -> None:
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
                rng = np.random.default_rng(int_seed(self))
                queued: set[Any] = set()
                for i in rng.permutation(len(points)):
                    stored = {k: plan.axes[k].store(v) for k, v in points[int(i)].items()}
                    key = point_key(stored)
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
        self, params: dict[str, Any], scoring: Scoring
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
        if sample_weight is not None and scorers_accept_sample_weight(self, scoring):
            score_params["sample_weight"] = sample_weight
        return params, score_params, {"groups": groups}

    def _create_study(self, plan: Plan, scoring: Scoring) -> Any:
        import hypersearch as hs

        name = self.study_name
        if name is None and self.storage is not None:
            name = f"searchcv-{type(self.estimator).__name__}-{uuid.uuid4().hex[:8]}"
        sampler = "random" if plan.candidates is not None else self._sampler_spec()
        objectives = checked_directions(self)
        if objectives is None:
            goal: dict[str, Any] = {
                "direction": "maximize",
                "metric": study_metric(self, scoring),
            }
        else:
            goal = {"directions": {objective_key(k): d for k, d in objectives.items()}}
        study = hs.create_study(
            name,
            space=plan.declared,
            **goal,
            sampler=sampler,
            scheduler=self.scheduler,
            storage=self.storage,
            seed=int_seed(self),
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

    def _refit(self, X: Any, y: Any, fit_params: dict[str, Any], root: Any, metadata: Any) -> None:
        # the parameters are cloned too: a grid value may itself be an estimator
        best = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
        self.best_estimator_ = best
        ctx = None if root is None else root.subcontext(task_name="refit-with-best-params")
        t0 = time.perf_counter()
        if ctx is None:
            fit_estimator(best, X, y, fit_params)
        else:
            with ctx.propagate_callback_context(best):
                ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
                fit_estimator(best, X, y, fit_params)
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
