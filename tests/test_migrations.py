"""Migrations produce exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from engine import tables  # noqa: F401
from engine.db import make_engine
from engine.schema import current_revision, downgrade_schema, head_revision, upgrade_schema
from engine.search.models import include_object


def test_migrated_schema_matches_the_models(db_url):
    db = make_engine(db_url)
    try:
        with db.connect() as connection:
            assert current_revision(connection) == head_revision()
            opts = {"compare_type": True, "include_object": include_object}  # FTS: no model
            context = MigrationContext.configure(connection, opts=opts)
            diff = compare_metadata(context, SQLModel.metadata)
        assert diff == [], f"models and migrations differ; add a migration: {diff}"
    finally:
        db.dispose()


def test_upgrade_is_idempotent_and_downgrade_empties(db_url):
    db = make_engine(db_url)
    try:
        upgrade_schema(db)  # already at head: a no-op
        downgrade_schema(db, "base")
        assert set(inspect(db).get_table_names()) <= {"alembic_version"}
        upgrade_schema(db)
        assert {"case", "case_event", "timer"} <= set(inspect(db).get_table_names())
    finally:
        db.dispose()


def test_db_cli_reports_and_upgrades(db_url, monkeypatch, capsys):
    from engine.settings import get_settings
    from web.cli import main

    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", db_url)
    get_settings.cache_clear()
    db = make_engine(db_url)
    try:
        downgrade_schema(db, "base")
        assert main(["db", "current"]) == 1
        assert "behind" in capsys.readouterr().out
        assert main(["db", "upgrade"]) == 0
        assert main(["db", "current"]) == 0
        assert "up to date" in capsys.readouterr().out
    finally:
        db.dispose()
        get_settings.cache_clear()
