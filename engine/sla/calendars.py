"""The city's working calendar: city.toml settings plus the admin-edited override table.

Building a :class:`WorkCalendar` is cheap but its per-date caches are worth keeping, so one is
kept and rebuilt only when the city's settings are reloaded or the override table changes.
A change is noticed through a fingerprint of the table (row count and latest edit), so an
edit made by another process is seen on the next use too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.calendar import DEFAULT_WINDOWS, HOLIDAY, WORKDAY, WorkCalendar
from engine.city.directory import CityDirectory
from engine.db import new_session
from engine.errors import InvalidInput, NotFound
from engine.sla.models import CalendarOverride

Fingerprint = tuple[int, datetime | None]


class CityCalendars:
    """Hands out the current :class:`WorkCalendar` of the city."""

    def __init__(self, db: Engine, city: Callable[[], CityDirectory]) -> None:
        self.db, self._city = db, city
        self._lock = threading.Lock()
        self._cached: tuple[CityDirectory, Fingerprint, WorkCalendar] | None = None

    def get(self, session: Session | None = None) -> WorkCalendar:
        """The calendar as of now; pass the caller's session to read inside its transaction."""
        city = self._city()
        if session is None:
            with new_session(self.db) as own:
                fingerprint = _fingerprint(own)
        else:
            fingerprint = _fingerprint(session)
        cached = self._cached
        if cached is not None and cached[0] is city and cached[1] == fingerprint:
            return cached[2]
        with self._lock:
            if session is None:
                with new_session(self.db) as own:
                    rows = _rows(own)
            else:
                rows = _rows(session)
            calendar = build_calendar(city.settings, city.timezone, rows)
            self._cached = (city, fingerprint, calendar)
        return calendar

    def invalidate(self) -> None:
        self._cached = None


def build_calendar(
    settings: dict[str, Any], timezone: str, rows: list[CalendarOverride]
) -> WorkCalendar:
    """city.toml's ``[work] windows`` and ``[calendar.overrides]``, then the table's rows."""
    windows = settings.get("work", {}).get("windows", DEFAULT_WINDOWS)
    overrides: dict[date | str, str] = dict(settings.get("calendar", {}).get("overrides", {}))
    overrides.update({row.day: row.kind for row in rows})
    return WorkCalendar(timezone, windows, overrides)


def _fingerprint(session: Session) -> Fingerprint:
    count, latest = session.exec(
        select(func.count(), func.max(CalendarOverride.updated_at))  # type: ignore[call-overload]
    ).one()
    return int(count), latest


def _rows(session: Session) -> list[CalendarOverride]:
    return list(session.exec(select(CalendarOverride).order_by(col(CalendarOverride.day))))


# ------------------------------------------------------------------ the override table


def list_overrides(session: Session, year: int | None = None) -> list[CalendarOverride]:
    rows = _rows(session)
    return [r for r in rows if year is None or r.day.year == year]


def set_override(
    session: Session, day: date, kind: str, note: str, actor: str, now: datetime
) -> CalendarOverride:
    """Create or replace the entry for ``day``."""
    if kind not in (WORKDAY, HOLIDAY):
        raise InvalidInput("kind", f"must be '{WORKDAY}' or '{HOLIDAY}'")
    row = session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, kind=kind, note=note, updated_by=actor, updated_at=now)
    else:
        row.kind, row.note, row.updated_by, row.updated_at = kind, note, actor, now
    session.add(row)
    return row


def delete_override(session: Session, day: date) -> None:
    row = session.get(CalendarOverride, day)
    if row is None:
        raise NotFound(f"no calendar override for {day.isoformat()}")
    session.delete(row)
