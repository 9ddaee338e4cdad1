"""The history import's rows as the driver takes them are what SQLAlchemy itself would bind:
each column through its type's bind processor, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from engine.audit import chain
from engine.cases.effects import TASKS
from engine.cases.rows import CASES, EVENTS
from engine.history import trail
from engine.history.bulk import TableRows, insert_keys, sqlite_time
from engine.history.generate import HistoryGenerator, HistoryPlan, write_history
from engine.history.landing import Shaper, _case_row
from engine.history.records import HistoryRecord
from engine.history.replay import Replayer
from engine.sla.calendars import build_calendar

DIALECTS = [sqlite.pysqlite.dialect(), postgresql.psycopg.dialect()]


def replayed(ctx, cases: int = 40):
    city = ctx.city
    plan = HistoryPlan(cases, 3, date(2026, 2, 27), seed=3, open_hours=12)
    generator = HistoryGenerator(city, build_calendar(city.settings, city.timezone, []), plan)
    out = io.StringIO()
    write_history(generator, out.write)
    replayer = Replayer(ctx.workflow, city)
    return [
        replayer.replay(n, HistoryRecord.model_validate_json(line))
        for n, line in enumerate(out.getvalue().splitlines(), 1)
    ]


def by_sqlalchemy(table, order, values, dialect) -> tuple:
    bound = []
    for name in order:
        kind = table.c[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        bound.append(values[name] if process is None else process(values[name]))
    return plain(tuple(bound))


def plain(row: tuple) -> tuple:
    """psycopg's JSON wrappers compare by identity: their objects instead."""
    return tuple(getattr(value, "obj", value) for value in row)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_rows_are_bound_as_sqlalchemy_binds_them(ctx, dialect):
    key = ctx.audit_keys.current()
    shaper = Shaper(dialect, key)
    for number, case in enumerate(replayed(ctx), 1):
        made = shaper.rows(number, case)
        row = _case_row(case.row) | {"id": number, "version": len(case.entries)}
        events = trail.chained_events(key, row, case)
        row["audit_head"] = events[-1].hash
        assert plain(made.case) == by_sqlalchemy(CASES, shaper.cases.order, row, dialect)
        data = shaper.events.order.index("data")
        for event, bound in zip(events, made.events, strict=True):
            values = event.row() | {"gseq": None}
            theirs = list(by_sqlalchemy(EVENTS, shaper.events.order, values, dialect))
            mine = list(plain(bound))
            if dialect.name == "sqlite":  # stored as its MAC covers it: the same JSON value
                assert mine[data] == trail.canonical_data(event.data)
                assert json.loads(mine[data]) == json.loads(theirs[data])
                mine[data] = theirs[data]
            assert mine == theirs
        if row["lead_department"] is None:  # the grid worker handled it on the spot
            assert made.task is None
        else:
            task = {"case_id": number, "department": row["lead_department"]}
            task |= {"lead": True, "done": False}
            assert made.task == by_sqlalchemy(TASKS, shaper.tasks.order, task, dialect)
        assert (made.open is not None) == case.is_open


def test_a_generated_column_is_never_written():
    keys = insert_keys(CASES)
    assert all(CASES.c[name].computed is None for name in keys)
    rows = TableRows(CASES, keys, sqlite.pysqlite.dialect())
    assert set(rows.order) == set(keys)


def audits_own_trail(key, row, case) -> list[chain.NewEvent]:
    """The trail as ``engine.audit`` makes it, event by event (the reference)."""
    events, head = [], ""
    for seq, entry in enumerate(case.entries, 1):
        fields = {"seq": seq, "at": entry.at, "actor": entry.actor, "action": entry.action}
        fields |= {"actor_role": entry.actor_role, "from_state": entry.from_state}
        fields |= {"to_state": entry.to_state, "data": entry.data, "prev_hash": head}
        if seq == len(case.entries):
            event = chain.new_event(key=key, case=SimpleNamespace(**row), **fields)
        else:
            event = chain.NewEvent(case_id=row["id"], key_id=key.key_id, **fields)
            event.hash = chain.event_mac(key, head, event)
        events.append(event)
        head = event.hash
    return events


def test_the_trail_is_engine_audits_byte_for_byte(ctx):
    key = ctx.audit_keys.current()
    for number, case in enumerate(replayed(ctx, 120), 1):
        row = _case_row(case.row) | {"id": number, "version": len(case.entries)}
        made = trail.chained_events(key, row, case)
        assert [e.row() for e in made] == [e.row() for e in audits_own_trail(key, row, case)]
        for event in made:
            assert trail.canonical(event) == chain.canonical(event)
    odd = chain.NewEvent(
        case_id=7, seq=2, at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), actor='王"\\x\n',
        actor_role="handler", action="note", from_state=None, to_state=None,
        data={"b": [1, 2.5, None, True], "a": {"z": "\u2028\t", "y": "ü"}}, key_id="k-1",
    )  # fmt: skip
    assert trail.canonical(odd) == chain.canonical(odd)


def test_a_utc_time_is_stored_as_sqlalchemy_stores_it():
    for at in (datetime(2026, 3, 2, 1, 15, tzinfo=UTC), datetime(2026, 3, 2, 1, 15, 0, 7, UTC)):
        assert trail.stored_time(at.isoformat()) == sqlite_time(at)
    assert trail.stored_time("2026-03-02T09:15:00+08:00") is None
