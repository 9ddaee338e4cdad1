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


@dataclass(frozen=True)
class Metric:
    key: str
    zh: str
    en: str
    definition: str
    # A rate: counts added up above the line ÷ below it ("-name" subtracts a count).
    ratio: tuple[tuple[str, ...], tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Count:
    """A count behind the rates: a field of the KPI row, a column of the daily facts
    (``view_kpi_day``) and of the Excel sheet."""

    key: str
    zh: str
    en: str


METRICS = (
    Metric(
        "on_time_accept_rate",
        "及时签收率",
        "On-time acceptance",
        "签收 (accept) stage runs ended by `accept` by their deadline ÷ accept runs decided in "
        "the period (accepted in time, or past their deadline unaccepted). A run withdrawn "
        "before its deadline (returned, redispatched) is not counted.",
        ratio=(("accepted_on_time",), ("accept_due",)),
    ),
    Metric(
        "on_time_resolve_rate",
        "按期办结率",
        "Resolved within the limit",
        "处置 (handle) stage runs ended by `resolve` by their deadline (suspensions and "
        "approved extensions move it) ÷ handle runs decided in the period. A rework starts a "
        "new run.",
        ratio=(("resolved_on_time",), ("handle_due",)),
    ),
    Metric(
        "resolution_rate",
        "解决率",
        "Resolution rate",
        "(passing 核查 + 回访 answered 解决) ÷ (核查 + 回访 with an answer to 'was it "
        "resolved'), over the checks made in the period.",
        ratio=(("verifies_passed", "solved"), ("verifies", "answered")),
    ),
    Metric(
        "satisfaction_rate",
        "满意率",
        "Satisfaction rate",
        "(满意 + 基本满意) ÷ (回访 − 不满意 marked not the department's fault), over the "
        "callbacks made in the period.",
        ratio=(("satisfied", "basic"), ("callbacks", "-unsatisfied_other")),
    ),
    Metric(
        "rework_rate",
        "返工率",
        "Rework rate",
        "Reworks (failed 核查, unsatisfied 回访 reopened, a dispatcher's rework) ÷ results "
        "(`resolve`) submitted in the period.",
        ratio=(("reworks",), ("resolves",)),
    ),
    Metric(
        "return_rate",
        "退单率",
        "Return rate",
        "`return` by the department ÷ cases assigned to it (`dispatch`, `redispatch`) in the "
        "period.",
        ratio=(("returns",), ("assigned",)),
    ),
    Metric(
        "redispatch_rate",
        "改派率",
        "Redispatch rate",
        "`redispatch` taking a case away from the department ÷ cases assigned to it in the period.",
        ratio=(("redispatched",), ("assigned",)),
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
RATE_KEYS = tuple(m.key for m in METRICS if m.ratio is not None)

# The counts behind the figures, in the Excel sheet's order.
COUNTS = (
    Count("assigned", "派单数", "Assigned"),
    Count("returns", "退单数", "Returned"),
    Count("redispatched", "改派数", "Redispatched away"),
    Count("resolves", "办结反馈数", "Results submitted"),
    Count("reworks", "返工数", "Reworks"),
    Count("accept_due", "应签收", "Acceptance runs decided"),
    Count("accepted_on_time", "及时签收", "Accepted in time"),
    Count("handle_due", "应办结", "Handling runs decided"),
    Count("resolved_on_time", "按期办结", "Resolved in time"),
    Count("verifies", "核查数", "Checks"),
    Count("verifies_passed", "核查通过", "Checks passed"),
    Count("callbacks", "回访数", "Callbacks"),
    Count("satisfied", "满意", "Satisfied"),
    Count("basic", "基本满意", "Basically satisfied"),
    Count("unsatisfied", "不满意", "Unsatisfied"),
    Count("unsatisfied_other", "不满意（非承办原因）", "Unsatisfied, not the department's fault"),
    Count("answered", "回访答复解决情况", "Callbacks answering 'resolved?'"),
    Count("solved", "已解决", "Answered solved"),
)
COUNT_KEYS = tuple(c.key for c in COUNTS)

# 直办率: the hotline's own figure, per filing operator and category (not per department:
# a case answered at intake never reaches one). Kept in its own daily facts
# (``view_intake_day``), read by engine.views.intake_reads.
INTAKE_COUNTS = (
    Count("hotline_cases", "热线受理数", "Hotline cases filed"),
    Count("answered_at_intake", "直接答复数", "Answered at intake"),
)
INTAKE_COUNT_KEYS = tuple(c.key for c in INTAKE_COUNTS)
INTAKE_METRIC = Metric(
    "intake_answer_rate",
    "直办率",
    "Answered at intake",
    "Hotline (12345) cases answered on the phone at intake (直接答复: the workflow's "
    "`answer_at_intake`) ÷ hotline cases filed in the period. Both count on the local day "
    "the case was filed, for the operator who filed it, the case's category and owning unit. "
    "Cases of other channels and imported history are not hotline cases.",
    ratio=(("answered_at_intake",), ("hotline_cases",)),
)

# Each SLA stage's runs as counted: (decided, decided in time). A run is decided when it ends
# by its deadline, or when the deadline passes (definitions above).
STAGE_COUNTS = {
    "dispatch": ("dispatch_due", "dispatched_on_time"),
    "accept": ("accept_due", "accepted_on_time"),
    "handle": ("handle_due", "resolved_on_time"),
    "verify": ("verify_due", "verified_on_time"),
}
DEPARTMENT_STAGES = ("accept", "handle")  # a department answers for these stages' runs
# Actions that finish a stage run as its owner should; any other end before the deadline
# (a return, a redispatch, a merge) withdraws the run from the timeliness figures.
DONE_BY: dict[str, frozenset[str] | None] = {
    "dispatch": frozenset({"dispatch", "redispatch", "reject_return"}),
    "accept": frozenset({"accept"}),
    "handle": frozenset({"resolve"}),
    "verify": None,  # any end of the review stage is the review done
}


def ratio_of(metric: Metric, counts: dict[str, int]) -> float | None:
    """The metric's rate over ``counts`` (None: nothing to divide by)."""
    assert metric.ratio is not None
    above, below = metric.ratio
    part = sum(counts[key] for key in above)
    whole = sum(-counts[key[1:]] if key.startswith("-") else counts[key] for key in below)
    return round(part / whole, 4) if whole > 0 else None


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
