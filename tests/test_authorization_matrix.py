"""The whole authorization matrix: every endpoint × every role × a case in and out of scope.

Expectations come from the one policy table (web/policy.py) and the workflow's roles per
action; the test checks what the running app actually answers.
"""

from __future__ import annotations

import pytest

from engine.cases.workflow import standard_workflow
from engine.users.models import PERSON_ROLES, Role
from web.policy import OPEN311_FILERS, PUBLIC, ROUTES

# Each role acts in its own scope; the in-scope case lies in all of them.
SCOPES = {
    Role.operator: "0101",
    Role.dispatcher: "0101",
    Role.handler: "HW-01",
    Role.grid_worker: "01010101",
    Role.supervisor: "0101",
    Role.admin: "00",
}
PARAMS = {
    "action": "note",
    "user_id": "999999",
    "token_id": "999999",
    "timer_id": "999999",
    "message_id": "999999",
    "day": "2026-10-01",
    "version": "nope",
    "ref": "att:missing.jpg",
    "code": "06002",
    "request_id": "1",
    "service_code": "06002",
    "token": "no-such-token",
    "format": "json",
    "rest": "nothing-here",
}
OPEN311_POSTS = {("POST", "/open311/v2/requests"), ("POST", "/open311/v2/requests.{format}")}
CASE_READS = [
    "/api/v1/cases/{case_id}",
    "/api/v1/cases/{case_id}/events",
    "/api/v1/cases/{case_id}/sla",
    "/api/v1/cases/{case_id}/dispatch",
    "/api/v1/cases/{case_id}/review",
]
WORKFLOW_DECIDES = {
    "/api/v1/cases/{case_id}/actions/{action}": "note",
    "/api/v1/cases/{case_id}/contact": "reveal_contact",
}


@pytest.fixture
async def cases(api):
    inside = await api.file(grid_code="01010101", reporter_phone="13800001111")
    outside = await api.file(grid_code="02020101", description="另一个区的案件")
    for case, department in ((inside, "HW-01"), (outside, "HW-02")):
        if case["state"] != "assigned":
            response = await api.act(case["id"], "dispatch", "dispatcher", department=department)
            assert response.status_code == 200, response.text
    return inside["id"], outside["id"]


def url(template: str, case_id: int) -> str:
    path = template.replace("{case_id}", str(case_id))
    for name, value in PARAMS.items():
        path = path.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
    return path


async def call(api, method: str, path: str, headers: dict[str, str]):
    if (method, path.replace(".json", ".{format}")) in OPEN311_POSTS:  # api_key: the token
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        form = {"api_key": token, "service_code": "06002", "lat": "30.3035", "long": "120.12978"}
        return await api.client.post(path, data=form)
    body = None
    if path.endswith("/actions/note"):
        body = {"note": "检查"}
    elif path.endswith("/contact"):
        body = {"reason": "核对权限"}
    elif method in ("POST", "PUT", "PATCH"):
        body = {"note": "检查", "reason": "核对权限"}
    return await api.client.request(method, path, json=body, headers=headers)


def allowed(method: str, template: str, role: Role) -> bool:
    if (method, template) in OPEN311_POSTS:
        return role in OPEN311_FILERS
    roles = ROUTES[(method, template)]
    if roles is not PUBLIC and role not in roles:
        return False
    action = WORKFLOW_DECIDES.get(template)
    if action is None:
        return True
    workflow = standard_workflow()
    return any(role in spec.roles for spec in workflow.transitions if spec.action == action)


def test_every_route_is_in_the_table(api):
    schema = api.client._transport.app.openapi()  # type: ignore[attr-defined]
    served = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert served - set(ROUTES) == set(), "add these routes to web/policy.py"


@pytest.mark.parametrize("role", PERSON_ROLES, ids=str)
async def test_role_matrix(api, cases, role):
    inside, _ = cases
    headers = api.auth(role, SCOPES[role])
    wrong = []
    for method, template in ROUTES:
        response = await call(api, method, url(template, inside), headers)
        forbidden = response.status_code == 403
        if forbidden == allowed(method, template, role):
            wrong.append(f"{method} {template}: {response.status_code}")
        assert response.status_code < 500, f"{method} {template}: {response.text}"
    assert wrong == [], f"{role} got unexpected answers"


