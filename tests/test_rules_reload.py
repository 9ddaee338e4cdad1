"""engine.rules.matcher.RuleBook: hot reload swaps only a valid table."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from engine.rules import DispatchInput, RuleTable
from engine.rules.check import check_table
from engine.rules.matcher import RuleBook
from engine.rules.table import RuleTableError, parse_table

CST = timezone(timedelta(hours=8))
V1 = """\
[[rule]]
id = "GAS"
keywords_any = ["燃气"]
department = "RQ-00"

[[rule]]
id = "DEFAULT"
default = true
auto = false
"""
V2 = V1.replace('department = "RQ-00"', 'department = "RQ-01"')
CASE = DispatchInput(
    channel="hotline",
    category="11001",
    unit_codes=("01020101", "010201", "0102", "01", "00"),
    description="燃气泄漏",
    urgency="urgent",
    request_type="report",
    local_time=datetime(2026, 11, 23, 10, 0, tzinfo=CST),
)


@pytest.fixture
def book() -> RuleBook:
    return RuleBook(parse_table(V1))


def test_replace_swaps_a_valid_table(book: RuleBook) -> None:
    old = book.current
    new = book.replace(V2)
    assert book.current is new and new is not old
    assert new.version != old.version
    decision = book.decide(CASE)
    assert (decision.department, decision.table_version) == ("RQ-01", new.version)


def test_invalid_text_keeps_the_old_table_and_raises(book: RuleBook) -> None:
    old = book.current
    broken = V2.replace('keywords_any = ["燃气"]', 'keywords_any = "燃气"')
    with pytest.raises(
        RuleTableError, match="rule #1 \\(id 'GAS'\\), line 1, field 'keywords_any'"
    ):
        book.replace(broken)
    assert book.current is old
    assert book.decide(CASE).department == "RQ-00"
    with pytest.raises(RuleTableError, match="TOML syntax error"):
        book.replace("[[rule]\n")
    assert book.current is old


def test_unknown_codes_block_the_swap_when_known_sets_are_given(book: RuleBook) -> None:
    old = book.current
    with pytest.raises(RuleTableError, match="unknown department code 'RQ-01'"):
        book.replace(V2, known_departments={"RQ-00"})
    assert book.current is old


def test_a_check_hook_can_veto_the_swap(book: RuleBook) -> None:
    old = book.current
    shadowing = V2.replace(
        '[[rule]]\nid = "DEFAULT"',
        '[[rule]]\nid = "ALL"\ndepartment = "X"\n\n[[rule]]\nid = "DEFAULT"',
    )

    def no_errors(table: RuleTable) -> None:
        errors = [f for f in check_table(table) if f.severity == "error"]
        if errors:
            raise ValueError("; ".join(f.message for f in errors))

    with pytest.raises(ValueError, match="never decides"):
        book.replace(shadowing, check=no_errors)
    assert book.current is old
    assert book.replace(V2, check=no_errors) is book.current


def test_decisions_during_reloads_always_see_a_whole_table(book: RuleBook) -> None:
    seen: set[tuple[str | None, str]] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            decision = book.decide(CASE)
            seen.add((decision.department, decision.table_version))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    versions = {}
    for i in range(50):
        table = book.replace(V1 if i % 2 else V2)
        versions[table.version] = table.rules[0].department
    stop.set()
    for thread in threads:
        thread.join()
    assert seen <= {(department, version) for version, department in versions.items()}
