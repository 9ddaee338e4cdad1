"""Review (核查 / 回访): what each case needs before it closes, and every path through it."""

from __future__ import annotations

from datetime import timedelta

from conftest import START
from sqlmodel import select

from engine.cases.models import Case, CaseCreate
from engine.city.directory import CityDirectory
from engine.city.models import CityConfig
from engine.db import new_session
from engine.review import ReviewSettings, requirements
from engine.review.models import ReviewCheck
from engine.review.requirements import sampled
from engine.sla.models import SlaClock

DEPT = "HW-01"
GRID = "01010101"
PHOTO = ["p/after.jpg"]
GRID_ONLY = "06002"  # 暴露垃圾: verification = grid
BOTH = "12001"  # 噪声扰民: verification = both
CALLBACK_ONLY = "12002"  # 消费投诉: verification = callback
NONE = "12008"  # 意见建议: verification = none


async def resolved(api, **fields) -> int:
    case = await api.file(**fields)
    steps = [
        ("dispatch", "dispatcher", "00", {"department": DEPT}),
        ("accept", "handler", DEPT, {}),
        ("resolve", "handler", DEPT, {"result": "已处理"}),
    ]
    for action, role, scope, data in steps:
        response = await api.act(case["id"], action, role, scope, **data)
        assert response.status_code == 200, response.text
    return case["id"]


