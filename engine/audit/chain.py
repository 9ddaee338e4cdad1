"""Each case's events form a chain MAC'd with the instance's audit key (HMAC-SHA256).

An event's MAC covers the previous event's MAC, the event's own canonical content, the key
id and the tags of the case row the event left behind. Without the key nobody can write a
MAC that verifies, so editing, deleting or reordering an event, and recomputing the chain
afterwards, is caught. The row tags (``ROW_FIELDS``, one keyed 32-bit tag per field) let
``verify`` name the field of a case row that no longer matches its latest event.

Events written before keyed chains carry the key id ``LEGACY`` and a plain SHA-256 chain.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from engine.audit.keyring import AuditKey

LEGACY = "sha256"  # the key id of events chained with plain SHA-256, before audit keys
TAG_BYTES = 4

# The case row's fields each event vouches for: everything a person or a KPI reads of the
# case. Its id is the event's own ``case_id``, its version the event's ``seq``, its
# ``audit_head`` the event's MAC (checked as such); ``updated_at`` is housekeeping.
ROW_FIELDS = (
    "channel",
    "external_id",
    "category",
    "description",
    "lat",
    "lng",
    "grid_code",
    "address",
    "request_type",
    "reporter_name",
    "reporter_phone",
    "created_at",
    "urgency",
    "state",
    "owning_unit",
    "lead_department",
    "resolution",
    "rework_count",
    "merged_into",
    "pending_extension",
    "closed_at",
    "sla_limits",
    "supervision_unit",
    "card",
    "alert_count",
    "latest_snapshot",
    "duplicate_of",
    "dispatch_rule",
    "rules_version",
    "dispatch_source",
    "dispatch_queue",
    "pending_request",  # added later: a digest made before it has one tag fewer
    "queued_at",  # added later still
)
FIRST_FIELDS = 31  # the fields of the first keyed digests (the oldest a digest may cover)


class EventLike(Protocol):
    case_id: int
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
    key_id: str | None
    row_digest: str | None


@dataclass
class NewEvent:
    """An audit event being written (a ``case_event`` row to be): what hooks see of a step.
    A plain object, not an ORM instance: the case service inserts these in batches; the
    global sequence number is given as they are written (engine.audit.sequence)."""

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
    key_id: str | None = None
    row_digest: str | None = None

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _EVENT_FIELDS}


_EVENT_FIELDS = tuple(f.name for f in fields(NewEvent))


_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
).encode  # one encoder for every event: json.dumps would build one per call


def canonical(event: EventLike) -> str:
    """The event's content as MAC'd; legacy events keep the form they were hashed in."""
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
    if event.key_id != LEGACY:
        body["key_id"] = event.key_id
        body["row"] = event.row_digest
    return _dumps(body)


def plain_hash(prev_hash: str, event: EventLike) -> str:
    """The unkeyed SHA-256 link: how legacy events were chained (anyone can compute it)."""
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def event_mac(key: AuditKey, prev_hash: str, event: EventLike) -> str:
    message = (prev_hash + canonical(event)).encode("utf-8")
    return hmac.digest(key.secret, message, "sha256").hex()


def _text(value: Any) -> str:
    """A field's value as text, typed, the same whether it comes from the write path or
    back from either database."""
    if value is None:
        return "n"
    if isinstance(value, str):  # enums too (StrEnum)
        return "s" + str(value)
    if isinstance(value, bool):
        return "b" + str(int(value))
    if isinstance(value, int):
        return "i" + str(value)
    if isinstance(value, float):
        return "f" + repr(value)
    if isinstance(value, datetime):
        return "t" + value.astimezone(UTC).isoformat()
    return "j" + _dumps(value)


def tag_base(key: AuditKey) -> Any:
    """The keyed BLAKE2b every field tag of ``key`` starts from (copied per field)."""
    return hashlib.blake2b(key=key.tag_key, digest_size=TAG_BYTES)


def field_tag(base: Any, name: str, value: Any) -> bytes:
    """One field's tag: its name and its typed text under the key (``base``: tag_base)."""
    tag = base.copy()
    tag.update(f"{name}\x1f{_text(value)}".encode())
    return tag.digest()


def field_tags(key: AuditKey, row: Any) -> list[bytes]:
    """One keyed BLAKE2b tag per field of ``ROW_FIELDS`` (``row``: a Case or a mapping)."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    base = tag_base(key)
    return [field_tag(base, name, get(name)) for name in ROW_FIELDS]


def row_digest(key: AuditKey, row: Any) -> str:
    return base64.urlsafe_b64encode(b"".join(field_tags(key, row))).decode("ascii")


def changed_fields(key: AuditKey, digest: str, row: Any) -> list[str]:
    """The fields of ``row`` whose tags differ from ``digest``'s."""
    try:
        stored = base64.urlsafe_b64decode(digest.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return list(ROW_FIELDS)
    count, rest = divmod(len(stored), TAG_BYTES)
    if rest or not FIRST_FIELDS <= count <= len(ROW_FIELDS):
        return list(ROW_FIELDS)
    now = field_tags(key, row)[:count]  # an older digest vouches for the fields it had
    return [
        name
        for i, (name, tag) in enumerate(zip(ROW_FIELDS[:count], now, strict=True))
        if stored[i * TAG_BYTES : (i + 1) * TAG_BYTES] != tag
    ]


def new_event(
    *,
    key: AuditKey,
    case: Any,
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
    """The event of a step on ``case``, whose fields are already as the step leaves them."""
    event = NewEvent(
        case_id=case.id,
        seq=seq,
        at=at,
        actor=actor,
        actor_role=actor_role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=data,
        prev_hash=prev_hash,
        key_id=key.key_id,
        row_digest=row_digest(key, case),
    )
    event.hash = event_mac(key, prev_hash, event)
    return event
