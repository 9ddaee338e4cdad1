"""The rule backtest of the admin's rule page: which recently closed cases a candidate table
would send elsewhere, and where (engine/dispatch/backtest.py decides them; this module picks
the bounded window the page replays and sums the moves per from → to).

Bounded work whatever the size of the history: the newest ``SCAN_LIMIT`` cases created in
the last ``WINDOW_DAYS`` days are read from the created_at index (id, state and lead
department only; no other condition, so no other index and no sort of all closed cases),
and the closed ones a department handled, at most ``MAX_CASES``, are replayed. The page
states the window it replayed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.dispatch.backtest import Moved, replay
from engine.rules import RuleTable

WINDOW_DAYS = 30
MAX_CASES = 2_000  # closed cases replayed at most
SCAN_LIMIT = 20_000  # newest cases of the window looked at to find them
SAMPLE = 50  # moved cases listed
BATCH = 500
QUEUE = "queue:"


@dataclass(frozen=True)
class Window:
    """What was replayed: cases created from ``since`` (the window's start, or the oldest
    case read when a limit was reached first) to ``until``."""

    since: datetime | None
    until: datetime
    days: int
    replayed: int
    limited: bool  # MAX_CASES or SCAN_LIMIT reached before the window's start


@dataclass
class Report:
    window: Window
    same: int = 0
    moves: list[tuple[str, str, int]] = field(default_factory=list)  # from, to, cases
    sample: list[Moved] = field(default_factory=list)
    moved: int = 0
    rule_names: dict[str, str] = field(default_factory=dict)  # rule id -> its name, if any


def recent_closed_ids(session: Session, now: datetime) -> tuple[list[int], Window]:
    """The ids of the newest closed, department-handled cases created in the window."""
    start = now - timedelta(days=WINDOW_DAYS)
    query = (
        select(Case.id, Case.state, Case.lead_department, Case.created_at)
        .where(col(Case.created_at) >= start)
        .order_by(col(Case.created_at).desc())
        .limit(SCAN_LIMIT)
    )
    ids: list[int] = []
    read, oldest = 0, None
    for case_id, state, department, created_at in session.exec(query):
        read, oldest = read + 1, created_at
        if state == "closed" and department and case_id is not None:
            ids.append(case_id)
            if len(ids) >= MAX_CASES:
                break
    limited = len(ids) >= MAX_CASES or read >= SCAN_LIMIT
    since = oldest if limited else start
    return ids, Window(since, now, WINDOW_DAYS, len(ids), limited)


def _batches(session: Session, ids: list[int]) -> Iterator[list[Case]]:
    ordered = sorted(ids)
    for at in range(0, len(ordered), BATCH):
        chunk = ordered[at : at + BATCH]
        yield list(session.exec(select(Case).where(col(Case.id).in_(chunk)).order_by(col(Case.id))))


def run_backtest(session: Session, table: RuleTable, city: CityDirectory, now: datetime) -> Report:
    """Replay the window against ``table``: counts per from → to, newest moved cases first."""
    ids, window = recent_closed_ids(session, now)
    result = replay(session, table, city, _batches(session, ids))
    moves = Counter((m.handled_by, m.candidate) for m in result.moved)
    return Report(
        window=window,
        same=result.same,
        moves=[(a, b, n) for (a, b), n in sorted(moves.items(), key=lambda kv: (-kv[1], kv[0]))],
        sample=sorted(result.moved, key=lambda m: -m.case_id)[:SAMPLE],
        moved=len(result.moved),
        rule_names=table.names,
    )


def target_tier(target: str) -> str | None:
    """``queue:<tier>`` → the tier whose manual queue it is; a department → None."""
    return target.removeprefix(QUEUE) if target.startswith(QUEUE) else None
