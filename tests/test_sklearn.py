"""SearchCV: scikit-learn's searcher API on hypersearch studies, with real estimators."""

from __future__ import annotations

import pickle
import re
import warnings
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import KFold, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import hypersearch as hs
from hypersearch.sklearn import GridSearchCV, SearchCV
from hypersearch.sklearn import RandomizedSearchCV as RandomizedSearchCVHS

X, y = load_iris(return_X_y=True)


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Any:
    # BLAS threads fight over a loaded 2-core machine (10x slower); one is plenty here.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def small_search(**kw: Any) -> SearchCV:
    options: dict[str, Any] = {"n_trials": 6, "cv": 3, "random_state": 0}
    options.update(kw)
    return SearchCV(
        LogisticRegression(max_iter=300), {"C": hs.Float(1e-3, 1e2, log=True)}, **options
    )


def test_fit_gives_sklearn_attributes_and_results_keys() -> None:
    search = small_search().fit(X, y)
    res = search.cv_results_
    ref = RandomizedSearchCV(
        LogisticRegression(max_iter=300), {"C": [0.1, 1.0]}, n_iter=2, cv=3, random_state=0
    ).fit(X, y)
    assert set(ref.cv_results_) <= set(res)  # the same keys scikit-learn users read
    assert len(res["params"]) == 6 and res["split2_test_score"].shape == (6,)
    assert isinstance(res["param_C"], np.ma.MaskedArray)
    assert res["rank_test_score"].min() == 1
    best = search.best_index_
    assert res["rank_test_score"][best] == 1
    assert search.best_params_ == res["params"][best] == dict(search.study_.best_params)
    assert search.best_score_ == pytest.approx(res["mean_test_score"][best])
    assert search.best_score_ == pytest.approx(np.nanmax(res["mean_test_score"]))
    assert search.best_params_["C"] == search.best_estimator_.C
    assert search.n_splits_ == 3 and search.refit_time_ >= 0 and search.multimetric_ is False
    assert list(search.classes_) == [0, 1, 2] and search.n_features_in_ == 4


def test_prediction_methods_delegate_to_the_best_estimator() -> None:
    search = small_search(n_trials=3).fit(X, y)
    est = search.best_estimator_
    np.testing.assert_array_equal(search.predict(X), est.predict(X))
    np.testing.assert_allclose(search.predict_proba(X), est.predict_proba(X))
    np.testing.assert_allclose(search.decision_function(X), est.decision_function(X))
    assert search.score(X, y) == pytest.approx(est.score(X, y))
    assert not hasattr(search, "transform")  # LogisticRegression has none
    pca = SearchCV(
        Pipeline([("pca", PCA()), ("clf", LogisticRegression(max_iter=300))]),
        {"pca__n_components": hs.Int(1, 3)},
        n_trials=2,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert (
        pca.best_estimator_.named_steps["pca"].n_components
        == pca.best_params_["pca__n_components"]
    )


def test_clone_get_params_and_set_params_keep_the_config_unmodified() -> None:
    space = {"C": hs.Float(1e-3, 1e2, log=True), "fit_intercept": [True, False]}
    search = SearchCV(LogisticRegression(), space, n_trials=4, scheduler="median")
    params = search.get_params()
    assert params["space"] is space and params["n_trials"] == 4
    assert params["estimator__C"] == 1.0  # nested parameters, like every meta-estimator
    cloned = clone(search)
    assert cloned.get_params()["space"] == space and cloned.scheduler == "median"
    cloned.set_params(n_trials=2, estimator__max_iter=500)
    assert cloned.n_trials == 2 and cloned.estimator.max_iter == 500
    with pytest.raises(TypeError):
        SearchCV(LogisticRegression(), space, 4)  # type: ignore[misc]  # keyword-only config


def test_it_works_inside_cross_validation_and_pickles() -> None:
    scores = cross_val_score(small_search(n_trials=2, cv=2), X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.5)
    search = small_search(n_trials=2).fit(X, y)
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(again.predict(X), search.predict(X))


def test_a_scheduler_stops_hopeless_candidates_after_the_first_folds() -> None:
    search = SearchCV(
        SVC(),
        {"C": hs.Float(1e-4, 1e3, log=True), "gamma": hs.Float(1e-5, 10.0, log=True)},
        n_trials=16,
        cv=5,
        scheduler=hs.schedulers.MedianStopping(min_trials=3),
        random_state=0,
    ).fit(X, y)
    res = search.cv_results_
    states = search.trial_states_
    stopped = [i for i, s in enumerate(states) if s == "STOPPED"]
    assert stopped, states
    for i in stopped:
        folds = np.array([res[f"split{j}_test_score"][i] for j in range(5)])
        assert np.isnan(folds[-1]) and not np.isnan(folds[0])  # fewer folds were fitted
        assert res["rank_test_score"][i] > (states == "COMPLETE").sum()
    assert states[search.best_index_] == "COMPLETE"
    record = search.study_.get_trial(int(search.trial_numbers_[stopped[0]]))
    # one step per fold, numbered by folds completed (like epochs completed elsewhere)
    assert record.state is hs.TrialState.STOPPED and 1 in record.intermediate
    assert 0 not in record.intermediate


def test_parallel_folds_with_n_jobs() -> None:
    search = small_search(n_trials=2, n_jobs=2).fit(X, y)
    serial = small_search(n_trials=2).fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_scoring_train_scores_and_unsupervised_y() -> None:
    Xr, yr = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)
    search = SearchCV(
        Ridge(),
        {"alpha": hs.Float(1e-3, 10, log=True)},
        n_trials=3,
        cv=3,
        scoring="neg_mean_squared_error",
        return_train_score=True,
        random_state=0,
    ).fit(Xr, yr)
    assert search.best_score_ < 0 and "mean_train_score" in search.cv_results_
    scaler = SearchCV(
        StandardScaler(),
        {"with_mean": [True, False]},
        n_trials=2,
        cv=2,
        scoring=lambda est, X_: -float(np.abs(est.transform(X_)).mean()),
    )
    scaler.fit(Xr)
    assert scaler.transform(Xr).shape == Xr.shape


