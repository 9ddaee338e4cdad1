"""Co-handling (主办 / 协办): each co-handler gets its own task and reports with co_report;
the lead's resolve is refused (409, naming who has not reported) until all have."""

from __future__ import annotations

from engine.cases.hooks import FollowUp
from engine.cases.models import CaseCreate
from engine.users.models import Principal, Role
from tests.dispatch_support import IN_01010101, activate, events, trail

LEAD, CO = "RQ-00", "YJ-00"  # the demo table's gas leak row: 燃气公司 leads, 应急管理局 assists


async def gas_leak(api, ctx) -> int:
    activate(ctx)
    case = await api.file(grid_code=None, description="楼道燃气泄漏，味道很大", **IN_01010101)
    assert (case["lead_department"], case["co_handlers"]) == (LEAD, [CO])
    assert (await api.act(case["id"], "accept", "handler", LEAD)).status_code == 200
    return case["id"]


async def tasks(api, case_id: int) -> list[dict]:
    view = await api.client.get(f"/api/v1/cases/{case_id}/dispatch", headers=api.auth("admin"))
    return view.json()["tasks"]


async def test_the_lead_resolves_only_after_every_co_handler_reported(api, ctx):
    case_id = await gas_leak(api, ctx)
    assert await tasks(api, case_id) == [
        {"department": LEAD, "lead": True, "done": False},
        {"department": CO, "lead": False, "done": False},
    ]
    early = await api.act(case_id, "resolve", "handler", LEAD, result="已关阀修复")
    assert early.status_code == 409
    error = early.json()["error"]
    assert CO in error["message"] and error["details"] == {"pending_co_handlers": [CO]}

    seen = await api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("handler", CO))
    assert "co_report" in seen.json()["allowed_actions"]
    report = await api.act(case_id, "co_report", "handler", CO, result="已疏散楼内居民")
    assert report.status_code == 200 and report.json()["state"] == "in_progress"
    event = events(ctx, case_id)[-1]
    assert (event.action, event.actor_role) == ("co_report", "handler")
    assert event.data == {
        "result": "已疏散楼内居民",
        "department": CO,
        "pending_co_handlers": [],
    }
    assert {"department": CO, "lead": False, "done": True} in await tasks(api, case_id)

    done = await api.act(case_id, "resolve", "handler", LEAD, result="已关阀修复")
    assert done.status_code == 200 and done.json()["state"] == "resolved"


async def test_only_a_co_handler_reports_and_only_once(api, ctx):
    case_id = await gas_leak(api, ctx)
    lead = await api.act(case_id, "co_report", "handler", LEAD, result="x")
    assert lead.status_code == 403 and CO in lead.json()["error"]["message"]
    stranger = await api.act(case_id, "co_report", "handler", "HW-01", result="x")
    assert stranger.status_code == 404  # HW-01 has no task: it cannot see the case
    assert (await api.act(case_id, "co_report", "handler", CO, result="完成")).status_code == 200
    twice = await api.act(case_id, "co_report", "handler", CO, result="完成")
    assert twice.status_code == 409
    missing = await api.act(case_id, "co_report", "handler", CO)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "result"


async def test_a_case_without_co_handlers_resolves_as_before(api, ctx):
    activate(ctx)
    case = await api.file()  # 暴露垃圾 in district 01: HW-01 alone
    assert case["co_handlers"] == []
    await api.act(case["id"], "accept", "handler", "HW-01")
    done = await api.act(case["id"], "resolve", "handler", "HW-01", result="已清运")
    assert done.json()["state"] == "resolved"


async def test_a_redispatch_gives_the_new_co_handlers_fresh_tasks(api, ctx):
    case_id = await gas_leak(api, ctx)
    await api.act(case_id, "co_report", "handler", CO, result="完成")
    moved = await api.act(
        case_id, "redispatch", "dispatcher", department=LEAD, co_handlers=[CO, "XF-00"]
    )
    assert moved.status_code == 200
    assert [t for t in await tasks(api, case_id) if not t["lead"]] == [
        {"department": CO, "lead": False, "done": False},
        {"department": "XF-00", "lead": False, "done": False},
    ]


def test_a_co_report_and_the_lead_s_resolve_may_share_one_transaction(ctx):
    """The resolve's check sees the co_report just made in the same transaction (its task
    change is still in the session, not yet in the database)."""
    activate(ctx)
    lead = Principal(name="lead", role=Role.handler, scope=LEAD)
    co = Principal(name="co", role=Role.handler, scope=CO)
    data = CaseCreate(channel="hotline", description="楼道燃气泄漏，味道很大", **IN_01010101)
    then = [
        FollowUp("register", {}),
        FollowUp("accept", {}, by=lead),
        FollowUp("co_report", {"result": "已疏散"}, by=co),
        FollowUp("resolve", {"result": "已关阀"}, by=lead),
    ]
    case = ctx.cases.intake(Principal(name="op", role=Role.operator, scope="00"), data, then).case
    assert [action for action, _ in trail(ctx, case.id)][-2:] == ["co_report", "resolve"]
    assert case.state in ("resolved", "closed")
