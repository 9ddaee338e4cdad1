"""What people do in the simulated city, each step one or two calls of the real case
service: operators file and call back, dispatchers dispatch and redispatch, departments
accept, return, handle (at their desks' pace and capacity) and resolve, grid workers report,
self-handle and check on site, cameras alert."""

from __future__ import annotations

from datetime import datetime

from engine.cases.hooks import FollowUp
from engine.cases.models import Case, CaseCreate
from engine.errors import Conflict, GridflowError
from engine.review import requirements
from engine.simulation.arrivals import Arrival
from engine.simulation.workforce import after, handling_seconds
from engine.simulation.world import CAMERA, DISPATCHER, OPERATOR, SimCase, World
from engine.users.models import SYSTEM

PHOTOS = ["sim/photo-before.jpg", "sim/photo-after.jpg"]


def _delay(world: World, now: datetime, minutes: float, sim: SimCase | None = None) -> datetime:
    """An exponential delay of mean ``minutes``: working time, natural time when urgent."""
    seconds = world.rng.expovariate(1.0 / (minutes * 60))
    kind = "natural" if sim is not None and sim.urgent else "working"
    return after(now, seconds, kind, world.calendar)


def _function(department: str | None) -> str:
    return (department or "").split("-")[0]


# ---------------------------------------------------------------------- intake


def arrive(world: World, now: datetime, arrival: Arrival) -> None:
    complaint, odds, rng = arrival.complaint, world.config.odds, world.rng
    channel, grid = arrival.channel, complaint.unit
    if channel == "video" and world.open_video and rng.random() < odds.video_repeat:
        target = world.known.get(rng.choice(world.open_video))
        if target is not None and target.state not in ("closed", "voided", "merged"):
            world.act(SYSTEM, target, "alert", {"note": "同一摄像头重复告警"})
            return
    report = CaseCreate(
        channel=channel,
        external_id=f"sim-{arrival.seq}",
        category=complaint.category,
        description=complaint.text,
        grid_code=grid,
        reporter_phone="13800000000" if channel == "hotline" else None,
    )
    who, then = OPERATOR, []
    if channel == "grid":
        who = world.worker(grid)
        if rng.random() < odds.self_handle:
            done = {"result": "网格员现场已处置", "photos": PHOTOS}
            then = [FollowUp("self_handle", done, by=who)]
    elif channel == "video":
        who = CAMERA
        check = rng.random() >= odds.video_confident
        then = [FollowUp("request_verification" if check else "register", {})]
    try:
        case = world.cases.intake(who, report, then=then).case
    except GridflowError as exc:
        world.errors[f"intake: {type(exc).__name__}"] += 1
        return
    world.acts["intake"] += 1
    assert case.id is not None
    sim = SimCase(case.id, channel, complaint.department, grid, urgent=case.urgency == "urgent")
    world.learn(sim, case)
    world.known[case.id] = sim
    if channel == "video" and sim.state not in ("closed", "voided"):
        world.open_video.append(case.id)
    route(world, now, sim)


def route(world: World, now: datetime, sim: SimCase) -> None:
    """Whatever the case waits for next, scheduled."""
    pace = world.config.pace
    if sim.state == "assigned":
        world.at(_delay(world, now, pace.accept_minutes, sim), accept, sim)
    elif sim.state in ("registered", "dispatching", "returned"):
        world.at(_delay(world, now, pace.dispatch_minutes, sim), dispatch, sim)
    elif sim.state == "verifying":
        world.at(_delay(world, now, pace.video_check_minutes, sim), video_check, sim)


def video_check(world: World, now: datetime, sim: SimCase) -> None:
    if sim.state != "verifying":
        return
    real = world.rng.random() < world.config.odds.video_real
    data = {"passed": real, "photos": PHOTOS} if real else {"passed": False, "note": "误报"}
    if world.act(world.worker(sim.grid), sim, "verify_report", data) is not None:
        route(world, now, sim)


# ---------------------------------------------------------------------- dispatch


def dispatch(world: World, now: datetime, sim: SimCase) -> None:
    """A dispatcher works the case: a queued one to its department, a returned one to the
    right department (or back, when the return was wrong)."""
    rng, departments = world.rng, list(world.city.departments)
    target = sim.truth
    if rng.random() < world.config.odds.misdispatch:
        target = rng.choice(departments)
    if sim.state in ("registered", "dispatching"):
        done = world.act(DISPATCHER, sim, "dispatch", {"department": target})
    elif sim.state == "returned":
        if _function(sim.lead) == _function(sim.truth):
            done = world.act(DISPATCHER, sim, "reject_return", {"reason": "属于你单位职责"})
        else:
            done = world.act(DISPATCHER, sim, "redispatch", {"department": target})
    else:
        return
    if done is not None:
        route(world, now, sim)


# ---------------------------------------------------------------------- departments


