"""Rows a transaction writes late and together: the batching of the case write path.

A case step adds rows (its audit event, SLA clocks, timers, outbox messages) and changes the
case row, and one transaction often takes several steps (report, register, dispatch). Rather
than one statement per row as each comes, the rows wait in the session's buffer and go out
as one executemany per table, and each changed row (the case, a clock) as one UPDATE. The
buffer is written just before the transaction commits, and before any statement run through
the session that reads or writes a table with rows waiting: every query in the transaction
sees them, as the ORM's autoflush promises for its own objects.

Writes keyed by row go out first, then the inserts: the case's versioned UPDATE takes the
row lock before anything else, so a racing writer meets a version conflict (409), never a
duplicate audit sequence number.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Connection, Table, event, insert
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.util import find_tables

from engine.prepared import Prepared

KEY = "gridflow.rows"

Row = dict[str, Any] | Callable[[], dict[str, Any]]  # a callable row is read when written
Write = Callable[[Connection], None]


class Waiting:
    """A table's waiting rows in the order they came, found by case too: dropping one case's
    rows (``discard``) looks at that case's rows only, not at every row of a large batch."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}  # by arrival number (dicts keep insertion order)
        self.by_case: dict[Any, list[int]] = {}
        self.count = 0

    def add(self, row: Row) -> None:
        number = self.count = self.count + 1
        self.rows[number] = row
        if not callable(row):
            self.by_case.setdefault(row.get("case_id"), []).append(number)

    def discard(self, case_id: int, unwanted: Callable[[dict[str, Any]], bool]) -> None:
        numbers, rows = self.by_case.get(case_id), self.rows
        if numbers:
            keep = []
            for number in numbers:
                if unwanted(rows[number]):  # type: ignore[arg-type]
                    del rows[number]
                else:
                    keep.append(number)
            numbers[:] = keep


class RowBuffer:
    def __init__(self) -> None:
        self.inserts: dict[Table, Waiting] = {}
        self.writes: dict[Hashable, tuple[Table, Write]] = {}
        # Cases this transaction inserted and none of whose buffered rows were written yet:
        # nothing of theirs is in the database to update (see ``is_unwritten``).
        self.unwritten: set[int] = set()
        self.cache: dict[Hashable, Any] = {}  # per-transaction state of the writers

    def tables(self) -> set[Table]:
        waiting = (table for table, found in self.inserts.items() if found.rows)
        return {*waiting, *(table for table, _ in self.writes.values())}

    def flush(self, connection: Connection) -> None:
        writes, inserts = self.writes, self.inserts
        self.writes, self.inserts = {}, {}
        self.unwritten.clear()
        for _, write in writes.values():
            write(connection)
        for table, waiting in inserts.items():
            if waiting.rows:  # a writer may have dropped every row of a table
                rows = [row() if callable(row) else row for row in waiting.rows.values()]
                complete = _COMPLETERS.get(table)
                if complete is not None:
                    complete(connection, rows)
                _insert(table, tuple(rows[0])).many(connection, rows)


Completer = Callable[[Connection, list[dict[str, Any]]], None]
_COMPLETERS: dict[Table, Completer] = {}


def complete_rows(table: Table, completer: Completer) -> None:
    """Have ``completer`` fill in what only the database can give at the moment ``table``'s
    rows go out (the audit trail's global sequence numbers), in place, just before them."""
    _COMPLETERS[table] = completer


_INSERTS: dict[tuple[Table, tuple[str, ...]], Prepared] = {}


def _insert(table: Table, keys: tuple[str, ...]) -> Prepared:
    """One INSERT statement per table and set of columns, built once."""
    found = _INSERTS.get((table, keys))
    if found is None:
        found = _INSERTS[table, keys] = Prepared(insert(table), keys=keys)
    return found


def buffer(session: Session) -> RowBuffer:
    found = session.info.get(KEY)
    if found is None:
        found = session.info[KEY] = RowBuffer()
    return found


def add(session: Session, table: Table, row: Row) -> None:
    """Insert ``row`` into ``table`` with the buffer (all rows of a table share their keys)."""
    inserts = buffer(session).inserts
    waiting = inserts.get(table)
    if waiting is None:
        waiting = inserts[table] = Waiting()
    waiting.add(row)


def discard(
    session: Session, table: Table, case_id: int, unwanted: Callable[[dict[str, Any]], bool]
) -> None:
    """Forget the waiting rows of case ``case_id`` in ``table`` that ``unwanted`` picks: never
    written at all (a row given as a callable is never dropped)."""
    waiting = buffer(session).inserts.get(table)
    if waiting is not None:
        waiting.discard(case_id, unwanted)


def waiting(session: Session, table: Table, case_id: int) -> list[dict[str, Any]]:
    """The rows of case ``case_id`` waiting to be inserted into ``table`` (callables aside)."""
    found = buffer(session).inserts.get(table)
    if found is None:
        return []
    return [found.rows[number] for number in found.by_case.get(case_id, ())]  # type: ignore[misc]


def keep(session: Session, key: Hashable, table: Table, write: Write) -> None:
    """Run ``write`` when the buffer is written; one per key until then (the first stays)."""
    writes = buffer(session).writes
    if key not in writes:
        writes[key] = (table, write)


def is_unwritten(session: Session, case_id: int) -> bool:
    """True when no row of this case (new in this transaction) has reached the database."""
    return case_id in buffer(session).unwritten


def flush(session: Session, table: Table | None = None) -> None:
    """Write the buffer now (with ``table``: only if rows of that table wait)."""
    rows = session.info.get(KEY)
    if rows is None or not (rows.inserts or rows.writes):
        return
    if table is None or table in rows.tables():
        rows.flush(session.connection())


def columns_of(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function completing a row with the columns' Python defaults, so that every row of
    an executemany has the same keys (the primary key is left to the database)."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        if column.computed is not None:  # a generated column: the database writes it
            continue
        # A callable default is wrapped by SQLAlchemy to take an execution context.
        defaults[column.name] = column.default.arg if column.default is not None else None  # type: ignore[attr-defined]

    def complete(values: dict[str, Any]) -> dict[str, Any]:
        row = {}
        for name, default in defaults.items():
            if name in values:
                row[name] = values[name]
            elif callable(default):
                row[name] = default(None)
            else:
                row[name] = default
        return row

    return complete


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    rows: RowBuffer | None = state.session.info.get(KEY)
    if rows is None or not (rows.inserts or rows.writes):
        return
    if rows.tables().intersection(find_tables(state.statement, include_crud=True)):
        rows.flush(state.session.connection())


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def forget(session: Session) -> None:
    """A transaction's buffer and cache end with it."""
    session.info.pop(KEY, None)
