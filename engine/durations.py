"""Time limits as configured (``30m``, ``2h``, ``3d``, ``4wh``, ``5wd``) and their arithmetic.

Natural units (``m``, ``h``, ``d``) are plain elapsed time: ``3d`` is 72 hours. Working units
count only the city's working time (see :class:`engine.calendar.WorkCalendar`): ``wh`` is
working hours, ``wd`` is working days under 期间开始之日不计算在内 (the start day never
counts; the deadline is the close of work on the N-th working day after the start day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from engine.calendar import WorkCalendar

Unit = Literal["m", "h", "d", "wh", "wd"]
UnitKind = Literal["natural", "working"]

NATURAL_UNITS: dict[str, timedelta] = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}
WORKING_UNITS = ("wh", "wd")
UNITS = (*NATURAL_UNITS, *WORKING_UNITS)

_ACCEPTED = (
    "a positive whole number in ASCII digits (0-9) followed by a unit: m, h, d (natural "
    "minutes, hours, days), wh (working hours) or wd (working days), "
    "e.g. '30m', '2h', '3d', '4wh', '5wd'"
)
_DURATION_RE = re.compile(r"^\s*([0-9]+)\s*(wh|wd|m|h|d)\s*$", re.IGNORECASE | re.ASCII)

# The longest limit accepted per unit: about one year (a working year for wh/wd). Anything
# longer is a typo, and would also run the calendar arithmetic over years of days.
MAX_AMOUNT: dict[str, int] = {"m": 525_600, "h": 8_784, "d": 366, "wh": 2_000, "wd": 250}


@dataclass(frozen=True)
class Duration:
    """A configured time limit: ``amount`` (> 0) of ``unit``. ``str()`` gives e.g. ``"4wh"``."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"invalid duration unit {self.unit!r}: expected one of {UNITS}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError(f"duration amount must be a positive integer, got {self.amount!r}")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def kind(self) -> UnitKind:
        """``"working"`` for wh/wd, ``"natural"`` for m/h/d."""
        return "working" if self.unit in WORKING_UNITS else "natural"


def parse_duration(text: str | Duration) -> Duration:
    """Parse ``"4wh"`` and friends; a :class:`Duration` passes through unchanged."""
    if isinstance(text, Duration):
        return text
    match = _DURATION_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid duration {text!r}: expected {_ACCEPTED}")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise ValueError(
            f"invalid duration {text!r}: must be greater than zero; expected {_ACCEPTED}"
        )
    if amount > MAX_AMOUNT[unit]:
        raise ValueError(
            f"invalid duration {text!r}: at most {MAX_AMOUNT[unit]}{unit} (about a year)"
        )
    return Duration(amount, unit)  # type: ignore[arg-type]


def _check_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def deadline(start_utc: datetime, duration: Duration | str, calendar: WorkCalendar) -> datetime:
    """When a limit of ``duration`` that starts at ``start_utc`` runs out (aware UTC).

    - ``m``/``h``/``d``: ``start + amount × unit`` of plain time.
    - ``wh``: that many working hours later (a start outside working time begins at the next
      window opening; a result exactly at a window end stays there).
    - ``wd``: close of work on the N-th workday after the city-local start date. The start
      day never counts, whatever the hour and whether or not it is a workday.
    """
    start = _check_aware("start_utc", start_utc)
    duration = parse_duration(duration)
    if duration.unit == "wh":
        return calendar.add_working_seconds(start, duration.amount * 3600)
    if duration.unit == "wd":
        last_day = calendar.add_workdays(calendar.local_date(start), duration.amount)
        return calendar.close_of_work(last_day)
    return start + duration.amount * NATURAL_UNITS[duration.unit]


def extend(deadline_utc: datetime, duration: Duration | str, calendar: WorkCalendar) -> datetime:
    """Move an existing deadline later by an approved extension or a suspension.

    - ``m``/``h``/``d``: plain time.
    - ``wh``: that many working hours after the deadline.
    - ``wd``: N full workdays of working time after the deadline (N × the working seconds of a
      workday). Because every workday has the same windows, this keeps the deadline's
      position in the working day: close of work stays close of work N workdays later, 10:00
      stays 10:00. A deadline outside working time (e.g. a natural-unit deadline on a
      Saturday) is first taken back to its last working moment, which is the same point in
      working time, so Saturday 10:00 + 2wd is Tuesday's close of work.
    """
    current = _check_aware("deadline_utc", deadline_utc)
    duration = parse_duration(duration)
    if duration.unit == "wh":
        return calendar.add_working_seconds(current, duration.amount * 3600)
    if duration.unit == "wd":
        return calendar.add_working_seconds(current, duration.amount * calendar.workday_seconds)
    return current + duration.amount * NATURAL_UNITS[duration.unit]


def kind_of(unit: str | Duration) -> UnitKind:
    """``"working"`` or ``"natural"`` for a kind, a unit code, a duration string or Duration."""
    if isinstance(unit, Duration):
        return unit.kind
    if unit in ("working", "natural"):
        return unit  # type: ignore[return-value]
    if unit in UNITS:
        return "working" if unit in WORKING_UNITS else "natural"
    try:
        return parse_duration(unit).kind
    except ValueError:
        raise ValueError(
            f"invalid unit kind {unit!r}: expected 'working', 'natural', a unit ({UNITS}) "
            f"or a duration such as '4wh'"
        ) from None


def stage_seconds_between(
    start_utc: datetime, end_utc: datetime, calendar: WorkCalendar, kind: str | Duration
) -> float:
    """Seconds from start to end in the stage's measure (working or plain); never negative."""
    start = _check_aware("start_utc", start_utc)
    end = _check_aware("end_utc", end_utc)
    if kind_of(kind) == "working":
        return calendar.working_seconds_between(start, end)
    return max(0.0, (end - start).total_seconds())


def elapsed_fraction(
    started: datetime,
    due: datetime,
    now: datetime,
    calendar: WorkCalendar,
    unit_kind: str | Duration,
    *,
    paused_seconds: float = 0.0,
) -> float:
    """How much of a stage's time limit has been used at ``now``: 0.0 at start, 1.0 at ``due``.

    ``unit_kind`` is ``"working"`` or ``"natural"`` (a unit code such as ``"wd"``, a duration
    string or a :class:`Duration` is accepted too and mapped to its kind). Working stages
    measure working seconds only, so a night or a holiday does not use up a ``wd`` limit;
    natural stages measure plain seconds.

    The result is ``elapsed / total`` where ``elapsed`` is measured from ``started`` to
    ``now`` and ``total`` from ``started`` to ``due``. It is 0.0 before ``started`` and is not
    capped above 1.0 (1.5 means overdue by half the limit), so the lights are simply
    ``>= yellow_ratio`` and ``>= 1.0``.

    ``paused_seconds`` is stopped-clock time (completed suspensions) inside ``[started, now]``,
    in the same measure. The caller has already moved ``due`` later by the same amount (see
    :func:`extend`), so it is taken off both ``elapsed`` and ``total``. While a stage is
    suspended, pass the suspension start as ``now`` to freeze the fraction.

    A stage whose ``total`` is zero (``due <= started``) is 1.0 from ``due`` on, 0.0 before.
    """
    kind = kind_of(unit_kind)
    total = stage_seconds_between(started, due, calendar, kind) - paused_seconds
    elapsed = stage_seconds_between(started, now, calendar, kind) - paused_seconds
    if total <= 0:
        return 1.0 if now >= due else 0.0
    return max(0.0, elapsed / total)
