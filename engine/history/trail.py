"""An imported case's audit trail, chained and MAC'd where the case is replayed.

The events are ``engine.audit``'s (``NewEvent``, HMAC-SHA256 over the previous MAC and the
event's canonical JSON), made the same way, byte for byte, but for many at once: the
canonical text of an event is written out in its keys' sorted order instead of sorting a
dictionary per event, which is most of what a MAC costs at import volumes (an imported case
has eight events on average). ``tests/test_history_bulk.py`` checks every event of a
generated history against ``engine.audit.chain.canonical`` and ``event_mac``.
"""

from __future__ import annotations

import base64
import hmac
import json
from json.encoder import encode_basestring  # what json writes a str as, ensure_ascii=False
from typing import Any

from engine.audit import AuditKey, NewEvent
from engine.audit.chain import ROW_FIELDS, field_tag, tag_base
from engine.history.replay import ReplayedCase

# engine.audit.chain's own encoder settings: the data of an event, keys sorted.
_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
).encode
_EMPTY = _dumps({})


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def canonical(event: NewEvent) -> str:
    """``engine.audit.chain.canonical`` of a keyed event (key id not the legacy one)."""
    return _canonical(event, event.at.isoformat(), canonical_data(event.data))


def canonical_data(data: dict[str, Any]) -> str:
    """An event's data as its canonical text holds it (and SQLite stores it)."""
    return _dumps(data) if data else _EMPTY


def _canonical(event: NewEvent, at: str, data: str) -> str:
    """``canonical``, with the event's time and data already as text."""
    return (
        f'{{"action":{encode_basestring(event.action)},"actor":{encode_basestring(event.actor)}'
        f',"actor_role":{encode_basestring(event.actor_role)},"at":"{at}"'
        f',"case_id":{int(event.case_id)},"data":{data}'
        f',"from":{_text(event.from_state)},"key_id":{_text(event.key_id)}'
        f',"row":{_text(event.row_digest)},"seq":{int(event.seq)},"to":{_text(event.to_state)}}}'
    )


# The fields an imported case row holds its own value of: every other field's values repeat
# from case to case (channel, category, state, units, …), so their tags are made once.
_OWN_VALUES = frozenset(
    {
        "external_id", "description", "lat", "lng", "address", "reporter_name",
        "reporter_phone", "created_at", "closed_at", "resolution",
    }
)  # fmt: skip
_KNOWN_TAGS = 50_000  # at most this many remembered (a few hundred occur)


class RowTags:
    """``engine.audit.chain.row_digest`` of case rows under one audit key, the tag of a field
    value seen before taken from memory (``tests/test_history_bulk.py`` checks every row of a
    generated history against ``row_digest``)."""

    def __init__(self, key: AuditKey) -> None:
        self.key = key
        self.base = tag_base(key)
        self.known: dict[tuple[str, type, Any], bytes] = {}

    def digest(self, row: dict[str, Any]) -> str:
        base, known = self.base, self.known
        tags = []
        for name in ROW_FIELDS:
            value = row.get(name)
            if value is not None and (name in _OWN_VALUES or value.__class__ in (dict, list)):
                tags.append(field_tag(base, name, value))
                continue
            found = known.get((name, value.__class__, value))
            if found is None:
                if len(known) >= _KNOWN_TAGS:
                    known.clear()
                found = known[name, value.__class__, value] = field_tag(base, name, value)
            tags.append(found)
        return base64.urlsafe_b64encode(b"".join(tags)).decode("ascii")


_TAGS: dict[str, RowTags] = {}  # per audit key id


def row_tags(key: AuditKey) -> RowTags:
    found = _TAGS.get(key.key_id)
    if found is None or found.key != key:
        found = _TAGS[key.key_id] = RowTags(key)
    return found


def chained_events(
    key: AuditKey,
    row: dict[str, Any],
    case: ReplayedCase,
    texts: list[tuple[str, str]] | None = None,
) -> list[NewEvent]:
    """The case's audit trail, chained with the audit key. Its last event carries the tags of
    the case row as it lands (``verify`` checks the row against them); the steps before it
    happened in the old system, whose rows gridflow never held, so they vouch for no row.
    ``texts`` is given each event's time (ISO 8601, UTC) and data (JSON) as the MAC covers
    them, to be stored so (``stored_time``)."""
    secret, key_id, case_id = key.secret, key.key_id, row["id"]
    events: list[NewEvent] = []
    head, last = "", len(case.entries)
    digest = row_tags(key).digest(row)
    for seq, entry in enumerate(case.entries, 1):
        event = NewEvent(
            case_id=case_id,
            seq=seq,
            at=entry.at,
            actor=entry.actor,
            actor_role=entry.actor_role,
            action=entry.action,
            from_state=entry.from_state,
            to_state=entry.to_state,
            data=entry.data,
            prev_hash=head,
            key_id=key_id,
            row_digest=digest if seq == last else None,
        )
        at, data = entry.at.isoformat(), entry.data
        text = canonical_data(data)
        if texts is not None:
            texts.append((at, text))
        message = (head + _canonical(event, at, text)).encode("utf-8")
        event.hash = head = hmac.digest(secret, message, "sha256").hex()
        events.append(event)
    return events


def stored_time(iso: str) -> str | None:
    """A UTC time's ISO 8601 text (``+00:00``) as SQLite stores a DATETIME
    (``YYYY-MM-DD HH:MM:SS.ffffff``, engine.history.bulk), or None for another offset."""
    if len(iso) == 25 and iso.endswith("+00:00"):
        return f"{iso[:10]} {iso[11:19]}.000000"
    if len(iso) == 32 and iso.endswith("+00:00"):
        return f"{iso[:10]} {iso[11:26]}"
    return None
