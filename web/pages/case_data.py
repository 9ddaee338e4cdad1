"""Everything the case page shows, read in one session: facts, SLA clocks, the dispatch
explanation, the audit timeline, photos and duplicates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from engine import access
from engine.cases import queries
from engine.cases.models import RECORDING_URL_PATTERN, Case, CaseEvent, CasePublic
from engine.dispatch.explain import explain_case
from engine.sla.models import SlaClock
from engine.sla.views import CaseSla, case_sla
from engine.users.models import Principal, Role
from web.context import AppContext
from web.pages.approvals_data import PendingRequest, hidden_decision, request_of
from web.pages.forms import ActionForm, action_forms
from web.pages.people import display_names
from web.pages.views import View

FINAL = ("closed", "voided", "merged")
RECORDING = re.compile(RECORDING_URL_PATTERN)
# Event data keys worth a line on the timeline, in this order.
TIMELINE_KEYS = (
    "department", "from_department", "co_handlers", "reason", "result", "note", "duration",
    "passed", "satisfaction", "resolved_state", "fault", "master_id", "unit", "card", "added",
    "stage", "queue", "lapsed",
)  # fmt: skip
CHOICE_KEYS = ("satisfaction", "resolved_state", "fault", "card", "stage", "queue", "tier")


@dataclass
class CasePage:
    case: CasePublic
    forms: list[ActionForm]
    sla: CaseSla
    explanation: str | None
    dispatch: dict[str, Any]
    events: list[CaseEvent]
    photos: list[str]
    names: dict[str, str] = field(default_factory=dict)  # username -> display name
    request: PendingRequest | None = None  # a 延期, 挂起 or 作废申请 waiting for a decision
    provisional: set[str] = field(default_factory=set)  # stages with a provisional deadline
    flagged: list[Case] = field(default_factory=list)
    merged_here: list[Case] = field(default_factory=list)
    recording_url: str | None = None  # the call's recording (来电弹屏), checked at intake


def load_case_page(
    ctx: AppContext, session: Session, principal: Principal, case_id: int, view: View
) -> CasePage:
    """The case as ``principal`` may see it (NotFound outside their scope)."""
    case = queries.get_visible(session, principal, case_id, ctx.city)
    co = queries.co_handlers(session, [case_id]).get(case_id, [])
    allowed = ctx.cases.allowed_actions(principal, case)
    shown = queries.present(case, principal, co, allowed)
    calendar = ctx.calendars.get(session)
    sla = case_sla(session, case, ctx.city, calendar, ctx.workflow, ctx.clock.now())
    dispatch = explain_case(session, ctx.rules, case)
    events = queries.events(session, case_id)
    request = request_of(case, events)
    names = display_names(session, {e.actor for e in events} | _history_actors(dispatch))
    shown_actions = useful_actions(allowed, case, co, principal)
    if case.state in FINAL:  # no limit will ever start on a closed case
        sla.stages = [s for s in sla.stages if s.status != "not_started"]
    return CasePage(
        case=shown,
        forms=action_forms(ctx.workflow, case.state, shown_actions),
        sla=sla,
        explanation=explain(dispatch, view, names),
        dispatch=dispatch,
        events=events,
        photos=photos_of(events),
        recording_url=recording_of(events),
        names=names,
        request=request,
        provisional=provisional_stages(session, case_id),
        flagged=_related(session, principal, ctx, col(Case.duplicate_of) == case_id),
        merged_here=_related(session, principal, ctx, col(Case.merged_into) == case_id),
    )


def useful_actions(
    allowed: list[str],
    case: Case,
    co: list[str],
    principal: Principal,
) -> list[str]:
    """The allowed actions worth a button: deciding a request only while one is pending,
    a co-handler's report only for a co-handler department."""
    out = []
    for action in allowed:
        if hidden_decision(action, case):
            continue
        if action == "co_report" and not _is_co_handler(principal, case, co):
            continue
        out.append(action)
    return out


def _is_co_handler(principal: Principal, case: Case, co: list[str]) -> bool:
    if principal.role is Role.handler:
        return principal.scope in co and principal.scope != case.lead_department
    return bool(co)


