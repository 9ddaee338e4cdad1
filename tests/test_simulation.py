"""The city simulator: arrivals, capacity, a run through the real engine, its KPIs checked
against an independent recomputation from the audit trail and the SLA clocks, and the CLI."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from conftest import DEMO_CITY
from sqlmodel import col, select

from engine.cases.models import CaseEvent
from engine.city.loader import read_city
from engine.db import new_session
from engine.simulation import SimEnv, SimulationConfig, arrivals, plan_capacity, run
from engine.simulation.report import summarize
from engine.sla.models import SlaClock

START = date(2026, 3, 3)  # Tuesday: after the clock fixture's Monday 09:00
SMALL = SimulationConfig(days=2, events_per_day=150, seed=7, start=START)


def activate_city_rules(ctx) -> None:
    text = read_city(DEMO_CITY).rules_text
    with new_session(ctx.db) as session, session.begin():
        ctx.rules.activate(session, text, ctx.city, "test", ctx.clock.now())


@pytest.fixture
def simulated(ctx, clock):
    activate_city_rules(ctx)
    env = SimEnv(ctx.db, ctx.cases, ctx.sweeper, clock, ctx.calendars.get(), ctx.city)
    items = arrivals(SMALL, ctx.city)
    with new_session(ctx.db) as session:
        table = ctx.rules.active(session)
    stats = run(env, SMALL, plan_capacity(SMALL, ctx.city, table, items), items)
    return summarize(env, ctx.workflow, stats)


def test_arrivals_follow_the_daily_pattern(ctx):
    config = SimulationConfig(days=3, events_per_day=2000, seed=3)
    items = arrivals(config, ctx.city)
    assert items == sorted(items, key=lambda a: a.at)
    assert abs(len(items) - 6000) < 4 * 6000**0.5  # Poisson: within four sigma
    share = Counter(a.channel for a in items)
    assert abs(share["hotline"] / len(items) - 0.55) < 0.03
    zone = ZoneInfo("Asia/Shanghai")
    hours = Counter(a.at.astimezone(zone).hour for a in items)
    assert hours[10] > 5 * hours[3]  # mid-morning vs the small hours
    grid = Counter(a.at.astimezone(zone).hour for a in items if a.channel == "grid")
    assert grid[3] == 0 and grid[9] > 50  # grid workers report on patrol, not at night
    again = arrivals(config, ctx.city)
    assert [(a.at, a.complaint.text) for a in again[:50]] == [
        (a.at, a.complaint.text) for a in items[:50]
    ]


def test_capacity_follows_the_rule_tables_workload(ctx):
    activate_city_rules(ctx)
    config = SimulationConfig(days=5, events_per_day=1000, seed=2, capacity={"HW-01": 3})
    items = arrivals(config, ctx.city)
    with new_session(ctx.db) as session:
        table = ctx.rules.active(session)
    capacity = plan_capacity(config, ctx.city, table, items)
    assert capacity["HW-01"] == 3  # fixed by the config
    busiest = max(capacity, key=lambda code: capacity[code] if code != "HW-01" else 0)
    assert capacity[busiest] > 3 and all(n >= 1 for n in capacity.values())


def test_a_run_drives_the_real_engine(simulated):
    report = simulated
    assert report.stats.errors == Counter()
    assert report.cases > 250 and report.events > 4 * report.cases
    assert report.states.get("closed", 0) > report.cases / 3
    acts = report.stats.acts
    for action in ("intake", "accept", "resolve", "verify", "callback", "return", "suspend"):
        assert acts[action] > 0, action
    assert report.stats.timers_fired > 0 and report.reminders > 0
    assert sum(report.breaches.values()) > 0
    assert sum(sum(cards.values()) for cards in report.escalations.values()) > 0
    assert report.kpis.total.assigned > 0 and report.kpis.total.score is not None


def recompute(ctx, start, end) -> dict[str, Counter]:
    """The department figures again, straight from the audit trail and the clock rows (not
    through engine.kpis): the lead is whoever the last dispatch named; a clock run belongs to
    the lead when it started and ended with the event at its stop time that left its stage."""
    stage_of = {name: spec.stage for name, spec in ctx.workflow.states.items()}
    figures: dict[str, Counter] = defaultdict(Counter)
    with new_session(ctx.db) as session:
        trail = session.exec(select(CaseEvent).order_by(col(CaseEvent.case_id), col(CaseEvent.seq)))
        by_case: dict[int, list[CaseEvent]] = defaultdict(list)
        for event in trail:
            by_case[event.case_id].append(event)
        clocks = session.exec(select(SlaClock).where(col(SlaClock.stage).in_(["accept", "handle"])))
        clocks = list(clocks)
    for events in by_case.values():
        lead = None
        for e in events:
            inside = start <= e.at < end
            if e.action in ("dispatch", "redispatch"):
                if inside:
                    figures[e.data["department"]]["assigned"] += 1
                    if e.data.get("from_department"):
                        figures[e.data["from_department"]]["redispatched"] += 1
                lead = e.data["department"]
            elif inside and e.action in ("return", "resolve"):
                figures[lead]["returns" if e.action == "return" else "resolves"] += 1
            elif inside and e.action == "callback":
                figures[lead]["callbacks"] += 1
                figures[lead][e.data["satisfaction"]] += 1
            elif inside and e.action == "verify":
                figures[lead]["verifies"] += 1
            if inside and e.from_state == "resolved" and e.to_state == "in_progress":
                figures[lead]["reworks"] += 1
    for clock in clocks:
        events = by_case[clock.case_id]
        owner = None
        for e in events:
            if e.at > clock.started_at:
                break
            if e.action in ("dispatch", "redispatch"):
                owner = e.data["department"]
        ender = next(
            (
                e
                for e in events
                if clock.stopped_at is not None
                and e.at == clock.stopped_at
                and stage_of.get(e.from_state or "") == clock.stage
                and (stage_of.get(e.to_state or "") != clock.stage or "from_department" in e.data)
            ),
            None,
        )
        done = {"accept": "accept", "handle": "resolve"}[clock.stage]
        if ender is not None and clock.stopped_at <= clock.due_at:
            if ender.action == done and start <= clock.stopped_at < end:
                figures[owner][f"{clock.stage}_on_time"] += 1
                figures[owner][f"{clock.stage}_due"] += 1
        elif clock.paused_at is None and start <= clock.due_at < end and clock.due_at <= end:
            figures[owner][f"{clock.stage}_due"] += 1
    return figures


def test_kpis_agree_with_a_recomputation_from_the_audit_trail(ctx, simulated):
    kpis = simulated.kpis
    again = recompute(ctx, kpis.start, kpis.end)
    assert len(kpis.departments) > 5
    for row in kpis.departments:
        mine = again[row.code]
        assert (row.assigned, row.returns, row.redispatched) == (
            mine["assigned"],
            mine["returns"],
            mine["redispatched"],
        ), row.code
        assert (row.resolves, row.reworks, row.verifies) == (
            mine["resolves"],
            mine["reworks"],
            mine["verifies"],
        ), row.code
        assert (row.callbacks, row.satisfied, row.basic, row.unsatisfied) == (
            mine["callbacks"],
            mine["satisfied"],
            mine["basic"],
            mine["unsatisfied"],
        ), row.code
        assert (row.accept_due, row.accepted_on_time) == (
            mine["accept_due"],
            mine["accept_on_time"],
        ), row.code
        assert (row.handle_due, row.resolved_on_time) == (
            mine["handle_due"],
            mine["handle_on_time"],
        ), row.code


def test_cli_runs_and_compares(make_ctx, monkeypatch, capsys, tmp_path):
    from web.cli import main

    monkeypatch.setenv("GRIDFLOW_CITY_DIR", str(DEMO_CITY))
    args = ["simulate", "--days", "1", "--events-per-day", "40", "--seed", "5", "--json"]
    assert main([*args, "--db", f"sqlite:///{tmp_path / 'sim.db'}"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["run"]["cases"] > 20 and single["run"]["errors"] == 0
    assert single["kpis"]["total"]["assigned"] > 0
    assert set(single["escalations_by_tier"]) == {"community", "street", "district", "city"}
    assert main([*args, "--vs-capacity", "HW-01=1", "--vs-capacity", "CG-01=1"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert (
        both["b"]["capacity"]["HW-01"] == 1
        and both["a"]["run"]["arrivals"] == (both["b"]["run"]["arrivals"])
    )
    assert main([*args, "--capacity", "NOPE=2"]) == 2


def test_the_same_seed_gives_the_same_run(monkeypatch, capsys, tmp_path):
    """What-if comparisons are only fair if a run is a function of its seed."""
    from web.cli import main

    monkeypatch.setenv("GRIDFLOW_CITY_DIR", str(DEMO_CITY))
    runs = []
    for name in ("one", "two"):
        args = ["simulate", "--days", "1", "--events-per-day", "60", "--seed", "11", "--json"]
        assert main([*args, "--db", f"sqlite:///{tmp_path / name}.db"]) == 0
        out = json.loads(capsys.readouterr().out)
        timing = {"wall_seconds", "cpu_seconds", "case_actions_per_second"}
        timing |= {"service_calls_per_second"}
        run_part = {k: v for k, v in out["run"].items() if k not in timing}
        runs.append((run_part, out["states"], out["kpis"]["total"], out["breaches_by_stage"]))
    assert runs[0] == runs[1]


def test_only_a_scratch_database_skips_the_fsyncs(tmp_path, monkeypatch):
    """A database the simulator deletes after its run commits without fsync; one the user
    named with --db, like every other database, keeps SQLite's durable setting."""
    from engine.db import make_engine
    from web.cli import main
    from web.cli import simulate as cli

    def synchronous(durable: bool) -> int:
        db = make_engine(f"sqlite:///{tmp_path / f'{durable}.db'}", durable)
        try:
            with db.connect() as conn:
                return conn.exec_driver_sql("PRAGMA synchronous").scalar()
        finally:
            db.dispose()

    assert (synchronous(True), synchronous(False)) == (1, 0)  # NORMAL, OFF

    class Stop(Exception):
        pass

    seen: list[bool] = []

    def build_context(settings, clock, durable: bool):
        seen.append(durable)
        raise Stop

    monkeypatch.setattr(cli, "build_context", build_context)
    monkeypatch.setenv("GRIDFLOW_CITY_DIR", str(DEMO_CITY))
    for extra in ([], ["--db", f"sqlite:///{tmp_path / 'kept.db'}"]):
        with pytest.raises(Stop):
            main(["simulate", "--days", "1", "--events-per-day", "10", *extra])
    assert seen == [False, True]
