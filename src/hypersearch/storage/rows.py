"""Values as the tables store them and back: JSON text columns, free text, number lists,
and whole study and trial rows turned into ``StudyRecord`` / ``TrialRecord``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.objectives import Objective
from hypersearch.space import param_from_dict
from hypersearch.storage.base import StudyRecord
from hypersearch.trial import TrialRecord, TrialState

__all__ = [
    "check_name",
    "dumps",
    "finished_trial_columns",
    "finite_or_none",
    "floats_from_text",
    "floats_to_text",
    "loads",
    "merge_params",
    "objectives_of",
    "record_from_row",
    "report_rows",
    "storable_text",
    "study_from_row",
]


def dumps(obj: Any) -> str:
    """``obj`` as a JSON text column; numbers and objects JSON lacks become floats or text."""
    return json.dumps(obj, default=_json_default, sort_keys=False)


def _json_default(obj: Any) -> Any:
    for cast in (float, str):
        try:
            return cast(obj)
        except (TypeError, ValueError):
            continue
    raise TypeError(f"{obj!r} is not JSON serialisable")


def loads(text: str | None, default: Any) -> Any:
    """A JSON text column read back; ``default`` when it is NULL or empty."""
    return default if not text else json.loads(text)


def check_name(name: str, what: str) -> None:
    """Refuse a name no backend can keep as given: PostgreSQL text cannot hold NUL."""
    if isinstance(name, str) and "\x00" in name:
        raise InvalidArgumentError(
            f"A {what} cannot contain a NUL byte (\\x00), got {name!r}. Choose one without it."
        )


def storable_text(value: str | None) -> str | None:
    """Free text (a failure reason, a traceback, a note) as any backend can store it:
    PostgreSQL text cannot hold NUL, so NUL is written visibly as ``\\x00``. JSON columns
    need nothing: JSON escapes NUL itself."""
    return None if value is None else value.replace("\x00", "\\x00")


def finite_or_none(value: float | None) -> float | None:
    """A reported value as stored: NaN becomes NULL."""
    return None if value is None or math.isnan(value) else float(value)


def floats_to_text(values: Sequence[float] | None) -> str | None:
    """Several numbers as stored (a JSON list; NaN and infinities as JSON extensions)."""
    return None if values is None else json.dumps([float(v) for v in values])


def floats_from_text(text: str | None) -> tuple[float, ...] | None:
    return None if not text else tuple(float(v) for v in json.loads(text))


def merge_params(
    params_text: str | None,
    dists_text: str | None,
    params: Mapping[str, Any],
    distributions: Mapping[str, Mapping[str, Any]],
) -> tuple[str, str]:
    """Stored parameters and their definitions with new ones merged in, as stored text."""
    return (
        dumps({**loads(params_text, {}), **params}),
        dumps({**loads(dists_text, {}), **distributions}),
    )


def objectives_of(row: Any) -> tuple[Objective, ...]:
    """A study row's objectives; rows of schema v1 have one, its metric and direction."""
    stored = loads(row._mapping.get("objectives"), None)
    if not stored:
        return (Objective(row.metric, row.direction),)
    return tuple(Objective(o["name"], o["direction"]) for o in stored)


def study_from_row(row: Any) -> StudyRecord:
    """An ``hs_studies`` row as a ``StudyRecord``."""
    return StudyRecord(
        id=row.id,
        name=row.name,
        direction=row.direction,
        metric=row.metric,
        space=loads(row.space, None),
        config=loads(row.config, {}),
        created_at=row.created_at,
        objectives=objectives_of(row),
        constraints=loads(row.constraints, None),
    )


def record_from_row(
    row: Any,
    curve: Mapping[int, float],
    several: Mapping[int, tuple[float, ...]] | None = None,
) -> TrialRecord:
    """An ``hs_trials`` row with its learning curve (``step -> value``, and with several
    objectives ``step -> values``) as a ``TrialRecord``."""
    dists = loads(row.distributions, {})
    return TrialRecord(
        id=int(row.id),
        number=int(row.number),
        state=TrialState(row.state),
        params=loads(row.params, {}),
        distributions={k: param_from_dict(v) for k, v in dists.items()},
        value=row.value,
        metrics=loads(row.metrics, {}),
        intermediate=dict(curve),
        source=row.source,
        note=row.note or "",
        tags=tuple(loads(row.tags, [])),
        attrs=loads(row.attrs, {}),
        fail_reason=row.fail_reason,
        traceback=row.traceback,
        host=row.host,
        pid=row.pid,
        gpu=row.gpu,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        claim_key=row.claim_key,
        values=floats_from_text(row.objective_values),
        constraint_violations=floats_from_text(row.constraint_violations),
        intermediate_values=dict(several or {}),
    )


def finished_trial_columns(record: TrialRecord) -> dict[str, Any]:
    """The columns of a trial that ran elsewhere, as ``add_finished_trial(s)`` insert it."""
    return {
        "state": record.state.value,
        "source": record.source,
        "params": dumps(dict(record.params)),
        "distributions": dumps({k: p.to_dict() for k, p in record.distributions.items()}),
        "value": record.value,
        "metrics": dumps(dict(record.metrics)),
        "note": storable_text(record.note),
        "tags": dumps(list(record.tags)),
        "attrs": dumps(dict(record.attrs)),
        "fail_reason": storable_text(record.fail_reason),
        "host": record.host,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "objective_values": floats_to_text(record.values),
        "constraint_violations": floats_to_text(record.constraint_violations),
    }


def report_rows(trial_id: int, record: TrialRecord) -> list[dict[str, Any]]:
    """The learning curve of a trial that ran elsewhere, as ``hs_reports`` rows."""
    several = record.intermediate_values
    steps = sorted({*record.intermediate, *several})
    rows = []
    for s in steps:
        values = several.get(s)
        first = record.intermediate.get(s, values[0] if values else math.nan)
        rows.append(
            {
                "trial_id": trial_id,
                "step": int(s),
                "value": finite_or_none(first),
                "objective_values": floats_to_text(values),
            }
        )
    return rows
