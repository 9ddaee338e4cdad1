"""Facts → one KPI row: counts, then the rates and the composite score (definitions.py)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from engine.kpis.definitions import COMPONENTS
from engine.kpis.replay import Fact

DEPARTMENT_STAGES = ("accept", "handle")


class KpiRow(BaseModel):
    kind: str  # total | unit | department
    code: str
    name: str
    # counts
    assigned: int = 0  # 派单 (dispatch + redispatch to it)
    returns: int = 0  # 退单
    redispatched: int = 0  # 改派 away from it
    resolves: int = 0  # 办结反馈
    reworks: int = 0  # 返工
    accept_due: int = 0  # accept runs decided
    accepted_on_time: int = 0
    handle_due: int = 0  # handle runs decided
    resolved_on_time: int = 0
    overdue_cases: int = 0  # 超期件数
    verifies: int = 0  # 核查
    verifies_passed: int = 0
    callbacks: int = 0  # 回访
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    unsatisfied_other: int = 0  # … of which not the department's fault
    answered: int = 0  # callbacks with 解决/部分解决/未解决
    solved: int = 0
    handled: int = 0  # resolves with a measured handling time
    avg_handle_hours: float | None = None
    # rates (None: nothing to divide by)
    on_time_accept_rate: float | None = None
    on_time_resolve_rate: float | None = None
    resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    rework_rate: float | None = None
    return_rate: float | None = None
    redispatch_rate: float | None = None
    score: float | None = None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def build_row(
    kind: str, code: str, name: str, facts: Iterable[Fact], weights: dict[str, float]
) -> KpiRow:
    row = KpiRow(kind=kind, code=code, name=name)
    stages = DEPARTMENT_STAGES if kind == "department" else None
    overdue: set[int] = set()
    hours: list[float] = []
    for fact in facts:
        k = fact.kind
        if k == "assigned":
            row.assigned += 1
        elif k == "returned":
            row.returns += 1
        elif k == "redispatched":
            row.redispatched += 1
        elif k == "resolved":
            row.resolves += 1
            if fact.hours is not None:
                hours.append(fact.hours)
        elif k == "reworked":
            row.reworks += 1
        elif k == "verified":
            row.verifies += 1
            row.verifies_passed += fact.passed
        elif k == "callback":
            _callback(row, fact)
        elif k == "run":
            if stages is not None and fact.stage not in stages:
                continue
            if not fact.on_time:
                overdue.add(fact.case_id)
            if fact.stage == "accept":
                row.accept_due += 1
                row.accepted_on_time += fact.on_time
            elif fact.stage == "handle":
                row.handle_due += 1
                row.resolved_on_time += fact.on_time
    row.overdue_cases = len(overdue)
    row.handled = len(hours)
    row.avg_handle_hours = round(sum(hours) / len(hours), 2) if hours else None
    row.on_time_accept_rate = _rate(row.accepted_on_time, row.accept_due)
    row.on_time_resolve_rate = _rate(row.resolved_on_time, row.handle_due)
    row.resolution_rate = _rate(row.verifies_passed + row.solved, row.verifies + row.answered)
    row.satisfaction_rate = _rate(row.satisfied + row.basic, row.callbacks - row.unsatisfied_other)
    row.rework_rate = _rate(row.reworks, row.resolves)
    row.return_rate = _rate(row.returns, row.assigned)
    row.redispatch_rate = _rate(row.redispatched, row.assigned)
    row.score = score(row, weights)
    return row


def _callback(row: KpiRow, fact: Fact) -> None:
    values = fact.values
    row.callbacks += 1
    satisfaction = values.get("satisfaction")
    if satisfaction == "satisfied":
        row.satisfied += 1
    elif satisfaction == "basic":
        row.basic += 1
    elif satisfaction == "unsatisfied":
        row.unsatisfied += 1
        row.unsatisfied_other += values.get("fault") == "other"
    if values.get("resolved_state"):
        row.answered += 1
        row.solved += values["resolved_state"] == "solved"


def score(row: KpiRow, weights: dict[str, float]) -> float | None:
    """Weighted mean of the component rates that have data, on a 0–100 scale."""
    parts = [(weights[name], getattr(row, key)) for name, key in COMPONENTS.items()]
    present = [(w, v) for w, v in parts if v is not None and w > 0]
    total = sum(w for w, _ in present)
    if not present or total <= 0:
        return None
    return round(100 * sum(w * v for w, v in present) / total, 2)
