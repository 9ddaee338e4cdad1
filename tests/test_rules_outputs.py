"""engine.rules.matcher: what a decision carries (outputs, queues, version)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from engine.rules import DispatchInput, RuleTable
from engine.rules.matcher import decide
from engine.rules.table import parse_table

CST = timezone(timedelta(hours=8))
GRID = ("01020101", "010201", "0102", "01", "00")

TABLE = """\
[[rule]]
id = "GAS"
keywords_any = ["燃气"]
department = "RQ-00"
co_handlers = ["CG-0102", "ZF-01"]
set_urgency = "urgent"
limits = { handle = "4h", accept = "30m" }

[[rule]]
id = "STREET"
category = ["06"]
auto = false
queue = "street"
department = "HW-01"

[[rule]]
id = "DISTRICT"
category = ["07"]
auto = false
queue = "district"

[[rule]]
id = "KNOWN"
tier = "street"
department = "CG-00"

[[rule]]
id = "DEFAULT"
default = true
auto = false
queue = "city"
"""


def case(**changes: Any) -> DispatchInput:
    fields: dict[str, Any] = {
        "channel": "hotline",
        "category": "12001",
        "unit_codes": GRID,
        "description": "",
        "urgency": "normal",
        "request_type": "complaint",
        "local_time": datetime(2026, 11, 23, 10, 0, tzinfo=CST),
    }
    fields.update(changes)
    return DispatchInput(**fields)


@pytest.fixture(scope="module")
def table() -> RuleTable:
    return parse_table(TABLE)


def test_auto_rule_outputs(table: RuleTable) -> None:
    decision = decide(table, case(description="燃气味道"))
    assert decision.rule_id == "GAS" and decision.rule_index == 0
    assert decision.department == "RQ-00"
    assert decision.co_handlers == ("CG-0102", "ZF-01")
    assert decision.urgency == "urgent"
    assert dict(decision.limits) == {"handle": "4h", "accept": "30m"}
    assert decision.auto is True and decision.queue is None and decision.queue_unit is None
    assert decision.table_version == table.version and not decision.default
    with pytest.raises(TypeError):
        decision.limits["handle"] = "1h"  # type: ignore[index]  # the table stays intact


def test_urgency_passes_through_without_set_urgency(table: RuleTable) -> None:
    decision = decide(table, case())
    assert (decision.rule_id, decision.urgency, dict(decision.limits)) == ("KNOWN", "normal", {})


def test_manual_queue_of_the_right_command_center(table: RuleTable) -> None:
    street = decide(table, case(category="06002"))
    assert (street.auto, street.queue, street.queue_unit) == (False, "street", "0102")
    assert street.department == "HW-01"  # a suggestion for the dispatcher
    district = decide(table, case(category="07001"))
    assert (district.queue, district.queue_unit, district.department) == ("district", "01", None)
    city = decide(table, case(unit_codes=("01", "00")))
    assert (city.rule_id, city.queue, city.queue_unit) == ("DEFAULT", "city", "00")


def test_street_queue_falls_back_to_the_most_specific_known_unit(table: RuleTable) -> None:
    decision = decide(table, case(category="06002", unit_codes=("01", "00")))
    assert (decision.queue, decision.queue_unit) == ("street", "01")


def test_outside_every_grid_reaches_the_queue_row_or_default(table: RuleTable) -> None:
    outside = case(unit_codes=())
    fallback = decide(table, outside)
    assert (fallback.rule_id, fallback.queue, fallback.queue_unit) == ("DEFAULT", "city", None)
    queued = decide(table, case(unit_codes=(), category="06002"))
    assert (queued.rule_id, queued.queue, queued.queue_unit) == ("STREET", "street", None)


def test_decision_serialises_to_json(table: RuleTable) -> None:
    data = decide(table, case(description="燃气")).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False))["rule_id"] == "GAS"
    assert data["matched"] == {"keywords_any": ["燃气"]}
    assert data["limits"] == {"handle": "4h", "accept": "30m"}


def test_no_default_row_is_an_error_not_a_silent_none() -> None:
    table = parse_table(TABLE)
    headless = RuleTable(table.rules[:-1], table.version)
    with pytest.raises(LookupError, match="no default row"):
        decide(headless, case(unit_codes=()))
