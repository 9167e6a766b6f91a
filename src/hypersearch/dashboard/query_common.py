"""What every dashboard query shares: the tables, the row shape of the trials table, JSON
that strict parsers accept (NaN and ±inf as strings), the live-update ``Cursor`` and the
connection base the query groups build on."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.storage.schema import reports_table, studies_table, trials_table
from hypersearch.trial import TrialState

T = trials_table
R = reports_table
S = studies_table

#: States whose rows can still change (and gain reports) without a new trial id.
LIVE_STATES = (TrialState.RUNNING.value, TrialState.WAITING.value)
FINISHED_STATES = tuple(s.value for s in TrialState if s.is_finished)
MAX_PAGE = 500
MAX_CURVES = 500
#: The trials table's columns each row of the API is built from (``_row_dict``).
_ROW_COLUMNS = (
    T.c.id,
    T.c.number,
    T.c.state,
    T.c.source,
    T.c.value,
    T.c.params,
    T.c.note,
    T.c.tags,
    T.c.fail_reason,
    T.c.host,
    T.c.gpu,
    T.c.created_at,
    T.c.started_at,
    T.c.finished_at,
    T.c.objective_values,
    T.c.constraint_violations,
)


def json_number(value: float | None) -> float | str | None:
    """A float as JSON can carry it: ±inf and NaN become the strings JavaScript's Number reads."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _clean_json(obj: Any) -> Any:
    """Make a stored JSON value safe for strict JSON (NaN and ±inf as strings)."""
    if isinstance(obj, float):
        return json_number(obj)
    if isinstance(obj, Mapping):
        return {str(k): _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_json(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Cursor:
    """Where a client's view of a study stands: the highest trial id it has seen, and for each
    trial that could still change (RUNNING or WAITING) the last report step it has.

    Encoded in URLs as ``"<max_id>"`` or ``"<max_id>.<id>:<step>,<id>:<step>"`` (step -1 when
    the trial has no report yet).
    """

    max_id: int
    live: Mapping[int, int]

    def encode(self) -> str:
        if not self.live:
            return str(self.max_id)
        pairs = ",".join(f"{i}:{s}" for i, s in sorted(self.live.items()))
        return f"{self.max_id}.{pairs}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            head, _, rest = text.partition(".")
            live: dict[int, int] = {}
            for pair in filter(None, rest.split(",")):
                trial_id, _, step = pair.partition(":")
                live[int(trial_id)] = int(step)
            cursor = cls(max_id=int(head), live=live)
        except ValueError:
            raise InvalidArgumentError(
                f"cursor must look like '120' or '120.7:3,9:-1', got {text[:80]!r}."
            ) from None
        if len(live) > 10_000:
            raise InvalidArgumentError("cursor names more than 10,000 live trials.")
        return cursor


class QueryBase:
    """A read-only engine and its dialect, shared by the dashboard's query groups."""

    def __init__(self, engine: Engine, *, sqlite: bool) -> None:
        self._engine = engine
        self._sqlite = sqlite

    def _conn(self) -> Any:
        return self._engine.connect()

    @staticmethod
    def _last_steps(conn: Any, ids: Sequence[int]) -> dict[int, int]:
        if not ids:
            return {}
        return {
            int(i): int(s)
            for i, s in conn.execute(
                sa.select(R.c.trial_id, sa.func.max(R.c.step))
                .where(R.c.trial_id.in_(list(ids)))
                .group_by(R.c.trial_id)
            )
        }


def _first(text: str | None) -> float | None:
    """The first of a stored list of objective values."""
    found = json.loads(text) if text else None
    return float(found[0]) if found else None


def _numbers(text: str | None) -> list[Any] | None:
    """A stored JSON list of numbers (NaN and infinities as JSON extensions) for the API."""
    if not text:
        return None
    return [json_number(float(v)) for v in json.loads(text)]


def _satisfied(violations: Sequence[Any]) -> bool:
    """Every constraint satisfied (a violation <= 0; NaN or infinity as a string: not)."""
    return all(isinstance(v, int | float) and v <= 0 for v in violations)


def _row_dict(row: Any, last_step: int | None) -> dict[str, Any]:
    violations = _numbers(row.constraint_violations)
    duration = None
    if row.started_at is not None and row.finished_at is not None:
        duration = max(0.0, row.finished_at - row.started_at)
    return {
        "number": row.number,
        "state": row.state,
        "source": row.source,
        "value": json_number(row.value),
        "values": _numbers(row.objective_values),
        "constraint_violations": violations,
        "feasible": None if violations is None else _satisfied(violations),
        "params": _clean_json(_loads(row.params, {})),
        "note": row.note or "",
        "tags": [str(t) for t in _loads(row.tags, [])],
        "fail_reason": row.fail_reason,
        "host": row.host,
        "gpu": row.gpu,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "duration": duration,
        "last_step": last_step,
    }
