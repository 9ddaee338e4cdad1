"""AI video alerts: mapped to categories by video.toml, low confidence sent to an on-site
check, storms from one camera and event type counted into one case — even when thousands
arrive at once — and resent alerts counted once."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, func, select

from engine.cases.models import Case, CaseEvent
from engine.db import new_session
from engine.intake.alerts import AlertWindow

URL = "/api/v1/intake/video"
CAMERA, GRID = "CAM-010101-01", "01010101"


@pytest.fixture
async def api(make_ctx, make_api):
    async with make_api(make_ctx(intake_rate_per_second=0)) as client:
        yield client


def alert(**fields) -> dict:
    return {
        "alert_id": "hik-20260302-000001",
        "camera_id": CAMERA,
        "event_type": "garbage_overflow",
        "confidence": 0.93,
        "snapshot": "https://video.demo-city.test/snap/000001.jpg",
        "occurred_at": "2026-03-02T09:00:00+08:00",
    } | fields


async def send(api, **fields):
    return await api.client.post(URL, json=alert(**fields), headers=api.auth("operator"))


def cases(api) -> list[Case]:
    with new_session(api.ctx.db) as session:
        return list(session.exec(select(Case).order_by(col(Case.id))))


async def test_confident_alert_is_registered(api):
    response = await send(api)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] and not body["merged"] and body["state"] == "registered"
    assert body["alert_count"] == 1
    [case] = cases(api)
    assert case.channel == "video" and case.category == "06008"  # 垃圾满溢 by video.toml
    assert case.owning_unit == GRID and case.external_id == f"{CAMERA}/garbage_overflow/1"
    assert case.latest_snapshot == alert()["snapshot"]
    assert (case.lat, case.lng) == (30.30333, 120.1096)  # the camera's location
    assert "垃圾满溢" in case.description


async def test_unsure_alert_waits_for_an_on_site_check(api):
    body = (await send(api, confidence=0.55)).json()
    assert body["state"] == "verifying"
    # A per-event-type threshold: 道路积水 registers from 0.6.
    water = (await send(api, alert_id="w-1", event_type="waterlogging", confidence=0.65)).json()
    assert water["state"] == "registered"
    vendor = (await send(api, alert_id="v-1", event_type="street_vendor", confidence=0.82)).json()
    assert vendor["state"] == "verifying"  # street_vendor needs 0.85


async def test_alert_storm_is_one_case_counting_every_alert(api):
    n = 150
    responses = await asyncio.gather(
        *(send(api, alert_id=f"storm-{i}", snapshot=f"https://v.test/s/{i}.jpg") for i in range(n))
    )
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses][:3]
    assert sum(r.json()["created"] for r in responses) == 1
    assert sum(r.json()["merged"] for r in responses) == n - 1
    [case] = cases(api)
    assert case.alert_count == n
    with new_session(api.ctx.db) as session:
        alerts = session.exec(
            select(func.count()).where(CaseEvent.case_id == case.id, CaseEvent.action == "alert")
        ).one()
    assert alerts == n


async def test_resent_alert_is_counted_once(api):
    first = await send(api)
    again = await send(api)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] and again.json()["alert_count"] == 1
    assert len(cases(api)) == 1


async def test_window_closes_after_thirty_minutes_and_on_closed_cases(api):
    clock = api.ctx.clock
    first = (await send(api, alert_id="a1")).json()
    clock.advance(minutes=20)
    assert (await send(api, alert_id="a2")).json()["case_id"] == first["case_id"]
    clock.advance(minutes=29)  # 29 min after the last alert: still the same storm
    assert (await send(api, alert_id="a3")).json()["alert_count"] == 3
    clock.advance(minutes=31)
    later = (await send(api, alert_id="a4")).json()
    assert later["created"] and later["case_id"] != first["case_id"]
    # Closing the storm's case ends it: the next alert opens a new case at once.
    await api.act(later["case_id"], "dispatch", "dispatcher", department="HW-01")
    await api.act(later["case_id"], "accept", "handler", "HW-01")
    await api.act(later["case_id"], "resolve", "handler", "HW-01", result="已清运")
    await api.act(later["case_id"], "close", "dispatcher", reason="视频复核已清理")
    newest = (await send(api, alert_id="a5")).json()
    assert newest["created"] and newest["case_id"] not in (first["case_id"], later["case_id"])
    assert [c.external_id.rsplit("/", 1)[1] for c in cases(api)] == ["1", "2", "3"]
    with new_session(api.ctx.db) as session:
        window = session.get(AlertWindow, (CAMERA, "garbage_overflow"))
    assert window.generation == 3 and window.case_id == newest["case_id"]


async def test_other_event_types_and_cameras_are_separate(api):
    await send(api, alert_id="x1")
    await send(api, alert_id="x2", event_type="illegal_parking")
    await send(api, alert_id="x3", camera_id="CAM-020101-01")
    assert [c.category for c in cases(api)] == ["06008", "09004", "06008"]
    assert cases(api)[2].owning_unit == "02010101"


async def test_malformed_alerts_name_the_field(api):
    checks = [
        (alert(camera_id="CAM-NOPE"), "camera_id"),
        (alert(event_type="ufo_sighting"), "event_type"),
        (alert(confidence=1.5), "confidence"),
        (alert(confidence="高"), "confidence"),
        (alert(occurred_at="2026-03-02 09:00:00"), "occurred_at"),
        (alert(lat=30.3), "lng"),
        ({k: v for k, v in alert().items() if k != "camera_id"}, "camera_id"),
    ]
    for body, field in checks:
        response = await api.client.post(URL, json=body, headers=api.auth("operator"))
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["details"][0]["field"] == field, response.json()
    assert cases(api) == []
    worker = await api.client.post(URL, json=alert(), headers=api.auth("grid_worker", GRID))
    assert worker.status_code == 403
