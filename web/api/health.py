"""Liveness and readiness: /healthz."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from engine.db import new_session
from engine.timers.incidents import count_incidents
from web.deps import Ctx

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(ctx: Ctx) -> dict[str, Any]:
    """Database reachable and a city configured; warnings list what needs an admin's eye."""
    with ctx.db.connect() as conn:
        conn.execute(text("SELECT 1"))
    city = ctx.city
    return {"status": "ok", "city": city.name, "warnings": _warnings(ctx)}


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
