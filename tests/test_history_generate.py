"""`gridflow history generate`: the same plan and seed give the same history, and the cases
still open are the recent ones (filed in the history's last ``open_hours``), so a long
history holds about as many open cases as a short one with the same cases a day."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from engine.history.generate import HistoryGenerator, HistoryPlan, write_history
from engine.sla.calendars import build_calendar
from web.cli import main

END = date(2026, 2, 27)
DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
OPEN_ENDS = {"dispatch", "redispatch", "accept", "suspend"}  # where an open case stops


def records(ctx, cases: int, days: int, **plan) -> list[dict]:
    city = ctx.city
    calendar = build_calendar(city.settings, city.timezone, [])
    generator = HistoryGenerator(city, calendar, HistoryPlan(cases, days, END, **plan))
    out = io.StringIO()
    assert write_history(generator, out.write) == cases
    return [json.loads(line) for line in out.getvalue().splitlines()]


def still_open(record: dict) -> bool:
    return record["timeline"][-1]["action"] in OPEN_ENDS


def test_the_same_plan_and_seed_give_the_same_history(ctx):
    first = records(ctx, 150, 3, seed=5)
    assert records(ctx, 150, 3, seed=5) == first
    assert records(ctx, 150, 3, seed=6) != first


def test_the_cases_filed_in_the_last_hours_are_the_open_ones(ctx):
    found = records(ctx, 400, 4, seed=2, open_hours=30)
    end = datetime.fromisoformat("2026-02-28T00:00:00+08:00")  # midnight after END, local
    recent = [
        r for r in found if datetime.fromisoformat(r["reported_at"]) >= end - timedelta(hours=30)
    ]
    assert 0 < len(recent) < len(found)
    assert [r["old_id"] for r in found if still_open(r)] == [r["old_id"] for r in recent]
    for record in found:
        last = record["timeline"][-1]["action"]
        assert last in (OPEN_ENDS if still_open(record) else {"close", "self_handle"})
    # Spread over the open states as the import takes them: dispatched, accepted, suspended.
    assert {r["timeline"][-1]["action"] for r in recent} >= {"dispatch", "accept"}


def test_a_long_history_holds_as_many_open_cases_as_a_short_one_at_the_same_pace(ctx):
    short = records(ctx, 300, 3, seed=4, open_hours=48)
    long = records(ctx, 3000, 30, seed=4, open_hours=48)
    opened = sum(map(still_open, short)), sum(map(still_open, long))
    assert opened[0] > 0
    assert 0.75 < opened[1] / opened[0] < 1.33  # not ten times as many


def test_no_open_hours_no_open_case_and_bad_hours_refused(ctx):
    assert not any(map(still_open, records(ctx, 100, 2, open_hours=0)))
    with pytest.raises(ValueError, match="open hours"):
        HistoryPlan(10, 1, END, open_hours=-1)
    with pytest.raises(ValueError, match="open hours"):
        HistoryPlan(10, 1, END, open_hours=float("nan"))


def test_the_cli_takes_the_open_hours(tmp_path, capsys):
    out = tmp_path / "history.jsonl"
    plan = ["--cases", "60", "--days", "2", "--end", END.isoformat(), "--city", str(DEMO_CITY)]
    assert main(["history", "generate", str(out), *plan, "--open-hours", "0", "--quiet"]) == 0
    assert "60 past cases of 2 days written" in capsys.readouterr().out
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == 60 and not any(map(still_open, lines))
    assert main(["history", "generate", str(out), *plan, "--open-hours", "24", "--quiet"]) == 0
    assert any(still_open(json.loads(line)) for line in out.read_text("utf-8").splitlines())