def test_fit_errors_follow_error_score() -> None:
    space = {"C": hs.Float(-1.0, -0.5)}  # LogisticRegression refuses C <= 0
    with pytest.raises(ValueError):
        SearchCV(LogisticRegression(), space, n_trials=1, cv=2, error_score="raise").fit(X, y)
    with pytest.raises(ValueError, match="All the 4 fits failed"):
        SearchCV(LogisticRegression(), space, n_trials=2, cv=2).fit(X, y)
    mixed = {"C": [-1.0, 1.0]}
    with pytest.warns(FitFailedWarning):
        search = SearchCV(
            LogisticRegression(max_iter=300), mixed, n_trials=2, cv=2, sampler="grid"
        ).fit(X, y)
    assert search.best_params_ == {"C": 1.0}
    assert list(search.trial_states_) == ["FAILED", "COMPLETE"]
    assert np.isnan(search.cv_results_["mean_test_score"][0])
    assert list(search.cv_results_["rank_test_score"]) == [2, 1]
    reason = search.study_.get_trial(int(search.trial_numbers_[0])).fail_reason
    assert "2 of 2 folds failed to fit" in reason and "must be a float" in reason


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="must be a scikit-learn estimator"):
        SearchCV(object(), {"C": hs.Float(0.1, 1)}).fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match="instance"):
        SearchCV(LogisticRegression, {"C": hs.Float(0.1, 1)}).fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match=r"'c' is not a parameter.*valid names: C"):
        SearchCV(LogisticRegression(), {"c": hs.Float(0.1, 1)}).fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match=r"hs\.Float"):
        SearchCV(LogisticRegression(), {"C": 0.5}).fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match=r"space\['C'\] is an empty list"):
        SearchCV(LogisticRegression(), {"C": []}).fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match="2-d array"):
        SearchCV(LogisticRegression(), {"C": np.ones((2, 2))}).fit(X, y)
    with pytest.raises(TypeError, match="param_grid must be a dict"):
        GridSearchCV(LogisticRegression(), "C").fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match="n_trials"):
        SearchCV(LogisticRegression(), {"C": hs.Float(0.1, 1)}, n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="refit must be set to a scorer key"):
        SearchCV(
            LogisticRegression(), {"C": hs.Float(0.1, 1)}, scoring=["accuracy", "f1_macro"]
        ).fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match="Unknown sampler"):
        SearchCV(LogisticRegression(), {"C": hs.Float(0.1, 1)}, sampler="nope").fit(X, y)
    with pytest.raises(NotFittedError):
        small_search().predict(X)


