"""The text router's part in automatic dispatch (智能分拨), called by the dispatch hook.

The rule table decides first. The router is asked only when the rules give no confident
answer (:func:`unsure`): no rule matched, the table's default (catch-all) row decided, or the
case has no category (the operator left it empty) and the rule that matched does not
dispatch it by itself. A case a non-default row dispatches automatically never reaches the
router, so the common path costs nothing; without a usable model the rules' plan stands
exactly as before.

When asked, the router's best guess is held to the threshold (``Settings.router_threshold``):

* at or above it, the case is dispatched automatically (``source = "router"``): to the
  predicted department when a department model is loaded; with only a category model, the
  predicted category is given to the rule table (the same table version), and the row it
  picks dispatches the case if that row is an automatic, non-default one. A category the
  rules would still send to a person is queued with the suggestions instead: the rules stay
  the only place that maps a category to a department, so a category guess never invents
  a department of its own.
* below it (or when the guess cannot be applied: a department the city no longer has, a
  location outside every grid), the case goes to a person: the manual queue the rules' plan
  names (of the default row or the matched row), or the city's command center when the
  default row would dispatch automatically; the router's top 3 go with it as suggestions,
  with a reason naming its best guess and confidence against the threshold.

Either way the follow-up's data (the audit event) carries ``source = "router"``,
``model_version``, ``router_target``, ``confidence``, ``threshold`` and ``suggestions``, and
the hook copies them into the decision record. A router that fails while predicting is
logged and ignored: it never breaks a case write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

from engine.cases.hooks import Change
from engine.classifier.decision import RouteDecision, route
from engine.classifier.live import LiveRouter
from engine.classifier.text import case_text
from engine.dispatch.centers import return_center
from engine.dispatch.inputs import outside_grids
from engine.rules import Decision, DispatchInput, RuleTable
from engine.rules.matcher import decide

log = logging.getLogger("gridflow.dispatch")

MAX_REASON = 500  # DispatchDecisionRecord.reason
Planner = Callable[[Decision | None, RuleTable, Change], tuple[str, dict[str, Any]]]


class Routed(NamedTuple):
    """The router's outcome: the follow-up and what the decision record should name."""

    action: str  # "dispatch" | "queue"
    data: dict[str, Any]
    decision: Decision | None  # the rule row of record (the mapping row for a category)
    input: DispatchInput  # the input of record (with the predicted category, if mapped)


def unsure(decision: Decision | None, category: str | None) -> bool:
    """The rules gave no confident answer: ask the router."""
    if decision is None or decision.default:
        return True
    return not category and not decision.auto


def consult(
    live: LiveRouter,
    threshold: float,
    table: RuleTable,
    decision: Decision | None,
    inp: DispatchInput,
    change: Change,
    plan: Planner,
) -> Routed | None:
    """The router's dispatch or its suggestions; None when there is no usable model."""
    try:
        router = live.get()
        if router is None:
            return None
        answer = route(router.predict(case_text(change.case)), threshold)
    except Exception:  # the router is an aid: a failure must not fail the case write
        log.exception("text router failed on case %s; the rules decide alone", change.case.id)
        return None
    facts = _facts(answer)
    case, city = change.case, change.city
    if not answer.auto:
        why = answer.reason
    elif outside_grids(case, city):
        why = f"{answer.reason}, but the location is outside every grid"
    elif answer.target == "department":
        if answer.label in city.departments:
            data = _dispatch_data(answer.label, table, decision, change) | facts
            return Routed("dispatch", data, decision, inp)
        why = f"{answer.reason}, but the city has no department {answer.label}"
    else:
        mapped_input = replace(inp, category=answer.label)
        try:
            mapped: Decision | None = decide(table, mapped_input)
        except LookupError:
            mapped = None
        if mapped is not None and mapped.auto and not mapped.default:
            action, data = plan(mapped, table, change)
            if action == "dispatch":
                return Routed("dispatch", data | facts, mapped, mapped_input)
            why = f"{answer.reason}, but {data.get('reason')}"
        else:
            row = mapped.rule_id if mapped is not None else "none"
            why = f"{answer.reason}, but the rules leave category {answer.label} to a person "
            why += f"(rule {row})"
    action, data = plan(decision, table, change)
    if action == "dispatch":
        # An automatic default row is no confident answer either: a person decides, with
        # the router's suggestions and the row's department named in the reason.
        department = data.get("department")
        data = {k: v for k, v in data.items() if k in ("rules_version", "source", "rule")}
        data |= {"queue": "city", "queue_unit": city.root}
        data["reason"] = f"rule {data.get('rule')} would dispatch to {department} by default"
    data |= facts
    data["reason"] = f"{data['reason']}; {why}"[:MAX_REASON]
    return Routed("queue", data, decision, inp)


def _facts(answer: RouteDecision) -> dict[str, Any]:
    return {
        "source": "router",
        "model_version": answer.model_version,
        "router_target": answer.target,
        "confidence": round(answer.confidence, 4),
        "threshold": answer.threshold,
        "suggestions": [
            {"label": label, "confidence": round(p, 4)} for label, p in answer.candidates
        ],
    }


def _dispatch_data(
    code: str, table: RuleTable, decision: Decision | None, change: Change
) -> dict[str, Any]:
    """Dispatch to the router's department; returns go to the command center of the case's
    area at the department's tier, as for a rule's dispatch."""
    case, city = change.case, change.city
    department = city.departments[code]
    data: dict[str, Any] = {
        "rules_version": table.version,
        "department": code,
        "queue_unit": return_center(case.owning_unit, department.unit, city.units.get),
    }
    if decision is not None:  # the row that had no answer stays on record
        data |= {"rule": decision.rule_id, "urgency": decision.urgency}
    return data
