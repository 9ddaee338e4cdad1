"""The case row and its audit events at the SQL level, for the case service's write path.

A new case is inserted at once (its id is needed by every row that follows); its later
changes in the transaction are written by ONE versioned UPDATE when the transaction's rows go
out (engine.rowbuffer): from the version read to the latest, however many steps came between.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlmodel import Session

from engine import rowbuffer
from engine.cases.models import Case, CaseEvent
from engine.errors import Conflict
from engine.prepared import Prepared
from engine.records import from_row

CASES = Case.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
# The columns an action may change; the one versioned UPDATE writes those that did.
MUTABLE = (
    "state",
    "urgency",
    "owning_unit",
    "lead_department",
    "resolution",
    "rework_count",
    "merged_into",
    "pending_extension",
    "pending_request",
    "closed_at",
    "category",
    "sla_limits",
    "supervision_unit",
    "card",
    "alert_count",
    "latest_snapshot",
    "duplicate_of",
    "dispatch_rule",
    "rules_version",
    "dispatch_source",
    "dispatch_queue",
    "queued_at",
)
# The columns of a new case row (all but the id and generated ones, the database's to write).
_NEW_CASE = tuple(c.name for c in CASES.columns if c.name != "id" and c.computed is None)


_ALWAYS = ("version", "audit_head", "updated_at")
_UPDATES: dict[tuple[str, ...], Prepared] = {}


def _versioned_update(changed: tuple[str, ...]) -> Prepared:
    """UPDATE case SET <changed> … WHERE id = :id_ AND version = :seen, built once per set of
    changed columns (a handful)."""
    found = _UPDATES.get(changed)
    if found is None:
        columns = CASES.c
        names = (*changed, *_ALWAYS)
        found = _UPDATES[changed] = Prepared(
            update(CASES)
            .where(columns.id == bindparam("id_"), columns.version == bindparam("seen"))
            .values({name: bindparam(f"new_{name}", type_=columns[name].type) for name in names})
        )
    return found


def _snapshot(case: Case) -> dict[str, Any]:
    """The mutable columns' values, JSON ones copied (an action may change them in place)."""
    return {name: _copy(getattr(case, name)) for name in MUTABLE}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


_BY_ID = Prepared(select(CASES).where(CASES.c.id == bindparam("case_id")))
_INSERT = Prepared(insert(CASES).returning(CASES.c.id), keys=_NEW_CASE)
_case_of_row = from_row(Case)
BY_EXTERNAL_ID = Prepared(
    select(CASES.c.id).where(
        CASES.c.channel == bindparam("channel"),
        CASES.c.external_id == bindparam("external_id"),
    )
)


def insert_case(session: Session, case: Case) -> int:
    """Insert a new case row now; return its id."""
    row = {name: getattr(case, name) for name in _NEW_CASE}
    case_id = _INSERT.first(session.connection(), row)["id"]  # type: ignore[index]
    rowbuffer.buffer(session).cache[("case-row", case_id)] = _snapshot(case)
    return case_id


def load_case(session: Session, case_id: int) -> Case | None:
    """A Case in no session (transient) from its row: the write path needs none of the ORM's
    tracking."""
    row = _BY_ID.first(session.connection(), {"case_id": case_id})
    if row is None:
        return None
    case = _case_of_row(row)
    _remember(session, case)
    return case


def _remember(session: Session, case: Case) -> None:
    """Note the row as the database has it now: the UPDATE then writes what changed since."""
    rowbuffer.buffer(session).cache[("case-row", case.id)] = _snapshot(case)


def keep_case(session: Session, case: Case) -> None:
    """Write ``case`` when the transaction's rows go out, if nobody changed it meanwhile."""
    seen, cache = case.version, rowbuffer.buffer(session).cache

    def write(connection: Connection) -> None:
        before = cache.get(("case-row", case.id))
        changed = MUTABLE
        if before is not None:
            changed = tuple(name for name in MUTABLE if getattr(case, name) != before[name])
        params = {f"new_{name}": getattr(case, name) for name in (*changed, *_ALWAYS)}
        params |= {"id_": case.id, "seen": seen}
        if _versioned_update(changed).rowcount(connection, params) != 1:
            raise Conflict(
                f"case {case.id} was changed by someone else; reload it and try again",
                {"case_id": case.id},
            )
        _remember(session, case)

    rowbuffer.keep(session, ("case", case.id), CASES, write)