def test_refit_false_keeps_results_but_no_model() -> None:
    search = small_search(n_trials=2, refit=False).fit(X, y)
    assert search.best_params_ and not hasattr(search, "best_estimator_")
    assert not hasattr(search, "predict")
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as info:
        search.predict(X)
    assert "`refit=False`. predict is available only after refitting" in str(info.value.__cause__)


def test_a_stored_search_can_be_inspected_and_reloaded(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'search.db'}"
    search = small_search(n_trials=2, storage=url, study_name="iris-lr").fit(X, y)
    again = pickle.loads(pickle.dumps(search))
    assert again.study_.name == "iris-lr" and len(again.study_.trials) == 2
    assert hs.load_study("iris-lr", storage=url).best_params == search.best_params_


# scikit-learn's own estimator checks ---------------------------------------------------------
# Skipped in the fast suite (all run under -m slow): the two sparse-input checks only repeat
# every other check on sparse data and take most of the time. Expected failures: the same two
# scikit-learn itself lists for GridSearchCV and RandomizedSearchCV (in
# sklearn/utils/_test_common/instance_generator.py), for the same reasons.
FAST_SKIP = {"check_estimator_sparse_array", "check_estimator_sparse_matrix"}
EXPECTED_FAILURES = {
    "check_supervised_y_2d": "DataConversionWarning not caught (as for GridSearchCV)",
    "check_requires_y_none": "Doesn't fail gracefully (as for GridSearchCV)",
}


def _expected(estimator: Any) -> dict[str, str]:
    return EXPECTED_FAILURES


def _ridge_search() -> SearchCV:
    return SearchCV(
        Ridge(),
        {"alpha": hs.Float(0.1, 10.0, log=True)},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    )


def _classifier_search() -> SearchCV:
    return SearchCV(
        Pipeline([("pca", PCA()), ("lr", LogisticRegression())]),
        {"lr__C": hs.Float(0.1, 10.0, log=True)},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    )


@parametrize_with_checks([_ridge_search()], expected_failed_checks=_expected)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    name = getattr(check, "func", check).__name__
    if name in FAST_SKIP:
        pytest.skip("sparse checks run in the slow suite")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


