"""Lock an account for a while after repeated failed logins (pages and API alike).

Counted in the database, so every server process sees the same count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel

from engine.db import UTCDateTime
from engine.errors import GridflowError

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    username: str = Field(primary_key=True, max_length=50)
    failures: int = 0
    first_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountLocked(GridflowError):
    code = "locked"

    def __init__(self, until: datetime, now: datetime) -> None:
        self.retry_after = max(1, int((until - now).total_seconds()))
        minutes = -(-self.retry_after // 60)
        super().__init__(f"too many failed logins; try again in {minutes} minutes")


def check_not_locked(session: Session, username: str, now: datetime) -> None:
    row = session.get(LoginAttempt, username)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise AccountLocked(row.locked_until, now)


def record_failure(session: Session, username: str, now: datetime) -> None:
    row = session.get(LoginAttempt, username) or LoginAttempt(username=username)
    if row.first_failure_at is None or now - row.first_failure_at > WINDOW:
        row.failures, row.first_failure_at = 0, now
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until, row.failures, row.first_failure_at = now + LOCK, 0, None
    session.add(row)
    session.commit()


def record_success(session: Session, username: str) -> None:
    row = session.get(LoginAttempt, username)
    if row is not None:
        session.delete(row)
        session.commit()
