"""Signed checkpoints of the whole trail, appended to ``<instance>/audit/checkpoints.jsonl``.

A checkpoint says: the global sequence had reached ``seq`` with ``count`` events, and the
digest of every event up to it (global number, case, case sequence and MAC, in global
order) was ``digest``. Each checkpoint's digest continues the previous one's, and the line
is MAC'd with the current audit key and names the previous line's MAC, so lines cannot be
edited or dropped from the middle of the file unnoticed. ``verify`` recomputes the digests:
an event deleted, renumbered or replaced behind a checkpoint, or a trail cut short before
it, no longer matches what was signed.

With ``GRIDFLOW_AUDIT_WITNESS_URL`` set, each line is also posted to that external witness
through the outbox (``engine.outbox.witness``): a copy out of reach of whoever holds the
database and the instance folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from engine.audit.keyring import AuditKey, AuditKeys
from engine.audit.sequence import EVENTS
from engine.db import new_session

FILE = Path("audit") / "checkpoints.jsonl"


def checkpoints_file(instance_dir: Path) -> Path:
    return Path(instance_dir) / FILE


@dataclass(frozen=True)
class Checkpoint:
    number: int  # 1, 2, … in the file
    seq: int  # the global sequence number reached
    count: int  # events numbered up to ``seq``
    digest: str
    at: str  # when it was taken (UTC, ISO 8601)
    key_id: str
    prev: str  # the previous checkpoint's MAC ("" for the first)
    mac: str = ""

    def body(self) -> str:
        fields = asdict(self)
        del fields["mac"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    def signed_with(self, key: AuditKey) -> str:
        return hmac.new(key.secret, self.body().encode("utf-8"), hashlib.sha256).hexdigest()

    def line(self) -> str:
        """The signed line as the file holds it (and the witness receives it)."""
        return json.dumps(asdict(self), sort_keys=True)


class Digest:
    """The running digest of the trail in global order, continuing a signed one."""

    def __init__(self, start: str = "") -> None:
        self._hash = hashlib.sha256(start.encode("ascii"))

    def add(self, gseq: int, case_id: int, seq: int, mac: str) -> None:
        self._hash.update(f"{gseq}:{case_id}:{seq}:{mac}\n".encode("ascii", "replace"))

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Each line's number and content (None when it is not a JSON object)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                found = json.loads(line)
            except ValueError:
                found = None
            yield number, found if isinstance(found, dict) else None


def read_checkpoints(path: Path) -> Iterator[Checkpoint]:
    """The checkpoints of the file in order (lines that are none are left to ``verify``)."""
    for _, found in read_lines(path):
        checkpoint = parse(found)
        if checkpoint is not None:
            yield checkpoint


def parse(found: dict[str, Any] | None) -> Checkpoint | None:
    try:
        return Checkpoint(**found)  # type: ignore[arg-type]
    except TypeError:
        return None


def events_after(db: Engine, after: int, batch: int) -> Iterator[list[Any]]:
    """The events numbered after ``after`` in global order, ``batch`` at a time."""
    columns = (EVENTS.c.gseq, EVENTS.c.case_id, EVENTS.c.seq, EVENTS.c.hash, EVENTS.c.key_id)
    while True:
        with new_session(db) as session:
            query = select(*columns).where(EVENTS.c.gseq > after).order_by(EVENTS.c.gseq)
            rows = session.execute(query.limit(batch)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].gseq


def take_checkpoint(
    db: Engine, keys: AuditKeys, instance_dir: Path, now: datetime, batch: int = 5000
) -> Checkpoint | None:
    """Append a checkpoint of the events numbered since the last one; None when there are
    none. Takes the file's lock, so processes sharing the folder append one at a time."""
    path = checkpoints_file(instance_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = keys.current()
    with path.open("a+", encoding="utf-8") as out:
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)
        last = None
        for _, found in read_lines(path):
            last = parse(found) or last
        digest = Digest(last.digest if last else "")
        seq, count = (last.seq, last.count) if last else (0, 0)
        for rows in events_after(db, seq, batch):
            for row in rows:
                digest.add(row.gseq, row.case_id, row.seq, row.hash)
            seq, count = rows[-1].gseq, count + len(rows)
        if last is not None and seq == last.seq:
            return None
        if last is None and seq == 0:
            return None
        checkpoint = Checkpoint(
            number=last.number + 1 if last else 1,
            seq=seq,
            count=count,
            digest=digest.hexdigest(),
            at=now.isoformat(),
            key_id=key.key_id,
            prev=last.mac if last else "",
        )
        checkpoint = Checkpoint(**(asdict(checkpoint) | {"mac": checkpoint.signed_with(key)}))
        out.write(checkpoint.line() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return checkpoint