@pytest.mark.slow
@parametrize_with_checks([_ridge_search(), _classifier_search()], expected_failed_checks=_expected)
def test_sklearn_estimator_checks_all(estimator: Any, check: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# scikit-learn's searcher semantics (issue 17) ------------------------------------------------
def test_any_picklable_value_is_a_grid_choice_and_is_stored_by_label(tmp_path: Any) -> None:
    from sklearn.neural_network import MLPClassifier

    url = f"sqlite:///{tmp_path / 'mlp.db'}"
    grid = {
        "hidden_layer_sizes": [(4,), (8, 4)],  # tuples
        "alpha": [1e-3, 1e-3],  # a repeated value: two candidates
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the tiny MLPs
        search = GridSearchCV(
            MLPClassifier(max_iter=30, random_state=0), grid, cv=2, storage=url, study_name="mlp"
        ).fit(X, y)
    res = search.cv_results_
    assert res["params"] == [
        {"alpha": 1e-3, "hidden_layer_sizes": (4,)},
        {"alpha": 1e-3, "hidden_layer_sizes": (8, 4)},
        {"alpha": 1e-3, "hidden_layer_sizes": (4,)},
        {"alpha": 1e-3, "hidden_layer_sizes": (8, 4)},
    ]
    assert res["param_hidden_layer_sizes"].dtype == object
    assert res["param_alpha"].dtype == np.float64
    assert search.best_params_["hidden_layer_sizes"] in [(4,), (8, 4)]
    # JSON can't hold a tuple: the study stores its label (repr); the number as itself
    stored = hs.load_study("mlp", storage=url).trials
    assert [t.params["hidden_layer_sizes"] for t in stored] == ["(4,)", "(8, 4)"] * 2
    assert [t.params["alpha"] for t in stored] == [1e-3] * 4
    # resumable: the same search on the same study adds trials under the same definitions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone(search).fit(X, y)
    assert len(hs.load_study("mlp", storage=url).trials) == 8
    # other values under the same names would mix meanings: refused, nothing run or lost
    other = clone(search).set_params(param_grid={**grid, "hidden_layer_sizes": [(5,), (8, 4)]})
    with pytest.raises(hs.InvalidArgumentError, match="hidden_layer_sizes"):
        other.fit(X, y)
    assert len(hs.load_study("mlp", storage=url).trials) == 8


def test_estimators_with_equal_reprs_get_distinct_labels() -> None:
    from sklearn.tree import DecisionTreeClassifier

    first, second = DecisionTreeClassifier(max_depth=1), DecisionTreeClassifier(max_depth=1)
    search = SearchCV(
        Pipeline([("clf", first)]),
        {"clf": [first, second, LogisticRegression(max_iter=300)]},
        n_trials=3,
        cv=2,
        sampler="grid",
    ).fit(X, y)
    labels = [t.params["clf"] for t in search.study_.trials]
    assert labels == [
        "DecisionTreeClassifier(max_depth=1) #0",
        "DecisionTreeClassifier(max_depth=1) #1",
        "LogisticRegression(max_iter=300)",
    ]
    assert search.cv_results_["params"][1]["clf"] is second


def test_dicts_estimators_none_and_arrays_as_choices() -> None:
    from sklearn.tree import DecisionTreeClassifier

    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))])
    grid = {
        "clf": [LogisticRegression(max_iter=300), DecisionTreeClassifier(random_state=0)],
        "clf__class_weight": [None, {0: 1.0, 1: 2.0, 2: 1.0}],
        "scale": [StandardScaler(), "passthrough"],
    }
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    res = search.cv_results_
    assert len(res["params"]) == 8 and res["param_clf"].dtype == object
    assert res["param_clf__class_weight"][2] == {0: 1.0, 1: 2.0, 2: 1.0}
    assert not hasattr(grid["clf"][0], "coef_")  # the grid's estimators are never fitted
    best = search.best_estimator_.named_steps["clf"]
    assert best is not search.best_params_["clf"] and hasattr(best, "classes_")


def test_a_list_of_grids_and_an_empty_space() -> None:
    grids = [{"C": [0.1, 10.0]}, {"penalty": [None], "solver": ["lbfgs"]}]
    search = GridSearchCV(LogisticRegression(max_iter=500), grids, cv=3).fit(X, y)
    res = search.cv_results_
    assert res["params"] == [{"C": 0.1}, {"C": 10.0}, {"penalty": None, "solver": "lbfgs"}]
    assert list(res["param_C"].mask) == [False, False, True]
    assert list(res["param_penalty"].mask) == [True, True, False]
    plain = SearchCV(LogisticRegression(max_iter=500), {}, cv=3).fit(X, y)
    assert plain.cv_results_["params"] == [{}] and plain.best_params_ == {}


def test_matches_scikit_learns_own_searchers() -> None:
    from sklearn import model_selection as ms

    grid = {"C": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}
    ours = GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3, return_train_score=True)
    theirs = ms.GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3, return_train_score=True)
    ours.fit(X, y)
    theirs.fit(X, y)
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    for key, value in theirs.cv_results_.items():
        if key.endswith("_score"):
            np.testing.assert_allclose(ours.cv_results_[key], value, err_msg=key)
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    assert ours.best_index_ == theirs.best_index_ and ours.best_params_ == theirs.best_params_
    # RandomizedSearchCV draws the same candidates for the same seed
    dist = {"C": loguniform(1e-3, 1e2), "fit_intercept": [True, False]}
    ours_r = RandomizedSearchCVHS(
        LogisticRegression(max_iter=500), dist, n_iter=4, cv=3, random_state=3
    ).fit(X, y)
    theirs_r = RandomizedSearchCV(
        LogisticRegression(max_iter=500), dist, n_iter=4, cv=3, random_state=3
    ).fit(X, y)
    assert ours_r.cv_results_["params"] == theirs_r.cv_results_["params"]
    # a distribution's draws are stored as numbers in a Float range of its support
    definition = ours_r.study_.trials[0].distributions["C"]
    assert isinstance(definition, hs.Float) and definition.low >= 1e-3


