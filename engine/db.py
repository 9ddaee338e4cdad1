"""Database setup: one SQLAlchemy engine per process, SQLite in WAL mode by default.

Times are stored as naive UTC and come back aware (``UTCDateTime``), so no code compares
naive and aware datetimes and PostgreSQL and SQLite agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

# The largest row id: id columns are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _sqlite_pragmas(durable: bool) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return set_pragmas


def make_engine(url: str, durable: bool = True) -> Engine:
    """Create the engine for ``url``; SQLite files get WAL and their folder is created.

    ``durable=False`` is for a scratch database thrown away after one run (the simulator's
    own): SQLite then skips the fsyncs that make a commit survive a power cut.

    Every table model is registered first (engine.tables), so whatever a process does next
    sees the complete, portable metadata.
    """
    from engine import tables  # noqa: F401

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if parsed.database in (None, "", ":memory:"):
        kwargs["poolclass"] = StaticPool
    else:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A file connection costs the server nothing, so a thread never waits for one: under
        # a burst, request threads queue for the one writer's turn (engine.cases.service),
        # not on the pool, whose 30 s timeout would turn the burst into 500s.
        kwargs |= {"pool_size": 8, "max_overflow": -1}
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas(durable))
    return engine


def refresh_statistics(engine: Engine, tables: Iterable[str] = ()) -> None:
    """After a bulk load, PostgreSQL's planner statistics of ``tables`` (every table when
    none are named) made at once, not when autovacuum next looks a minute or more later:
    until then the planner guesses the new rows' shape (knowledge search took 1.2–1.4 s
    a query without them, 25 ms with them, on 10,000 imported articles). SQLite's planner
    keeps no statistics unless asked, and the lists' query plans are tested without them:
    nothing to do there."""
    if engine.dialect.name != "postgresql":
        return
    preparer = engine.dialect.identifier_preparer
    with engine.connect() as connection:
        for statement in [f"ANALYZE {preparer.quote(t)}" for t in tables] or ["ANALYZE"]:
            connection.execute(text(statement))
        connection.commit()


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