async def verify(api, case_id: int, passed: bool = True, **data):
    response = await api.act(case_id, "verify", "grid_worker", GRID, passed=passed, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def callback(api, case_id: int, satisfaction: str = "satisfied", **data):
    response = await api.act(case_id, "callback", "operator", satisfaction=satisfaction, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def trail(api, case_id: int) -> list[tuple[str, str, str, str]]:
    response = await api.client.get(f"/api/v1/cases/{case_id}/events", headers=api.auth("admin"))
    return [(e["action"], e["from_state"], e["to_state"], e["actor"]) for e in response.json()]


async def review(api, case_id: int) -> dict:
    response = await api.client.get(f"/api/v1/cases/{case_id}/review", headers=api.auth("admin"))
    assert response.status_code == 200, response.text
    return response.json()


def set_review_settings(ctx, **review) -> None:
    with new_session(ctx.db) as session, session.begin():
        config = session.get(CityConfig, 1)
        config.settings = {**config.settings, "review": review}
        session.add(config)
    ctx.reload_city()


# ---------------------------------------------------------------- requirements


def needs(ctx, **fields) -> tuple[str, ...]:
    report = {"channel": "hotline", "description": "x", "category": GRID_ONLY} | fields
    now = {"created_at": START, "updated_at": START}
    case = Case.model_validate(report | now | {"state": "resolved", "owning_unit": GRID, "id": 1})
    return requirements(case, ctx.city).kinds


def test_requirements_follow_category_and_channel(ctx):
    assert needs(ctx, channel="web") == ("verify",)
    assert needs(ctx) == ("verify", "callback")  # a hotline case is always called back
    assert needs(ctx, channel="web", category=BOTH, reporter_phone="13800000000") == (
        "verify",
        "callback",
    )
    assert needs(ctx, category=CALLBACK_ONLY) == ("callback",)
    assert needs(ctx, channel="web", category=NONE) == ()
    assert needs(ctx, category=NONE) == ("callback",)
    # Nobody to call back about a grid worker's report: the callback becomes a site check.
    assert needs(ctx, channel="grid", category=CALLBACK_ONLY) == ("verify",)
    assert needs(ctx, channel="grid", category=BOTH) == ("verify",)


def test_callback_channels_are_configurable(ctx):
    set_review_settings(ctx, callback_channels=["hotline", "open311"])
    assert needs(ctx, channel="open311") == ("verify", "callback")
    assert needs(ctx, channel="web") == ("verify",)


# ---------------------------------------------------------------- closing


async def test_grid_check_with_photo_closes_a_web_case(api):
    case_id = await resolved(api, channel="web", category=GRID_ONLY)
    case = await verify(api, case_id, photos=PHOTO)
    assert case["state"] == "closed" and case["closed_at"] is not None
    assert [step[:3] for step in (await trail(api, case_id))[-2:]] == [
        ("verify", "resolved", "resolved"),
        ("close", "resolved", "closed"),
    ]
    assert (await trail(api, case_id))[-1][3] == "system"


async def test_a_passing_check_needs_a_photo(api):
    case_id = await resolved(api, channel="web", category=GRID_ONLY)
    response = await api.act(case_id, "verify", "grid_worker", GRID, passed=True)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "photos"
    status = await review(api, case_id)
    assert status["state"] == "resolved" and status["checks"] == []
    assert status["missing"] == ["verify"] and status["photos_required"] is True


async def test_photos_can_be_made_optional(api, ctx):
    set_review_settings(ctx, verify_photos=False)
    case_id = await resolved(api, channel="web", category=GRID_ONLY)
    assert (await verify(api, case_id))["state"] == "closed"


async def test_hotline_case_needs_both_checks_in_any_order(api):
    first = await resolved(api, category=GRID_ONLY)
    assert (await verify(api, first, photos=PHOTO))["state"] == "resolved"
    status = await review(api, first)
    assert status["required"] == ["verify", "callback"]
    assert status["settled"] == ["verify"] and status["missing"] == ["callback"]
    closed = await callback(api, first, "basic", resolved_state="solved")
    assert closed["state"] == "closed"

    second = await resolved(api, category=GRID_ONLY)
    assert (await callback(api, second))["state"] == "resolved"
    assert (await review(api, second))["missing"] == ["verify"]
    assert (await verify(api, second, photos=PHOTO))["state"] == "closed"
    assert (await trail(api, second))[-1] == ("close", "resolved", "closed", "system")


async def test_callback_only_category_closes_on_the_callback(api):
    case_id = await resolved(api, category=CALLBACK_ONLY)
    assert (await review(api, case_id))["required"] == ["callback"]
    assert (await callback(api, case_id, "satisfied"))["state"] == "closed"


async def test_both_needs_verify_and_callback_from_any_channel_with_a_caller(api):
    case_id = await resolved(api, channel="web", category=BOTH, reporter_phone="13800000001")
    assert (await callback(api, case_id))["state"] == "resolved"
    assert (await verify(api, case_id, photos=PHOTO))["state"] == "closed"


async def test_no_check_needed_closes_on_the_result(api):
    case_id = await resolved(api, channel="web", category=NONE)
    case = (await api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("admin"))).json()
    assert case["state"] == "closed"
    assert [step[:3] for step in (await trail(api, case_id))[-2:]] == [
        ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"),
    ]


# ---------------------------------------------------------------- rework


async def test_failed_check_reworks_and_starts_a_new_round(api, ctx):
    case_id = await resolved(api, category=GRID_ONLY)
    await callback(api, case_id, "satisfied")  # round 0: the callback settles …
    failed = await verify(api, case_id, passed=False, note="垃圾未清完")
    assert (failed["state"], failed["rework_count"]) == ("in_progress", 1)
    with new_session(ctx.db) as session:
        runs = session.exec(select(SlaClock).where(SlaClock.case_id == case_id)).all()
    assert sorted(c.generation for c in runs if c.stage == "handle") == [1, 2]

    await api.act(case_id, "resolve", "handler", DEPT, result="已全部清运")
    # … but a rework starts a new round: both checks are needed again.
    status = await review(api, case_id)
    assert (status["round"], status["settled"], status["missing"]) == (
        1,
        [],
        ["verify", "callback"],
    )
    assert (await verify(api, case_id, photos=PHOTO))["state"] == "resolved"
    assert (await callback(api, case_id))["state"] == "closed"
    checks = (await review(api, case_id))["checks"]
    assert [(c["kind"], c["round"], c["passed"]) for c in checks] == [
        ("callback", 0, True),
        ("verify", 0, False),
        ("verify", 1, True),
        ("callback", 1, True),
    ]


async def test_unsatisfied_callback_reworks_by_default(api):
    case_id = await resolved(api, category=CALLBACK_ONLY)
    case = await callback(api, case_id, "unsatisfied", resolved_state="unsolved")
    assert (case["state"], case["rework_count"]) == ("in_progress", 1)
    assert [step[:3] for step in (await trail(api, case_id))[-2:]] == [
        ("callback", "resolved", "resolved"),
        ("rework", "resolved", "in_progress"),
    ]
    check = (await review(api, case_id))["checks"][-1]
    assert (check["fault"], check["settles"], check["round"]) == ("department", False, 0)


async def test_unsatisfied_not_the_departments_fault_records_without_rework(api):
    case_id = await resolved(api, category=GRID_ONLY)
    case = await callback(api, case_id, "unsatisfied", fault="other", note="诉求超出政策范围")
    assert (case["state"], case["rework_count"]) == ("resolved", 0)
    check = (await review(api, case_id))["checks"][-1]
    assert (check["satisfaction"], check["fault"], check["settles"]) == (
        "unsatisfied",
        "other",
        True,
    )
    assert (await verify(api, case_id, photos=PHOTO))["state"] == "closed"


async def test_dispatcher_reopens_a_resolved_case(api):
    case_id = await resolved(api, category=GRID_ONLY)
    response = await api.act(case_id, "rework", "dispatcher", reason="市民再次来电反映")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["rework_count"]) == ("in_progress", 1)
    refused = await api.act(case_id, "rework", "operator", reason="x")
    assert refused.status_code in (403, 409)


async def test_rework_handle_limit_is_configurable(api, ctx):
    set_review_settings(ctx, rework_handle_limit="2wh")
    case_id = await resolved(api, category=GRID_ONLY)
    await verify(api, case_id, passed=False)
    with new_session(ctx.db) as session:
        runs = session.exec(select(SlaClock).where(SlaClock.case_id == case_id)).all()
    handle = {c.generation: c.limit for c in runs if c.stage == "handle"}
    assert handle == {1: "1wd", 2: "2wh"}


