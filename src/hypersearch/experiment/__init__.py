"""Config-file experiments: tune any training script from a YAML file.

    $ hypersearch run experiment.yaml [--storage URL]

``load_experiment`` validates a file (errors say ``file:line``), ``run_experiment`` runs it,
and ``report`` is the one-line helper a Python training script may use to print its metrics.
See docs/front-doors.md for the schema.
"""

from __future__ import annotations

from typing import Any

from hypersearch.experiment.report import report

__all__ = [
    "CommandObjective",
    "ExperimentConfig",
    "TrialCommandError",
    "load_experiment",
    "main",
    "report",
    "run_experiment",
]

_LAZY = {
    "ExperimentConfig": "hypersearch.experiment.schema",
    "load_experiment": "hypersearch.experiment.schema",
    "CommandObjective": "hypersearch.experiment.runner",
    "TrialCommandError": "hypersearch.experiment.runner",
    "run_experiment": "hypersearch.experiment.runner",
    "main": "hypersearch.experiment.cli",
}


def __getattr__(name: str) -> Any:  # keep `import hypersearch` light: load on first use
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hypersearch.experiment' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
