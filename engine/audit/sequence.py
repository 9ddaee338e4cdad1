"""The global sequence over all audit events: numbered as the write path inserts them.

One ``UPDATE audit_sequence SET last = last + n … RETURNING last`` per transaction numbers
all the events it writes, however many. The row stays locked until the transaction ends, so
numbers are handed out in commit order and a rolled-back transaction gives its numbers back:
the sequence has no gaps of its own, and a gap means deleted events (a deleted case).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, update

from engine import rowbuffer
from engine.cases.models import AuditSequence, CaseEvent
from engine.prepared import Prepared

SEQUENCE = AuditSequence.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
ROW_ID = 1

_ADVANCE = Prepared(
    update(SEQUENCE)
    .where(SEQUENCE.c.id == ROW_ID)
    .values(last=SEQUENCE.c.last + bindparam("n"))
    .returning(SEQUENCE.c.last)
)


class SequenceMissing(RuntimeError):
    """The ``audit_sequence`` row is gone: events cannot be numbered (fail closed)."""


def reserve_numbers(connection: Connection, n: int) -> int:
    """Take the next ``n`` numbers of the global audit sequence in this transaction; the
    first of them."""
    found = _ADVANCE.first(connection, {"n": n})
    if found is None:
        raise SequenceMissing("the audit_sequence row is missing; run `gridflow audit verify`")
    return found["last"] - n + 1


def number_events(connection: Connection, rows: list[dict[str, Any]]) -> None:
    first = reserve_numbers(connection, len(rows))
    for offset, row in enumerate(rows):
        row["gseq"] = first + offset


rowbuffer.complete_rows(EVENTS, number_events)
