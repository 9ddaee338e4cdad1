"""The dispatcher sees the text router's top 3 and their confidence for a queued case: on the
queue page, in GET /api/v1/dispatch/queue and in the case's dispatch explanation."""

from __future__ import annotations

import re

import pytest
from dispatch_support import activate
from page_support import file_hotline, login

from engine.classifier import TextRouter
from tests.router_support import save_demo_models

GARBAGE = "东坡社区门口垃圾堆积三天无人清理，气味很大"
QUEUE = "/api/v1/dispatch/queue"


@pytest.fixture
async def desk(make_ctx, make_api, tmp_path):
    """The demo models with a threshold GARBAGE just misses: it is queued at the city."""
    store = save_demo_models(tmp_path / "models")
    prediction = TextRouter.load(store).predict(GARBAGE)
    ctx = make_ctx(router_threshold=min(1.0, prediction.confidence + 0.005))
    activate(ctx)
    async with make_api(ctx) as api:
        yield api, prediction


async def test_the_queue_api_lists_the_routers_top_3(desk):
    api, prediction = desk
    queued = file_hotline(api.ctx, GARBAGE, category=None)
    plain = file_hotline(api.ctx, "楼上广场舞噪声扰民", category="12001")  # a rule's manual row

    answer = await api.client.get(QUEUE, params={"unit": "00"}, headers=api.auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    items = {item["case"]["id"]: item for item in answer.json()["items"]}
    router = items[queued]["router"]
    assert router["target"] == "department"
    assert [r["label"] for r in router["top3"]] == [label for label, _ in prediction.top3]
    assert router["top3"][0]["confidence"] == pytest.approx(prediction.confidence, abs=1e-4)
    assert router["confidence"] == pytest.approx(prediction.confidence, abs=1e-4)
    assert router["threshold"] > router["confidence"]
    assert router["model_version"] == prediction.model_version
    assert items[queued]["suggestion"] is None  # the default row names no department
    assert items[plain]["router"] is None  # the rule decided: the router was not asked

    explained = await api.client.get(
        f"/api/v1/cases/{queued}/dispatch", headers=api.auth("dispatcher")
    )
    decision = explained.json()["decision"]
    assert (decision["source"], decision["router_target"]) == ("router", "department")
    assert decision["candidates"] == router["top3"]
    assert decision["model_version"] == prediction.model_version
    assert explained.json()["history"][0]["data"]["suggestions"] == router["top3"]


async def test_the_queue_page_shows_the_top_3_with_confidence(desk):
    api, prediction = desk
    queued = file_hotline(api.ctx, GARBAGE, category=None)
    await login(api, "dispatcher", "00")
    page = (await api.client.get("/dispatch")).text
    item = page[page.index(f'data-case="{queued}"') :]
    assert "智能分拨建议" in item and 'data-router="department"' in item
    labels = re.findall(r'<li data-label="([^"]+)">', item)[:3]
    assert labels == [label for label, _ in prediction.top3]
    assert "东湖区环境卫生管理处" in item  # HW-01 by its name …
    assert f"{round(prediction.confidence * 100)}%" in item  # … with its confidence
    assert "置信度低于自动派遣阈值" in item
    # The router's best department is preselected for the one-click dispatch.
    assert '<option value="HW-01" selected>' in item

    english = (await api.client.get("/dispatch", params={"lang": "en"})).text
    assert "Text router suggests" in english and "Below the auto-dispatch threshold" in english
