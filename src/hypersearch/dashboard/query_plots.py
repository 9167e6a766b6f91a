"""The chart data: every trial's value and parameters, objective points, failures,
learning curves, and the signature that says when any of it changed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from hypersearch.dashboard.query_common import (
    FINISHED_STATES,
    LIVE_STATES,
    MAX_CURVES,
    QueryBase,
    R,
    T,
    _clean_json,
    _loads,
    _numbers,
    _satisfied,
    json_number,
)
from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.trial import TrialState


class PlotQueries(QueryBase):
    """The reads behind the history, parallel-coordinates, slice, Pareto and curve charts."""

    def points_json(self, study_id: int, *, with_params: bool = True) -> str:
        """Every trial as JSON columns ``{numbers, states, values, params: [{...}, ...]}``: the
        data of the history, parallel-coordinates and slice plots (the history needs no
        ``params``, a sixth of the size). One indexed scan, no reports.

        On SQLite the database writes the JSON itself (its JSON functions are C; parsing
        50,000 parameter objects in Python takes seconds). ±inf values become the strings
        ``"Infinity"`` / ``"-Infinity"`` as everywhere in the API.
        """
        where = T.c.study_id == study_id
        if self._sqlite:
            inner = (
                sa.select(T.c.number, T.c.state, T.c.value, T.c.params)
                .where(where)
                .order_by(T.c.number)
                .subquery()
            )
            query = sa.select(
                sa.func.json_object(
                    "numbers",
                    sa.func.json_group_array(inner.c.number),
                    "states",
                    sa.func.json_group_array(inner.c.state),
                    "values",
                    sa.func.json_group_array(
                        sa.case(  # SQLite writes ±inf as Inf, which is not JSON
                            (inner.c.value > 1.7e308, "Infinity"),
                            (inner.c.value < -1.7e308, "-Infinity"),
                            else_=inner.c.value,
                        )
                    ),
                    *(
                        ("params", sa.func.json_group_array(sa.func.json(inner.c.params)))
                        if with_params
                        else ()
                    ),
                )
            )
            try:
                with self._conn() as conn:
                    return str(conn.execute(query).scalar_one())
            except sa.exc.OperationalError:  # e.g. a NaN some writer put in params: not JSON
                pass
        points = self._points(study_id)
        if not with_params:
            del points["params"]
        return json.dumps(points, separators=(",", ":"), allow_nan=False)

    def points(self, study_id: int, *, with_params: bool = True) -> dict[str, Any]:
        """``points_json`` as Python objects (NaN and ±inf as strings)."""
        if self._sqlite:
            loaded = json.loads(self.points_json(study_id, with_params=with_params))
            return {k: _clean_json(v) for k, v in loaded.items()}
        points = self._points(study_id)
        if not with_params:
            del points["params"]
        return points

    def objective_points(
        self, study_id: int
    ) -> tuple[list[int], list[list[Any]], list[bool], list[list[Any] | None]]:
        """The COMPLETE trials with every objective's value: numbers, values, whether each is
        feasible and its constraint violations (the Pareto and hypervolume charts)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.objective_values, T.c.constraint_violations)
                .where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    T.c.objective_values.is_not(None),
                )
                .order_by(T.c.number)
            ).all()
        numbers, values, feasible, violations = [], [], [], []
        for n, given, violated in rows:
            numbers.append(int(n))
            values.append(_numbers(given) or [])
            found = _numbers(violated)
            violations.append(found)
            feasible.append(found is None or _satisfied(found))
        return numbers, values, feasible, violations

    def infeasible_numbers(self, study_id: int) -> list[int]:
        """The numbers of the COMPLETE trials that break a constraint (the history's ×)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.constraint_violations).where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    T.c.constraint_violations.is_not(None),
                )
            ).all()
        return sorted(int(n) for n, found in rows if not _satisfied(_numbers(found) or []))

    def fail_reasons(self, study_id: int) -> dict[int, str]:
        """``{number: reason}`` of the FAILED trials (the history's hover texts)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.fail_reason).where(
                    T.c.study_id == study_id, T.c.state == TrialState.FAILED.value
                )
            ).all()
        return {int(n): str(r) for n, r in rows if r}

    def states_and_values(
        self, study_id: int, numbers: Sequence[int]
    ) -> tuple[dict[int, str], dict[int, float | str | None]]:
        """The state and value of each of ``numbers`` (the learning curves' colours)."""
        states: dict[int, str] = {}
        values: dict[int, float | str | None] = {}
        with self._conn() as conn:
            for start in range(0, len(numbers), 500):
                chunk = list(numbers[start : start + 500])
                for n, state, value in conn.execute(
                    sa.select(T.c.number, T.c.state, T.c.value).where(
                        T.c.study_id == study_id, T.c.number.in_(chunk)
                    )
                ):
                    states[int(n)] = str(state)
                    values[int(n)] = json_number(value)
        return states, values

    def _points(self, study_id: int) -> dict[str, Any]:
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.state, T.c.value, T.c.params)
                .where(T.c.study_id == study_id)
                .order_by(T.c.number)
            ).all()
        return {
            "numbers": [r.number for r in rows],
            "states": [r.state for r in rows],
            "values": [json_number(r.value) for r in rows],
            "params": [_clean_json(_loads(r.params, {})) for r in rows],
        }

    def signature(self, study_id: int) -> tuple[Any, ...]:
        """Changes whenever a trial is added, deleted or changes state: a cache key for
        ``points`` and importance (two small index-only queries)."""
        with self._conn() as conn:
            max_id = conn.execute(sa.select(sa.func.max(T.c.id)).where(T.c.study_id == study_id))
            top = max_id.scalar()
            counts = conn.execute(
                sa.select(T.c.state, sa.func.count())
                .where(T.c.study_id == study_id)
                .group_by(T.c.state)
                .order_by(T.c.state)
            ).all()
        return (top, tuple((s, int(n)) for s, n in counts))

    def default_curve_numbers(self, study_id: int, direction: str, k: int = 60) -> list[int]:
        """The trials whose curves the study page shows first: the ``k`` best finished ones,
        every running one, and the ``k`` most recent."""
        order = T.c.value.asc() if direction == Direction.MINIMIZE else T.c.value.desc()
        with self._conn() as conn:
            best = conn.execute(
                sa.select(T.c.number)
                .where(
                    T.c.study_id == study_id,
                    T.c.state.in_(FINISHED_STATES),
                    T.c.value.is_not(None),
                )
                .order_by(order)
                .limit(k)
            ).scalars()
            numbers = list(best)
            numbers += conn.execute(
                sa.select(T.c.number).where(T.c.study_id == study_id, T.c.state.in_(LIVE_STATES))
            ).scalars()
            numbers += conn.execute(
                sa.select(T.c.number)
                .where(T.c.study_id == study_id)
                .order_by(T.c.number.desc())
                .limit(k)
            ).scalars()
        return sorted(set(numbers))[:MAX_CURVES]

    def curves(self, study_id: int, numbers: Iterable[int]) -> dict[str, list[list[Any]]]:
        """Learning curves ``{number: [[step, value], ...]}`` of at most MAX_CURVES trials."""
        wanted = sorted(set(numbers))
        if len(wanted) > MAX_CURVES:
            raise InvalidArgumentError(f"ask for at most {MAX_CURVES} curves at once.")
        if not wanted:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, R.c.step, R.c.value)
                .join(R, R.c.trial_id == T.c.id)
                .where(T.c.study_id == study_id, T.c.number.in_(wanted))
                .order_by(T.c.number, R.c.step)
            ).all()
        out: dict[str, list[list[Any]]] = {}
        for number, step, value in rows:
            out.setdefault(str(number), []).append([step, json_number(value)])
        return out
