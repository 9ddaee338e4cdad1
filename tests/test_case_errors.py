"""Bad actions get a clear 4xx and change nothing: no state, no version, no audit event."""

from __future__ import annotations

from engine.cases.workflow import standard_workflow
from engine.users.models import Role

DEPT = "HW-01"


async def snapshot(api, case_id):
    admin = api.auth("admin")
    case = (await api.client.get(f"/api/v1/cases/{case_id}", headers=admin)).json()
    events = (await api.client.get(f"/api/v1/cases/{case_id}/events", headers=admin)).json()
    return case["state"], case["version"], len(events)


async def assigned_case(api):
    case = await api.file()
    response = await api.act(case["id"], "dispatch", "dispatcher", department=DEPT)
    assert response.status_code == 200
    return case["id"]


async def test_return_without_reason_is_422_and_changes_nothing(api):
    case_id = await assigned_case(api)
    before = await snapshot(api, case_id)
    response = await api.act(case_id, "return", "handler", DEPT)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "reason"
    assert await snapshot(api, case_id) == before


async def test_resolve_without_result_is_422_and_changes_nothing(api):
    case_id = await assigned_case(api)
    assert (await api.act(case_id, "accept", "handler", DEPT)).status_code == 200
    before = await snapshot(api, case_id)
    response = await api.act(case_id, "resolve", "handler", DEPT, result="   ")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "result"
    assert await snapshot(api, case_id) == before


async def test_handler_of_another_department_sees_404_and_changes_nothing(api):
    case_id = await assigned_case(api)
    before = await snapshot(api, case_id)
    response = await api.act(case_id, "accept", "handler", "CG-01")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (
        await api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("handler", "CG-01"))
    ).status_code == 404
    listed = await api.client.get("/api/v1/cases", headers=api.auth("handler", "CG-01"))
    assert listed.json()["total"] == 0
    assert await snapshot(api, case_id) == before


async def test_role_not_allowed_is_403(api):
    case_id = await assigned_case(api)
    before = await snapshot(api, case_id)
    response = await api.act(case_id, "accept", "operator")
    assert response.status_code == 403
    assert await snapshot(api, case_id) == before


async def test_illegal_action_is_409_with_allowed_actions(api):
    case_id = await assigned_case(api)
    response = await api.act(case_id, "resolve", "handler", DEPT, result="x")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "action_not_allowed"
    allowed = error["details"]["allowed_actions"]
    assert "accept" in allowed and "resolve" not in allowed
    handler_actions = standard_workflow().actions_for("assigned", Role.handler)
    assert allowed == handler_actions  # the lead department may take all of the handler's


async def test_unknown_field_and_bad_values_are_named(api):
    case_id = await assigned_case(api)
    bad = await api.act(case_id, "accept", "handler", DEPT, colour="red")
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "colour"
    case = await api.file(external_id="T-2")
    bad = await api.act(case["id"], "dispatch", "dispatcher", department="NOPE")
    assert bad.status_code == 422 and "unknown department" in bad.json()["error"]["message"]


async def test_stale_version_is_409(api):
    case_id = await assigned_case(api)
    response = await api.act(case_id, "accept", "handler", DEPT, version=1)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["version"] == 3


async def test_malformed_intake_names_fields(api):
    headers = api.auth("operator")
    response = await api.client.post(
        "/api/v1/cases",
        json={"channel": "fax", "description": "", "lat": 95, "category": "6"},
        headers=headers,
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"channel", "description", "lat", "category"} <= fields
    response = await api.client.post(
        "/api/v1/cases",
        json={"channel": "web", "description": "x", "category": "99999"},
        headers=headers,
    )
    assert (
        response.status_code == 422
        and response.json()["error"]["details"][0]["field"] == "category"
    )
    response = await api.client.post(
        "/api/v1/cases",
        content=b"{not json",
        headers=headers | {"content-type": "application/json"},
    )
    assert response.status_code == 422


async def test_missing_or_bad_token_is_401(api):
    assert (await api.client.get("/api/v1/cases")).status_code == 401
    response = await api.client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_unknown_case_is_404(api):
    response = await api.client.get("/api/v1/cases/999999", headers=api.auth("admin"))
    assert response.status_code == 404


async def test_undecodable_body_is_422_naming_the_body(api):
    response = await api.client.post(
        "/api/v1/cases",
        content=b'{"channel": "web", "description": "\xff\xfe"}',
        headers=api.auth("operator") | {"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body"


async def test_patterns_are_enforced(api):
    headers = api.auth("operator")
    for field, value in (("category", "abcde"), ("reporter_phone", "call me!")):
        body = {"channel": "web", "description": "x", field: value}
        response = await api.client.post("/api/v1/cases", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == field
