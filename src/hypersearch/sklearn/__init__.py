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

The modules, one job each: ``search`` (the ``SearchCV`` estimator and its ``fit``),
``drop_in`` (``GridSearchCV`` / ``RandomizedSearchCV``), ``plan`` (which candidates run),
``axes`` (grid values <-> stored parameters), ``scoring`` (scorers, refit metric,
``directions``), ``folds`` (fitting and scoring each candidate fold by fold), ``results``
(``cv_results_`` and the best candidate), ``_compat`` (the scikit-learn names used).
"""

from __future__ import annotations

from hypersearch.sklearn.drop_in import GridSearchCV, RandomizedSearchCV
from hypersearch.sklearn.folds import CandidateNotScored as CandidateNotScored
from hypersearch.sklearn.search import SearchCV

__all__ = ["GridSearchCV", "RandomizedSearchCV", "SearchCV"]
# CandidateNotScored stays importable from here, as when this package was one module
