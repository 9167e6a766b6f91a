"""Executors: where trials run. Every executor implements ``Executor.run(study, objective,
options)`` (``execution.base``) and stops by the one ``RunPolicy``; they are peers:

- ``InProcessExecutor`` (``execution.inprocess``): one trial after another in this process;
- ``ProcessExecutor`` (``execution.local``): local worker processes with GPU assignment;
- ``ThreadExecutor`` (``execution.threads``): threads, for I/O-bound objectives;
- ``RayExecutor`` (``execution.ray``): Ray tasks, on a cluster or a local Ray;
- ``SimulatedExecutor`` (``execution.simulated``): learning curves replayed on a fake clock.

``hypersearch worker`` (``execution.worker``) joins a study from any machine. Workers
coordinate only through the study's storage. Executor modules are imported on use.
"""

from __future__ import annotations

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.execution.base import Executor, RunOptions, RunPolicy, run_policy

__all__ = [
    "EXECUTOR_NAMES",
    "Executor",
    "RunOptions",
    "RunPolicy",
    "choose_executor",
    "run_policy",
]

#: What ``Study.optimize(executor=...)`` takes by name.
EXECUTOR_NAMES = ("local", "processes", "threads", "ray")


def choose_executor(executor: str | Executor, options: RunOptions) -> Executor:
    """The executor ``Study.optimize(executor=...)`` names: an ``Executor`` as given;
    ``"local"`` runs in this process for one worker without resources, else in worker
    processes (as ``"processes"``); ``"threads"`` in threads; ``"ray"`` as Ray tasks."""
    if isinstance(executor, Executor):
        return executor
    alone = options.n_workers == 1 and not options.resources and options.gpus is None
    if executor == "local" and alone:
        from hypersearch.execution.inprocess import InProcessExecutor

        return InProcessExecutor()
    if executor in ("local", "processes"):
        from hypersearch.execution.local import ProcessExecutor

        return ProcessExecutor()
    if executor == "threads":
        from hypersearch.execution.threads import ThreadExecutor

        return ThreadExecutor()
    if executor == "ray":
        from hypersearch.execution.ray import RayExecutor

        return RayExecutor()
    raise InvalidArgumentError(
        f"executor must be one of {', '.join(map(repr, EXECUTOR_NAMES))} or an Executor "
        f"(e.g. hypersearch.execution.ray.RayExecutor(address=...)), got {executor!r}."
    )
