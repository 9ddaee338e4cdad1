"""The case write path's row buffer: a transaction's rows go out together, yet every query in
the transaction sees them, and nothing of a failed transaction is written."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event, func, select

from engine import rowbuffer
from engine.cases import rows
from engine.cases.models import CaseCreate, CaseEvent
from engine.db import new_session
from engine.errors import InvalidInput
from engine.timers.models import Timer, TimerStatus
from engine.users.models import Principal, Role
from tests.dispatch_support import activate

OPERATOR = Principal(name="op", role=Role.operator, scope="00")
DISPATCHER = Principal(name="d", role=Role.dispatcher, scope="00")
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
TIMERS = Timer.__table__  # type: ignore[attr-defined]


def report(ctx, description: str = "路灯不亮"):
    data = CaseCreate(channel="hotline", description=description, grid_code="01010101")
    return ctx.cases.intake(OPERATOR, data).case


GAS_LEAK = "小区门口燃气管道泄漏，气味很大"


def statements(ctx):
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        words = statement.split()
        table = {"INSERT": words[2], "UPDATE": words[1]}.get(words[0], "")
        seen.append(f"{words[0]} {table.strip(chr(34))}")

    event.listen(ctx.db, "before_cursor_execute", record)
    return seen, lambda: event.remove(ctx.db, "before_cursor_execute", record)


class Rollback(Exception):
    pass


def test_a_query_in_the_transaction_sees_the_waiting_rows(ctx):
    case = report(ctx)
    count = select(func.count()).select_from(EVENTS).where(EVENTS.c.case_id == case.id)
    with pytest.raises(Rollback), ctx.cases.transaction() as session:
        row = {"case_id": case.id, "seq": 99, "at": ctx.clock.now(), "actor": "t"}
        row |= {"actor_role": "system", "action": "note", "from_state": None, "to_state": None}
        rowbuffer.add(session, EVENTS, row | {"data": {}, "prev_hash": "", "hash": "x"})
        assert session.execute(count).scalar() == 3  # report, register and the waiting one
        raise Rollback
    with new_session(ctx.db) as session:
        assert session.execute(count).scalar() == 2  # rolled back: never kept


def test_a_transaction_of_several_steps_writes_each_table_once(ctx):
    """A hotline report is reported, registered and dispatched by the rules in one
    transaction: one INSERT per table and one UPDATE of the case, not a statement per row."""
    activate(ctx)  # the demo table: a gas leak goes to the gas company at once
    seen, stop = statements(ctx)
    try:
        case = report(ctx, GAS_LEAK)
    finally:
        stop()
    assert case.state == "assigned"
    counts = Counter(seen)
    assert counts["UPDATE case"] == 1
    assert counts["INSERT case_event"] == 1
    assert all(n == 1 for key, n in counts.items() if key.startswith("INSERT")), counts
    with new_session(ctx.db) as session:
        written = select(func.count()).select_from(EVENTS).where(EVENTS.c.case_id == case.id)
        assert session.execute(written).scalar() == 3  # report, register, dispatch


def test_timers_dropped_in_their_own_transaction_are_never_written(ctx):
    """The dispatch stage starts at register and ends at the rules' dispatch, in the same
    transaction: its timers never reach the table; the accept stage's are pending."""
    activate(ctx)  # the demo table: a gas leak goes to the gas company at once
    case = report(ctx, GAS_LEAK)
    with new_session(ctx.db) as session:
        query = select(TIMERS.c.stage, TIMERS.c.status).where(TIMERS.c.case_id == case.id)
        found = session.execute(query).all()
    assert found, "the running stage has its timers"
    assert {status for _, status in found} == {TimerStatus.pending}
    assert len({stage for stage, _ in found}) == 1


