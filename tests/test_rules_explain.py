"""engine.rules.matcher.explain: why a case went where it went."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from engine.rules import DispatchInput, Miss
from engine.rules.matcher import decide, explain
from engine.rules.table import parse_table

CST = timezone(timedelta(hours=8))
GRID = ("01020101", "010201", "0102", "01", "00")

TABLE = parse_table(
    """\
[[rule]]
id = "VIDEO"
channel = ["video"]
department = "CG-00"

[[rule]]
id = "NIGHT"
category = ["06"]
hours = "22:00-06:00"
department = "ZF-01"

[[rule]]
id = "NOISE"
category = ["06"]
keywords_all = ["噪音", "施工"]
department = "HB-01"

[[rule]]
id = "SHOP"
category = ["06"]
area = ["0102"]
tier = "community"
channel = ["hotline", "grid"]
keywords_any = ["油烟", "噪音"]
keywords_none = ["咨询"]
urgency = ["normal"]
request_type = ["complaint"]
hours = "08:00-20:00"
weekdays = [1, 2, 3, 4, 5]
department = "SJ-0102"

[[rule]]
id = "DEFAULT"
default = true
auto = false
"""
)


def case(**changes: Any) -> DispatchInput:
    fields: dict[str, Any] = {
        "channel": "hotline",
        "category": "06002",
        "unit_codes": GRID,
        "description": "楼下餐馆油烟和噪音扰民",
        "urgency": "normal",
        "request_type": "complaint",
        "local_time": datetime(2026, 11, 23, 10, 30, tzinfo=CST),
    }
    fields.update(changes)
    return DispatchInput(**fields)


def test_matched_conditions_and_their_values() -> None:
    decision = decide(TABLE, case())
    assert decision.rule_id == "SHOP"
    assert dict(decision.matched) == {
        "channel": "hotline",
        "category": "06",
        "area": "0102",
        "tier": "grid",
        "urgency": "normal",
        "request_type": "complaint",
        "weekdays": 1,
        "hours": "10:30",
        "keywords_any": ("油烟", "噪音"),
        "keywords_none": (),  # none of the forbidden keywords is in the description
    }


def test_rows_tried_before_with_their_first_failing_condition() -> None:
    explanation = explain(TABLE, case())
    assert explanation.decision == decide(TABLE, case())
    assert explanation.tried == (
        Miss("VIDEO", 0, "channel", ("video",), "hotline"),
        Miss("NIGHT", 1, "hours", "22:00-06:00", "10:30"),
        Miss("NOISE", 2, "keywords_all", ("噪音", "施工"), ("噪音",)),  # found, not missing
    )


def test_default_explains_every_row() -> None:
    inp = case(channel="web", category="07001", description="咨询", unit_codes=())
    explanation = explain(TABLE, inp)
    assert explanation.decision.rule_id == "DEFAULT"
    assert [(m.rule_id, m.field, m.actual) for m in explanation.tried] == [
        ("VIDEO", "channel", "web"),
        ("NIGHT", "category", "07001"),
        ("NOISE", "category", "07001"),
        ("SHOP", "channel", "web"),
    ]
    data = json.loads(json.dumps(explanation.to_dict(), ensure_ascii=False))
    assert data["decision"]["rule_id"] == "DEFAULT"
    assert data["tried"][0] == {
        "rule_id": "VIDEO",
        "rule_index": 0,
        "field": "channel",
        "expected": ["video"],
        "actual": "web",
    }


def test_first_row_matching_has_nothing_tried() -> None:
    explanation = explain(TABLE, case(channel="video"))
    assert explanation.decision.rule_id == "VIDEO"
    assert explanation.tried == ()
    assert dict(explanation.decision.matched) == {"channel": "video"}


def test_failures_report_the_input_value() -> None:
    inp = case(unit_codes=("0103", "01", "00"), description="噪音")
    [*_, shop] = explain(TABLE, inp).tried
    assert (shop.field, shop.expected, shop.actual) == ("area", ("0102",), ("0103", "01", "00"))
    known_to_street = case(unit_codes=("0102", "01", "00"))
    [*_, shop] = explain(TABLE, known_to_street).tried
    assert (shop.field, shop.expected, shop.actual) == ("tier", "community", "street")


def test_decide_does_not_build_the_tried_list() -> None:
    assert not hasattr(decide(TABLE, case()), "tried")  # only explain() scans earlier rows
