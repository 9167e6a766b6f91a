"""``SearchCV``: hypersearch's samplers and schedulers behind scikit-learn's searcher API.

A drop-in for ``GridSearchCV`` / ``RandomizedSearchCV``: the same ``fit``, ``best_params_``,
``best_score_``, ``best_estimator_``, ``cv_results_`` keys and prediction methods, with
hypersearch search spaces and strategies. Each cross-validation fold is reported as one step
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

import numbers
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
    from sklearn.exceptions import FitFailedWarning, NotFittedError
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv
    from sklearn.utils import get_tags, indexable
    from sklearn.utils.metaestimators import _safe_split, available_if
    from sklearn.utils.validation import _check_method_params, check_is_fitted
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'hypersearch.sklearn needs scikit-learn: pip install "hypersearch[sklearn]".'
    ) from exc

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.space import Choice, Param

__all__ = ["SearchCV"]


def _estimator_has(attr: str) -> Any:
    """For ``available_if``: the fitted best estimator (else the template) has ``attr``."""

    def check(self: SearchCV) -> bool:
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
            return True
        getattr(self.estimator, attr)
        return True

    return check


class SearchCV(MetaEstimatorMixin, BaseEstimator):
    """Search ``estimator``'s hyperparameters in ``space`` with cross-validation.

    Parameters
    ----------
    estimator : a scikit-learn estimator (anything with ``fit`` and ``get_params``).
    space : dict of parameter name (as in ``estimator.get_params()``, e.g. ``"svc__C"``) to
        ``hs.Float`` / ``hs.Int`` / ``hs.Choice`` / ``hs.Bool``; a plain list means a choice.
    n_trials : number of candidates to try.
    cv, scoring, n_jobs, refit, error_score, return_train_score : as in ``GridSearchCV``
        (single-metric ``scoring`` only; ``refit`` is a bool). ``n_jobs`` runs that many folds
        of a candidate at once (joblib); the scheduler then judges after each batch of folds.
    sampler : strategy name (``hs.samplers.sampler_names()``) or a Sampler object.
    scheduler : ``None``, a name such as ``"median"`` (``hs.schedulers.scheduler_names()``) or a
        Scheduler object; it sees one step per fold.
    random_state : seed of the sampler.
    storage, study_name : keep the search as a named study (``"sqlite:///search.db"``) to
        inspect it with the CLI or dashboard; by default it lives in memory.

    Attributes (after ``fit``): ``best_params_``, ``best_score_``, ``best_index_``,
    ``best_estimator_`` (``refit=True``), ``cv_results_``, ``n_splits_``, ``scorer_``,
    ``refit_time_``, ``study_`` (the hypersearch Study), ``multimetric_`` (always False).
    ``cv_results_`` has scikit-learn's keys plus ``trial_state`` (COMPLETE, STOPPED, FAILED);
    folds a stopped candidate never ran are NaN and its mean is over the folds it ran; only
    COMPLETE candidates are ranked first.
    """

    def __init__(
        self,
        estimator: Any,
        space: Mapping[str, Any],
        *,
        n_trials: int = 10,
        cv: Any = None,
        scoring: Any = None,
        sampler: Any = "auto",
        scheduler: Any = None,
        n_jobs: int | None = None,
        refit: bool = True,
        random_state: int | None = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        storage: Any = None,
        study_name: str | None = None,
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
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.storage = storage
        self.study_name = study_name

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
        return tags

    # validation ---------------------------------------------------------------------------
    def _check_estimator(self) -> None:
        est = self.estimator
        if isinstance(est, type):
            raise InvalidArgumentError(
                f"SearchCV: estimator must be an estimator instance, got the class "
                f"{est.__name__}; write {est.__name__}() instead."
            )
        missing = [m for m in ("fit", "get_params", "set_params") if not hasattr(est, m)]
        if missing:
            raise InvalidArgumentError(
                f"SearchCV: estimator must be a scikit-learn estimator (with fit, get_params "
                f"and set_params), got {type(est).__name__} without {', '.join(missing)}. "
                "Wrap your model in a class deriving from sklearn.base.BaseEstimator."
            )

    def _check_space(self) -> dict[str, Param]:
        if not isinstance(self.space, Mapping) or not self.space:
            raise InvalidArgumentError(
                "SearchCV: space must be a non-empty dict of parameter name -> hs.Float / "
                f"hs.Int / hs.Choice / hs.Bool (or a list of choices), got {self.space!r}."
            )
        valid = self.estimator.get_params(deep=True)
        space: dict[str, Param] = {}
        for name, p in self.space.items():
            if name not in valid:
                raise InvalidArgumentError(
                    f"SearchCV: {name!r} is not a parameter of {type(self.estimator).__name__}; "
                    f"valid names: {', '.join(sorted(valid))}."
                )
            if isinstance(p, list | tuple):
                p = Choice(tuple(p))
            if not isinstance(p, Param):
                raise InvalidArgumentError(
                    f"SearchCV: space[{name!r}] must be hs.Float, hs.Int, hs.Choice, hs.Bool or "
                    f"a list of choices, got {p!r}."
                )
            space[name] = p
        return space

    def _check_settings(self) -> None:
        n = self.n_trials
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise InvalidArgumentError(
                f"SearchCV: n_trials must be a positive integer, got {n!r}."
            )
        if not isinstance(self.refit, bool):
            raise InvalidArgumentError(
                f"SearchCV: refit must be True or False (single-metric search), got "
                f"{self.refit!r}."
            )
        if isinstance(self.scoring, list | tuple | set | dict):
            raise InvalidArgumentError(
                "SearchCV: scoring must be one metric (a name, a scorer or a callable); "
                "multi-metric search is not supported."
            )
        if not (
            self.error_score == "raise"
            or (
                isinstance(self.error_score, numbers.Real)
                and not isinstance(self.error_score, bool)
            )
        ):
            raise InvalidArgumentError(
                f"SearchCV: error_score must be 'raise' or a number, got {self.error_score!r}."
            )

    # fitting ------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> SearchCV:
        """Run the search: ``n_trials`` candidates, each cross-validated, then refit the best."""
        import hypersearch as hs

        self._check_estimator()
        self._check_settings()
        space = self._check_space()
        X, y, groups = indexable(X, y, groups)
        fit_params = _check_method_params(X, params=fit_params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        n_splits = len(splits)
        scorer = check_scoring(self.estimator, self.scoring)
        name = self.study_name
        if name is None and self.storage is not None:
            name = f"searchcv-{type(self.estimator).__name__}-{uuid.uuid4().hex[:8]}"
        study = hs.create_study(
            name,
            space=space,
            direction="maximize",
            metric="mean_test_score",
            sampler=self.sampler,
            scheduler=self.scheduler,
            storage=self.storage,
            seed=self.random_state,
            load_if_exists=self.study_name is not None,
        )
        folds: dict[int, list[dict[str, float]]] = {}
        from joblib import effective_n_jobs

        batch = max(1, min(n_splits, effective_n_jobs(self.n_jobs)))  # folds fitted at once

        def objective(trial: hs.Trial) -> float:
            params = trial.params
            results = folds.setdefault(trial.number, [])
            for start in range(0, n_splits, int(batch)):
                chunk = splits[start : start + int(batch)]
                results.extend(self._run_folds(X, y, params, chunk, scorer, fit_params, start))
                for i in range(start, len(results)):
                    trial.report(float(np.mean([r["test"] for r in results[: i + 1]])), step=i)
                if trial.should_stop():
                    break
            return float(np.mean([r["test"] for r in results]))

        # error_score="raise" lets fit errors through; otherwise a failed fit scores
        # error_score (NaN by default, which fails the trial with its reason).
        study.optimize(objective, n_trials=int(self.n_trials), max_failures=None, catch=())
        self._study = study
        self.study_name_ = study.name
        self.n_splits_ = n_splits
        self.scorer_ = scorer
        self.multimetric_ = False
        self._build_results(study, space, folds, n_splits)
        res = self.cv_results_
        ok = [i for i, s in enumerate(res["trial_state"]) if s == "COMPLETE"]
        ok = [i for i in ok if not np.isnan(res["mean_test_score"][i])]
        if not ok:
            mine = [t for t in study.trials if t.number in folds]
            reasons = sorted({t.fail_reason or t.state.value for t in mine})
            raise ValueError(
                f"All {len(mine)} candidates failed or were stopped; reasons: "
                f"{'; '.join(reasons)[:1000]}. Set error_score='raise' to see the first error."
            )
        # Best: highest mean score, the earlier trial on ties (as study.best_trial).
        self.best_index_ = max(ok, key=lambda i: (res["mean_test_score"][i], -i))
        self.best_params_ = dict(res["params"][self.best_index_])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            t0 = time.perf_counter()
            if y is not None:
                self.best_estimator_.fit(X, y, **fit_params)
            else:
                self.best_estimator_.fit(X, **fit_params)
            self.refit_time_ = time.perf_counter() - t0
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _run_folds(
        self,
        X: Any,
        y: Any,
        params: dict[str, Any],
        chunk: Sequence[tuple[np.ndarray, np.ndarray]],
        scorer: Any,
        fit_params: dict[str, Any],
        start: int,
    ) -> list[dict[str, float]]:
        if len(chunk) == 1:
            return [self._fit_and_score(X, y, params, *chunk[0], scorer, fit_params, start)]
        from joblib import Parallel, delayed

        # Threads by default (most estimators release the GIL while fitting); a
        # joblib.parallel_config(backend="loky") context switches to processes.
        jobs = Parallel(n_jobs=len(chunk), prefer="threads")(
            delayed(self._fit_and_score)(X, y, params, tr, te, scorer, fit_params, start + k)
            for k, (tr, te) in enumerate(chunk)
        )
        return list(jobs)

    def _fit_and_score(
        self,
        X: Any,
        y: Any,
        params: dict[str, Any],
        train: np.ndarray,
        test: np.ndarray,
        scorer: Any,
        fit_params: dict[str, Any],
        fold: int,
    ) -> dict[str, float]:
        est = clone(self.estimator).set_params(**clone(params, safe=False))
        X_train, y_train = _safe_split(est, X, y, train)
        X_test, y_test = _safe_split(est, X, y, test, train)
        fold_params = _check_method_params(X, params=fit_params, indices=train)
        t0 = time.perf_counter()
        try:
            if y_train is None:
                est.fit(X_train, **fold_params)
            else:
                est.fit(X_train, y_train, **fold_params)
        except Exception as exc:
            if self.error_score == "raise":
                raise
            warnings.warn(
                f"Fold {fold} of a candidate with {params!r} failed to fit; its score is "
                f"error_score={self.error_score!r}. {type(exc).__name__}: {exc}",
                FitFailedWarning,
                stacklevel=2,
            )
            score = float(self.error_score)
            fit_time = time.perf_counter() - t0
            return {"test": score, "train": score, "fit_time": fit_time, "score_time": 0.0}
        fit_time = time.perf_counter() - t0
        t1 = time.perf_counter()
        test_score = _score(scorer, est, X_test, y_test)
        score_time = time.perf_counter() - t1
        train_score = _score(scorer, est, X_train, y_train) if self.return_train_score else np.nan
        return {
            "test": test_score,
            "train": train_score,
            "fit_time": fit_time,
            "score_time": score_time,
        }

    def _build_results(
        self,
        study: Any,
        space: Mapping[str, Param],
        folds: Mapping[int, list[dict[str, float]]],
        n_splits: int,
    ) -> None:
        trials = [t for t in study.trials if t.state.is_finished and t.number in folds]
        n = len(trials)
        res: dict[str, Any] = {}

        def fold_matrix(key: str) -> np.ndarray:
            m = np.full((n, n_splits), np.nan)
            for i, t in enumerate(trials):
                for j, r in enumerate(folds[t.number]):
                    m[i, j] = r[key]
            return m

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (no fold ran)
            for key in ("fit_time", "score_time"):
                m = fold_matrix(key)
                res[f"mean_{key}"] = np.nanmean(m, axis=1) if n else np.array([])
                res[f"std_{key}"] = np.nanstd(m, axis=1) if n else np.array([])
            for name in space:
                col = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
                for i, t in enumerate(trials):
                    if name in t.params:
                        col[i] = t.params[name]
                res[f"param_{name}"] = col
            res["params"] = [dict(t.params) for t in trials]
            sets = ("test", "train") if self.return_train_score else ("test",)
            for which in sets:
                m = fold_matrix(which)
                for j in range(n_splits):
                    res[f"split{j}_{which}_score"] = m[:, j]
                res[f"mean_{which}_score"] = np.nanmean(m, axis=1) if n else np.array([])
                res[f"std_{which}_score"] = np.nanstd(m, axis=1) if n else np.array([])
        mean = res["mean_test_score"]
        complete = np.array([t.state.value == "COMPLETE" for t in trials], dtype=bool)
        ok = complete & ~np.isnan(mean) if n else complete
        # COMPLETE candidates by score (ties share the best rank), then every other one.
        order_key = np.where(ok, -np.nan_to_num(mean, nan=0.0), np.inf)
        rank = np.empty(n, dtype=np.int32)
        sorted_keys = np.sort(order_key)
        for i, k in enumerate(order_key):
            rank[i] = int(np.searchsorted(sorted_keys, k, side="left")) + 1
        res["rank_test_score"] = rank
        res["trial_number"] = np.array([t.number for t in trials], dtype=int)
        res["trial_state"] = np.array([t.state.value for t in trials], dtype=object)
        self.cv_results_ = res

    # delegation ---------------------------------------------------------------------------
    def _check_refit(self, method: str) -> None:
        if not self.refit:
            raise AttributeError(
                f"{method} is only available with refit=True; this SearchCV was fit with "
                "refit=False. Use best_params_ to build and fit the model yourself."
            )
        check_is_fitted(self, "best_estimator_")

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        self._check_refit("predict")
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        self._check_refit("predict_proba")
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        self._check_refit("predict_log_proba")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        self._check_refit("decision_function")
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("score_samples"))
    def score_samples(self, X: Any) -> Any:
        self._check_refit("score_samples")
        return self.best_estimator_.score_samples(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        self._check_refit("transform")
        return self.best_estimator_.transform(X)

    @available_if(_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        self._check_refit("inverse_transform")
        return self.best_estimator_.inverse_transform(X)

    def score(self, X: Any, y: Any = None) -> float:
        """The search's scorer on the refit best estimator (like GridSearchCV.score)."""
        self._check_refit("score")
        return _score(self.scorer_, self.best_estimator_, X, y)

    @property
    def classes_(self) -> Any:
        self._check_refit("classes_")
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

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state = dict(state) if isinstance(state, dict) else dict(self.__dict__)
        state.pop("_study", None)  # holds a database connection; reloaded on demand
        return state

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cv_results_")


def _score(scorer: Any, est: Any, X: Any, y: Any) -> float:
    value = scorer(est, X) if y is None else scorer(est, X, y)
    return float(value)
