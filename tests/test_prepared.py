"""Prepared statements (engine.prepared) on the suite's backend: values go through the
columns' bind and result processors (aware UTC times, JSON), constants written into the
statement are bound, a versioned UPDATE counts its rows, errors are reported as Core reports
them, names the SQL escapes are bound, expanding IN lists and computed defaults are refused,
statement listeners hear each statement, and the writes belong to the connection's
transaction. Each test runs on the fast path and through plain ``Connection.execute``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    bindparam,
    event,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, StatementError

from engine import prepared
from engine.cases.models import Case, CaseEvent, Channel, Urgency
from engine.db import new_session
from engine.prepared import Prepared

CASES = Case.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
UNIT = "T-PREPARED"  # an owning unit no demo-city row uses
AT = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 01:30 UTC

INSERT_CASE = Prepared(
    insert(CASES).returning(CASES.c.id),
    keys=[c.name for c in CASES.columns if c.name != "id" and c.computed is None],
)
VERSIONED = Prepared(
    update(CASES)
    .where(CASES.c.id == bindparam("id_"), CASES.c.version == bindparam("seen"))
    .values(version=bindparam("new_version"), state=bindparam("new_state"))
)
STATE_OF = Prepared(
    select(CASES.c.state, CASES.c.version).where(CASES.c.id == bindparam("case_id"))
)


def add_case(connection, **given) -> int:
    """Insert a complete case row through a Prepared INSERT … RETURNING; its id."""
    row = {c.name: None for c in CASES.columns if c.name != "id" and c.computed is None}
    row |= {"channel": Channel.hotline, "description": "路灯不亮", "urgency": Urgency.normal}
    row |= {"state": "new", "owning_unit": UNIT, "rework_count": 0, "sla_limits": {}}
    row |= {"alert_count": 0, "version": 1, "audit_head": "", "created_at": AT, "updated_at": AT}
    return INSERT_CASE.first(connection, row | given)["id"]  # type: ignore[index]


def event_row(case_id: int, seq: int, **given) -> dict:
    row = {"case_id": case_id, "seq": seq, "at": AT, "actor": "t", "actor_role": "system"}
    row |= {"action": "note", "from_state": None, "to_state": None, "data": {}}
    return row | {"prev_hash": "", "hash": f"h{seq}"} | given


@pytest.fixture(autouse=True, params=["fast path", "Connection.execute"])
def path(request, monkeypatch):
    """Every test on the driver's cursor and again through plain ``Connection.execute``
    (GRIDFLOW_FAST_PATH=0): the same results and the same refusals."""
    monkeypatch.setattr(prepared, "fast_path", lambda: request.param == "fast path")


@pytest.fixture
def session(ctx):
    with new_session(ctx.db) as session:
        yield session


def test_aware_times_and_json_round_trip(session):
    conn = session.connection()
    case_id = add_case(conn, sla_limits={"handle": "4h", "说明": "夜间"})
    found = Prepared(
        select(CASES.c.created_at, CASES.c.sla_limits).where(CASES.c.id == bindparam("id"))
    ).first(conn, {"id": case_id})
    assert found == {"created_at": AT, "sla_limits": {"handle": "4h", "说明": "夜间"}}
    assert found["created_at"].tzinfo is UTC and found["created_at"].hour == 1
    raw = session.execute(text('SELECT created_at FROM "case" WHERE id = :id'), {"id": case_id})
    assert str(raw.scalar()).startswith("2026-03-02 01:30:00")  # stored as naive UTC

    west = datetime(2026, 3, 1, 20, 0, tzinfo=timezone(timedelta(hours=-5)))  # 01:00 UTC
    data = {"note": "来电补充", "photos": [1, 2], "nested": {"ok": True}}
    rows = [event_row(case_id, 1, at=west, data=data), event_row(case_id, 2)]
    Prepared(insert(EVENTS), keys=list(rows[0])).many(conn, rows)
    read = Prepared(
        select(EVENTS.c.seq, EVENTS.c.at, EVENTS.c.data)
        .where(EVENTS.c.case_id == bindparam("case_id"))
        .order_by(EVENTS.c.seq)
    ).all(conn, {"case_id": case_id})
    assert read == [{"seq": 1, "at": west, "data": data}, {"seq": 2, "at": AT, "data": {}}]
    assert read[0]["at"].tzinfo is UTC and read[0]["at"].hour == 1


def test_no_row_is_none_for_first_and_empty_for_all(session):
    conn = session.connection()
    by_state = Prepared(select(CASES.c.id).where(CASES.c.state == bindparam("state")))
    assert by_state.first(conn, {"state": "no-such-state"}) is None
    assert by_state.all(conn, {"state": "no-such-state"}) == []
    case_id = add_case(conn, state="odd-state")
    assert by_state.first(conn, {"state": "odd-state"}) == {"id": case_id}
    assert by_state.all(conn, {"state": "odd-state"}) == [{"id": case_id}]


def test_a_versioned_update_counts_the_rows_it_changed(session):
    conn = session.connection()
    case_id = add_case(conn)
    params = {"id_": case_id, "seen": 1, "new_version": 2, "new_state": "registered"}
    assert VERSIONED.rowcount(conn, params) == 1
    assert VERSIONED.rowcount(conn, params | {"new_state": "stale"}) == 0  # version is 2 now
    assert VERSIONED.rowcount(conn, params | {"id_": case_id + 1000, "seen": 2}) == 0
    assert STATE_OF.first(conn, {"case_id": case_id}) == {"state": "registered", "version": 2}


def test_constants_written_in_the_statement_are_bound(session):
    conn = session.connection()
    made = [("hotline", "new"), ("grid", "new"), ("video", "new"), ("hotline", "closed")]
    ids = [add_case(conn, channel=channel, state=state) for channel, state in made]
    flag = Prepared(
        update(CASES)
        .where(
            CASES.c.state == "new",
            CASES.c.channel.in_([literal("hotline"), literal("grid")]),
            CASES.c.owning_unit == bindparam("unit"),
        )
        .values(card="yellow")
    )
    assert flag.rowcount(conn, {"unit": "NO-SUCH-UNIT"}) == 0
    assert flag.rowcount(conn, {"unit": UNIT}) == 2
    query = select(CASES.c.id, CASES.c.card).where(CASES.c.id.in_(ids))
    cards = {case_id: card for case_id, card in session.execute(query).all()}
    assert [cards[case_id] for case_id in ids] == ["yellow", "yellow", None, None]


def test_a_unique_violation_is_an_integrity_error(session):
    conn = session.connection()
    add_case(conn, channel="hotline", external_id="H-1")
    add_case(conn, channel="grid", external_id="H-1")  # another channel: no conflict
    with pytest.raises(IntegrityError) as caught:
        add_case(conn, channel="hotline", external_id="H-1")
    assert isinstance(caught.value.orig, conn.dialect.loaded_dbapi.IntegrityError)
    message = str(caught.value.orig)
    assert "uq_case_channel_external_id" in message or "case.external_id" in message
    assert caught.value.statement.startswith('INSERT INTO "case"')


@pytest.mark.parametrize(
    "where",
    [CASES.c.id.in_(bindparam("ids", expanding=True)), CASES.c.id.in_([1, 2])],
    ids=["bindparam", "list"],
)
def test_an_expanding_in_is_refused(session, where):
    with pytest.raises(ValueError, match="expanding"):
        Prepared(select(CASES.c.id).where(where)).all(session.connection(), {"ids": [1, 2]})


def test_statement_listeners_hear_each_statement(ctx, session):
    heard: list[tuple] = []

    def before(conn, cursor, statement, params, context, executemany):
        heard.append(("before", statement, params, executemany))

    def after(conn, cursor, statement, params, context, executemany):
        heard.append(("after", statement, params, executemany))

    conn = session.connection()
    case_id = add_case(conn)
    event.listen(ctx.db, "before_cursor_execute", before)
    event.listen(ctx.db, "after_cursor_execute", after)
    try:
        params = {"id_": case_id, "seen": 1, "new_version": 2, "new_state": "registered"}
        assert VERSIONED.rowcount(conn, params) == 1
        rows = [event_row(case_id, 1), event_row(case_id, 2)]
        Prepared(insert(EVENTS), keys=list(rows[0])).many(conn, rows)
    finally:
        event.remove(ctx.db, "before_cursor_execute", before)
        event.remove(ctx.db, "after_cursor_execute", after)
    order = [(when, many) for when, _, _, many in heard]
    assert order == [("before", False), ("after", False), ("before", True), ("after", True)]
    statement, params = heard[0][1], heard[0][2]
    assert statement.startswith('UPDATE "case" SET') and "WHERE" in statement
    assert case_id in (params.values() if isinstance(params, dict) else params)
    assert heard[2][1].startswith("INSERT INTO case_event") and len(heard[2][2]) == 2


def test_it_writes_in_the_connection_transaction(ctx):
    with new_session(ctx.db) as session:
        case_id = add_case(session.connection(), external_id="RB-1")
        assert session.get(Case, case_id) is not None  # the transaction sees its own row
        session.rollback()
        assert session.get(Case, case_id) is None
        kept = add_case(session.connection(), external_id="RB-2")
        session.commit()
    with new_session(ctx.db) as other:
        found = other.execute(select(CASES.c.id).where(CASES.c.owning_unit == UNIT)).all()
    assert found == [(kept,)]


def test_an_insert_must_name_every_column_with_a_default(session):
    """Core would fill CaseEvent.data's default ({}) for a row without it; a prepared INSERT
    would bind NULL instead, so it refuses to be built without that column."""
    conn = session.connection()
    row = event_row(add_case(conn), 1)
    del row["data"]
    with pytest.raises(ValueError, match="needs a value for data"):
        Prepared(insert(EVENTS), keys=list(row)).rowcount(conn, row)


def test_a_write_on_a_connection_without_a_transaction_is_committed(ctx):
    """As connection.execute would, a prepared write begins a transaction that commit() keeps
    (else the pool's reset on return would roll the driver's implicit one back)."""
    with ctx.db.connect() as conn:
        case_id = add_case(conn, external_id="AB-1")
        conn.commit()
    with ctx.db.connect() as conn:
        assert STATE_OF.first(conn, {"case_id": case_id}) is not None


def test_a_value_its_converter_refuses_is_a_statement_error(session):
    """A naive datetime is refused by the UTC column's converter: reported as Core would,
    naming the statement, and the session can still roll back."""
    conn = session.connection()
    case_id = add_case(conn)
    naive = AT.replace(tzinfo=None)
    with pytest.raises(StatementError, match="naive datetime"):
        Prepared(insert(EVENTS), keys=list(event_row(case_id, 1))).many(
            conn, [event_row(case_id, 1, at=naive)]
        )
    session.rollback()
    assert STATE_OF.first(session.connection(), {"case_id": case_id}) is None


def test_a_parameter_name_the_sql_must_escape_is_bound(session):
    found = Prepared(select(bindparam("n(1)", type_=Integer).label("v"))).first(
        session.connection(), {"n(1)": 7}
    )
    assert found == {"v": 7}


def test_an_update_of_a_column_with_onupdate_is_refused(ctx):
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    table.append_column(Column("n", Integer, onupdate=lambda: 1))
    statement = update(table).where(table.c.id == bindparam("i")).values(id=bindparam("j"))
    with ctx.db.connect() as conn, pytest.raises(ValueError, match="onupdate of n"):
        Prepared(statement).rowcount(conn, {"i": 1, "j": 2})
