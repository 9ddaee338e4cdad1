"""engine.rules.table: parsing and validation of rules.toml."""

from __future__ import annotations

import pytest

from engine.rules import Window
from engine.rules.table import RuleTableError, parse_table

FULL = """\
version_note = "2026-11 权责清单"

[[rule]]
id = "R010"
name = "燃气泄漏 → 燃气公司"
channel = ["hotline", "grid"]
category = ["1100", "06002"]
area = ["0102"]
tier = "street"
keywords_any = ["燃气", "煤气"]
keywords_all = ["泄漏"]
keywords_none = ["咨询"]
urgency = ["urgent"]
request_type = ["complaint", "report"]
hours = "08:00-20:00"
weekdays = [1, 2, 3, 4, 5]
department = "RQ-00"
co_handlers = ["CG-0102"]
set_urgency = "urgent"
limits = { handle = "4h", accept = " 30 M " }
auto = true

[[rule]]
id = "R020"
category = ["06"]
auto = false
queue = "street"

[[rule]]
id = "DEFAULT"
default = true
auto = false
"""

DEFAULT = '\n[[rule]]\nid = "DEFAULT"\ndefault = true\nauto = false\n'


def problems_of(text: str, **known: set[str]) -> list[str]:
    with pytest.raises(RuleTableError) as info:
        parse_table(text, **known)
    return [str(p) for p in info.value.problems]


def test_full_example_parses() -> None:
    table = parse_table(FULL)
    r010, r020, default = table.rules
    assert table.version_note == "2026-11 权责清单"
    assert r010.channel == ("hotline", "grid")
    assert r010.category == ("1100", "06002")
    assert r010.tier == "street"
    assert r010.hours == Window(8 * 60, 20 * 60)
    assert r010.weekdays == (1, 2, 3, 4, 5)
    assert dict(r010.limits) == {"handle": "4h", "accept": "30m"}
    assert (r010.department, r010.co_handlers, r010.set_urgency) == (
        "RQ-00",
        ("CG-0102",),
        "urgent",
    )
    assert r010.auto and r010.queue is None
    assert (r020.auto, r020.queue, r020.department) == (False, "street", None)
    assert default.default and default.queue == "city"
    assert [r.line for r in table.rules] == [3, 23, 29]
    assert table.default is default


def test_version_is_a_hash_of_the_content_not_the_formatting() -> None:
    version = parse_table(FULL).version
    assert len(version) == 12 and int(version, 16) >= 0
    reformatted = "# 注释\n" + FULL.replace('id = "R020"', 'id   =   "R020"   # comment')
    assert parse_table(reformatted).version == version
    assert parse_table(FULL.replace('"4h"', '"5h"')).version != version
    assert parse_table("\ufeff" + FULL).version == version  # a BOM is tolerated


def test_toml_syntax_error_names_the_line() -> None:
    text = FULL.replace('tier = "street"', "tier = street")
    [problem] = problems_of(text)
    assert problem.startswith("line 9: TOML syntax error")


def test_bad_value_names_row_id_line_and_field() -> None:
    text = FULL.replace('hours = "08:00-20:00"', 'hours = "25:00-26:00"')
    assert problems_of(text) == [
        "rule #1 (id 'R010'), line 3, field 'hours': '25:00-26:00' is not a window "
        "'HH:MM-HH:MM' (00:00-24:00, start != end)"
    ]


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ('channel = ["phone"]', "channel", "'phone' is not one of hotline"),
        ('channel = "hotline"', "channel", "must be a list"),
        ("channel = []", "channel", "must not be empty"),
        ('category = ["6A"]', "category", "category code prefix"),
        ('category = ["060021"]', "category", "category code prefix"),
        ('area = ["01-02"]', "area", "unit code prefix"),
        ('tier = "province"', "tier", "one of city, district"),
        ('keywords_any = ["  "]', "keywords_any", "is empty"),
        ("keywords_all = [1]", "keywords_all", "1 is not a string"),
        ('urgency = ["high"]', "urgency", "one of urgent, normal"),
        ('request_type = ["praise"]', "request_type", "one of consult"),
        ('hours = "8-20"', "hours", "is not a window"),
        ('hours = "08:00-08:00"', "hours", "start != end"),
        ('hours = "24:00-06:00"', "hours", "is not a window"),
        ("weekdays = [0]", "weekdays", "ISO weekday"),
        ("weekdays = [true]", "weekdays", "ISO weekday"),
        ('co_handlers = "CG-01"', "co_handlers", "must be a list"),
        ('co_handlers = ["CG-01", "HW-01"]', "co_handlers", "already the lead department"),
        ('set_urgency = "asap"', "set_urgency", "one of urgent, normal"),
        ('limits = { handle = "4 hours" }', "limits", "is not a duration"),
        ('limits = { handle = "0h" }', "limits", "is not a duration"),
        ('limits = { close = "4h" }', "limits", "unknown stage 'close'"),
        ('auto = "yes"', "auto", "true or false"),
        ('queue = "street"', "queue", "only applies with auto = false"),
        ('colour = "red"', "colour", "unknown key"),
        ('department = "城管"', "department", "department code"),
    ],
)
def test_each_bad_field_is_reported(row: str, field: str, fragment: str) -> None:
    text = f'[[rule]]\nid = "R1"\ndepartment = "CG-01"\n{row}\n{DEFAULT}'.replace(
        'department = "CG-01"\ndepartment', "department"
    )
    [problem] = problems_of(text)
    assert problem.startswith(f"rule #1 (id 'R1'), line 1, field '{field}': ")
    assert fragment in problem


