"""POST /api/v1/classifier/suggest (token, roles, rate limit) and the admin's weekly accuracy."""

from __future__ import annotations

import pytest

from tests.router_support import save_demo_models

SUGGEST = "/api/v1/classifier/suggest"
CALL = {"text": "东湖区湖滨街道湖滨路上的路灯不亮了，晚上一片漆黑", "address": "湖滨路12号"}


@pytest.fixture
async def with_model(make_ctx, make_api, tmp_path):
    save_demo_models(tmp_path / "models")
    async with make_api(make_ctx(classifier_suggest_per_minute=8)) as api:
        yield api


async def test_top3_categories_and_departments_with_calibrated_confidence(with_model):
    api = with_model
    response = await api.client.post(SUGGEST, json=CALL, headers=api.auth("operator"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] is True and answer["model_version"].startswith("category@")
    [best, *rest] = answer["categories"]
    assert best["code"] == "01003" and best["name"] and len(rest) == 2
    assert answer["departments"][0]["code"] == "SZ-00" and answer["departments"][0]["name"]
    for choices in (answer["categories"], answer["departments"]):
        confidences = [c["confidence"] for c in choices]
        assert confidences == sorted(confidences, reverse=True) and sum(confidences) <= 1.0001
        assert all(0 < c < 1 for c in confidences)  # calibrated: never certain
    assert answer["threshold"] == 0.85 and answer["route"] in ("auto", "manual")


async def test_roles_tokens_and_bad_input(with_model):
    api = with_model
    for role, status in (("dispatcher", 200), ("admin", 200), ("handler", 403)):
        scope = "HW-01" if role == "handler" else "00"
        response = await api.client.post(SUGGEST, json=CALL, headers=api.auth(role, scope))
        assert response.status_code == status, (role, response.text)
    assert (await api.client.post(SUGGEST, json=CALL)).status_code == 401
    bad = await api.client.post(SUGGEST, json={"text": ""}, headers=api.auth("operator"))
    assert bad.status_code == 422 and "text" in bad.text
    extra = await api.client.post(SUGGEST, json=CALL | {"x": 1}, headers=api.auth("operator"))
    assert extra.status_code == 422


async def test_rate_limited_per_token(with_model, clock):
    api = with_model
    headers = api.auth("operator")
    codes = [
        (await api.client.post(SUGGEST, json=CALL, headers=headers)).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]  # a burst of 8/4 = 2, then 8 a minute
    limited = await api.client.post(SUGGEST, json=CALL, headers=headers)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    other = await api.client.post(SUGGEST, json=CALL, headers=api.auth("dispatcher"))
    assert other.status_code == 200  # another token has its own budget
    clock.advance(seconds=8)
    assert (await api.client.post(SUGGEST, json=CALL, headers=headers)).status_code == 200


async def test_without_a_model_the_answer_says_so(api):
    response = await api.client.post(SUGGEST, json=CALL, headers=api.auth("operator"))
    assert response.status_code == 200
    assert response.json() | {"threshold": 0} == {
        "model": False,
        "model_version": None,
        "categories": [],
        "departments": [],
        "threshold": 0,
        "route": None,
    }


async def test_weekly_accuracy_for_admins_only(api):
    url = "/api/v1/admin/classifier/accuracy"
    response = await api.client.get(url, headers=api.auth("admin"))
    assert response.status_code == 200
    assert response.json()["weeks"] == [] and response.json()["warning"] is None
    assert (await api.client.get(url, headers=api.auth("dispatcher"))).status_code == 403
    bad = await api.client.get(url + "?weeks=0", headers=api.auth("admin"))
    assert bad.status_code == 422 and "weeks" in bad.text
