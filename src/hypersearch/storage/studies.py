"""The study repository: create, read, update, list and delete studies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hypersearch.exceptions import DuplicateStudyError, StudyNotFoundError
from hypersearch.objectives import Objective
from hypersearch.storage.base import StudyRecord, StudySummary
from hypersearch.storage.engine import Database
from hypersearch.storage.rows import check_name, dumps, study_from_row
from hypersearch.storage.schema import reports_table, studies_table, trials_table
from hypersearch.storage.summaries import summarise_studies

__all__ = ["StudyRepository"]


class StudyRepository:
    """Studies in ``db``: one short transaction per call."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        name: str,
        *,
        direction: str,
        metric: str,
        space: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        objectives: Sequence[Objective] = (),
        constraints: Sequence[Mapping[str, Any]] | None = None,
    ) -> StudyRecord:
        stored_objectives = [
            {"name": o.name, "direction": o.direction}
            for o in (objectives or [Objective(metric, direction)])
        ]

        def insert(conn: Connection) -> int:
            exists = conn.execute(
                sa.select(studies_table.c.id).where(studies_table.c.name == name)
            ).first()
            if exists is not None:
                raise DuplicateStudyError(
                    f"A study named {name!r} already exists in {self._db.url}. Load it with "
                    "hs.load_study(...), pass load_if_exists=True, or choose another name."
                )
            result = conn.execute(
                studies_table.insert().values(
                    name=name,
                    direction=direction,
                    metric=metric,
                    space=None if space is None else dumps(space),
                    config=dumps(dict(config)),
                    created_at=self._db.now,
                    objectives=dumps(stored_objectives),
                    constraints=None if constraints is None else dumps(list(constraints)),
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

        try:
            self._db.write_tx(insert)
        except IntegrityError:
            raise DuplicateStudyError(f"A study named {name!r} already exists.") from None
        return self.get(name)

    def get(self, name: str) -> StudyRecord:
        check_name(name, "study name")
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(studies_table).where(studies_table.c.name == name)
            ).first()
            if row is None:
                names = conn.execute(sa.select(studies_table.c.name)).scalars().all()
        if row is None:
            known = ", ".join(map(repr, names[:20])) or "none"
            raise StudyNotFoundError(
                f"No study named {name!r} in {self._db.url}. Studies there: {known}. "
                "Create it with hs.create_study(...)."
            )
        return study_from_row(row)

    def update(
        self, study_id: int, *, space: Mapping[str, Any] | None, config: Mapping[str, Any]
    ) -> None:
        def update(conn: Connection) -> None:
            conn.execute(
                studies_table.update()
                .where(studies_table.c.id == study_id)
                .values(space=None if space is None else dumps(space), config=dumps(config))
            )

        self._db.write_tx(update)

    def summaries(self) -> list[StudySummary]:
        with self._db.read() as conn:
            return summarise_studies(conn)

    def delete(self, name: str) -> None:
        """Delete the study with its trials and their reports, in one transaction."""
        study = self.get(name)

        def delete(conn: Connection) -> None:
            ids = sa.select(trials_table.c.id).where(trials_table.c.study_id == study.id)
            conn.execute(reports_table.delete().where(reports_table.c.trial_id.in_(ids)))
            conn.execute(trials_table.delete().where(trials_table.c.study_id == study.id))
            conn.execute(studies_table.delete().where(studies_table.c.id == study.id))

        self._db.write_tx(delete)
