"""Admins create tokens (shown once, stored hashed), list them, and revoke them; tokens expire."""

from __future__ import annotations

from sqlmodel import select

from engine.db import new_session
from engine.users.models import ApiToken


async def test_create_use_list_revoke(api, ctx):
    admin = api.auth("admin")
    created = await api.client.post(
        "/api/v1/admin/tokens",
        json={"role": "handler", "scope": "HW-01", "label": "环卫所对接", "days": 30},
        headers=admin,
    )
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    with new_session(ctx.db) as session:
        stored = [t.token_hash for t in session.exec(select(ApiToken))]
    assert token not in stored  # only the digest is kept
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/api/v1/cases", headers=headers)).status_code == 200
    listed = (await api.client.get("/api/v1/admin/tokens", headers=admin)).json()
    assert all("token" not in t for t in listed)
    assert any(t["id"] == body["id"] and t["label"] == "环卫所对接" for t in listed)
    revoked = await api.client.delete(f"/api/v1/admin/tokens/{body['id']}", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    assert (await api.client.get("/api/v1/cases", headers=headers)).status_code == 401


async def test_token_expires_on_the_clock(api, ctx):
    created = await api.client.post(
        "/api/v1/admin/tokens", json={"role": "operator", "days": 1}, headers=api.auth("admin")
    )
    headers = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await api.client.get("/api/v1/cases", headers=headers)).status_code == 200
    ctx.clock.advance(days=1, seconds=1)
    response = await api.client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


async def test_only_admins_and_valid_scopes(api):
    response = await api.client.post(
        "/api/v1/admin/tokens", json={"role": "operator"}, headers=api.auth("supervisor")
    )
    assert response.status_code == 403
    bad = await api.client.post(
        "/api/v1/admin/tokens", json={"role": "handler", "scope": "00"}, headers=api.auth("admin")
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "scope"
    system = await api.client.post(
        "/api/v1/admin/tokens", json={"role": "system"}, headers=api.auth("admin")
    )
    assert system.status_code == 422


async def test_admin_manages_users(api):
    admin = api.auth("admin")
    made = await api.client.post(
        "/api/v1/admin/users",
        json={
            "username": "zhao.liu",
            "role": "dispatcher",
            "scope": "0101",
            "password": "s3cret-pass",
        },
        headers=admin,
    )
    assert made.status_code == 201 and "password_hash" not in made.json()
    login = {"username": "zhao.liu", "password": "s3cret-pass"}
    assert (await api.client.post("/api/v1/auth/token", json=login)).status_code == 200
    off = await api.client.patch(
        f"/api/v1/admin/users/{made.json()['id']}", json={"active": False}, headers=admin
    )
    assert off.json()["active"] is False
    assert (await api.client.post("/api/v1/auth/token", json=login)).status_code == 401