def test_all_problems_are_reported_at_once() -> None:
    text = (
        '[[rule]]\nid = "A"\ncategory = "06"\n'
        '[[rule]]\nid = "A"\nauto = true\n'
        '[[rule]]\nname = "no id"\ndepartment = "X"\n'
        'unknown_top = 1\n[[rule]]\nid = "D"\ndefault = true\ndepartment = "Z"\n'
    )
    with pytest.raises(RuleTableError) as info:
        parse_table(text)
    found = {(p.row, p.rule_id, p.field) for p in info.value.problems}
    assert found == {
        (0, "A", "category"),  # not a list
        (0, "A", "department"),  # auto (default true) needs a department
        (1, "A", "id"),  # duplicate
        (1, "A", "department"),
        (2, None, "id"),  # missing
        (2, None, "unknown_top"),  # a key after [[rule]] belongs to that row
    }
    assert "5 problem" not in str(info.value) and "6 problem(s)" in str(info.value)


def test_default_row_is_required_last_and_unconditional() -> None:
    no_default = '[[rule]]\nid = "A"\ndepartment = "X"\n'
    assert problems_of(no_default) == ["no default row: the last [[rule]] must have default = true"]
    assert problems_of("") == ["no default row: the last [[rule]] must have default = true"]
    misplaced = DEFAULT + no_default
    assert problems_of(misplaced) == [
        "rule #1 (id 'DEFAULT'), line 2, field 'default': the default row must be the last row",
        "no default row: the last [[rule]] must have default = true",
    ]
    conditional = DEFAULT.replace("auto = false", 'auto = false\nchannel = ["web"]')
    assert problems_of(conditional) == [
        "rule #1 (id 'DEFAULT'), line 2, field 'channel': the default row must not have conditions"
    ]


def test_known_departments_and_categories() -> None:
    known = {"known_departments": {"RQ-00"}, "known_categories": {"06002", "11001"}}
    assert problems_of(FULL, **known) == [
        "rule #1 (id 'R010'), line 3, field 'co_handlers': unknown department code 'CG-0102'"
    ]
    departments = {"RQ-00", "CG-0102"}
    table = parse_table(FULL, known_departments=departments, known_categories={"06002", "11001"})
    assert len(table.rules) == 3
    text = FULL.replace('["06"]', '["07"]')
    [problem] = problems_of(
        text, known_departments=departments, known_categories={"06002", "11001"}
    )
    assert "rule #2 (id 'R020'), line 23, field 'category': prefix '07'" in problem


def test_hours_windows() -> None:
    def window(text: str) -> Window:
        table = parse_table(f'[[rule]]\nid = "A"\ndepartment = "X"\nhours = "{text}"\n{DEFAULT}')
        hours = table.rules[0].hours
        assert hours is not None
        return hours

    night = window("22:00-06:00")
    assert 22 * 60 in night and 23 * 60 + 59 in night and 0 in night and 5 * 60 + 59 in night
    assert 6 * 60 not in night and 12 * 60 not in night
    whole = window("00:00-24:00")
    assert all(m in whole for m in (0, 720, 1439))
    assert str(window(" 8:30 - 17:00 ")) == "08:30-17:00"


def test_lists_are_deduplicated_keywords_normalised() -> None:
    text = '[[rule]]\nid = "A"\ndepartment = "X"\nkeywords_any = ["PM2.5", "ＰＭ２.５", "燃气 "]\n'
    rule = parse_table(text + DEFAULT).rules[0]
    assert rule.keywords_any == ("pm2.5", "燃气")
