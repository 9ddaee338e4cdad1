"""The sweeper: claims due timers in batches and fires or drops each exactly once.

``Sweeper.sweep(now)`` is a plain call: the server's scheduler calls it on a tick, tests call
it with a virtual clock. Stale timers (their stage run ended, was paused or restarted, or the
case closed) are dropped in bulk; live ones fire one by one through the case service, which
marks the timer fired in the transaction of its effect (see :mod:`engine.timers.hooks`). A
failure is retried with backoff; after ``max_attempts`` the timer becomes an incident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from engine.cases.models import Case
from engine.cases.service import CaseService
from engine.db import new_session
from engine.errors import Conflict
from engine.sla.models import SlaClock
from engine.timers.actions import decide, stale_reason
from engine.timers.leases import Claimed, any_due, claim_due, next_due_after
from engine.timers.models import Timer, TimerStatus
from engine.users.models import SYSTEM

log = logging.getLogger("gridflow.timers")


@dataclass
class SweepReport:
    claimed: int = 0
    fired: int = 0
    dropped: int = 0
    failed: int = 0
    incidents: int = 0


@dataclass(frozen=True)
class SweepConfig:
    batch: int = 1000  # timers claimed per statement
    max_batches: int = 50  # per sweep; a backlog drains over several ticks
    lease: timedelta = timedelta(minutes=5)  # a dead claimer's rows come back after this
    max_attempts: int = 5  # failures before a timer becomes an incident
    backoff: timedelta = timedelta(seconds=30)  # doubled after each failure, up to an hour


class Sweeper:
    def __init__(self, cases: CaseService, config: SweepConfig | None = None) -> None:
        self.cases, self.db = cases, cases.db
        self.config = config or SweepConfig()

    def sweep(self, now: datetime) -> SweepReport:
        report = SweepReport()
        for _ in range(self.config.max_batches):
            with self.db.connect() as conn:
                if not any_due(conn, now):
                    break
            with self.db.begin() as conn:
                claimed = claim_due(conn, now, now + self.config.lease, self.config.batch)
            report.claimed += len(claimed)
            self._process(claimed, now, report)
            if len(claimed) < self.config.batch:
                break
        if report.claimed:
            log.info("timer sweep at %s: %s", now.isoformat(), report)
        return report

    def next_due(self, now: datetime) -> datetime | None:
        with self.db.connect() as conn:
            return next_due_after(conn, now)

    def _process(self, claimed: list[Claimed], now: datetime, report: SweepReport) -> None:
        with new_session(self.db) as session:
            cases = _cases(session, {t.case_id for t in claimed})
            clocks = _open_clocks(session, {t.case_id for t in claimed})
        stale: dict[str, list[int]] = {}
        for timer in claimed:
            case, clock = cases.get(timer.case_id), clocks.get((timer.case_id, timer.stage))
            reason = stale_reason(timer, case, clock)
            if reason is not None:
                stale.setdefault(reason, []).append(timer.id)
                continue
            assert case is not None and clock is not None
            firing = decide(timer, case, clock, self.cases.city)
            if isinstance(firing, str):
                stale.setdefault(firing, []).append(timer.id)
                continue
            try:
                case = self.cases.act(SYSTEM, timer.case_id, firing.action, firing.data)
                cases[timer.case_id] = case
                report.fired += 1
            except Conflict as exc:
                if not (isinstance(exc.details, dict) and "timer" in exc.details):
                    report.failed += 1
                    report.incidents += self._failed(timer, exc, now)
                # else: another sweeper fired it, or the case dropped it meanwhile
            except Exception as exc:  # one failing timer must not stop the others
                log.warning("timer %s (case %s) failed: %r", timer.id, timer.case_id, exc)
                report.failed += 1
                report.incidents += self._failed(timer, exc, now)
        if stale:
            report.dropped += self._drop(stale)

    def _drop(self, stale: dict[str, list[int]]) -> int:
        dropped = 0
        with self.db.begin() as conn:
            for reason, ids in stale.items():
                result = conn.execute(
                    update(Timer)
                    .where(col(Timer.id).in_(ids), col(Timer.status) == TimerStatus.pending)
                    .values(status=TimerStatus.dropped, outcome=reason, lease_until=None)
                )
                dropped += result.rowcount
        return dropped

    def _failed(self, timer: Claimed, exc: Exception, now: datetime) -> int:
        """Count the failure; retry later, or give up into an incident. 1 if it did."""
        attempts = timer.attempts + 1
        incident = attempts >= self.config.max_attempts
        delay = min(self.config.backoff * 2 ** (attempts - 1), timedelta(hours=1))
        values = {
            "attempts": attempts,
            "last_error": f"{type(exc).__name__}: {exc}"[:500],
            "status": TimerStatus.incident if incident else TimerStatus.pending,
            "lease_until": None if incident else now + delay,
        }
        with self.db.begin() as conn:
            result = conn.execute(
                update(Timer)
                .where(col(Timer.id) == timer.id, col(Timer.status) == TimerStatus.pending)
                .values(**values)
            )
        return int(incident and result.rowcount == 1)

    def purge(self, before: datetime) -> int:
        """Delete fired and dropped timers due before ``before``; incidents stay."""
        done = [TimerStatus.fired, TimerStatus.dropped]
        with self.db.begin() as conn:
            result = conn.execute(
                delete(Timer).where(col(Timer.status).in_(done), col(Timer.due_at) < before)
            )
        return result.rowcount


def _cases(session: Session, ids: set[int]) -> dict[int, Case]:
    found = session.exec(select(Case).where(col(Case.id).in_(ids)))
    return {case.id: case for case in found if case.id is not None}


def _open_clocks(session: Session, case_ids: set[int]) -> dict[tuple[int, str], SlaClock]:
    query = select(SlaClock).where(
        col(SlaClock.case_id).in_(case_ids), col(SlaClock.stopped_at).is_(None)
    )
    return {(c.case_id, c.stage): c for c in session.exec(query)}