def accept(world: World, now: datetime, sim: SimCase) -> None:
    if sim.state != "assigned" or sim.lead is None:
        return
    odds, lead = world.config.odds, sim.lead
    wrong = _function(lead) != _function(sim.truth)
    if world.rng.random() < (odds.return_misrouted if wrong else odds.return_anyway):
        if world.act(world.handler(lead), sim, "return", {"reason": "非本单位职责"}):
            route(world, now, sim)
        return
    if world.act(world.handler(lead), sim, "accept", {}) is not None:
        queue(world, now, sim)


def queue(world: World, now: datetime, sim: SimCase) -> None:
    """The case waits at its department's desk for a free handler."""
    desk = world.desks.get(sim.lead or "")
    if desk is None:
        return
    desk.waiting.append(sim.id)
    desk.peak_waiting = max(desk.peak_waiting, len(desk.waiting))
    start_work(world, now, desk.code)


def start_work(world: World, now: datetime, code: str) -> None:
    desk, pace = world.desks[code], world.config.pace
    while desk.free() and desk.waiting:
        sim = world.known[desk.waiting.popleft()]
        if sim.state != "in_progress" or sim.lead != code:
            continue
        desk.busy += 1
        if world.rng.random() < world.config.odds.suspend:
            _suspend(world, now, sim)
            continue
        limit = sim.handle
        if limit is None:
            continue
        seconds = handling_seconds(limit, world.rng, pace.handle_share, pace.handle_sigma)
        done = after(now, seconds * desk.speed, limit.kind, world.calendar)
        world.at(done, resolve, sim, sim.round)


def _suspend(world: World, now: datetime, sim: SimCase) -> None:
    desk = world.desks[sim.lead or ""]
    desk.busy -= 1
    ask = {"reason": "需协调产权单位"}
    if world.act(world.handler(sim.lead or ""), sim, "request_suspension", ask) is None:
        return
    if world.act(DISPATCHER, sim, "suspend", {"reason": "同意挂起，等待产权单位"}) is None:
        return
    days = world.rng.uniform(1.0, 3.0)
    world.at(after(now, days * 7.5 * 3600, "working", world.calendar), resume, sim)


def resume(world: World, now: datetime, sim: SimCase) -> None:
    if sim.state == "suspended" and world.act(world.handler(sim.lead or ""), sim, "resume", {}):
        queue(world, now, sim)


def resolve(world: World, now: datetime, sim: SimCase, round_: int) -> None:
    desk = world.desks.get(sim.lead or "")
    if desk is not None:
        desk.busy = max(0, desk.busy - 1)
    if sim.state == "in_progress" and sim.round == round_:
        case = _resolve(world, sim)
        if case is not None and sim.state == "resolved":
            needed = requirements(case, world.city)
            pace = world.config.pace
            if needed.verify:
                world.at(_delay(world, now, pace.verify_minutes, sim), verify, sim, sim.round)
            if needed.callback:
                world.at(_delay(world, now, pace.callback_minutes, sim), callback, sim, sim.round)
    if desk is not None:
        start_work(world, now, desk.code)


def _resolve(world: World, sim: SimCase) -> Case | None:
    """The lead resolves; co-handlers (协办) a rule or a summons added report their part
    first when the service says they have not."""
    lead = world.handler(sim.lead or "")
    case = world.act(lead, sim, "resolve", {"result": "已处置完毕"}, expect=(Conflict,))
    error = world.last_error
    if case is None and isinstance(error, Conflict) and isinstance(error.details, dict):
        for department in error.details.get("pending_co_handlers", []):
            world.act(world.handler(department), sim, "co_report", {"result": "协办部分已完成"})
        case = world.act(lead, sim, "resolve", {"result": "已处置完毕"})
    elif case is None and error is not None:
        world.errors[f"resolve: {type(error).__name__}"] += 1
    return case


# ---------------------------------------------------------------------- review


def verify(world: World, now: datetime, sim: SimCase, round_: int) -> None:
    if sim.state != "resolved" or sim.round != round_:
        return
    passed = world.rng.random() >= world.config.odds.verify_fail
    data = {"passed": True, "photos": PHOTOS} if passed else {"passed": False, "note": "仍未解决"}
    if world.act(world.worker(sim.grid), sim, "verify", data) and sim.state == "in_progress":
        queue(world, now, sim)  # rework


def callback(world: World, now: datetime, sim: SimCase, round_: int) -> None:
    if sim.state != "resolved" or sim.round != round_:
        return
    odds, roll = world.config.odds, world.rng.random()
    if roll < odds.satisfied:
        data = {"satisfaction": "satisfied", "resolved_state": "solved"}
    elif roll < odds.satisfied + odds.basic:
        data = {"satisfaction": "basic", "resolved_state": "partly"}
    else:
        data = {"satisfaction": "unsatisfied", "resolved_state": "unsolved"}
        if world.rng.random() < odds.fault_other:
            data["fault"] = "other"
    if world.act(OPERATOR, sim, "callback", data) and sim.state == "in_progress":
        queue(world, now, sim)  # rework
