"""Schema versions: create the tables of a new database, refuse one this release cannot
read, and migrate an older one in place (``hypersearch upgrade``)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hypersearch.exceptions import SchemaVersionError, StorageError
from hypersearch.storage.engine import Database
from hypersearch.storage.schema import (
    SCHEMA_VERSION,
    meta_table,
    metadata,
    reports_table,
    studies_table,
    trials_table,
)

__all__ = ["MIGRATIONS", "open_schema", "schema_version", "upgrade_schema"]


def _add_multi_objective_columns(conn: Connection) -> None:
    """v1 -> v2: the columns of several objectives and constraints, NULL in existing rows
    (which read as single-objective studies without constraints, as before)."""
    for table, column in (
        (studies_table, "objectives"),
        (studies_table, "constraints"),
        (trials_table, "objective_values"),
        (trials_table, "constraint_violations"),
        (reports_table, "objective_values"),
    ):
        conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column} TEXT"))


#: ``MIGRATIONS[v](conn)`` turns schema v into v+1 inside the upgrade transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _add_multi_objective_columns}

_VERSION = sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")


def open_schema(db: Database, *, allow_older: bool = False) -> None:
    """Create the tables if the database has none, then check the version they are at:
    newer than this release reads, or older without ``allow_older``, is refused."""
    if db.read_only:
        _check_version(db, allow_older)
        return

    def create(conn: Connection) -> None:
        existed = sa.inspect(conn).has_table(meta_table.name)
        metadata.create_all(conn, checkfirst=True)
        row = conn.execute(_VERSION).first()
        if row is None and existed:  # tables without a version: do not guess one
            raise SchemaVersionError(
                f"{db.url} has hypersearch tables but no schema version (its "
                "'schema_version' row in hs_meta was deleted), so it cannot be read "
                "safely. Restore the database from a backup, or put the row back with the "
                f"version that wrote it (INSERT INTO hs_meta VALUES ('schema_version', "
                f"'{SCHEMA_VERSION}') for this release)."
            )
        if row is None:
            conn.execute(
                meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
            )

    try:
        db.write_tx(create)
    except IntegrityError:  # another process created it at the same moment
        pass
    except StorageError:
        raise
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()  # without SQLAlchemy's links
        raise StorageError(
            f"Cannot open storage {db.url}: {reason}. Is it a hypersearch database?"
        ) from None
    _check_version(db, allow_older)


def _check_version(db: Database, allow_older: bool) -> None:
    try:
        version = schema_version(db)
    except (StorageError, SQLAlchemyError) as exc:
        raise StorageError(f"Cannot read {db.url}: {exc}. Is it a hypersearch database?") from None
    if version > SCHEMA_VERSION:
        raise _newer(version)
    if version < SCHEMA_VERSION and not allow_older:
        raise SchemaVersionError(
            f"Database schema is v{version}, older than v{SCHEMA_VERSION}. Back it up, "
            f"then run: hypersearch upgrade --storage {db.url}"
        )


def _newer(version: int) -> SchemaVersionError:
    return SchemaVersionError(
        f"Database schema is v{version} but this hypersearch reads v{SCHEMA_VERSION}. "
        "Upgrade hypersearch (pip install -U hypersearch)."
    )


def schema_version(db: Database) -> int:
    """The version the database's tables are at."""
    with db.read() as conn:
        value = conn.execute(_VERSION).scalar_one()
    return int(value)


def upgrade_schema(db: Database) -> tuple[int, int]:
    """Migrate the tables to ``SCHEMA_VERSION`` in one transaction; return the versions
    (before, after). The database must have been opened with ``allow_older=True``."""

    def migrate(conn: Connection) -> int:
        row = conn.execute(_VERSION).scalar_one()
        version = int(row)
        while version < SCHEMA_VERSION:
            if version not in MIGRATIONS:
                raise SchemaVersionError(
                    f"No upgrade from schema v{version}: this database was not written by "
                    "a released hypersearch. Export what you need and start a new one."
                )
            MIGRATIONS[version](conn)
            version += 1
        conn.execute(
            meta_table.update()
            .where(meta_table.c.key == "schema_version")
            .values(value=str(version))
        )
        return int(row)

    before = schema_version(db)
    if before > SCHEMA_VERSION:
        raise _newer(before)
    if before < SCHEMA_VERSION:
        before = db.write_tx(migrate)
    return before, SCHEMA_VERSION