def provisional_stages(session: Session, case_id: int) -> set[str]:
    """Stages whose running deadline was computed Monday to Friday for lack of holidays."""
    query = select(SlaClock.stage).where(
        SlaClock.case_id == case_id,
        SlaClock.provisional == True,  # noqa: E712
        col(SlaClock.stopped_at).is_(None),
    )
    return set(session.exec(query))


def _history_actors(dispatch: dict[str, Any]) -> set[str]:
    return {str(h.get("actor")) for h in dispatch.get("history") or [] if h.get("actor")}


def _related(session: Session, principal: Principal, ctx: AppContext, where: Any) -> list[Case]:
    """The few cases tied to this one (``where``: its duplicates, the tickets merged into it)
    that ``principal`` may see."""
    scope = access.case_scope(principal, ctx.city, narrowed=True)
    query = select(Case).where(where, scope).order_by(col(Case.id)).limit(20)
    return list(session.exec(query))


def photos_of(events: list[CaseEvent]) -> list[str]:
    """Every photo reference on the case's timeline, once, oldest first."""
    seen: dict[str, None] = {}
    for event in events:
        for ref in event.data.get("photos") or []:
            if isinstance(ref, str):
                seen[ref] = None
    return list(seen)


def recording_of(events: list[CaseEvent]) -> str | None:
    """The call's recording URL, kept on the report (or the answer at intake) when the case
    was filed from the call pop-up; only an http(s) address is shown as a link."""
    for event in events:
        url = event.data.get("recording_url")
        if isinstance(url, str) and RECORDING.match(url):
            return url
    return None


def explain(dispatch: dict[str, Any], v: View, names: dict[str, str] | None = None) -> str | None:
    """One sentence: "规则 R12（…）：分类 06012 · 区域 0102 → 环卫所", or who chose by hand."""
    decision = dispatch.get("decision")
    if dispatch.get("source") == "person":
        actor = next(
            (h["actor"] for h in reversed(dispatch["history"]) if h["actor_role"] != "system"),
            "—",
        )
        actor = (names or {}).get(actor, actor)
        return v.t("dispatch_by_person", actor=actor) + f" → {v.dept(dispatch['department'])}"
    if not decision:
        return None
    if decision["action"] == "queue" and decision.get("reason"):
        return v.t("dispatch_queue_reason", reason=v.reason(decision["reason"]))
    rule = decision.get("rule")
    head = (
        v.t("rule_row", id=rule["id"], name=rule["name"] or rule["id"], row=rule["row"])
        if rule
        else str(decision.get("rule_id") or "—")
    )
    parts = [_condition(name, value, v) for name, value in decision["conditions"].items()]
    if rule and rule.get("default"):
        parts.append(v.t("cond_default"))
    target = v.dept(decision.get("department")) if decision.get("department") else "—"
    return f"{head}：{' · '.join(parts) or '—'} → {target}"


def _condition(name: str, value: Any, v: View) -> str:
    label = v.t(f"cond_{name}")
    if name == "category":
        return f"{label} {v.category(str(value))}"
    if name == "area":
        return f"{label} {v.unit(str(value))}"
    if isinstance(value, list | tuple):
        value = "、".join(str(x) for x in value) or "—"  # e.g. no excluded word was found
    return f"{label} {value}"


def timeline_facts(event: CaseEvent, v: View) -> list[str]:
    """Readable ``key: value`` lines of an audit event's data."""
    out = []
    for key in TIMELINE_KEYS:
        value = event.data.get(key)
        if value in (None, "", []):
            continue
        if key in ("department", "from_department"):
            value = v.dept(str(value))
        elif key in ("co_handlers", "added"):
            value = "、".join(v.dept(str(d)) for d in value)
        elif key == "passed":
            value = v.t("pass") if value else v.t("fail")
        elif key == "unit":
            value = v.unit(str(value))
        elif key in CHOICE_KEYS:
            value = v.t(f"c_{value}")
        elif key == "duration":
            value = v.duration(str(value))
        elif key == "reason":
            value = v.reason(str(value))
        elif key == "master_id":
            value = f"#{value}"
        elif key == "lapsed":  # a request the step outdated (engine/cases/requests.py)
            value = v.t(f"request_{value}")
        out.append(f"{v.t('f_' + key)}：{value}")
    return out
