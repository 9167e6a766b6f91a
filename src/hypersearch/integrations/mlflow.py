"""Log a study to MLflow: a parent run per study, a nested run per trial with its parameters,
per-step metrics (the learning curve), final metrics, and its state and note as tags.

>>> from hypersearch.integrations.mlflow import MLflowCallback
>>> study.optimize(objective, n_trials=50, callbacks=[MLflowCallback("sqlite:///mlflow.db")])

``pip install "hypersearch[mlflow]"`` (MLflow's lightweight client, ``mlflow-skinny``). The
experiment is named after the study unless ``experiment`` is given; the parent run is found
again by its ``hypersearch.study`` tag, so a resumed study (or a second worker) logs under the
same parent, whose ``best/<metric>`` metric follows the best value trial by trial.

Runs are written by a writer process (``python -m hypersearch.integrations.mlflow``, fed
JSON lines): MLflow's client spends tens of milliseconds of Python per trial, which on another
core costs the training loop nothing, where a thread would share its GIL. ``flush()`` waits
for it; ``close()`` (also at exit) drains and stops it. ``background=False`` writes in-process.
A write that fails is a warning (on stderr), never the end of the study.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.integrations.tracking import (
    curves,
    final_metrics,
    loggable_params,
    require,
    writable_folder,
)
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["MLflowCallback"]

logger = logging.getLogger("hypersearch")

_STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.STOPPED: "KILLED",
    TrialState.FAILED: "FAILED",
}
_BATCH = 1000  # MLflow's limit of metrics per log_batch call
_PARAM_CHARS = 6000  # MLflow's limit on a parameter value's length


@dataclass(frozen=True)
class _Job:
    """One finished trial to log, with what the writer needs of its study (no study object
    crosses to the writer thread)."""

    study: str
    metric: str
    direction: str
    record: TrialRecord
    best_before: float | None
    #: The objectives' names of a multi-objective study (each logged under its name)
    objectives: tuple[str, ...] = ()


class MLflowCallback:
    """A callback of ``optimize`` that writes each finished trial as a nested MLflow run."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        experiment: str | None = None,
        background: bool = True,
    ) -> None:
        require("mlflow", "mlflow")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self._client: Any = None
        new_database = False
        if tracking_uri and tracking_uri.startswith("sqlite:///"):
            file = Path(tracking_uri[len("sqlite:///") :])
            writable_folder(file.parent, "MLflow logging")
            new_database = not file.exists()
        if not (new_database and background):
            # an unknown scheme or unreachable store fails here, before any trial runs; a new
            # SQLite store is created by the writer instead (MLflow's migrations take seconds,
            # which the first trial's training then hides)
            self._connect()
        self._parents: dict[str, tuple[str, str]] = {}  # study name -> (experiment id, run id)
        self._best: dict[str, float | None] = {}
        self._background = background
        self._writer: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str] = queue.Queue()
        self._flushes = 0
        self._lock = threading.Lock()
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"MLflowCallback({self.tracking_uri!r})"

    def _connect(self) -> Any:
        """The MLflow client, made on first need."""
        if self._client is None:
            from mlflow.tracking import MlflowClient

            try:
                self._client = MlflowClient(tracking_uri=self.tracking_uri)
            except Exception as exc:
                raise InvalidArgumentError(
                    f"MLflow could not open the tracking URI {self.tracking_uri!r}: {exc}. "
                    "Give a URI such as sqlite:///mlflow.db or http://host:5000."
                ) from exc
        return self._client

    def __call__(self, study: Study, record: TrialRecord) -> None:
        if not record.state.is_finished:
            return
        objectives = tuple(o.name for o in study.objectives) if study.is_multi_objective else ()
        if objectives:  # a front, not one best value to follow
            self._best[study.name] = None
        elif study.name not in self._best:  # resumed: start from the best trial before this one
            earlier = [t for t in study.top(2) if t.number != record.number and t.has_value]
            self._best[study.name] = float(earlier[0].value) if earlier else None  # type: ignore[arg-type]
        job = _Job(
            study.name, study.metric, study.direction, record, self._best[study.name], objectives
        )
        if record.state is TrialState.COMPLETE and record.has_value:
            self._best[study.name] = _better(job.best_before, float(record.value), study.direction)  # type: ignore[arg-type]
        if not self._background:
            self._write(job)
            return
        with self._lock:
            writer = self._start_writer()
            try:
                assert writer.stdin is not None
                writer.stdin.write(json.dumps({"job": _job_to_json(job)}) + "\n")
                writer.stdin.flush()
            except OSError as exc:  # the writer died: say so, keep the study going
                logger.warning(
                    "MLflow: the writer process is gone (%s); trial %d not logged",
                    exc,
                    record.number,
                )

    def flush(self, timeout: float = 120.0) -> bool:
        """Wait until every trial handed over so far is written; False on timeout."""
        with self._lock:
            writer = self._writer
            if writer is None or writer.poll() is not None or writer.stdin is None:
                return True
            self._flushes += 1
            token = f"flushed {self._flushes}"
            try:
                writer.stdin.write(json.dumps({"flush": self._flushes}) + "\n")
                writer.stdin.flush()
            except OSError:
                return True
            deadline = time.monotonic() + timeout
            while True:
                try:
                    line = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    return False
                if line == token:
                    return True

    def close(self) -> None:
        """Write what is pending and stop the writer process (also run at exit)."""
        self.flush()
        writer = self._writer
        if writer is not None and writer.stdin is not None and writer.poll() is None:
            with contextlib.suppress(OSError):
                writer.stdin.close()
            try:
                writer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                writer.kill()

    def _start_writer(self) -> subprocess.Popen[str]:
        """The process that writes to MLflow: its client's Python work (about 65 ms a trial)
        then runs on another core instead of sharing this process's GIL with training."""
        if self._writer is not None and self._writer.poll() is None:
            return self._writer
        cmd = [sys.executable, "-m", "hypersearch.integrations.mlflow", "--writer"]
        cmd += ["--uri", self.tracking_uri or "", "--experiment", self.experiment or ""]
        self._writer = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        stdout = self._writer.stdout
        assert stdout is not None

        def read_replies() -> None:
            for line in stdout:
                self._replies.put(line.strip())

        threading.Thread(target=read_replies, name="hypersearch-mlflow", daemon=True).start()
        return self._writer

    def _write(self, job: _Job) -> None:
        try:
            self._log_trial(job)
        except Exception as exc:  # a tracker never ends the study
            logger.warning(
                "MLflow: could not log trial %d of %r to %s: %s",
                job.record.number,
                job.study,
                self.tracking_uri or "the default tracking URI",
                exc,
            )

    def _log_trial(self, job: _Job) -> None:
        from mlflow.entities import Metric, Param, RunTag

        self._connect()
        record = job.record
        experiment_id, parent = self._parent(job)
        start = record.started_at or time.time()
        end = record.finished_at or start
        tags = {
            "mlflow.parentRunId": parent,
            "mlflow.runName": f"trial-{record.number}",
            "hypersearch.study": job.study,
            "hypersearch.trial": str(record.number),
            "hypersearch.state": record.state.value,
            "hypersearch.source": record.source,
        }
        if record.note:
            tags["hypersearch.note"] = record.note
            tags["mlflow.note.content"] = record.note  # shown as the run's description
        if record.fail_reason:
            tags["hypersearch.fail_reason"] = record.fail_reason[:5000]
        if record.tags:
            tags["hypersearch.tags"] = ",".join(record.tags)
        run_id = self._client.create_run(experiment_id, start_time=int(start * 1000)).info.run_id
        params = [
            Param(k, str(v)[:_PARAM_CHARS]) for k, v in loggable_params(record.params).items()
        ]
        end_ms = int(end * 1000)
        metrics = [
            Metric(name, v, end_ms, s)
            for name, points in curves(job.metric, record, job.objectives).items()
            for s, v in points
        ]
        last = max(record.intermediate, default=0)
        metrics += [
            Metric(f"final/{k}", v, end_ms, last)
            for k, v in final_metrics(job.metric, record, job.objectives).items()
        ]
        run_tags = [RunTag(k, v) for k, v in tags.items()]
        self._client.log_batch(run_id, metrics=metrics[:_BATCH], params=params, tags=run_tags)
        for i in range(_BATCH, len(metrics), _BATCH):
            self._client.log_batch(run_id, metrics=metrics[i : i + _BATCH])
        self._client.set_terminated(run_id, status=_STATUS[record.state], end_time=end_ms)
        if record.state is TrialState.COMPLETE and record.has_value:
            value = float(record.value)  # type: ignore[arg-type]
            if _better(job.best_before, value, job.direction) == value:
                self._client.log_metric(
                    parent, f"best/{job.metric}", value, timestamp=end_ms, step=record.number
                )

    def _parent(self, job: _Job) -> tuple[str, str]:
        """The study's experiment and parent run, found by tag or created."""
        if job.study in self._parents:
            return self._parents[job.study]
        name = self.experiment or job.study
        found = self._client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found else self._client.create_experiment(name)
        quoted = job.study.replace("'", "\\'")
        runs = self._client.search_runs(
            [experiment_id],
            filter_string=f"tags.`hypersearch.study` = '{quoted}' "
            "and tags.`hypersearch.role` = 'study'",
            max_results=1,
        )
        if runs:
            run_id = runs[0].info.run_id
        else:
            run_id = self._client.create_run(
                experiment_id,
                tags={
                    "mlflow.runName": job.study,
                    "hypersearch.study": job.study,
                    "hypersearch.role": "study",
                    "hypersearch.direction": job.direction,
                    "hypersearch.metric": job.metric,
                },
            ).info.run_id
        self._parents[job.study] = (experiment_id, run_id)
        return experiment_id, run_id


