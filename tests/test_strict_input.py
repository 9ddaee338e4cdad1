"""Strict input: a misspelled field is a 422 naming it on every JSON body, durations are ASCII
digits within about a year, and an action the workflow does not know is a 404."""

from __future__ import annotations

import pytest

from engine.durations import parse_duration
from web.app import create_app

CASE = {
    "channel": "hotline",
    "category": "06002",
    "description": "小区门口垃圾堆积",
    "grid_code": "01010101",
}


def _schema(spec: dict, node: dict) -> dict:
    ref = node.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else node


def _objects(spec: dict, node: dict) -> list[dict]:
    """The object schemas a JSON body may be (unwrapping anyOf / arrays)."""
    node = _schema(spec, node)
    if "anyOf" in node:
        return [o for option in node["anyOf"] for o in _objects(spec, option)]
    if node.get("type") == "array":
        return _objects(spec, node.get("items", {}))
    return [node] if node.get("type") == "object" or "properties" in node else []


def test_every_json_body_forbids_unknown_fields(ctx):
    spec = create_app(context=ctx).openapi()
    checked, lax = [], []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for body in _objects(spec, content["application/json"]["schema"]):
                name = body.get("title", "?")
                if name == "ActionRequest":  # its fields are the workflow's (tested below)
                    continue
                checked.append(name)
                if body.get("additionalProperties") is not False:
                    lax.append(f"{method.upper()} {path}: {name}")
    assert {"CaseCreate", "HotlineTicket", "Login", "TokenCreate"} <= set(checked)
    assert lax == []


def _field_named(response, field: str) -> bool:
    details = response.json()["error"]["details"]
    return any(d["field"].endswith(field) for d in details)


async def test_a_misspelled_case_field_is_refused(api):
    body = {k: v for k, v in CASE.items() if k != "category"} | {"categroy": "06002"}
    response = await api.client.post("/api/v1/cases", json=body, headers=api.auth("operator"))
    assert response.status_code == 422
    assert _field_named(response, "categroy")
    assert "Extra inputs are not permitted" in response.text


@pytest.mark.parametrize(
    ("url", "body", "role", "scope"),
    [
        (
            "/api/v1/intake/hotline",
            {"ticket_no": "T-1", "content": "路灯不亮", "categroy": "01001"},
            "operator",
            "00",
        ),
        (
            "/api/v1/intake/grid",
            {"description": "井盖破损", "grid_code": "01010101", "catgory": "01001"},
            "grid_worker",
            "01010101",
        ),
        (
            "/api/v1/intake/video",
            {
                "camera_id": "CAM-010101-01",
                "event_type": "garbage_overflow",
                "confidence": 0.9,
                "occurred_at": "2026-03-02T09:00:00+08:00",
                "snapshot_url": "x",
            },
            "operator",
            "00",
        ),
    ],
)
async def test_intake_channels_refuse_unknown_fields(api, url, body, role, scope):
    response = await api.client.post(url, json=body, headers=api.auth(role, scope))
    assert response.status_code == 422, response.text
    wrong = next(k for k in body if k in ("categroy", "catgory", "snapshot_url"))
    assert _field_named(response, wrong)


async def test_token_requests_refuse_unknown_fields(api):
    login = {"username": "operator", "password": "gridflow-demo", "expires_in_days": 0}
    response = await api.client.post("/api/v1/auth/token", json=login)
    assert response.status_code == 422 and _field_named(response, "expires_in_days")
    body = {"role": "operator", "scope": "00", "expires_in_days": 0}
    response = await api.client.post("/api/v1/admin/tokens", json=body, headers=api.auth("admin"))
    assert response.status_code == 422 and _field_named(response, "expires_in_days")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("５wd", "ASCII digits"),  # full-width 5
        ("٥wd", "ASCII digits"),  # Arabic-Indic 5
        ("9999wd", "at most 250wd"),
        ("366d", None),
        ("367d", "at most 366d"),
        ("0h", "greater than zero"),
    ],
)
def test_durations_are_ascii_digits_within_a_year(text, reason):
    if reason is None:
        assert str(parse_duration(text)) == text
    else:
        with pytest.raises(ValueError, match=reason):
            parse_duration(text)


async def test_a_duration_field_refuses_other_digits_with_a_clear_reason(api):
    case = await api.file()
    response = await api.act(
        case["id"], "dispatch", "dispatcher", department="HW-01", limits={"handle": "٣wd"}
    )
    assert response.status_code == 422
    assert _field_named(response, "limits.handle") and "ASCII digits" in response.text


async def test_an_unknown_action_is_404_and_a_known_one_out_of_state_409(api):
    case = await api.file()
    unknown = await api.act(case["id"], "teleport", "dispatcher")
    assert unknown.status_code == 404 and "teleport" in unknown.json()["error"]["message"]
    not_now = await api.act(case["id"], "resolve", "handler", "HW-01", result="done")
    assert not_now.status_code in (404, 409)  # 404: the handler cannot see it yet
    not_now = await api.act(case["id"], "close", "dispatcher", reason="x")
    assert not_now.status_code == 409


async def test_an_unknown_field_on_an_action_is_refused(api):
    case = await api.file()
    response = await api.act(case["id"], "dispatch", "dispatcher", departmnet="HW-01")
    assert response.status_code == 422 and _field_named(response, "departmnet")


async def test_the_rule_table_body_refuses_unknown_fields(api):
    body = {"text": "", "txt": "x"}
    response = await api.client.post("/api/v1/rules/check", json=body, headers=api.auth("admin"))
    assert response.status_code == 422 and _field_named(response, "txt")
