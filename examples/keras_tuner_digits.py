"""Tune a small Keras MLP on scikit-learn's digits with KerasTuner's API, on hypersearch.

    python examples/keras_tuner_digits.py            # needs: pip install "hypersearch[keras]"

Code written for KerasTuner runs with one changed import (``import hypersearch.keras as
keras_tuner``): ``build_model(hp)`` defines the space while it builds the model, Hyperband
stops poor candidates at its rungs (1, 3, 9 epochs), and the best model comes back with the
weights of its best epoch. Keras runs on PyTorch unless KERAS_BACKEND says otherwise.
Runs in about a minute on one CPU core; the search is kept in keras_tuner_digits/digits/.
"""

from __future__ import annotations

from typing import Any

# isort: off
import hypersearch.keras as keras_tuner  # before keras: makes PyTorch Keras's default backend
import keras

# isort: on
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)


def build_model(hp: keras_tuner.HyperParameters) -> Any:
    model = keras.Sequential()  # no keras.Input: built on its first batch, as in KerasTuner
    for i in range(hp.Int("layers", 1, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 32, 128, step=32), activation="relu"))
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(max_trials: int = 10, epochs: int = 9, directory: str = "keras_tuner_digits") -> Any:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
    build_model(keras_tuner.HyperParameters())  # smoke test: every hyperparameter at its default
    tuner = keras_tuner.Hyperband(
        build_model,
        objective="val_accuracy",
        max_epochs=epochs,
        factor=3,
        max_trials=max_trials,
        seed=0,
        overwrite=True,
        directory=directory,
        project_name="digits",
    )
    tuner.search_space_summary()
    # verbose=2: a line per epoch (Keras) and per trial (hypersearch); 1, the default, adds
    # progress bars; 0 is silent
    tuner.search(X_train, y_train, validation_data=(X_val, y_val), batch_size=64, verbose=2)
    tuner.results_summary(3)
    best = tuner.get_best_models(1)[0]
    _, acc = best.evaluate(X_val, y_val, verbose=0)
    print(f"\nbest model (weights of its best epoch): validation accuracy {acc:.4f}")
    print(f"best hyperparameters: {tuner.get_best_hyperparameters(1)[0].values}")
    return tuner


if __name__ == "__main__":
    main()
