"""12345 hotline intake: tickets in Chinese, idempotent on the ticket number, malformed
tickets refused naming the field, contact details masked for roles that don't need them,
and status sync back to the hotline system through the outbox."""

from __future__ import annotations

import json

from sqlmodel import func, select

from engine.cases.models import Case
from engine.db import new_session
from tests.intake_support import HOTLINE_URL, hotline_webhook, outbox

URL = "/api/v1/intake/hotline"
TICKET = {
    "ticket_no": "12345-20260302-000187",
    "caller_name": "张晓梅",
    "caller_phone": "13812345678",
    "content": "东坡路18号小区门口垃圾桶满溢三天无人清运，夏天气味很大，请尽快处理",
    "address": "东湖区湖滨街道东坡路18号",
    "request_type": "投诉",
    "urgency": "一般",
    "category": "06008",
    "grid_code": "01010101",
}


def count(ctx) -> int:
    with new_session(ctx.db) as session:
        return session.exec(select(func.count()).select_from(Case)).one()


async def test_ticket_becomes_a_registered_case(api):
    response = await api.client.post(URL, json=TICKET, headers=api.auth("operator"))
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["channel"] == "hotline" and case["external_id"] == TICKET["ticket_no"]
    assert case["state"] == "registered"  # hotline is a trusted channel
    assert case["request_type"] == "complaint" and case["urgency"] == "normal"
    assert case["category"] == "06008" and case["owning_unit"] == "01010101"
    assert case["reporter_name"] == "张晓梅" and case["reporter_phone"] == "13812345678"
    assert case["description"] == TICKET["content"]


async def test_english_values_and_urgent(api):
    body = TICKET | {"ticket_no": "T-2", "request_type": "Help", "urgency": "紧急"}
    case = (await api.client.post(URL, json=body, headers=api.auth("operator"))).json()
    assert case["request_type"] == "help" and case["urgency"] == "urgent"


async def test_contact_masked_for_grid_worker(api):
    case = (await api.client.post(URL, json=TICKET, headers=api.auth("operator"))).json()
    seen = await api.client.get(
        f"/api/v1/cases/{case['id']}", headers=api.auth("grid_worker", "01010101")
    )
    assert seen.status_code == 200
    assert seen.json()["reporter_phone"] == "138****5678"
    assert seen.json()["reporter_name"] == "张**"


