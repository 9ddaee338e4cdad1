"""Importing a city's history: records in, cases landed a batch per transaction.

Records are read once, as a stream: each is validated (``HistoryRecord``) and replayed on
the workflow; a bad one goes to the error sink with its line and field. Valid ones gather
into batches; before a batch lands, the old-system ids already imported are looked up
(the unique key on the case's channel and external id), so a re-run, or a run resumed after
a crash, skips what landed and writes the rest. A crash loses at most the batch whose
transaction was open.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from engine.audit import AuditKeys
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.clock import Clock
from engine.db import new_session
from engine.history.landing import BatchSink, Lander, landed_ids
from engine.history.records import HistoryRecord, RecordError, validation_errors
from engine.history.replay import ReplayedCase, Replayer
from engine.sla.calendars import CityCalendars

BATCH = 2000
_SQLITE_WRITER = threading.Lock()  # this process's imports take turns on SQLite's one writer


@dataclass(frozen=True)
class Item:
    """One record as read: its line (or spreadsheet row), the record (a JSON text or a dict
    of fields) and where the reader stands in its file (for a progress bar). A reader of
    another format names its columns for the record's fields (``columns``, for the error
    report) and may have found the record bad already (``problem``: field and reason)."""

    line: int
    record: str | bytes | dict[str, Any]
    position: int = 0
    columns: Mapping[str, str] | None = None
    problem: tuple[str, str] | None = None


@dataclass(frozen=True)
class BadRecord:
    line: int
    old_id: str
    field: str
    reason: str


@dataclass
class ImportReport:
    records: int = 0
    landed: int = 0
    open: int = 0
    skipped: int = 0  # imported before (a re-run) or repeated in the file
    errors: int = 0
    batches: int = 0


ErrorSink = Callable[[BadRecord], None]
Progress = Callable[[int, int], None]  # records handled so far, position in the file


class HistoryImport:
    def __init__(
        self,
        db: Engine,
        clock: Clock,
        workflow: Workflow,
        city: CityDirectory,
        calendars: CityCalendars,
        keys: AuditKeys,
        *,
        batch: int = BATCH,
        sinks: Sequence[BatchSink] = (),
        after_batch: Callable[[ImportReport], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.db, self.clock, self.batch = db, clock, batch
        self.replayer = Replayer(workflow, city)
        self.lander = Lander(city, calendars, keys, sinks)
        self.after_batch = after_batch

    def run(
        self, items: Iterable[Item], errors: ErrorSink, progress: Progress | None = None
    ) -> ImportReport:
        report = ImportReport()
        pending: list[ReplayedCase] = []
        position = 0
        for item in items:
            report.records += 1
            position = item.position
            try:
                if item.problem is not None:
                    raise _Invalid([RecordError(*item.problem)])
                pending.append(self.replayer.replay(item.line, _validate(item.record)))
            except RecordError as exc:
                report.errors += 1
                errors(_bad(item, exc))
            except _Invalid as exc:
                report.errors += len(exc.errors)
                for error in exc.errors:
                    errors(_bad(item, error))
            if len(pending) >= self.batch:
                self._land(pending, report)
                pending = []
                if progress:
                    progress(report.records, position)
        if pending:
            self._land(pending, report)
        if progress:
            progress(report.records, position)
        return report

    def _land(self, batch: list[ReplayedCase], report: ImportReport) -> None:
        writer = _SQLITE_WRITER if self.db.dialect.name == "sqlite" else nullcontext()
        with writer, new_session(self.db) as session:
            try:
                seen = landed_ids(session.connection(), [case.old_id for case in batch])
                fresh: list[ReplayedCase] = []
                for case in batch:
                    if case.old_id in seen:
                        report.skipped += 1
                    else:
                        seen.add(case.old_id)
                        fresh.append(case)
                if fresh:
                    report.open += self.lander.land(session, fresh, self.clock.now())
                session.commit()
            except BaseException:
                session.rollback()
                raise
        report.landed += len(fresh)
        report.batches += 1
        if self.after_batch:
            self.after_batch(report)


class _Invalid(Exception):
    def __init__(self, errors: list[RecordError]) -> None:
        self.errors = errors


def _validate(record: str | bytes | dict[str, Any]) -> HistoryRecord:
    try:
        if isinstance(record, dict):
            return HistoryRecord.model_validate(record)
        return HistoryRecord.model_validate_json(record)
    except ValidationError as exc:
        raise _Invalid(validation_errors(exc)) from None


def _bad(item: Item, error: RecordError) -> BadRecord:
    field = error.field
    if item.columns is not None:
        field = item.columns.get(field, field)
    return BadRecord(item.line, _old_id(item.record), field, error.reason)


def _old_id(record: str | bytes | dict[str, Any]) -> str:
    """The old id of a bad record, when it can be read at all (for the error report)."""
    try:
        found = record if isinstance(record, dict) else json.loads(record)
    except ValueError:
        return ""
    value = found.get("old_id") if isinstance(found, dict) else None
    return str(value) if value is not None else ""


def read_jsonl(path: Path) -> Iterator[Item]:
    """Every non-blank line of a JSON Lines file, with the bytes read so far."""
    position = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            position += len(line)
            if line.strip():
                yield Item(number, line, position)


class JsonlErrors:
    """Bad records as JSON Lines (line, old_id, field, reason), written as they come."""

    def __init__(self, path: Path) -> None:
        self.path, self.count = path, 0
        self._handle: Any = None

    def __call__(self, error: BadRecord) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8")
        record = {"line": error.line, "old_id": error.old_id, "field": error.field}
        record["reason"] = error.reason
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
