"""A caller's contact is masked for roles that do not need it, and unmasking is audited."""

from __future__ import annotations

import logging


async def test_unmasking_writes_an_audit_event(api):
    case = await api.file(reporter_name="李四", reporter_phone="13900001111")
    await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    handler = api.auth("handler", "HW-01")
    shown = await api.client.get(f"/api/v1/cases/{case['id']}", headers=handler)
    assert shown.json()["reporter_phone"] == "139****1111"
    revealed = await api.client.post(
        f"/api/v1/cases/{case['id']}/contact", json={"reason": "上门前电话确认"}, headers=handler
    )
    assert revealed.json() == {"reporter_name": "李四", "reporter_phone": "13900001111"}
    trail = await api.client.get(f"/api/v1/cases/{case['id']}/events", headers=handler)
    last = trail.json()[-1]
    assert (last["action"], last["actor_role"]) == ("reveal_contact", "handler")
    assert last["data"] == {"reason": "上门前电话确认"}
    assert "13900001111" not in str(trail.json())


async def test_unmasking_needs_a_reason_and_scope(api):
    case = await api.file(reporter_phone="13900001111")
    await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    url = f"/api/v1/cases/{case['id']}/contact"
    assert (
        await api.client.post(url, json={}, headers=api.auth("handler", "HW-01"))
    ).status_code == 422
    other = api.auth("handler", "CG-01")
    assert (await api.client.post(url, json={"reason": "看看"}, headers=other)).status_code == 404


async def test_contact_never_reaches_the_logs(api, caplog):
    caplog.set_level(logging.DEBUG)
    case = await api.file(reporter_name="王五", reporter_phone="13711112222")
    await api.client.get(f"/api/v1/cases/{case['id']}", headers=api.auth("operator"))
    assert "13711112222" not in caplog.text and "王五" not in caplog.text
