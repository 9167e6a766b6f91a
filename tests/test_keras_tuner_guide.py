"""KerasTuner's "Getting started" guide (keras.io/guides/keras_tuner/getting_started), run on
hypersearch with only the import lines changed.

Changed, and only these: ``import keras_tuner`` -> ``import hypersearch.keras as keras_tuner``;
``from tensorflow import keras`` -> ``import keras``; MNIST (28x28, downloaded) -> scikit-learn's
bundled digits (8x8), so input shapes and the image-size range follow the data; two epochs
stay two; paths go to a temporary folder. Left out: the custom metric written with
TensorFlow ops (written here with ``keras.ops``) and ``keras_tuner.applications.HyperResNet``
(hypersearch has no pre-made hypermodels).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hypersearch.keras as keras_tuner  # the one changed import

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
if keras.backend.backend() != "torch":  # pragma: no cover - keras imported elsewhere first
    pytest.skip("keras was imported with another backend", allow_module_level=True)
from keras import layers  # noqa: E402

import hypersearch as hs  # noqa: E402

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def digits() -> dict[str, Any]:
    """The guide's MNIST preparation, on the bundled digits."""
    x, y = sklearn_datasets.load_digits(return_X_y=True)
    x = x.reshape(-1, 8, 8) / 16.0
    x_train, x_val = x[:-400], x[-400:]
    y_train, y_val = y[:-400], y[-400:]
    x_train = np.expand_dims(x_train, -1).astype("float32")
    x_val = np.expand_dims(x_val, -1).astype("float32")
    num_classes = 10
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_val = keras.utils.to_categorical(y_val, num_classes)
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the guide writes my_dir/ in the working directory
    return tmp_path


def test_define_the_search_space_and_smoke_test_the_model() -> None:
    def build_model(hp):  # type: ignore[no-untyped-def]
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(
                # Define the hyperparameter.
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                activation="relu",
            )
        )
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer="adam",
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    build_model(keras_tuner.HyperParameters())

    def build_model(hp):  # type: ignore[no-untyped-def]
        model = keras.Sequential()
        model.add(layers.Flatten())
        for i in range(hp.Int("num_layers", 1, 3)):
            model.add(
                layers.Dense(
                    units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                    activation=hp.Choice("activation", ["relu", "tanh"]),
                )
            )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    build_model(keras_tuner.HyperParameters())
    hp = keras_tuner.HyperParameters()
    assert hp.Int("units", min_value=32, max_value=512, step=32) == 32  # the default: min


def test_start_the_search_query_results_and_retrain(
    digits: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, x_val, y_val = (digits[k] for k in ("x_train", "y_train", "x_val", "y_val"))

    def build_model(hp):  # type: ignore[no-untyped-def]
        model = keras.Sequential()
        model.add(layers.Flatten())
        for i in range(hp.Int("num_layers", 1, 3)):
            model.add(
                layers.Dense(
                    units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                    activation=hp.Choice("activation", ["relu", "tanh"]),
                )
            )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        objective="val_accuracy",
        max_trials=3,
        executions_per_trial=2,
        overwrite=True,
        directory="my_dir",
        project_name="helloworld",
    )
    tuner.search_space_summary()
    tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val))

    # Get the top 2 models.
    models = tuner.get_best_models(num_models=2)
    best_model = models[0]
    # Build the model.
    # Needed for `Sequential` without specified `input_shape`.
    best_model.build(input_shape=(None, 8, 8))
    best_model.summary()
    tuner.results_summary()

    # Get the top 2 hyperparameters.
    best_hps = tuner.get_best_hyperparameters(5)
    # Build the model with the best hp.
    model = build_model(best_hps[0])
    # Fit with the entire dataset.
    x_all = np.concatenate((x_train, x_val))
    y_all = np.concatenate((y_train, y_val))
    model.fit(x=x_all, y=y_all, epochs=1)

    # What the guide promises, checked:
    out = capsys.readouterr().out
    assert "Search space summary" in out and "num_layers (Int)" in out
    assert out.count("COMPLETE") >= 3  # a line per trial without a terminal (verbose=1)
    assert "Results summary" in out
    trials = tuner.oracle.get_best_trials(3)
    assert len(trials) == 3 and trials[0].score >= trials[-1].score
    assert Path("my_dir/helloworld/hypersearch.db").is_file()
    # the best model holds its best epoch's weights: its accuracy is the trial's score for
    # one of the two executions (the score is their mean)
    best = tuner.study.best_trial
    _, acc = best_model.evaluate(x_val, y_val, verbose=0)
    assert 0.5 < acc <= 1.0 and best.value == pytest.approx(trials[0].score)
    assert len(tuner.oracle.trials) == 3


