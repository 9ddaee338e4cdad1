"""Open311 GeoReport v2: every response validates against JSON Schemas written from the spec
(tests/schemas/open311), errors are the spec's [{code, description}] with its status codes,
and a request's status follows the case (and its master, once merged)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from adapters import open311

SCHEMAS = Path(__file__).parent / "schemas" / "open311"
BASE = "/open311/v2"


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def check(name: str, body) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, registry=REGISTRY).validate(body)


def error(response, status: int) -> str:
    assert response.status_code == status, response.text
    check("errors", response.json())
    assert response.json()[0]["code"] == status
    return response.json()[0]["description"]


@pytest.fixture
def key(api) -> str:
    return api.auth("operator")["Authorization"].removeprefix("Bearer ")


def report(key: str, **fields) -> dict:
    return {
        "api_key": key,
        "jurisdiction_id": "demo-city",
        "service_code": "06002",
        "lat": "30.30333",
        "long": "120.1096",
        "address_string": "东湖区东坡路与湖滨路口东北角",
        "description": "路口东北角绿化带旁有人倾倒生活垃圾，已堆积两天",
        "first_name": "小明",
        "last_name": "陈",
        "phone": "13600003333",
        "email": "chen@example.cn",
        "media_url": "https://img.example.cn/reports/2026/03/02/001.jpg",
    } | fields


async def post(api, body: dict):
    return await api.client.post(f"{BASE}/requests.json", data=body)


async def test_discovery_and_services(api):
    response = await api.client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    check("discovery", response.json())
    assert response.json()["endpoints"][0]["url"].endswith("/open311/v2")
    services = (await api.client.get(f"{BASE}/services.json")).json()
    check("services", services)
    by_code = {s["service_code"]: s for s in services}
    assert (
        by_code["06002"]["service_name"] == "暴露垃圾" and by_code["06002"]["group"] == "市容环境"
    )
    definition = await api.client.get(f"{BASE}/services/06002.json?jurisdiction_id=demo-city")
    check("service_definition", definition.json())
    error(await api.client.get(f"{BASE}/services/99999.json"), 404)
    error(await api.client.get(f"{BASE}/services.json?jurisdiction_id=other-city"), 404)


async def test_post_then_get_a_request(api, key):
    response = await post(api, report(key, account_id="wx-778"))
    assert response.status_code == 201, response.text
    check("post_response", response.json())
    request_id = response.json()[0]["service_request_id"]
    assert response.json()[0]["account_id"] == "wx-778"

    one = await api.client.get(f"{BASE}/requests/{request_id}.json")
    check("requests", one.json())
    [view] = one.json()
    assert view["status"] == "open" and view["service_code"] == "06002"
    assert view["service_name"] == "暴露垃圾" and view["status_notes"] == "已上报"
    assert view["lat"] == 30.30333 and view["long"] == 120.1096
    assert view["requested_datetime"] == "2026-03-02T09:00:00+08:00"
    assert "13600003333" not in one.text and "陈" not in json.dumps(view, ensure_ascii=False)
    case = (
        await api.client.get(f"/api/v1/cases/{request_id}", headers=api.auth("operator"))
    ).json()
    assert case["channel"] == "open311" and case["reporter_name"] == "陈小明"
    assert case["reporter_phone"] == "13600003333"
    events = (
        await api.client.get(f"/api/v1/cases/{request_id}/events", headers=api.auth("admin"))
    ).json()
    assert events[-1]["data"]["photos"] == [report(key)["media_url"]]


async def test_json_body_is_accepted_too(api, key):
    response = await api.client.post(
        f"{BASE}/requests.json", json=report(key, media_url=None, lat=30.30333, long=120.1096)
    )
    assert response.status_code == 201, response.text


async def test_status_follows_the_case(api, key):
    request_id = (await post(api, report(key))).json()[0]["service_request_id"]
    cid = int(request_id)
    await api.act(cid, "register", "operator")
    await api.act(cid, "dispatch", "dispatcher", department="HW-01")
    view = (await api.client.get(f"{BASE}/requests/{request_id}.json")).json()[0]
    assert view["status"] == "open" and view["agency_responsible"] == "东湖区环境卫生管理处"
    if open311.SlaClock is not None:  # the SLA engine is installed: the accept deadline
        assert view["expected_datetime"] is not None
    await api.act(cid, "accept", "handler", "HW-01")
    await api.act(cid, "resolve", "handler", "HW-01", result="已清运并在路口加装监控提示牌")
    await api.act(cid, "close", "dispatcher", reason="现场核实已清理")
    one = await api.client.get(f"{BASE}/requests/{request_id}.json")
    check("requests", one.json())
    view = one.json()[0]
    assert view["status"] == "closed" and "已清运并在路口加装监控提示牌" in view["status_notes"]
    assert view["expected_datetime"] is None


async def test_list_with_filters_shows_only_open311_requests(api, key):
    ids = [(await post(api, report(key))).json()[0]["service_request_id"] for _ in range(2)]
    other = (await post(api, report(key, service_code="09004"))).json()[0]["service_request_id"]
    await api.file()  # a hotline case: never public
    await api.act(int(ids[1]), "void", "operator", reason="重复提交")
    everything = (await api.client.get(f"{BASE}/requests.json")).json()
    check("requests", everything)
    assert {r["service_request_id"] for r in everything} == {*ids, other}
    opened = (await api.client.get(f"{BASE}/requests.json?status=open")).json()
    assert {r["service_request_id"] for r in opened} == {ids[0], other}
    closed = (await api.client.get(f"{BASE}/requests.json?status=closed")).json()
    assert [r["service_request_id"] for r in closed] == [ids[1]]
    by_code = (await api.client.get(f"{BASE}/requests.json?service_code=09004")).json()
    assert [r["service_request_id"] for r in by_code] == [other]
    picked = await api.client.get(f"{BASE}/requests.json?service_request_id={ids[0]},{other}")
    assert {r["service_request_id"] for r in picked.json()} == {ids[0], other}
    window = "start_date=2026-03-03T00:00:00%2B08:00&end_date=2026-03-04T00:00:00%2B08:00"
    assert (await api.client.get(f"{BASE}/requests.json?{window}")).json() == []


async def test_merged_request_shows_its_masters_status(api, key):
    master = await api.file(channel="web", lat=30.30333, lng=120.1096)
    request_id = (await post(api, report(key))).json()[0]["service_request_id"]
    merged = await api.act(int(request_id), "merge", "dispatcher", master_id=master["id"])
    assert merged.status_code == 200
    view = (await api.client.get(f"{BASE}/requests/{request_id}.json")).json()[0]
    assert view["status"] == "open" and view["status_notes"].startswith(f"已并入 {master['id']}")
    opened = (await api.client.get(f"{BASE}/requests.json?status=open")).json()
    assert [r["service_request_id"] for r in opened] == [request_id]


async def test_errors_follow_the_spec(api, key):
    assert "api_key" in error(await post(api, report("")), 403)
    error(await post(api, report("gf_not-a-real-token")), 403)
    handler_key = api.auth("handler", "HW-01")["Authorization"].removeprefix("Bearer ")
    error(await post(api, report(handler_key)), 403)
    assert "service_code" in error(await post(api, report(key, service_code="")), 400)
    assert "service_code" in error(await post(api, report(key, service_code="77777")), 400)
    no_place = report(key, lat="", long="", address_string="")
    assert "location" in error(await post(api, no_place), 400)
    assert "lat" in error(await post(api, report(key, lat="北纬30度")), 400)
    assert "long" in error(await post(api, report(key, long="")), 400)
    assert "phone" in error(await post(api, report(key, phone="call me")), 400)
    assert "media_url" in error(await post(api, report(key, media_url="file:///etc/passwd")), 400)
    error(await post(api, report(key, jurisdiction_id="another-city")), 404)
    error(await api.client.get(f"{BASE}/requests/123456.json"), 404)
    error(await api.client.get(f"{BASE}/requests/abc.json"), 404)
    error(await api.client.get(f"{BASE}/requests.json?status=pending"), 400)
    error(await api.client.get(f"{BASE}/requests.json?start_date=yesterday"), 400)
    error(await api.client.get(f"{BASE}/requests.xml"), 400)
    error(await api.client.get(f"{BASE}/nothing-here.json"), 404)
    hotline = await api.file()
    error(await api.client.get(f"{BASE}/requests/{hotline['id']}.json"), 404)


async def test_resubmitted_request_is_flagged_as_a_duplicate(api, key):
    first = (await post(api, report(key))).json()[0]["service_request_id"]
    again = (await post(api, report(key))).json()[0]["service_request_id"]
    assert again != first  # Open311 has no idempotency key: a second request is filed ...
    case = (await api.client.get(f"/api/v1/cases/{again}", headers=api.auth("operator"))).json()
    assert case["duplicate_of"] == int(first)  # ... and flagged for the operator to merge