def test_finite_spaces_are_sampled_without_replacement() -> None:
    space = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    search = SearchCV(
        LogisticRegression(max_iter=500),
        space,
        n_trials=6,
        cv=2,
        sampler="random",
        random_state=0,
    ).fit(X, y)
    seen = [tuple(sorted(p.items())) for p in search.cv_results_["params"]]
    assert len(seen) == 6 and len(set(seen)) == 6
    with pytest.warns(UserWarning, match="space has 4 points, fewer than n_trials=10"):
        small = SearchCV(
            LogisticRegression(max_iter=500),
            {"C": hs.Choice([0.1, 1.0]), "fit_intercept": hs.Bool()},
            n_trials=10,
            cv=2,
            sampler="tpe",
            random_state=0,
        ).fit(X, y)
    seen = [tuple(sorted(p.items())) for p in small.cv_results_["params"]]
    assert len(seen) == 4 and len(set(seen)) == 4


def test_multi_metric_scoring_with_every_refit_form() -> None:
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    grid = {"C": [0.01, 1.0]}
    by_name = GridSearchCV(
        LogisticRegression(max_iter=500), grid, scoring=scoring, refit="f1", cv=3
    ).fit(X, y)
    res = by_name.cv_results_
    assert by_name.multimetric_ and set(by_name.scorer_) == {"acc", "f1"}
    assert {"mean_test_acc", "rank_test_f1", "split2_test_f1"} <= set(res)
    assert by_name.best_index_ == int(np.argmin(res["rank_test_f1"]))
    assert by_name.best_score_ == res["mean_test_f1"][by_name.best_index_]
    assert by_name.score(X, y) == pytest.approx(f1_score(y, by_name.predict(X), average="macro"))
    assert by_name.study_.metric == "mean_test_f1"
    assert set(by_name.study_.trials[0].metrics) == {"mean_test_acc"}
    worst = GridSearchCV(
        LogisticRegression(max_iter=500),
        grid,
        scoring=scoring,
        refit=lambda r: int(np.argmin(r["mean_test_acc"])),
        cv=3,
    ).fit(X, y)
    assert worst.best_index_ == 0 and not hasattr(worst, "best_score_")
    none = GridSearchCV(
        LogisticRegression(max_iter=500), grid, scoring=scoring, refit=False, cv=3
    ).fit(X, y)
    assert not hasattr(none, "best_index_") and not hasattr(none, "best_estimator_")


def test_sample_weight_reaches_fit_and_scorer_and_routing_reaches_score() -> None:
    import sklearn
    from sklearn.metrics import accuracy_score

    weights = np.where(y == 2, 5.0, 1.0)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    search = GridSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.05]}, cv=splits, scoring="accuracy"
    ).fit(X, y, sample_weight=weights)
    for j, (train, test) in enumerate(splits):
        model = LogisticRegression(max_iter=500, C=0.05).fit(
            X[train], y[train], sample_weight=weights[train]
        )
        expected = accuracy_score(y[test], model.predict(X[test]), sample_weight=weights[test])
        assert search.cv_results_[f"split{j}_test_score"][0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        search.score(X, y, sample_weight=weights)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_scorer(accuracy_score).set_score_request(sample_weight=True)
        routed = GridSearchCV(
            LogisticRegression(max_iter=500).set_fit_request(sample_weight=False),
            {"C": [0.05]},
            cv=3,
            scoring=scorer,
        ).fit(X, y, sample_weight=weights)
        assert routed.score(X, y, sample_weight=weights) == pytest.approx(
            accuracy_score(y, routed.predict(X), sample_weight=weights)
        )


def test_verbose_prints_the_plan_and_one_line_per_fold(capsys: Any) -> None:
    GridSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=3, verbose=3, pre_dispatch="n_jobs"
    ).fit(X, y)
    out = capsys.readouterr().out
    assert "Fitting 3 folds for each of 2 candidates, totalling 6 fits" in out
    assert len(re.findall(r"\[CV \d/3\] END C=\S+; score=[\d.]+", out)) == 6


