"""What a run produced, read back from its database: the KPI report of the simulated
period, SLA breaches per stage, escalations per tier, and the engine's throughput."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from engine.cases.models import Case, CaseEvent
from engine.cases.workflow import Workflow
from engine.kpis import KpiReport, Period, compute_kpis
from engine.simulation.run import RunStats, SimEnv
from engine.timers.models import Timer

TIERS = ("community", "street", "district", "city")


@dataclass
class SimulationReport:
    stats: RunStats
    kpis: KpiReport
    events: int  # audit events written during the run (= case actions, follow-ups included)
    cases: int
    states: dict[str, int]
    breaches: dict[str, int]  # stage → deadlines missed (red timers fired)
    reminders: int  # yellow timers fired
    escalations: dict[str, dict[str, int]] = field(default_factory=dict)  # tier → card → n

    @property
    def actions_per_second(self) -> float:
        wall = self.stats.wall_seconds
        return self.events / wall if wall > 0 else 0.0

    @property
    def calls_per_second(self) -> float:
        """Case service calls (intake or act) per second of wall time."""
        wall = self.stats.wall_seconds
        return sum(self.stats.acts.values()) / wall if wall > 0 else 0.0


def summarize(env: SimEnv, workflow: Workflow, stats: RunStats) -> SimulationReport:
    assert stats.start is not None and stats.end is not None
    start, end = stats.start, stats.end
    events = CaseEvent.__table__.c  # type: ignore[attr-defined]
    timers = Timer.__table__.c  # type: ignore[attr-defined]
    cases = Case.__table__.c  # type: ignore[attr-defined]
    in_run = (events.at >= start) & (events.at < end)
    zone = ZoneInfo(env.city.timezone)
    period = Period.of(
        start.astimezone(zone).date(),
        (end - timedelta(seconds=1)).astimezone(zone).date(),
        env.city.timezone,
    )
    with env.db.connect() as conn:
        written = conn.execute(select(func.count(events.id)).where(in_run)).scalar()
        created = (cases.created_at >= start) & (cases.created_at < end)
        query = select(cases.state, func.count()).where(created).group_by(cases.state)
        states = {state: int(n) for state, n in conn.execute(query)}
        fired = conn.execute(
            select(timers.kind, timers.stage, func.count())
            .where(timers.status == "fired", timers.due_at >= start, timers.due_at < end)
            .group_by(timers.kind, timers.stage)
        ).all()
        ladder: Counter[tuple[str, str]] = Counter()
        for (data,) in conn.execute(select(events.data).where(in_run, events.action == "escalate")):
            ladder[(str(data.get("tier")), str(data.get("card")))] += 1
        kpis = compute_kpis(conn, env.city, workflow, env.calendar, period, end)
    escalations = {
        tier: {card: ladder[(tier, card)] for card in ("yellow", "red")} for tier in TIERS
    }
    return SimulationReport(
        stats=stats,
        kpis=kpis,
        events=int(written or 0),
        cases=sum(states.values()),
        states=states,
        breaches={stage: n for kind, stage, n in fired if kind == "red"},
        reminders=sum(n for kind, _, n in fired if kind == "yellow"),
        escalations=escalations,
    )
