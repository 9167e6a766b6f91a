"""Tune a small Keras MLP on scikit-learn's digits, KerasTuner-style, on the PyTorch backend.

    python examples/keras_tuner_digits.py            # needs: pip install "hypersearch[keras]"

``build_model(hp)`` defines the space while it builds the model; Hyperband stops poor
candidates after their first epochs. Runs in about a minute on one CPU core.
"""

from __future__ import annotations

from typing import Any

import keras
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from hypersearch.keras import HyperParameters, Tuner  # sets KERAS_BACKEND=torch first

torch.set_num_threads(1)


def build_model(hp: HyperParameters) -> Any:
    model = keras.Sequential([keras.Input((64,))])
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


def main(max_trials: int = 10, epochs: int = 9) -> Tuner:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
    tuner = Tuner(
        build_model, objective="val_accuracy", max_trials=max_trials, strategy="hyperband", seed=0
    )
    tuner.search(X_train, y_train, epochs=epochs, validation_data=(X_val, y_val), batch_size=64)
    tuner.results_summary(3)
    best = tuner.get_best_models(1)[0]
    _, acc = best.evaluate(X_val, y_val, verbose=0)
    print(f"\nbest model: validation accuracy {acc:.4f}")
    print(f"best hyperparameters: {tuner.get_best_hyperparameters(1)[0].values}")
    return tuner


if __name__ == "__main__":
    main()
