"""Admin view of outbound messages: dead letters, and redelivery by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from engine.outbox import leases as store
from engine.outbox.models import OutboxPublic, OutboxStatus
from web.deps import Admin, Ctx, RowId

router = APIRouter(prefix="/api/v1/admin/outbox", tags=["admin"])


class OutboxList(BaseModel):
    items: list[OutboxPublic]
    total: int
    limit: int
    offset: int


@router.get("", response_model=OutboxList)
def list_outbox(
    ctx: Ctx,
    admin: Admin,
    status: OutboxStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OutboxList:
    """Messages newest first; ``?status=dead`` lists the dead letters."""
    rows, total = store.list_messages(ctx.db, status, limit, offset)
    items = [OutboxPublic.model_validate(r) for r in rows]
    return OutboxList(items=items, total=total, limit=limit, offset=offset)


@router.post("/{message_id}/redeliver", response_model=OutboxPublic)
def redeliver(message_id: RowId, ctx: Ctx, admin: Admin) -> OutboxPublic:
    """Queue a dead (or delivered) message again with a fresh set of attempts."""
    return OutboxPublic.model_validate(store.redeliver(ctx.db, message_id, ctx.clock.now()))
