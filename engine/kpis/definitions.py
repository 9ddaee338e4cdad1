"""The KPI definitions (考核指标), in one place: the API, the Excel sheet and the README quote
them. Every figure is recomputable from the audit trail (``case_event``) and the SLA clocks
(``sla_clock``: each stage run's deadline, moved by suspensions and extensions).

Attribution: a department answers for what happened while it was the case's lead (主办):
the stage runs it started (签收 and 处置), its returns, its results, the reworks and checks
of its results. A unit answers for every case that happened in its subtree.
A period is ``[start, end)`` in the city's time; an event counts in the period it happened
in, a stage run in the period it was *decided*: when it ended in time, or when its deadline
passed if it did not (so an overdue run counts in the period it went overdue, even while
still open, and a finished period's figures never change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RATE_KEYS = (
    "on_time_accept_rate",
    "on_time_resolve_rate",
    "resolution_rate",
    "satisfaction_rate",
    "rework_rate",
    "return_rate",
    "redispatch_rate",
)


@dataclass(frozen=True)
class Metric:
    key: str
    zh: str
    en: str
    definition: str


METRICS = (
    Metric(
        "on_time_accept_rate",
        "及时签收率",
        "On-time acceptance",
        "签收 (accept) stage runs ended by `accept` by their deadline ÷ accept runs decided in "
        "the period (accepted in time, or past their deadline unaccepted). A run withdrawn "
        "before its deadline (returned, redispatched) is not counted.",
    ),
    Metric(
        "on_time_resolve_rate",
        "按期办结率",
        "Resolved within the limit",
        "处置 (handle) stage runs ended by `resolve` by their deadline (suspensions and "
        "approved extensions move it) ÷ handle runs decided in the period. A rework starts a "
        "new run.",
    ),
    Metric(
        "resolution_rate",
        "解决率",
        "Resolution rate",
        "(passing 核查 + 回访 answered 解决) ÷ (核查 + 回访 with an answer to 'was it "
        "resolved'), over the checks made in the period.",
    ),
    Metric(
        "satisfaction_rate",
        "满意率",
        "Satisfaction rate",
        "(满意 + 基本满意) ÷ (回访 − 不满意 marked not the department's fault), over the "
        "callbacks made in the period.",
    ),
    Metric(
        "rework_rate",
        "返工率",
        "Rework rate",
        "Reworks (failed 核查, unsatisfied 回访 reopened, a dispatcher's rework) ÷ results "
        "(`resolve`) submitted in the period.",
    ),
    Metric(
        "return_rate",
        "退单率",
        "Return rate",
        "`return` by the department ÷ cases assigned to it (`dispatch`, `redispatch`) in the "
        "period.",
    ),
    Metric(
        "redispatch_rate",
        "改派率",
        "Redispatch rate",
        "`redispatch` taking a case away from the department ÷ cases assigned to it in the period.",
    ),
    Metric(
        "overdue_cases",
        "超期件数",
        "Overdue cases",
        "Distinct cases with a stage run that went past its deadline in the period: 签收 or "
        "处置 for a department; any stage (派遣, 签收, 处置, 核查) for a unit.",
    ),
    Metric(
        "avg_handle_hours",
        "平均处置时长（工作小时）",
        "Average handling time (working hours)",
        "Mean working hours spent 办理中 (in_progress, not suspended) in the handle runs "
        "that ended by `resolve` in the period.",
    ),
    Metric(
        "score",
        "综合得分",
        "Composite score",
        "100 × (w_response × 及时签收率 + w_resolution × 解决率 + w_satisfaction × 满意率) ÷ "
        "the weights of the rates that have data (default weights 30 / 35 / 35; city.toml "
        "[kpi] weights).",
    ),
)
BY_KEY = {m.key: m for m in METRICS}

DEFAULT_WEIGHTS = {"response": 30.0, "resolution": 35.0, "satisfaction": 35.0}
COMPONENTS = {
    "response": "on_time_accept_rate",
    "resolution": "resolution_rate",
    "satisfaction": "satisfaction_rate",
}


def weights_of(settings: dict[str, Any]) -> dict[str, float]:
    """``[kpi] weights`` of city.toml over the defaults; each must be a number ≥ 0."""
    raw = (settings.get("kpi") or {}).get("weights") or {}
    unknown = set(raw) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"city.toml: kpi.weights: unknown {sorted(unknown)}")
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"city.toml: kpi.weights.{name} must be a number ≥ 0")
        weights[name] = float(value)
    if sum(weights.values()) <= 0:
        raise ValueError("city.toml: kpi.weights must not all be 0")
    return weights