class MyHyperModel(keras_tuner.HyperModel):
    def build(self, hp):  # type: ignore[no-untyped-def]
        image_size = hp.Int("image_size", 4, 8)
        inputs = keras.Input(shape=(image_size, image_size))
        outputs = layers.Flatten()(inputs)
        outputs = layers.Dense(
            units=hp.Int("units", min_value=32, max_value=512, step=32),
            activation="relu",
        )(outputs)
        outputs = layers.Dense(10, activation="softmax")(outputs)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer="adam",
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def fit(self, hp, model, x, y, validation_data=None, **kwargs):  # type: ignore[no-untyped-def]
        if hp.Boolean("normalize"):
            x = layers.Normalization()(x)
        image_size = hp.get("image_size")
        cropped_x = x[:, :image_size, :image_size, :]
        if validation_data:
            x_val, y_val = validation_data
            cropped_x_val = x_val[:, :image_size, :image_size, :]
            validation_data = (cropped_x_val, y_val)
        return model.fit(
            cropped_x,
            y,
            # Tune whether to shuffle the data in each epoch.
            shuffle=hp.Boolean("shuffle"),
            validation_data=validation_data,
            **kwargs,
        )


def test_tune_model_training_with_a_hypermodel(digits: dict[str, Any]) -> None:
    x_train, y_train, x_val, y_val = (digits[k] for k in ("x_train", "y_train", "x_val", "y_val"))
    hp = keras_tuner.HyperParameters()
    hypermodel = MyHyperModel()
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, np.random.rand(100, 8, 8, 1), np.random.rand(100, 10))

    tuner = keras_tuner.RandomSearch(
        MyHyperModel(),
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="tune_hypermodel",
    )
    tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val))

    hypermodel = MyHyperModel()
    best_hp = tuner.get_best_hyperparameters()[0]
    model = hypermodel.build(best_hp)
    x_all = np.concatenate((x_train, x_val))
    y_all = np.concatenate((y_train, y_val))
    hypermodel.fit(best_hp, model, x_all, y_all, epochs=1)
    assert set(best_hp.values) == {"image_size", "units", "normalize", "shuffle"}


