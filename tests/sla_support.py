"""Helpers for the SLA, timer and escalation tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from engine.cases.models import CaseEvent
from engine.db import new_session
from engine.timers.models import Timer
from engine.users.models import Role
from engine.users.service import issue_token

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH).astimezone(UTC)


def local_iso(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> str:
    return datetime(y, m, d, hh, mm, tzinfo=SH).isoformat()


def auth(ctx, role: str, scope: str | None = "00") -> dict[str, str]:
    """A token that outlives the virtual clock's jumps (the api fixture's last a day)."""
    with new_session(ctx.db) as session, session.begin():
        token = issue_token(
            session,
            role=Role(role),
            scope=scope,
            now=ctx.clock.now(),
            ttl=timedelta(days=3650),
            label=f"{role}@{scope}",
        )
    return {"Authorization": f"Bearer {token}"}


async def act(api, case_id: int, action: str, role: str, scope: str | None = "00", **data):
    response = await api.client.post(
        f"/api/v1/cases/{case_id}/actions/{action}",
        json=data,
        headers=auth(api.ctx, role, scope),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def sla(api, case_id: int) -> dict:
    response = await api.client.get(f"/api/v1/cases/{case_id}/sla", headers=auth(api.ctx, "admin"))
    assert response.status_code == 200, response.text
    return response.json()


def stage(view: dict, name: str) -> dict:
    return next(s for s in view["stages"] if s["stage"] == name)


def timers(ctx, case_id: int) -> list[Timer]:
    with new_session(ctx.db) as session:
        query = select(Timer).where(Timer.case_id == case_id).order_by(col(Timer.id))
        return list(session.exec(query))


def pending(ctx, case_id: int) -> list[tuple[str, str, datetime]]:
    return [(t.kind, t.stage, t.due_at) for t in timers(ctx, case_id) if t.status == "pending"]


def events(ctx, case_id: int) -> list[CaseEvent]:
    with new_session(ctx.db) as session:
        query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
        return list(session.exec(query))
