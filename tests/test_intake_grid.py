"""Grid workers: on-site reports with photos, self-handled reports closed at once with
before/after photos, the worker's check list, and the scope of their grids."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from engine.cases.models import Case
from engine.db import new_session
from tests.intake_support import png

URL = "/api/v1/intake/grid"
GRID, COMMUNITY, OTHER_GRID = "01010101", "010101", "02010101"


@pytest.fixture
async def api(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "photos")
    async with make_api(ctx) as client:
        yield client


async def photo(api, seed: int, scope: str = GRID) -> str:  # uploaded by who files it
    files = {"file": ("p.png", png(seed), "image/png")}
    response = await api.client.post(
        "/api/v1/attachments", files=files, headers=api.auth("grid_worker", scope)
    )
    assert response.status_code == 201, response.text
    return response.json()["ref"]


def report(**fields) -> dict:
    return {
        "report_id": "7d1f6a2e-grid-0001",
        "category": "09007",
        "description": "东坡社区3幢楼道口堆放大量装修垃圾和旧家具，堵塞消防通道",
        "lat": 30.30333,
        "lng": 120.1096,
        "grid_code": GRID,
        "address": "东坡社区3幢",
    } | fields


def count(api) -> int:
    with new_session(api.ctx.db) as session:
        return session.exec(select(func.count()).select_from(Case)).one()


async def events(api, case_id: int) -> list[dict]:
    response = await api.client.get(f"/api/v1/cases/{case_id}/events", headers=api.auth("admin"))
    return response.json()


async def test_report_is_registered_with_its_photos(api):
    before = await photo(api, 1)
    response = await api.client.post(
        URL, json=report(photos=[before]), headers=api.auth("grid_worker", GRID)
    )
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["channel"] == "grid" and case["state"] == "registered"
    assert case["owning_unit"] == GRID and case["external_id"] == "7d1f6a2e-grid-0001"
    trail = await events(api, case["id"])
    assert [e["action"] for e in trail][:3] == ["report", "register", "note"]
    assert trail[2]["actor_role"] == "grid_worker" and trail[2]["data"]["photos"] == [before]


async def test_self_handled_report_closes_at_once(api):
    before, after = await photo(api, 1, COMMUNITY), await photo(api, 2, COMMUNITY)
    body = report(
        photos=[before],
        self_handled=True,
        result="已联系物业清运装修垃圾，消防通道已畅通",
        after_photos=[after],
    )
    response = await api.client.post(URL, json=body, headers=api.auth("grid_worker", COMMUNITY))
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["state"] == "closed" and case["closed_at"] is not None
    assert case["resolution"] == "已联系物业清运装修垃圾，消防通道已畅通"
    assert case["lead_department"] is None  # never sent to a department
    trail = await events(api, case["id"])
    assert [(e["action"], e["to_state"]) for e in trail] == [
        ("report", "reported"),
        ("note", "reported"),
        ("self_handle", "closed"),
    ]
    assert trail[1]["data"]["photos"] == [before] and trail[2]["data"]["photos"] == [after]


async def test_self_handled_needs_result_and_after_photos(api):
    before = await photo(api, 1)
    headers = api.auth("grid_worker", GRID)
    no_result = await api.client.post(
        URL, json=report(photos=[before], self_handled=True, after_photos=[before]), headers=headers
    )
    assert no_result.status_code == 422
    assert no_result.json()["error"]["details"][0]["field"] == "result"
    no_after = await api.client.post(
        URL, json=report(photos=[before], self_handled=True, result="已处理"), headers=headers
    )
    assert no_after.json()["error"]["details"][0]["field"] == "after_photos"
    assert count(api) == 0


async def test_resent_report_is_one_case(api):
    before = await photo(api, 1)
    headers = api.auth("grid_worker", GRID)
    first = await api.client.post(URL, json=report(photos=[before]), headers=headers)
    again = await api.client.post(URL, json=report(photos=[before]), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and count(api) == 1


async def test_malformed_reports_name_the_field(api):
    before = await photo(api, 1)
    headers = api.auth("grid_worker", GRID)
    cases = [
        (report(photos=[]), "photos"),
        ({k: v for k, v in report(photos=[before]).items() if k != "lat"}, "lat"),
        (report(photos=[before], lat=130.0), "lat"),
        (report(photos=[before], category="9007"), "category"),
        (report(photos=[before], category="99999"), "category"),
        (report(photos=[before], description=""), "description"),
        (report(photos=["att:" + "0" * 64 + ".png"]), "photos[0]"),
        (report(photos=[before, "照片1"]), "photos[1]"),
        (report(photos=[before], grid_code="010101"), "grid_code"),
        (report(photos=[before], grid_code="01019999"), "grid_code"),
        (report(photos=[before], colour="red"), "colour"),
    ]
    for body, field in cases:
        response = await api.client.post(URL, json=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["details"][0]["field"] == field, (field, response.json())
    assert count(api) == 0


async def test_worker_reports_only_in_their_grids(api):
    before = await photo(api, 1)
    outside = await api.client.post(
        URL,
        json=report(photos=[before], grid_code=OTHER_GRID),
        headers=api.auth("grid_worker", GRID),
    )
    assert outside.status_code == 403
    assert OTHER_GRID in outside.json()["error"]["message"]
    operator = await api.client.post(
        URL, json=report(photos=[before]), headers=api.auth("operator")
    )
    assert operator.status_code == 403
    assert count(api) == 0


async def test_grid_defaults_to_the_workers_own(api):
    before = await photo(api, 1)
    body = report(photos=[before], report_id=None)
    body.pop("grid_code")
    response = await api.client.post(URL, json=body, headers=api.auth("grid_worker", GRID))
    assert response.status_code == 201 and response.json()["owning_unit"] == GRID


async def test_check_list_and_pass_fail_with_photos(api):
    headers = api.auth("grid_worker", GRID)
    # A video report waiting for 核实 in the worker's grid, one elsewhere.
    mine = await api.file(channel="open311", external_id="o-1", grid_code=GRID)
    other = await api.file(channel="open311", external_id="o-2", grid_code=OTHER_GRID)
    for case in (mine, other):
        assert (await api.act(case["id"], "request_verification", "operator")).status_code == 200
    # A resolved case waiting for 核查.
    done = await api.file(external_id=None, grid_code=GRID)
    await api.act(done["id"], "dispatch", "dispatcher", department="HW-01")
    await api.act(done["id"], "accept", "handler", "HW-01")
    await api.act(done["id"], "resolve", "handler", "HW-01", result="已清运")

    tasks = (await api.client.get(f"{URL}/tasks", headers=headers)).json()["items"]
    assert {(t["action"], t["case"]["id"]) for t in tasks} == {
        ("verify_report", mine["id"]),
        ("verify", done["id"]),
    }
    assert all(t["case"]["reporter_phone"] is None or "*" in t["case"]["reporter_phone"]
               for t in tasks)  # fmt: skip

    evidence = await photo(api, 3)
    passed = await api.act(
        mine["id"], "verify_report", "grid_worker", GRID, passed=True, photos=[evidence]
    )
    assert passed.status_code == 200 and passed.json()["state"] == "registered"
    failed = await api.act(
        done["id"],
        "verify",
        "grid_worker",
        GRID,
        passed=False,
        note="垃圾未清完",
        photos=[evidence],
    )
    assert failed.status_code == 200 and failed.json()["state"] == "in_progress"
    assert failed.json()["rework_count"] == 1
    tasks = (await api.client.get(f"{URL}/tasks", headers=headers)).json()["items"]
    assert tasks == []
    forbidden = await api.client.get(f"{URL}/tasks", headers=api.auth("operator"))
    assert forbidden.status_code == 403


async def test_grid_is_found_from_the_gps_point(api):
    before = await photo(api, 1, COMMUNITY)
    body = report(photos=[before], report_id="gps-1", lat=30.3035, lng=120.12978)
    body.pop("grid_code")
    response = await api.client.post(URL, json=body, headers=api.auth("grid_worker", COMMUNITY))
    assert response.status_code == 201, response.text
    assert response.json()["owning_unit"] == "01010102"  # located by the grid polygons
    elsewhere = report(photos=[before], report_id="gps-2", lat=30.30244, lng=120.17046)
    elsewhere.pop("grid_code")
    refused = await api.client.post(URL, json=elsewhere, headers=api.auth("grid_worker", COMMUNITY))
    assert refused.status_code == 403 and OTHER_GRID in refused.json()["error"]["message"]
