"""Cases to verify and a database administrator's tampering, for the audit trail tests."""

from __future__ import annotations

import itertools

from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from engine import tables  # noqa: F401  (every table, to find what refers to a case)
from engine.audit import Finding, checkpoints_file, plain_hash, verify_trail
from engine.cases.models import CaseCreate, CaseEvent
from engine.db import new_session
from engine.users.models import Principal, Role

_numbers = itertools.count()
OPERATOR = Principal(name="op", role=Role.operator, scope="00")
DISPATCHER = Principal(name="d", role=Role.dispatcher, scope="00")


def make_cases(ctx, n: int = 3) -> list[int]:
    """``n`` hotline cases, each reported, registered and dispatched: events 1–3."""
    ids = []
    for i in range(n):
        report = CaseCreate(
            channel="hotline",
            external_id=f"A-{next(_numbers)}",
            description=f"第{i}件",
            reporter_name="张三",
            reporter_phone="13800138000",
        )
        case = ctx.cases.intake(OPERATOR, report).case
        ctx.cases.act(DISPATCHER, case.id, "dispatch", {"department": "HW-01"})
        ids.append(case.id)
    return ids


def findings(ctx, keys=None, batch: int = 1000) -> list[Finding]:
    trail = verify_trail(
        ctx.db,
        keys or ctx.audit_keys,
        checkpoints_file(ctx.settings.instance_dir),
        batch,
    )
    return [item for item in trail if isinstance(item, Finding)]


def kinds(found: list[Finding]) -> set[tuple]:
    """(kind, case, event, field) of each finding."""
    return {(f.kind, f.case_id, f.seq, f.field) for f in found}


def tamper(ctx, sql: str, **params) -> None:
    with ctx.db.begin() as conn:
        conn.execute(text(sql), params)


def delete_case(ctx, case_id: int) -> None:
    """Delete a case with its events and every row that refers to it, as a DBA could."""
    with ctx.db.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if "case_id" in table.c:
                conn.execute(table.delete().where(table.c.case_id == case_id))
        conn.execute(text('DELETE FROM "case" WHERE id = :id'), {"id": case_id})


def trail_of(ctx, case_id: int) -> list[CaseEvent]:
    with new_session(ctx.db) as session:
        query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
        return list(session.exec(query).all())


def rechain_plain(ctx, case_id: int, key_id: str | None = None) -> None:
    """Recompute a case's chain with plain SHA-256, as someone without the key would, and
    point the case row at the new head. ``key_id``: also relabel the events."""
    prev = ""
    with ctx.db.begin() as conn:
        for event in trail_of(ctx, case_id):
            if key_id is not None:
                event.key_id = key_id
            event.prev_hash, event.hash = prev, plain_hash(prev, event)
            conn.execute(
                text(
                    "UPDATE case_event SET prev_hash = :prev, hash = :hash, key_id = :kid "
                    "WHERE id = :id"
                ),
                {"prev": prev, "hash": event.hash, "kid": event.key_id, "id": event.id},
            )
            prev = event.hash
        conn.execute(
            text('UPDATE "case" SET audit_head = :head WHERE id = :id'),
            {"head": prev, "id": case_id},
        )
