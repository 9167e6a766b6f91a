"""The statements every trial runs (claim, parameters, finish, history), built once per
storage with bound parameters: building a SQLAlchemy statement costs more Python time than
running it on SQLite. See bench/RESULTS-parallel.md."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hypersearch.storage.schema import has_reports, studies_table, trials_table
from hypersearch.trial import TrialState

__all__ = ["TrialStatements"]


class TrialStatements:
    """The per-trial path's statements, for the database whose clock is ``now``; their bound
    parameters are named ``v_*``."""

    def __init__(self, now: sa.ColumnElement[float], *, sqlite: bool) -> None:
        t = trials_table
        p = sa.bindparam
        running = {
            "state": TrialState.RUNNING.value,
            "token": p("v_token"),
            "host": p("v_host"),
            "pid": p("v_pid"),
            "gpu": p("v_gpu"),
            "started_at": now,
            "heartbeat_at": now,
        }
        waiting = t.alias("waiting")  # not correlated with the updated row
        oldest = (
            sa.select(waiting.c.id)
            .where(waiting.c.study_id == p("v_study"), waiting.c.state == TrialState.WAITING.value)
            .order_by(waiting.c.number)
            .limit(1)
        )
        if not sqlite:  # a WAITING row another worker is taking is skipped, not waited for
            oldest = oldest.with_for_update(skip_locked=True)
        #: the oldest WAITING trial made RUNNING, returned (no row when there is none)
        self.take = (
            t.update()
            .where(t.c.id == oldest.scalar_subquery(), t.c.state == TrialState.WAITING.value)
            .values(**running)
            .returning(*t.c)
        )
        other = t.alias("other")
        last = (
            sa.select(other.c.number)
            .where(other.c.study_id == p("v_study"))
            .order_by(other.c.number.desc())
            .limit(1)
            .scalar_subquery()
        )
        new = {
            "study_id": p("v_study", type_=sa.Integer),
            "number": sa.func.coalesce(last, -1) + 1,
            "created_at": now,
            "source": sa.literal("sampler", sa.String),
            "state": sa.literal(TrialState.RUNNING.value, sa.String),
            "token": p("v_token", type_=sa.String),
            "host": p("v_host", type_=sa.String),
            "pid": p("v_pid", type_=sa.Integer),
            "gpu": p("v_gpu", type_=sa.String),
            "started_at": now,
            "heartbeat_at": now,
        }
        # Two workers may compute the same number: the second insert waits for the first to
        # commit, then inserts nothing (and the claim tries again) instead of failing.
        dialect_insert = sqlite_insert if sqlite else postgresql_insert
        number_taken = [t.c.study_id, t.c.number]
        #: a new RUNNING trial numbered after the study's last one, returned (no row when
        #: another worker took that number first)
        self.insert = (
            dialect_insert(t)
            .values(**new)
            .on_conflict_do_nothing(index_elements=number_taken)
            .returning(*t.c)
        )
        queued = t.alias("queued")
        none_waiting = ~sa.exists().where(
            queued.c.study_id == p("v_study"), queued.c.state == TrialState.WAITING.value
        )
        #: the same, only when the study has no WAITING trial (which goes first): the usual
        #: claim in one statement
        self.insert_unless_waiting = (
            dialect_insert(t)
            .from_select(
                list(new), sa.select(*(v.label(k) for k, v in new.items())).where(none_waiting)
            )
            .on_conflict_do_nothing(index_elements=number_taken)
            .returning(*t.c)
        )
        #: the study's number-allocation lock (PostgreSQL; see ``TrialRepository.next_number``)
        self.lock = (
            sa.select(studies_table.c.id)
            .where(studies_table.c.id == p("v_study"))
            .with_for_update()
        )
        owned = sa.and_(
            t.c.id == p("v_id"), t.c.token == p("v_token"), t.c.state == TrialState.RUNNING.value
        )
        #: parameters replaced, only while the lease and the stored parameters are unchanged
        self.set_params = (
            t.update()
            .where(owned, t.c.params == p("v_old_params"), t.c.distributions == p("v_old_dists"))
            .values(params=p("v_params"), distributions=p("v_dists"))
        )
        #: a trial still RUNNING under the token finished, returned
        self.finish = (
            t.update()
            .where(owned)
            .values(
                state=p("v_state"),
                value=p("v_value"),
                metrics=p("v_metrics"),
                fail_reason=p("v_reason"),
                traceback=p("v_traceback"),
                objective_values=p("v_objective_values"),
                constraint_violations=p("v_constraint_violations"),
                finished_at=now,
            )
            .returning(*t.c, has_reports())
        )
        after = sa.select(t, has_reports()).where(t.c.study_id == p("v_study"))
        #: trials numbered above ``v_after`` (and, with ``v_numbers``, those numbers too)
        self.after = after.where(t.c.number > p("v_after")).order_by(t.c.number)
        self.after_or = after.where(
            sa.or_(t.c.number > p("v_after"), t.c.number.in_(p("v_numbers", expanding=True)))
        ).order_by(t.c.number)
