"""The city's rule tables in the database, and the live table every decision uses.

``activate`` parses, checks and stores a table and makes it the active one in the caller's
transaction; an invalid table raises ``InvalidInput`` naming the row and field, and the
old table stays active. ``LiveRules.active`` reads the active version with one indexed
query per decision and swaps its ``RuleBook`` when another process (or this one) activated
a new version. Every version stays in the table, so old decisions can be explained.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.city.directory import CityDirectory
from engine.dispatch.models import RuleTableRecord
from engine.errors import Conflict, InvalidInput
from engine.rules import RuleTable
from engine.rules.check import Finding, check_table
from engine.rules.matcher import RuleBook, compile_table
from engine.rules.table import Problem, RuleTableError, parse_table

MAX_CACHED = 16  # parsed old versions kept in memory for explanations


@dataclass(frozen=True)
class Activation:
    record: RuleTableRecord
    table: RuleTable
    findings: list[Finding]  # warnings only: a table with errors is refused
    previous: str | None  # the version that was active before
    changed: bool  # False: this version was already active


def problem_details(problems: tuple[Problem, ...]) -> list[dict[str, str]]:
    """Parse problems as error details: ``field`` names the row and its field."""
    out = []
    for p in problems:
        row = f"rule[{p.row + 1}]" if p.row is not None else ""
        field = ".".join(x for x in (row, p.field or "") if x) or "text"
        out.append({"field": field, "reason": str(p)})
    return out


def finding_details(table: RuleTable, findings: list[Finding]) -> list[dict[str, str]]:
    index = {rule.id: rule.index for rule in table.rules}
    out = []
    for f in findings:
        row = index.get(f.rule_ids[0]) if f.rule_ids else None
        field = f"rule[{row + 1}]" if row is not None else "text"
        if f.code == "unknown-department":
            field += ".department"
        elif f.code == "unknown-category":
            field += ".category"
        out.append({"field": field, "reason": str(f)})
    return out


def refuse(details: list[dict[str, str]]) -> InvalidInput:
    first, *more = details
    return InvalidInput(first["field"], first["reason"], more)


def inspect(
    text: str, city: CityDirectory
) -> tuple[RuleTable | None, list[dict[str, str]], list[Finding]]:
    """Parse and check ``text`` against the city's departments and categories: the table
    (None when unparseable), the problems that make it invalid (row and field of each
    error) and every finding (errors and warnings)."""
    departments, categories = set(city.departments), set(city.categories)
    try:
        table = parse_table(text, departments, categories)
    except RuleTableError as exc:
        problems = problem_details(exc.problems)
        try:  # still show the static findings of a table that parses on its own
            table = parse_table(text)
        except RuleTableError:
            return None, problems, []
        return table, problems, check_table(table, departments, categories)
    findings = check_table(table, departments, categories)
    errors = [f for f in findings if f.severity == "error"]
    return table, finding_details(table, errors), findings


def validate(text: str, city: CityDirectory) -> tuple[RuleTable, list[Finding]]:
    """The valid table and its warnings, or ``InvalidInput`` listing every problem."""
    table, problems, findings = inspect(text, city)
    if problems or table is None:
        raise refuse(problems)
    return table, findings


def active_record(session: Session) -> RuleTableRecord | None:
    return session.exec(select(RuleTableRecord).where(col(RuleTableRecord.active))).first()


def record_of(session: Session, version: str) -> RuleTableRecord | None:
    query = select(RuleTableRecord).where(RuleTableRecord.version == version)
    return session.exec(query).first()


def history(session: Session, limit: int = 50) -> list[RuleTableRecord]:
    query = select(RuleTableRecord).order_by(col(RuleTableRecord.id).desc()).limit(limit)
    return list(session.exec(query))


class LiveRules:
    """The active rule table, shared by every process through the ``rule_table`` rows."""

    # How long (clock time) this process trusts its active table before asking the database
    # again: an activation here swaps at once (``accepted``); one made by another process is
    # seen within this.
    POLL = timedelta(seconds=1)

    def __init__(self) -> None:
        self.book: RuleBook | None = None
        self._tables: dict[str, RuleTable] = {}
        self._lock = threading.Lock()
        self._checked: datetime | None = None

    def active(self, session: Session, now: datetime | None = None) -> RuleTable | None:
        """The active table (None: the city has none). With ``now``, at most one indexed
        query per POLL (a registration burst costs none); without, always asks. The text is
        parsed only when the version changed."""
        book, checked = self.book, self._checked
        fresh = now is not None and checked is not None and timedelta(0) <= now - checked
        if book is not None and fresh and now - checked < self.POLL:  # type: ignore[operator]
            return book.current
        self._checked = now
        query = select(RuleTableRecord.version).where(col(RuleTableRecord.active))
        version = session.exec(query).first()
        if version is None:
            self.book = None
            return None
        if book is not None and book.current.version == version:
            return book.current
        record = record_of(session, version)
        return self._swap(record.text) if record is not None else None

    def _swap(self, text: str) -> RuleTable:
        with self._lock:
            if self.book is None:
                self.book = RuleBook(parse_table(text))
            else:
                self.book.replace(text)
            table = self.book.current
            self._remember(table)
            return table

    def _remember(self, table: RuleTable) -> None:
        if len(self._tables) >= MAX_CACHED:
            self._tables.pop(next(iter(self._tables)))
        self._tables[table.version] = table

    def table(self, session: Session, version: str) -> RuleTable | None:
        """Any stored version, parsed (cached), for decisions and their explanations."""
        found = self._tables.get(version)
        if found is not None:
            return found
        record = record_of(session, version)
        if record is None:
            return None
        table = parse_table(record.text)
        compile_table(table)
        with self._lock:
            self._remember(table)
        return table

    def activate(
        self, session: Session, text: str, city: CityDirectory, by: str, now: datetime
    ) -> Activation:
        """Validate ``text`` and make it the active table (in the caller's transaction)."""
        table, findings = validate(text, city)
        current = active_record(session)
        previous = current.version if current is not None else None
        if current is not None and current.version == table.version:
            return Activation(current, table, findings, previous, changed=False)
        try:
            if current is not None:
                current.active = False
                session.add(current)
                session.flush()
            record = record_of(session, table.version) or RuleTableRecord(
                version=table.version,
                text=text,
                version_note=table.version_note[:500],
                rows=len(table.rules),
                created_at=now,
                created_by=by,
            )
            record.active, record.activated_at, record.activated_by = True, now, by
            session.add(record)
            session.flush()
        except IntegrityError as exc:
            raise Conflict("another rule table was activated at the same time; retry") from exc
        return Activation(record, table, findings, previous, changed=True)

    def accepted(self, activation: Activation) -> None:
        """After the activating transaction committed: swap this process's book at once."""
        self._swap(activation.record.text)
