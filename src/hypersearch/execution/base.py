"""The executor seam: the one interface every executor implements (``Executor.run(study,
objective, options)``), the frozen options of one run (``RunOptions``) and the one run/stop
policy they all apply (``RunPolicy``: budget, deadline, failures in a row, progress, callbacks).

An executor decides only *where* trials run (this process, worker processes, Ray tasks, a
fake clock...); *when a run stops* is decided here, once, so every executor stops alike.
"""

from __future__ import annotations

import abc
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hypersearch.exceptions import InvalidArgumentError, TooManyFailuresError
from hypersearch.interrupts import sigterm_as_interrupt
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["Callback", "Executor", "RunOptions", "RunPolicy", "run_policy", "too_many_failures"]

logger = logging.getLogger("hypersearch")

#: ``callback(study, record)``, called after each finished trial (trackers, early exits).
Callback = Callable[["Study", TrialRecord], None]


def _positive_int_or_none(label: str, v: Any) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        raise InvalidArgumentError(f"{label} must be a positive integer or None, got {v!r}.")


@dataclass(frozen=True)
class RunOptions:
    """How one ``Study.optimize`` run goes, checked once here and handed to the executor
    whole (instead of a dozen keyword arguments forwarded layer by layer)."""

    n_trials: int | None = None  #: trials to start (None: until timeout or exhausted)
    timeout: float | None = None  #: seconds from the start (None: no deadline)
    n_workers: int = 1  #: trials at once (processes, Ray tasks, threads...)
    max_failures: int | None = 10  #: this many FAILED trials in a row stop the run
    catch: tuple[type[BaseException], ...] = (Exception,)  #: fail the trial, go on
    show_progress: bool | None = None  #: None: a progress display on a terminal only
    callbacks: tuple[Callback, ...] = ()  #: ``callback(study, record)`` per finished trial
    resources: Mapping[str, float] | None = None  #: per trial, e.g. {"gpus": 0.5, "cpus": 1}
    gpus: tuple[int | str, ...] | None = None  #: the GPUs to share (None: CUDA_VISIBLE_DEVICES)
    deterministic: bool = False  #: trial n sees trials 0..n-n_workers only (repeatable)
    max_retries: int = 0  #: a trial whose worker died is run again this many times

    def __post_init__(self) -> None:
        _positive_int_or_none("n_trials", self.n_trials)
        _positive_int_or_none("max_failures", self.max_failures)
        t = self.timeout
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or t <= 0):
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {t!r}.")
        w = self.n_workers
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise InvalidArgumentError(f"n_workers must be a positive integer, got {w!r}.")
        r = self.max_retries
        if isinstance(r, bool) or not isinstance(r, int) or r < 0:
            raise InvalidArgumentError(f"max_retries must be an integer >= 0, got {r!r}.")
        object.__setattr__(self, "callbacks", tuple(self.callbacks))
        if self.gpus is not None:
            object.__setattr__(self, "gpus", tuple(self.gpus))

    @property
    def deterministic_lag(self) -> int | None:
        """With ``deterministic=True``, trial n is proposed from trials 0..n-lag only."""
        return self.n_workers if self.deterministic else None


class Executor(abc.ABC):
    """Where trials run. ``run`` runs ``objective`` on the study's trials as ``options`` say,
    under ``run_policy(study, options)``, and returns when that policy ends the run (or
    raises what ended it: ``TooManyFailuresError``, ``KeyboardInterrupt``...).

    Executors reach the study only through its public methods: ``ask``, ``run_trial``,
    ``get_trial``, ``reap_lost_trials``, ``to_spec`` (to open it elsewhere: ``spec.open()``).
    """

    #: False for an executor that plays the objective itself (the simulated one).
    calls_objective: ClassVar[bool] = True

    @abc.abstractmethod
    def run(self, study: Study, objective: Callable[..., Any], options: RunOptions) -> Any:
        """Run the study's trials until the run/stop policy ends the run."""


def too_many_failures(count: int, record: TrialRecord | None, study_name: str) -> str:
    """The one message every executor gives when ``max_failures`` failures in a row stop a run."""
    last = (
        "a worker died before it started a trial"
        if record is None
        else f"the last one (trial {record.number}): {record.fail_reason}"
    )
    return (
        f"{count} trials in a row failed; {last}. Fix the objective (see its traceback with "
        f"`hypersearch trials {study_name} --state FAILED`) or raise max_failures."
    )


class RunPolicy:
    """When a run stops, for every executor: ``n_trials`` started, the deadline passed,
    ``max_failures`` failures in a row, or ``stop()``. Executors ask ``may_start()`` before
    handing out a trial, call ``started()`` when they do, and ``finished(record)`` after each
    trial ends (progress, callbacks and the failure count happen there)."""

    def __init__(
        self,
        study: Study,
        options: RunOptions,
        progress: Callable[[TrialRecord], None] = lambda record: None,
    ) -> None:
        self.study = study
        self.options = options
        self.deadline = None if options.timeout is None else time.monotonic() + options.timeout
        self.n_started = 0
        self.failures_in_row = 0
        self.stopping = False
        self._progress = progress

    def may_start(self) -> bool:
        """Whether one more trial may be handed out now."""
        if self.stopping:
            return False
        n = self.options.n_trials
        if n is not None and self.n_started >= n:
            return False
        return self.deadline is None or time.monotonic() < self.deadline

    def started(self) -> None:
        self.n_started += 1

    def retried(self) -> None:
        """A lost trial is run again (``max_retries``) in the place of one already counted."""
        if self.n_started > 0:
            self.n_started -= 1

    def stop(self) -> None:
        """End the run: no more trials are handed out (running ones finish)."""
        self.stopping = True

    def finished(self, record: TrialRecord | None) -> TooManyFailuresError | None:
        """Count a finished trial (``None``: a worker died before it had one), show it, call
        the callbacks; return the error that stops the run after ``max_failures`` failures
        in a row (the policy is then stopping; the executor raises it when its work is
        wound down)."""
        failed = record is None or record.state is TrialState.FAILED
        self.failures_in_row = self.failures_in_row + 1 if failed else 0
        if record is not None:
            self._progress(record)
            for callback in self.options.callbacks:
                callback(self.study, record)
        limit = self.options.max_failures
        if limit is not None and self.failures_in_row >= limit:
            self.stop()
            return TooManyFailuresError(
                too_many_failures(self.failures_in_row, record, self.study.name)
            )
        return None


def show_progress(options: RunOptions) -> bool:
    """The one progress default: shown on a terminal, not in a log file, pipe or CI."""
    return sys.stderr.isatty() if options.show_progress is None else bool(options.show_progress)


@contextmanager
def run_policy(study: Study, options: RunOptions, *, signals: bool = True) -> Iterator[RunPolicy]:
    """The policy of one run, with its progress display and (``signals``) SIGTERM handled as
    Ctrl-C for the run's duration; every executor runs inside one."""
    if options.n_trials is None and options.timeout is None:
        logger.info("No n_trials or timeout: running until interrupted or exhausted.")
    with ExitStack() as stack:
        progress: Callable[[TrialRecord], None] = lambda record: None  # noqa: E731
        if show_progress(options):
            from hypersearch.progress import study_progress

            progress = stack.enter_context(study_progress(study, options.n_trials))
        if signals:
            stack.enter_context(sigterm_as_interrupt())
        yield RunPolicy(study, options, progress)
