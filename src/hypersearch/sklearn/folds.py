"""The folds of one ``fit``: each candidate fitted and scored fold by fold (a fold is one
step of the trial's learning curve), with every fold's scores, times and fit error kept for
``cv_results_``."""

from __future__ import annotations

import numbers
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError, TrialPruned
from hypersearch.sklearn._compat import _check_method_params, _safe_split, clone
from hypersearch.sklearn.plan import Plan, point_key
from hypersearch.sklearn.scoring import (
    TIMES,
    Scoring,
    checked_directions,
    objective_key,
    study_metric,
)

if TYPE_CHECKING:
    from hypersearch.sklearn.search import SearchCV


class CandidateNotScored(Exception):
    """A candidate's mean score is NaN: the trial is FAILED with this reason (the search
    goes on and keeps the candidate in ``cv_results_``, as scikit-learn does)."""


class FoldRun:
    """The folds of one ``fit``: fits and scores each candidate, and keeps every fold's
    scores, times and fit error for ``cv_results_``."""

    def __init__(
        self,
        search: SearchCV,
        X: Any,
        y: Any,
        splits: list[tuple[np.ndarray, np.ndarray]],
        scoring: Scoring,
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

    def objective(self, plan: Plan) -> Callable[[Any], Any]:
        search = self.search
        n_splits = len(self.splits)
        from joblib import effective_n_jobs

        batch = int(max(1, min(n_splits, effective_n_jobs(search.n_jobs))))
        queue = list(plan.candidates or [])

        def run(trial: Any) -> Any:
            params = self._trial_params(trial, plan, queue)
            if plan.grid is not None:
                key = point_key(trial.params)
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

    def _trial_params(self, trial: Any, plan: Plan, queue: list[dict[str, Any]]) -> dict[str, Any]:
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
                m[i, j] = r[key] if metric is None else fold_score(r, key, metric, error)
        return m

    def _running_value(self, results: list[dict[str, Any]]) -> Any:
        """What a trial reports after ``results`` folds: the running mean of the refit
        metric, or with ``directions`` of every objective."""
        objectives = checked_directions(self.search)
        if objectives is None:
            return _running_mean(results, self.primary())
        out = {}
        for name in objectives:
            if name in TIMES:
                out[objective_key(name)] = float(np.mean([r[name] for r in results]))
            else:
                out[objective_key(name)] = _running_mean(results, name)
        return out

    def _trial_value(self, results: list[dict[str, Any]]) -> Any:
        error = self.search.error_score
        names = self.metric_names()
        means = {
            name: float(np.mean([fold_score(r, "test", name, error) for r in results]))
            for name in names
        }
        objectives = checked_directions(self.search)
        judged = self.primary()  # the metric whose NaN mean fails the trial
        if objectives is not None:
            unscored = [k for k in objectives if k not in TIMES and np.isnan(means.get(k, np.nan))]
            scored = [k for k in objectives if k not in TIMES]
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
                    if np.isnan(fold_score(r, "test", judged, error))
                ]
                reason = (
                    f"the scorer returned NaN on fold(s) {', '.join(str(i) for i in nan)} "
                    "(no fit failed); the candidate is kept and ranked last"
                )
            raise CandidateNotScored(reason)
        if objectives is not None:
            value = {f"mean_test_{name}": mean for name, mean in means.items()}
            for name in objectives:
                if name in TIMES:
                    value[objective_key(name)] = float(np.mean([r[name] for r in results]))
            return value
        metric = study_metric(self.search, self.scoring)
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
                    fit_estimator(est, X_train, y_train, fit_params)
            else:
                fit_estimator(est, X_train, y_train, fit_params)
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
            test = {s: fold_score(result, "test", s, error) for s in names}
            train = None
            if self.search.return_train_score:
                train = {s: fold_score(result, "train", s, error) for s in names}
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


def fit_estimator(est: Any, X: Any, y: Any, params: Mapping[str, Any]) -> None:
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


def fold_score(result: Mapping[str, Any], which: str, name: str, error: Any) -> float:
    scores = result[which]
    if scores is None:  # the fit failed (or train scores are off)
        return float(error) if result["fit_error"] is not None else np.nan
    return float(scores.get(name, np.nan))


def _running_mean(results: Sequence[Mapping[str, Any]], name: str) -> float:
    values = [fold_score(r, "test", name, np.nan) for r in results]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")
