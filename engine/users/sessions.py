"""Page sessions kept in the database, so that logging out or changing an account ends them.

The browser holds a random session id (signed by the web layer); the table keeps only its
SHA-256 digest, so a copy of the database opens no session. A session ends at logout, when
its user is disabled or has their password, role or scope changed, after
``GRIDFLOW_SESSION_IDLE_MINUTES`` without a request, and at its absolute expiry. Last-seen
is written at most once per ``TOUCH_EVERY``, not on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, update
from sqlmodel import Field, Session, SQLModel, select

from engine.db import UTCDateTime
from engine.users.models import User

TOUCH_EVERY = timedelta(minutes=1)  # last-seen precision: idle timeouts are minutes long


class PageSessionRecord(SQLModel, table=True):
    __tablename__ = "page_session"

    id_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie's id
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


@dataclass(frozen=True)
class LiveSession:
    """A session that is still valid, with its user as they are now."""

    user: User
    csrf: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    session: Session, user_id: int, now: datetime, lifetime: timedelta, idle: timedelta
) -> str:
    """Start a session for the user and return its id (shown to the browser only).

    Sessions that have ended by time are removed here, so the table holds live ones only."""
    _purge_ended(session, now, idle)
    session_id = secrets.token_urlsafe(32)
    session.add(
        PageSessionRecord(
            id_hash=_digest(session_id),
            user_id=user_id,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return session_id


_RECORDS = PageSessionRecord.__table__  # type: ignore[attr-defined]
_TOUCH = (
    update(_RECORDS)
    .where(_RECORDS.c.id_hash == bindparam("digest"))
    .values(last_seen_at=bindparam("now"))
)


def find_session(
    session: Session, session_id: str, now: datetime, idle: timedelta
) -> LiveSession | None:
    """The live session with this id, or None (unknown, ended, idle too long, user disabled).
    Writes only when last-seen is more than ``TOUCH_EVERY`` old."""
    found = session.exec(
        select(PageSessionRecord, User)
        .join(User, User.id == PageSessionRecord.user_id)  # type: ignore[arg-type]
        .where(PageSessionRecord.id_hash == _digest(session_id))
    ).first()
    if found is None:
        return None
    record, user = found
    if record.expires_at <= now or record.last_seen_at + idle <= now or not user.active:
        session.delete(record)
        session.commit()
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        session.execute(_TOUCH, {"digest": record.id_hash, "now": now})
        session.commit()
    return LiveSession(user, record.csrf)


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(_RECORDS).where(_RECORDS.c.id_hash == _digest(session_id)))


def end_user_sessions(session: Session, user_id: int) -> int:
    """End every session of the user at once; how many there were."""
    result = session.execute(delete(_RECORDS).where(_RECORDS.c.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _purge_ended(session: Session, now: datetime, idle: timedelta) -> None:
    session.execute(
        delete(_RECORDS).where(
            or_(_RECORDS.c.expires_at <= now, _RECORDS.c.last_seen_at <= now - idle)
        )
    )
