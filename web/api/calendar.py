"""The working calendar: administrators keep the override table (the State Council's
schedule for a year the chinesecalendar package does not know yet, local adjustments)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.errors import InvalidInput
from engine.isotime import IsoDate
from engine.ops.calendar_notice import recompute_after_edit
from engine.sla import calendars
from engine.sla.models import CalendarOverride
from web.deps import Admin, Ctx, CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

Kind = Literal["workday", "holiday"]
MAX_DAYS = 366
MAX_BULK = 400


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    note: str = Field(default="", max_length=200)


class OverrideItem(OverrideIn):
    day: IsoDate


class OverrideOut(OverrideItem):
    updated_by: str
    updated_at: datetime


class OverrideBulk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[OverrideItem] = Field(min_length=1, max_length=MAX_BULK)


class Coverage(BaseModel):
    year: int
    covered: bool
    warning: str | None


class OverrideList(BaseModel):
    items: list[OverrideOut]
    config: dict[str, str]  # city.toml's [calendar.overrides]; the table wins over these
    coverage: list[Coverage]  # this year and the next


class Day(BaseModel):
    day: date
    workday: bool


def _recompute(ctx: Ctx, session: DbSession) -> None:
    """In the edit's transaction: the provisional deadlines on the edited calendar."""
    recompute_after_edit(session, ctx.city, ctx.clock.now())


def _out(row: CalendarOverride) -> OverrideOut:
    return OverrideOut.model_validate(row, from_attributes=True)


@router.get("/overrides", response_model=OverrideList)
def list_overrides(
    ctx: Ctx,
    session: DbSession,
    _: CurrentPrincipal,
    year: Annotated[int | None, Query(ge=1900, le=9999)] = None,
) -> OverrideList:
    """The override table, the overrides from city.toml, and which years have official data."""
    calendar = ctx.calendars.get(session)
    this_year = calendar.local_date(ctx.clock.now()).year
    coverage = [
        Coverage(year=y, covered=calendar.covers(y), warning=calendar.coverage_warning(y))
        for y in (this_year, this_year + 1)
    ]
    config = ctx.city.settings.get("calendar", {}).get("overrides", {})
    return OverrideList(
        items=[_out(r) for r in calendars.list_overrides(session, year)],
        config={str(k): str(v) for k, v in config.items()},
        coverage=coverage,
    )


@router.put("/overrides/{day}", response_model=OverrideOut)
def put_override(
    day: IsoDate, body: OverrideIn, ctx: Ctx, session: DbSession, admin: Admin
) -> OverrideOut:
    """Make ``day`` (city time) a workday or a holiday; deadlines set from now on use it, and
    open provisional deadlines (counted Monday to Friday) are worked out again."""
    now = ctx.clock.now()
    with session.begin():
        row = calendars.set_override(session, day, body.kind, body.note, admin.name, now)
        _recompute(ctx, session)
    ctx.calendars.invalidate()
    return _out(row)


@router.put("/overrides", response_model=list[OverrideOut])
def put_overrides(
    body: OverrideBulk, ctx: Ctx, session: DbSession, admin: Admin
) -> list[OverrideOut]:
    """Enter many days at once (a year's schedule); all or none are written. Open provisional
    deadlines are worked out again, as ``gridflow calendar import`` does."""
    days = [item.day for item in body.items]
    if len(set(days)) != len(days):
        raise InvalidInput("items", "a day is listed twice")
    now = ctx.clock.now()
    with session.begin():
        rows = [
            calendars.set_override(session, i.day, i.kind, i.note, admin.name, now)
            for i in body.items
        ]
        _recompute(ctx, session)
    ctx.calendars.invalidate()
    return [_out(row) for row in rows]


@router.delete("/overrides/{day}", status_code=204)
def delete_override(day: IsoDate, ctx: Ctx, session: DbSession, _: Admin) -> Response:
    with session.begin():
        calendars.delete_override(session, day)
    ctx.calendars.invalidate()
    return Response(status_code=204)


@router.get("/days", response_model=list[Day])
def list_days(
    ctx: Ctx,
    session: DbSession,
    _: CurrentPrincipal,
    start: Annotated[IsoDate, Query(alias="from")],
    end: Annotated[IsoDate, Query(alias="to")],
) -> list[Day]:
    """Which days from ``from`` to ``to`` (inclusive, at most a year) are workdays."""
    if end < start:
        raise InvalidInput("to", "must not be before 'from'")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput("to", f"at most {MAX_DAYS} days at a time")
    calendar = ctx.calendars.get(session)
    span = range((end - start).days + 1)
    days = [start + timedelta(days=i) for i in span]
    return [Day(day=d, workday=calendar.is_workday(d)) for d in days]
