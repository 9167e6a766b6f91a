"""Experiment trackers from ``--log-to`` specs: ``tensorboard:DIR``, ``mlflow[:URI]``.

>>> study.optimize(objective, n_trials=50, callbacks=[tracker_from_spec("tensorboard:runs")])

What the trackers share lives in ``hypersearch.integrations.tracking`` (re-exported here).
"""

from __future__ import annotations

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.integrations.tracking import Tracker, curves, final_metrics, folder_name
from hypersearch.integrations.tracking import loggable_params as loggable_params  # as before
from hypersearch.integrations.tracking import require as require
from hypersearch.integrations.tracking import writable_folder as writable_folder

__all__ = ["TRACKERS", "Tracker", "curves", "final_metrics", "folder_name", "tracker_from_spec"]

#: ``--log-to`` names and what follows their colon.
TRACKERS = {"tensorboard": "a log folder", "mlflow": "a tracking URI (optional)"}


def tracker_from_spec(spec: str) -> Tracker:
    """A tracker from a ``--log-to`` spec: ``tensorboard:DIR``, ``mlflow`` (its default
    tracking URI) or ``mlflow:URI`` (``mlflow:sqlite:///mlflow.db``, ``mlflow:http://...``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidArgumentError(f"--log-to needs TRACKER[:TARGET], got {spec!r}.")
    name, _, target = spec.partition(":")
    name = name.strip().lower()
    if name == "tensorboard":
        if not target:
            raise InvalidArgumentError(
                "--log-to tensorboard needs a folder: --log-to tensorboard:runs"
            )
        from hypersearch.integrations.tensorboard import TensorBoardCallback

        return TensorBoardCallback(target)
    if name == "mlflow":
        from hypersearch.integrations.mlflow import MLflowCallback

        return MLflowCallback(target or None)
    known = ", ".join(f"{k}:<{v}>" for k, v in TRACKERS.items())
    raise InvalidArgumentError(f"--log-to: unknown tracker {name!r}; use one of {known}.")