def _better(best: float | None, value: float, direction: str) -> float:
    """The better of the best so far and ``value`` under ``direction``."""
    if best is None:
        return value
    return Direction.parse(direction).best(best, value)


def _job_to_json(job: _Job) -> dict[str, Any]:
    r = job.record
    return {
        "study": job.study,
        "metric": job.metric,
        "direction": job.direction,
        "best_before": job.best_before,
        "objectives": list(job.objectives),
        "record": {
            "number": r.number,
            "state": r.state.value,
            "params": dict(r.params),
            "value": r.value,
            "metrics": dict(r.metrics),
            "intermediate": [[int(k), float(v)] for k, v in r.intermediate.items()],
            "values": None if r.values is None else list(r.values),
            "intermediate_values": [[int(k), list(v)] for k, v in r.intermediate_values.items()],
            "source": r.source,
            "note": r.note,
            "tags": list(r.tags),
            "fail_reason": r.fail_reason,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
        },
    }


def _job_from_json(data: dict[str, Any]) -> _Job:
    r = dict(data["record"])
    record = TrialRecord(
        number=r["number"],
        state=TrialState(r["state"]),
        params=r["params"],
        value=r["value"],
        metrics=r["metrics"],
        intermediate={int(k): float(v) for k, v in r["intermediate"]},
        source=r["source"],
        note=r["note"],
        tags=tuple(r["tags"]),
        fail_reason=r["fail_reason"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        values=None if r.get("values") is None else tuple(r["values"]),
        intermediate_values={int(k): tuple(v) for k, v in r.get("intermediate_values", [])},
    )
    return _Job(
        data["study"],
        data["metric"],
        data["direction"],
        record,
        data["best_before"],
        tuple(data.get("objectives", ())),
    )


def _writer_main(argv: Sequence[str] | None = None) -> int:
    """The writer process: one JSON line per job or flush on stdin; ``flushed N`` on stdout."""
    parser = argparse.ArgumentParser(prog="hypersearch.integrations.mlflow")
    parser.add_argument("--writer", action="store_true", required=True)
    parser.add_argument("--uri", default="")
    parser.add_argument("--experiment", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="hypersearch: %(message)s")
    callback = MLflowCallback(
        args.uri or None, experiment=args.experiment or None, background=False
    )
    for line in sys.stdin:
        message = json.loads(line)
        if "flush" in message:
            print(f"flushed {message['flush']}", flush=True)
        else:
            callback._write(_job_from_json(message["job"]))
    return 0


if __name__ == "__main__":
    sys.exit(_writer_main())
