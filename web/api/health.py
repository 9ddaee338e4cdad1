"""Liveness and readiness: /healthz."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from web.deps import Ctx

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(ctx: Ctx) -> dict[str, Any]:
    """Database reachable and a city configured; warnings list what needs an admin's eye."""
    with ctx.db.connect() as conn:
        conn.execute(text("SELECT 1"))
    city = ctx.city
    return {"status": "ok", "city": city.name, "warnings": []}
