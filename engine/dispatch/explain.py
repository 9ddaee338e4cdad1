""" "Why was this case sent here?" — the recorded decision, replayed on its table version."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseEvent, CaseTask
from engine.dispatch.inputs import input_from_json
from engine.dispatch.models import DispatchDecisionRecord
from engine.dispatch.rule_versions import LiveRules
from engine.rules.matcher import explain

HISTORY_ACTIONS = ("queue", "dispatch", "redispatch", "return", "reject_return", "co_report")
EVENT_KEYS = (
    "department", "from_department", "co_handlers", "rule", "rules_version", "dispatch_source",
    "dispatch_queue", "queue", "reason", "result",
    "source", "model_version", "router_target", "confidence", "threshold", "suggestions",
)  # fmt: skip


def latest_decision(session: Session, case_id: int) -> DispatchDecisionRecord | None:
    query = (
        select(DispatchDecisionRecord)
        .where(DispatchDecisionRecord.case_id == case_id)
        .order_by(col(DispatchDecisionRecord.id).desc())
    )
    return session.exec(query).first()


def explain_case(session: Session, rules: LiveRules, case: Case) -> dict[str, Any]:
    """The case's dispatch: who chose (rule / person / router), the rule and table version,
    the conditions that held, the rows tried before it, the tasks and the history."""
    assert case.id is not None
    tasks = session.exec(
        select(CaseTask).where(CaseTask.case_id == case.id).order_by(col(CaseTask.id))
    )
    out: dict[str, Any] = {
        "case_id": case.id,
        "state": case.state,
        "source": case.dispatch_source,
        "department": case.lead_department,
        "tasks": [{"department": t.department, "lead": t.lead, "done": t.done} for t in tasks],
        "queue": case.dispatch_queue,
        "rule_id": case.dispatch_rule,
        "rules_version": case.rules_version,
        "decision": None,
        "history": _history(session, case.id),
    }
    record = latest_decision(session, case.id)
    if record is not None:
        out["decision"] = _decision(session, rules, record)
    return out


def _decision(session: Session, rules: LiveRules, record: DispatchDecisionRecord) -> dict[str, Any]:
    found: dict[str, Any] = {
        "at": record.at,
        "action": record.action,
        "rule_id": record.rule_id,
        "rules_version": record.rules_version,
        "department": record.department,
        "queue_unit": record.queue_unit,
        "reason": record.reason,
        "input": record.input,
        "source": record.source,
        "model_version": record.model_version,
        "router_target": record.router_target,
        "confidence": record.confidence,
        "threshold": record.threshold,
        "candidates": record.candidates,
        "rule": None,
        "conditions": {},
        "outputs": None,
        "tried": [],
    }
    table = rules.table(session, record.rules_version) if record.rules_version else None
    if table is None or record.rule_id is None:
        return found
    explanation = explain(table, input_from_json(record.input))
    decision = explanation.to_dict()["decision"]
    rule = table.rules[explanation.decision.rule_index]
    found["rule"] = {
        "id": rule.id,
        "row": rule.index + 1,
        "name": rule.name,
        "note": rule.note,
        "line": rule.line,
        "default": rule.default,
    }
    found["conditions"] = decision["matched"]
    found["outputs"] = {
        key: decision[key]
        for key in ("department", "co_handlers", "urgency", "limits", "auto", "queue", "queue_unit")
    }
    found["tried"] = [_miss(m) for m in explanation.to_dict()["tried"]]
    return found


def _miss(miss: dict[str, Any]) -> dict[str, Any]:
    """A row tried before the decision: its first failing condition, with the value the case
    had. For keywords, ``actual`` is the keywords the description HAS and ``missing`` those
    it lacks (keywords_all, keywords_any); for keywords_none, ``actual`` is the forbidden
    keywords found."""
    out = {"rule_id": miss["rule_id"], "row": miss["rule_index"] + 1}
    out |= {key: miss[key] for key in ("field", "expected", "actual")}
    if miss["field"] in ("keywords_all", "keywords_any"):
        out["missing"] = [k for k in miss["expected"] if k not in miss["actual"]]
    return out


def _history(session: Session, case_id: int) -> list[dict[str, Any]]:
    query = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, col(CaseEvent.action).in_(HISTORY_ACTIONS))
        .order_by(col(CaseEvent.seq))
    )
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "action": e.action,
            "actor": e.actor,
            "actor_role": e.actor_role,
            "to_state": e.to_state,
            "data": {k: e.data[k] for k in EVENT_KEYS if k in e.data},
        }
        for e in session.exec(query)
    ]
