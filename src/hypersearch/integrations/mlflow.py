"""Log a study to MLflow: a parent run per study, a nested run per trial with its parameters,
per-step metrics (the learning curve), final metrics, and its state and note as tags.

>>> from hypersearch.integrations.mlflow import MLflowCallback
>>> study.optimize(objective, n_trials=50, callbacks=[MLflowCallback("sqlite:///mlflow.db")])

``pip install "hypersearch[mlflow]"`` (MLflow's lightweight client, ``mlflow-skinny``). The
experiment is named after the study unless ``experiment`` is given; the parent run is found
again by its ``hypersearch.study`` tag, so a resumed study (or a second worker) logs under the
same parent, whose ``best/<metric>`` metric follows the best value trial by trial.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.integrations.trackers import final_metrics, loggable_params, require
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["MLflowCallback"]

_STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.STOPPED: "KILLED",
    TrialState.FAILED: "FAILED",
}
_BATCH = 1000  # MLflow's limit of metrics per log_batch call
_PARAM_CHARS = 6000  # MLflow's limit on a parameter value's length


class MLflowCallback:
    """A callback of ``optimize`` that writes each finished trial as a nested MLflow run."""

    def __init__(self, tracking_uri: str | None = None, *, experiment: str | None = None) -> None:
        require("mlflow", "mlflow")
        from mlflow.tracking import MlflowClient

        self.tracking_uri = tracking_uri
        self.experiment = experiment
        try:  # open the store now (MLflow creates a new database's tables), so a bad URI
            self._client = MlflowClient(tracking_uri=tracking_uri)  # fails before any trial
            self._client.search_experiments(max_results=1)
        except Exception as exc:
            raise InvalidArgumentError(
                f"MLflow could not open the tracking URI {tracking_uri!r}: {exc}. Give a URI "
                "such as sqlite:///mlflow.db or http://host:5000."
            ) from exc
        self._parents: dict[str, tuple[str, str]] = {}  # study name -> (experiment id, run id)
        self._best: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"MLflowCallback({self.tracking_uri!r})"

    def __call__(self, study: Study, record: TrialRecord) -> None:
        if not record.state.is_finished:
            return
        from mlflow.entities import Metric, Param

        experiment_id, parent = self._parent(study)
        start = record.started_at or time.time()
        end = record.finished_at or start
        tags = {
            "mlflow.parentRunId": parent,
            "mlflow.runName": f"trial-{record.number}",
            "hypersearch.study": study.name,
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
        run = self._client.create_run(experiment_id, start_time=int(start * 1000), tags=tags)
        run_id = run.info.run_id
        params = [
            Param(k, str(v)[:_PARAM_CHARS]) for k, v in loggable_params(record.params).items()
        ]
        end_ms = int(end * 1000)
        metrics = [
            Metric(study.metric, float(v), end_ms, int(s))
            for s, v in sorted(record.intermediate.items())
            if math.isfinite(v)
        ]
        last = max(record.intermediate, default=0)
        metrics += [
            Metric(f"final/{k}", v, end_ms, last)
            for k, v in final_metrics(study.metric, record).items()
        ]
        self._log(run_id, metrics, params)
        self._client.set_terminated(run_id, status=_STATUS[record.state], end_time=end_ms)
        self._track_best(study, record, parent, end_ms)

    def _log(self, run_id: str, metrics: Sequence[Any], params: Sequence[Any]) -> None:
        self._client.log_batch(run_id, metrics=list(metrics[:_BATCH]), params=list(params))
        for i in range(_BATCH, len(metrics), _BATCH):
            self._client.log_batch(run_id, metrics=list(metrics[i : i + _BATCH]))

    def _track_best(self, study: Study, record: TrialRecord, parent: str, end_ms: int) -> None:
        if record.state is not TrialState.COMPLETE or not record.has_value:
            return
        value = float(record.value)  # type: ignore[arg-type]
        if study.name not in self._best:  # resumed: start from the best before this one
            earlier = [t for t in study.top(2) if t.number != record.number and t.has_value]
            if earlier:
                self._best[study.name] = float(earlier[0].value)  # type: ignore[arg-type]
        best = self._best.get(study.name)
        better = best is None or (value < best if study.direction == "minimize" else value > best)
        if better:
            self._best[study.name] = value
            self._client.log_metric(
                parent, f"best/{study.metric}", value, timestamp=end_ms, step=record.number
            )

    def _parent(self, study: Study) -> tuple[str, str]:
        """The study's experiment and parent run, found by tag or created."""
        if study.name in self._parents:
            return self._parents[study.name]
        name = self.experiment or study.name
        found = self._client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found else self._client.create_experiment(name)
        quoted = study.name.replace("'", "\\'")
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
                    "mlflow.runName": study.name,
                    "hypersearch.study": study.name,
                    "hypersearch.role": "study",
                    "hypersearch.direction": study.direction,
                    "hypersearch.metric": study.metric,
                },
            ).info.run_id
        self._parents[study.name] = (experiment_id, run_id)
        return experiment_id, run_id
