"""The tables that hold studies and trials, and the schema version they make up.

Change a table only together with ``SCHEMA_VERSION`` and a migration in ``migrations.py``.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "SCHEMA_VERSION",
    "has_reports",
    "meta_table",
    "metadata",
    "reports_table",
    "studies_table",
    "trials_table",
]

#: Version of the tables below. Bump it with a migration in ``migrations.MIGRATIONS``.
#: v2: several objectives and outcome constraints (JSON text columns, NULL for old rows).
SCHEMA_VERSION = 2

metadata = sa.MetaData()

meta_table = sa.Table(
    "hs_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
studies_table = sa.Table(
    "hs_studies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("metric", sa.String(255), nullable=False),
    sa.Column("space", sa.Text, nullable=True),
    sa.Column("config", sa.Text, nullable=False, default="{}"),
    sa.Column("created_at", sa.Double, nullable=True),
    # v2: [{"name", "direction"}, ...] and [{"metric", "op", "bound"} | {"function"}, ...]
    sa.Column("objectives", sa.Text, nullable=True),
    sa.Column("constraints", sa.Text, nullable=True),
)
trials_table = sa.Table(
    "hs_trials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey("hs_studies.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False, default="sampler"),
    sa.Column("params", sa.Text, nullable=False, default="{}"),
    sa.Column("distributions", sa.Text, nullable=False, default="{}"),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("metrics", sa.Text, nullable=False, default="{}"),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("attrs", sa.Text, nullable=False, default="{}"),
    sa.Column("fail_reason", sa.Text, nullable=True),
    sa.Column("traceback", sa.Text, nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("gpu", sa.String(255), nullable=True),
    sa.Column("token", sa.String(64), nullable=True),
    sa.Column("claim_key", sa.String(255), nullable=True),
    sa.Column("created_at", sa.Double, nullable=True),
    sa.Column("started_at", sa.Double, nullable=True),
    sa.Column("finished_at", sa.Double, nullable=True),
    sa.Column("heartbeat_at", sa.Double, nullable=True),
    # v2: every objective's value (a JSON list, multi-objective studies) and one violation
    # per constraint (a JSON list; <= 0 satisfied)
    sa.Column("objective_values", sa.Text, nullable=True),
    sa.Column("constraint_violations", sa.Text, nullable=True),
    sa.UniqueConstraint("study_id", "number", name="uq_trial_number"),
    sa.UniqueConstraint("study_id", "claim_key", name="uq_trial_claim_key"),
    sa.Index("ix_trials_study_state", "study_id", "state"),
)
reports_table = sa.Table(
    "hs_reports",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("hs_trials.id"), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("at", sa.Double, nullable=True),
    # v2: every objective's value at this step (a JSON list; ``value`` keeps the first)
    sa.Column("objective_values", sa.Text, nullable=True),
)


def has_reports() -> sa.Label[bool]:
    """A column saying whether a trial row has any reports, so reading its learning curve
    (another statement) is skipped for the many trials that report nothing."""
    return (
        sa.exists()
        .where(reports_table.c.trial_id == trials_table.c.id)
        .correlate(trials_table)
        .label("has_reports")
    )