def test_a_batch_keeps_each_case_s_timers_when_another_case_drops_its_own(ctx):
    """In one batch transaction every case starts and drops dispatch-stage timers: each
    case's drop takes only its own waiting rows, and what stays is written in arrival order."""
    activate(ctx)
    tickets = [CaseCreate(channel="hotline", description=GAS_LEAK, grid_code="01010101")] * 3
    cases = [result.case for result in ctx.cases.intake_batch(OPERATOR, tickets)]
    with new_session(ctx.db) as session:
        query = select(TIMERS.c.case_id, TIMERS.c.stage, TIMERS.c.status).order_by(TIMERS.c.id)
        found = session.execute(query.where(TIMERS.c.case_id.in_([c.id for c in cases]))).all()
    assert [case_id for case_id, _, _ in found] == sorted(case_id for case_id, _, _ in found)
    assert {case_id for case_id, _, _ in found} == {c.id for c in cases}
    assert {(stage, status) for _, stage, status in found} == {("accept", TimerStatus.pending)}


def test_discard_takes_only_the_picked_rows_of_that_case(ctx):
    case = report(ctx)
    with pytest.raises(Rollback), ctx.cases.transaction() as session:
        now = ctx.clock.now()
        for case_id, kind in ((case.id, "yellow"), (case.id + 1, "yellow"), (case.id, "red")):
            row = {"case_id": case_id, "stage": "t", "kind": kind, "due_at": now}
            rowbuffer.add(session, TIMERS, row)
        rowbuffer.discard(session, TIMERS, case.id, lambda row: row["kind"] == "yellow")
        waiting = rowbuffer.buffer(session).inserts[TIMERS].rows.values()
        assert [(row["case_id"], row["kind"]) for row in waiting] == [
            (case.id + 1, "yellow"),
            (case.id, "red"),
        ]
        assert [row["kind"] for row in rowbuffer.waiting(session, TIMERS, case.id)] == ["red"]
        assert rowbuffer.waiting(session, EVENTS, case.id + 1) == []
        raise Rollback


def test_a_failed_action_writes_nothing_it_buffered(ctx):
    case = report(ctx)
    before = _counts(ctx, case.id)
    with pytest.raises(InvalidInput):
        ctx.cases.act(DISPATCHER, case.id, "dispatch", {"department": "NO-SUCH"})
    assert _counts(ctx, case.id) == before


def _counts(ctx, case_id: int) -> tuple[int, int]:
    with new_session(ctx.db) as session:
        events = session.execute(
            select(func.count()).select_from(EVENTS).where(EVENTS.c.case_id == case_id)
        ).scalar()
        timers = session.execute(
            select(func.count()).select_from(TIMERS).where(TIMERS.c.case_id == case_id)
        ).scalar()
    return events, timers


def test_the_case_update_sets_only_the_columns_that_changed(ctx):
    case = report(ctx)
    sets: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        if statement.startswith('UPDATE "case"'):
            sets.append(statement.split(" SET ")[1].split(" WHERE ")[0])

    event.listen(ctx.db, "before_cursor_execute", record)
    try:
        ctx.cases.act(OPERATOR, case.id, "note", {"note": "来电补充：晚上八点后不亮"})
        department = next(iter(ctx.city.departments))
        ctx.cases.act(DISPATCHER, case.id, "dispatch", {"department": department})
    finally:
        event.remove(ctx.db, "before_cursor_execute", record)
    note, dispatch = (set(part.split("=")[0] for part in clause.split(", ")) for clause in sets)
    assert note == {"version", "audit_head", "updated_at"}  # a note changes no case field
    assert {"state", "lead_department"} <= dispatch
    assert "category" not in dispatch


def test_a_field_changed_back_after_a_write_is_written_again(ctx):
    """The UPDATE compares with the row as last written in the transaction, not as read."""
    case = report(ctx)
    with ctx.cases.transaction() as session:
        loaded = rows.load_case(session, case.id)
        rows.keep_case(session, loaded)
        loaded.card, loaded.version = "yellow", loaded.version + 1
        rowbuffer.flush(session)  # written: card yellow
        rows.keep_case(session, loaded)
        loaded.card, loaded.version = None, loaded.version + 1
    with new_session(ctx.db) as session:
        again = rows.load_case(session, case.id)
    assert again.card is None and again.version == case.version + 2
