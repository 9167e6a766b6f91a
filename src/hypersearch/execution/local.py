"""Local parallelism: N worker processes, each running the ask/tell loop on shared storage.

The parent process only supervises: it hands each worker a ticket per trial (with the GPUs
that trial may use), counts results, waits for (never leaves zombie) children, marks a dead
worker's trial FAILED at once and starts a replacement. Workers coordinate through storage
alone, so a worker never stops because another one died. No lock is shared between
processes (a worker killed while holding one would stall the rest): each worker talks to
the parent over its own pipe.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import HypersearchError, SearchSpaceExhaustedError
from hypersearch.execution.base import Executor, RunOptions, RunPolicy, run_policy
from hypersearch.execution.resources import ResourcePool
from hypersearch.execution.runner import check_main_guard, check_objective, shareable_spec

if TYPE_CHECKING:
    from hypersearch.study import Study, StudySpec

__all__ = ["ProcessExecutor", "WorkerError"]

logger = logging.getLogger("hypersearch")


class WorkerError(HypersearchError, RuntimeError):
    """A worker process stopped on an exception the study was not told to catch."""


# ------------------------------------------------------------------------------- worker


_interrupted = False


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM from the parent: interrupt the running trial, once. A second signal while
    the trial is being marked interrupted would leave it RUNNING until reaped as lost."""
    global _interrupted
    if not _interrupted:
        _interrupted = True
        raise KeyboardInterrupt(f"signal {signum}")


def worker_main(
    spec: StudySpec,
    objective: Callable[..., Any],
    catch: tuple[type[BaseException], ...],
    conn: mpc.Connection,
) -> None:
    """Body of one worker process: ask for a ticket, run one trial, say how it ended."""
    # Ctrl-C in a terminal signals the whole process group; only the parent acts on it,
    # and stops each worker with one SIGTERM, which marks its running trial interrupted
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    study = None
    try:
        study = spec.open()
        while True:
            conn.send(("ready",))
            msg = conn.recv()
            if msg[0] != "go":
                break
            if msg[1] is not None:
                os.environ["CUDA_VISIBLE_DEVICES"] = msg[1]
            try:
                trial = study.ask()
            except SearchSpaceExhaustedError as exc:
                conn.send(("exhausted", str(exc)))
                break
            record = study.run_trial(objective, trial, catch)
            conn.send(("done", record.number, record.state.value))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone: nothing left to report to
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:
        text = traceback.format_exc()
        try:
            payload: Any = pickle.dumps(exc)
        except Exception:
            payload = None
        with suppress(Exception):
            conn.send(("error", payload, text))
        sys.exit(1)
    finally:
        if study is not None:
            study.storage.close()


# ------------------------------------------------------------------------------- parent


@dataclass(eq=False)
class _Worker:
    proc: Any
    conn: mpc.Connection
    devices: list[str] | None = None  # held by the running trial
    last_devices: list[str] = field(default_factory=list)
    busy: bool = False
    waiting: bool = False
    stopped: bool = False
    started: bool = False  # said "ready" once: it imported the objective and opened storage


