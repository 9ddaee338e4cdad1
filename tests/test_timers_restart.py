"""Timers survive a restart: schedule them, drop the whole app and its context, let time
pass, start afresh on the same database file: every due timer fires once, none twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sla_support import events, pending, sh, timers

from engine.cases.models import CaseCreate
from engine.timers.leases import claim_due
from engine.users.models import Principal, Role
from web.app import create_app
from web.sweeps import CATCH_UP_JOB

OPERATOR = Principal("op", Role.operator, "00")
DISPATCHER = Principal("disp", Role.dispatcher, "00")


def in_progress(ctx, department: str) -> int:
    report = CaseCreate(
        channel="hotline", category="06002", description="路边垃圾", grid_code="01010101"
    )
    case_id = ctx.cases.intake(OPERATOR, report).case.id
    ctx.cases.act(DISPATCHER, case_id, "dispatch", {"department": department})
    ctx.cases.act(Principal("h", Role.handler, department), case_id, "accept", {})
    return case_id


def steps(ctx, case_id: int) -> Counter:
    return Counter(
        (e.action, e.data.get("unit"))
        for e in events(ctx, case_id)
        if e.action in ("remind", "escalate")
    )


async def test_due_timers_fire_once_after_a_restart(make_ctx, clock):
    first = make_ctx()
    create_app(context=first)
    district = in_progress(first, "HW-01")  # handle due Tuesday 18:00; breach → city
    street = in_progress(first, "CG-0101")  # breach → district 01, then the city
    closed = in_progress(first, "HW-02")
    first.cases.act(Principal("h", Role.handler, "HW-02"), closed, "resolve", {"result": "已处理"})
    worker = Principal("w", Role.grid_worker, "01010101")
    first.cases.act(worker, closed, "verify", {"passed": True, "photos": ["p/a.jpg"]})
    callback = {"satisfaction": "satisfied"}  # a hotline case is called back (回访)
    first.cases.act(Principal("op", Role.operator, "00"), closed, "callback", callback)
    assert len(pending(first, district)) == 2 and len(pending(first, street)) == 2
    first.db.dispose()  # the server stops; nothing of it is kept but the database file

    clock.set(sh(2026, 3, 4, 18))  # two days later
    second = make_ctx()
    report = second.sweeper.sweep(clock.now())
    assert report.fired == 4 and report.failed == 0
    assert second.sweeper.sweep(clock.now()).claimed == 0
    assert steps(second, district) == Counter({("remind", None): 1, ("escalate", "00"): 1})
    assert steps(second, street) == Counter({("remind", None): 1, ("escalate", "01"): 1})
    # The ladder's next step is a timer too, one grace period (1wd) after the escalation.
    assert pending(second, street) == [("escalate", "handle", sh(2026, 3, 5, 18))]
    assert pending(second, district) == []  # the city already supervises it
    second.db.dispose()

    third = make_ctx()
    assert third.sweeper.sweep(clock.now()).claimed == 0
    clock.set(sh(2026, 3, 5, 18))
    assert third.sweeper.sweep(clock.now()).fired == 1
    assert third.sweeper.sweep(clock.now() + timedelta(days=30)).fired == 0
    assert steps(third, street) == Counter(
        {("remind", None): 1, ("escalate", "01"): 1, ("escalate", "00"): 1}
    )
    statuses = Counter(t.status for case in (district, street) for t in timers(third, case))
    assert statuses["pending"] == 0 and statuses["incident"] == 0
    assert {t.status for t in timers(third, closed)} == {"dropped"}


async def test_a_claim_by_a_server_that_died_is_taken_over_after_its_lease(make_ctx, clock):
    first = make_ctx()
    case_id = in_progress(first, "HW-01")
    clock.set(sh(2026, 3, 3, 15, 6))
    with first.db.begin() as conn:  # claimed, then the process dies before firing
        assert len(claim_due(conn, clock.now(), clock.now() + timedelta(minutes=5), 100)) == 1
    first.db.dispose()

    second = make_ctx()
    clock.advance(minutes=1)
    assert second.sweeper.sweep(clock.now()).claimed == 0  # still leased to the dead claimer
    clock.advance(minutes=5)
    assert second.sweeper.sweep(clock.now()).fired == 1
    assert second.sweeper.sweep(clock.now()).claimed == 0
    assert steps(second, case_id) == Counter({("remind", None): 1})


async def test_the_server_sweeps_at_start_what_came_due_while_it_was_down(make_ctx, clock):
    first = make_ctx()
    case_id = in_progress(first, "HW-01")
    first.db.dispose()
    clock.set(sh(2026, 3, 3, 16))
    second = make_ctx()
    await second.start()  # no await inside: the scheduler has not run anything yet
    try:
        jobs = {job.id: job for job in second.sweeps.scheduler.get_jobs()}
        catch_up = jobs[CATCH_UP_JOB]
        assert catch_up.func == second.sweeps.tick
        assert catch_up.func().fired == 1  # what the start-up job runs, here in the test
    finally:
        await second.stop()
    assert steps(second, case_id) == Counter({("remind", None): 1})
