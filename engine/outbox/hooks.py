"""Which case change sends what to whom: the OutboxHook writes outbox rows in the case's own
transaction, so a message exists if and only if its change was committed.

Destinations:
* a department's webhook (departments.toml ``webhook``), for what it must act on: assigned
  (lead or co-handler), withdrawn by a redispatch, reminded, escalated, summoned, extension
  decisions, suspension, review results;
* the 12345 hotline system (city.toml ``[hotline] webhook``), for hotline tickets: accepted,
  reply (the department's result), callback result, closed, voided, merged. A master case's
  updates fan out to the tickets merged into it (并单), so their callers hear the outcome too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from engine import rowbuffer
from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Case
from engine.outbox.models import OutboxMessage

TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_row = rowbuffer.columns_of(TABLE)

HOTLINE = "hotline"
# Action → what the hotline system is told about its ticket.
HOTLINE_KINDS = {
    "register": "accepted",
    "resolve": "reply",
    "self_handle": "reply",
    "callback": "callback",
    "void": "voided",
    "merge": "merged",
}
# Kinds that a master case passes on to the tickets merged into it.
FAN_OUT = frozenset({"reply", "callback", "closed", "voided"})
# Actions the lead department hears about.
DEPARTMENT_ACTIONS = frozenset(
    {
        "dispatch",
        "redispatch",
        "reject_return",
        "escalate",
        "remind",
        "urge",  # 催办: the caller called again
        "summon",
        "approve_extension",
        "reject_extension",
        "suspend",
        "resume",
        "reject_void",  # the department asked to void: it hears the decision either way
        "void",
        "verify",
        "callback",
        "close",
    }
)
FINAL = frozenset({"closed", "voided", "merged"})


@dataclass(frozen=True)
class Outgoing:
    destination: str
    url: str
    kind: str
    body: dict[str, Any]


def dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class OutboxHook:
    """A CaseHook: enqueue the messages a change causes. Never asks for follow-ups."""

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        case, event = change.case, change.event
        assert case.id is not None
        outgoing = [*department_messages(change), *hotline_messages(change)]
        for n, message in enumerate(outgoing, 1):
            message_id = f"gf-{case.id}-{event.seq}-{n}"
            body = {"message_id": message_id, "type": message.kind, **message.body}
            row = {
                "message_id": message_id,
                "case_id": int(body.get("case_id", case.id)),
                "event_seq": event.seq,
                "destination": message.destination,
                "url": message.url,
                "kind": message.kind,
                "body": dumps(body),
                "next_attempt_at": change.now,
                "created_at": change.now,
            }
            rowbuffer.add(change.session, TABLE, _row(row))
        return ()


def case_summary(change: Change) -> dict[str, Any]:
    case = change.case
    category = change.city.categories.get(case.category or "")
    return {
        "id": case.id,
        "channel": str(case.channel),
        "category": case.category,
        "category_name": category.name if category else None,
        "description": case.description,
        "address": case.address,
        "lat": case.lat,
        "lng": case.lng,
        "owning_unit": case.owning_unit,
        "urgency": str(case.urgency),
        "state": case.state,
        "lead_department": case.lead_department,
        "supervision_unit": case.supervision_unit,
        "card": case.card,
        "created_at": case.created_at.isoformat(),
    }


def _recipients(change: Change) -> Iterator[tuple[str, str, str]]:
    """(department, role, kind) pairs for this change."""
    case, event = change.case, change.event
    action, data = event.action, event.data
    if action not in DEPARTMENT_ACTIONS:
        return
    if case.lead_department:
        yield case.lead_department, "lead", action
    if action in ("dispatch", "redispatch"):
        for code in data.get("co_handlers", []):
            yield code, "co_handler", action
        if data.get("from_department"):
            yield data["from_department"], "previous_lead", "withdrawn"
    if action == "summon":
        for code in data.get("departments", []):
            yield code, "summoned", action


def department_messages(change: Change) -> Iterator[Outgoing]:
    event, seen = change.event, set()
    summary: dict[str, Any] | None = None
    for code, role, kind in _recipients(change):
        department = change.city.departments.get(code)
        if department is None or not department.webhook_url or code in seen:
            continue
        seen.add(code)
        summary = summary or case_summary(change)
        yield Outgoing(
            f"department:{code}",
            department.webhook_url,
            kind,
            {
                "case_id": change.case.id,
                "department": code,
                "role": role,
                "case": summary,
                "event": {
                    "seq": event.seq,
                    "action": event.action,
                    "at": event.at.isoformat(),
                    "from_state": event.from_state,
                    "to_state": event.to_state,
                    "actor_role": event.actor_role,
                    "data": event.data,
                },
            },
        )


def hotline_kinds(change: Change) -> list[str]:
    event = change.event
    kinds = [HOTLINE_KINDS[event.action]] if event.action in HOTLINE_KINDS else []
    if event.to_state == "closed" and event.from_state != "closed":
        kinds.append("closed")
    return kinds


def hotline_messages(change: Change) -> Iterator[Outgoing]:
    config = change.city.settings.get("hotline") or {}
    url = config.get("webhook")
    kinds = hotline_kinds(change)
    if not url or not kinds:
        return
    case, event = change.case, change.event
    base = {"seq": event.seq, "at": event.at.isoformat(), "state": case.state}
    details = _details(change)
    if case.channel == HOTLINE and case.external_id:
        for kind in kinds:
            body = base | {"case_id": case.id, "ticket_no": case.external_id} | details(kind)
            yield Outgoing(HOTLINE, url, kind, body)
    passed_on = [k for k in kinds if k in FAN_OUT]
    if not passed_on:
        return
    query = select(Case.id, Case.external_id).where(
        col(Case.merged_into) == case.id, col(Case.channel) == HOTLINE
    )
    for child_id, ticket in change.session.exec(query):
        for kind in passed_on:
            body = base | {
                "case_id": child_id,
                "ticket_no": ticket,
                "master_case_id": case.id,
                "state": "merged",
                "master_state": case.state,
            }
            yield Outgoing(HOTLINE, url, kind, body | details(kind))


def _details(change: Change) -> Any:
    case, data = change.case, change.event.data
    department = change.city.departments.get(case.lead_department or "")

    def details(kind: str) -> dict[str, Any]:
        if kind == "reply":
            return {
                "reply": case.resolution,
                "department": case.lead_department,
                "department_name": department.name if department else None,
            }
        if kind == "callback":
            return {
                "satisfaction": data.get("satisfaction"),
                "resolved": data.get("resolved_state"),
            }
        if kind == "voided":
            return {"reason": data.get("reason")}
        if kind == "merged":
            return {"master_case_id": data.get("master_id")}
        return {}

    return details