def test_a_nan_fold_score_warns_and_keeps_the_candidate() -> None:
    calls = {"n": 0}

    def sometimes_nan(est: Any, X_: Any, y_: Any) -> float:
        calls["n"] += 1
        return float("nan") if calls["n"] == 2 else 0.9

    with pytest.warns(UserWarning, match="test scores are non-finite") as record:
        search = GridSearchCV(
            LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=2, scoring=sometimes_nan
        ).fit(X, y)
    assert not any(issubclass(w.category, FitFailedWarning) for w in record)
    res = search.cv_results_
    assert np.isnan(res["mean_test_score"][0]) and list(res["rank_test_score"]) == [2, 1]
    assert search.best_index_ == 1
    reason = search.study_.get_trial(int(search.trial_numbers_[0])).fail_reason
    assert "scorer returned NaN on fold(s) 1" in reason and "error_score" not in reason


def test_a_value_that_cannot_be_pickled_is_refused_naming_the_parameter(tmp_path: Any) -> None:
    with pytest.raises(hs.InvalidArgumentError, match=r"parameter 'func'.*cannot be pickled"):
        GridSearchCV(
            FunctionTransformer(),
            {"func": [np.log1p, lambda v: v]},
            cv=2,
            scoring=lambda est, X_: 0.0,
        ).fit(X)
    with (
        open(tmp_path / "f.txt", "w") as handle,
        pytest.raises(hs.InvalidArgumentError, match=r"parameter 'func'.*cannot be pickled"),
    ):
        GridSearchCV(
            FunctionTransformer(), {"func": [handle]}, cv=2, scoring=lambda est, X_: 0.0
        ).fit(X)
    with pytest.raises(hs.InvalidArgumentError, match="list of grids needs sampler='grid'"):
        SearchCV(LogisticRegression(), [{"C": [1.0]}, {"C": [2.0]}], sampler="tpe").fit(X, y)
    with pytest.raises(hs.InvalidArgumentError, match="only sampler='random' can draw"):
        SearchCV(LogisticRegression(), {"C": loguniform(0.1, 1)}, sampler="tpe").fit(X, y)


@pytest.mark.skipif(not hasattr(LogisticRegression, "set_callbacks"), reason="scikit-learn < 1.9")
def test_set_callbacks_sees_every_fold_and_the_refit() -> None:
    from sklearn.callback import ProgressBar  # noqa: F401  (the module exists)
    from sklearn.callback.tests._utils import RecordingCallback

    callback = RecordingCallback()
    search = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=3)
    search.set_callbacks(callback).fit(X, y)
    # root + search + refit + 2 candidates x 3 folds
    assert callback.count_hooks("on_fit_task_begin") == 1 + 1 + 1 + 6


@pytest.mark.parametrize("sampler", ["tpe", "sobol"])
def test_a_model_based_sampler_never_fits_a_candidate_twice(sampler: str) -> None:
    space = {"C": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}  # 6 points, 5 trials
    search = SearchCV(
        LogisticRegression(max_iter=300),
        space,
        n_trials=5,
        cv=2,
        sampler=sampler,
        random_state=1,
    ).fit(X, y)
    seen = [tuple(sorted(p.items())) for p in search.cv_results_["params"]]
    assert len(seen) == 5 and len(set(seen)) == 5
    repeats = [t for t in search.study_.trials if t.state is hs.TrialState.STOPPED]
    assert all(t.note.startswith("a repeat of trial") for t in repeats)
    assert len(search.study_.trials) == 5 + len(repeats)


def test_hs_choice_of_objects_points_to_a_plain_list() -> None:
    with pytest.raises(hs.InvalidSpaceError, match="plain list of any picklable values"):
        hs.Choice([(50,), (100,)])


def test_a_model_based_sampler_searches_over_estimators() -> None:
    from sklearn.preprocessing import MinMaxScaler
    from sklearn.tree import DecisionTreeClassifier

    models = [LogisticRegression(max_iter=300), DecisionTreeClassifier(random_state=0)]
    scalers = [StandardScaler(), MinMaxScaler(), "passthrough"]
    search = SearchCV(
        Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]),
        {"clf": models, "scale": scalers},  # 6 points, 4 trials: the sampler picks
        n_trials=4,
        cv=2,
        sampler="tpe",
        random_state=0,
    ).fit(X, y)
    for params in search.cv_results_["params"]:
        assert any(params["clf"] is m for m in models)
        assert any(params["scale"] is s for s in scalers)
    stored = search.study_.trials[0].distributions["clf"]
    assert stored == hs.Choice(
        ["LogisticRegression(max_iter=300)", "DecisionTreeClassifier(random_state=0)"]
    )


