"""The tamper-evident audit trail: each case's events form a SHA-256 hash chain.

An event's hash covers the previous event's hash and the event's own canonical content, so
editing, deleting or reordering any event breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from engine.cases.models import CaseEvent


def canonical(event: CaseEvent) -> str:
    body: dict[str, Any] = {
        "case_id": event.case_id,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "data": event.data,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, event: CaseEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def new_event(
    *,
    case_id: int,
    seq: int,
    at: datetime,
    actor: str,
    actor_role: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    data: dict[str, Any],
    prev_hash: str,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case_id,
        seq=seq,
        at=at,
        actor=actor,
        actor_role=actor_role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=data,
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = event_hash(prev_hash, event)
    return event
