"""engine.rules.check: static checks (unknown codes, shadowed rows, overlaps)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from engine.rules import CHANNELS, REQUEST_TYPES, TIERS, DispatchInput, RuleTable
from engine.rules.check import Finding, check_table
from engine.rules.matcher import decide
from engine.rules.table import parse_table

DEFAULT = '[[rule]]\nid = "DEFAULT"\ndefault = true\nauto = false\n'


def table_of(*rows: tuple[str, str], department: str | None = None) -> RuleTable:
    text = "".join(
        f'[[rule]]\nid = "{rid}"\ndepartment = "{department or "D-" + rid}"\n{body}\n'
        for rid, body in rows
    )
    return parse_table(text + DEFAULT)


def codes(findings: list[Finding]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.severity, f.code, f.rule_ids) for f in findings]


def shadowed(earlier: str, later: str) -> bool:
    found = check_table(table_of(("A", earlier), ("B", later)))
    return any(f.code == "shadowed" and f.rule_ids == ("B", "A") for f in found)


def test_clean_table_has_no_findings() -> None:
    table = table_of(
        ("GAS", 'keywords_any = ["燃气"]\ncategory = ["11"]'),
        ("TRASH", 'category = ["06002"]\narea = ["0102"]'),
        ("TRASH_ALL", 'category = ["06002"]'),
    )
    assert check_table(table, {"D-GAS", "D-TRASH", "D-TRASH_ALL"}, {"06002", "11001"}) == []


def test_unknown_departments_and_categories() -> None:
    table = parse_table(
        '[[rule]]\nid = "A"\ncategory = ["06", "99"]\ndepartment = "CG-01"\n'
        'co_handlers = ["XX-01"]\n' + DEFAULT.replace("auto = false", 'department = "YY"')
    )
    findings = check_table(table, {"CG-01"}, {"06002"})
    assert codes(findings) == [
        ("error", "unknown-department", ("A",)),
        ("error", "unknown-category", ("A",)),
        ("error", "unknown-department", ("DEFAULT",)),
    ]
    assert "rule 'A' (#1): unknown department 'XX-01'" in findings[0].message
    assert "category '99' matches no known category" in findings[1].message


def test_missing_default_row() -> None:
    table = table_of(("A", 'channel = ["web"]'))
    headless = RuleTable(table.rules[:-1], table.version)
    assert codes(check_table(headless)) == [("error", "missing-default", ())]


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("", 'channel = ["web"]'),
        ('channel = ["web", "grid"]', 'channel = ["grid"]'),
        ('category = ["06"]', 'category = ["06002", "06003"]'),
        ('category = ["06", "07"]', 'category = ["07001"]\narea = ["01"]'),
        ('area = ["01"]', 'area = ["0102", "010301"]'),
        ('tier = "street"', 'tier = "grid"'),
        ('urgency = ["urgent", "normal"]', 'urgency = ["urgent"]'),
        ('request_type = ["help", "complaint"]', 'request_type = ["help"]'),
        ('hours = "08:00-20:00"', 'hours = "09:00-12:00"'),
        ('hours = "20:00-08:00"', 'hours = "23:00-01:00"'),
        ('hours = "00:00-24:00"', 'channel = ["web"]'),
        ("weekdays = [1, 2, 3, 4, 5, 6, 7]", 'urgency = ["urgent"]'),
        ("weekdays = [1, 2, 3]", "weekdays = [2]"),
        ('keywords_any = ["燃气"]', 'keywords_any = ["燃气泄漏", "燃气管"]'),
        ('keywords_any = ["燃气", "煤气"]', 'keywords_all = ["煤气", "爆炸"]'),
        ('keywords_all = ["燃气"]', 'keywords_all = ["燃气泄漏", "小区"]'),
        ('keywords_all = ["燃气"]', 'keywords_any = ["燃气管"]'),
        ('keywords_none = ["咨询"]', 'keywords_none = ["咨"]'),
        ('keywords_none = ["咨询"]', 'keywords_none = ["咨询", "建议"]'),
    ],
)
def test_shadowed_rows_are_found(earlier: str, later: str) -> None:
    assert shadowed(earlier, later)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ('channel = ["web"]', ""),
        ('channel = ["grid"]', 'channel = ["web", "grid"]'),
        ('category = ["06002"]', 'category = ["06"]'),
        ('category = ["06"]', 'category = ["06002", "07001"]'),
        ('area = ["0102"]', 'area = ["01"]'),
        ('tier = "grid"', 'tier = "street"'),
        ('tier = "street"', ""),
        ('hours = "08:00-20:00"', 'hours = "19:00-21:00"'),
        ('hours = "20:00-08:00"', 'hours = "07:00-09:00"'),
        ('keywords_any = ["燃气泄漏"]', 'keywords_any = ["燃气"]'),
        ('keywords_any = ["燃气"]', 'keywords_any = ["燃气", "噪音"]'),
        ('keywords_all = ["燃气", "泄漏"]', 'keywords_any = ["燃气"]'),
        ('keywords_none = ["咨"]', 'keywords_none = ["咨询"]'),
        ('keywords_none = ["咨询"]', ""),
        ('request_type = ["help", "complaint"]', ""),
        ('urgency = ["urgent", "normal"]', ""),  # an unknown urgency would still differ
    ],
)
def test_rows_that_are_not_covered_are_not_reported(earlier: str, later: str) -> None:
    assert not shadowed(earlier, later)


def test_shadowed_severity_depends_on_the_outputs() -> None:
    same = table_of(("A", 'category = ["06"]'), ("B", 'category = ["06002"]'), department="X")
    assert codes(check_table(same)) == [("warning", "shadowed", ("B", "A"))]
    different = table_of(("A", 'category = ["06"]'), ("B", 'category = ["06002"]'))
    [finding] = check_table(different)
    assert (finding.severity, finding.code) == ("error", "shadowed")
    assert finding.message.startswith("rule 'B' (#2) never decides: rule 'A' (#1) matches")


def test_an_unconditional_row_shadows_the_default() -> None:
    table = parse_table('[[rule]]\nid = "ALL"\ndepartment = "X"\n' + DEFAULT)
    assert codes(check_table(table)) == [("error", "shadowed", ("DEFAULT", "ALL"))]


def test_partial_overlap_of_auto_rows_is_a_warning() -> None:
    table = table_of(
        ("GAS", 'keywords_any = ["燃气"]'),
        ("TRASH", 'category = ["06"]'),
        ("NOISE", 'keywords_any = ["噪音"]\nkeywords_none = ["燃气"]\nchannel = ["web"]'),
    )
    findings = check_table(table)
    assert codes(findings) == [
        ("warning", "overlap", ("GAS", "TRASH")),
        ("warning", "overlap", ("TRASH", "NOISE")),  # not GAS: NOISE excludes 燃气
    ]
    assert findings[0].message == (
        "rule 'GAS' (#1) (department D-GAS) takes the cases it shares with 1 later auto "
        "row(s) of other departments: rule 'TRASH' (#2)"
    )


def test_overlaps_are_grouped_by_the_earlier_row() -> None:
    rows = [("GAS", 'keywords_any = ["燃气"]')]
    rows += [(f"C{i}", f'category = ["0{i}"]') for i in range(1, 8)]
    [finding] = check_table(table_of(*rows))
    assert finding.rule_ids == ("GAS", "C1", "C2", "C3", "C4", "C5", "C6", "C7")
    assert finding.message.endswith("rule 'C5' (#6) and 2 more")


def test_no_overlap_warning_when_rows_cannot_meet_or_agree() -> None:
    assert check_table(table_of(("A", 'category = ["06"]'), ("B", 'category = ["07"]'))) == []
    exception_first = table_of(("A", 'category = ["06002"]'), ("B", 'category = ["06"]'))
    assert check_table(exception_first) == []
    excluded = table_of(
        ("A", 'keywords_any = ["燃气"]'), ("B", 'keywords_all = ["泄漏"]\nkeywords_none = ["燃气"]')
    )
    assert check_table(excluded) == []
    disjoint_hours = table_of(("A", 'hours = "08:00-12:00"'), ("B", 'hours = "12:00-18:00"'))
    assert check_table(disjoint_hours) == []
    same_department = table_of(
        ("A", 'channel = ["web"]'), ("B", 'urgency = ["urgent"]'), department="X"
    )
    assert check_table(same_department) == []
    manual = parse_table(
        '[[rule]]\nid = "A"\nchannel = ["web"]\nauto = false\n'
        '[[rule]]\nid = "B"\nurgency = ["urgent"]\ndepartment = "X"\n' + DEFAULT
    )
    assert check_table(manual) == []


# --- property: a row reported as shadowed never decides --------------------------------

CST = timezone(timedelta(hours=8))


def test_shadowed_rows_never_decide_on_random_cases() -> None:
    rng = random.Random(7)
    options = {
        "channel": lambda: rng.sample(CHANNELS, rng.randint(1, 4)),
        "category": lambda: rng.sample(["06", "060", "06002", "07"], rng.randint(1, 2)),
        "area": lambda: rng.sample(["01", "0102", "010201", "02"], rng.randint(1, 2)),
        "tier": lambda: rng.choice(TIERS),
        "keywords_any": lambda: rng.sample(["燃气", "燃气泄漏", "噪音", "气"], rng.randint(1, 2)),
        "keywords_none": lambda: rng.sample(["咨询", "咨"], 1),
        "request_type": lambda: rng.sample(REQUEST_TYPES, rng.randint(1, 4)),
        "hours": lambda: rng.choice(["08:00-20:00", "09:00-12:00", "22:00-06:00"]),
        "weekdays": lambda: rng.sample(range(1, 8), rng.randint(3, 7)),
    }
    shadow_count = 0
    for _ in range(40):
        rows = []
        for i in range(12):
            body = [
                f"{name} = {json.dumps(make(), ensure_ascii=False)}"
                for name, make in options.items()
                if rng.random() < 0.3
            ]
            rows.append((f"R{i}", "\n".join(body)))
        table = table_of(*rows)
        dead = {f.rule_ids[0] for f in check_table(table) if f.code == "shadowed"}
        shadow_count += len(dead)
        for _ in range(300):
            inp = DispatchInput(
                channel=rng.choice(CHANNELS),
                category=rng.choice(["06002", "06010", "07001", None]),
                unit_codes=rng.choice(
                    [("01020101", "010201", "0102", "01", "00"), ("0201", "02", "00"), ()]
                ),
                description=rng.choice(["燃气泄漏", "噪音", "咨询燃气", "", "气味"]),
                urgency=rng.choice(["urgent", "normal"]),
                request_type=rng.choice([*REQUEST_TYPES, None]),
                local_time=datetime(2026, 11, 23, tzinfo=CST)
                + timedelta(minutes=rng.randrange(7 * 1440)),
            )
            assert decide(table, inp).rule_id not in dead
    assert shadow_count > 10  # the property was exercised
