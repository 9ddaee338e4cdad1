"""Facts → one KPI row: counts, then the rates and the composite score (definitions.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from engine.kpis.definitions import (
    COMPONENTS,
    COUNT_KEYS,
    DEPARTMENT_STAGES,
    METRICS,
    STAGE_COUNTS,
    ratio_of,
)
from engine.kpis.replay import Fact


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


def row_of_counts(
    kind: str,
    code: str,
    name: str,
    counts: dict[str, int],
    weights: dict[str, float],
    overdue_cases: int = 0,
) -> KpiRow:
    """The KPI row of summed counts (``COUNT_KEYS`` plus ``handled`` and ``handle_us``, the
    working microseconds of the handled runs): the rates as the definitions say."""
    row = KpiRow(kind=kind, code=code, name=name, overdue_cases=overdue_cases)
    for key in COUNT_KEYS:
        setattr(row, key, counts.get(key, 0))
    full = {key: getattr(row, key) for key in COUNT_KEYS}
    for metric in METRICS:
        if metric.ratio is not None:
            setattr(row, metric.key, ratio_of(metric, full))
    row.handled = counts.get("handled", 0)
    if row.handled:
        row.avg_handle_hours = round(counts.get("handle_us", 0) / 3.6e9 / row.handled, 2)
    row.score = score(row, weights)
    return row


def micros(hours: float) -> int:
    """Working hours as whole microseconds: sums that are exact in any order."""
    return round(hours * 3.6e9)


def build_row(
    kind: str, code: str, name: str, facts: Iterable[Fact], weights: dict[str, float]
) -> KpiRow:
    """The KPI row of replayed facts (the reference path, engine.kpis.compute)."""
    counts: Counter[str] = Counter()
    stages = DEPARTMENT_STAGES if kind == "department" else None
    overdue: set[int] = set()
    for fact in facts:
        k = fact.kind
        if k == "assigned":
            counts["assigned"] += 1
        elif k == "returned":
            counts["returns"] += 1
        elif k == "redispatched":
            counts["redispatched"] += 1
        elif k == "resolved":
            counts["resolves"] += 1
            if fact.hours is not None:
                counts["handled"] += 1
                counts["handle_us"] += micros(fact.hours)
        elif k == "reworked":
            counts["reworks"] += 1
        elif k == "verified":
            counts["verifies"] += 1
            counts["verifies_passed"] += fact.passed
        elif k == "callback":
            counts.update(callback_counts(fact.values))
        elif k == "run":
            if stages is not None and fact.stage not in stages:
                continue
            if not fact.on_time:
                overdue.add(fact.case_id)
            if fact.stage in STAGE_COUNTS:
                due, on_time = STAGE_COUNTS[fact.stage]
                counts[due] += 1
                counts[on_time] += fact.on_time
    return row_of_counts(kind, code, name, counts, weights, len(overdue))


def callback_counts(values: dict[str, Any]) -> dict[str, int]:
    """The counts one callback (回访) adds, from its answers."""
    found = {"callbacks": 1}
    satisfaction = values.get("satisfaction")
    if satisfaction in ("satisfied", "basic", "unsatisfied"):
        found[satisfaction] = 1
    if satisfaction == "unsatisfied" and values.get("fault") == "other":
        found["unsatisfied_other"] = 1
    if values.get("resolved_state"):
        found["answered"] = 1
        found["solved"] = int(values["resolved_state"] == "solved")
    return found


def score(row: KpiRow, weights: dict[str, float]) -> float | None:
    """Weighted mean of the component rates that have data, on a 0–100 scale."""
    parts = [(weights[name], getattr(row, key)) for name, key in COMPONENTS.items()]
    present = [(w, v) for w, v in parts if v is not None and w > 0]
    total = sum(w for w, _ in present)
    if not present or total <= 0:
        return None
    return round(100 * sum(w * v for w, v in present) / total, 2)
