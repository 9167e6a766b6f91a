"""hypersearch: find the best hyperparameters for deep-learning models, automatically and cheaply.

>>> import hypersearch as hs
>>> space = {"lr": hs.Float(1e-5, 1e-1, log=True), "batch_size": hs.Int(8, 256, scale="pow2")}
>>> study = hs.create_study("demo", space=space, direction="maximize")
>>> study.optimize(objective, n_trials=50)
"""

from __future__ import annotations

import logging

from hypersearch import samplers, schedulers
from hypersearch.direction import Direction
from hypersearch.exceptions import (
    HypersearchError,
    InvalidArgumentError,
    InvalidSpaceError,
    ParameterConflictError,
    SchemaVersionError,
    SearchSpaceExhaustedError,
    StaleTrialError,
    StorageError,
    StudyNotFoundError,
    TooManyFailuresError,
    TrialPruned,
)
from hypersearch.experiment.report import report
from hypersearch.objectives import Objective
from hypersearch.space import Bool, Choice, Float, Int, Space
from hypersearch.study import Study, create_study, load_study
from hypersearch.trial import Trial, TrialRecord, TrialState
from hypersearch.zoom import zoom

__version__ = "0.1.0"

# A library never configures logging; applications (and our CLI) attach handlers.
logging.getLogger("hypersearch").addHandler(logging.NullHandler())

__all__ = [
    "Bool",
    "Choice",
    "Direction",
    "Float",
    "HypersearchError",
    "Int",
    "InvalidArgumentError",
    "InvalidSpaceError",
    "Objective",
    "ParameterConflictError",
    "SchemaVersionError",
    "SearchSpaceExhaustedError",
    "Space",
    "StaleTrialError",
    "StorageError",
    "Study",
    "StudyNotFoundError",
    "TooManyFailuresError",
    "Trial",
    "TrialPruned",
    "TrialRecord",
    "TrialState",
    "__version__",
    "create_study",
    "load_study",
    "report",
    "samplers",
    "schedulers",
    "zoom",
]
