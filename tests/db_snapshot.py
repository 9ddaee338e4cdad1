"""Every table of the database as row counts and digests of its rows, so a test can say
which tables a request changed (an UPDATE shows too): the write walk's "wrote nothing"."""

from __future__ import annotations

import hashlib

from sqlalchemy import Table, func, select
from sqlmodel import SQLModel

import engine.tables  # noqa: F401  (every table: the walk counts them all)


def tables() -> list[Table]:
    return sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name)


STATIC = {"city_grid"}  # reference data no route writes (large polygons): counted only
_QUERIES: dict[str, list[tuple[str, str]]] = {}


def queries(dialect) -> list[tuple[str, str]]:
    """Each table's name and the SQL reading it in key order (compiled once per dialect)."""
    found = _QUERIES.get(dialect.name)
    if found is None:
        found = _QUERIES[dialect.name] = []
        for table in tables():
            keys = list(table.primary_key.columns) or list(table.columns)
            query = select(func.count()).select_from(table)
            if table.name not in STATIC:
                query = select(table).order_by(*keys)
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            found.append((table.name, sql))
    return found


def snapshot(ctx) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows (an UPDATE shows too)."""
    found = {}
    with ctx.db.connect() as conn:
        for name, sql in queries(conn.dialect):
            rows = conn.exec_driver_sql(sql).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            found[name] = (len(rows), digest)
    return found


def changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]
