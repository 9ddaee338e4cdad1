"""Liveness and readiness: /healthz."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from engine.db import new_session
from engine.errors import Unauthorized
from engine.timers.incidents import count_incidents
from engine.users.models import Role
from web.deps import Ctx, principal_of
from web.pages import sessions

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(request: Request, ctx: Ctx) -> dict[str, Any]:
    """Database reachable and a city configured: ``{"status": "ok"}`` for anyone (the load
    balancer). An administrator (token or page session) also gets the city and the warnings
    that need their eye (calendar coverage, timer incidents)."""
    with ctx.db.connect() as conn:
        conn.execute(text("SELECT 1"))
    city = ctx.city
    if not _is_admin(request, ctx):
        return {"status": "ok"}
    return {"status": "ok", "city": city.name, "warnings": _warnings(ctx)}


def _is_admin(request: Request, ctx: Ctx) -> bool:
    if request.headers.get("authorization"):
        try:
            return principal_of(request, ctx).role is Role.admin
        except Unauthorized:
            return False
    page = sessions.current(ctx, request)
    return page is not None and page.principal.role is Role.admin


def _warnings(ctx: Ctx) -> list[str]:
    warnings = []
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        year = calendar.local_date(ctx.clock.now()).year
        # This year and the next: the State Council publishes a schedule each November.
        warnings += [w for y in (year, year + 1) if (w := calendar.coverage_warning(y))]
        incidents = count_incidents(session)
    if incidents:
        warnings.append(
            f"{incidents} timer(s) failed repeatedly and are incidents: "
            "see GET /api/v1/admin/incidents"
        )
    return warnings
