"""``Study.optimize(n_workers=..., executor=..., resources=...)`` lands here.

Checks what parallel runs need (shared storage, an objective that can be sent to another
process, resources the machine has) before starting anything, then hands over to the local
process pool or to Ray.
"""

from __future__ import annotations

import ast
import os
import pickle
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.storage import SQLStorage

if TYPE_CHECKING:
    from hypersearch.study import Study
    from hypersearch.trial import TrialRecord

__all__ = ["WorkerSpec", "check_main_guard", "check_objective", "run_study", "worker_spec"]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs to open the same study (picklable)."""

    storage_url: str
    name: str
    study_id: int
    direction: str
    metric: str
    space: Any
    sampler: Any
    scheduler: Any
    heartbeat_interval: float
    grace_period: float
    reap_interval: float
    max_retries: int
    deterministic_lag: int | None
    catch: tuple[type[BaseException], ...] = (Exception,)
    extra: Mapping[str, Any] = field(default_factory=dict)
    connection_retry_s: float | None = None
    objectives: tuple[Any, ...] = ()
    constraints: Any = None


def check_objective(objective: Callable[..., Any], where: str) -> None:
    """Refuse, with what to do, an objective that cannot be sent to another process."""
    qualname = getattr(objective, "__qualname__", "") or ""
    name = getattr(objective, "__name__", type(objective).__name__)
    fix = (
        "Define it with `def` at the top level of a module (for a script, guard the run with "
        "`if __name__ == '__main__':`), or use n_workers=1."
    )
    if "<lambda>" in qualname:
        raise InvalidArgumentError(
            f"The objective is a lambda; {where} runs it in other processes, which need to "
            f"import it by name. {fix}"
        )
    if "<locals>" in qualname:
        raise InvalidArgumentError(
            f"The objective {qualname!r} is defined inside a function (a closure); {where} "
            f"runs it in other processes, which need to import it by name. {fix}"
        )
    try:
        pickle.dumps(objective)
    except Exception as exc:
        raise InvalidArgumentError(
            f"The objective {name!r} cannot be sent to a worker process ({exc}). {fix}"
        ) from None


def check_main_guard(where: str) -> None:
    """Refuse to start worker processes from a script whose study runs at its top level,
    outside ``if __name__ == "__main__":``: each worker process imports the script again
    (the "spawn" start method), so each would start its own study run, and so on."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py") or not os.path.isfile(path):
        return  # a notebook, python -c, a frozen program: nothing is re-run
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return  # not called from the script's top level (a thread, a callback)
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return
    guards = [n for n in ast.walk(tree) if isinstance(n, ast.If) and _is_main_test(n.test)]
    if any(n.lineno <= line <= (n.end_lineno or n.lineno) for n in guards):
        return
    raise InvalidArgumentError(
        f"{where} starts worker processes, and each one imports {path} again; its study run "
        f"(File \"{path}\", line {line}) is not under `if __name__ == '__main__':`, so "
        "every worker would start a run of its own. Move the code that runs the study "
        "under that guard:\n\n    if __name__ == '__main__':\n        study.optimize(...)\n"
    )


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    values = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def worker_spec(
    study: Study, catch: tuple[type[BaseException], ...], where: str = "n_workers > 1"
) -> WorkerSpec:
    storage = study.storage
    if not isinstance(storage, SQLStorage):
        raise InvalidArgumentError(
            f"Parallel workers need a SQL storage they can all open, got {type(storage).__name__}."
        )
    if storage._in_memory:
        raise InvalidArgumentError(
            f"{where} needs a storage all workers can open, but this study is in memory. "
            "Pass storage='sqlite:///study.db' (one machine) or 'postgresql://...' (many) to "
            "create_study."
        )
    for label, obj in (
        ("sampler", study.sampler),
        ("scheduler", study.scheduler),
        ("constraints", study.constraints),
    ):
        try:
            pickle.dumps(obj)
        except Exception as exc:
            raise InvalidArgumentError(
                f"The study's {label} {obj!r} cannot be sent to a worker process ({exc})."
            ) from None
    return WorkerSpec(
        storage_url=storage._raw_url,
        name=study.name,
        study_id=study._id,
        direction=study.direction,
        metric=study.metric,
        space=study.space,
        sampler=study.sampler,
        scheduler=study.scheduler,
        heartbeat_interval=study.heartbeat_interval,
        grace_period=study.grace_period,
        reap_interval=study.reap_interval,
        max_retries=study.max_retries,
        deterministic_lag=study._deterministic_lag,
        catch=catch,
        connection_retry_s=storage.connection_retry_s,
        objectives=study.objectives,
        constraints=study.constraints,
    )


def open_worker_study(spec: WorkerSpec) -> Study:
    """The study as a worker process sees it: same storage, sampler, scheduler, settings."""
    from hypersearch.study import Study

    study = Study(
        name=spec.name,
        storage=SQLStorage(spec.storage_url, connection_retry_s=spec.connection_retry_s),
        study_id=spec.study_id,
        direction=spec.direction,
        metric=spec.metric,
        space=spec.space,
        sampler=spec.sampler,
        scheduler=spec.scheduler,
        objectives=spec.objectives,
        constraints=spec.constraints,
    )
    study.heartbeat_interval = spec.heartbeat_interval
    study._heartbeat._interval = spec.heartbeat_interval
    study.grace_period = spec.grace_period
    study.reap_interval = spec.reap_interval
    study.max_retries = spec.max_retries
    study._deterministic_lag = spec.deterministic_lag
    return study


def run_study(
    study: Study,
    objective: Callable[..., Any],
    *,
    n_trials: int | None,
    timeout: float | None,
    n_workers: int,
    executor: Any,
    resources: Mapping[str, float] | None,
    gpus: Sequence[int | str] | None,
    max_failures: int | None,
    catch: tuple[type[BaseException], ...],
    show_progress: bool | None,
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
) -> None:
    from hypersearch.execution.ray import RayExecutor

    if executor == "ray":
        executor = RayExecutor()
    if isinstance(executor, RayExecutor):
        spec = worker_spec(study, catch, "executor='ray'")
        check_objective(objective, "executor='ray'")
        executor.run(
            study,
            spec,
            objective,
            n_trials=n_trials,
            timeout=timeout,
            n_workers=n_workers,
            resources=resources,
            max_failures=max_failures,
            show_progress=show_progress,
            callbacks=callbacks,
        )
        return
    if executor not in ("local", "processes"):
        raise InvalidArgumentError(
            f"executor must be 'local', 'ray' or a hypersearch.execution.ray.RayExecutor, "
            f"got {executor!r}."
        )
    from hypersearch.execution.local import run_local
    from hypersearch.execution.resources import ResourcePool

    pool = ResourcePool(resources, gpus)
    spec = worker_spec(study, catch, f"n_workers={n_workers}")
    check_objective(objective, f"n_workers={n_workers}")
    check_main_guard(f"n_workers={n_workers}")
    run_local(
        study,
        spec,
        objective,
        pool,
        n_trials=n_trials,
        timeout=timeout,
        n_workers=n_workers,
        max_failures=max_failures,
        show_progress=show_progress,
        callbacks=callbacks,
    )
