"""Category suggestions as the caller speaks: the intake form's debounced JSON endpoint
(POST /intake/suggest) and its clickable suggestions, from the shared live router."""

from __future__ import annotations

from pathlib import Path

import pytest
from dispatch_support import activate
from page_support import login, post

from engine.classifier import TextRouter
from tests.router_support import save_demo_models

SUGGEST = "/intake/suggest"
CALL = "东坡社区门口垃圾堆积三天无人清理，气味很大"


@pytest.fixture
async def with_model(make_ctx, make_api, tmp_path):
    store = save_demo_models(tmp_path / "models")
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api, TextRouter.load(store)


@pytest.fixture
async def without_model(make_ctx, make_api):
    ctx = make_ctx()
    async with make_api(ctx) as api:
        yield api


async def test_suggestions_while_typing(with_model):
    api, router = with_model
    csrf = await login(api, "operator")
    form = (await api.client.get("/intake")).text
    assert 'data-suggest="/intake/suggest"' in form and 'data-fill-target="category"' in form
    assert '<script src="/static/gridflow.js"' in form  # served by the app, nothing outside

    answer = await post(api, SUGGEST, csrf, description=CALL, address="东坡路8号")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    expected = router.predict(f"{CALL} 东坡路8号").guess("category")
    assert body["model"] is True
    assert [s["category"] for s in body["suggestions"]] == [c for c, _ in expected.top3]
    first = body["suggestions"][0]
    assert first == {
        "category": "06002", "label": "06002 暴露垃圾", "name": "暴露垃圾",
        "name_en": first["name_en"], "confidence": round(expected.confidence, 3),
    }  # fmt: skip
    short = (await post(api, SUGGEST, csrf, description="垃")).json()
    assert short == {"model": True, "suggestions": []}  # too little to go on yet


def test_the_script_debounces_and_fills_the_category():
    script = (Path(__file__).resolve().parents[1] / "web/static/gridflow.js").read_text()
    assert 'getAttribute("data-delay") || 400' in script  # ≈400 ms after typing stops
    assert "clearTimeout(timer)" in script and "data-fill" in script
    # The suggestions are the caller's words and the model's labels: written as text, never
    # as markup (the block of [data-suggest], up to the next enhancement).
    block = script.split('querySelectorAll("[data-suggest]")')[1].split("\ndocument.")[0]
    assert "textContent" in block and "innerHTML" not in block


async def test_a_posted_form_shows_clickable_suggestions(with_model):
    api, _ = with_model
    csrf = await login(api, "operator")
    page = await post(api, "/intake", csrf, description=CALL, grid_code="01010101", suggest="1")
    assert page.status_code == 200 and 'id="suggestions"' in page.text
    assert 'data-fill="category" data-value="06002 暴露垃圾"' in page.text


async def test_without_a_model_nothing_is_offered(without_model):
    api = without_model
    csrf = await login(api, "operator")
    assert "data-suggest=" not in (await api.client.get("/intake")).text
    answer = await post(api, SUGGEST, csrf, description=CALL)
    assert answer.status_code == 200 and answer.json() == {"model": False, "suggestions": []}


async def test_the_endpoint_checks_the_session_role_and_csrf(with_model):
    api, _ = with_model
    csrf = await login(api, "operator")
    forged = await api.client.post(SUGGEST, data={"csrf_token": "forged", "description": CALL})
    assert forged.status_code == 403 and "suggestions" not in forged.text
    long = await post(api, SUGGEST, csrf, description="垃圾" * 5000)  # cut, not refused
    assert long.status_code == 200 and long.json()["suggestions"]
    handler_csrf = await login(api, "handler", "HW-01")
    denied = await post(api, SUGGEST, handler_csrf, description=CALL)
    assert denied.status_code == 403
    api.client.cookies.clear()
    anonymous = await api.client.post(SUGGEST, data={"csrf_token": csrf, "description": CALL})
    assert anonymous.status_code == 303  # to the login page