@pytest.mark.parametrize("role", PERSON_ROLES, ids=str)
async def test_case_scope(api, cases, role):
    inside, outside = cases
    headers = api.auth(role, SCOPES[role])
    for template in CASE_READS:
        seen = await api.client.get(url(template, inside), headers=headers)
        hidden = await api.client.get(url(template, outside), headers=headers)
        assert seen.status_code == 200, (template, seen.text)
        expected = 200 if role is Role.admin else 404  # existence does not leak
        assert hidden.status_code == expected, (template, hidden.status_code)
    note = await call(api, "POST", url("/api/v1/cases/{case_id}/actions/note", outside), headers)
    assert note.status_code == (200 if role is Role.admin else 404)
    listed = (await api.client.get("/api/v1/cases", headers=headers)).json()["items"]
    ids = {c["id"] for c in listed}
    assert inside in ids and (outside in ids) == (role is Role.admin)


async def test_no_token_is_401_except_public_routes(api, cases):
    inside, _ = cases
    for (method, template), roles in ROUTES.items():
        response = await call(api, method, url(template, inside), {})
        if roles is PUBLIC:  # (Open311's filing answers 403 without an api_key, per its spec)
            assert response.status_code != 401, f"{method} {template}"
        else:
            assert response.status_code == 401, f"{method} {template}: {response.status_code}"


# Requests (延期, 挂起, 作废申请) and their decisions, each tried by every role on an in-progress
# case in and out of its scope: the workflow's roles for the action decide 200 or 403, and
# out of scope is 404 (existence does not leak). A decision is tried with its request waiting.
REQUEST_ACTIONS = [
    ("request_extension", None, {"duration": "1wd", "reason": "需采购配件"}),
    ("request_suspension", None, {"reason": "等待产权单位答复"}),
    ("request_void", None, {"reason": "重复工单"}),
    ("approve_extension", "request_extension", {}),
    ("reject_extension", "request_extension", {"reason": "不同意"}),
    ("suspend", "request_suspension", {"reason": "同意挂起"}),
    ("reject_suspension", "request_suspension", {"reason": "请先处置"}),
    ("void", "request_void", {"reason": "核实为重复工单"}),
    ("reject_void", "request_void", {"reason": "非重复工单"}),
]
ASKS = {
    "request_extension": {"duration": "1wd", "reason": "需采购配件"},
    "request_suspension": {"reason": "等待产权单位答复"},
    "request_void": {"reason": "重复工单"},
}


async def _in_progress(api, grid: str, department: str, asks: str | None) -> int:
    case = await api.file(grid_code=grid, description="矩阵测试的案件")
    if case["state"] != "assigned":
        answer = await api.act(case["id"], "dispatch", "dispatcher", department=department)
        assert answer.status_code == 200, answer.text
    answer = await api.act(case["id"], "accept", "handler", department)
    assert answer.status_code == 200, answer.text
    if asks is not None:
        answer = await api.act(case["id"], asks, "handler", department, **ASKS[asks])
        assert answer.status_code == 200, answer.text
    return case["id"]


@pytest.mark.parametrize("role", PERSON_ROLES, ids=str)
async def test_request_actions_by_role_and_scope(api, role):
    workflow = standard_workflow()
    wrong = []
    for action, asks, body in REQUEST_ACTIONS:
        may = any(role in spec.roles for spec in workflow.specs(action, "in_progress"))
        inside = await _in_progress(api, "01010101", "HW-01", asks)
        outside = await _in_progress(api, "02020101", "HW-02", asks)
        seen = await api.act(inside, action, str(role), SCOPES[role], **body)
        hidden = await api.act(outside, action, str(role), SCOPES[role], **body)
        expected_hidden = (200 if may else 403) if role is Role.admin else 404
        if seen.status_code != (200 if may else 403):
            wrong.append(f"{action} in scope: {seen.status_code} {seen.text[:120]}")
        if hidden.status_code != expected_hidden:
            wrong.append(f"{action} out of scope: {hidden.status_code}")
    assert wrong == [], f"{role} got unexpected answers"
