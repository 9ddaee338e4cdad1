"""WorkCalendar: workdays (package, 调休, overrides, uncovered years) and working time."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import PACKAGE_LAST_YEAR, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
DAY = 7.5 * HOUR  # default windows: 3.5 h + 4 h


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Shanghai wall-clock instant, converted to UTC like everything stored."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


# ----- workdays ---------------------------------------------------------------------------


def test_ordinary_weekdays_and_weekends(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2025, 11, 14))  # Friday
    assert not cal.is_workday(date(2025, 11, 15))  # Saturday
    assert not cal.is_workday(date(2025, 11, 16))  # Sunday
    assert cal.is_workday(date(2025, 11, 17))  # Monday


def test_national_day_2025_holidays(cal: WorkCalendar) -> None:
    for day in range(1, 9):
        assert not cal.is_workday(date(2025, 10, day)), day
    assert cal.is_workday(date(2025, 9, 30))
    assert cal.is_workday(date(2025, 10, 9))
    assert cal.is_workday(date(2025, 10, 10))


def test_make_up_workdays(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2025, 9, 28))  # Sunday 调休
    assert cal.is_workday(date(2025, 10, 11))  # Saturday 调休
    assert not cal.is_workday(date(2025, 10, 12))  # ordinary Sunday
    assert not cal.is_workday(date(2025, 9, 27))  # ordinary Saturday


def test_new_year_2026_across_year_boundary(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2025, 12, 31))
    for day in (1, 2, 3):
        assert not cal.is_workday(date(2026, 1, day))
    assert cal.is_workday(date(2026, 1, 4))  # Sunday 调休


def test_workday_count_of_2025_matches_official_schedule(cal: WorkCalendar) -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    assert sum(cal.is_workday(d) for d in days) == 248
    # Repeated calls hit the cache and agree.
    assert sum(cal.is_workday(d) for d in days) == 248


def test_datetime_argument_uses_its_date(cal: WorkCalendar) -> None:
    assert not cal.is_workday(datetime(2025, 10, 1, 9, 0))


# ----- years without data -----------------------------------------------------------------


def test_year_without_data_falls_back_to_weekdays(cal: WorkCalendar) -> None:
    assert PACKAGE_LAST_YEAR == 2026
    assert cal.is_workday(date(2027, 1, 1))  # Friday; really New Year, but no data
    assert not cal.is_workday(date(2027, 1, 2))
    assert not cal.is_workday(date(2027, 1, 3))
    assert cal.is_workday(date(2027, 1, 4))
    assert cal.is_workday(date(2003, 1, 1))  # before the package's first year


def test_coverage_warning_is_loud_for_uncovered_year(cal: WorkCalendar) -> None:
    message = cal.coverage_warning(2027)
    assert message is not None
    assert "2027" in message
    assert "WARNING" in message
    assert "override" in message
    assert cal.coverage_warning(2025) is None
    assert cal.coverage_warning(2026) is None


def test_uncovered_years(cal: WorkCalendar) -> None:
    assert cal.uncovered_years([2027, 2025, 2026, 2028, 2027]) == [2027, 2028]
    assert cal.uncovered_years(range(2004, 2027)) == []
    assert cal.uncovered_years([2003]) == [2003]


def test_working_time_in_uncovered_year_does_not_crash(cal: WorkCalendar) -> None:
    # Thursday 2026-12-31 17:00 + 2 h: 1 h on Thursday, 1 h on Friday 2027-01-01.
    assert cal.add_working_seconds(sh(2026, 12, 31, 17), 2 * HOUR) == sh(2027, 1, 1, 9, 30)
    assert cal.working_seconds_between(sh(2027, 1, 1), sh(2027, 1, 8)) == 5 * DAY
    assert cal.next_workday(date(2027, 12, 31)) == date(2028, 1, 3)


# ----- overrides --------------------------------------------------------------------------


def test_overrides_win_over_the_package() -> None:
    cal = WorkCalendar(overrides={"2025-10-11": "holiday", date(2025, 10, 8): "workday"})
    assert not cal.is_workday(date(2025, 10, 11))
    assert cal.is_workday(date(2025, 10, 8))
    assert cal.is_workday(date(2025, 9, 28))  # untouched days still come from the package
    assert cal.overrides == {date(2025, 10, 8): "workday", date(2025, 10, 11): "holiday"}


def test_overrides_for_next_year_silence_the_warning_and_apply() -> None:
    schedule = {"2027-01-01": "holiday", "2027-02-07": "workday"}  # 2027-02-07 is a Sunday
    cal = WorkCalendar(overrides=schedule)
    assert cal.coverage_warning(2027) is None
    assert cal.uncovered_years([2027, 2028]) == [2028]
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 2, 7))
    assert cal.is_workday(date(2027, 1, 4))  # other days: weekdays
    assert not cal.is_workday(date(2027, 1, 9))
    assert cal.next_workday(date(2026, 12, 31)) == date(2027, 1, 4)


def test_override_values_are_case_and_space_tolerant() -> None:
    cal = WorkCalendar(overrides={" 2025-11-15 ": " Workday "})
    assert cal.is_workday(date(2025, 11, 15))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"2025-10-11": "weekend"}, "'weekend'"),
        ({"2025-10-11": ""}, "expected 'workday' or 'holiday'"),
        ({"2025-13-01": "holiday"}, "'2025-13-01'"),
        ({"next friday": "holiday"}, "YYYY-MM-DD"),
    ],
)
def test_bad_overrides_are_rejected(overrides: dict[str, str], fragment: str) -> None:
    with pytest.raises(ValueError, match="override") as info:
        WorkCalendar(overrides=overrides)
    assert fragment in str(info.value)


# ----- constructor validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "fragment"),
    [
        (("25:00-26:00",), "'25:00-26:00'"),
        (("08:60-12:00",), "'08:60-12:00'"),
        (("24:30-24:45",), "'24:30-24:45'"),
        (("8-12",), "HH:MM-HH:MM"),
        (("12:00-08:30",), "start must be before end"),
        (("09:00-09:00",), "start must be before end"),
        (("08:30-12:00", "11:00-13:00"), "overlap"),
        (("14:00-18:00", "08:30-12:00"), "sorted"),
        ((), "at least one"),
        ("08:30-12:00", "list"),
    ],
)
def test_bad_windows_are_rejected(windows: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        WorkCalendar(windows=windows)
    assert fragment in str(info.value)


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkCalendar(timezone="Mars/Olympus")


def test_touching_windows_and_midnight_end_are_allowed() -> None:
    cal = WorkCalendar(windows=("08:00-12:00", "12:00-13:00", "20:00-24:00"))
    assert cal.workday_seconds == 9 * 3600
    assert cal.close_of_work(date(2025, 11, 14)) == sh(2025, 11, 15, 0, 0)
    assert cal.add_working_seconds(sh(2025, 11, 14, 11), 2 * HOUR) == sh(2025, 11, 14, 13)
    assert cal.add_working_seconds(sh(2025, 11, 14, 11), 3 * HOUR) == sh(2025, 11, 14, 21)


# ----- days arithmetic --------------------------------------------------------------------


def test_next_workday(cal: WorkCalendar) -> None:
    assert cal.next_workday(date(2025, 9, 30)) == date(2025, 10, 9)
    assert cal.next_workday(date(2025, 11, 14)) == date(2025, 11, 17)
    assert cal.next_workday(date(2025, 9, 27)) == date(2025, 9, 28)  # Sunday 调休
    assert cal.next_workday(date(2025, 10, 3)) == date(2025, 10, 9)  # from inside a holiday
    assert cal.next_workday(date(2025, 12, 31)) == date(2026, 1, 4)


def test_add_workdays(cal: WorkCalendar) -> None:
    assert cal.add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert cal.add_workdays(date(2025, 9, 30), 4) == date(2025, 10, 13)
    assert cal.add_workdays(date(2025, 10, 1), 0) == date(2025, 10, 1)
    assert cal.add_workdays(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert cal.add_workdays(date(2025, 9, 29), -1) == date(2025, 9, 28)
    assert cal.add_workdays(date(2025, 1, 1), 248) == date(2025, 12, 31)


def test_close_of_work_is_utc(cal: WorkCalendar) -> None:
    close = cal.close_of_work(date(2025, 10, 11))
    assert close == datetime(2025, 10, 11, 10, 0, tzinfo=UTC)
    assert close.utcoffset() == timedelta(0)


def test_close_of_work_in_other_zone() -> None:
    cal = WorkCalendar(timezone="Asia/Urumqi")  # UTC+6
    assert cal.close_of_work(date(2025, 11, 14)) == datetime(2025, 11, 14, 12, 0, tzinfo=UTC)


def test_local_date_uses_city_zone(cal: WorkCalendar) -> None:
    # 17:00 UTC on 30 Sep is already 1 Oct in Shanghai.
    assert cal.local_date(datetime(2025, 9, 30, 17, 0, tzinfo=UTC)) == date(2025, 10, 1)


# ----- working seconds between ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (sh(2025, 11, 14, 9), sh(2025, 11, 14, 10), 1),  # inside a window
        (sh(2025, 11, 14, 11), sh(2025, 11, 14, 15), 2),  # across lunch
        (sh(2025, 11, 14, 12, 15), sh(2025, 11, 14, 13, 45), 0),  # lunch only
        (sh(2025, 11, 14, 7), sh(2025, 11, 14, 9, 30), 1),  # before opening
        (sh(2025, 11, 13, 19), sh(2025, 11, 14, 9), 0.5),  # after close, overnight
        (sh(2025, 11, 14, 0), sh(2025, 11, 15, 0), 7.5),  # one full day
        (sh(2025, 11, 14, 17), sh(2025, 11, 17, 9, 30), 2),  # over a weekend
        (sh(2025, 11, 15, 9), sh(2025, 11, 15, 17), 0),  # Saturday
        (sh(2025, 9, 30, 17), sh(2025, 10, 9, 9, 30), 2),  # over National Day
        (sh(2025, 10, 1), sh(2025, 10, 8, 23, 59), 0),  # holiday only
        (sh(2025, 10, 11, 0), sh(2025, 10, 12, 0), 7.5),  # make-up Saturday
        (sh(2025, 9, 28, 8), sh(2025, 9, 28, 12), 3.5),  # make-up Sunday morning
        (sh(2025, 12, 31, 17), sh(2026, 1, 4, 9, 30), 2),  # year boundary
        (sh(2025, 11, 14, 16), sh(2025, 11, 14, 18), 2),  # ends exactly at close
        (sh(2025, 11, 14, 12), sh(2025, 11, 14, 14), 0),  # exactly the lunch break
    ],
)
def test_working_seconds_between(
    cal: WorkCalendar, start: datetime, end: datetime, hours: float
) -> None:
    assert cal.working_seconds_between(start, end) == hours * HOUR


def test_working_seconds_between_reversed_or_equal_is_zero(cal: WorkCalendar) -> None:
    assert cal.working_seconds_between(sh(2025, 11, 14, 10), sh(2025, 11, 14, 9)) == 0.0
    assert cal.working_seconds_between(sh(2025, 11, 14, 10), sh(2025, 11, 14, 10)) == 0.0


def test_working_seconds_over_october_2025(cal: WorkCalendar) -> None:
    assert cal.working_seconds_between(sh(2025, 10, 1), sh(2025, 11, 1)) == 18 * DAY


def test_working_seconds_over_a_whole_year(cal: WorkCalendar) -> None:
    assert cal.working_seconds_between(sh(2025, 1, 1), sh(2026, 1, 1)) == 248 * DAY


def test_inputs_in_other_zones_are_instants(cal: WorkCalendar) -> None:
    start = datetime(2025, 11, 14, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    end = datetime(2025, 11, 14, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 09:00 Shanghai
    assert cal.working_seconds_between(start, end) == 0.0
    assert cal.add_working_seconds(start, HOUR) == sh(2025, 11, 14, 10)


def test_naive_datetimes_are_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.working_seconds_between(datetime(2025, 11, 14, 9), sh(2025, 11, 14, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_seconds(datetime(2025, 11, 14, 9), HOUR)


# ----- add working seconds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (sh(2025, 11, 14, 9), 1, sh(2025, 11, 14, 10)),  # inside a window
        (sh(2025, 11, 14, 7), 1, sh(2025, 11, 14, 9, 30)),  # before opening
        (sh(2025, 11, 14, 12, 30), 1, sh(2025, 11, 14, 15)),  # in lunch
        (sh(2025, 11, 13, 19), 1, sh(2025, 11, 14, 9, 30)),  # after close
        (sh(2025, 11, 14, 11), 2, sh(2025, 11, 14, 15)),  # across lunch
        (sh(2025, 11, 14, 11), 1, sh(2025, 11, 14, 12)),  # lands on window end: stays
        (sh(2025, 11, 14, 17), 1, sh(2025, 11, 14, 18)),  # lands on close: stays Friday
        (sh(2025, 11, 14, 12), 1, sh(2025, 11, 14, 15)),  # start at window end
        (sh(2025, 11, 14, 18), 1, sh(2025, 11, 17, 9, 30)),  # start at close on Friday
        (sh(2025, 11, 14, 17), 4, sh(2025, 11, 17, 11, 30)),  # over a weekend
        (sh(2025, 11, 15, 10), 1, sh(2025, 11, 17, 9, 30)),  # start on Saturday
        (sh(2025, 9, 30, 17), 2, sh(2025, 10, 9, 9, 30)),  # over National Day
        (sh(2025, 10, 3, 10), 1, sh(2025, 10, 9, 9, 30)),  # start inside a holiday
        (sh(2025, 9, 27, 10), 1, sh(2025, 9, 28, 9, 30)),  # into make-up Sunday
        (sh(2025, 10, 10, 17), 2, sh(2025, 10, 11, 9, 30)),  # into make-up Saturday
        (sh(2025, 12, 31, 17), 2, sh(2026, 1, 4, 9, 30)),  # year boundary + 调休 Sunday
        (sh(2025, 11, 10, 8, 30), 37.5, sh(2025, 11, 14, 18)),  # a full working week
    ],
)
def test_add_working_seconds(
    cal: WorkCalendar, start: datetime, hours: float, expected: datetime
) -> None:
    result = cal.add_working_seconds(start, hours * HOUR)
    assert result == expected
    assert result.tzinfo is UTC


def test_add_zero_seconds_returns_start(cal: WorkCalendar) -> None:
    assert cal.add_working_seconds(sh(2025, 11, 15, 10), 0) == sh(2025, 11, 15, 10)


def test_add_negative_seconds_is_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_seconds(sh(2025, 11, 14, 10), -1)


def test_add_and_between_are_inverse(cal: WorkCalendar) -> None:
    starts = [sh(2025, 9, 26, 8) + timedelta(minutes=97 * i) for i in range(60)]
    amounts = [60.0, 1800.0, 3 * HOUR, DAY, 3 * DAY + 1234.0]
    for start in starts:
        for amount in amounts:
            end = cal.add_working_seconds(start, amount)
            assert cal.working_seconds_between(start, end) == amount, (start, amount)


def test_long_spans_are_fast_enough(cal: WorkCalendar) -> None:
    # 1000 working days: iterates day by day, not minute by minute.
    end = cal.add_working_seconds(sh(2020, 1, 2, 8, 30), 1000 * DAY)
    assert cal.working_seconds_between(sh(2020, 1, 2), end) == 1000 * DAY


def test_is_working_time(cal: WorkCalendar) -> None:
    assert cal.is_working_time(sh(2025, 11, 14, 8, 30))
    assert cal.is_working_time(sh(2025, 11, 14, 17, 59))
    assert not cal.is_working_time(sh(2025, 11, 14, 18))
    assert not cal.is_working_time(sh(2025, 11, 14, 12, 30))
    assert not cal.is_working_time(sh(2025, 10, 2, 10))
    assert cal.is_working_time(sh(2025, 10, 11, 10))


def test_custom_single_window() -> None:
    cal = WorkCalendar(windows=["09:00-17:00"])
    assert cal.workday_seconds == 8 * 3600
    assert cal.close_of_work(date(2025, 11, 14)) == sh(2025, 11, 14, 17)
    assert cal.add_working_seconds(sh(2025, 11, 14, 16), 2 * HOUR) == sh(2025, 11, 17, 10)
    assert cal.working_seconds_between(sh(2025, 11, 14, 12), sh(2025, 11, 14, 13)) == HOUR
