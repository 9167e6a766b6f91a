"""The KerasTuner-style ``Tuner`` on a hypersearch study, and its ``oracle``."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.keras.backend import import_keras
from hypersearch.keras.hyperparameters import (
    DEFAULT_OBJECTIVE,
    Definition,
    HyperParameters,
    Objective,
    parse_objective,
)
from hypersearch.keras.trials import FunctionHyperModel, HyperModel, TunerTrial, trial_view

__all__ = ["STRATEGIES", "Oracle", "Tuner", "resolve_strategy"]

#: Strategy names beyond the sampler names: (candidate samplers, first available wins;
#: scheduler or None).
STRATEGIES: dict[str, tuple[Sequence[str], str | None]] = {
    "bayes": (("gp", "tpe"), None),
    "bayesian": (("gp", "tpe"), None),
    "hyperband": (("random",), "hyperband"),
    "asha": (("random",), "asha"),
    "bohb": (("tpe", "random"), "hyperband"),
}


class Oracle:
    """What KerasTuner code reads from ``tuner.oracle``: ``objective``, ``max_trials``,
    ``trials`` (id -> TunerTrial) and ``get_best_trials``; the study decides the rest."""

    def __init__(self, tuner: Tuner) -> None:
        self._tuner = tuner
        self.objective = Objective(tuner.objective_name, tuner.direction.keras_mode)
        self.max_trials = tuner.max_trials

    @property
    def trials(self) -> dict[str, TunerTrial]:
        study = self._tuner.study
        return {} if study is None else {str(t.number): trial_view(t) for t in study.trials}

    def get_trial(self, trial_id: str) -> TunerTrial:
        return self.trials[str(trial_id)]

    def get_best_trials(self, num_trials: int = 1) -> list[TunerTrial]:
        return [trial_view(t) for t in self._tuner._best_records(num_trials)]


# the tuner ------------------------------------------------------------------------------------
def resolve_strategy(strategy: str) -> tuple[str, str | None]:
    """A strategy name as (sampler name, scheduler name or None), checked against the
    samplers and schedulers this installation has."""
    from hypersearch import samplers, schedulers

    sampler_names = samplers.sampler_names()
    scheduler_names = schedulers.scheduler_names()
    if not isinstance(strategy, str):
        raise InvalidArgumentError(f"strategy must be a name, got {strategy!r}.")
    if strategy in sampler_names:
        return strategy, None
    entry = STRATEGIES.get(strategy)
    if entry is not None:
        candidates, scheduler = entry
        sampler = next((c for c in candidates if c in sampler_names), None)
        if sampler is not None and (scheduler is None or scheduler in scheduler_names):
            return sampler, scheduler
    available = sorted(
        set(sampler_names)
        | {
            k
            for k, (cands, sched) in STRATEGIES.items()
            if any(c in sampler_names for c in cands)
            and (sched is None or sched in scheduler_names)
        }
    )
    raise InvalidArgumentError(
        f"Unknown or unavailable strategy {strategy!r}. Use one of "
        f"{', '.join(map(repr, available))} (samplers here: {', '.join(sampler_names)}; "
        f"schedulers: {', '.join(scheduler_names)})."
    )


#: KerasTuner constructor options that have nothing to do here; accepted at their defaults.
_INERT = {
    "tune_new_entries": True,
    "allow_new_entries": True,
    "distribution_strategy": None,
    "logger": None,
    "tuner_id": None,
    "max_model_size": None,
    "optimizer": None,
    "loss": None,
    "metrics": None,
}
_DB_FILE = "hypersearch.db"


class Tuner:
    """Search a hypermodel's hyperparameters, KerasTuner-style, on a hypersearch study.

    ``hypermodel``: a function ``hp -> compiled keras.Model`` or a ``HyperModel``; may be
    left out when a subclass overrides ``run_trial(trial, *args, **kwargs)``.
    ``strategy``: ``"bayes"`` (the GP sampler, else TPE), ``"random"``, ``"grid"``,
    ``"hyperband"`` / ``"asha"`` (random sampling, early stopping on epochs), or any name in
    ``hs.samplers.sampler_names()``; ``scheduler`` adds or replaces the stopping rule.
    ``directory`` / ``project_name``: the search lives in
    ``<directory>/<project_name>/hypersearch.db`` (best-epoch weights under ``weights/``) and is
    resumed unless ``overwrite=True``; without a directory it lives in memory (or in
    ``storage`` / ``study_name``, which the CLI and dashboard read).
    """

    def __init__(
        self,
        hypermodel: HyperModel | Callable[[HyperParameters], Any] | None = None,
        objective: str | Objective | tuple[str, str] | None = None,
        max_trials: int | None = 10,
        executions_per_trial: int = 1,
        *,
        strategy: str = "bayes",
        scheduler: Any = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        storage: Any = None,
        study_name: str | None = None,
        directory: str | os.PathLike[str] | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        sampler_options: Mapping[str, Any] | None = None,
        **kerastuner_options: Any,
    ) -> None:
        for key, value in kerastuner_options.items():
            if key not in _INERT:
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument {key!r}."
                )
            if value != _INERT[key]:
                raise InvalidArgumentError(
                    f"{type(self).__name__}({key}={value!r}) is not supported by "
                    f"hypersearch.keras; leave {key} at {_INERT[key]!r} (see "
                    "docs/front-doors.md)."
                )
        if hypermodel is None:
            if type(self).run_trial is Tuner.run_trial:
                raise InvalidArgumentError(
                    "hypermodel is missing: pass build_model (hp -> compiled keras.Model) or "
                    "a HyperModel, or subclass the tuner and override run_trial."
                )
            self.hypermodel: HyperModel | None = None
        elif isinstance(hypermodel, HyperModel):
            self.hypermodel = hypermodel
        elif callable(hypermodel):
            self.hypermodel = FunctionHyperModel(hypermodel)
        else:
            raise InvalidArgumentError(
                "hypermodel must be a function hp -> compiled keras.Model or a HyperModel, "
                f"got {hypermodel!r}."
            )
        if max_trials is not None and (
            isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1
        ):
            raise InvalidArgumentError(
                f"max_trials must be a positive integer, got {max_trials!r}."
            )
        if (
            isinstance(executions_per_trial, bool)
            or not isinstance(executions_per_trial, int)
            or executions_per_trial < 1
        ):
            raise InvalidArgumentError(
                f"executions_per_trial must be a positive integer, got {executions_per_trial!r}."
            )
        self.objective_name, self.direction = parse_objective(objective)
        self.max_trials = max_trials
        self.executions_per_trial = executions_per_trial
        self.strategy = strategy
        self.sampler_name, default_scheduler = resolve_strategy(strategy)
        self.sampler_options = dict(sampler_options or {})
        self.scheduler = scheduler if scheduler is not None else default_scheduler
        self.seed = seed
        self.fixed_values = dict(hyperparameters.values) if hyperparameters is not None else {}
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.project_dir: Path | None = None
        if directory is not None:
            self.project_dir = Path(directory) / (project_name or "untitled_project")
            if overwrite:
                _remove_project(self.project_dir)
            self.project_dir.mkdir(parents=True, exist_ok=True)
            if storage is None:
                storage = f"sqlite:///{self.project_dir / _DB_FILE}"
        self.storage = storage
        self.study_name = study_name or project_name
        self.overwrite = overwrite
        self.directory = None if directory is None else os.fspath(directory)
        self.study: Any = None
        self.oracle = Oracle(self)
        self._weights: dict[int, Any] = {}
        self._space: dict[str, Definition] = {}
        self._sample: Any = None  # a batch of inputs, to build lazily-built models
        self._live: Any = None  # the hypersearch trial run_trial is training
        self.keras = import_keras()

    # the study ----------------------------------------------------------------------------
    def _scheduler_for(self, epochs: int) -> Any:
        from hypersearch import schedulers

        if self.scheduler in ("hyperband", "asha"):
            if epochs < 2:
                return None  # one epoch: nothing to stop early
            cls = schedulers.Hyperband if self.scheduler == "hyperband" else schedulers.ASHA
            return cls(min_resource=1, max_resource=epochs)
        return self.scheduler

    def _sampler_spec(self) -> Any:
        return {"name": self.sampler_name, **self.sampler_options}

    def _study_space(self) -> dict[str, Any] | None:
        return None  # define-by-run; GridSearch declares its grid up front

    def _make_study(self, epochs: int) -> Any:
        import hypersearch as hs

        name = self.study_name
        if name is None and self.storage is not None:
            import uuid

            name = f"keras-tuner-{uuid.uuid4().hex[:8]}"
        if (
            self.overwrite
            and name is not None
            and self.storage is not None
            and not self.project_dir
        ):
            from hypersearch.storage import get_storage

            with contextlib.suppress(HypersearchError, KeyError):
                get_storage(self.storage).delete_study(name)
        return hs.create_study(
            name,
            space=self._study_space(),
            direction=self.direction,
            metric=self.objective_name,
            sampler=self._sampler_spec(),
            scheduler=self._scheduler_for(epochs),
            storage=self.storage,
            seed=self.seed,
            load_if_exists=name is not None,
        )

    # searching ------------------------------------------------------------------------------
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run trials until ``max_trials`` have finished (counting those of a resumed study):
        each builds a model and trains it with ``hypermodel.fit(hp, model, *fit_args,
        **fit_kwargs)`` (by default ``model.fit``). ``verbose=1`` (the default) prints a line
        per trial and Keras's own epoch lines; ``verbose=0`` is silent."""
        verbose = fit_kwargs.pop("verbose", 1)
        epochs = self._epochs(fit_kwargs)
        self._check_validation(fit_args, fit_kwargs)
        self._sample = _first_batch(fit_args, fit_kwargs)
        if self.study is None:
            self.study = self._make_study(epochs)
        done = sum(1 for t in self.study.trials if t.state.is_finished)
        total = self._trial_budget()
        todo = None if total is None else total - done
        if todo is not None and todo <= 0:
            if verbose:
                print(f"Search: {done} trial(s) already finished (max_trials={total}).")
            return
        if self.hypermodel is not None:
            fit_kwargs["verbose"] = verbose
        started = time.monotonic()

        def objective(trial: Any) -> dict[str, Any]:
            view = TunerTrial(str(trial.number), HyperParameters(trial, self.fixed_values))
            view._callbacks = []
            self._live = trial
            try:
                result = self.run_trial(view, *fit_args, **fit_kwargs)
            finally:
                for d in view.hyperparameters.space:
                    self._space.setdefault(d.name, d)
            return self._score(view, result)

        def announce(study: Any, record: Any) -> None:
            if verbose:
                _announce(study, record, done, total, started)

        self.study.optimize(
            objective,
            n_trials=todo,
            max_failures=self.max_consecutive_failed_trials,
            max_retries=self.max_retries_per_trial,
            callbacks=[announce],
            show_progress=False,
        )

    def _epochs(self, fit_kwargs: dict[str, Any]) -> int:
        epochs = fit_kwargs.get("epochs", 1)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise InvalidArgumentError(f"epochs must be a positive integer, got {epochs!r}.")
        return epochs

    def _trial_budget(self) -> int | None:
        return self.max_trials

    def _check_validation(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
        plain_fit = self.hypermodel is not None and type(self.hypermodel).fit is HyperModel.fit
        if (
            plain_fit
            and type(self).run_trial is Tuner.run_trial
            and self.objective_name.startswith("val_")
            and fit_kwargs.get("validation_data") is None
            and not fit_kwargs.get("validation_split")
            and len(fit_args) < 3
        ):
            raise InvalidArgumentError(
                f"objective {self.objective_name!r} needs validation data: pass "
                "validation_data=(x_val, y_val) or validation_split=0.2 to search()."
            )

    def run_trial(self, trial: TunerTrial, *args: Any, **kwargs: Any) -> Any:
        """Build and train ``executions_per_trial`` models with ``trial.hyperparameters``;
        return their ``fit`` results. Override it to tune anything: return a number (the
        objective) or a dict of metrics."""
        from hypersearch.integrations.keras import HypersearchKerasCallback

        assert self.hypermodel is not None  # checked in __init__
        hp = trial.hyperparameters
        live = self._live
        results = []
        curves: list[dict[int, float]] = []
        n = self.executions_per_trial
        for execution in range(n):
            last = execution == n - 1

            def mean_so_far(epochs: int, value: float, _curves: Any = curves) -> float:
                seen = [c[epochs] for c in _curves if epochs in c]
                return sum(seen, value) / (len(seen) + 1)

            cb = HypersearchKerasCallback(
                live,
                monitor=self.objective_name,
                checkpoint=last and n == 1 and self.study.scheduler is not None,
                mode=self.direction,
                report=last,
                report_transform=mean_so_far if n > 1 else None,
                on_missing="skip",
            )
            trial._callbacks.append(cb)
            self.keras.backend.clear_session()
            model = self._build(hp)
            fit_kwargs = dict(kwargs)
            fit_kwargs["callbacks"] = [*(fit_kwargs.get("callbacks") or []), cb]
            start = cb.resume(model, self._sample) if cb.checkpoint else 0
            if start:
                fit_kwargs["initial_epoch"] = start
            results.append(self.hypermodel.fit(hp, model, *args, **fit_kwargs))
            curves.append(dict(cb.curve))
            cb.final_weights = model.get_weights() if model.weights else None
        return results[0] if n == 1 else results

    def _build(self, hp: HyperParameters) -> Any:
        assert self.hypermodel is not None
        model = self.hypermodel.build(hp)
        if not isinstance(model, self.keras.Model):
            raise InvalidArgumentError(
                f"build_model must return a keras.Model, got {type(model).__name__}."
            )
        if not getattr(model, "compiled", getattr(model, "_is_compiled", True)):
            raise InvalidArgumentError(
                "build_model returned a model that is not compiled; call model.compile("
                "optimizer, loss, metrics=[...]) inside build_model."
            )
        return model

    def _score(self, trial: TunerTrial, result: Any) -> dict[str, Any]:
        """The trial's objective (and other metrics) from its callbacks or its result."""
        name = self.objective_name
        loss = self.direction.to_loss
        callbacks = trial._callbacks
        curve = _mean_curve([cb.curve for cb in callbacks])
        if curve:
            finite = {s: v for s, v in curve.items() if math.isfinite(v)}
            if not finite:
                return {name: float("nan")}
            best_step = min(finite, key=lambda s: loss(finite[s]))
            self._keep(trial.number, _best_weights(callbacks, self.direction))
            return {name: finite[best_step], "best_epoch": best_step}
        metrics = _metrics_of(result, name)
        if name not in metrics:
            logged = sorted({k for r in _as_list(result) for k in _history(r)})
            if logged and name == DEFAULT_OBJECTIVE:
                raise InvalidArgumentError(
                    f"No objective was given and fit returned a History (metrics {logged}): "
                    "pass objective='val_accuracy' (or another logged metric, or "
                    "Objective(name, 'min'|'max')), or make HyperModel.fit return a number."
                )
            if logged:
                raise InvalidArgumentError(
                    f"objective {name!r} is not among the metrics model.fit logged: {logged}. "
                    "Compile the model with that metric (e.g. metrics=['accuracy'] for "
                    "val_accuracy) or change objective."
                )
            raise InvalidArgumentError(
                f"objective {name!r} was not reported: fit/run_trial returned {result!r}. "
                "Return the History of model.fit, a number (objective=None minimizes it) or "
                f"a dict holding {name!r}."
            )
        final = [cb.final_weights for cb in callbacks if getattr(cb, "final_weights", None)]
        if final:
            self._keep(trial.number, final[0])
        return metrics

    def _keep(self, number: int, weights: Any) -> None:
        if weights is None:
            return
        if self.project_dir is None:
            self._weights[number] = weights
            return
        import numpy as np

        folder = self.project_dir / "weights"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"trial-{number}.npz"
        np.savez(path, *weights)
        self._weights[number] = str(path)

    # results ----------------------------------------------------------------------------
    def _best_records(self, num: int) -> list[Any]:
        if self.study is None:
            raise HypersearchError("No search has run yet: call tuner.search(...) first.")
        return list(self.study.top(num))

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The ``num_trials`` best trials' hyperparameters, best first."""
        return [HyperParameters(values=t.params) for t in self._best_records(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The ``num_models`` best models, rebuilt with the hypermodel and holding the weights
        of their best epoch."""
        if self.hypermodel is None:
            raise HypersearchError(
                "get_best_models needs a hypermodel; this tuner's run_trial trains its own "
                "models: use get_best_hyperparameters() and rebuild."
            )
        from hypersearch.integrations.keras import ensure_built

        models = []
        for t in self._best_records(num_models):
            kept = self._kept_weights(t.number)
            model = self._build(HyperParameters(values=t.params))
            ensure_built(model, self._sample)
            model.set_weights(kept)
            models.append(model)
        return models

    def _kept_weights(self, number: int) -> Any:
        kept = self._weights.get(number)
        if kept is None and self.project_dir is not None:
            path = self.project_dir / "weights" / f"trial-{number}.npz"
            kept = str(path) if path.exists() else None
        if kept is None:
            raise HypersearchError(
                f"The weights of trial {number} are not kept here (it ran in another process "
                "without directory=..., or did not train a model); retrain it from "
                "get_best_hyperparameters()."
            )
        if isinstance(kept, str):
            import numpy as np

            with np.load(kept) as data:
                return [data[f"arr_{i}"] for i in range(len(data.files))]
        return kept

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best trials: number, score, state and hyperparameters."""
        records = self._best_records(num_trials)
        where = f" in {self.project_dir}" if self.project_dir is not None else ""
        print(f"Results summary{where}")
        print(f"Showing {len(records)} best trials")
        print(f"Objective: {self.objective_name} ({self.direction})")
        for t in records:
            view = trial_view(t)
            print(f"\nTrial {t.number} summary ({view.status})")
            print("Hyperparameters:")
            for k, v in t.params.items():
                print(f"{k}: {v}")
            epoch = f" (best epoch {view.best_step})" if view.best_step is not None else ""
            print(f"Score: {t.value:.6g}{epoch}")

    def search_space_summary(self, extended: bool = False) -> None:
        """Print the hyperparameters and their ranges (before a search, found by building
        the model once with default values)."""
        space = dict(self._space)
        if not space:
            space = {d.name: d for d in self._discover_space()}
        print("Search space summary")
        print(f"Default search space size: {len(space)}")
        for d in space.values():
            print(d.describe())

    def _discover_space(self) -> list[Definition]:
        if self.hypermodel is None:
            return []
        hp = HyperParameters(values=self.fixed_values)
        self.keras.backend.clear_session()
        self.hypermodel.build(hp)
        return hp.space


# helpers ----------------------------------------------------------------------------------
def _remove_project(project: Path) -> None:
    """``overwrite=True``: delete what an earlier search kept in this project folder (its
    database and weights), nothing else."""
    for name in (_DB_FILE, f"{_DB_FILE}-wal", f"{_DB_FILE}-shm", f"{_DB_FILE}-journal"):
        with contextlib.suppress(FileNotFoundError):
            (project / name).unlink()
    for folder in ("weights", f"{_DB_FILE}.artifacts"):
        shutil.rmtree(project / folder, ignore_errors=True)


def _first_batch(fit_args: tuple[Any, ...], fit_kwargs: Mapping[str, Any]) -> Any:
    """A one-sample batch of the inputs (to build lazily-built models), or None."""
    x = fit_args[0] if fit_args else fit_kwargs.get("x")
    if x is None or not hasattr(x, "shape") or not hasattr(x, "__getitem__"):
        return None
    try:
        return x[:1]
    except Exception:  # an input that cannot be sliced: build from layers
        return None


def _mean_curve(curves: Sequence[Mapping[int, float]]) -> dict[int, float]:
    steps = sorted({s for c in curves for s in c})
    out = {}
    for s in steps:
        seen = [c[s] for c in curves if s in c]
        out[s] = sum(seen) / len(seen)
    return out


def _best_weights(callbacks: Sequence[Any], direction: Direction) -> Any:
    scored = [cb for cb in callbacks if cb.best_value is not None and cb.best_weights]
    if not scored:
        return None
    best = min(scored, key=lambda cb: direction.to_loss(cb.best_value))
    return best.best_weights


def _as_list(result: Any) -> list[Any]:
    return list(result) if isinstance(result, list | tuple) else [result]


def _history(result: Any) -> dict[str, Any]:
    history = getattr(result, "history", None)
    return history if isinstance(history, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _metrics_of(result: Any, name: str) -> dict[str, Any]:
    """Metrics from what fit/run_trial returned: a number, a dict, or a list of them
    (executions: averaged)."""
    per_run: list[dict[str, float]] = []
    for r in _as_list(result):
        if isinstance(r, Mapping):
            per_run.append(
                {k: v for k, v in ((k, _number(v)) for k, v in r.items()) if v is not None}
            )
        elif _number(r) is not None and not _history(r):
            per_run.append({name: float(_number(r))})  # type: ignore[arg-type]
    keys = set.intersection(*(set(m) for m in per_run)) if per_run else set()
    return {k: sum(m[k] for m in per_run) / len(per_run) for k in keys}


def _announce(
    study: Any, record: Any, done_before: int, total: int | None, started: float
) -> None:
    """One line per finished trial (printed, so it shows outside a terminal too)."""
    state = getattr(record.state, "name", str(record.state))
    count = sum(1 for t in study.trials if t.state.is_finished)
    of = f"/{total + done_before}" if total is not None else ""
    took = f" in {record.duration:.1f}s" if getattr(record, "duration", None) else ""
    if record.value is not None and math.isfinite(record.value):
        what = f": {study.metric} = {record.value:.6g}"
    elif state == "FAILED":
        reason = (getattr(record, "fail_reason", "") or "").strip().splitlines()
        what = f": {reason[-1] if reason else 'failed'}"
    else:
        what = ""
    line = f"Trial {record.number} ({count}{of}) {state}{took}{what}"
    try:
        best = study.best_trial
        line += f" | best so far {best.value:.6g} (trial {best.number})"
    except HypersearchError:
        pass
    print(f"{line} | {time.monotonic() - started:.0f}s elapsed", flush=True)
