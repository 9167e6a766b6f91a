"""scikit-learn's ``GridSearchCV`` and ``RandomizedSearchCV``, with their exact signatures,
as ``SearchCV`` with a fixed strategy (every grid point; ``n_iter`` random draws)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hypersearch.sklearn.search import SearchCV


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

    def _budget_label(self) -> str:
        return "n_iter"
