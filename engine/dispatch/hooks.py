"""DispatchHook: a case entering ``registered`` is dispatched by the rule table.

The first matching row decides. An automatic row becomes ``dispatch`` (lead, co-handlers,
urgency, SLA limits); a manual row (``auto = false``) becomes ``queue`` to the command
center of the row's tier above the case. A point outside every grid, a table without a
usable answer, or a row naming a department the city no longer has goes to the city's
queue, with the reason. The rule id and the table version go on the case and in the audit
event (the follow-up's data); the input is stored so the decision can be explained later.
A city without an active table dispatches by hand from ``registered``.

When the rules give no confident answer (no row, the default row, or an uncategorised case
the matched row does not dispatch) and a text router model is present, the router is asked
(engine.dispatch.classifier_step): it dispatches a confident case itself (``source =
"router"``) or adds its top 3 as suggestions to the rules' plan. Its model version and
confidence go in the audit event and the decision record. Without a model, or for a case a
non-default row dispatched, the router is never called.

See docs/ARCHITECTURE.md#dispatch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine import rowbuffer
from engine.cases.effects import ActionEffects
from engine.cases.hooks import Change, FollowUp
from engine.city.directory import CityDirectory
from engine.classifier.decision import DEFAULT_THRESHOLD
from engine.classifier.live import LiveRouter
from engine.dispatch import effects as dispatch_effects
from engine.dispatch.centers import return_center
from engine.dispatch.classifier_step import consult, unsure
from engine.dispatch.inputs import dispatch_input, input_to_json, outside_grids
from engine.dispatch.models import DispatchDecisionRecord
from engine.dispatch.rule_versions import LiveRules
from engine.rules import Decision, RuleTable
from engine.rules.matcher import decide

REGISTERED = "registered"
RECORDS = DispatchDecisionRecord.__table__  # type: ignore[attr-defined]
_record = rowbuffer.columns_of(RECORDS)


class DispatchHook:
    def __init__(
        self,
        rules: LiveRules,
        router: LiveRouter | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.rules = rules
        self.router, self.threshold = router, threshold

    def register_effects(self, effects: ActionEffects) -> None:
        dispatch_effects.register(effects)

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        event = change.event
        if event.to_state != REGISTERED or event.from_state == REGISTERED:
            return ()
        table = self.rules.active(change.session, change.now)
        if table is None:
            return ()
        case, city = change.case, change.city
        inp = dispatch_input(case, city, change.now)
        try:
            decision: Decision | None = decide(table, inp)
        except LookupError:  # a stored table always has a default row; be safe anyway
            decision = None
        action, data = plan(decision, table, change)
        if self.router is not None and unsure(decision, case.category):
            routed = consult(self.router, self.threshold, table, decision, inp, change, plan)
            if routed is not None:
                action, data, decision, inp = routed
        assert case.id is not None
        record = {
            "case_id": case.id,
            "at": change.now,
            "rules_version": table.version,
            "rule_id": decision.rule_id if decision else None,
            "action": action,
            "department": data.get("department") or (decision.department if decision else None),
            "queue_unit": data.get("queue_unit"),
            "reason": data.get("reason"),
            "input": input_to_json(inp),
            "source": data.get("source", "rule"),
            "model_version": data.get("model_version"),
            "router_target": data.get("router_target"),
            "confidence": data.get("confidence"),
            "threshold": data.get("threshold"),
            "candidates": data.get("suggestions"),
        }
        rowbuffer.add(change.session, RECORDS, _record(record))  # written with the case's rows
        return (FollowUp(action, data),)


def plan(decision: Decision | None, table: RuleTable, change: Change) -> tuple[str, dict[str, Any]]:
    """The follow-up action and its data for a decision."""
    case, city = change.case, change.city
    data: dict[str, Any] = {"rules_version": table.version, "source": "rule"}
    if decision is None:
        return "queue", data | {
            "queue": "city",
            "queue_unit": city.root,
            "reason": "no rule matched",
        }
    data["rule"] = decision.rule_id
    if outside_grids(case, city):
        reason = f"the location ({case.lat}, {case.lng}) is outside every grid"
        return "queue", data | {"queue": "city", "queue_unit": city.root, "reason": reason}
    unknown = _unknown_departments(decision, city)
    if unknown:
        reason = f"rule {decision.rule_id} names departments unknown to the city: {unknown}"
        return "queue", data | {"queue": "city", "queue_unit": city.root, "reason": reason}
    if not decision.auto:
        rule = table.rules[decision.rule_index]
        label = f" ({rule.name})" if rule.name else ""
        reason = f"rule {decision.rule_id}{label} asks for manual dispatch"
        if decision.department:
            reason += f"; suggested department {decision.department}"
        queue_unit = decision.queue_unit or city.root
        return "queue", data | {"queue": decision.queue, "queue_unit": queue_unit, "reason": reason}
    assert decision.department is not None
    department = city.departments[decision.department]
    data |= {
        "department": decision.department,
        "urgency": decision.urgency,
        "queue_unit": return_center(case.owning_unit, department.unit, city.units.get),
    }
    if decision.co_handlers:
        data["co_handlers"] = list(decision.co_handlers)
    if decision.limits:
        data["limits"] = dict(decision.limits)
    return "dispatch", data


def _unknown_departments(decision: Decision, city: CityDirectory) -> list[str]:
    codes = [c for c in (decision.department, *decision.co_handlers) if c is not None]
    return [c for c in codes if c not in city.departments]
