"""End to end with a client that behaves as FixMyStreet's Open311 sender: it reads the
service list and definition as XML, posts a citizen's report as a form with its fields and
``attribute[…]`` values, reads the request back, and pulls status updates window by window
(servicerequestupdates.xml) while the city handles the case. Every reply is schema-checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from open311_support import FixMyStreetSender, both

ENDPOINT = "http://gridflow.test/open311/v2/"
PHOTO = "https://fixmystreet.example.cn/photo/4711.0.full.jpeg"


@pytest.fixture
def fms(api) -> FixMyStreetSender:
    key = api.auth("operator")["Authorization"].removeprefix("Bearer ")
    return FixMyStreetSender(api.client, ENDPOINT, "demo-city", key)


def problem(**fields) -> dict:
    return {
        "title": "东坡路口垃圾堆积",
        "detail": "路口东北角绿化带旁有人倾倒生活垃圾，已堆积两天",
        "url": "https://fixmystreet.example.cn/report/4711",
        "latitude": 30.30333,
        "longitude": 120.1096,
        "name": "小明 陈",
        "email": "chen@example.cn",
        "phone": "13600003333",
        "image_url": PHOTO,
        "device_id": "android-2b7e",
        "extra": {"request_type": "complaint"},
    } | fields


def w3c(when) -> str:
    return when.isoformat(timespec="seconds")


async def test_a_report_goes_out_and_its_updates_come_back(api, fms, clock):
    services = await fms.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["06002"]["service_name"] == "暴露垃圾" and by_code["06002"]["metadata"] == "true"
    meta = await fms.get_service_meta_info("06002")
    attribute = meta["attributes"]["attribute"]  # XML::Simple: a single element is a hash
    assert attribute["code"] == "request_type"
    assert "complaint" in [v["key"] for v in attribute["values"]["value"]]

    request_id = await fms.send_service_request(problem(), "06002")
    assert request_id is not None and fms.failures == []
    [sent] = await fms.get_service_requests([request_id])
    assert sent["status"] == "open" and sent["media_url"] == PHOTO
    assert sent["description"].startswith("title: 东坡路口垃圾堆积")
    case = (await api.client.get(f"/api/v1/cases/{request_id}", headers=api.auth("admin"))).json()
    assert case["reporter_name"] == "陈小明" and case["request_type"] == "complaint"

    # The city works the case through the day; FixMyStreet polls one window after another.
    cid, start = int(request_id), clock.now()
    steps = [
        await api.act(cid, "register", "operator"),
        await api.act(cid, "dispatch", "dispatcher", department="HW-01"),
    ]
    clock.advance(hours=2)
    steps.append(await api.act(cid, "accept", "handler", "HW-01"))
    first_window_end = clock.now()
    first = await fms.get_service_request_updates(w3c(start), w3c(first_window_end))
    assert [u["service_request_id"] for u in first] == [request_id] * len(first)
    assert {u["status"] for u in first} == {"open"} and len(first) >= 3
    assert first[-1]["description"] == "办理中"

    clock.advance(hours=5)
    result = "已清运并在路口加装监控提示牌"
    steps.append(await api.act(cid, "resolve", "handler", "HW-01", result=result))
    clock.advance(hours=1)
    steps.append(await api.act(cid, "close", "dispatcher", reason="现场核实已清理"))
    assert [s.status_code for s in steps] == [200] * 5, [s.text for s in steps]
    second = await fms.get_service_request_updates(
        w3c(first_window_end + timedelta(seconds=1)), w3c(clock.now())
    )
    assert [u["status"] for u in second][-1] == "closed"
    assert "已清运并在路口加装监控提示牌" in second[0]["description"]
    seen = {u["update_id"] for u in first}
    assert seen.isdisjoint(u["update_id"] for u in second)  # windows do not repeat updates
    [done] = await fms.get_service_requests([request_id])
    assert done["status"] == "closed"
    assert fms.failures == []

    window = {"start_date": w3c(start), "end_date": w3c(clock.now())}
    everything = (await both(api.client, "updates", "servicerequestupdates", **window)).json()
    assert [u["update_id"] for u in everything] == [u["update_id"] for u in first + second]


async def test_the_sender_reads_refusals_and_tokens(api, fms):
    assert await fms.send_service_request(problem(), "77777") is None
    assert fms.failures[-1].startswith("404: ")
    outside = problem(latitude=0, longitude=0)
    assert await fms.send_service_request(outside, "06002") is None
    assert fms.failures[-1].startswith("400: ") and "outside" in fms.failures[-1]

    form = {"api_key": fms.api_key, "service_code": "06002", "lat": "30.3", "long": "120.11"}
    created = (await api.client.post(f"{ENDPOINT}requests.json", data=form)).json()[0]
    assert (
        await fms.get_service_request_id_from_token(created["token"])
        == (created["service_request_id"])
    )
