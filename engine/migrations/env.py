"""Alembic environment: runs on the connection engine.schema hands it (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from engine import tables  # noqa: F401  (every table on the metadata)
from engine.search.models import include_object  # the full-text index no model declares

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
