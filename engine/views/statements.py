"""The read models' statements on the write path (engine.prepared: compiled once per dialect,
run on the driver's cursor), and nothing else."""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, bindparam, delete, select
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
_STATEMENTS: dict[tuple[str, str, str], Prepared] = {}


def upsert(connection: Connection, table: Table, keys: tuple[str, ...], add: bool) -> Prepared:
    """INSERT … ON CONFLICT (keys) DO UPDATE, adding the other columns to the stored ones
    (``add``: counts) or replacing them; every column is a parameter, in table order."""
    name = connection.dialect.name
    kind = "add" if add else "replace"
    found = _STATEMENTS.get((name, table.name, kind))
    if found is None:
        dialect = postgresql if name == "postgresql" else sqlite
        statement = dialect.insert(table)
        others = [c.name for c in table.columns if c.name not in keys]
        if add:
            values = {c: table.c[c] + statement.excluded[c] for c in others}
        else:
            values = {c: statement.excluded[c] for c in others}
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=values)
        found = Prepared(statement, keys=[c.name for c in table.columns])
        _STATEMENTS[name, table.name, kind] = found
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
