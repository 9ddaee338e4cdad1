"""The tamper-evident audit trail: each case's events form a SHA-256 hash chain.

An event's hash covers the previous event's hash and the event's own canonical content, so
editing, deleting or reordering any event breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseEvent


@dataclass
class NewEvent:
    """An audit event being written (a ``case_event`` row to be): what hooks see of a step.
    A plain object, not an ORM instance: the case service inserts these in batches."""

    case_id: int
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _EVENT_FIELDS}


_EVENT_FIELDS = tuple(f.name for f in fields(NewEvent))


def canonical(event: CaseEvent | NewEvent) -> str:
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


def event_hash(prev_hash: str, event: CaseEvent | NewEvent) -> str:
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
) -> NewEvent:
    event = NewEvent(
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


@dataclass(frozen=True)
class ChainBreak:
    case_id: int
    seq: int | None  # the first broken event; None when the chain's head is missing
    reason: str


def verify_chains(session: Session, batch: int = 2000) -> Iterator[ChainBreak | int]:
    """Check every case's chain; yield the first break of each broken case.

    Also yields the number of cases checked after each batch, for progress reporting. Events
    are read in (case, seq) order in batches, so memory stays flat on a large database.
    """
    heads = dict(session.exec(select(Case.id, Case.audit_head)).all())
    checked = 0
    last_id = 0
    while True:
        ids = [i for i in sorted(heads) if i > last_id][:batch]
        if not ids:
            return
        query = (
            select(CaseEvent)
            .where(col(CaseEvent.case_id).in_(ids))
            .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
        )
        by_case: dict[int, list[CaseEvent]] = {i: [] for i in ids}
        for event in session.exec(query):
            by_case[event.case_id].append(event)
        for case_id in ids:
            found = _verify_one(case_id, by_case[case_id], heads[case_id])
            if found is not None:
                yield found
        checked += len(ids)
        last_id = ids[-1]
        yield checked


def _verify_one(case_id: int, trail: list[CaseEvent], head: str) -> ChainBreak | None:
    prev = ""
    for expected_seq, event in enumerate(trail, 1):
        if event.seq != expected_seq:
            return ChainBreak(case_id, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return ChainBreak(case_id, event.seq, "does not link to the previous event")
        if event_hash(prev, event) != event.hash:
            return ChainBreak(case_id, event.seq, "content does not match its hash (edited)")
        prev = event.hash
    if prev != head:
        return ChainBreak(case_id, None, "the case's latest event is missing (truncated)")
    return None
