"""Read models (engine.views): the facts kept in the case transaction equal a rebuild from
the audit trail, and the KPIs computed from them equal the reference replay's."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from test_kpis import build_week
from test_simulation import activate_city_rules

from engine.db import new_session
from engine.kpis import Period, compute_kpis
from engine.simulation import SimEnv, SimulationConfig, arrivals, plan_capacity, run
from engine.views import service
from engine.views.board_reads import open_per_unit
from engine.views.kpi_reads import kpi_report


def _check(ctx) -> list[str]:
    with ctx.db.connect() as conn:
        calendar = ctx.calendars.get()
        return service.check(conn, ctx.city, ctx.workflow, calendar, ctx.clock.now())


def _same_kpis(ctx, first: date, last: date, unit: str | None = None, dept: str | None = None):
    period = Period.of(first, last, ctx.city.timezone)
    now, calendar = ctx.clock.now(), ctx.calendars.get()
    with ctx.db.connect() as conn:
        kept = kpi_report(conn, ctx.city, period, now, unit=unit, department=dept)
        replayed = compute_kpis(
            conn, ctx.city, ctx.workflow, calendar, period, now, unit=unit, department=dept
        )
    assert kept.model_dump() == replayed.model_dump()
    return kept


def test_the_kpi_week_kept_equals_rebuilt_equals_replay(ctx, clock):
    build_week(ctx, clock)
    assert _check(ctx) == []
    report = _same_kpis(ctx, date(2026, 3, 2), date(2026, 3, 8))
    assert report.total.resolves == 6 and report.total.overdue_cases == 3
    _same_kpis(ctx, date(2026, 3, 3), date(2026, 3, 4), unit="01")
    _same_kpis(ctx, date(2026, 3, 2), date(2026, 3, 2), dept="HW-01")


def test_an_open_late_case_counts_without_a_timer_and_a_tampered_fact_is_named(ctx, clock):
    build_week(ctx, clock)  # every case closed; now one stays open past its deadlines
    from test_kpis import DISPATCHER, GRID, OPERATOR

    from engine.cases.models import CaseCreate

    report = CaseCreate(channel="web", category="06002", description="垃圾", grid_code=GRID)
    case_id = ctx.cases.intake(OPERATOR, report).case.id
    ctx.cases.act(DISPATCHER, case_id, "dispatch", {"department": "HW-01"})
    clock.advance(hours=30)
    _same_kpis(ctx, date(2026, 3, 9), date(2026, 3, 12))
    assert _check(ctx) == []
    with ctx.db.connect() as conn:
        assert open_per_unit(conn, ctx.city, "01") == {GRID: 1}
    with ctx.db.begin() as conn:
        conn.execute(text("UPDATE view_kpi_day SET resolves = resolves + 1 WHERE received > 0"))
        conn.execute(text("DELETE FROM view_stage_light"))
    found = _check(ctx)
    assert any("view_kpi_day 2026-03-02/01010101//06002: resolves kept" in f for f in found)
    assert any(f.startswith("view_stage_light ") and "missing" in f for f in found)
    with ctx.db.begin() as conn:
        calendar = ctx.calendars.get()
        service.rebuild(conn, ctx.city, ctx.workflow, calendar, ctx.clock.now())
    assert _check(ctx) == []
    _same_kpis(ctx, date(2026, 3, 2), date(2026, 3, 12))


WEEK = SimulationConfig(days=7, events_per_day=150, seed=7, start=date(2026, 3, 3))


@pytest.mark.slow
def test_the_seeded_simulated_week(ctx, clock):
    """Seed 7, 7 days of 150 reports: kept = rebuilt = the replay, for the city, a district
    and a department, over the week and over single days."""
    activate_city_rules(ctx)
    env = SimEnv(ctx.db, ctx.cases, ctx.sweeper, clock, ctx.calendars.get(), ctx.city)
    items = arrivals(WEEK, ctx.city)
    with new_session(ctx.db) as session:
        table = ctx.rules.active(session)
    run(env, WEEK, plan_capacity(WEEK, ctx.city, table, items), items)
    assert _check(ctx) == []  # every read model, view_intake_day (直办率) too
    intake = _same_intake(ctx, date(2026, 3, 3), date(2026, 3, 9))
    assert intake.total.hotline_cases > 300 and intake.operators
    report = _same_kpis(ctx, date(2026, 3, 3), date(2026, 3, 9))
    assert report.total.assigned > 500 and report.total.handle_due > 100
    _same_kpis(ctx, date(2026, 3, 5), date(2026, 3, 5))
    _same_kpis(ctx, date(2026, 3, 3), date(2026, 3, 9), unit="01")
    for department in [row.code for row in report.departments[:3]]:
        _same_kpis(ctx, date(2026, 3, 3), date(2026, 3, 9), dept=department)


def _same_intake(ctx, first: date, last: date):
    """直办率's counts from the daily intake facts equal the cases' own: hotline cases filed
    in the period, and those answered at intake."""
    from sqlalchemy import func, select

    from engine.cases.models import Case, CaseEvent
    from engine.views.intake_reads import intake_report

    period = Period.of(first, last, ctx.city.timezone)
    c, e = Case.__table__.c, CaseEvent.__table__.c
    hotline = [c.channel == "hotline", c.created_at >= period.start, c.created_at < period.end]
    with ctx.db.connect() as conn:
        kept = intake_report(conn, ctx.city, period, ctx.clock.now())
        filed = conn.execute(select(func.count()).where(*hotline)).scalar_one()
        answered = conn.execute(
            select(func.count())
            .select_from(Case.__table__.join(CaseEvent.__table__, e.case_id == c.id))
            .where(*hotline, e.action == "answer_at_intake")
        ).scalar_one()
    assert (kept.total.hotline_cases, kept.total.answered_at_intake) == (filed, answered)
    return kept


async def test_the_board_answer(api, ctx, clock):
    from sla_support import auth
    from test_kpis import DISPATCHER, GRID, OPERATOR

    from engine.cases.models import CaseCreate

    report = CaseCreate(channel="web", category="06002", description="垃圾", grid_code=GRID)
    case_id = ctx.cases.intake(OPERATOR, report).case.id
    ctx.cases.act(DISPATCHER, case_id, "dispatch", {"department": "HW-01"})
    clock.advance(hours=3)
    ctx.sweeper.sweep(clock.now())  # the red timer: supervision, a yellow card
    headers = auth(ctx, "supervisor", "01")
    found = await api.client.get("/api/v1/board", headers=headers)
    assert found.status_code == 200, found.text
    board = found.json()
    assert board["unit"] == "01" and board["totals"] == {"green": 0, "yellow": 0, "red": 1}
    assert board["by_department"][0] == {
        "code": "HW-01", "green": 0, "yellow": 0, "red": 1, "total": 1
    }  # fmt: skip
    assert board["open_per_grid"] == {GRID: 1} and board["open_per_state"] == {"assigned": 1}
    (escalation,) = board["escalations"]
    assert escalation["case_id"] == case_id and escalation["card"] == "yellow"
    outside = await api.client.get("/api/v1/board", params={"unit": "02"}, headers=headers)
    assert outside.status_code == 403
    assert _check(ctx) == []


def test_views_check_and_rebuild_commands(ctx, clock, monkeypatch, capsys):
    from engine.settings import get_settings
    from web.cli import main

    build_week(ctx, clock)
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(ctx.settings.instance_dir))
    get_settings.cache_clear()
    try:
        assert main(["views", "check", "--quiet"]) == 0
        assert "read models match the audit trail (4 cases)" in capsys.readouterr().out
        with ctx.db.begin() as conn:
            conn.execute(text("UPDATE view_open_count SET cases = 5"))
            conn.execute(text("UPDATE view_kpi_day SET callbacks = 9 WHERE callbacks > 0"))
        assert main(["views", "check", "--quiet"]) == 1
        out = capsys.readouterr()
        assert "view_kpi_day 2026-03-02/01010101/HW-01/06002: callbacks kept 9, rebuilt 1" in (
            out.out
        )
        assert "differences between the kept read models and the audit trail" in out.err
        assert main(["views", "rebuild", "--quiet"]) == 0
        assert "read models rebuilt from 4 cases" in capsys.readouterr().out
        assert main(["views", "check", "--quiet"]) == 0
    finally:
        get_settings.cache_clear()


def test_suspension_extension_redispatch_and_timers(ctx, clock):
    """Runs paused, moved, restarted by a new lead, and timers fired: kept = rebuilt = replay."""
    from sla_support import sh
    from test_kpis import DISPATCHER, GRID, OPERATOR, handler

    from engine.cases.models import CaseCreate
    from engine.users.models import Principal, Role

    act, hw, cg = ctx.cases.act, handler("HW-01"), handler("CG-0101")
    supervisor = Principal("sup", Role.supervisor, "00")

    def new() -> int:
        report = CaseCreate(channel="web", category="06002", description="垃圾", grid_code=GRID)
        case_id = ctx.cases.intake(OPERATOR, report).case.id
        act(DISPATCHER, case_id, "dispatch", {"department": "HW-01"})
        act(hw, case_id, "accept", {})
        return case_id

    clock.set(sh(2026, 3, 2, 9))
    extended, moved, paused = new(), new(), new()
    act(supervisor, extended, "suspend", {"reason": "等待材料"})
    act(supervisor, paused, "suspend", {"reason": "等待材料"})
    clock.set(sh(2026, 3, 3, 10))
    act(hw, extended, "resume", {})
    act(hw, extended, "request_extension", {"duration": "4wh", "reason": "工程量大"})
    act(supervisor, extended, "approve_extension", {})
    act(DISPATCHER, moved, "redispatch", {"department": "CG-0101"})
    ctx.sweeper.sweep(clock.now())
    clock.set(sh(2026, 3, 4, 16))
    ctx.sweeper.sweep(clock.now())
    act(hw, extended, "resolve", {"result": "已清运"})
    act(cg, moved, "accept", {})
    clock.set(sh(2026, 3, 6, 12))
    ctx.sweeper.sweep(clock.now())
    assert _check(ctx) == []
    for first, last in ((2, 8), (3, 3), (4, 6)):
        _same_kpis(ctx, date(2026, 3, first), date(2026, 3, last))
        _same_kpis(ctx, date(2026, 3, first), date(2026, 3, last), dept="HW-01")
    with ctx.db.connect() as conn:
        from engine.views.board_reads import board_lights

        lights = board_lights(conn, ctx.city, ctx.city.root, clock.now())
    assert sum(lights.totals.values()) == 3  # extended: verify; moved: handle; paused: handle


def test_cases_written_without_the_hook_are_added(ctx, clock):
    """A bulk writer (the history import) lands cases without the hooks: add_cases adds their
    facts to the kept ones, and kept = rebuilt again."""
    from engine.views.hooks import ViewsHook

    build_week(ctx, clock)
    hooks = ctx.cases.hooks
    ctx.cases.hooks = [h for h in hooks if not isinstance(h, ViewsHook)]
    from test_kpis import DISPATCHER, GRID, OPERATOR, handler

    from engine.cases.models import CaseCreate

    landed = []
    try:
        for department in ("HW-01", "CG-0101", "HW-01"):
            report = CaseCreate(channel="web", category="06002", description="垃圾", grid_code=GRID)
            case_id = ctx.cases.intake(OPERATOR, report).case.id
            ctx.cases.act(DISPATCHER, case_id, "dispatch", {"department": department})
            ctx.cases.act(handler(department), case_id, "accept", {})
            landed.append(case_id)
        clock.advance(hours=30)
        ctx.cases.act(handler("HW-01"), landed[0], "resolve", {"result": "已清运"})
    finally:
        ctx.cases.hooks = hooks
    assert any("missing" in f for f in _check(ctx))
    with ctx.db.begin() as conn:
        calendar = ctx.calendars.get()
        service.add_cases(conn, ctx.city, ctx.workflow, calendar, ctx.clock.now(), landed)
    assert _check(ctx) == []
    report = _same_kpis(ctx, date(2026, 3, 2), date(2026, 3, 12))
    assert report.total.resolves == 7 and report.total.assigned == 8
