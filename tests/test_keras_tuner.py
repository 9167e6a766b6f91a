"""The KerasTuner-style Tuner: real Keras 3 on the PyTorch backend, tiny models and data."""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pytest

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
    tuner.search(X, Y, epochs=2, validation_data=VAL, batch_size=64)
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
    assert acc == pytest.approx(tuner.study.best_trial.intermediate[2], abs=1e-5)
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
    assert list(tmp_path.glob("trial-*.weights.h5"))
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
        Tuner(build, max_trials=1, strategy="random").search(X, Y, epochs=1)


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
    with pytest.raises(KeyError, match="not part of this trial"):
        fixed.Int("other", 1, 2)
    with pytest.raises(hs.InvalidArgumentError, match="sampling"):
        hp.Float("x", 0.1, 1, sampling="cubic")


def test_keras_on_another_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.SimpleNamespace(
        __version__="3.9.0", backend=types.SimpleNamespace(backend=lambda: "tensorflow")
    )
    monkeypatch.setitem(sys.modules, "keras", fake)
    with pytest.raises(hs.HypersearchError, match=r"'tensorflow' backend.*KERAS_BACKEND=torch"):
        import_keras()
    monkeypatch.delitem(sys.modules, "keras")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(hs.HypersearchError, match="KERAS_BACKEND='jax'"):
        import_keras()
