"""KerasTuner's API on hypersearch studies: code written for KerasTuner runs with one import.

>>> import hypersearch.keras as keras_tuner          # instead of `import keras_tuner`
>>> def build_model(hp):
...     model = keras.Sequential()
...     model.add(keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"))
...     model.add(keras.layers.Dense(10, activation="softmax"))
...     model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
...     return model
>>> build_model(keras_tuner.HyperParameters())       # smoke test: defaults, no search
>>> tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=3,
...     executions_per_trial=2, overwrite=True, directory="my_dir", project_name="hello")
>>> tuner.search(x, y, epochs=2, validation_data=(x_val, y_val))   # doctest: +SKIP
>>> tuner.get_best_models(2)[0]; tuner.results_summary()            # doctest: +SKIP

``RandomSearch``, ``BayesianOptimization`` (the GP sampler), ``Hyperband`` (the Hyperband
scheduler on epochs) and ``GridSearch`` are ``Tuner`` with a strategy; ``Tuner(...,
strategy=...)`` takes any sampler name. Every epoch is reported as step ``epoch + 1`` (epochs
completed) by ``hypersearch.integrations.keras.HypersearchKerasCallback``, so a scheduler stops
poor candidates early and Hyperband's rungs cost exactly their epochs. A trial's score is its
best epoch (the mean over ``executions_per_trial``), and ``get_best_models`` returns the
weights of that epoch. See docs/front-doors.md for what differs from KerasTuner.

Keras picks its backend on first import. Importing this module makes it PyTorch when you have
not chosen one (``KERAS_BACKEND`` unset, no other backend in keras.json), Keras is not
imported yet and PyTorch is installed: code written for KerasTuner imports Keras next, and
``hypersearch[keras]`` installs no TensorFlow. A backend you chose is kept (see
``hypersearch.keras.backend``).

Modules: ``backend`` (importing Keras), ``hyperparameters`` (``hp``), ``trials``
(``HyperModel``, what ``tuner.oracle`` shows), ``tuner`` (``Tuner``), ``tuners`` (KerasTuner's
four tuner classes).
"""

from __future__ import annotations

from hypersearch.keras.backend import default_backend, import_keras
from hypersearch.keras.hyperparameters import HyperParameters, Objective
from hypersearch.keras.trials import HyperModel, TunerTrial
from hypersearch.keras.tuner import STRATEGIES, Oracle, Tuner, resolve_strategy
from hypersearch.keras.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

default_backend()  # before the user's `import keras`, which KerasTuner code does next

__all__ = [
    "STRATEGIES",
    "BayesianOptimization",
    "GridSearch",
    "HyperModel",
    "HyperParameters",
    "Hyperband",
    "Objective",
    "Oracle",
    "RandomSearch",
    "Tuner",
    "TunerTrial",
    "import_keras",
    "resolve_strategy",
]
