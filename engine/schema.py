"""The database schema is managed by Alembic migrations (engine/migrations), on SQLite and
PostgreSQL alike. ``upgrade_schema`` brings a database to the newest revision; processes that
start together on PostgreSQL take an advisory lock so only one migrates."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK = 7_262_011  # any constant shared by gridflow processes


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; a no-op (one query) when the database is already at head."""
    with engine.connect() as connection:
        if revision == "head" and current_revision(connection) == head_revision():
            return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        command.upgrade(alembic_config(connection), revision)


def downgrade_schema(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def new_revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the difference between the models and ``engine``'s schema."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
