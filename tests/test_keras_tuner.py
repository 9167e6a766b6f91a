"""The KerasTuner-style Tuner: real Keras 3 on the PyTorch backend, tiny models and data."""

from __future__ import annotations

import os
import sys
import types
from typing import Any

import numpy as np
import pytest

import hypersearch.keras as keras_tuner
from hypersearch.keras import HyperParameters, Objective, Tuner, import_keras, resolve_strategy

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

import hypersearch as hs  # noqa: E402

if keras.backend.backend() != "torch":  # pragma: no cover - another test imported keras first
    pytest.skip("keras was imported with another backend", allow_module_level=True)

torch.set_num_threads(1)
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 6)).astype("float32")
Y = (X[:, 0] + X[:, 1] > 0).astype("int64")
VAL = (X[:80], Y[:80])


def build(hp: HyperParameters) -> Any:
    units = hp.Int("units", 4, 16, step=4)
    act = hp.Choice("activation", ["relu", "tanh"])
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation=act)])
    if hp.Boolean("second_layer"):
        model.add(keras.layers.Dense(4, activation="relu"))
    model.add(keras.layers.Dense(2, activation="softmax"))
    lr = hp.Float("lr", 1e-3, 1e-1, sampling="log")
    model.compile(
        keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def test_search_then_best_models_and_hyperparameters(capsys: pytest.CaptureFixture[str]) -> None:
    tuner = Tuner(build, objective="val_accuracy", max_trials=3, strategy="random", seed=0)
    tuner.search(X, Y, epochs=2, validation_data=VAL, batch_size=64, verbose=0)
    trials = tuner.study.trials
    assert len(trials) == 3 and all(t.state is hs.TrialState.COMPLETE for t in trials)
    assert set(trials[0].params) == {"units", "activation", "second_layer", "lr"}
    assert sorted(trials[0].intermediate) == [1, 2]  # reported after each epoch
    assert trials[0].value == pytest.approx(max(trials[0].intermediate.values()))
    hps = tuner.get_best_hyperparameters(2)
    assert hps[0].values == dict(tuner.study.best_params) and len(hps) == 2
    assert hps[0].get("units") in (4, 8, 12, 16) and "lr" in hps[0]
    model = tuner.get_best_models(1)[0]
    _, acc = model.evaluate(*VAL, verbose=0)
    assert acc == pytest.approx(tuner.study.best_trial.value, abs=1e-5)  # its best epoch
    tuner.results_summary(2)
    out = capsys.readouterr().out
    assert "Results summary" in out and f"Trial {tuner.study.best_trial.number}" in out
    tuner.search(X, Y, epochs=2, validation_data=VAL)  # max_trials reached: nothing more
    assert len(tuner.study.trials) == 3


def test_hyperband_stops_poor_trials_early_and_weights_go_to_a_directory(tmp_path: Any) -> None:
    tuner = Tuner(
        build,
        objective=Objective("val_loss", "min"),
        max_trials=4,
        strategy="hyperband",
        seed=1,
        directory=tmp_path,
    )
    assert tuner.direction == "minimize" and tuner.scheduler == "hyperband"
    tuner.search(X, Y, epochs=3, validation_data=VAL, batch_size=64)
    assert isinstance(tuner.study.scheduler, hs.schedulers.Hyperband)
    assert list(tmp_path.glob("untitled_project/weights/trial-*.npz"))
    assert (tmp_path / "untitled_project" / "hypersearch.db").is_file()
    assert tuner.get_best_models(1)[0].count_params() > 0


def test_a_build_model_that_raises_fails_its_trials_with_the_traceback() -> None:
    def broken(hp: HyperParameters) -> Any:
        hp.Int("units", 1, 4)
        raise RuntimeError("layer sizes do not match")

    tuner = Tuner(broken, max_trials=5, strategy="random")
    with pytest.raises(hs.TooManyFailuresError, match="layer sizes do not match"):
        tuner.search(X, Y, epochs=1, validation_data=VAL)
    failed = tuner.study.trials
    assert len(failed) == 3 and all(t.state is hs.TrialState.FAILED for t in failed)
    assert "RuntimeError" in failed[0].traceback


def test_models_that_are_not_models_or_miss_the_objective_fail_clearly() -> None:
    tuner = Tuner(
        lambda hp: "not a model", max_trials=1, strategy="random", max_consecutive_failed_trials=1
    )
    with pytest.raises(hs.TooManyFailuresError, match=r"must return a keras\.Model"):
        tuner.search(X, Y, epochs=1, validation_data=VAL)
    tuner = Tuner(
        build,
        objective="val_auc",
        max_trials=1,
        strategy="random",
        max_consecutive_failed_trials=1,
    )
    with pytest.raises(hs.TooManyFailuresError, match="'val_auc' is not among the metrics"):
        tuner.search(X, Y, epochs=1, validation_data=VAL)
    with pytest.raises(hs.InvalidArgumentError, match="needs validation data"):
        Tuner(build, "val_accuracy", max_trials=1, strategy="random").search(X, Y, epochs=1)
    tuner = Tuner(build, max_trials=1, strategy="random", max_consecutive_failed_trials=1)
    with pytest.raises(hs.TooManyFailuresError, match="No objective was given"):
        tuner.search(X, Y, epochs=1, verbose=0)


def test_strategies_map_to_the_registries_and_unknown_ones_list_what_exists() -> None:
    names = hs.samplers.sampler_names()
    assert resolve_strategy("random") == ("random", None)
    assert resolve_strategy("bayes")[0] in ("gp", "tpe") and resolve_strategy("bayes")[0] in names
    assert resolve_strategy("hyperband") == ("random", "hyperband")
    with pytest.raises(hs.InvalidArgumentError) as info:
        Tuner(build, strategy="evolution")
    message = str(info.value)
    assert "'evolution'" in message and "'random'" in message and "'hyperband'" in message
    with pytest.raises(hs.InvalidArgumentError, match="max_trials"):
        Tuner(build, max_trials=0)


def test_hp_mapping_and_rebuilding_from_values() -> None:
    study = hs.create_study(seed=0)
    trial = study.ask()
    hp = HyperParameters(trial)
    assert 8 <= hp.Int("n", 8, 64, sampling="log") <= 64
    assert hp.Float("m", 0.5, 0.99, sampling="reverse_log") <= 0.99
    assert hp.Choice("c", ["a", "b"]) in ("a", "b") and hp.Boolean("b") in (True, False)
    assert hp.Fixed("f", 3) == 3
    assert trial.distributions["n"] == hs.Int(8, 64, log=True)
    assert trial.distributions["m"] == hs.Float(0.5, 0.99, scale="log1m")
    fixed = HyperParameters(values=hp.values)
    assert fixed.Int("n", 8, 64, sampling="log") == hp.get("n")
    assert fixed.Int("other", 3, 5) == 3  # not in the values: its default, the minimum
    with pytest.raises(KeyError, match="not defined"):
        fixed.get("unknown")
    with pytest.raises(hs.InvalidArgumentError, match="sampling"):
        hp.Float("x", 0.1, 1, sampling="cubic")


def test_any_keras_3_backend_is_accepted_and_keras_2_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = types.SimpleNamespace(
        __version__="3.9.0", backend=types.SimpleNamespace(backend=lambda: "tensorflow")
    )
    monkeypatch.setitem(sys.modules, "keras", fake)
    assert import_keras() is fake  # the user's backend choice is kept
    monkeypatch.setitem(sys.modules, "keras", types.SimpleNamespace(__version__="2.15.0"))
    with pytest.raises(hs.HypersearchError, match=r"needs Keras 3, found Keras 2\.15\.0"):
        import_keras()


def test_importing_sets_the_backend_only_when_unset() -> None:
    import subprocess

    code = "import os, hypersearch.keras; print(os.environ['KERAS_BACKEND'])"
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "torch", out.stderr
    env["KERAS_BACKEND"] = "jax"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "jax", out.stderr


@pytest.mark.parametrize(
    ("setup", "config", "expected"),
    [
        ("", None, "torch"),  # no choice anywhere: PyTorch, which hypersearch[keras] installs
        ("", {"backend": "tensorflow"}, "torch"),  # what Keras writes by itself: no choice
        ("", {"backend": "jax"}, "None"),  # a backend chosen in keras.json is kept
        ("import sys; sys.modules['torch'] = None; ", None, "None"),  # no PyTorch: Keras's own
        ("import keras; del os.environ['KERAS_BACKEND']; ", None, "None"),  # too late to matter
    ],
)
def test_the_backend_is_chosen_only_when_the_user_has_not(
    tmp_path: Any, setup: str, config: dict[str, str] | None, expected: str
) -> None:
    import json
    import subprocess

    if config is not None:
        (tmp_path / "keras.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    code = f"import os; {setup}import hypersearch.keras; print(os.environ.get('KERAS_BACKEND'))"
    if setup.startswith("import keras"):  # Keras imported first, on a backend installed here
        env["KERAS_BACKEND"] = "torch"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr


def test_importing_the_core_or_the_integrations_package_leaves_keras_alone() -> None:
    import subprocess

    code = (
        "import os, sys, hypersearch, hypersearch.integrations, hypersearch.integrations.steps; "
        "print(os.environ.get('KERAS_BACKEND', 'unset'), 'keras' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["unset", "False"], out.stderr


# KerasTuner's classes and behaviour ---------------------------------------------------------
def lazy(hp: HyperParameters) -> Any:
    """A Sequential without keras.Input, as KerasTuner's guide writes it."""
    model = keras.Sequential([keras.layers.Dense(hp.Int("units", 4, 16, step=4), "relu")])
    model.add(keras.layers.Dense(2, activation="softmax"))
    model.compile(
        keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def test_best_models_carry_the_best_epoch_weights_not_the_last(tmp_path: Any) -> None:
    class Scramble(keras.callbacks.Callback):  # ruins the model in the last epoch
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == 2:
                self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])
                self.model.optimizer.learning_rate = 0.0

    tuner = keras_tuner.RandomSearch(
        lazy, "val_accuracy", max_trials=2, seed=0, directory=tmp_path, project_name="best"
    )
    tuner.search(X, Y, epochs=3, validation_data=VAL, callbacks=[Scramble()], verbose=0)
    best = tuner.study.best_trial
    assert best.intermediate[3] < best.value  # the last epoch was worse than the best one
    model = tuner.get_best_models(1)[0]  # built although the Sequential has no Input
    _, acc = model.evaluate(*VAL, verbose=0)
    assert acc == pytest.approx(best.value, abs=1e-5)
    assert tuner.oracle.get_best_trials(1)[0].best_step == best.metrics["best_epoch"] < 3

    # a new tuner on the same project resumes: trials counted, best model loaded from disk
    again = keras_tuner.RandomSearch(
        lazy, "val_accuracy", max_trials=2, seed=0, directory=tmp_path, project_name="best"
    )
    again.search(X, Y, epochs=3, validation_data=VAL, verbose=0)
    assert len(again.study.trials) == 2
    _, acc2 = again.get_best_models(1)[0].evaluate(*VAL, verbose=0)
    assert acc2 == pytest.approx(acc, abs=1e-6)
    fresh = keras_tuner.RandomSearch(
        lazy, "val_accuracy", max_trials=1, overwrite=True, directory=tmp_path, project_name="best"
    )
    fresh.search(X, Y, epochs=1, validation_data=VAL, verbose=0)
    assert len(fresh.study.trials) == 1  # overwrite=True started afresh


def test_hyperband_class_rungs_cost_exactly_their_epochs() -> None:
    epochs_run: dict[int, int] = {}

    class Count(keras_tuner.HyperModel):
        def build(self, hp: HyperParameters) -> Any:
            return lazy(hp)

        def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
            history = model.fit(*args, **kwargs)
            trial = len(epochs_run)
            epochs_run[trial] = len(history.history["loss"])
            return history

    tuner = keras_tuner.Hyperband(Count(), "val_accuracy", max_epochs=4, factor=2, seed=0)
    assert tuner.max_trials == 10  # one Hyperband iteration: brackets of 4 + 3 + 3 trials
    tuner.search(X, Y, epochs=99, validation_data=VAL, batch_size=64, verbose=0)
    trials = tuner.study.trials
    for t in trials:
        steps = sorted(t.intermediate)
        assert steps[-1] in (1, 2, 4) and steps == list(range(steps[0], steps[-1] + 1))
        assert epochs_run[t.number] == len(steps)  # a rung costs exactly its epochs
        resumed = t.attrs.get("resume_from")
        assert steps[0] == (1 if resumed is None else t.attrs["start_step"])
    assert max(max(t.intermediate) for t in trials) == 4  # the top rung is the full training
    assert any(max(t.intermediate) == 1 for t in trials)


def test_grid_bayes_conditional_scope_oracle_and_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def build_cond(hp: HyperParameters) -> Any:
        kind = hp.Choice("kind", ["wide", "deep"])
        with hp.conditional_scope("kind", "wide"):
            width = hp.Choice("width", [8, 16])
        model = keras.Sequential([keras.Input((6,))])
        if kind == "wide":
            model.add(keras.layers.Dense(width, "relu"))
        else:
            assert width is None  # inactive: not sampled
            model.add(keras.layers.Dense(4, "relu"))
            model.add(keras.layers.Dense(4, "relu"))
        model.add(keras.layers.Dense(2, activation="softmax"))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    grid = keras_tuner.GridSearch(build_cond, "val_accuracy", seed=0)
    grid.search_space_summary()
    assert "width (Choice)" in capsys.readouterr().out
    grid.search(X, Y, epochs=1, validation_data=VAL)
    out = capsys.readouterr().out
    combos = {tuple(sorted(t.params.items())) for t in grid.study.trials}
    assert len(grid.study.trials) == 4 == len(combos)  # every grid point once
    assert out.count(" COMPLETE ") == 4 and "best so far" in out  # verbose=1 by default
    assert set(grid.oracle.trials) == {"0", "1", "2", "3"}
    assert grid.oracle.get_best_trials(1)[0].status == "COMPLETED"

    bayes = keras_tuner.BayesianOptimization(lazy, "val_loss", max_trials=2, seed=0)
    bayes.search(X, Y, epochs=1, validation_data=VAL, verbose=0)
    assert bayes.direction == "minimize" and capsys.readouterr().out == ""  # verbose=0
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_epoch'"):
        keras_tuner.Hyperband(lazy, "val_loss", max_epoch=3)
    with pytest.raises(hs.InvalidArgumentError, match="distribution_strategy"):
        keras_tuner.RandomSearch(lazy, "val_loss", distribution_strategy="mirrored")