async def test_a_dispatcher_may_still_close_without_review(api):
    case_id = await resolved(api, category=GRID_ONLY)
    response = await api.act(case_id, "close", "dispatcher", reason="市民撤诉")
    assert response.status_code == 200 and response.json()["state"] == "closed"


async def test_checks_are_rows_with_the_department_and_actor(api, ctx):
    case_id = await resolved(api, category=GRID_ONLY)
    await verify(api, case_id, photos=[*PHOTO, "p/wide.jpg"])
    await callback(api, case_id, "basic", resolved_state="partly")
    with new_session(ctx.db) as session:
        rows = session.exec(select(ReviewCheck).where(ReviewCheck.case_id == case_id)).all()
    assert [(r.kind, r.photos, r.department, r.satisfaction, r.resolved_state) for r in rows] == [
        ("verify", 2, DEPT, None, None),
        ("callback", 0, DEPT, "basic", "partly"),
    ]


async def test_review_status_is_scoped(api):
    case_id = await resolved(api, category=GRID_ONLY)
    other = await api.client.get(
        f"/api/v1/cases/{case_id}/review", headers=api.auth("handler", "CG-00")
    )
    assert other.status_code == 404


def test_grid_report_without_caller_in_service(ctx):
    """Straight through the service: a grid worker's own report of a 'both' category."""
    from engine.users.models import Principal, Role

    worker = Principal("w", Role.grid_worker, GRID)
    report = CaseCreate(channel="grid", category=BOTH, description="工地夜间施工", grid_code=GRID)
    case = ctx.cases.intake(worker, report).case
    assert requirements(case, CityDirectory.load(new_session(ctx.db))).kinds == ("verify",)


# ---------------------------------------------------------------- answered at intake


async def answered(api, **body) -> dict:
    """A consultation answered at intake in the operator's own words (直接答复)."""
    call = {
        "description": "来电咨询居住证办理需要哪些材料",
        "reporter_phone": "13800000002",
        "category": CALLBACK_ONLY,
        "answer": "携带身份证和居住证明到社区服务中心办理。",
    } | body
    response = await api.client.post(
        "/api/v1/knowledge/answers", json=call, headers=api.auth("operator")
    )
    assert response.status_code == 201, response.text
    return response.json()["case"]


async def test_a_sampled_answer_waits_for_its_callback_like_any_case(api, ctx):
    set_review_settings(ctx, answered_callback_share=1)
    case = await answered(api)
    assert (case["state"], case["lead_department"]) == ("resolved", None)
    status = await review(api, case["id"])
    assert (status["required"], status["missing"]) == (["callback"], ["callback"])
    ctx.clock.advance(timedelta(hours=3))  # the 回访 desk calls back later that day
    done = await callback(api, case["id"], "satisfied", resolved_state="solved")
    assert done["state"] == "closed" and done["rework_count"] == 0
    assert [step[:3] for step in await trail(api, case["id"])] == [
        ("report", None, "reported"),
        ("answer_at_intake", "reported", "resolved"),
        ("callback", "resolved", "resolved"),
        ("close", "resolved", "closed"),
    ]
    with new_session(ctx.db) as session:
        check = session.exec(select(ReviewCheck).where(ReviewCheck.case_id == case["id"])).one()
        closed = session.get(Case, case["id"])
    assert (check.kind, check.department, check.settles) == ("callback", None, True)
    assert check.at == closed.closed_at == START + timedelta(hours=3)


async def test_an_unsatisfied_callback_of_an_answer_is_recorded_and_closes(api, ctx):
    """Nobody handled it, so nothing to rework: the caller's need becomes a new case."""
    set_review_settings(ctx, answered_callback_share=1)
    case = await answered(api)
    done = await callback(api, case["id"], "unsatisfied", resolved_state="unsolved")
    assert (done["state"], done["rework_count"]) == ("closed", 0)
    check = (await review(api, case["id"]))["checks"][-1]
    assert (check["satisfaction"], check["fault"], check["settles"]) == (
        "unsatisfied",
        "other",
        True,
    )


async def test_an_answer_not_sampled_closes_at_once(api, ctx):
    set_review_settings(ctx, answered_callback_share=0)
    case = await answered(api)
    assert case["state"] == "closed"
    assert (await trail(api, case["id"]))[-1] == ("close", "resolved", "closed", "system")
    assert (await review(api, case["id"]))["required"] == []


def test_the_sample_is_the_configured_share_and_stable():
    ids = range(1, 10_001)
    assert sum(sampled(i, 0.1) for i in ids) in range(950, 1051)
    assert all(sampled(i, 1) for i in ids) and not any(sampled(i, 0) for i in ids)
    assert [sampled(i, 0.3) for i in ids] == [sampled(i, 0.3) for i in ids]


def test_answered_share_must_be_a_fraction(ctx):
    import pytest

    assert ReviewSettings.of({}).answered_callback_share == 0.1
    for bad in (1.5, -0.1, "10%", True):
        with pytest.raises(ValueError, match="answered_callback_share"):
            ReviewSettings.of({"review": {"answered_callback_share": bad}})
