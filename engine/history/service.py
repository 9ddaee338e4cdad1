"""Importing a city's history: records in, cases landed a batch per transaction.

Records are read once, as a stream, in chunks of a batch: each is validated
(``HistoryRecord``), replayed on the workflow and shaped into its rows (in worker processes
with ``workers``, while the batches before it are written); a bad one goes to the error
sink with its line and field. Before a batch lands, the old-system ids already imported are
looked up (the unique key on the case's channel and external id), so a re-run, or a run
resumed after a crash, skips what landed and writes the rest. A crash loses at most the
batch whose transaction was open.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from engine.audit import AuditKeys
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.clock import Clock
from engine.db import new_session, refresh_statistics
from engine.history.landing import (
    BatchSink,
    CaseRows,
    IdsTaken,
    Lander,
    landed_ids,
    reserve_ids,
)
from engine.history.records import HistoryRecord, RecordError, validation_errors
from engine.history.replay import Replayer
from engine.history.view_rows import Made
from engine.sla.calendars import CityCalendars

BATCH = 2000
_SQLITE_WRITER = threading.Lock()  # this process's imports take turns on SQLite's one writer
Outcome = CaseRows | list["BadRecord"]  # a record's rows, or what is wrong with it
# A chunk's outcomes, and each sink's rows of its closed cases (None: made as it lands).
Shaped = tuple[list[Outcome], list[Made | None]]


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
    """``workers``: processes that validate, replay and shape the records (their audit
    events MAC'd) while this one writes the batches before them; 0 does it all here."""

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
        workers: int = 0,
        sinks: Sequence[BatchSink] = (),
        after_batch: Callable[[ImportReport], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        self.db, self.clock, self.batch, self.workers = db, clock, batch, workers
        self.replayer = Replayer(workflow, city)
        self.lander = Lander(city, calendars, keys, db.dialect, sinks)
        self.after_batch = after_batch
        self._top = 0  # the highest case id reserved so far (SQLite)

    def run(
        self, items: Iterable[Item], errors: ErrorSink, progress: Progress | None = None
    ) -> ImportReport:
        report = ImportReport()
        with _few_collections():
            for chunk, (outcomes, made) in self._shaped(_chunks(items, self.batch)):
                fresh: list[CaseRows] = []
                for outcome in outcomes:
                    if isinstance(outcome, CaseRows):
                        fresh.append(outcome)
                    else:
                        report.errors += len(outcome)
                        for bad in outcome:
                            errors(bad)
                report.records += len(chunk)
                if fresh:
                    self._land(chunk, fresh, made, report)
                if progress:
                    progress(report.records, chunk[-1].position)
        if report.landed:
            refresh_statistics(self.db)  # the planner sees the history before anyone asks
        return report

    def _shaped(self, chunks: Iterator[list[Item]]) -> Iterator[tuple[list[Item], Shaped]]:
        """Each chunk with its records' outcomes, in order; made ahead by the workers."""
        if self.workers == 0 or "fork" not in multiprocessing.get_all_start_methods():
            for chunk in chunks:
                yield chunk, self._shape(chunk)
            return
        global _WORK
        _WORK = (self.replayer, self.lander)  # the workers inherit it
        ahead: deque[tuple[list[Item], Any]] = deque()
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            for chunk in chunks:
                ahead.append((chunk, pool.apply_async(_work, (chunk, self._reserve(len(chunk))))))
                if len(ahead) > 2 * self.workers:
                    done, result = ahead.popleft()
                    yield done, result.get()
            while ahead:
                done, result = ahead.popleft()
                yield done, result.get()
        _WORK = None

    def _shape(self, chunk: list[Item]) -> Shaped:
        return shape_chunk(self.replayer, self.lander, chunk, self._reserve(len(chunk)))

    def _reserve(self, count: int) -> int:
        """The first of ``count`` case ids reserved for a chunk's records."""
        with self.db.connect() as connection:
            ids = reserve_ids(connection, count, self._top)
            connection.commit()
        self._top = ids[-1]
        return ids[0]

    def _land(
        self,
        chunk: list[Item],
        fresh: list[CaseRows],
        made: list[Made | None],
        report: ImportReport,
    ) -> None:
        writer = _SQLITE_WRITER if self.db.dialect.name == "sqlite" else nullcontext()
        while True:
            try:
                with writer, new_session(self.db) as session:
                    try:
                        seen = landed_ids(session.connection(), [case.old_id for case in fresh])
                        batch: list[CaseRows] = []
                        for case in fresh:
                            if case.old_id not in seen:
                                seen.add(case.old_id)
                                batch.append(case)
                        whole = made if len(batch) == len(fresh) else None  # rows of them all
                        now = self.clock.now()
                        opened = self.lander.land(session, batch, now, whole) if batch else 0
                        session.commit()
                    except BaseException:
                        session.rollback()
                        raise
                break
            except IdsTaken:  # another writer took some of the ids: made again with new ones
                outcomes, made = self._shape(chunk)
                fresh = [case for case in outcomes if isinstance(case, CaseRows)]
        report.skipped += len(fresh) - len(batch)
        report.landed += len(batch)
        report.open += opened
        report.batches += 1
        if self.after_batch:
            self.after_batch(report)


def shape_chunk(replayer: Replayer, lander: Lander, chunk: list[Item], first_id: int) -> Shaped:
    """Each record of ``chunk`` validated, replayed and shaped, the valid ones numbered from
    ``first_id`` on, or its bad records; and each sink's rows of the chunk's closed cases
    (``Lander.land`` adds the open ones')."""
    shaper = lander.shape
    tallies = [sink.tally() if sink is not None else None for sink in lander.tallies]
    outcomes: list[Outcome] = []
    case_id = first_id
    for item in chunk:
        try:
            if item.problem is not None:
                raise _Invalid([RecordError(*item.problem)])
            case = replayer.replay(item.line, _validate(item.record))
        except RecordError as exc:
            outcomes.append([_bad(item, exc)])
            continue
        except _Invalid as exc:
            outcomes.append([_bad(item, error) for error in exc.errors])
            continue
        outcomes.append(shaper.rows(case_id, case, tallies))
        case_id += 1
    made = [None if tally is None else lander.views.made(tally) for tally in tallies]
    return outcomes, made


_WORK: tuple[Replayer, Lander] | None = None


def _work(chunk: list[Item], first_id: int) -> Shaped:
    assert _WORK is not None
    return shape_chunk(*_WORK, chunk, first_id)


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _few_collections() -> Iterator[None]:
    """The cyclic garbage collector kept out of the way of a bulk run: what exists before it
    is frozen (never scanned again) and young objects are collected ten times less often.
    A batch's objects hold no cycles; they are freed by reference counting."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(max(before[0], 10_000), before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


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
