"""The analysis charts' reads: finished trials' values and parameters, and each trial's
value at a given step (importance, and rankings at a budget)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hypersearch.dashboard.query_common import (
    QueryBase,
    R,
    T,
    _first,
    _loads,
)
from hypersearch.trial import TrialState


class AnalysisQueries(QueryBase):
    """The reads behind parameter importance and the per-step analysis charts."""

    def finished_values_numbered(
        self, study_id: int, *, limit: int
    ) -> tuple[list[int], list[float], list[dict[str, Any]]]:
        """Numbers, finite values and parameters of the COMPLETE trials (an evenly spaced
        sample of at most ``limit``), for the analysis charts; a multi-objective study's first
        objective."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.params, T.c.value, T.c.objective_values)
                .where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    sa.or_(T.c.value.is_not(None), T.c.objective_values.is_not(None)),
                )
                .order_by(T.c.number)
            ).all()
        if len(rows) > limit:
            stride = len(rows) / limit
            rows = [rows[int(i * stride)] for i in range(limit)]
        numbers: list[int] = []
        values: list[float] = []
        params: list[dict[str, Any]] = []
        for r in rows:
            value = r.value if r.value is not None else _first(r.objective_values)
            if value is not None and math.isfinite(value):
                numbers.append(r.number)
                values.append(float(value))
                params.append(_loads(r.params, {}))
        return numbers, values, params

    def last_steps_of_finished(self, study_id: int) -> dict[int, int]:
        """``{number: last reported step}`` of the COMPLETE and STOPPED trials that reported."""
        done = (TrialState.COMPLETE.value, TrialState.STOPPED.value)
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, sa.func.max(R.c.step))
                .join(R, R.c.trial_id == T.c.id)
                .where(T.c.study_id == study_id, T.c.state.in_(done))
                .group_by(T.c.number)
            ).all()
        return {int(n): int(s) for n, s in rows if s is not None}

    def values_at_step(
        self, study_id: int, numbers: Sequence[int], step: int
    ) -> dict[int, tuple[float, dict[str, Any]]]:
        """``{number: (value, params)}``: each trial's last finite report at or before ``step``."""
        out: dict[int, tuple[float, dict[str, Any]]] = {}
        with self._conn() as conn:
            for start in range(0, len(numbers), 500):
                chunk = list(numbers[start : start + 500])
                trials = {
                    r.id: (r.number, r.params)
                    for r in conn.execute(
                        sa.select(T.c.id, T.c.number, T.c.params).where(
                            T.c.study_id == study_id, T.c.number.in_(chunk)
                        )
                    )
                }
                last: dict[int, float] = {}
                for trial_id, value in conn.execute(
                    sa.select(R.c.trial_id, R.c.value)
                    .where(R.c.trial_id.in_(list(trials)), R.c.step <= step)
                    .order_by(R.c.trial_id, R.c.step)
                ):
                    if value is not None and math.isfinite(value):
                        last[trial_id] = float(value)
                for trial_id, value in last.items():
                    number, params = trials[trial_id]
                    out[number] = (value, _loads(params, {}))
        return out
