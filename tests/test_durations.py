"""Durations: parsing, deadlines (期间开始之日不计算在内), extensions, elapsed fraction."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import WorkCalendar
from engine.durations import (
    Duration,
    deadline,
    elapsed_fraction,
    extend,
    kind_of,
    parse_duration,
    stage_seconds_between,
)

SH = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
DAY = 7.5 * HOUR


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


# ----- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("30m", 30, "m"),
        ("2h", 2, "h"),
        ("3d", 3, "d"),
        ("4wh", 4, "wh"),
        ("5wd", 5, "wd"),
        (" 10wd ", 10, "wd"),
        ("4WH", 4, "wh"),
        ("4 wh", 4, "wh"),
    ],
)
def test_parse_duration(text: str, amount: int, unit: str) -> None:
    assert parse_duration(text) == Duration(amount, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["30m", "2h", "3d", "4wh", "5wd", "120wh"])
def test_str_round_trips(text: str) -> None:
    duration = parse_duration(text)
    assert str(duration) == text
    assert parse_duration(str(duration)) == duration


def test_duration_passes_through_parse() -> None:
    duration = Duration(4, "wh")
    assert parse_duration(duration) is duration


@pytest.mark.parametrize(
    "text", ["", "4", "wh", "4x", "4.5h", "-1d", "0wd", "0m", "4 w h", "4hw", "h4", "1e3m"]
)
def test_bad_strings_are_rejected_with_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    assert repr(text) in message
    assert "wh" in message and "wd" in message


@pytest.mark.parametrize("value", [None, 4, 4.0])
def test_non_strings_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("amount", "unit"), [(0, "h"), (-2, "wd"), (True, "h"), (1, "s")])
def test_bad_duration_objects_are_rejected(amount: int, unit: str) -> None:
    with pytest.raises(ValueError):
        Duration(amount, unit)  # type: ignore[arg-type]


def test_duration_is_frozen_and_knows_its_kind() -> None:
    duration = Duration(4, "wh")
    with pytest.raises(dataclasses.FrozenInstanceError):
        duration.amount = 5  # type: ignore[misc]
    assert duration.kind == "working"
    assert Duration(5, "wd").kind == "working"
    assert Duration(3, "d").kind == "natural"


def test_kind_of() -> None:
    assert kind_of("working") == "working"
    assert kind_of("natural") == "natural"
    assert kind_of("wd") == "working"
    assert kind_of("h") == "natural"
    assert kind_of("4wh") == "working"
    assert kind_of(Duration(30, "m")) == "natural"
    with pytest.raises(ValueError, match="unit kind"):
        kind_of("fortnight")


# ----- deadline: natural units ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", sh(2025, 11, 14, 17, 30)),
        ("2h", sh(2025, 11, 14, 19)),
        ("3d", sh(2025, 11, 17, 17)),  # plain time, weekend included
        ("1d", sh(2025, 11, 15, 17)),
    ],
)
def test_natural_deadlines_add_plain_time(cal: WorkCalendar, text: str, expected: datetime) -> None:
    result = deadline(sh(2025, 11, 14, 17), text, cal)
    assert result == expected
    assert result.tzinfo is UTC


def test_natural_deadline_ignores_holidays(cal: WorkCalendar) -> None:
    assert deadline(sh(2025, 9, 30, 16), "2d", cal) == sh(2025, 10, 2, 16)


def test_naive_start_is_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2025, 11, 14, 17), "4wh", cal)


# ----- deadline: working hours ------------------------------------------------------------


def test_4wh_from_friday_1700_lands_monday_1130(cal: WorkCalendar) -> None:
    # Fri 2025-11-14 is an ordinary Friday: 1 h Friday (17-18) + 3 h Monday (08:30-11:30).
    result = deadline(sh(2025, 11, 14, 17), "4wh", cal)
    assert result == sh(2025, 11, 17, 11, 30)
    assert result == datetime(2025, 11, 17, 3, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (sh(2025, 11, 14, 11), "2wh", sh(2025, 11, 14, 15)),  # across lunch
        (sh(2025, 11, 14, 16), "2wh", sh(2025, 11, 14, 18)),  # exactly close: stays
        (sh(2025, 11, 14, 7), "1wh", sh(2025, 11, 14, 9, 30)),  # before opening
        (sh(2025, 11, 14, 12, 30), "1wh", sh(2025, 11, 14, 15)),  # in lunch
        (sh(2025, 11, 14, 20), "1wh", sh(2025, 11, 17, 9, 30)),  # after close on Friday
        (sh(2025, 11, 15, 10), "8wh", sh(2025, 11, 18, 9, 0)),  # Saturday start
        (sh(2025, 9, 30, 16), "4wh", sh(2025, 10, 9, 10, 30)),  # National Day
        (sh(2025, 10, 10, 16), "4wh", sh(2025, 10, 11, 10, 30)),  # make-up Saturday
        (sh(2025, 9, 26, 17), "2wh", sh(2025, 9, 28, 9, 30)),  # make-up Sunday
        (sh(2025, 12, 31, 17), "4wh", sh(2026, 1, 4, 11, 30)),  # year boundary
    ],
)
def test_working_hour_deadlines(
    cal: WorkCalendar, start: datetime, text: str, expected: datetime
) -> None:
    assert deadline(start, text, cal) == expected


# ----- deadline: working days (期间开始之日不计算在内) ------------------------------------


def test_3wd_from_national_day_eve(cal: WorkCalendar) -> None:
    # Official 2025 schedule: 1-8 Oct off; Sat 11 Oct is a make-up workday. The first three
    # workdays after 30 Sep are 9, 10 and 11 Oct, so "3wd" ends at 18:00 on Saturday 11 Oct.
    assert cal.add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    result = deadline(sh(2025, 9, 30, 16), "3wd", cal)
    assert result == sh(2025, 10, 11, 18)
    assert result == datetime(2025, 10, 11, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("hour_minute", [(0, 1), (8, 0), (12, 0), (18, 0), (23, 59)])
def test_start_day_never_counts_whatever_the_hour(
    cal: WorkCalendar, hour_minute: tuple[int, int]
) -> None:
    start = sh(2025, 11, 14, *hour_minute)  # Friday
    assert deadline(start, "1wd", cal) == sh(2025, 11, 17, 18)
    assert deadline(start, "2wd", cal) == sh(2025, 11, 18, 18)


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (sh(2025, 10, 3, 10), "1wd", sh(2025, 10, 9, 18)),  # start on a holiday
        (sh(2025, 10, 8, 23), "1wd", sh(2025, 10, 9, 18)),  # last holiday evening
        (sh(2025, 11, 15, 10), "1wd", sh(2025, 11, 17, 18)),  # start on Saturday
        (sh(2025, 9, 27, 10), "1wd", sh(2025, 9, 28, 18)),  # Sunday 28 Sep is a workday
        (sh(2025, 9, 26, 10), "2wd", sh(2025, 9, 29, 18)),  # counts Sunday 28 Sep
        (sh(2025, 10, 11, 10), "1wd", sh(2025, 10, 13, 18)),  # start on make-up Saturday
        (sh(2025, 9, 30, 16), "4wd", sh(2025, 10, 13, 18)),
        (sh(2025, 11, 10, 9), "5wd", sh(2025, 11, 17, 18)),
        (sh(2025, 12, 31, 9), "1wd", sh(2026, 1, 4, 18)),  # year boundary + 调休 Sunday
        (sh(2025, 12, 31, 9), "2wd", sh(2026, 1, 5, 18)),
        (sh(2025, 12, 30, 9), "1wd", sh(2025, 12, 31, 18)),
    ],
)
def test_working_day_deadlines(
    cal: WorkCalendar, start: datetime, text: str, expected: datetime
) -> None:
    assert deadline(start, text, cal) == expected


def test_working_day_deadline_uses_local_start_date(cal: WorkCalendar) -> None:
    # 17:00 UTC on 30 Sep is 01:00 on 1 Oct in Shanghai: the start day is 1 Oct (a holiday).
    assert deadline(datetime(2025, 9, 30, 17, 0, tzinfo=UTC), "1wd", cal) == sh(2025, 10, 9, 18)
    # 23:00 UTC on 29 Sep is 07:00 on 30 Sep in Shanghai: the start day is 30 Sep.
    assert deadline(datetime(2025, 9, 29, 23, 0, tzinfo=UTC), "1wd", cal) == sh(2025, 10, 9, 18)


def test_working_days_in_year_without_data(cal: WorkCalendar) -> None:
    # 2027 has no package data: weekdays only, so Fri 1 Jan 2027 counts (with a warning).
    assert deadline(sh(2026, 12, 31, 10), "1wd", cal) == sh(2027, 1, 1, 18)
    assert deadline(sh(2027, 3, 5, 10), "1wd", cal) == sh(2027, 3, 8, 18)
    assert cal.coverage_warning(2027) is not None


def test_overrides_change_working_day_deadlines() -> None:
    cal = WorkCalendar(overrides={"2025-10-11": "holiday", "2027-01-01": "holiday"})
    assert deadline(sh(2025, 9, 30, 16), "3wd", cal) == sh(2025, 10, 13, 18)
    assert deadline(sh(2026, 12, 31, 10), "1wd", cal) == sh(2027, 1, 4, 18)
    assert cal.coverage_warning(2027) is None


def test_custom_windows_change_close_of_work() -> None:
    cal = WorkCalendar(windows=("09:00-12:00", "13:30-17:30"))
    assert deadline(sh(2025, 9, 30, 16), "3wd", cal) == sh(2025, 10, 11, 17, 30)
    # 0.5 h Friday, then Monday 09:00-12:00 and 13:30-14:00.
    assert deadline(sh(2025, 11, 14, 17), "4wh", cal) == sh(2025, 11, 17, 14, 0)


# ----- extend -----------------------------------------------------------------------------


def test_extend_by_two_working_days_moves_two_working_days(cal: WorkCalendar) -> None:
    assert extend(sh(2025, 11, 11, 18), "2wd", cal) == sh(2025, 11, 13, 18)  # Tue -> Thu
    assert extend(sh(2025, 11, 13, 18), "2wd", cal) == sh(2025, 11, 17, 18)  # Thu -> Mon
    assert extend(sh(2025, 9, 30, 18), "2wd", cal) == sh(2025, 10, 10, 18)  # over National Day
    assert extend(sh(2025, 10, 10, 18), "2wd", cal) == sh(2025, 10, 13, 18)  # via Sat 11 Oct
    original = deadline(sh(2025, 9, 30, 16), "3wd", cal)
    assert extend(original, "2wd", cal) == deadline(sh(2025, 9, 30, 16), "5wd", cal)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (sh(2025, 11, 14, 10), sh(2025, 11, 18, 10)),  # keeps 10:00
        (sh(2025, 11, 14, 8, 30), sh(2025, 11, 17, 18)),  # opening = previous close
        (sh(2025, 11, 14, 12, 30), sh(2025, 11, 18, 12)),  # in lunch: counts from 12:00
        (sh(2025, 11, 15, 10), sh(2025, 11, 18, 18)),  # Saturday: counts from Fri close
        (sh(2025, 10, 5, 10), sh(2025, 10, 10, 18)),  # inside a holiday
    ],
)
def test_extend_working_days_keeps_position(
    cal: WorkCalendar, current: datetime, expected: datetime
) -> None:
    result = extend(current, "2wd", cal)
    assert result == expected
    assert cal.working_seconds_between(current, result) == 2 * DAY


def test_extend_working_hours(cal: WorkCalendar) -> None:
    assert extend(sh(2025, 11, 14, 18), "1wh", cal) == sh(2025, 11, 17, 9, 30)
    assert extend(sh(2025, 11, 14, 11), "3wh", cal) == sh(2025, 11, 14, 16)


def test_extend_natural_units(cal: WorkCalendar) -> None:
    assert extend(sh(2025, 11, 14, 18), "3d", cal) == sh(2025, 11, 17, 18)
    assert extend(sh(2025, 11, 14, 18), "90m", cal) == sh(2025, 11, 14, 19, 30)
    assert extend(sh(2025, 11, 14, 18), Duration(2, "h"), cal) == sh(2025, 11, 14, 20)


def test_extend_rejects_bad_input(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        extend(sh(2025, 11, 14, 18), "2 days", cal)
    with pytest.raises(ValueError, match="timezone-aware"):
        extend(datetime(2025, 11, 14, 18), "2wd", cal)


# ----- elapsed fraction -------------------------------------------------------------------


def test_elapsed_fraction_natural(cal: WorkCalendar) -> None:
    started = sh(2025, 10, 1, 8)
    due = started + timedelta(hours=4)
    assert elapsed_fraction(started, due, started + timedelta(hours=1), cal, "natural") == 0.25
    assert elapsed_fraction(started, due, due, cal, "h") == 1.0
    assert elapsed_fraction(started, due, due + timedelta(hours=2), cal, "natural") == 1.5
    assert elapsed_fraction(started, due, started - timedelta(hours=1), cal, "natural") == 0.0


def test_elapsed_fraction_working_ignores_holidays(cal: WorkCalendar) -> None:
    started = sh(2025, 9, 30, 16)
    due = deadline(started, "3wd", cal)  # 2 h on 30 Sep + 3 full days = 24.5 working hours
    total = 2 * HOUR + 3 * DAY
    assert stage_seconds_between(started, due, cal, "wd") == total
    during_holiday = elapsed_fraction(started, due, sh(2025, 10, 5, 12), cal, "working")
    assert during_holiday == pytest.approx(2 * HOUR / total)
    next_noon = elapsed_fraction(started, due, sh(2025, 10, 9, 12), cal, Duration(3, "wd"))
    assert next_noon == pytest.approx(5.5 * HOUR / total)
    assert elapsed_fraction(started, due, due, cal, "wd") == 1.0
    assert elapsed_fraction(started, due, sh(2025, 10, 12, 12), cal, "wd") == 1.0  # Sunday
    assert elapsed_fraction(started, due, sh(2025, 10, 13, 18), cal, "wd") > 1.0


def test_elapsed_fraction_yellow_threshold(cal: WorkCalendar) -> None:
    started = sh(2025, 11, 14, 17)
    due = deadline(started, "4wh", cal)  # Monday 11:30
    assert elapsed_fraction(started, due, sh(2025, 11, 17, 10, 40), cal, "wh") < 0.8
    assert elapsed_fraction(started, due, sh(2025, 11, 17, 10, 42), cal, "wh") >= 0.8


def test_elapsed_fraction_with_paused_time(cal: WorkCalendar) -> None:
    started = sh(2025, 11, 10, 8, 30)
    # 1 working day limit, suspended for a whole working day in between; due moved by 1wd.
    due = extend(deadline(started, "1wd", cal), "1wd", cal)
    paused = DAY
    now = sh(2025, 11, 11, 18)  # 2 full days elapsed, one of them suspended
    fraction = elapsed_fraction(started, due, now, cal, "working", paused_seconds=paused)
    assert fraction == pytest.approx(0.5)


def test_elapsed_fraction_zero_length_stage(cal: WorkCalendar) -> None:
    moment = sh(2025, 11, 15, 10)
    assert elapsed_fraction(moment, moment, moment, cal, "natural") == 1.0
    assert elapsed_fraction(moment, moment, moment - timedelta(seconds=1), cal, "m") == 0.0
    # Saturday to Saturday: no working time at all in the stage.
    later = sh(2025, 11, 15, 12)
    assert elapsed_fraction(moment, later, sh(2025, 11, 15, 11), cal, "working") == 0.0
    assert elapsed_fraction(moment, later, later, cal, "working") == 1.0


def test_elapsed_fraction_rejects_bad_kind(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="unit kind"):
        elapsed_fraction(sh(2025, 11, 14, 9), sh(2025, 11, 14, 10), sh(2025, 11, 14, 9), cal, "x")
