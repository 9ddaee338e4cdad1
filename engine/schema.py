"""Bring a database's schema up to date."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from engine.db import create_schema


def upgrade_schema(engine: Engine) -> None:
    create_schema(engine)
