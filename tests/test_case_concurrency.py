"""Concurrent conflicting actions on one case: exactly one wins, the other gets a conflict."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.cases import service as case_service
from engine.cases.models import CaseCreate
from engine.cases.queries import events
from engine.db import new_session
from engine.errors import Conflict
from engine.users.models import Principal, Role

DEPT = "HW-01"
HANDLER = Principal(name="h", role=Role.handler, scope=DEPT)


def assigned(ctx) -> int:
    operator = Principal(name="op", role=Role.operator, scope="00")
    case = ctx.cases.intake(
        operator, CaseCreate(channel="hotline", description="井盖缺失", grid_code="01010101")
    ).case
    dispatcher = Principal(name="d", role=Role.dispatcher, scope="00")
    return ctx.cases.act(dispatcher, case.id, "dispatch", {"department": DEPT}).id


def test_racing_writers_one_wins_one_conflicts(ctx, monkeypatch):
    """Both writers pass every check on the same version before either writes (PostgreSQL);
    on SQLite one process's writers take turns, so the second sees the first's change."""
    case_id = assigned(ctx)
    if ctx.db.dialect.name == "postgresql":
        barrier = threading.Barrier(2, timeout=10)
        real = case_service.apply_effects

        def effects_after_both_checked(effect_ctx, action, effects):
            barrier.wait()
            return real(effect_ctx, action, effects)

        monkeypatch.setattr(case_service, "apply_effects", effects_after_both_checked)

    def accept():
        try:
            ctx.cases.act(HANDLER, case_id, "accept", {})
            return "ok"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: accept(), range(2)))
    assert outcomes == ["conflict", "ok"]
    with new_session(ctx.db) as session:  # the loser wrote nothing
        assert [e.action for e in events(session, case_id)].count("accept") == 1


async def test_two_concurrent_http_accepts_one_200_one_409(api, ctx):
    case_id = assigned(ctx)
    responses = await asyncio.gather(
        api.act(case_id, "accept", "handler", DEPT), api.act(case_id, "accept", "handler", DEPT)
    )
    assert sorted(r.status_code for r in responses) == [200, 409]


@pytest.mark.parametrize("attempts", [2])
async def test_same_hotline_ticket_twice_is_one_case(api, attempts):
    body = {"external_id": "12345-20260302-0001", "description": "路灯不亮"}
    first = await api.file(**body)
    again = await api.client.post(
        "/api/v1/cases",
        json={"channel": "hotline", "category": "06002", "grid_code": "01010101"} | body,
        headers=api.auth("operator"),
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    listed = await api.client.get("/api/v1/cases", headers=api.auth("admin"))
    assert listed.json()["total"] == 1


def test_concurrent_duplicate_intake_creates_one_case(ctx):
    operator = Principal(name="op", role=Role.operator, scope="00")
    report = CaseCreate(channel="hotline", external_id="T-RACE", description="噪声扰民")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ctx.cases.intake(operator, report), range(8)))
    assert len({r.case.id for r in results}) == 1
    assert sum(r.created for r in results) == 1


async def test_batch_intake_is_idempotent_and_atomic(api):
    items = [
        {
            "channel": "hotline",
            "external_id": f"B-{i}",
            "description": f"第{i}件",
            "grid_code": "01010101",
        }
        for i in range(5)
    ]
    headers = api.auth("operator")
    first = await api.client.post("/api/v1/cases/batch", json={"items": items}, headers=headers)
    assert first.status_code == 200
    assert all(r["created"] for r in first.json()["results"])
    again = await api.client.post("/api/v1/cases/batch", json={"items": items}, headers=headers)
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert not any(r["created"] for r in again.json()["results"])
    bad = [
        *items,
        {"channel": "hotline", "external_id": "B-X", "description": "x", "category": "99999"},
    ]
    response = await api.client.post("/api/v1/cases/batch", json={"items": bad}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "items[5].category"
    listed = await api.client.get("/api/v1/cases", headers=api.auth("admin"))
    assert listed.json()["total"] == 5
