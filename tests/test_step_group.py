"""Step groups (engine/cases/group.py): many case steps in one transaction, each step still
all or nothing under its own savepoint; the simulator's runs are the same with or without."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest
from conftest import DEMO_CITY
from sqlalchemy import func, select

from engine import rowbuffer
from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Case, CaseCreate, CaseEvent
from engine.db import new_session
from engine.errors import ActionNotAllowed
from engine.simulation import SimulationConfig
from engine.users.models import Principal, Role
from web.cli.simulate import simulate_once

OPERATOR = Principal(name="op", role=Role.operator, scope="00")
DISPATCHER = Principal(name="d", role=Role.dispatcher, scope="00")


def report(ctx, external_id: str) -> Case:
    data = CaseCreate(
        channel="hotline", external_id=external_id, description="路灯不亮", grid_code="01010101"
    )
    return ctx.cases.intake(OPERATOR, data).case


def committed(ctx, *external_ids: str) -> int:
    """Cases with these ids that another connection sees (the committed ones)."""
    query = select(func.count()).where(Case.external_id.in_(external_ids))  # type: ignore[union-attr]
    with new_session(ctx.db) as session:
        return session.execute(query).scalar_one()


def events_of(ctx, case_id: int) -> list[str]:
    query = select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    with new_session(ctx.db) as session:
        return list(session.execute(query).scalars())


class Boom(Exception):
    pass


def test_the_steps_of_a_group_commit_together(ctx):
    with ctx.cases.grouped(10) as group:
        for n in range(3):
            report(ctx, f"g-{n}")
        assert committed(ctx, "g-0", "g-1", "g-2") == 0
        group.commit()
        assert committed(ctx, "g-0", "g-1", "g-2") == 3
        report(ctx, "g-3")
        assert committed(ctx, "g-3") == 0
    assert committed(ctx, "g-3") == 1  # leaving the group commits the rest


def test_a_group_commits_every_size_steps(ctx):
    with ctx.cases.grouped(2):
        report(ctx, "s-0")
        assert committed(ctx, "s-0") == 0
        report(ctx, "s-1")
        assert committed(ctx, "s-0", "s-1") == 2
        report(ctx, "s-2")
        assert committed(ctx, "s-2") == 0


def test_a_refused_step_leaves_nothing_and_the_group_goes_on(ctx):
    with ctx.cases.grouped(10):
        case = report(ctx, "r-0")
        assert case.state == "registered"
        with pytest.raises(ActionNotAllowed):
            ctx.cases.act(OPERATOR, case.id, "accept", {})
        department = next(iter(ctx.city.departments))
        done = ctx.cases.act(DISPATCHER, case.id, "dispatch", {"department": department})
    assert done.state == "assigned"
    assert events_of(ctx, case.id) == ["report", "register", "dispatch"]


class FailAfterWriting:
    """A hook that writes the step's rows, then fails: the savepoint must take them back."""

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        if change.event.action == "note":
            rowbuffer.flush(change.session)  # the case UPDATE and the event reach the database
            raise Boom
        return ()


def test_a_step_failing_after_its_writes_rolls_back_to_its_savepoint(ctx):
    ctx.cases.hooks.append(FailAfterWriting())
    with ctx.cases.grouped(10):
        case = report(ctx, "f-0")
        with pytest.raises(Boom):
            ctx.cases.act(OPERATOR, case.id, "note", {"note": "补充说明"})
        # The version check of the next step passes only if the row was rolled back.
        department = next(iter(ctx.city.departments))
        done = ctx.cases.act(DISPATCHER, case.id, "dispatch", {"department": department})
    assert done.version == case.version + 1
    assert events_of(ctx, case.id) == ["report", "register", "dispatch"]


def test_a_repeated_report_in_a_group_returns_the_first(ctx):
    with ctx.cases.grouped(10):
        first = report(ctx, "d-0")
        again = ctx.cases.intake(OPERATOR, CaseCreate(
            channel="hotline", external_id="d-0", description="再报", grid_code="01010101"
        ))  # fmt: skip
    assert again.created is False and again.case.id == first.id
    assert committed(ctx, "d-0") == 1


def test_a_paused_group_lets_steps_commit_on_their_own(ctx):
    with ctx.cases.grouped(10) as group:
        report(ctx, "p-0")
        with group.paused():
            assert committed(ctx, "p-0") == 1  # pausing commits what the group holds
            report(ctx, "p-1")
            assert committed(ctx, "p-1") == 1  # a transaction of its own
        report(ctx, "p-2")
        assert committed(ctx, "p-2") == 0


def test_an_error_out_of_the_group_rolls_back_its_open_steps(ctx):
    with pytest.raises(Boom), ctx.cases.grouped(10):
        report(ctx, "e-0")
        raise Boom
    assert committed(ctx, "e-0") == 0
    report(ctx, "e-1")  # and the service works on without a group
    assert committed(ctx, "e-1") == 1


def test_groups_do_not_nest(ctx):
    with ctx.cases.grouped(10), pytest.raises(RuntimeError), ctx.cases.grouped(10):
        pass


def test_a_simulation_is_the_same_with_and_without_grouping(tmp_path):
    """Grouping changes how often the simulator commits, never what happens in the city."""
    config = SimulationConfig(days=2, events_per_day=120, seed=5)
    outcomes = []
    for size in (1, 64):
        url = f"sqlite:///{tmp_path / f'group-{size}.db'}"
        report_ = simulate_once(
            dataclasses.replace(config, steps_per_commit=size), DEMO_CITY, url, None, "t", None
        )
        stats, timing = report_.stats, {"wall_seconds", "cpu_seconds"}
        run = {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}
        run = {name: value for name, value in run.items() if name not in timing}
        outcomes.append((run, report_.kpis, report_.states, report_.breaches, report_.events))
    assert outcomes[0][1:] == outcomes[1][1:]
    assert outcomes[0][0] == outcomes[1][0]
    assert outcomes[0][0]["acts"]["intake"] > 0 and outcomes[0][0]["timers_fired"] > 0