class _Supervisor:
    def __init__(
        self,
        study: Study,
        spec: StudySpec,
        objective: Callable[..., Any],
        pool: ResourcePool,
        policy: RunPolicy,
    ) -> None:
        self.study = study
        self.spec = spec
        self.objective = objective
        self.pool = pool
        self.policy = policy
        self.catch = policy.options.catch
        n_trials = policy.options.n_trials
        n_workers = policy.options.n_workers
        self.n_procs = n_workers if pool.capacity is None else min(n_workers, pool.capacity)
        if self.n_procs < n_workers:
            logger.warning(
                "n_workers=%d but the resources allow %d trials at once; starting %d workers.",
                n_workers,
                self.n_procs,
                self.n_procs,
            )
        self.ctx = mp.get_context("spawn")
        self.workers: list[_Worker] = []
        self.spawned = 0
        self.max_spawns = self.n_procs + (n_trials if n_trials is not None else 10_000) + 10
        self.error: BaseException | None = None
        self.gpu_env = "gpus" in pool_keys(pool)

    # workers ---------------------------------------------------------------------------
    def spawn(self) -> None:
        parent_end, child_end = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=worker_main,
            args=(self.spec, self.objective, self.catch, child_end),
            name=f"hypersearch-worker-{self.spawned}",
        )
        proc.start()
        child_end.close()
        self.spawned += 1
        self.workers.append(_Worker(proc=proc, conn=parent_end))

    def budget_left(self) -> bool:
        return self.policy.may_start()

    def stop(self, w: _Worker) -> None:
        w.waiting = False
        if not w.stopped:
            w.stopped = True
            with suppress(BrokenPipeError, OSError):
                w.conn.send(("stop",))

    def grant(self, w: _Worker) -> None:
        if not self.budget_left():
            self.stop(w)
            return
        devices = self.pool.acquire(w.last_devices)
        if devices is None:
            w.waiting = True  # served when a running trial gives its GPUs back
            return
        w.waiting = False
        w.busy = True
        w.devices = devices
        if devices:
            w.last_devices = devices
        self.policy.started()
        env = ",".join(devices) if self.gpu_env else None
        with suppress(BrokenPipeError, OSError):  # if it died, its sentinel tells us next
            w.conn.send(("go", env))

    def serve_waiting(self) -> None:
        for w in self.workers:
            if w.waiting:
                self.grant(w)

    def release(self, w: _Worker) -> None:
        if w.devices is not None:
            self.pool.release(w.devices)
            w.devices = None
        w.busy = False

    # events ------------------------------------------------------------------------------
    def on_message(self, w: _Worker, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "ready":
            w.started = True
            self.grant(w)
        elif kind == "done":
            self.release(w)
            self.on_done(int(msg[1]))
            self.serve_waiting()
        elif kind == "exhausted":
            self.release(w)
            logger.info("%s", msg[1])
            self.stop_all()
        elif kind == "error":
            self.release(w)
            exc = None
            if msg[1] is not None:
                try:
                    exc = pickle.loads(msg[1])
                except Exception:
                    exc = None
            if self.error is None:
                self.error = exc if isinstance(exc, BaseException) else WorkerError(msg[2])
                logger.error("A worker stopped on an error:\n%s", msg[2])
            self.stop_all()

    def on_done(self, number: int) -> None:
        error = self.policy.finished(self.study.get_trial(number))
        if error is not None and self.error is None:
            self.error = error
            self.stop_all()

    def on_exit(self, w: _Worker) -> None:
        w.proc.join()  # wait(): a zombie would still look alive to the dead-pid check
        w.conn.close()
        self.workers.remove(w)
        had_trial = w.busy
        self.release(w)
        code = w.proc.exitcode
        if code == 0 and not had_trial:
            return
        if not w.started and code is not None and code > 0 and self.error is None:
            # it died while starting (importing the objective's module or the script):
            # a replacement would die the same way, so stop with what to do
            self.error = WorkerError(
                f"Worker process pid {w.proc.pid} could not start (exit code {code}); its "
                "error is printed above. Usually the objective's module fails to import in a "
                "fresh process, or the script runs the study outside `if __name__ == "
                "'__main__':`, so each worker re-runs it. Fix that, or use n_workers=1."
            )
            logger.error("%s", self.error)
            self.stop_all()
            return
        reaped = self.study.reap_lost_trials(force=True)
        logger.warning(
            "Worker pid %s died (exit code %s)%s.",
            w.proc.pid,
            code,
            f"; its trial(s) {reaped} were marked FAILED" if reaped else "",
        )
        for number in reaped:
            record = self.study.get_trial(number)
            self.on_done(number)
            if "retried_by" in record.attrs:
                self.policy.retried()  # the retry runs in this ticket's place
        if code == 1 and self.error is not None:
            return  # it reported its error; do not replace it
        if self.budget_left() and self.spawned < self.max_spawns:
            self.spawn()
        self.serve_waiting()

    def stop_all(self) -> None:
        self.policy.stop()
        for w in self.workers:
            if not w.busy:
                self.stop(w)

    # loop ----------------------------------------------------------------------------------
    def run(self) -> None:
        for _ in range(self.n_procs):
            self.spawn()
        while self.workers:
            waitables: dict[Any, tuple[str, _Worker]] = {}
            for w in self.workers:
                waitables[w.conn] = ("conn", w)
                waitables[w.proc.sentinel] = ("exit", w)
            ready = mpc.wait(list(waitables), timeout=0.5)
            exited: list[_Worker] = []
            for obj in ready:
                kind, w = waitables[obj]
                if kind == "exit":
                    exited.append(w)
                    continue
                try:
                    while w.conn.poll():
                        self.on_message(w, w.conn.recv())
                except (EOFError, OSError):
                    exited.append(w)
            for w in dict.fromkeys(exited):
                if w in self.workers:
                    # drain what it said before dying (its last "done")
                    try:
                        while w.conn.poll():
                            self.on_message(w, w.conn.recv())
                    except (EOFError, OSError):
                        pass
                    self.on_exit(w)
            if not self.budget_left():
                for w in self.workers:
                    if w.waiting:
                        self.stop(w)
        if self.error is not None:
            raise self.error

    def terminate(self) -> None:
        """Ctrl-C / SIGTERM in the parent: interrupt every worker (each marks its running
        trial FAILED "interrupted"), wait for them, reap anything left."""
        for w in self.workers:
            if w.proc.is_alive():
                w.proc.terminate()
        deadline = time.monotonic() + 15
        for w in self.workers:
            w.proc.join(max(0.1, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            w.conn.close()
        self.workers.clear()
        try:
            self.study.reap_lost_trials(force=True)
        except Exception as exc:  # best effort while shutting down
            logger.warning("could not mark interrupted trials: %s", exc)


def pool_keys(pool: ResourcePool) -> set[str]:
    return {"gpus"} if (pool.per_trial_gpus > 0 or pool.devices) else set()


class ProcessExecutor(Executor):
    """Run trials in ``n_workers`` local worker processes on the study's storage (a file or
    PostgreSQL), each trial with its share of ``resources`` (GPUs through
    CUDA_VISIBLE_DEVICES). ``n_trials`` counts trials handed out; a lost trial that is
    retried does not count twice."""

    def __repr__(self) -> str:
        return "ProcessExecutor()"

    def run(self, study: Study, objective: Callable[..., Any], options: RunOptions) -> None:
        where = f"n_workers={options.n_workers}"
        pool = ResourcePool(options.resources, options.gpus)
        spec = shareable_spec(study, where)
        check_objective(objective, where)
        check_main_guard(where)
        with run_policy(study, options) as policy:
            supervisor = _Supervisor(study, spec, objective, pool, policy)
            try:
                supervisor.run()
            except BaseException:
                supervisor.terminate()
                raise
