"""The city's working calendar: which days are workdays and which hours are working time.

Workdays come from, in order of precedence:

1. the admin-edited override table (``"workday"`` / ``"holiday"`` per date), which lets a city
   enter next year's State Council schedule before the ``chinesecalendar`` package has it;
2. the ``chinesecalendar`` package: statutory holidays and make-up workdays (调休);
3. for a year the package does not cover: Monday to Friday. Such a year without any override
   is reported by :meth:`WorkCalendar.coverage_warning`; it never raises.

Working time is the daily work windows (default 08:30–12:00 and 14:00–18:00, city-local wall
clock) on workdays. Every method takes and returns aware UTC datetimes; nothing here reads the
clock.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import chinese_calendar

WORKDAY = "workday"
HOLIDAY = "holiday"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WINDOWS = ("08:30-12:00", "14:00-18:00")

# Years the installed package has data for (it raises NotImplementedError outside them).
PACKAGE_FIRST_YEAR = min(chinese_calendar.holidays).year
PACKAGE_LAST_YEAR = max(chinese_calendar.holidays).year

# Longest run of non-workdays we accept before declaring the calendar broken (overrides that
# mark a whole year as holiday, say). Real runs are at most ~9 days.
_MAX_DAYS_WITHOUT_WORK = 400

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Interval = tuple[datetime, datetime]


def _parse_window(text: str) -> tuple[int, int]:
    """Parse ``"HH:MM-HH:MM"`` into (start, end) seconds after local midnight."""
    match = _WINDOW_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"invalid work window {text!r}: expected 'HH:MM-HH:MM', e.g. '08:30-12:00'"
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"invalid work window {text!r}: hours must be 00-23 (end may be 24:00)")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if start >= end:
        raise ValueError(f"invalid work window {text!r}: start must be before end")
    return start, end


def parse_windows(windows: Sequence[str]) -> tuple[tuple[int, int], ...]:
    if isinstance(windows, str):
        raise ValueError(f"work windows must be a list of 'HH:MM-HH:MM' strings, got {windows!r}")
    windows = tuple(windows)
    parsed = tuple(_parse_window(w) for w in windows)
    if not parsed:
        raise ValueError("at least one work window is required")
    for (_, prev_end), (start, _), text in zip(parsed, parsed[1:], windows[1:], strict=False):
        if start < prev_end:
            raise ValueError(
                f"work windows must be sorted and must not overlap: {text!r} starts before "
                f"the previous window ends (windows: {list(windows)!r})"
            )
    return parsed


def parse_overrides(overrides: Mapping[date | str, str] | None) -> dict[date, bool]:
    result: dict[date, bool] = {}
    for key, value in (overrides or {}).items():
        if isinstance(key, datetime):
            day = key.date()
        elif isinstance(key, date):
            day = key
        else:
            try:
                day = date.fromisoformat(str(key).strip())
            except ValueError:
                raise ValueError(
                    f"invalid calendar override date {key!r}: expected YYYY-MM-DD"
                ) from None
        kind = value.strip().lower() if isinstance(value, str) else value
        if kind not in (WORKDAY, HOLIDAY):
            raise ValueError(
                f"invalid calendar override for {day.isoformat()}: {value!r} "
                f"(expected {WORKDAY!r} or {HOLIDAY!r})"
            )
        result[day] = kind == WORKDAY
    return result


# Places in China people write as a time zone; the whole country's zone is Asia/Shanghai.
_CHINA_PLACES = frozenset(
    [
        "beijing",
        "peking",
        "guangzhou",
        "shenzhen",
        "hangzhou",
        "nanjing",
        "wuhan",
        "chengdu",
        "xian",
        "tianjin",
        "suzhou",
        "changsha",
        "zhengzhou",
        "jinan",
        "qingdao",
        "shenyang",
        "dalian",
        "xiamen",
        "fuzhou",
        "hefei",
        "kunming",
        "nanning",
        "changchun",
        "taiyuan",
        "shijiazhuang",
        "lanzhou",
        "xining",
        "yinchuan",
        "hohhot",
        "guiyang",
        "nanchang",
        "haikou",
        "lhasa",
        "china",
        "prc",
    ]
)


def zone_named(name: object) -> ZoneInfo:
    """The IANA time zone ``name``; an unknown name is a ValueError that suggests one."""
    if isinstance(name, str) and name.strip():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValueError(f"unknown time zone {name!r}{_zone_suggestion(name)}")


def _zone_suggestion(name: object) -> str:
    text = str(name).strip()
    place = text.rsplit("/", 1)[-1].replace("_", " ").strip().lower()
    if place in _CHINA_PLACES:
        return f"; did you mean {DEFAULT_TIMEZONE!r}? (China uses one zone, named after Shanghai)"
    close = difflib.get_close_matches(text, sorted(available_timezones()), n=1, cutoff=0.8)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; use an IANA name such as {DEFAULT_TIMEZONE!r}"


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


class WorkCalendar:
    """Workdays and work windows of one city. Immutable after construction; caches per date."""

    def __init__(
        self,
        timezone: str = DEFAULT_TIMEZONE,
        windows: Sequence[str] = DEFAULT_WINDOWS,
        overrides: Mapping[date | str, str] | None = None,
    ) -> None:
        self.zone = zone_named(timezone)
        self.timezone = timezone
        self._windows = parse_windows(windows)
        self.windows: tuple[str, ...] = tuple(windows)
        self._overrides = parse_overrides(overrides)
        self._override_years = frozenset(d.year for d in self._overrides)
        self._workday_cache: dict[date, bool] = {}
        self._interval_cache: dict[date, tuple[Interval, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(timezone={self.timezone!r}, windows={self.windows!r}, "
            f"overrides={len(self._overrides)})"
        )

    @property
    def overrides(self) -> dict[date, str]:
        """A copy of the override table, normalised to ``{date: "workday" | "holiday"}``."""
        return {d: WORKDAY if work else HOLIDAY for d, work in sorted(self._overrides.items())}

    # ----- days -------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` (a city-local date) is a workday: override, package, else weekday."""
        if isinstance(d, datetime):
            d = d.date()
        cached = self._workday_cache.get(d)
        if cached is None:
            cached = self._compute_is_workday(d)
            self._workday_cache[d] = cached
        return cached

    def _compute_is_workday(self, d: date) -> bool:
        override = self._overrides.get(d)
        if override is not None:
            return override
        if PACKAGE_FIRST_YEAR <= d.year <= PACKAGE_LAST_YEAR:
            try:
                return bool(chinese_calendar.is_workday(d))
            except NotImplementedError:
                pass
        return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """The first workday strictly after ``d``."""
        return self.add_workdays(d, 1)

    def add_workdays(self, d: date, n: int) -> date:
        """The ``n``-th workday after ``d`` (before it for negative ``n``); ``d`` never counts.

        ``n == 0`` returns ``d`` unchanged, whether or not it is a workday.
        """
        step = timedelta(days=1 if n > 0 else -1)
        remaining, idle = abs(n), 0
        while remaining:
            d += step
            if self.is_workday(d):
                remaining -= 1
                idle = 0
            else:
                idle += 1
                if idle > _MAX_DAYS_WITHOUT_WORK:
                    raise ValueError(f"no workday within {_MAX_DAYS_WITHOUT_WORK} days of {d}")
        return d

    # ----- coverage ---------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """Whether ``year`` has holiday data: from the package or from at least one override."""
        return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR or year in self._override_years

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` that have neither package data nor overrides, sorted."""
        return sorted({y for y in years if not self.covers(y)})

    def provisional(self, kind: str, start_utc: datetime, end_utc: datetime) -> bool:
        """Whether a ``kind`` ("working" | "natural") deadline from ``start_utc`` to
        ``end_utc`` runs through a year without holiday data (it counted Monday–Friday)."""
        if kind != "working":
            return False
        first, last = self.local_date(start_utc).year, self.local_date(end_utc).year
        return bool(self.uncovered_years(range(first, last + 1)))

    def coverage_warning(self, year: int) -> str | None:
        """A loud human message if ``year`` runs on the weekdays-only fallback, else None."""
        if self.covers(year):
            return None
        return (
            f"WARNING: no official holiday schedule for {year}. The chinesecalendar package "
            f"covers {PACKAGE_FIRST_YEAR}–{PACKAGE_LAST_YEAR} and there are no calendar "
            f"overrides for {year}, so every Monday–Friday of {year} counts as a workday: "
            f"statutory holidays and make-up workdays (调休) are NOT applied and SLA deadlines "
            f"in {year} may be wrong. Add the State Council schedule for {year} to the calendar "
            f"overrides, or upgrade chinesecalendar."
        )

    # ----- instants ---------------------------------------------------------------------

    def local_date(self, at_utc: datetime) -> date:
        """The city-local date of an instant."""
        _require_aware("at_utc", at_utc)
        return at_utc.astimezone(self.zone).date()

    def _instant(self, d: date, seconds: int) -> datetime:
        """UTC instant of local wall-clock ``seconds`` after midnight on ``d``."""
        local = datetime.combine(d, time(), tzinfo=self.zone) + timedelta(seconds=seconds)
        return local.astimezone(UTC)

    def intervals(self, d: date) -> tuple[Interval, ...]:
        """Working intervals (UTC start, UTC end) of local date ``d``; empty on a non-workday."""
        cached = self._interval_cache.get(d)
        if cached is None:
            cached = ()
            if self.is_workday(d):
                cached = tuple((self._instant(d, s), self._instant(d, e)) for s, e in self._windows)
            self._interval_cache[d] = cached
        return cached

    def close_of_work(self, d: date) -> datetime:
        """UTC instant at which the last work window of local date ``d`` ends."""
        return self._instant(d, self._windows[-1][1])

    @property
    def workday_seconds(self) -> int:
        """Working seconds in one full workday (sum of the window lengths)."""
        return sum(end - start for start, end in self._windows)

    def is_working_time(self, at_utc: datetime) -> bool:
        """Whether ``at_utc`` lies inside a work window (start inclusive, end exclusive)."""
        return any(s <= at_utc < e for s, e in self.intervals(self.local_date(at_utc)))

    def working_seconds_between(self, start_utc: datetime, end_utc: datetime) -> float:
        """Seconds of working time in ``[start_utc, end_utc)``; 0.0 if ``end_utc <= start_utc``."""
        _require_aware("start_utc", start_utc)
        _require_aware("end_utc", end_utc)
        if end_utc <= start_utc:
            return 0.0
        total = 0.0
        day, last = self.local_date(start_utc), self.local_date(end_utc)
        while day <= last:
            for s, e in self.intervals(day):
                lo, hi = max(s, start_utc), min(e, end_utc)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_working_seconds(self, start_utc: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of working time have elapsed since ``start_utc``.

        A start outside working time begins at the next window opening. A result that falls
        exactly on a window's end stays there (18:00, not the next morning's 08:30).
        ``seconds == 0`` returns ``start_utc`` unchanged.
        """
        _require_aware("start_utc", start_utc)
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        if seconds == 0:
            return start_utc.astimezone(UTC)
        remaining = timedelta(seconds=seconds)
        day, idle = self.local_date(start_utc), 0
        while True:
            for s, e in self.intervals(day):
                if e <= start_utc:
                    continue
                begin = max(s, start_utc)
                available = e - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
                idle = 0
            idle += 1
            if idle > _MAX_DAYS_WITHOUT_WORK:
                raise ValueError(f"no working time within {_MAX_DAYS_WITHOUT_WORK} days of {day}")
            day += timedelta(days=1)