def test_objectives_built_in_custom_and_returned_by_fit() -> None:
    def build_regressor(hp):  # type: ignore[no-untyped-def]
        model = keras.Sequential(
            [
                layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            # Objective is one of the metrics.
            metrics=[keras.metrics.MeanAbsoluteError()],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_regressor,
        # The objective name and direction.
        # Name is the f"val_{snake_case_metric_class_name}".
        objective=keras_tuner.Objective("val_mean_absolute_error", direction="min"),
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="built_in_metrics",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )
    tuner.results_summary()
    assert tuner.study.direction == "minimize" and len(tuner.study.trials) == 3

    class CustomMetric(keras.metrics.Metric):  # the guide's, with keras.ops for tf ops
        def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
            # Specify the name of the metric as "custom_metric".
            super().__init__(name="custom_metric", **kwargs)
            self.sum = self.add_weight(name="sum", initializer="zeros")
            self.count = self.add_weight(name="count", dtype="int32", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[no-untyped-def]
            values = keras.ops.square(y_pred - y_true)
            count = keras.ops.shape(y_true)[0]
            self.sum.assign_add(keras.ops.sum(values))
            self.count.assign_add(count)

        def result(self):  # type: ignore[no-untyped-def]
            return self.sum / keras.ops.cast(self.count, "float32")

        def reset_state(self):  # type: ignore[no-untyped-def]
            self.sum.assign(0)
            self.count.assign(0)

    def build_regressor(hp):  # type: ignore[no-untyped-def]
        model = keras.Sequential(
            [
                layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            # Put custom metric into the metrics.
            metrics=[CustomMetric()],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_regressor,
        # Specify the name and direction of the objective.
        objective=keras_tuner.Objective("val_custom_metric", direction="min"),
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="custom_metrics",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )
    tuner.results_summary()
    assert all(t.state is hs.TrialState.COMPLETE for t in tuner.study.trials)

    class HyperRegressor(keras_tuner.HyperModel):
        def build(self, hp):  # type: ignore[no-untyped-def]
            model = keras.Sequential(
                [
                    layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                    layers.Dense(units=1),
                ]
            )
            model.compile(
                optimizer="adam",
                loss="mean_squared_error",
            )
            return model

        def fit(self, hp, model, x, y, validation_data, **kwargs):  # type: ignore[no-untyped-def]
            model.fit(x, y, **kwargs)
            x_val, y_val = validation_data
            y_pred = model.predict(x_val)
            # Return a single float to minimize.
            return np.mean(np.abs(y_pred - y_val))

    tuner = keras_tuner.RandomSearch(
        hypermodel=HyperRegressor(),
        # No objective to specify.
        # Objective is the return value of `HyperModel.fit()`.
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="custom_eval",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )
    tuner.results_summary()
    assert tuner.study.direction == "minimize"
    assert all(t.state is hs.TrialState.COMPLETE for t in tuner.study.trials)

    class HyperRegressor(keras_tuner.HyperModel):  # type: ignore[no-redef]
        def build(self, hp):  # type: ignore[no-untyped-def]
            model = keras.Sequential(
                [
                    layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                    layers.Dense(units=1),
                ]
            )
            model.compile(
                optimizer="adam",
                loss="mean_squared_error",
            )
            return model

        def fit(self, hp, model, x, y, validation_data, **kwargs):  # type: ignore[no-untyped-def]
            model.fit(x, y, **kwargs)
            x_val, y_val = validation_data
            y_pred = model.predict(x_val)
            # Return a dictionary of metrics for KerasTuner to track.
            return {
                "metric_a": -np.mean(np.abs(y_pred - y_val)),
                "metric_b": np.mean(np.square(y_pred - y_val)),
            }

    tuner = keras_tuner.RandomSearch(
        hypermodel=HyperRegressor(),
        # Objective is one of the keys.
        # Maximize the negative MAE, equivalent to minimize MAE.
        objective=keras_tuner.Objective("metric_a", "max"),
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="custom_eval_dict",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )
    tuner.results_summary()
    assert all("metric_b" in t.metrics for t in tuner.study.trials)


def test_tune_end_to_end_workflows_with_run_trial(in_tmp: Path) -> None:
    class MyTuner(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):  # type: ignore[no-untyped-def]
            # Get the hp from trial.
            hp = trial.hyperparameters
            # Define "x" as a hyperparameter.
            x = hp.Float("x", min_value=-1.0, max_value=1.0)
            # Return the objective value to minimize.
            return x * x + 1

    tuner = MyTuner(
        # No hypermodel or objective specified.
        max_trials=20,
        overwrite=True,
        directory="my_dir",
        project_name="tune_anything",
    )

    # No need to pass anything to search()
    # unless you use them in run_trial().
    tuner.search()
    print(tuner.get_best_hyperparameters()[0].get("x"))
    assert abs(tuner.get_best_hyperparameters()[0].get("x")) < 0.5

    def keras_code(units, optimizer, saving_path):  # type: ignore[no-untyped-def]
        # Build model
        model = keras.Sequential(
            [
                layers.Dense(units=units, activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer=optimizer,
            loss="mean_squared_error",
        )

        # Prepare data
        x_train = np.random.rand(100, 10)
        y_train = np.random.rand(100, 1)
        x_val = np.random.rand(20, 10)
        y_val = np.random.rand(20, 1)

        # Train & eval model
        model.fit(x_train, y_train)

        # Save model
        model.save(saving_path)

        # Return a single float as the objective value.
        # You may also return a dictionary
        # of {metric_name: metric_value}.
        y_pred = model.predict(x_val)
        return np.mean(np.abs(y_pred - y_val))

    class MyTuner(keras_tuner.RandomSearch):  # type: ignore[no-redef]
        def run_trial(self, trial, **kwargs):  # type: ignore[no-untyped-def]
            hp = trial.hyperparameters
            return keras_code(
                units=hp.Int("units", 32, 128, 32),
                optimizer=hp.Choice("optimizer", ["adam", "adadelta"]),
                saving_path=os.path.join(str(in_tmp), f"{trial.trial_id}.keras"),
            )

    tuner = MyTuner(
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="keep_code_separate",
    )
    tuner.search()
    # Retraining the model
    best_hp = tuner.get_best_hyperparameters()[0]
    keras_code(**best_hp.values, saving_path=os.path.join(str(in_tmp), "best_model.keras"))
    assert len(list(in_tmp.glob("*.keras"))) == 4
