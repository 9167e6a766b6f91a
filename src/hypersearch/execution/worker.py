"""``hypersearch worker STUDY --storage URL --objective module:function``: join a study from
any machine. Workers share nothing but the storage, so start as many as you like, anywhere
the database is reachable (PostgreSQL for many machines, a SQLite file on one)."""

from __future__ import annotations

import importlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.storage import Storage

__all__ = ["load_objective", "run_worker"]


def load_objective(spec: str, option: str = "--objective") -> Callable[..., Any]:
    """Import ``module:function`` (``pkg.mod:fn``; the current folder is importable)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(
            f"{option} must be module:function (e.g. train:objective), got {spec!r}."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"Cannot import {module_name!r} for {option} {spec!r}: {exc}. Give "
            "module:function importable from the current folder or PYTHONPATH."
        ) from None
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise InvalidArgumentError(
                f"{module_name!r} has no {attr!r} (from {option} {spec!r}; expected "
                "module:function)."
            )
    if not callable(obj):
        raise InvalidArgumentError(f"{option} {spec!r} is not a function.")
    return obj


def run_worker(
    study_name: str,
    storage: str | Storage,
    objective: str | Callable[..., Any],
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    max_retries: int = 0,
    callbacks: Sequence[Callable[[Any, Any], None]] = (),
    constraints: str | Callable[..., Any] | None = None,
) -> str:
    """Run trials of an existing study in this process; return a one-line summary.
    ``callbacks`` (e.g. trackers) receive each trial this worker finishes; ``constraints``
    is the study's constraint function (``module:function``) when it has one."""
    from hypersearch.study import load_study

    func = load_objective(objective) if isinstance(objective, str) else objective
    if isinstance(constraints, str):
        constraints = load_objective(constraints, "--constraints")
    study = load_study(study_name, storage=storage, constraints=constraints)
    before = {t.number for t in study.trials}
    study.optimize(
        func,
        n_trials=n_trials,
        timeout=timeout,
        max_retries=max_retries,
        show_progress=False,
        callbacks=callbacks,
    )
    mine = [t for t in study.trials if t.number not in before and t.pid == os.getpid()]
    counts = Counter(t.state.value for t in mine)
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    return f"worker pid {os.getpid()} ran {len(mine)} trials of {study_name!r}: {detail}"
