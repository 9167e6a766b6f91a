"""Trials as flat rows: for CSV/JSON export, ``study.table()`` and pandas."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from hypersearch.trial import TrialRecord

__all__ = ["strict_json", "trials_to_rows", "write_csv", "write_json"]


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def trials_to_rows(
    trials: Sequence[TrialRecord],
    metric: str = "value",
    *,
    objectives: Sequence[str] | None = None,
    constraints: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One dict per trial: number, state, the metric (or, with ``objectives``, a column per
    objective), with ``constraints`` (their labels) ``feasible`` and ``violation.<label>``,
    then ``params.<name>``, ``metrics.<name>``, cost (duration, host, GPU), source, note,
    tags and failure reason."""
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state.value}
        row.update(_outcome(t, metric, objectives, constraints))
        row.update({f"params.{k}": v for k, v in t.params.items()})
        row.update({f"metrics.{k}": v for k, v in t.metrics.items()})
        row["steps"] = len(t.intermediate)
        row.update(_cost_and_notes(t))
        row["tags"] = ",".join(t.tags)
        row["fail_reason"] = t.fail_reason
        rows.append(row)
    return rows


def _outcome(
    t: TrialRecord,
    metric: str,
    objectives: Sequence[str] | None,
    constraints: Sequence[str] | None,
) -> dict[str, Any]:
    """The objective column(s) and, for a study with constraints, feasibility."""
    if objectives:
        values = t.values or ()
        out = {name: values[i] if i < len(values) else None for i, name in enumerate(objectives)}
    else:
        out = {metric: t.value}
    if constraints is not None:
        violations = t.constraint_violations
        out["feasible"] = None if violations is None else t.feasible
        labels = constraints if len(constraints) == len(violations or ()) else None
        for i, v in enumerate(violations or ()):
            out[f"violation.{labels[i] if labels else i}"] = v
    return out


def _cost_and_notes(t: TrialRecord) -> dict[str, Any]:
    """The columns every export shares: what the trial cost, where it ran, who wrote what."""
    return {
        "duration_s": t.duration,
        "started": _iso(t.started_at),
        "finished": _iso(t.finished_at),
        "host": t.host,
        "gpu": t.gpu,
        "source": t.source,
        "note": t.note,
    }


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def write_csv(
    trials: Sequence[TrialRecord],
    out: str | Path | IO[str],
    metric: str = "value",
    *,
    objectives: Sequence[str] | None = None,
    constraints: Sequence[str] | None = None,
) -> None:
    rows = trials_to_rows(trials, metric, objectives=objectives, constraints=constraints)
    if isinstance(out, str | Path):
        with open(out, "w", newline="", encoding="utf-8") as fh:
            _write_csv(rows, fh)
    else:
        _write_csv(rows, out)


def _write_csv(rows: Sequence[dict[str, Any]], fh: IO[str]) -> None:
    writer = csv.DictWriter(fh, fieldnames=_columns(rows) or ["number"])
    writer.writeheader()
    writer.writerows(rows)


def strict_json(v: Any) -> Any:
    """``v`` as strict JSON can hold it: non-finite floats become "inf", "-inf", "nan" (strict
    JSON has no such numbers), dict keys strings, tuples lists; nested values too (params,
    metrics and attrs may nest user values)."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {str(k): strict_json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [strict_json(x) for x in v]
    return v


def write_json(
    trials: Sequence[TrialRecord],
    out: str | Path | IO[str],
    metric: str = "value",
    *,
    objectives: Sequence[str] | None = None,
    constraints: Sequence[str] | None = None,
) -> None:
    """Full records (with learning curves), as strict JSON."""
    data = []
    for t in trials:
        several = {}
        if objectives:
            several["curves"] = {
                str(s): strict_json(list(v)) for s, v in t.intermediate_values.items()
            }
        data.append(
            {
                "number": t.number,
                "state": t.state.value,
                **strict_json(_outcome(t, metric, objectives, constraints)),
                "params": strict_json(dict(t.params)),
                "metrics": strict_json(dict(t.metrics)),
                "curve": {str(s): strict_json(v) for s, v in t.intermediate.items()},
                **several,
                **_cost_and_notes(t),
                "tags": list(t.tags),
                "attrs": strict_json({k: v for k, v in t.attrs.items() if k != "fixed_params"}),
                "fail_reason": t.fail_reason,
                "traceback": t.traceback,
            }
        )
    text = json.dumps(data, indent=2, allow_nan=False, default=str)
    if isinstance(out, str | Path):
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        out.write(text + "\n")
