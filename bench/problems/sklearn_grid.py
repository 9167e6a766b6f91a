"""Bayesmark-style scikit-learn problems: a model x a bundled dataset, scored by 3-fold
cross-validation (classification: 1 - accuracy; regression: 1 - R^2), minimised.

Models (Bayesmark's spaces, trimmed so a trial costs 10-300 ms): RBF SVM, SGD-trained MLP,
random forest, AdaBoost, k-NN, lasso and elastic net, decision tree, gradient boosting.
Datasets: digits (the first 600 images), wine, breast cancer and diabetes as scikit-learn
ships them, standardised.
Folds are fixed (``random_state=0``), so a point always scores the same and the benchmark
runner can cache it; the roughness of a CV estimate between neighbouring points stays.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.problems import Problem
from hypersearch.space import Choice, Float, Int, Space

__all__ = ["PROBLEMS"]

_REGRESSION = {"diabetes"}


@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    loader = {
        "digits": datasets.load_digits,
        "wine": datasets.load_wine,
        "cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
    }[name]
    x, y = loader(return_X_y=True)
    if name == "digits":  # 600 of the 1,797 images: an SVM or k-NN trial in ~50 ms
        x, y = x[:600], y[:600]
    return StandardScaler().fit_transform(x), y


def _cv_loss(model: Any, dataset: str) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    x, y = _data(dataset)
    if dataset in _REGRESSION:
        cv: Any = KFold(3, shuffle=True, random_state=0)
    else:
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = cross_val_score(model, x, y, cv=cv, error_score=np.nan)
    score = float(np.mean(scores))
    if not np.isfinite(score):
        raise ValueError("the model failed to fit on a fold")
    # R^2 can be hugely negative for a diverged fit: a heavy tail, as real objectives have.
    return 1.0 - score


def _svm(p: dict[str, Any]) -> Any:
    from sklearn.svm import SVC

    return SVC(C=p["C"], gamma=p["gamma"], tol=p["tol"])


_SVM = {
    "C": Float(1e-2, 1e3, log=True),
    "gamma": Float(1e-5, 1e1, log=True),
    "tol": Float(1e-5, 1e-1, log=True),  # irrelevant: what made `auto` lose on digits
}


def _mlp(p: dict[str, Any]) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(p["hidden"],),
        solver="sgd",
        alpha=p["alpha"],
        batch_size=p["batch_size"],
        learning_rate_init=p["lr"],
        momentum=p["momentum"],
        tol=p["tol"],
        validation_fraction=0.1,
        max_iter=25,
        random_state=0,
    )


_MLP = {
    "hidden": Int(4, 64, log=True),
    "alpha": Float(1e-5, 1e1, log=True),
    "batch_size": Int(8, 128, log=True),
    "lr": Float(1e-5, 1e0, log=True),
    "momentum": Float(0.0, 0.99),
    "tol": Float(1e-5, 1e-1, log=True),
}


def _forest(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=p["n_estimators"],
        max_depth=p["max_depth"],
        max_features=p["max_features"],
        min_samples_split=p["min_samples_split"],
        min_samples_leaf=p["min_samples_leaf"],
        min_weight_fraction_leaf=p["min_weight_fraction_leaf"],
        random_state=0,
        n_jobs=1,
    )


_FOREST = {
    "n_estimators": Int(5, 50, log=True),
    "max_depth": Int(1, 15),
    "max_features": Float(0.01, 0.9, log=True),
    "min_samples_split": Float(0.01, 0.99, log=True),
    "min_samples_leaf": Float(0.01, 0.49, log=True),
    "min_weight_fraction_leaf": Float(0.01, 0.49, log=True),
}


def _ada(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import AdaBoostClassifier

    return AdaBoostClassifier(
        n_estimators=p["n_estimators"], learning_rate=p["learning_rate"], random_state=0
    )


_ADA = {"n_estimators": Int(5, 40, log=True), "learning_rate": Float(1e-4, 1e1, log=True)}


def _knn(p: dict[str, Any]) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=p["n_neighbors"], p=p["p"], weights=p["weights"])


_KNN = {
    "n_neighbors": Int(1, 25),
    "p": Int(1, 3),
    "weights": Choice(["uniform", "distance"]),
}


def _lasso(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import Lasso

    return Lasso(alpha=p["alpha"], fit_intercept=p["fit_intercept"], max_iter=2000)


_LASSO = {"alpha": Float(1e-2, 1e2, log=True), "fit_intercept": Choice([True, False])}


def _enet(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import ElasticNet

    return ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], tol=p["tol"], max_iter=2000)


_ENET = {
    "alpha": Float(1e-2, 1e2, log=True),
    "l1_ratio": Float(0.01, 0.99, log=True),
    "tol": Float(1e-5, 1e-1, log=True),
}


def _tree(p: dict[str, Any]) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(
        max_depth=p["max_depth"],
        max_features=p["max_features"],
        min_samples_split=p["min_samples_split"],
        min_samples_leaf=p["min_samples_leaf"],
        min_weight_fraction_leaf=p["min_weight_fraction_leaf"],
        random_state=0,
    )


_TREE = {k: v for k, v in _FOREST.items() if k != "n_estimators"}


def _boosting(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(
        n_estimators=p["n_estimators"],
        learning_rate=p["learning_rate"],
        max_depth=p["max_depth"],
        subsample=p["subsample"],
        max_features=p["max_features"],
        min_samples_leaf=p["min_samples_leaf"],
        random_state=0,
    )


_BOOSTING = {
    "n_estimators": Int(10, 60, log=True),
    "learning_rate": Float(1e-3, 1.0, log=True),
    "max_depth": Int(1, 6),
    "subsample": Float(0.3, 1.0),
    "max_features": Float(0.05, 1.0, log=True),
    "min_samples_leaf": Int(1, 30, log=True),
}

_MODELS: dict[str, tuple[Callable[[dict[str, Any]], Any], dict[str, Any]]] = {
    "svm": (_svm, _SVM),
    "mlp": (_mlp, _MLP),
    "rf": (_forest, _FOREST),
    "ada": (_ada, _ADA),
    "knn": (_knn, _KNN),
    "lasso": (_lasso, _LASSO),
    "enet": (_enet, _ENET),
    "dt": (_tree, _TREE),
    "gb": (_boosting, _BOOSTING),
}

#: The grid: model x dataset pairs that cost at most ~0.3 s a trial on one core.
GRID = [
    ("svm", "digits"),
    ("svm", "wine"),
    ("mlp", "wine"),
    ("mlp", "cancer"),
    ("rf", "wine"),
    ("rf", "cancer"),
    ("ada", "wine"),
    ("ada", "cancer"),
    ("knn", "digits"),
    ("knn", "cancer"),
    ("knn", "wine"),
    ("lasso", "diabetes"),
    ("enet", "diabetes"),
    ("dt", "wine"),
    ("dt", "cancer"),
    ("gb", "cancer"),
]


def problem(model: str, dataset: str) -> Problem:
    build, params = _MODELS[model]

    def loss(p: dict[str, Any]) -> float:
        return _cv_loss(build(p), dataset)

    return Problem(f"{model}_{dataset}", Space(dict(params)), loss, None, kind="sklearn")


PROBLEMS: dict[str, Callable[[], Problem]] = {
    f"{m}_{d}": functools.partial(problem, m, d) for m, d in GRID
}
