"""A year's State Council holiday notice (国务院办公厅关于 YYYY 年部分节假日安排的通知) as a
TOML file, loaded into the calendar override table; then every open deadline that was
computed Monday to Friday for want of that year's schedule is worked out again.

The file (an example: ``deploy/holidays-2027.example.toml``)::

    year = 2027
    source = "国办发明电〔2026〕x号"          # optional, kept as each day's note

    [[holiday]]
    name = "春节"
    off = ["2027-02-06..2027-02-13"]        # days off: single days or first..last
    work = ["2027-02-14", "2027-02-20"]     # make-up workdays (调休上班), may be empty

Days off must lie in ``year``; a make-up workday may also fall in the previous December (a
New Year's Day bridge). A day listed twice, or both off and worked, is refused, naming the
holiday and the line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from engine.calendar import HOLIDAY, WORKDAY, WorkCalendar
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.city.toml_lines import key_line
from engine.errors import InvalidInput
from engine.sla import calendars, clocks
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.timers.plan import plan_clock

MAX_RANGE_DAYS = 31  # no holiday in a notice is longer


@dataclass(frozen=True)
class NoticeDay:
    day: date
    kind: str  # workday | holiday
    note: str


@dataclass
class Notice:
    year: int
    days: list[NoticeDay] = field(default_factory=list)


@dataclass
class ImportResult:
    written: int  # override rows created or replaced
    recomputed: list[tuple[int, str, datetime, datetime]]  # case, stage, old due, new due
    still_provisional: int  # open clocks still running through a year without a schedule


def _where(path: Path, text: str, keys: tuple[str, ...], item: int | None = None) -> str:
    line = key_line(text, keys, item)
    return f"{path.name}:{line}" if line else path.name


def _day(value: Any, where: str, what: str) -> date:
    if not isinstance(value, str):
        raise InvalidInput(what, f"{where}: {value!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(what, f"{where}: {value!r} is not a date written YYYY-MM-DD") from None


def _days(value: Any, where: str, what: str) -> list[date]:
    """``"2027-02-06"`` or ``"2027-02-06..2027-02-13"`` (both ends included)."""
    if isinstance(value, str) and ".." in value:
        first_text, last_text = value.split("..", 1)
        first, last = _day(first_text, where, what), _day(last_text, where, what)
        span = (last - first).days
        if not 0 <= span < MAX_RANGE_DAYS:
            raise InvalidInput(what, f"{where}: {value!r} must run forward, at most a month")
        return [first + timedelta(days=i) for i in range(span + 1)]
    return [_day(value, where, what)]


def parse_notice(path: Path) -> Notice:
    """Read and check a notice file; errors name the file, line and field."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("file", f"{path.name}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"year", "source", "holiday"})
    if unknown:
        raise InvalidInput(unknown[0], f"{_where(path, text, (unknown[0],))}: unknown key")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 < year < 10000:
        raise InvalidInput("year", f"{_where(path, text, ('year',))}: a year like 2027 is needed")
    source = str(data.get("source", ""))
    holidays = data.get("holiday")
    if not isinstance(holidays, list) or not holidays:
        raise InvalidInput("holiday", f"{path.name}: at least one [[holiday]] is needed")
    notice, seen = Notice(year), {}
    for number, holiday in enumerate(holidays, 1):
        where = _where(path, text, ("holiday", "name"), number)
        if not isinstance(holiday, dict):
            raise InvalidInput("holiday", f"{where}: each [[holiday]] is a table")
        extra = sorted(set(holiday) - {"name", "off", "work"})
        if extra:
            raise InvalidInput(extra[0], f"{where}: unknown key in [[holiday]]")
        name = holiday.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name", f"{where}: each [[holiday]] needs a name")
        note = f"{name.strip()} {source}".strip()[:200]
        for key, kind in (("off", HOLIDAY), ("work", WORKDAY)):
            listed = holiday.get(key, [])
            at = _where(path, text, ("holiday", key), number)
            if not isinstance(listed, list) or (key == "off" and not listed):
                raise InvalidInput(key, f"{at}: a list of dates is needed ({name})")
            for value in listed:
                for day in _days(value, at, key):
                    _check_year(day, kind, year, at, key)
                    if day in seen:
                        raise InvalidInput(key, f"{at}: {day} is listed twice ({name})")
                    seen[day] = kind
                    notice.days.append(NoticeDay(day, kind, note))
    return notice


def _check_year(day: date, kind: str, year: int, where: str, key: str) -> None:
    if day.year == year or (kind == WORKDAY and day.year == year - 1 and day.month == 12):
        return
    raise InvalidInput(key, f"{where}: {day} is not in {year}")


def write_overrides(session: Session, notice: Notice, actor: str, now: datetime) -> int:
    """The notice's days into the override table (the admin API's own service)."""
    for item in notice.days:
        calendars.set_override(session, item.day, item.kind, item.note, actor, now)
    return len(notice.days)


def open_provisional_clocks(session: Session) -> list[SlaClock]:
    query = (
        select(SlaClock)
        .where(col(SlaClock.provisional).is_(True), col(SlaClock.stopped_at).is_(None))
        .order_by(col(SlaClock.id))
    )
    return list(session.exec(query))


def recompute_provisional(
    session: Session, calendar: WorkCalendar, city: CityDirectory, now: datetime
) -> tuple[list[tuple[int, str, datetime, datetime]], int]:
    """Every open provisional deadline worked out again on ``calendar``, its pending timers
    replaced; the clock stays marked only if it still crosses a year without a schedule."""
    settings = SlaSettings.of(city)
    changed: list[tuple[int, str, datetime, datetime]] = []
    still = 0
    for clock in open_provisional_clocks(session):
        before = clock.due_at
        clocks.recompute_due(clock, calendar)
        session.add(clock)
        still += clock.provisional
        case = session.get(Case, clock.case_id)
        at_top = case is not None and case.supervision_unit == city.root
        plan_clock(
            session, clock, now, calendar, settings, at_top=at_top, reason="calendar imported"
        )
        changed.append((clock.case_id, clock.stage, before, clock.due_at))
    return changed, still


def recompute_after_edit(
    session: Session, city: CityDirectory, now: datetime
) -> tuple[list[tuple[int, str, datetime, datetime]], int]:
    """After the override table changed in ``session``'s transaction: the open provisional
    deadlines recomputed on the calendar as it now stands."""
    session.flush()
    rows = calendars.list_overrides(session)
    calendar = calendars.build_calendar(city.settings, city.timezone, rows)
    return recompute_provisional(session, calendar, city, now)


def import_notice(
    session: Session,
    notice: Notice,
    city: CityDirectory,
    actor: str,
    now: datetime,
) -> ImportResult:
    """In one transaction (the caller's): the overrides, then the recomputed deadlines."""
    written = write_overrides(session, notice, actor, now)
    recomputed, still = recompute_after_edit(session, city, now)
    return ImportResult(written, recomputed, still)
