"""The history import's rows as the driver takes them are what SQLAlchemy itself would bind:
each column through its type's bind processor, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from engine.cases.effects import TASKS
from engine.cases.rows import CASES, EVENTS
from engine.history.bulk import TableRows, insert_keys
from engine.history.generate import HistoryGenerator, HistoryPlan, write_history
from engine.history.landing import Shaper, _case_row, _events
from engine.history.records import HistoryRecord
from engine.history.replay import Replayer
from engine.sla.calendars import build_calendar

DIALECTS = [sqlite.pysqlite.dialect(), postgresql.psycopg.dialect()]


def replayed(ctx, cases: int = 40):
    city = ctx.city
    plan = HistoryPlan(cases, 3, date(2026, 2, 27), seed=3, open_share=0.1)
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
        events = _events(key, row, case)
        row["audit_head"] = events[-1].hash
        assert plain(made.case) == by_sqlalchemy(CASES, shaper.cases.order, row, dialect)
        for event, bound in zip(events, made.events, strict=True):
            values = event.row() | {"gseq": None}
            assert plain(bound) == by_sqlalchemy(EVENTS, shaper.events.order, values, dialect)
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