def test_resuming_a_list_of_grids_with_other_values_is_refused_before_anything_runs(
    tmp_path: Any,
) -> None:
    url = f"sqlite:///{tmp_path / 'grids.db'}"
    grids = [{"C": [0.1, 1.0]}, {"class_weight": [{0: 1, 1: 2, 2: 1}]}]
    GridSearchCV(LogisticRegression(max_iter=300), grids, cv=2, storage=url, study_name="g").fit(
        X, y
    )
    changed = [{"C": [0.1, 1.0]}, {"class_weight": [{0: 5, 1: 1, 2: 1}]}]
    with pytest.raises(hs.InvalidArgumentError, match="stored 'class_weight' as"):
        GridSearchCV(
            LogisticRegression(max_iter=300), changed, cv=2, storage=url, study_name="g"
        ).fit(X, y)
    trials = hs.load_study("g", storage=url).trials
    assert len(trials) == 3 and all(t.state is hs.TrialState.COMPLETE for t in trials)


# several metrics as several objectives ---------------------------------------------------------
def test_directions_make_a_multi_objective_search_with_a_pareto_front() -> None:
    search = SearchCV(
        LogisticRegression(max_iter=300),
        {"C": hs.Float(1e-3, 1e2, log=True)},
        n_trials=8,
        cv=3,
        scoring=["accuracy", "f1_macro"],
        directions={"accuracy": "maximize", "fit_time": "minimize"},
        refit="accuracy",
        random_state=0,
        sampler="random",
    ).fit(X, y)
    study = search.study_
    assert study.is_multi_objective
    assert [o.name for o in study.objectives] == ["mean_test_accuracy", "mean_fit_time"]
    res = search.cv_results_
    front = list(search.pareto_front_)
    acc, fit_time = res["mean_test_accuracy"], res["mean_fit_time"]
    for i in range(len(res["params"])):  # the front by its definition, pairwise
        beaten = any(
            acc[j] >= acc[i]
            and fit_time[j] <= fit_time[i]
            and (acc[j] > acc[i] or fit_time[j] < fit_time[i])
            for j in range(len(res["params"]))
        )
        assert (i in front) is not beaten
    assert [acc[i] for i in front] == sorted((acc[i] for i in front), reverse=True)
    assert search.best_index_ == front[0] and search.best_score_ == acc.max()
    assert search.best_params_ == res["params"][front[0]]
    assert search.best_estimator_.predict(X[:3]).shape == (3,)
    trial = study.trials[0]
    assert set(trial.intermediate_values) == {1, 2, 3}  # every objective after every fold


def test_directions_with_a_callable_refit_pick_from_the_front() -> None:
    def most_regularised_on_front(results: dict[str, Any]) -> int:
        return int(min(chosen.pareto_front_, key=lambda i: results["param_C"][i]))

    chosen = small_search(
        scoring="accuracy",
        directions={"score": "maximize", "score_time": "minimize"},
        refit=most_regularised_on_front,
    )
    chosen.fit(X, y)
    assert chosen.best_index_ in set(chosen.pareto_front_)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"directions": {"accuracy": "maximize"}}, "two or more metrics"),
        ({"directions": {"accuracy": "best", "fit_time": "minimize"}}, "'maximize' or 'minimize'"),
        ({"directions": {"recall": "maximize", "fit_time": "minimize"}}, "neither a metric"),
        (
            {"directions": {"accuracy": "maximize", "f1_macro": "maximize"}, "refit": True},
            "refit must name",
        ),
    ],
)
def test_bad_directions_are_refused(kwargs: dict[str, Any], message: str) -> None:
    search = small_search(scoring=["accuracy", "f1_macro"], **{"refit": "accuracy", **kwargs})
    with pytest.raises(hs.InvalidArgumentError, match=message):
        search.fit(X, y)
