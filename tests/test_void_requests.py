"""作废申请 (void requests): the lead department or an operator asks with a reason, a
dispatcher of the case's area decides on /approvals or through the API (void approves,
reject_void refuses and the case goes on); one request waits at a time, a request lapses
when the case moves on without a decision, and every step is an audit event."""

from __future__ import annotations

import pytest
from dispatch_support import activate, case_row, events, trail
from httpx import Response
from page_support import ensure_user, login, post

HANDLER = ("handler", "HW-01")


@pytest.fixture
async def api(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    ensure_user(ctx, "handler", "HW-01", "handler-hw-01")
    async with make_api(ctx) as client:
        yield client


async def in_progress(api, description: str = "小区门口垃圾堆积三天无人清理") -> int:
    case = await api.file(description=description)
    if case["state"] != "assigned":
        answer = await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
        assert answer.status_code == 200, answer.text
    answer = await api.act(case["id"], "accept", *HANDLER)
    assert answer.status_code == 200, answer.text
    return case["id"]


def item(html: str, case_id: int) -> str:
    marker = f'data-case="{case_id}"'
    return html.split(marker)[1].split("</article>")[0] if marker in html else ""


async def test_a_void_request_is_decided_on_the_approvals_page(api):
    case_id = await in_progress(api)
    asked = await api.act(case_id, "request_void", *HANDLER, reason="重复工单")
    assert asked.status_code == 200, asked.text
    assert asked.json()["pending_request"] == "void" and asked.json()["state"] == "in_progress"
    csrf = await login(api, "dispatcher", "0101")
    case_page = (await api.client.get(f"/cases/{case_id}")).text
    assert 'id="pending-void">重复工单' in case_page and "作废申请待审批" in case_page
    assert "/act/reject_void" in case_page and "/act/void" in case_page
    found = item((await api.client.get("/approvals")).text, case_id)
    assert "作废申请" in found and "重复工单" in found
    assert "批准作废" in found and "驳回作废申请" in found
    silent = await post(api, f"/cases/{case_id}/act/reject_void", csrf, reason=" ")
    assert silent.status_code == 422 and "原因：必填" in silent.text  # a rejection says why
    refused = await post(api, f"/cases/{case_id}/act/reject_void", csrf,
                         reason="非重复工单，请继续办理", next="/approvals")  # fmt: skip
    assert refused.status_code == 303 and refused.headers["location"].startswith("/approvals")
    row = case_row(api.ctx, case_id)
    assert row.state == "in_progress" and row.pending_request is None
    assert not item((await api.client.get("/approvals")).text, case_id)
    case_page = (await api.client.get(f"/cases/{case_id}")).text
    assert "pending-void" not in case_page
    assert "/act/reject_void" not in case_page and "/act/void" not in case_page
    again = await api.act(case_id, "request_void", *HANDLER, reason="市民来电撤诉，无效来电")
    assert again.status_code == 200, again.text
    found = item((await api.client.get("/approvals")).text, case_id)
    assert "无效来电" in found
    approved = await post(api, f"/cases/{case_id}/act/void", csrf, reason="核实为无效来电",
                          next="/approvals")  # fmt: skip
    assert approved.status_code == 303
    row = case_row(api.ctx, case_id)
    assert row.state == "voided" and row.pending_request is None and row.closed_at is not None
    assert trail(api.ctx, case_id)[-4:] == [
        ("request_void", "in_progress"),
        ("reject_void", "in_progress"),
        ("request_void", "in_progress"),
        ("void", "voided"),
    ]
    assert not item((await api.client.get("/approvals")).text, case_id)
    english = (await api.client.get(f"/cases/{case_id}", params={"lang": "en"})).text
    assert "Ask to void" in english and "Reject the void request" in english  # the timeline
    assert "/act/" not in english  # a voided case: no action left


async def test_an_operator_asks_before_dispatch_and_the_api_decides(api):
    case = await api.file(category="12001", description="楼上广场舞噪声扰民")  # queued
    case_id = case["id"]
    assert case["state"] == "dispatching"
    direct = await api.act(case_id, "void", "dispatcher", "0101", reason="无效")
    assert direct.status_code == 409  # once registered, a void decides a request
    assert direct.json()["error"]["details"] == [
        {"field": "pending_request", "reason": "no void request is pending"}
    ]
    asked = await api.act(case_id, "request_void", "operator", "00", reason="重复工单")
    assert asked.status_code == 200, asked.text
    twice = await api.act(case_id, "request_void", "operator", "00", reason="重复工单")
    assert twice.status_code == 409
    assert twice.json()["error"]["details"][0]["field"] == "pending_request"
    done = await api.act(case_id, "void", "dispatcher", "0101", reason="与 #1 重复")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "voided" and done.json()["pending_request"] is None


async def test_bad_void_requests_are_refused_naming_the_field(api):
    case_id = await in_progress(api)
    missing = await api.act(case_id, "request_void", *HANDLER)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "reason"
    blank = await api.act(case_id, "request_void", *HANDLER, reason="   ")
    assert blank.status_code == 422
    extra = await api.act(case_id, "request_void", *HANDLER, reason="重复", duration="1wd")
    assert extra.status_code == 422
    assert extra.json()["error"]["details"][0]["field"] == "duration"
    no_request = await api.act(case_id, "reject_void", "dispatcher", "0101", reason="不")
    assert no_request.status_code == 409
    queued = await api.file(category="12001", description="楼上广场舞噪声扰民")
    early = await api.act(queued["id"], "request_void", *HANDLER, reason="x")
    assert early.status_code == 404  # no department holds it yet: not theirs to see
    assert case_row(api.ctx, case_id).pending_request is None


async def test_one_request_waits_at_a_time(api):
    case_id = await in_progress(api)
    extension = await api.act(case_id, "request_extension", *HANDLER, duration="2wd", reason="配件")
    assert extension.status_code == 200, extension.text
    void = await api.act(case_id, "request_void", *HANDLER, reason="重复工单")
    assert void.status_code == 409
    assert void.json()["error"]["details"][0]["field"] == "pending_request"
    rejected = await api.act(case_id, "reject_extension", "dispatcher", "0101", reason="不需要")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["pending_request"] is None
    void = await api.act(case_id, "request_void", *HANDLER, reason="重复工单")
    assert void.status_code == 200, void.text
    suspend = await api.act(case_id, "request_suspension", *HANDLER, reason="等待")
    assert suspend.status_code == 409


async def test_a_request_lapses_when_the_case_moves_on_without_a_decision(api):
    case_id = await in_progress(api)
    await api.act(case_id, "request_void", *HANDLER, reason="重复工单")
    moved = await api.act(case_id, "redispatch", "dispatcher", "0101", department="CG-01")
    assert moved.status_code == 200, moved.text
    assert moved.json()["pending_request"] is None  # the old department's request
    assert events(api.ctx, case_id)[-1].data["lapsed"] == "void"
    await login(api, "dispatcher", "0101")
    html = (await api.client.get(f"/cases/{case_id}")).text
    assert "申请失效：作废申请" in html  # on the timeline, in words
    other = await in_progress(api, "又一处垃圾")
    await api.act(other, "request_extension", *HANDLER, duration="2wd", reason="配件")
    back = await api.act(other, "return", *HANDLER, reason="不属于本单位")
    assert back.json()["pending_request"] is None and back.json()["pending_extension"] is None
    assert events(api.ctx, other)[-1].data["lapsed"] == "extension"


async def test_a_co_handler_cannot_ask_to_void(api):
    case = await api.file(description="需协办的案件")
    answer = await api.act(case["id"], "redispatch" if case["state"] == "assigned" else "dispatch",
                           "dispatcher", department="HW-01", co_handlers=["CG-01"])  # fmt: skip
    assert answer.status_code == 200, answer.text
    co = await api.act(case["id"], "request_void", "handler", "CG-01", reason="重复")
    assert co.status_code == 403


async def test_the_case_page_offers_the_usual_void_reasons(api):
    case_id = await in_progress(api)
    await login(api, "handler", "HW-01", "handler-hw-01")
    html = (await api.client.get(f"/cases/{case_id}")).text
    form = html.split('/act/request_void"')[1].split("</form>")[0]
    assert f'list="c{case_id}-request_void-reason-usual"' in form
    assert '<option value="重复工单">' in form and '<option value="无效来电">' in form
    english = (await api.client.get(f"/cases/{case_id}", params={"lang": "en"})).text
    assert "Ask to void" in english and '<option value="Invalid call">' in english


async def test_the_navigation_counts_void_requests(api):
    case_id = await in_progress(api)
    await api.act(case_id, "request_void", *HANDLER, reason="重复工单")
    await login(api, "dispatcher", "0101")
    html = (await api.client.get("/cases")).text
    assert "作废申请 1 件" in html
    await login(api, "dispatcher", "0102")  # another street: nothing of theirs waits
    assert "作废申请 1 件" not in (await api.client.get("/cases")).text


async def test_voided_cases_keep_the_read_models_true(api):
    """Voiding a case in progress (a decided 作废申请) and the requests' steps leave the
    kept read models equal to a rebuild from the audit trail (views check)."""
    from engine.views import service

    voided = await in_progress(api)
    await api.act(voided, "request_void", *HANDLER, reason="重复工单")
    answer = await api.act(voided, "void", "dispatcher", "0101", reason="核实为重复工单")
    assert answer.status_code == 200, answer.text
    goes_on = await in_progress(api, "另一处垃圾")
    await api.act(goes_on, "request_void", *HANDLER, reason="无效来电")
    await api.act(goes_on, "reject_void", "dispatcher", "0101", reason="有效来电")
    ctx = api.ctx
    with ctx.db.connect() as conn:
        found = service.check(conn, ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now())
    assert found == []


async def test_the_cases_waiting_on_a_request_are_listed_by_its_kind(api):
    """GET /api/v1/cases?pending_request=void: the 作废申请 waiting for a decision, in the
    caller's scope, as /approvals shows them; an unknown kind is refused naming the field."""
    waiting = await in_progress(api, "路灯不亮 作废申请")
    other = await in_progress(api, "路灯不亮 延期申请")
    assert (await api.act(waiting, "request_void", *HANDLER, reason="重复工单")).status_code == 200
    asked = await api.act(other, "request_extension", *HANDLER, duration="1wd", reason="配件")
    assert asked.status_code == 200, asked.text

    async def listed(kind: str, role: str = "dispatcher", scope: str = "00") -> Response:
        return await api.client.get(
            "/api/v1/cases", params={"pending_request": kind}, headers=api.auth(role, scope)
        )

    voids = (await listed("void")).json()
    assert [c["id"] for c in voids["items"]] == [waiting] and voids["total"] == 1
    assert [c["id"] for c in (await listed("extension")).json()["items"]] == [other]
    assert (await listed("void", "supervisor", "02")).json()["items"] == []  # not their area
    assert [c["id"] for c in (await listed("void", *HANDLER)).json()["items"]] == [waiting]
    assert (await listed("void", "handler", "CG-01")).json()["items"] == []  # not their case
    bad = await listed("cancel")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "pending_request"
    assert "extension, suspension, void" in bad.json()["error"]["details"][0]["reason"]
    await api.act(waiting, "reject_void", "dispatcher", "0101", reason="请继续办理")
    assert (await listed("void")).json()["items"] == []  # decided: no longer waiting
