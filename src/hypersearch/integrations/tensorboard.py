"""Log a study to TensorBoard: one run per trial, with its parameters in the HParams plugin,
its learning curve as a scalar, and its final metrics.

>>> from hypersearch.integrations.tensorboard import TensorBoardCallback
>>> study.optimize(objective, n_trials=50, callbacks=[TensorBoardCallback("runs")])
>>> # then: tensorboard --logdir runs

The event files are written with the ``tensorboard`` package alone (no TensorFlow or torch):
``pip install "hypersearch[tensorboard]"``. Runs lie in ``DIR/<study>/trial-00012``; the curve
uses the study's metric name as its tag, and the final values are under ``final/<name>``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersearch.integrations.tracking import (
    curves,
    final_metrics,
    folder_name,
    loggable_params,
    require,
    writable_folder,
)
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["TensorBoardCallback"]

logger = logging.getLogger("hypersearch")

_STATUS = {
    TrialState.COMPLETE: "STATUS_SUCCESS",
    TrialState.STOPPED: "STATUS_ABORTED",
    TrialState.FAILED: "STATUS_FAILURE",
}


class TensorBoardCallback:
    """A callback of ``optimize`` that writes each finished trial as a TensorBoard run."""

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        self._protos = _Protos()  # fails early, with the extra to install, when missing
        self.log_dir = writable_folder(log_dir, "TensorBoard logging")

    def __repr__(self) -> str:
        return f"TensorBoardCallback({str(self.log_dir)!r})"

    def run_dir(self, study_name: str, number: int) -> Path:
        """Where trial ``number`` of ``study_name`` is written."""
        return self.log_dir / folder_name(study_name) / f"trial-{number:05d}"

    def __call__(self, study: Study, record: TrialRecord) -> None:
        if not record.state.is_finished:
            return
        try:
            self._write(study, record)
        except Exception as exc:  # a full disk, a deleted folder: a tracker never ends a study
            logger.warning(
                "TensorBoard: could not log trial %d of %r to %s: %s",
                record.number,
                study.name,
                self.log_dir,
                exc,
            )

    def _write(self, study: Study, record: TrialRecord) -> None:
        p = self._protos
        writer = p.EventFileWriter(str(self.run_dir(study.name, record.number)))
        try:
            start = record.started_at or time.time()
            end = record.finished_at or start
            writer.add_event(p.event(start, 0, p.session_start(record, study.name, start)))
            objectives = [o.name for o in study.objectives] if study.is_multi_objective else []
            if objectives:  # a curve per objective
                for name, points in curves(study.metric, record, objectives).items():
                    for step, value in points:
                        writer.add_event(p.event(end, step, p.scalar(name, value)))
            else:
                for step, value in sorted(record.intermediate.items()):
                    writer.add_event(p.event(end, step, p.scalar(study.metric, value)))
            last = max(record.intermediate, default=0)
            for name, value in final_metrics(study.metric, record, objectives).items():
                writer.add_event(p.event(end, last, p.scalar(f"final/{name}", value)))
            writer.add_event(p.event(end, last, p.session_end(record, end)))
        finally:
            writer.close()


class _Protos:
    """The tensorboard pieces this writer uses, imported once."""

    def __init__(self) -> None:
        require("tensorboard", "tensorboard")
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.event_pb2, self.summary_pb2 = event_pb2, summary_pb2
        self.api_pb2, self.metadata, self.plugin_data_pb2 = api_pb2, metadata, plugin_data_pb2
        self.EventFileWriter = EventFileWriter

    def event(self, wall_time: float, step: int, summary: Any) -> Any:
        return self.event_pb2.Event(wall_time=wall_time, step=int(step), summary=summary)

    def scalar(self, tag: str, value: float) -> Any:
        value_pb = self.summary_pb2.Summary.Value(tag=tag, simple_value=float(value))
        return self.summary_pb2.Summary(value=[value_pb])

    def _hparams(self, tag: str, data: Any) -> Any:
        md = self.metadata.create_summary_metadata(data)
        value_pb = self.summary_pb2.Summary.Value(
            tag=tag, metadata=md, tensor=self.metadata.NULL_TENSOR
        )
        return self.summary_pb2.Summary(value=[value_pb])

    def session_start(self, record: TrialRecord, group: str, start: float) -> Any:
        info = self.plugin_data_pb2.SessionStartInfo(group_name=group, start_time_secs=start)
        for name, value in loggable_params(record.params).items():
            if isinstance(value, bool):
                info.hparams[name].bool_value = value
            elif isinstance(value, str):
                info.hparams[name].string_value = value
            else:
                info.hparams[name].number_value = float(value)
        data = self.plugin_data_pb2.HParamsPluginData(session_start_info=info)
        return self._hparams(self.metadata.SESSION_START_INFO_TAG, data)

    def session_end(self, record: TrialRecord, end: float) -> Any:
        status = self.api_pb2.Status.Value(_STATUS[record.state])
        info = self.plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=end)
        data = self.plugin_data_pb2.HParamsPluginData(session_end_info=info)
        return self._hparams(self.metadata.SESSION_END_INFO_TAG, data)
