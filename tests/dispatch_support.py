"""Helpers for the dispatch tests (not a test module): activate a rule table, read rows."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from engine.cases.models import Case, CaseEvent
from engine.db import new_session

DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
DEMO_RULES = (DEMO_CITY / "rules.toml").read_text(encoding="utf-8")
# A point inside grid 01010101 (东坡社区第一网格, street 0101, district 01) and one outside.
IN_01010101 = {"lat": 30.30333, "lng": 120.1096}
IN_02020203 = {"lat": 30.2358, "lng": 120.18989}
OUTSIDE = {"lat": 31.5, "lng": 121.5}


def activate(ctx, text: str = DEMO_RULES, by: str = "test") -> str:
    """Make ``text`` the active rule table; return its version."""
    with new_session(ctx.db) as session, session.begin():
        done = ctx.rules.activate(session, text, ctx.city, by, ctx.clock.now())
    ctx.rules.accepted(done)
    return done.table.version


def case_row(ctx, case_id: int) -> Case:
    with new_session(ctx.db) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def events(ctx, case_id: int) -> list[CaseEvent]:
    with new_session(ctx.db) as session:
        query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
        return list(session.exec(query))


def trail(ctx, case_id: int) -> list[tuple[str, str | None]]:
    """(action, to_state) of every audit event, oldest first."""
    return [(e.action, e.to_state) for e in events(ctx, case_id)]
