"""A KerasTuner-style tuner on hypersearch studies: Keras 3 on the PyTorch backend.

``build_model(hp)`` defines the search space as it builds the model (``hp.Int``,
``hp.Float``, ``hp.Choice``, ``hp.Boolean`` map to ``trial.int / float / choice / bool``);
``tuner.search(...)`` trains each candidate with ``model.fit`` and reports the objective after
every epoch, so a scheduler (``strategy="hyperband"``) stops poor candidates early.

>>> from hypersearch.keras import Tuner
>>> def build_model(hp):
...     model = keras.Sequential([
...         keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
...         keras.layers.Dense(10, activation="softmax")])
...     model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
...                   "sparse_categorical_crossentropy", metrics=["accuracy"])
...     return model
>>> tuner = Tuner(build_model, objective="val_accuracy", max_trials=10, strategy="bayes")
>>> tuner.search(x, y, epochs=5, validation_data=(x_val, y_val))  # doctest: +SKIP
>>> best_model = tuner.get_best_models(1)[0]                       # doctest: +SKIP

Importing this module sets ``KERAS_BACKEND=torch`` (unless set already) for a Keras imported
after it; Keras itself is imported when a Tuner is made. If Keras was already imported with
another backend, or KERAS_BACKEND names another one, a clear error says so. The per-epoch
reporting callback lives in this module, so the tuner needs nothing but Keras.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypersearch.exceptions import HypersearchError, InvalidArgumentError

__all__ = ["STRATEGIES", "HyperParameters", "Objective", "Tuner", "import_keras"]

# Importing this module chooses the PyTorch backend for a Keras imported after it, so that
# `from hypersearch.keras import Tuner` then `import keras` works (an explicit KERAS_BACKEND
# is respected and checked when a Tuner is made).
if "keras" not in sys.modules:
    os.environ.setdefault("KERAS_BACKEND", "torch")

#: Strategy names beyond the sampler names: (sampler, scheduler), or a list of candidate
#: samplers (first available wins) with no scheduler.
STRATEGIES: dict[str, tuple[Sequence[str], str | None]] = {
    "bayes": (("gp", "tpe"), None),
    "bayesian": (("gp", "tpe"), None),
    "hyperband": (("random",), "hyperband"),
    "asha": (("random",), "asha"),
    "bohb": (("tpe", "random"), "hyperband"),
}


def import_keras() -> Any:
    """Import Keras 3 on the PyTorch backend, or say clearly why that is impossible."""
    keras: Any = sys.modules.get("keras")
    if keras is None:
        wanted = os.environ.get("KERAS_BACKEND")
        if wanted not in (None, "", "torch"):
            raise HypersearchError(
                f"KERAS_BACKEND={wanted!r}, but hypersearch.keras runs Keras 3 on PyTorch. "
                "Unset it or set KERAS_BACKEND=torch."
            )
        os.environ["KERAS_BACKEND"] = "torch"
        try:
            import importlib

            keras = importlib.import_module("keras")
        except ImportError:
            raise ImportError(
                'hypersearch.keras needs Keras 3 and PyTorch: pip install "hypersearch[keras]".'
            ) from None
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        raise HypersearchError(f"hypersearch.keras needs Keras 3, found Keras {version}.")
    backend = keras.backend.backend()
    if backend != "torch":
        raise HypersearchError(
            f"Keras is already imported with the {backend!r} backend; hypersearch.keras runs "
            "Keras on PyTorch. Set KERAS_BACKEND=torch before anything imports keras (or "
            "import hypersearch.keras first)."
        )
    return keras


@dataclass(frozen=True)
class Objective:
    """The metric to optimize, as in KerasTuner: ``Objective("val_loss", "min")``."""

    name: str
    direction: str = "max"


def _objective(objective: str | Objective | tuple[str, str]) -> tuple[str, str]:
    if isinstance(objective, tuple):
        objective = Objective(*objective)
    if isinstance(objective, str):
        # KerasTuner's rule: a loss or an error is minimized, anything else maximized.
        minimize = any(w in objective for w in ("loss", "error", "mae", "mse"))
        return objective, "minimize" if minimize else "maximize"
    if isinstance(objective, Objective):
        direction = {"min": "minimize", "max": "maximize"}.get(
            objective.direction, objective.direction
        )
        if direction not in ("minimize", "maximize"):
            raise InvalidArgumentError(
                f"Objective direction must be 'min' or 'max', got {objective.direction!r}."
            )
        return objective.name, direction
    raise InvalidArgumentError(
        f"objective must be a metric name such as 'val_accuracy' or Objective(name, 'min'|'max'),"
        f" got {objective!r}."
    )


class HyperParameters:
    """What ``build_model(hp)`` receives: KerasTuner's ``hp.Int`` / ``Float`` / ``Choice`` /
    ``Boolean`` / ``Fixed`` on a hypersearch trial (or on fixed values, to rebuild a model).

    ``default`` is accepted for compatibility and ignored: the strategy chooses every value.
    """

    def __init__(self, trial: Any = None, values: Mapping[str, Any] | None = None) -> None:
        self._trial = trial
        self._values: dict[str, Any] = dict(values or {})

    @property
    def values(self) -> dict[str, Any]:
        """The values chosen so far, by name (a copy)."""
        return dict(self._values)

    def get(self, name: str) -> Any:
        if name not in self._values:
            raise KeyError(f"Hyperparameter {name!r} is not defined (yet).")
        return self._values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __repr__(self) -> str:
        return f"HyperParameters({self._values!r})"

    def _take(self, name: str, choose: Callable[[], Any]) -> Any:
        if self._trial is None:
            if name not in self._values:
                raise KeyError(
                    f"Hyperparameter {name!r} was not part of this trial; build_model must "
                    "define the same hyperparameters when a model is rebuilt."
                )
            return self._values[name]
        value = choose()
        self._values[name] = value
        return value

    def Int(  # KerasTuner's names
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
    ) -> int:
        log = _sampling(name, sampling, allow_reverse=False) == "log"
        if log and step not in (None, 1):
            raise InvalidArgumentError(
                f"hp.Int({name!r}): sampling='log' with step={step} is not supported; use "
                "step=1 with log, or a linear step."
            )
        return int(
            self._take(
                name, lambda: self._trial.int(name, min_value, max_value, step=step or 1, log=log)
            )
        )

    def Float(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
    ) -> float:
        scale = _sampling(name, sampling, allow_reverse=True)
        return float(
            self._take(
                name,
                lambda: self._trial.float(
                    name,
                    min_value,
                    max_value,
                    step=step,
                    scale=None if scale == "linear" else scale,
                ),
            )
        )

    def Choice(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
    ) -> Any:
        return self._take(name, lambda: self._trial.choice(name, list(values)))

    def Boolean(self, name: str, default: bool = False) -> bool:
        return bool(self._take(name, lambda: self._trial.bool(name)))

    def Fixed(self, name: str, value: Any) -> Any:
        self._values[name] = value
        return value


def _sampling(name: str, sampling: str | None, *, allow_reverse: bool) -> str:
    s = (sampling or "linear").lower()
    mapping = {"linear": "linear", "log": "log"}
    if allow_reverse:
        mapping["reverse_log"] = "log1m"
    if s not in mapping:
        raise InvalidArgumentError(
            f"hp {name!r}: sampling must be one of {', '.join(map(repr, mapping))}, got "
            f"{sampling!r}."
        )
    return mapping[s]


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


class Tuner:
    """Search ``build_model``'s hyperparameters, KerasTuner-style.

    ``strategy``: ``"bayes"`` (the GP sampler, else TPE), ``"random"``, ``"grid"``,
    ``"sobol"``, ``"tpe"``, ``"gp"``, ``"auto"``, ``"hyperband"`` / ``"asha"`` (random
    sampling with early stopping on epochs), or any name in ``hs.samplers.sampler_names()``.
    ``scheduler`` adds or replaces the early-stopping rule (a name or a Scheduler).
    ``storage`` / ``study_name`` keep the search in a database (the CLI and dashboard read
    it); by default it lives in memory. Trained weights of every completed trial are kept in
    memory, or as ``<directory>/trial-<n>.weights.h5`` files when ``directory`` is given.
    """

    def __init__(
        self,
        build_model: Callable[[HyperParameters], Any],
        *,
        objective: str | Objective | tuple[str, str] = "val_accuracy",
        max_trials: int = 10,
        strategy: str = "bayes",
        scheduler: Any = None,
        seed: int | None = None,
        storage: Any = None,
        study_name: str | None = None,
        directory: str | os.PathLike[str] | None = None,
        max_consecutive_failed_trials: int = 3,
    ) -> None:
        if not callable(build_model):
            raise InvalidArgumentError(
                f"build_model must be a function hp -> compiled keras.Model, got {build_model!r}."
            )
        if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
            raise InvalidArgumentError(
                f"max_trials must be a positive integer, got {max_trials!r}."
            )
        self.build_model = build_model
        self.objective_name, self.direction = _objective(objective)
        self.max_trials = max_trials
        self.strategy = strategy
        self.sampler_name, default_scheduler = resolve_strategy(strategy)
        self.scheduler = scheduler if scheduler is not None else default_scheduler
        self.seed = seed
        self.storage = storage
        self.study_name = study_name
        self.directory = None if directory is None else os.fspath(directory)
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.study: Any = None
        self._weights: dict[int, Any] = {}
        self.keras = import_keras()

    # searching ------------------------------------------------------------------------
    def _make_study(self, epochs: int) -> Any:
        import hypersearch as hs
        from hypersearch import schedulers

        scheduler = self.scheduler
        if scheduler in ("hyperband", "asha") and epochs >= 2:
            cls = schedulers.Hyperband if scheduler == "hyperband" else schedulers.ASHA
            scheduler = cls(min_resource=1, max_resource=epochs)
        elif scheduler in ("hyperband", "asha"):
            scheduler = None  # one epoch: nothing to stop early
        name = self.study_name
        if name is None and self.storage is not None:
            import uuid

            name = f"keras-tuner-{uuid.uuid4().hex[:8]}"
        return hs.create_study(
            name,
            direction=self.direction,
            metric=self.objective_name,
            sampler=self.sampler_name,
            scheduler=scheduler,
            storage=self.storage,
            seed=self.seed,
            load_if_exists=self.study_name is not None,
        )

    def search(
        self,
        x: Any = None,
        y: Any = None,
        *,
        epochs: int = 1,
        validation_data: Any = None,
        validation_split: float = 0.0,
        callbacks: Sequence[Any] = (),
        verbose: int = 0,
        **fit_kwargs: Any,
    ) -> None:
        """Train up to ``max_trials`` candidates (counting trials a resumed study already
        finished) with ``model.fit(x, y, epochs=..., validation_data=..., ...)``.

        The objective of a trial is its best epoch's value (as in KerasTuner); it is reported
        after every epoch as step ``epoch + 1`` (epochs trained) for the scheduler.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise InvalidArgumentError(f"epochs must be a positive integer, got {epochs!r}.")
        if (
            self.objective_name.startswith("val_")
            and validation_data is None
            and not validation_split
        ):
            raise InvalidArgumentError(
                f"objective {self.objective_name!r} needs validation data: pass "
                "validation_data=(x_val, y_val) or validation_split=0.2."
            )
        if self.study is None:
            self.study = self._make_study(epochs)
        done = sum(1 for t in self.study.trials if t.state.is_finished)
        todo = self.max_trials - done
        if todo <= 0:
            return
        keras = self.keras
        report_cls = _report_callback_class(keras)

        def objective(trial: Any) -> float:
            keras.backend.clear_session()
            hp = HyperParameters(trial)
            model = self.build_model(hp)
            if not isinstance(model, keras.Model):
                raise InvalidArgumentError(
                    f"build_model must return a keras.Model, got {type(model).__name__}."
                )
            if not getattr(model, "compiled", getattr(model, "_is_compiled", True)):
                raise InvalidArgumentError(
                    "build_model returned a model that is not compiled; call model.compile("
                    "optimizer, loss, metrics=[...]) inside build_model."
                )
            reporter = report_cls(trial, self.objective_name)
            history = model.fit(
                x,
                y,
                epochs=epochs,
                validation_data=validation_data,
                validation_split=validation_split,
                callbacks=[*callbacks, reporter],
                verbose=verbose,
                **fit_kwargs,
            )
            values = history.history.get(self.objective_name)
            if not values:
                raise InvalidArgumentError(
                    f"objective {self.objective_name!r} is not among the metrics model.fit "
                    f"logged: {sorted(history.history)}. Compile the model with that metric "
                    "(e.g. metrics=['accuracy'] for val_accuracy) or change objective."
                )
            finite = [float(v) for v in values if math.isfinite(float(v))]
            if not finite:
                return float("nan")
            best = min(finite) if self.direction == "minimize" else max(finite)
            self._keep_weights(trial.number, model)
            return best

        self.study.optimize(
            objective, n_trials=todo, max_failures=self.max_consecutive_failed_trials
        )

    def _keep_weights(self, number: int, model: Any) -> None:
        if self.directory is None:
            self._weights[number] = model.get_weights()
            return
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"trial-{number}.weights.h5")
        model.save_weights(path)
        self._weights[number] = path

    # results --------------------------------------------------------------------------
    def _best_trials(self, num_trials: int) -> list[Any]:
        if self.study is None:
            raise HypersearchError("No search has run yet: call tuner.search(...) first.")
        return list(self.study.top(num_trials))

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The ``num_trials`` best trials' hyperparameters, best first."""
        return [HyperParameters(values=t.params) for t in self._best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The ``num_models`` best models, rebuilt with ``build_model`` and holding the weights
        they had at the end of their training."""
        models = []
        for t in self._best_trials(num_models):
            self.keras.backend.clear_session()
            model = self.build_model(HyperParameters(values=t.params))
            kept = self._weights.get(t.number)
            if kept is None and self.directory is not None:
                path = os.path.join(self.directory, f"trial-{t.number}.weights.h5")
                kept = path if os.path.exists(path) else None
            if kept is None:
                raise HypersearchError(
                    f"The weights of trial {t.number} are not kept here (it ran in another "
                    "process without directory=...); retrain it from "
                    "get_best_hyperparameters()."
                )
            if isinstance(kept, str):
                model.load_weights(kept)
            else:
                model.set_weights(kept)
            models.append(model)
        return models

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best trials: number, objective value, state and hyperparameters."""
        trials = self._best_trials(num_trials)
        print(f"Results summary ({self.objective_name}, {self.direction}; best first)")
        print(
            f"Strategy: {self.strategy} (sampler {self.sampler_name!r}, scheduler "
            f"{self.scheduler!r})"
        )
        for t in trials:
            print(f"\nTrial {t.number}: score {t.value:.6g}")
            for k, v in t.params.items():
                print(f"  {k}: {v}")

    def search_space_summary(self) -> None:
        """Print the hyperparameters seen so far and their definitions."""
        if self.study is None:
            print("Search space: not known until search() has built a model.")
            return
        dists: dict[str, Any] = {}
        for t in self.study.trials:
            for k, p in t.distributions.items():
                dists.setdefault(k, p)
        print(f"Search space summary: {len(dists)} hyperparameter(s)")
        for k, p in dists.items():
            print(f"  {k}: {p!r}")


def _report_callback_class(keras: Any) -> Any:
    """A Keras callback that reports the objective after each epoch and stops training when
    the scheduler says so (defined lazily: it subclasses keras.callbacks.Callback)."""

    class _Report(keras.callbacks.Callback):
        def __init__(self, trial: Any, metric: str) -> None:
            super().__init__()
            self.trial = trial
            self.metric = metric

        def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
            value = (logs or {}).get(self.metric)
            if value is None:
                return
            self.trial.report(float(value), step=epoch + 1)
            if self.trial.should_stop():
                self.model.stop_training = True

    return _Report
