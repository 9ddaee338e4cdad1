"""Open311 GeoReport v2: every reply is valid in both formats (XSDs and JSON Schemas under
tests/schemas/open311) and XML and JSON say the same; errors are the spec's in the URL's
format with its status codes; a request's status follows the case (and its master, once
merged) and its expected_datetime is the fulfilment deadline."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from open311_support import BASE, XML_TYPE, both, check, check_xml, simple

from engine.durations import deadline


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
        "device_id": "ios-7F3A9C",
        "media_url": "https://img.example.cn/reports/2026/03/02/001.jpg",
    } | fields


async def post(api, body: dict, fmt: str = "json"):
    return await api.client.post(f"{BASE}/requests.{fmt}", data=body)


async def error(response, status: int) -> str:
    assert response.status_code == status, response.text
    [found] = check("errors", response)
    assert int(found["code"]) == status
    return found["description"]


async def test_discovery_and_services_in_both_formats(api):
    found = (await both(api.client, "discovery", "discovery")).json()
    assert found["endpoints"][0]["url"] == "http://gridflow.test/open311/v2"
    assert found["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    services = (await both(api.client, "services", "services", jurisdiction_id="demo-city")).json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["06002"]["service_name"] == "暴露垃圾"
    assert by_code["06002"]["group"] == "市容环境" and by_code["06002"]["metadata"] is True
    definition = (await both(api.client, "service_definition", "services/06002")).json()
    [attribute] = definition["attributes"]
    assert attribute["code"] == "request_type" and attribute["datatype"] == "singlevaluelist"
    assert {v["key"] for v in attribute["values"]} == {
        "consult", "help", "complaint", "report", "suggestion"
    }  # fmt: skip


async def test_xml_is_the_default_format(api):
    for path in ("discovery", "services", "services/06002", "requests", "servicerequestupdates"):
        bare = await api.client.get(f"{BASE}/{path}")
        assert bare.status_code == 200 and bare.headers["content-type"] == XML_TYPE, path
        assert bare.text == (await api.client.get(f"{BASE}/{path}.xml")).text


async def test_post_then_get_a_request_in_both_formats(api, key):
    response = await post(api, report(key, account_id="wx-778"), "xml")
    assert response.status_code == 201, response.text
    [created] = check("post_response", response)
    assert created["account_id"] == "wx-778" and created["token"]
    request_id = created["service_request_id"]

    [view] = (await both(api.client, "requests", f"requests/{request_id}")).json()
    assert view["status"] == "open" and view["service_code"] == "06002"
    assert view["service_name"] == "暴露垃圾" and view["status_notes"] == "已上报"
    assert view["lat"] == 30.30333 and view["long"] == 120.1096
    assert view["requested_datetime"] == "2026-03-02T09:00:00+08:00"
    assert view["media_url"] == report(key)["media_url"]
    public = json.dumps(view, ensure_ascii=False)
    for private in ("13600003333", "陈", "chen@example.cn", "ios-7F3A9C"):
        assert private not in public

    tokened = await both(api.client, "token", f"tokens/{created['token']}")
    assert tokened.json() == [{"service_request_id": request_id, "token": created["token"]}]

    case = (
        await api.client.get(f"/api/v1/cases/{request_id}", headers=api.auth("operator"))
    ).json()
    assert case["channel"] == "open311" and case["reporter_name"] == "陈小明"
    assert case["reporter_phone"] == "13600003333"
    events = (
        await api.client.get(f"/api/v1/cases/{request_id}/events", headers=api.auth("admin"))
    ).json()
    [note] = [e for e in events if e["action"] == "note"]
    assert note["data"]["photos"] == [report(key)["media_url"]]
    assert "chen@example.cn" in note["data"]["note"] and "ios-7F3A9C" in note["data"]["note"]


async def test_form_attributes_and_json_body(api, key):
    form = report(key) | {"attribute[request_type]": "complaint"}
    request_id = (await post(api, form)).json()[0]["service_request_id"]
    case = (
        await api.client.get(f"/api/v1/cases/{request_id}", headers=api.auth("operator"))
    ).json()
    assert case["request_type"] == "complaint"
    response = await api.client.post(
        f"{BASE}/requests.json", json=report(key, media_url=None, lat=30.30333, long=120.1096)
    )
    assert response.status_code == 201, response.text
    check("post_response", response)


async def test_status_and_expected_datetime_follow_the_case(api, key):
    request_id = (await post(api, report(key))).json()[0]["service_request_id"]
    cid = int(request_id)
    [view] = (await both(api.client, "requests", f"requests/{request_id}")).json()
    assert view["expected_datetime"] is None  # not yet registered: no deadline runs
    await api.act(cid, "register", "operator")
    await api.act(cid, "dispatch", "dispatcher", department="HW-01")
    sla = (await api.client.get(f"/api/v1/cases/{cid}/sla", headers=api.auth("admin"))).json()
    stages = {s["stage"]: s for s in sla["stages"]}
    calendar = api.ctx.calendars.get()
    projected = deadline(
        datetime.fromisoformat(stages["accept"]["due_at"]), stages["handle"]["limit"], calendar
    )
    [view] = (await both(api.client, "requests", f"requests/{request_id}")).json()
    assert view["status"] == "open" and view["agency_responsible"] == "东湖区环境卫生管理处"
    assert datetime.fromisoformat(view["expected_datetime"]) == projected  # not the accept deadline

    await api.act(cid, "accept", "handler", "HW-01")
    sla = (await api.client.get(f"/api/v1/cases/{cid}/sla", headers=api.auth("admin"))).json()
    handle = {s["stage"]: s for s in sla["stages"]}["handle"]
    [view] = (await both(api.client, "requests", f"requests/{request_id}")).json()
    assert datetime.fromisoformat(view["expected_datetime"]) == datetime.fromisoformat(
        handle["due_at"]
    )

    await api.act(cid, "resolve", "handler", "HW-01", result="已清运并在路口加装监控提示牌")
    await api.act(cid, "close", "dispatcher", reason="现场核实已清理")
    [view] = (await both(api.client, "requests", f"requests/{request_id}")).json()
    assert view["status"] == "closed" and "已清运并在路口加装监控提示牌" in view["status_notes"]
    assert view["expected_datetime"] is None


async def test_list_with_filters_shows_only_open311_requests(api, key):
    ids = [(await post(api, report(key))).json()[0]["service_request_id"] for _ in range(2)]
    other = (await post(api, report(key, service_code="09004"))).json()[0]["service_request_id"]
    await api.file()  # a hotline case: never public
    await api.act(int(ids[1]), "void", "operator", reason="重复提交")
    everything = (await both(api.client, "requests", "requests")).json()
    assert {r["service_request_id"] for r in everything} == {*ids, other}
    opened = (await both(api.client, "requests", "requests", status="open")).json()
    assert {r["service_request_id"] for r in opened} == {ids[0], other}
    closed = (await both(api.client, "requests", "requests", status="closed")).json()
    assert [r["service_request_id"] for r in closed] == [ids[1]]
    by_code = (await both(api.client, "requests", "requests", service_code="09004")).json()
    assert [r["service_request_id"] for r in by_code] == [other]
    picked = await both(api.client, "requests", "requests", service_request_id=f"{ids[0]},{other}")
    assert {r["service_request_id"] for r in picked.json()} == {ids[0], other}
    window = {"start_date": "2026-03-03T00:00:00+08:00", "end_date": "2026-03-04T00:00:00+08:00"}
    assert (await both(api.client, "requests", "requests", **window)).json() == []


async def test_merged_request_shows_its_masters_status(api, key):
    master = await api.file(channel="web", lat=30.30333, lng=120.1096)
    request_id = (await post(api, report(key))).json()[0]["service_request_id"]
    merged = await api.act(int(request_id), "merge", "dispatcher", master_id=master["id"])
    assert merged.status_code == 200
    [view] = (await both(api.client, "requests", f"requests/{request_id}")).json()
    assert view["status"] == "open" and view["status_notes"].startswith(f"已并入 {master['id']}")
    opened = (await api.client.get(f"{BASE}/requests.json?status=open")).json()
    assert [r["service_request_id"] for r in opened] == [request_id]


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_errors_follow_the_spec_in_both_formats(api, key, fmt):
    assert "api_key" in await error(await post(api, report(""), fmt), 403)
    await error(await post(api, report("gf_not-a-real-token"), fmt), 403)
    handler_key = api.auth("handler", "HW-01")["Authorization"].removeprefix("Bearer ")
    await error(await post(api, report(handler_key), fmt), 403)
    assert "service_code" in await error(await post(api, report(key, service_code=""), fmt), 400)
    assert "77777" in await error(await post(api, report(key, service_code="77777"), fmt), 404)
    no_place = report(key, lat="", long="", address_string="")
    assert "location" in await error(await post(api, no_place, fmt), 400)
    assert "lat" in await error(await post(api, report(key, lat="北纬30度"), fmt), 400)
    assert "long" in await error(await post(api, report(key, long=""), fmt), 400)
    assert "finite" in await error(await post(api, report(key, lat="nan"), fmt), 400)
    outside = await error(await post(api, report(key, lat="0", long="0"), fmt), 400)
    assert "outside" in outside and "示范市" in outside
    assert "phone" in await error(await post(api, report(key, phone="call me"), fmt), 400)
    assert "email" in await error(await post(api, report(key, email="chen at home"), fmt), 400)
    bad_media = report(key, media_url="file:///etc/passwd")
    assert "media_url" in await error(await post(api, bad_media, fmt), 400)
    bad_attribute = report(key) | {"attribute[colour]": "red"}
    assert "attribute[colour]" in await error(await post(api, bad_attribute, fmt), 400)
    bad_type = report(key) | {"attribute[request_type]": "praise"}
    assert "attribute[request_type]" in await error(await post(api, bad_type, fmt), 400)
    await error(await post(api, report(key, jurisdiction_id="another-city"), fmt), 404)
    get = api.client.get
    await error(await get(f"{BASE}/services.{fmt}?jurisdiction_id=other-city"), 404)
    await error(await get(f"{BASE}/services/99999.{fmt}"), 404)
    for request_id in ("123456", "abc", "99999999999999999999999", "-1", "٣"):
        await error(await get(f"{BASE}/requests/{request_id}.{fmt}"), 404)
    await error(await get(f"{BASE}/tokens/no-such-token.{fmt}"), 404)
    await error(await get(f"{BASE}/requests.{fmt}?service_request_id=99999999999999999999"), 400)
    await error(await get(f"{BASE}/requests.{fmt}?status=pending"), 400)
    await error(await get(f"{BASE}/requests.{fmt}?start_date=yesterday"), 400)
    late = "start_date=2026-03-03T00:00:00Z&end_date=2026-03-02T00:00:00Z"
    await error(await get(f"{BASE}/servicerequestupdates.{fmt}?{late}"), 400)
    await error(await get(f"{BASE}/nothing-here.{fmt}"), 404)
    hotline = await api.file()
    await error(await get(f"{BASE}/requests/{hotline['id']}.{fmt}"), 404)


async def test_an_unknown_format_is_refused_in_xml(api):
    for path in ("services.yaml", "services/06002.html", "requests/1.csv"):
        response = await api.client.get(f"{BASE}/{path}")
        assert response.status_code == 400, path
        check_xml("errors", response.text)
        assert simple(response.text)["error"]["code"] == "400"


async def test_resubmitted_request_is_flagged_as_a_duplicate(api, key):
    first = (await post(api, report(key))).json()[0]["service_request_id"]
    again = (await post(api, report(key))).json()[0]["service_request_id"]
    assert again != first  # Open311 has no idempotency key: a second request is filed ...
    case = (await api.client.get(f"/api/v1/cases/{again}", headers=api.auth("operator"))).json()
    assert case["duplicate_of"] == int(first)  # ... and flagged for the operator to merge
