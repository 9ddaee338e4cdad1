"""Upgrading a database whose events have plain SHA-256 chains: they stay verifiable as
legacy events, numbered first in the order they were written; new events are keyed."""

from __future__ import annotations

from types import SimpleNamespace

from alembic import command
from audit_support import DISPATCHER, findings, make_cases, trail_of
from sqlalchemy import select, text, update

from engine.audit import LEGACY, plain_hash
from engine.audit.sequence import EVENTS
from engine.db import make_engine
from engine.schema import alembic_config, upgrade_schema

BEFORE = "2b8e6f0a1c01"  # the revision before keyed chains
KEYED = "2b8e6f0a1c02"
OLD_COLUMNS = ("id", "case_id", "seq", "at", "actor", "actor_role", "action", "from_state")


def migrate(url: str, step, revision: str) -> None:
    """Migrate a database that holds cases past revisions that rebuild the case table on
    SQLite: its foreign-key checks are off for that, on a connection of its own."""
    db = make_engine(url)
    try:
        with db.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            with conn.begin():
                step(alembic_config(conn), revision)
    finally:
        db.dispose()


def rechain_as_before(ctx) -> None:
    """Hash every case's events as the version before keyed chains did."""
    columns = [EVENTS.c[name] for name in (*OLD_COLUMNS, "to_state", "data")]
    with ctx.db.begin() as conn:
        rows = conn.execute(select(*columns).order_by(EVENTS.c.case_id, EVENTS.c.seq)).all()
        heads: dict[int, str] = {}
        for row in rows:
            event = SimpleNamespace(**row._mapping, key_id=LEGACY, row_digest=None)
            prev = heads.get(row.case_id, "")
            heads[row.case_id] = digest = plain_hash(prev, event)
            values = {"prev_hash": prev, "hash": digest}
            conn.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(values))
        for case_id, head in heads.items():
            conn.execute(
                text('UPDATE "case" SET audit_head = :head WHERE id = :id'),
                {"head": head, "id": case_id},
            )


def test_plain_chains_are_kept_and_numbered_then_keyed_events_follow(ctx):
    ids = make_cases(ctx)
    ctx.db.dispose()
    migrate(ctx.settings.database_url, command.downgrade, BEFORE)
    rechain_as_before(ctx)
    upgrade_schema(ctx.db, KEYED)  # this revision, with every check on
    ctx.db.dispose()
    migrate(ctx.settings.database_url, command.upgrade, "head")

    events = [event for case_id in ids for event in trail_of(ctx, case_id)]
    assert {event.key_id for event in events} == {LEGACY}
    assert sorted((event.gseq, event.id) for event in events) == [
        (n, event_id) for n, event_id in enumerate(sorted(e.id for e in events), 1)
    ]
    with ctx.db.connect() as conn:
        assert conn.execute(text("SELECT last FROM audit_sequence")).scalar_one() == 9
    assert findings(ctx) == []

    ctx.cases.act(DISPATCHER, ids[1], "redispatch", {"department": "CG-01", "note": "错派"})
    (newest,) = [event for event in trail_of(ctx, ids[1]) if event.seq == 4]
    assert (newest.key_id, newest.gseq) == ("1", 10)
    assert findings(ctx) == []
