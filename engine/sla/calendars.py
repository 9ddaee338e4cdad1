"""The city's working calendar: city.toml settings plus the admin-edited override table.

Building a :class:`WorkCalendar` is cheap but its per-date caches are worth keeping, so one is
kept and rebuilt only when the city's settings are reloaded or the override table changes.
A change is noticed through a fingerprint of the table (row count and latest edit), so an
edit made by another process is seen on the next use too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
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

    # How long (clock time) a case transaction trusts the cached calendar without a look.
    RECHECK = timedelta(seconds=30)

    def __init__(self, db: Engine, city: Callable[[], CityDirectory]) -> None:
        self.db, self._city = db, city
        self._lock = threading.Lock()
        self._cached: tuple[CityDirectory, Fingerprint, WorkCalendar] | None = None
        self._checked_at: datetime | None = None

    def get(self, session: Session | None = None, now: datetime | None = None) -> WorkCalendar:
        """The calendar as of now; pass the caller's session to read inside its transaction.

        With ``now`` (case transactions pass theirs), the table is looked at again only
        after ``RECHECK`` of clock time; edits made through this process apply at once
        anyway (:meth:`invalidate`), edits by another process within ``RECHECK``.
        """
        city, cached, checked = self._city(), self._cached, self._checked_at
        fresh = now is not None and checked is not None
        fresh = fresh and timedelta(0) <= now - checked < self.RECHECK  # type: ignore[operator]
        if fresh and cached is not None and cached[0] is city:
            return cached[2]
        if session is None:
            with new_session(self.db) as own:
                return self._current(own, city, now)
        return self._current(session, city, now)

    def _current(self, session: Session, city: CityDirectory, now: datetime | None) -> WorkCalendar:
        fingerprint = _fingerprint(session)
        cached = self._cached
        if cached is None or cached[0] is not city or cached[1] != fingerprint:
            with self._lock:
                calendar = build_calendar(city.settings, city.timezone, _rows(session))
                cached = self._cached = (city, fingerprint, calendar)
        if now is not None:
            self._checked_at = now
        return cached[2]

    def invalidate(self) -> None:
        self._cached, self._checked_at = None, None


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
