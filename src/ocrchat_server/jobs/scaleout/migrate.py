"""The PostgreSQL schema, created and upgraded by numbered SQL files.

``migrations/NNNN_name.sql`` are applied in order, each in its own
transaction, and recorded in ``schema_migrations``; an advisory lock keeps two
hosts that upgrade at once from applying one twice. A new schema change is a
new file with the next number; applied files are never edited.
``ocrchat-server db upgrade`` runs this; the servers refuse to start on a
database that is behind.
"""

from __future__ import annotations

import re
from importlib import resources

import attrs
import psycopg

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x6F637263  # "ocrc": the advisory lock every upgrade takes


@attrs.frozen
class Migration:
    version: int
    name: str
    sql: str


class SchemaBehindError(RuntimeError):
    """The database lacks migrations this version of the server needs."""


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def _applied(connection: psycopg.Connection) -> set[int]:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    rows = connection.execute("SELECT version FROM schema_migrations").fetchall()
    return {int(row[0]) for row in rows}


def upgrade(database_url: str) -> list[str]:
    """Apply what is missing; returns the names of the migrations applied now."""
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            done = _applied(connection)
            for migration in migrations():
                if migration.version in done:
                    continue
                with connection.transaction():
                    connection.execute(migration.sql)
                    connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                applied_now.append(f"{migration.version:04d}_{migration.name}")
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def check_current(database_url: str) -> None:
    """Raises :class:`SchemaBehindError` when migrations are missing."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        missing = [m for m in migrations() if m.version not in _applied(connection)]
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        raise SchemaBehindError(
            f"The database lacks migrations {names}: run `ocrchat-server db upgrade`."
        )
