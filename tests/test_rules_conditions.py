"""engine.rules.matcher: each condition kind, checked on the indexed and the linear path."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from engine.rules import DispatchInput
from engine.rules.matcher import decide, decide_linear
from engine.rules.table import parse_table

CST = timezone(timedelta(hours=8))
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=CST)
GRID = ("01020101", "010201", "0102", "01", "00")


def case(**changes: Any) -> DispatchInput:
    fields: dict[str, Any] = {
        "channel": "hotline",
        "category": "06002",
        "unit_codes": GRID,
        "description": "",
        "urgency": "normal",
        "request_type": "complaint",
        "local_time": MONDAY_10AM,
    }
    fields.update(changes)
    return DispatchInput(**fields)


def hits(condition: str, inp: DispatchInput) -> bool:
    """Whether a one-row table with ``condition`` matches ``inp`` (both paths agree)."""
    table = parse_table(
        f'[[rule]]\nid = "R"\ndepartment = "X"\n{condition}\n'
        '[[rule]]\nid = "DEFAULT"\ndefault = true\nauto = false\n'
    )
    fast, slow = decide(table, inp), decide_linear(table, inp)
    assert fast == slow
    return fast.rule_id == "R"


def test_no_condition_matches_everything() -> None:
    assert hits("", case(category=None, unit_codes=(), request_type=None, channel="fax"))


def test_channel() -> None:
    assert hits('channel = ["hotline", "grid"]', case(channel="grid"))
    assert not hits('channel = ["hotline", "grid"]', case(channel="video"))
    assert not hits('channel = ["hotline"]', case(channel="fax"))  # unknown value


def test_category_prefixes() -> None:
    assert hits('category = ["06"]', case(category="06002"))
    assert hits('category = ["1100", "06002"]', case(category="06002"))
    assert hits('category = ["1100"]', case(category="11003"))
    assert not hits('category = ["06"]', case(category="07006"))
    assert not hits('category = ["06002"]', case(category="06"))
    assert not hits('category = ["06"]', case(category=None))


def test_area_prefixes_of_the_location_chain() -> None:
    assert hits('area = ["0102"]', case())
    assert hits('area = ["01020101"]', case())
    assert hits('area = ["01", "02"]', case())
    assert hits('area = ["00"]', case())  # the city code is in the chain too
    assert not hits('area = ["0103"]', case())
    assert not hits('area = ["0102"]', case(unit_codes=("01", "00")))
    assert not hits('area = ["00"]', case(unit_codes=()))  # outside every grid


def test_tier_known_to_at_least() -> None:
    assert hits('tier = "street"', case())
    assert hits('tier = "street"', case(unit_codes=("0102", "01", "00")))
    assert not hits('tier = "street"', case(unit_codes=("01", "00")))
    assert not hits('tier = "city"', case(unit_codes=()))
    assert hits('tier = "grid"', case())
    assert not hits('tier = "grid"', case(unit_codes=GRID[1:]))


def test_keywords_any_all_none() -> None:
    text = "小区门口燃气管道泄漏，味道很大"
    assert hits('keywords_any = ["煤气", "燃气"]', case(description=text))
    assert not hits('keywords_any = ["煤气", "噪音"]', case(description=text))
    assert hits('keywords_all = ["燃气", "泄漏"]', case(description=text))
    assert not hits('keywords_all = ["燃气", "爆炸"]', case(description=text))
    assert hits('keywords_none = ["咨询"]', case(description=text))
    assert not hits('keywords_none = ["咨询", "味道"]', case(description=text))
    both = 'keywords_any = ["燃气"]\nkeywords_all = ["泄漏"]\nkeywords_none = ["演练"]'
    assert hits(both, case(description=text))
    assert not hits(both, case(description=text + "（消防演练）"))


def test_keywords_are_substrings_without_segmentation() -> None:
    # "气泄" spans two words; substring matching finds it anyway.
    assert hits('keywords_any = ["气泄"]', case(description="燃气泄漏"))
    assert not hits('keywords_any = ["燃气"]', case(description=""))


def test_keywords_ignore_latin_case_and_full_width() -> None:
    assert hits('keywords_any = ["PM2.5"]', case(description="工地扬尘pm2.5超标"))
    assert hits('keywords_any = ["pm2.5"]', case(description="工地扬尘ＰＭ２.５超标"))
    assert hits('keywords_all = ["WiFi"]', case(description="公共WIFI坏了"))
    assert not hits('keywords_none = ["App"]', case(description="APP无法登录"))


def test_urgency_and_request_type() -> None:
    assert hits('urgency = ["urgent"]', case(urgency="urgent"))
    assert not hits('urgency = ["urgent"]', case(urgency="normal"))
    assert hits('request_type = ["complaint", "report"]', case(request_type="report"))
    assert not hits('request_type = ["complaint"]', case(request_type="consult"))
    assert not hits('request_type = ["complaint"]', case(request_type=None))


@pytest.mark.parametrize(
    ("window", "hour", "minute", "expected"),
    [
        ("08:00-20:00", 8, 0, True),  # start included
        ("08:00-20:00", 19, 59, True),
        ("08:00-20:00", 20, 0, False),  # end excluded
        ("08:00-20:00", 7, 59, False),
        ("22:00-06:00", 23, 30, True),  # wraps midnight
        ("22:00-06:00", 0, 0, True),
        ("22:00-06:00", 5, 59, True),
        ("22:00-06:00", 6, 0, False),
        ("22:00-06:00", 12, 0, False),
        ("00:00-24:00", 23, 59, True),
        ("12:30-24:00", 12, 29, False),
    ],
)
def test_hours(window: str, hour: int, minute: int, expected: bool) -> None:
    when = MONDAY_10AM.replace(hour=hour, minute=minute, second=59)
    assert hits(f'hours = "{window}"', case(local_time=when)) is expected


def test_hours_use_the_local_wall_clock() -> None:
    # 02:00 UTC is 10:00 in the city: the rule reads the given aware time's wall clock.
    local = datetime(2026, 11, 23, 2, 0, tzinfo=UTC).astimezone(CST)
    assert hits('hours = "09:00-11:00"', case(local_time=local))


def test_weekdays() -> None:
    assert hits("weekdays = [1, 2, 3, 4, 5]", case())  # Monday
    saturday = MONDAY_10AM - timedelta(days=2)
    assert not hits("weekdays = [1, 2, 3, 4, 5]", case(local_time=saturday))
    assert hits("weekdays = [6, 7]", case(local_time=saturday))


def test_all_conditions_together() -> None:
    conditions = "\n".join(
        [
            'channel = ["grid"]',
            'category = ["06"]',
            'area = ["0102"]',
            'tier = "community"',
            'keywords_any = ["垃圾"]',
            'urgency = ["normal"]',
            'request_type = ["report"]',
            'hours = "08:00-18:00"',
            "weekdays = [1]",
        ]
    )
    good = case(channel="grid", description="暴露垃圾", request_type="report")
    assert hits(conditions, good)
    for change in (
        {"channel": "web"},
        {"category": "07001"},
        {"unit_codes": ("0103", "01", "00")},
        {"unit_codes": ("0102", "01", "00")},  # known only to the street
        {"description": "噪音"},
        {"urgency": "urgent"},
        {"request_type": "help"},
        {"local_time": MONDAY_10AM.replace(hour=19)},
        {"local_time": MONDAY_10AM + timedelta(days=1)},
    ):
        assert not hits(conditions, replace(good, **change)), change


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        case(local_time=datetime(2026, 11, 23, 10, 0))
    assert case(unit_codes=["01", "00"]).unit_codes == ("01", "00")  # type: ignore[arg-type]
