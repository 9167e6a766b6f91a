"""Thread executor: ``n_workers`` threads in this process, for I/O-bound objectives (a remote
training service, a cluster's job API, a subprocess waited on) where the objective mostly
waits, so threads run trials at once without worker processes, pickling or shared files.

Each thread opens its own view of the study on the same storage (``spec.open(storage=...)``);
the sampler and scheduler they share are called one thread at a time. Progress and callbacks
run in the calling thread. Ctrl-C or SIGTERM marks the running trials FAILED ("interrupted")
and re-raises; a thread cannot be killed, so an objective still waiting carries on in the
background until it returns (its late result is refused).

>>> study.optimize(call_remote_trainer, n_trials=40, n_workers=8, executor="threads")
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from hypersearch.exceptions import SearchSpaceExhaustedError
from hypersearch.execution.base import Executor, RunOptions, RunPolicy, run_policy
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study, StudySpec
    from hypersearch.trial import Trial

__all__ = ["ThreadExecutor"]

logger = logging.getLogger("hypersearch")

#: What a thread tells the calling thread: a finished trial, an error, or that it ended.
_Message = TrialRecord | BaseException | None


class _OneAtATime:
    """``inner`` with every method call made under ``lock``: samplers and schedulers keep
    state between calls and are not written for threads."""

    def __init__(self, inner: Any, lock: threading.RLock) -> None:
        self._inner = inner
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return value(*args, **kwargs)

        return call


class ThreadExecutor(Executor):
    """Run trials in ``n_workers`` threads of this process (``executor="threads"``)."""

    def __repr__(self) -> str:
        return "ThreadExecutor()"

    def run(self, study: Study, objective: Callable[..., Any], options: RunOptions) -> None:
        shared = threading.RLock()
        spec = replace(
            study.to_spec(),
            sampler=cast(Any, _OneAtATime(study.sampler, shared)),
            scheduler=None
            if study.scheduler is None
            else cast(Any, _OneAtATime(study.scheduler, shared)),
            artifact_dir=str(study.artifact_dir),  # one folder for every thread's view
        )
        with run_policy(study, options) as policy:
            _Run(spec, study, objective, policy).run()


class _Run:
    """One run: the threads, the policy they share, and what they report."""

    def __init__(
        self, spec: StudySpec, study: Study, objective: Callable[..., Any], policy: RunPolicy
    ) -> None:
        self.spec = spec
        self.study = study
        self.objective = objective
        self.policy = policy
        self.lock = threading.Lock()  # guards the policy and ``running``
        self.messages: queue.Queue[_Message] = queue.Queue()
        self.running: dict[int, tuple[Study, Trial]] = {}

    def ticket(self) -> bool:
        with self.lock:
            if not self.policy.may_start():
                return False
            self.policy.started()
            return True

    def work(self, slot: int) -> None:
        view = self.spec.open(storage=self.study.storage)
        try:
            while self.ticket():
                try:
                    trial = view.ask()
                except SearchSpaceExhaustedError as exc:
                    with self.lock:
                        self.policy.stop()
                    self.messages.put(exc)
                    break
                with self.lock:
                    self.running[slot] = (view, trial)
                try:
                    record = view.run_trial(self.objective, trial, self.policy.options.catch)
                finally:
                    with self.lock:
                        self.running.pop(slot, None)
                self.messages.put(record)
        except BaseException as exc:  # not in ``catch``: the run stops and raises it
            self.messages.put(exc)
        finally:
            self.messages.put(None)

    def run(self) -> None:
        n = self.policy.options.n_workers
        threads = [
            threading.Thread(target=self.work, args=(i,), name=f"hypersearch-thread-{i}")
            for i in range(n)
        ]
        for thread in threads:
            thread.daemon = True  # an objective stuck after Ctrl-C does not hold the exit
            thread.start()
        error: BaseException | None = None
        ended = 0
        try:
            while ended < n:
                try:
                    message = self.messages.get(timeout=0.2)  # stays responsive to Ctrl-C
                except queue.Empty:
                    continue
                if message is None:
                    ended += 1
                elif isinstance(message, SearchSpaceExhaustedError):
                    logger.info("%s", message)
                elif isinstance(message, BaseException):
                    error = error or message
                    with self.lock:
                        self.policy.stop()
                else:
                    with self.lock:
                        stop = self.policy.finished(message)
                    error = error or stop
        except BaseException:
            self.interrupt()
            raise
        if error is not None:
            raise error

    def interrupt(self) -> None:
        """Ctrl-C in the calling thread: hand out no more trials and record the running
        ones as interrupted (their objectives' late results are refused)."""
        with self.lock:
            self.policy.stop()
            running = list(self.running.values())
        for view, trial in running:
            with suppress(Exception):
                view.tell(
                    trial, state=TrialState.FAILED, fail_reason="interrupted (Ctrl-C or SIGTERM)"
                )
