"""How `gridflow simulate` shows a run (rich tables) or two runs side by side, and as JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from engine.kpis import KpiRow
from engine.simulation.report import TIERS, SimulationReport

RATES = (
    ("score", "综合得分", False),
    ("on_time_accept_rate", "及时签收率", True),
    ("on_time_resolve_rate", "按期办结率", True),
    ("resolution_rate", "解决率", True),
    ("satisfaction_rate", "满意率", True),
    ("rework_rate", "返工率", True),
    ("return_rate", "退单率", True),
    ("redispatch_rate", "改派率", True),
)
COUNTS = (("overdue_cases", "超期件数"), ("avg_handle_hours", "平均处置(工时)"))


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value:.1%}"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def run_summary(r: SimulationReport) -> dict[str, Any]:
    s = r.stats
    return {
        "arrivals": sum(s.arrivals.values()),
        "by_channel": dict(s.arrivals),
        "cases": r.cases,
        "closed": r.states.get("closed", 0),
        "open": r.cases - sum(r.states.get(k, 0) for k in ("closed", "voided", "merged")),
        "audit_events": r.events,
        "service_calls": sum(s.acts.values()),
        "errors": sum(s.errors.values()),
        "wall_seconds": round(s.wall_seconds, 1),
        "cpu_seconds": round(s.cpu_seconds, 1),
        "case_actions_per_second": round(r.actions_per_second, 1),
        "service_calls_per_second": round(r.calls_per_second, 1),
        "timer_sweeps": s.sweeps,
        "timers_fired": s.timers_fired,
        "reminders": r.reminders,
    }


def report_json(r: SimulationReport) -> dict[str, Any]:
    return {
        "run": run_summary(r),
        "states": r.states,
        "breaches_by_stage": r.breaches,
        "escalations_by_tier": r.escalations,
        "errors": dict(r.stats.errors),
        "capacity": r.stats.capacity,
        "kpis": r.kpis.model_dump(mode="json"),
    }


def _top(r: SimulationReport, top: int) -> list[KpiRow]:
    return sorted(r.kpis.departments, key=lambda row: -row.assigned)[:top]


def print_report(console: Console, r: SimulationReport, top: int = 12) -> None:
    run = run_summary(r)
    console.print(
        f"[bold]{r.kpis.period_start} – {r.kpis.period_end}[/]: "
        f"{run['arrivals']:,} arrivals {run['by_channel']}, {run['cases']:,} cases "
        f"({run['closed']:,} closed, {run['open']:,} open)"
    )
    console.print(
        f"engine: {run['audit_events']:,} case actions in {run['wall_seconds']} s wall "
        f"({run['cpu_seconds']} s CPU) = [bold]{run['case_actions_per_second']:,} actions/s[/]; "
        f"{run['service_calls']:,} service calls, {run['timers_fired']:,} timers fired in "
        f"{run['timer_sweeps']:,} sweeps, {run['errors']} refused"
    )
    ladder = Table(title="SLA breaches and escalations")
    ladder.add_column("")
    for stage in ("dispatch", "accept", "handle", "verify"):
        ladder.add_column(stage, justify="right")
    ladder.add_row("breaches", *(_fmt(r.breaches.get(s, 0)) for s in ("dispatch", "accept",
                   "handle", "verify")))  # fmt: skip
    console.print(ladder)
    tiers = Table(title="escalations (督办) by supervising tier")
    tiers.add_column("card")
    for tier in TIERS:
        tiers.add_column(tier, justify="right")
    for card in ("yellow", "red"):
        tiers.add_row(card, *(_fmt(r.escalations[t][card]) for t in TIERS))
    console.print(tiers)
    console.print(_kpi_table("KPIs: units", r.kpis.units))
    console.print(_kpi_table(f"KPIs: top {top} departments by cases", _top(r, top)))


def _kpi_table(title: str, rows: list[KpiRow]) -> Table:
    table = Table(title=title)
    table.add_column("code")
    table.add_column("name")
    table.add_column("cases", justify="right")
    for _, label, _ in RATES:
        table.add_column(label, justify="right")
    for _, label in COUNTS:
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(
            row.code,
            row.name,
            _fmt(row.assigned),
            *(_fmt(getattr(row, key), pct) for key, _, pct in RATES),
            *(_fmt(getattr(row, key)) for key, _ in COUNTS),
        )
    return table


def print_compare(console: Console, a: SimulationReport, b: SimulationReport, top: int) -> None:
    table = Table(title="what-if: A (as configured) vs B (changed)")
    for name in ("", "A", "B", "B − A"):
        table.add_column(name, justify="right" if name else "left")
    ra, rb = run_summary(a), run_summary(b)
    for key in ("cases", "closed", "open", "audit_events", "case_actions_per_second"):
        table.add_row(key, _fmt(ra[key]), _fmt(rb[key]), _delta(ra[key], rb[key]))
    for stage in ("dispatch", "accept", "handle", "verify"):
        x, y = a.breaches.get(stage, 0), b.breaches.get(stage, 0)
        table.add_row(f"breaches: {stage}", _fmt(x), _fmt(y), _delta(x, y))
    for tier in TIERS:
        x, y = sum(a.escalations[tier].values()), sum(b.escalations[tier].values())
        table.add_row(f"escalations: {tier}", _fmt(x), _fmt(y), _delta(x, y))
    for key, label, pct in (*RATES, *((k, lab, False) for k, lab in COUNTS)):
        x, y = getattr(a.kpis.total, key), getattr(b.kpis.total, key)
        table.add_row(label, _fmt(x, pct), _fmt(y, pct), _delta(x, y, pct))
    console.print(table)
    changed = sorted({c for c, n in b.stats.capacity.items() if a.stats.capacity.get(c) != n})
    codes = list(dict.fromkeys([*changed, *(row.code for row in _top(a, top))]))
    rows_a = {row.code: row for row in a.kpis.departments}
    rows_b = {row.code: row for row in b.kpis.departments}
    depts = Table(title="departments: A → B (capacity, 综合得分, 按期办结率, 退单率, 超期件数)")
    for name in ("code", "capacity", "综合得分", "按期办结率", "退单率", "超期件数"):
        depts.add_column(name, justify="left" if name == "code" else "right")
    for code in codes:
        x, y = rows_a.get(code), rows_b.get(code)

        def pair(key: str, pct: bool = False, x: Any = x, y: Any = y) -> str:
            return f"{_fmt(getattr(x, key, None), pct)} → {_fmt(getattr(y, key, None), pct)}"

        capacity = f"{a.stats.capacity.get(code, '—')} → {b.stats.capacity.get(code, '—')}"
        depts.add_row(
            code,
            capacity,
            pair("score"),
            pair("on_time_resolve_rate", True),
            pair("return_rate", True),
            pair("overdue_cases"),
        )
    console.print(depts)


def _delta(x: Any, y: Any, pct: bool = False) -> str:
    if x is None or y is None:
        return "—"
    d = y - x
    if pct:
        return f"{d * 100:+.1f} pt"
    return f"{d:+,.2f}" if isinstance(d, float) else f"{d:+,}"
