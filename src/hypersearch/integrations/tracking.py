"""What every experiment tracker (TensorBoard, MLflow) builds on: a writable-folder check, a
clear message when the tracker's package is missing, and the numbers a trial contributes.

The trackers import this module; ``hypersearch.integrations.trackers`` builds them from a
``--log-to`` spec, so neither needs the other.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.trial import TrialRecord

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = [
    "Tracker",
    "curves",
    "final_metrics",
    "folder_name",
    "loggable_params",
    "require",
    "writable_folder",
]

#: A tracker is a callback of ``optimize``: called with the study and each finished trial.
Tracker = Callable[["Study", TrialRecord], None]


def require(module: str, extra: str) -> Any:
    """Import a tracker's package, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"Logging to {extra} needs the {module.split('.')[0]!r} package: "
            f'pip install "hypersearch[{extra}]".'
        ) from exc


def writable_folder(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` created if missing; an error naming it when it cannot be written."""
    folder = Path(path).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgumentError(
            f"{what}: cannot create the folder {str(folder)!r} ({exc.strerror}). "
            "Choose a folder you can write to."
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgumentError(
            f"{what}: the folder {str(folder)!r} is not writable. Choose a folder you can "
            "write to, or fix its permissions."
        )
    return folder


def folder_name(study_name: str) -> str:
    """A folder name only this study maps to: the one its checkpoints use (a plain name as
    is, any other cleaned and hashed), so two studies never share a tracker folder."""
    from hypersearch.checkpoints import study_folder

    return study_folder(study_name)


def final_metrics(
    metric: str, record: TrialRecord, objectives: Sequence[str] = ()
) -> dict[str, float]:
    """The finite numbers a finished trial ends with: its value under the study's metric
    name (with several ``objectives``, each value under its name), and each numeric entry
    of ``record.metrics``."""
    out: dict[str, float] = {}
    if record.value is not None and math.isfinite(record.value):
        out[metric] = float(record.value)
    for name, v in zip(objectives, record.values or (), strict=False):
        if math.isfinite(v):
            out[name] = float(v)
    for key, v in record.metrics.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or key in out:
            continue
        if math.isfinite(float(v)):
            out[str(key)] = float(v)
    return out


def curves(
    metric: str, record: TrialRecord, objectives: Sequence[str] = ()
) -> dict[str, list[tuple[int, float]]]:
    """The finite points of each learning curve, by step: the metric's, or with several
    ``objectives`` each objective's."""
    if objectives and record.intermediate_values:
        out: dict[str, list[tuple[int, float]]] = {name: [] for name in objectives}
        for step, values in sorted(record.intermediate_values.items()):
            for name, v in zip(objectives, values, strict=False):
                if math.isfinite(v):
                    out[name].append((int(step), float(v)))
        return out
    points = [(int(s), float(v)) for s, v in sorted(record.intermediate.items())]
    return {metric: [(s, v) for s, v in points if math.isfinite(v)]}


def loggable_params(params: Mapping[str, Any]) -> dict[str, float | str | bool]:
    """Parameters as trackers store them: numbers and booleans kept, anything else as text."""
    out: dict[str, float | str | bool] = {}
    for k, v in params.items():
        if isinstance(v, bool | str) or (isinstance(v, int | float) and math.isfinite(float(v))):
            out[k] = v
        else:
            out[k] = str(v)
    return out
