"""Tune an SVM on scikit-learn's digits with hypersearch's SearchCV (a GridSearchCV drop-in;
``hypersearch.sklearn.GridSearchCV`` / ``RandomizedSearchCV`` take scikit-learn's signatures).

    python examples/sklearn_search.py

Each candidate is cross-validated on 5 folds; the median rule stops a candidate after its
first folds when it is already worse than the others, so hopeless settings cost little.
Runs in well under a minute on one CPU core.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # a small job: one BLAS thread is fastest
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import hypersearch as hs
from hypersearch.sklearn import SearchCV


def main(n_trials: int = 25) -> SearchCV:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    search = SearchCV(
        make_pipeline(StandardScaler(), SVC()),
        {
            "svc__C": hs.Float(1e-2, 1e3, log=True),
            "svc__gamma": hs.Float(1e-5, 1e-1, log=True),
            "svc__kernel": hs.Choice(["rbf", "sigmoid"]),
        },
        n_trials=n_trials,
        cv=5,
        scheduler=hs.schedulers.MedianStopping(min_trials=3),
        random_state=0,
    )
    search.fit(X_train, y_train)
    states = search.trial_states_  # COMPLETE / STOPPED / FAILED, one per cv_results_ row
    print(f"best CV accuracy {search.best_score_:.4f} with {search.best_params_}")
    print(f"test accuracy {search.score(X_test, y_test):.4f}")
    folds = np.stack([search.cv_results_[f"split{i}_test_score"] for i in range(5)])
    print(
        f"{int(np.sum(states == 'STOPPED'))} of {len(states)} candidates stopped early; "
        f"folds fitted: {int(np.sum(~np.isnan(folds)))} of {folds.size}"
    )
    return search


if __name__ == "__main__":
    main()
