"""The read models' statements on the write path (engine.prepared: compiled once per dialect,
run on the driver's cursor), and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, delete, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.cases.models import CaseEvent
from engine.prepared import Prepared
from engine.views.models import ViewStageLight

LIGHTS = ViewStageLight.__table__  # type: ignore[attr-defined]
LIGHTS_OF_CASE = Prepared(select(LIGHTS).where(LIGHTS.c.case_id == bindparam("case_id")))
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
FILER_OF_CASE = Prepared(
    select(EVENTS.c.actor)
    .where(EVENTS.c.case_id == bindparam("case_id"), EVENTS.c.from_state.is_(None))
    .order_by(EVENTS.c.seq)
    .limit(1)
)
_STATEMENTS: dict[tuple[Any, ...], Prepared] = {}


def upsert_statement(dialect_name: str, table: Table, keys: tuple[str, ...], add: bool) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE, adding the other columns to the stored ones
    (``add``: counts) or replacing them; every column is a parameter."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table)
    others = [c.name for c in table.columns if c.name not in keys]
    if add:
        values = {c: table.c[c] + statement.excluded[c] for c in others}
    else:
        values = {c: statement.excluded[c] for c in others}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=values)


def upsert(connection: Connection, table: Table, keys: tuple[str, ...], add: bool) -> Prepared:
    """:func:`upsert_statement` prepared once per dialect, its parameters in table order."""
    name = connection.dialect.name
    kind = "add" if add else "replace"
    found = _STATEMENTS.get((name, table.name, kind))
    if found is None:
        statement = upsert_statement(name, table, keys, add)
        found = Prepared(statement, keys=[c.name for c in table.columns])
        _STATEMENTS[name, table.name, kind] = found
    return found


def add_counts(
    connection: Connection, table: Table, keys: tuple[str, ...], counts: tuple[str, ...]
) -> Prepared:
    """INSERT … ON CONFLICT (keys) DO UPDATE adding ``counts`` to the stored ones: only the
    key and ``counts`` columns are parameters, every other count is inserted as 0 and left
    as stored. The write path's rows change a few counts of the thirty-odd a row holds, so
    each row binds (and the database adds) those few."""
    name = connection.dialect.name
    cache_key = (name, table.name, "add", counts)
    found = _STATEMENTS.get(cache_key)
    if found is None:
        dialect = postgresql if name == "postgresql" else sqlite
        bound = set(keys) | set(counts)
        values = {
            c.name: bindparam(c.name, type_=c.type) if c.name in bound else literal_column("0")
            for c in table.columns
        }
        statement = dialect.insert(table).values(values)
        if counts:
            added = {c: table.c[c] + statement.excluded[c] for c in counts}
            statement = statement.on_conflict_do_update(index_elements=list(keys), set_=added)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(keys))
        if len(_STATEMENTS) > 1000:  # a few dozen sets of counts occur; never grow unbounded
            _STATEMENTS.clear()
        found = _STATEMENTS[cache_key] = Prepared(statement)
    return found


def insert(table: Table) -> Prepared:
    found = _STATEMENTS.get(("", table.name, "insert"))
    if found is None:
        found = Prepared(table.insert(), keys=[c.name for c in table.columns])
        _STATEMENTS["", table.name, "insert"] = found
    return found


def delete_by(table: Table, keys: tuple[str, ...]) -> Prepared:
    """DELETE … WHERE each key column = :key_<column>."""
    found = _STATEMENTS.get(("", table.name, "delete:" + ",".join(keys)))
    if found is None:
        where = and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
        found = Prepared(delete(table).where(where))
        _STATEMENTS["", table.name, "delete:" + ",".join(keys)] = found
    return found
