"""Every study at a glance (trial counts per state, best value, last activity): what
``hypersearch studies`` lists and the dashboard's study list shows."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hypersearch.direction import Direction
from hypersearch.objectives import Objective, pareto_front
from hypersearch.storage.base import StudySummary
from hypersearch.storage.rows import floats_from_text, loads, objectives_of
from hypersearch.storage.schema import studies_table, trials_table
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["summarise_studies"]


def summarise_studies(conn: Connection) -> list[StudySummary]:
    """Every study with its trial counts per state, best value and last activity, in four
    grouped queries (shared by the storage and the dashboard's read-only connection)."""
    t = trials_table
    studies = conn.execute(sa.select(studies_table).order_by(studies_table.c.id)).all()
    counts = conn.execute(
        sa.select(t.c.study_id, t.c.state, sa.func.count()).group_by(t.c.study_id, t.c.state)
    ).all()
    stats = conn.execute(
        sa.select(
            t.c.study_id,
            sa.func.max(sa.func.coalesce(t.c.finished_at, t.c.started_at, t.c.created_at)),
        ).group_by(t.c.study_id)
    ).all()
    best = conn.execute(
        sa.select(t.c.study_id, sa.func.min(t.c.value), sa.func.max(t.c.value))
        .where(t.c.state == TrialState.COMPLETE.value)
        .group_by(t.c.study_id)
    ).all()
    by_study: dict[int, dict[str, int]] = {}
    for sid, state, n in counts:
        by_study.setdefault(sid, {})[state] = int(n)
    last = {sid: at for sid, at in stats}
    extremes = {sid: (lo, hi) for sid, lo, hi in best}
    objectives = {s.id: objectives_of(s) for s in studies}
    judged = {
        s.id
        for s in studies
        if len(objectives[s.id]) > 1 or loads(s._mapping.get("constraints"), None)
    }
    results = _feasible_results(conn, judged, objectives)
    out = []
    for s in studies:
        lo, hi = extremes.get(s.id, (None, None))
        best_value, front_size = lo if s.direction == Direction.MINIMIZE else hi, None
        if s.id in judged:
            best_value, front_size = results.get(s.id, (None, 0))
        out.append(
            StudySummary(
                id=s.id,
                name=s.name,
                direction=s.direction,
                metric=s.metric,
                counts=by_study.get(s.id, {}),
                best_value=best_value,
                created_at=s.created_at,
                last_activity=last.get(s.id) or s.created_at,
                objectives=objectives[s.id],
                front_size=front_size,
            )
        )
    return out


def _feasible_results(
    conn: Connection, study_ids: set[int], objectives: Mapping[int, tuple[Objective, ...]]
) -> dict[int, tuple[float | None, int | None]]:
    """(best feasible value, None) of each constrained single-objective study and (None,
    size of the Pareto front) of each multi-objective one, by the rules of ``best_trials``."""
    if not study_ids:
        return {}
    t = trials_table
    rows = conn.execute(
        sa.select(
            t.c.study_id, t.c.number, t.c.value, t.c.objective_values, t.c.constraint_violations
        ).where(t.c.state == TrialState.COMPLETE.value, t.c.study_id.in_(sorted(study_ids)))
    ).all()
    by_study: dict[int, list[TrialRecord]] = {sid: [] for sid in study_ids}
    for row in rows:
        by_study[row.study_id].append(
            TrialRecord(
                number=row.number,
                state=TrialState.COMPLETE,
                params={},
                value=row.value,
                values=floats_from_text(row.objective_values),
                constraint_violations=floats_from_text(row.constraint_violations),
            )
        )
    out: dict[int, tuple[float | None, int | None]] = {}
    for sid, trials in by_study.items():
        objs = objectives[sid]
        if len(objs) > 1:
            out[sid] = (None, len(pareto_front(trials, [o.direction for o in objs])))
            continue
        feasible = [t.value for t in trials if t.feasible and t.has_value]
        pick = min if objs[0].direction == Direction.MINIMIZE else max
        out[sid] = (pick(feasible) if feasible else None, None)  # type: ignore[type-var]
    return out
