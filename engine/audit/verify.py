"""Verifying the whole audit trail, in bounded memory: every finding named.

Two passes, each streamed in batches. By case (``batch`` cases and their events at a time):
each event's MAC with the key its id names, the links between events, the case sequence, and
the case row against the tags its latest event carries. In global order (``batch`` events at
a time): gaps in the global sequence (a deleted case), the sequence counter, and the digests
of the signed checkpoints (deleted, replaced or renumbered events, a trail cut short).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from engine.audit.chain import LEGACY, changed_fields, event_mac, plain_hash
from engine.audit.checkpoints import Checkpoint, Digest, events_after, parse, read_lines
from engine.audit.keyring import AuditKeys
from engine.audit.sequence import EVENTS, ROW_ID, SEQUENCE
from engine.cases.models import Case
from engine.db import new_session

CASES = Case.__table__  # type: ignore[attr-defined]


class Tamper(StrEnum):
    """What a finding says happened."""

    edited_event = "edited event"  # content does not match its MAC
    plain_chain = "recomputed plain chain"  # MAC replaced by an unkeyed SHA-256
    downgraded = "plain hash on a keyed chain"  # a legacy-marked event where none may be
    broken_link = "broken link"  # does not name the previous event's MAC
    missing_event = "missing event"  # a case sequence number is absent
    unknown_key = "unknown key id"  # this instance folder has no such audit key
    no_key_id = "no key id"
    case_row_changed = "case row changed"  # differs from its latest event
    truncated_case = "truncated case trail"  # the row's audit head is not its latest event
    no_events = "case without events"
    deleted_case_row = "deleted case row"  # events whose case row is gone
    deleted_events = "deleted events"  # a gap in the global sequence
    unnumbered_event = "unnumbered event"  # no global sequence number
    truncated_trail = "truncated trail"  # the newest events are missing
    checkpoint_mismatch = "trail differs from checkpoint"
    bad_checkpoint = "bad checkpoint"  # a checkpoint line edited, forged or dropped


@dataclass(frozen=True)
class Finding:
    kind: Tamper
    detail: str
    case_id: int | None = None
    seq: int | None = None  # the case's event
    field: str | None = None

    def __str__(self) -> str:
        where = [f"case {self.case_id}"] if self.case_id is not None else ["trail"]
        if self.seq is not None:
            where.append(f"event {self.seq}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Progress:
    stage: str  # "cases" | "sequence"
    done: int  # cases or events checked so far


Item = Finding | Progress


def verify_trail(
    db: Engine, keys: AuditKeys, checkpoints: Path | None = None, batch: int = 1000
) -> Iterator[Item]:
    """Every finding of the trail, with progress in between."""
    yield from _by_case(db, keys, batch)
    yield from _in_global_order(db, _checkpoints(keys, checkpoints), batch * 5)


# ---------------------------------------------------------------------- by case


def _by_case(db: Engine, keys: AuditKeys, batch: int) -> Iterator[Item]:
    last_id, done = 0, 0
    while True:
        with new_session(db) as session:
            cases = session.execute(
                select(CASES).where(CASES.c.id > last_id).order_by(CASES.c.id).limit(batch)
            ).all()
            upper = cases[-1].id if cases else None
            query = select(EVENTS).where(EVENTS.c.case_id > last_id)
            if upper is not None:
                query = query.where(EVENTS.c.case_id <= upper)
            events = session.execute(query.order_by(EVENTS.c.case_id, EVENTS.c.seq)).all()
        trails: dict[int, list[Any]] = {}
        for event in events:
            trails.setdefault(event.case_id, []).append(event)
        for case in cases:
            yield from _check_case(keys, case, trails.pop(case.id, []))
        for case_id, trail in trails.items():
            yield Finding(
                Tamper.deleted_case_row,
                f"{len(trail)} events remain of a case whose row is gone",
                case_id,
            )
        if upper is None:
            return
        done += len(cases)
        last_id = upper
        yield Progress("cases", done)


def _check_case(keys: AuditKeys, case: Any, trail: list[Any]) -> Iterator[Finding]:
    case_id = case.id
    if not trail:
        yield Finding(Tamper.no_events, "the case has no audit events (deleted)", case_id)
        return
    prev, expected = "", 1
    for event in trail:
        if event.seq != expected:
            missing = f"{expected}" if event.seq == expected + 1 else f"{expected}–{event.seq - 1}"
            yield Finding(Tamper.missing_event, f"event {missing} is missing", case_id, expected)
        elif event.prev_hash != prev:
            yield Finding(
                Tamper.broken_link, "does not link to the previous event", case_id, event.seq
            )
        yield from _check_mac(keys, event)
        prev, expected = event.hash, event.seq + 1
    latest = trail[-1]
    if case.audit_head != latest.hash:
        yield Finding(
            Tamper.truncated_case,
            f"the row's audit head is not the MAC of its latest event {latest.seq}: later "
            "events were deleted, or the row edited",
            case_id,
        )
    if case.version != latest.seq:
        yield Finding(
            Tamper.case_row_changed,
            f"version is {case.version}, its latest event is {latest.seq}",
            case_id,
            latest.seq,
            "version",
        )
    key = keys.get(latest.key_id) if latest.key_id not in (None, LEGACY) else None
    if key is not None and latest.row_digest:
        for name in changed_fields(key, latest.row_digest, case._mapping):
            yield Finding(
                Tamper.case_row_changed,
                f"{name} differs from what event {latest.seq} left",
                case_id,
                latest.seq,
                name,
            )


def _check_mac(keys: AuditKeys, event: Any) -> Iterator[Finding]:
    where = (event.case_id, event.seq)
    if event.key_id is None:
        yield Finding(Tamper.no_key_id, "the event names no audit key", *where)
        return
    if event.key_id == LEGACY:  # checked in global order too (Tamper.downgraded)
        if plain_hash(event.prev_hash, event) != event.hash:
            yield Finding(Tamper.edited_event, "content does not match its hash", *where)
        return
    key = keys.get(event.key_id)
    if key is None:
        yield Finding(
            Tamper.unknown_key,
            f"audit key {event.key_id!r} is not in this instance's keys/ folder",
            *where,
        )
        return
    if event_mac(key, event.prev_hash, event) != event.hash:
        if plain_hash(event.prev_hash, event) == event.hash:
            detail = "its MAC was replaced by a plain SHA-256 (recomputed without the key)"
            yield Finding(Tamper.plain_chain, detail, *where)
        else:
            yield Finding(Tamper.edited_event, "content does not match its MAC", *where)


# ---------------------------------------------------------------------- global order


def _checkpoints(keys: AuditKeys, path: Path | None) -> tuple[list[Checkpoint], list[Finding]]:
    """The checkpoints that are genuine, and findings on the lines that are not."""
    good: list[Checkpoint] = []
    bad: list[Finding] = []
    if path is None:
        return good, bad
    prev = ""
    for line, found in read_lines(path):
        checkpoint = parse(found)
        if checkpoint is None:
            bad.append(Finding(Tamper.bad_checkpoint, f"{path} line {line} is not a checkpoint"))
            continue
        key = keys.get(checkpoint.key_id)
        if key is None or checkpoint.signed_with(key) != checkpoint.mac:
            why = "its audit key is unknown" if key is None else "its MAC does not match"
            bad.append(Finding(Tamper.bad_checkpoint, f"{path} line {line}: {why}"))
            continue
        if checkpoint.prev != prev or (good and checkpoint.number != good[-1].number + 1):
            detail = f"{path} line {line}: the checkpoints before it are missing"
            bad.append(Finding(Tamper.bad_checkpoint, detail))
        good.append(checkpoint)
        prev = checkpoint.mac
    return good, bad


def _in_global_order(
    db: Engine, checkpoints: tuple[list[Checkpoint], list[Finding]], batch: int
) -> Iterator[Item]:
    signed, findings = checkpoints
    yield from findings
    with new_session(db) as session:
        unnumbered = session.execute(
            select(func.count()).select_from(EVENTS).where(EVENTS.c.gseq.is_(None))
        ).scalar_one()
        counter = session.execute(
            select(SEQUENCE.c.last).where(SEQUENCE.c.id == ROW_ID)
        ).scalar_one_or_none()
    if unnumbered:
        yield Finding(Tamper.unnumbered_event, f"{unnumbered} events have no global number")
    segment = _Segment(signed)
    expected, done, before, keyed = 1, 0, None, False
    for rows in events_after(db, 0, batch):
        for row in rows:
            yield from segment.reach(row.gseq)
            if row.key_id == LEGACY and keyed:  # legacy events were all numbered first
                yield Finding(
                    Tamper.downgraded,
                    f"an unkeyed event numbered {row.gseq}, after keyed events",
                    row.case_id,
                    row.seq,
                )
            keyed = keyed or row.key_id not in (None, LEGACY)
            if row.gseq != expected:
                after = f"case {before.case_id} event {before.seq}" if before else "the start"
                yield Finding(
                    Tamper.deleted_events,
                    f"global numbers {expected}–{row.gseq - 1} are missing "
                    f"({row.gseq - expected} events of a deleted case, or deleted events), "
                    f"between {after} and case {row.case_id} event {row.seq}",
                )
            segment.add(row)
            expected, before = row.gseq + 1, row
        done += len(rows)
        yield Progress("sequence", done)
    newest = expected - 1
    yield from segment.finish(newest)
    if counter is None:
        yield Finding(Tamper.truncated_trail, "the audit_sequence row is missing")
    elif counter > newest:
        yield Finding(
            Tamper.truncated_trail,
            f"the last {counter - newest} events are missing: the trail ends at global "
            f"number {newest}, the sequence reached {counter}",
        )


class _Segment:
    """The checkpoints' digests recomputed segment by segment, each continuing from the
    digest its predecessor signed, so one damaged segment does not taint the next."""

    def __init__(self, signed: list[Checkpoint]) -> None:
        self.signed, self.index = signed, 0
        self.digest, self.count, self.start = Digest(), 0, 1

    def reach(self, gseq: int) -> Iterator[Finding]:
        while self.index < len(self.signed) and gseq > self.signed[self.index].seq:
            yield from self._close()

    def add(self, row: Any) -> None:
        self.digest.add(row.gseq, row.case_id, row.seq, row.hash)
        self.count += 1

    def finish(self, newest: int) -> Iterator[Finding]:
        if self.index < len(self.signed) and self.signed[-1].seq > newest:
            last = self.signed[-1]
            yield Finding(
                Tamper.truncated_trail,
                f"the last {last.seq - newest} events are missing: checkpoint {last.number} "
                f"({last.at}) signed global number {last.seq}, the trail ends at {newest}",
            )
        while self.index < len(self.signed) and self.signed[self.index].seq <= newest:
            yield from self._close()
        if self.index < len(self.signed):  # the segment the trail now ends in
            yield from self._close()

    def _close(self) -> Iterator[Finding]:
        checkpoint = self.signed[self.index]
        previous = self.signed[self.index - 1] if self.index else None
        signed_count = checkpoint.count - (previous.count if previous else 0)
        if self.count != signed_count or self.digest.hexdigest() != checkpoint.digest:
            yield Finding(
                Tamper.checkpoint_mismatch,
                f"global numbers {self.start}–{checkpoint.seq} hold {self.count} events; "
                f"checkpoint {checkpoint.number} ({checkpoint.at}) signed {signed_count} "
                "with another digest: events there were deleted, replaced or renumbered",
            )
        self.index += 1
        self.digest, self.count = Digest(checkpoint.digest), 0
        self.start = checkpoint.seq + 1