async def test_resent_ticket_returns_the_first_case(api, ctx):
    first = await api.client.post(URL, json=TICKET, headers=api.auth("operator"))
    again = await api.client.post(
        URL, json=TICKET | {"content": "重复推送"}, headers=api.auth("operator")
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["description"] == TICKET["content"]
    assert count(ctx) == 1


async def test_malformed_tickets_name_the_field(api, ctx):
    cases = [
        ({k: v for k, v in TICKET.items() if k != "content"}, "content"),
        (TICKET | {"request_type": "抱怨"}, "request_type"),
        (TICKET | {"urgency": "非常急"}, "urgency"),
        (TICKET | {"caller_phone": "打电话给我"}, "caller_phone"),
        (TICKET | {"category": "99999"}, "category"),
        (TICKET | {"category": "垃圾"}, "category"),
        (TICKET | {"ticket_no": "工单/1"}, "ticket_no"),
        (TICKET | {"grid_code": "09090909"}, "grid_code"),
        (TICKET | {"lat": 30.3}, "lng"),
    ]
    for body, field in cases:
        response = await api.client.post(URL, json=body, headers=api.auth("operator"))
        assert response.status_code == 422, (field, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert error["details"][0]["field"] == field, (field, error)
    not_json = await api.client.post(
        URL, content=b"{ticket", headers=api.auth("operator") | {"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert count(ctx) == 0


async def test_only_intake_roles_file_tickets(api):
    response = await api.client.post(URL, json=TICKET, headers=api.auth("handler", "HW-01"))
    assert response.status_code == 403


async def test_batch_is_idempotent_and_all_or_nothing(api, ctx):
    tickets = [
        TICKET | {"ticket_no": f"B-{i}", "content": f"第{i}号诉求：路灯不亮"} for i in range(3)
    ]
    tickets[1]["category"] = "01003"
    response = await api.client.post(
        f"{URL}/batch", json={"tickets": tickets}, headers=api.auth("operator")
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["created"] for r in results] == [True, True, True]
    again = await api.client.post(
        f"{URL}/batch", json={"tickets": [*tickets, TICKET]}, headers=api.auth("operator")
    )
    assert [r["created"] for r in again.json()["results"]] == [False, False, False, True]
    assert [r["case_id"] for r in again.json()["results"][:3]] == [r["case_id"] for r in results]
    bad = [TICKET | {"ticket_no": "C-1"}, TICKET | {"ticket_no": "C-2", "category": "99999"}]
    refused = await api.client.post(
        f"{URL}/batch", json={"tickets": bad}, headers=api.auth("operator")
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "tickets[1].category"
    assert count(ctx) == 4


async def test_status_sync_to_the_hotline_system(api, ctx):
    hotline_webhook(ctx)
    case = (await api.client.post(URL, json=TICKET, headers=api.auth("operator"))).json()
    cid = case["id"]
    assert (await api.act(cid, "dispatch", "dispatcher", department="HW-01")).status_code == 200
    assert (await api.act(cid, "accept", "handler", "HW-01")).status_code == 200
    result = "已安排环卫车辆清运并对垃圾桶周边消杀"
    assert (await api.act(cid, "resolve", "handler", "HW-01", result=result)).status_code == 200
    verified = await api.act(cid, "verify", "grid_worker", "01010101", passed=True, photos=["a"])
    assert verified.status_code == 200 and verified.json()["state"] == "resolved"  # 回访 next
    response = await api.act(cid, "callback", "operator", satisfaction="satisfied")
    assert response.status_code == 200 and response.json()["state"] == "closed"

    messages = outbox(ctx, "hotline")
    assert [m.kind for m in messages] == ["accepted", "reply", "callback", "closed"]
    assert all(m.url == HOTLINE_URL for m in messages)
    bodies = [json.loads(m.body) for m in messages]
    assert {b["ticket_no"] for b in bodies} == {TICKET["ticket_no"]}
    assert bodies[1]["reply"] == result and bodies[1]["department"] == "HW-01"
    assert bodies[2]["satisfaction"] == "satisfied"
    assert bodies[3]["state"] == "closed"
    assert len({b["message_id"] for b in bodies}) == 4
    assert all(b["message_id"] == m.message_id for b, m in zip(bodies, messages, strict=True))
    # Caller contact details never leave in status messages.
    assert all("13812345678" not in m.body for m in messages)


async def test_no_status_sync_without_a_hotline_webhook(api, ctx):
    await api.client.post(URL, json=TICKET, headers=api.auth("operator"))
    assert outbox(ctx, "hotline") == []


# ---------------------------------------------------------------- call recording (来电弹屏)

RECORDING = "https://pbx.example/rec/2026/0302/000187.wav"


def report_event(ctx, case_id: int) -> dict:
    from engine.cases.models import CaseEvent

    with new_session(ctx.db) as session:
        first = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq == 1)
        ).one()
        return first.data


async def test_a_ticket_keeps_its_call_recording(api):
    body = TICKET | {"recording_url": RECORDING}
    case = (await api.client.post(URL, json=body, headers=api.auth("operator"))).json()
    assert case["state"] == "registered"  # a normal case, for a department
    assert report_event(api.ctx, case["id"])["recording_url"] == RECORDING
    filed = await api.file(external_id="PBX-1", recording_url="http://10.0.0.8/r/1.mp3")
    assert report_event(api.ctx, filed["id"])["recording_url"] == "http://10.0.0.8/r/1.mp3"
    plain = (
        await api.client.post(URL, json=TICKET | {"ticket_no": "T-9"}, headers=api.auth("operator"))
    ).json()
    assert "recording_url" not in report_event(api.ctx, plain["id"])


async def test_a_recording_that_is_not_http_is_refused_naming_the_field(api):
    before = count(api.ctx)
    for bad in (
        "javascript:alert(1)",
        "ftp://pbx/r.wav",
        "https://pbx/a b.wav",
        "https://" + "a" * 300,
    ):
        for url, body in (
            (URL, TICKET | {"ticket_no": "T-bad", "recording_url": bad}),
            (
                "/api/v1/cases",
                {
                    "channel": "hotline",
                    "description": "x",
                    "grid_code": "01010101",
                    "recording_url": bad,
                },
            ),
        ):
            response = await api.client.post(url, json=body, headers=api.auth("operator"))
            assert response.status_code == 422, (url, bad, response.text)
            assert "recording_url" in response.text
    assert count(api.ctx) == before


async def test_the_pop_up_files_a_normal_case_with_its_recording_shown_as_a_link(api):
    import re

    from page_support import login, post

    csrf = await login(api, "operator", "00")
    params = {"phone": "139-0000-3333", "call_id": "PBX-42", "recording": RECORDING}
    form = await api.client.get("/intake", params=params)
    assert f'name="recording_url" value="{RECORDING}"' in form.text and "通话录音" in form.text
    fields = {
        "category": "06008", "description": "小区门口垃圾桶满溢三天无人清运",
        "grid_code": "01010101", "reporter_phone": "139-0000-3333", "external_id": "PBX-42",
        "recording_url": RECORDING, "confirm": "1",
    }  # fmt: skip
    saved = await post(api, "/intake", csrf, **fields)
    assert saved.status_code == 303, saved.text
    case_id = int(re.search(r"/cases/(\d+)", saved.headers["location"])[1])
    assert report_event(api.ctx, case_id)["recording_url"] == RECORDING
    page = await api.client.get(f"/cases/{case_id}")
    assert f'<a id="recording" href="{RECORDING}"' in page.text and "收听录音" in page.text
    english = await api.client.get(f"/cases/{case_id}?lang=en")
    assert "Call recording" in english.text
    refused = await post(
        api,
        "/intake",
        csrf,
        **(fields | {"external_id": "PBX-43", "recording_url": "javascript:alert(1)"}),
    )
    assert refused.status_code == 422 and "Call recording" in refused.text  # the page's words
    assert 'name="recording_url"' not in refused.text.split('class="intake"')[1].split("</form>")[0]
