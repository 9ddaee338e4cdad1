"""The Open311 listing pages by keyset: ``page_size`` and ``after`` (the last
service_request_id shown), newest first, stable while new requests arrive."""

from __future__ import annotations

from open311_support import BASE, both


async def _report(api, i: int) -> str:
    body = {
        "api_key": api.auth("operator")["Authorization"].removeprefix("Bearer "),
        "jurisdiction_id": "demo-city",
        "service_code": "06002",
        "lat": "30.30333",
        "long": "120.1096",
        "description": f"第{i}处绿化带旁有人倾倒建筑垃圾",
    }
    response = await api.client.post(f"{BASE}/requests.json", data=body)
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


async def test_open311_requests_page_after_the_last_id(api):
    filed = [await _report(api, i) for i in range(5)]
    first = (await both(api.client, "requests", "requests", page_size="2")).json()
    assert [r["service_request_id"] for r in first] == filed[::-1][:2]
    newer = await _report(api, 99)
    seen, after = [r["service_request_id"] for r in first], first[-1]["service_request_id"]
    while True:
        page = (await both(api.client, "requests", "requests", page_size="2", after=after)).json()
        if not page:
            break
        seen += [r["service_request_id"] for r in page]
        after = page[-1]["service_request_id"]
    assert seen == filed[::-1] and newer not in seen


async def test_bad_paging_parameters_name_the_field(api):
    for params in ({"page_size": "0"}, {"page_size": "x"}, {"after": "abc"}):
        response = await api.client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 400, response.text
        assert next(iter(params)) in response.text
