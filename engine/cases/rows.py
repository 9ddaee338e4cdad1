"""The case row and its audit events at the SQL level, for the case service's write path.

A new case is inserted at once (its id is needed by every row that follows); its later
changes in the transaction are written by ONE versioned UPDATE when the transaction's rows go
out (engine.rowbuffer): from the version read to the latest, however many steps came between.
"""

from __future__ import annotations

from sqlalchemy import Connection, Update, bindparam, insert, select, update
from sqlmodel import Session

from engine import rowbuffer
from engine.cases.models import Case, CaseEvent
from engine.errors import Conflict

CASES = Case.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
# The columns an action may change; all are written by the one versioned UPDATE.
MUTABLE = (
    "state",
    "urgency",
    "owning_unit",
    "lead_department",
    "resolution",
    "rework_count",
    "merged_into",
    "pending_extension",
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
)
# The columns of a new case row (all but the id, which the database assigns).
_NEW_CASE = tuple(c.name for c in CASES.columns if c.name != "id")


def _versioned_update() -> Update:
    """UPDATE case SET … WHERE id = :id_ AND version = :seen, built once (statement cache)."""
    columns = CASES.c
    names = (*MUTABLE, "version", "audit_head", "updated_at")
    return (
        update(CASES)
        .where(columns.id == bindparam("id_"), columns.version == bindparam("seen"))
        .values({name: bindparam(f"new_{name}", type_=columns[name].type) for name in names})
    )


_VERSIONED_UPDATE = _versioned_update()
_BY_ID = select(CASES).where(CASES.c.id == bindparam("case_id"))
BY_EXTERNAL_ID = select(CASES.c.id).where(
    CASES.c.channel == bindparam("channel"),
    CASES.c.external_id == bindparam("external_id"),
)


def insert_case(session: Session, case: Case) -> int:
    """Insert a new case row now; return its id."""
    row = {name: getattr(case, name) for name in _NEW_CASE}
    return session.connection().execute(insert(CASES), row).inserted_primary_key[0]


def load_case(session: Session, case_id: int) -> Case | None:
    """A plain (detached) Case from its row: the write path needs none of the ORM's tracking."""
    row = session.connection().execute(_BY_ID, {"case_id": case_id}).mappings().first()
    return Case.model_validate(row) if row is not None else None


def keep_case(session: Session, case: Case) -> None:
    """Write ``case`` when the transaction's rows go out, if nobody changed it meanwhile."""
    seen = case.version

    def write(connection: Connection) -> None:
        params = {f"new_{name}": getattr(case, name) for name in MUTABLE}
        params |= {
            "new_version": case.version,
            "new_audit_head": case.audit_head,
            "new_updated_at": case.updated_at,
        }
        result = connection.execute(_VERSIONED_UPDATE, params | {"id_": case.id, "seen": seen})
        if result.rowcount != 1:
            raise Conflict(
                f"case {case.id} was changed by someone else; reload it and try again",
                {"case_id": case.id},
            )

    rowbuffer.keep(session, ("case", case.id), CASES, write)
