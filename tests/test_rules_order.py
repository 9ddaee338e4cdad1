"""engine.rules.matcher: FIRST hit in file order, the default row, and the index agreeing
with a brute-force linear scan on random tables (fixed seed)."""

from __future__ import annotations

import itertools
import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from engine.rules import CHANNELS, REQUEST_TYPES, TIERS, DispatchInput
from engine.rules.matcher import decide, decide_linear
from engine.rules.table import parse_table

CST = timezone(timedelta(hours=8))
GRID = ("01020101", "010201", "0102", "01", "00")
DEFAULT = '[[rule]]\nid = "DEFAULT"\ndefault = true\nauto = false\n'


def case(**changes: Any) -> DispatchInput:
    fields: dict[str, Any] = {
        "channel": "hotline",
        "category": "06002",
        "unit_codes": GRID,
        "description": "燃气泄漏",
        "urgency": "normal",
        "request_type": "complaint",
        "local_time": datetime(2026, 11, 23, 10, 0, tzinfo=CST),
    }
    fields.update(changes)
    return DispatchInput(**fields)


def table_of(*rows: str) -> str:
    return "".join(
        f'[[rule]]\nid = "{rid}"\ndepartment = "D-{rid}"\n{body}\n' for rid, body in rows
    )


def test_first_row_in_file_order_wins_not_the_most_specific() -> None:
    general, specific = ("GENERAL", 'category = ["06"]'), ("SPECIFIC", 'category = ["06002"]')
    assert decide(parse_table(table_of(general, specific) + DEFAULT), case()).rule_id == "GENERAL"
    assert decide(parse_table(table_of(specific, general) + DEFAULT), case()).rule_id == "SPECIFIC"


def test_first_hit_across_every_kind_of_index_bucket() -> None:
    rows = [
        ("KEYWORD", 'keywords_any = ["燃气"]'),
        ("CATEGORY", 'category = ["06002"]'),
        ("CLASS", 'category = ["06"]'),
        ("AREA", 'area = ["0102"]'),
        ("DISTRICT", 'area = ["01"]'),
        ("CHANNEL", 'channel = ["hotline"]'),
        ("ALWAYS", 'urgency = ["normal"]'),
        ("ALL", 'keywords_all = ["泄漏", "燃气"]'),
    ]
    for order in itertools.permutations(rows, 4):
        table = parse_table(table_of(*order) + DEFAULT)
        assert decide(table, case()).rule_id == order[0][0], order


def test_earlier_rows_that_fail_are_skipped() -> None:
    table = parse_table(
        table_of(
            ("VIDEO", 'channel = ["video"]\ncategory = ["06"]'),
            ("NIGHT", 'hours = "22:00-06:00"\ncategory = ["06002"]'),
            ("NOISE", 'keywords_any = ["噪音"]'),
            ("GAS", 'keywords_any = ["燃气"]'),
        )
        + DEFAULT
    )
    assert decide(table, case()).rule_id == "GAS"
    assert decide(table, case(channel="video")).rule_id == "VIDEO"
    night = case(local_time=datetime(2026, 11, 23, 23, 0, tzinfo=CST))
    assert decide(table, night).rule_id == "NIGHT"


def test_default_row_only_when_nothing_else_matches() -> None:
    table = parse_table(table_of(("GAS", 'keywords_any = ["燃气"]')) + DEFAULT)
    assert decide(table, case()).rule_id == "GAS"
    fallback = decide(table, case(description="路灯不亮"))
    assert (fallback.rule_id, fallback.default, fallback.auto) == ("DEFAULT", True, False)


# --- property: the index agrees with the linear scan --------------------------------

CATEGORY_PREFIXES = ["0", "06", "060", "06002", "06003", "07", "07001", "11", "11001"]
CATEGORIES = ["06002", "06003", "06010", "07001", "07002", "11001", "12001"]
AREA_PREFIXES = ["0", "00", "01", "0102", "010201", "01020101", "01020102", "02", "0201"]
CHAINS = [
    GRID,
    ("01020102", "010201", "0102", "01", "00"),
    ("01010101", "010101", "0101", "01", "00"),
    ("02010101", "020101", "0201", "02", "00"),
    ("010201", "0102", "01", "00"),
    ("0201", "02", "00"),
    ("01", "00"),
    (),
]
WORDS = ["燃气", "泄漏", "噪音", "垃圾", "pm2", "PM2.5", "气泄", "漏", "Ａ", "a"]


def random_row(rng: random.Random, index: int) -> str:
    def some(values: list[Any], k: int = 3) -> list[Any]:
        return rng.sample(values, rng.randint(1, min(k, len(values))))

    makers = {
        "channel": lambda: some([*CHANNELS]),
        "category": lambda: some(CATEGORY_PREFIXES, 2),
        "area": lambda: some(AREA_PREFIXES, 2),
        "tier": lambda: rng.choice(TIERS),
        "keywords_any": lambda: some(WORDS, 2),
        "keywords_all": lambda: some(WORDS, 2),
        "keywords_none": lambda: some(WORDS, 1),
        "urgency": lambda: some(["urgent", "normal"], 1),
        "request_type": lambda: some([*REQUEST_TYPES]),
        "hours": lambda: "{:02d}:{:02d}-{:02d}:{:02d}".format(
            *rng.choice([(8, 0, 20, 0), (22, 0, 6, 0), (0, 0, 24, 0), (12, 30, 13, 15)])
        ),
        "weekdays": lambda: some(list(range(1, 8)), 5),
    }
    lines = [f'[[rule]]\nid = "R{index}"']
    for name, make in makers.items():
        if rng.random() < 0.25:
            lines.append(f"{name} = {json.dumps(make(), ensure_ascii=False)}")
    if rng.random() < 0.2:
        lines.append('auto = false\nqueue = "street"')
    else:
        lines.append(f'department = "D{rng.randint(1, 4)}"')
    return "\n".join(lines) + "\n"


def random_case(rng: random.Random) -> DispatchInput:
    return DispatchInput(
        channel=rng.choice([*CHANNELS, "fax"]),
        category=rng.choice([*CATEGORIES, None]),
        unit_codes=rng.choice(CHAINS),
        description="".join(rng.sample([*WORDS, "，", "小区", "门口"], rng.randint(0, 4))),
        urgency=rng.choice(["urgent", "normal"]),
        request_type=rng.choice([*REQUEST_TYPES, None]),
        local_time=datetime(2026, 11, 23, tzinfo=CST)
        + timedelta(minutes=rng.randrange(7 * 1440), seconds=rng.randrange(60)),
    )


def test_index_agrees_with_linear_scan_on_random_tables() -> None:
    rng = random.Random(20261123)
    decided = set()
    for _ in range(150):
        rows = [random_row(rng, i) for i in range(rng.randint(1, 40))]
        table = parse_table("".join(rows) + DEFAULT)
        for _ in range(60):
            inp = random_case(rng)
            fast, slow = decide(table, inp), decide_linear(table, inp)
            assert fast == slow, (inp, fast.rule_id, slow.rule_id)
            decided.add(fast.default)
    assert decided == {True, False}  # the random mix reaches both rows and the default
