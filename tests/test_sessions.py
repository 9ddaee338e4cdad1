"""Server-side page sessions: logout and account changes end them at once, idle and absolute
timeouts on the injected clock, only the id's digest stored, and a cookie signed with any
other key (the old published default) opens nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from page_support import PASSWORD, ensure_user, login, post
from sqlmodel import select

from engine.db import new_session
from engine.users.models import ApiToken, User
from engine.users.sessions import PageSessionRecord
from web.app import create_app
from web.pages.sessions import SESSION_COOKIE

OLD_PUBLISHED_KEY = "insecure-development-key-set-GRIDFLOW_SECRET_KEY"


async def opens_admin(api, cookie: str) -> bool:
    api.client.cookies.clear()
    api.client.cookies.set(SESSION_COOKIE, cookie)
    answer = await api.client.get("/admin")
    return answer.status_code == 200


def records(ctx) -> list[PageSessionRecord]:
    with new_session(ctx.db) as session:
        return list(session.exec(select(PageSessionRecord)))


def user_id(ctx, username: str) -> int:
    with new_session(ctx.db) as session:
        return session.exec(select(User).where(User.username == username)).one().id


async def test_logout_ends_the_session_on_the_server(api):
    csrf = await login(api, "admin")
    cookie = api.client.cookies[SESSION_COOKIE]
    assert (await post(api, "/logout", csrf)).status_code == 303
    assert records(api.ctx) == []
    assert not await opens_admin(api, cookie)  # the old cookie replayed: back to /login


async def test_only_the_ids_digest_is_stored(api):
    await login(api, "admin")
    cookie = api.client.cookies[SESSION_COOKIE]
    session_id = URLSafeSerializer("test-secret", salt="gridflow-session").loads(cookie)
    [record] = records(api.ctx)
    assert record.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id not in {record.id_hash, record.csrf}


async def test_forged_cookies_open_nothing(api):
    await login(api, "admin")
    admin_id = user_id(api.ctx, "admin-00")
    # The pre-fix cookie format, signed with the key that used to be the default.
    old = URLSafeTimedSerializer(OLD_PUBLISHED_KEY, salt="gridflow-session")
    assert not await opens_admin(api, old.dumps({"uid": admin_id, "csrf": "x"}))
    # The current format with a guessed id, signed with the published key.
    guessed = URLSafeSerializer(OLD_PUBLISHED_KEY, salt="gridflow-session").dumps("guess")
    assert not await opens_admin(api, guessed)
    # A valid signature over an id the server never issued.
    unknown = URLSafeSerializer("test-secret", salt="gridflow-session").dumps("not-issued")
    assert not await opens_admin(api, unknown)


async def test_a_new_secret_key_ends_every_session(api, make_ctx, make_api):
    await login(api, "admin")
    cookie = api.client.cookies[SESSION_COOKIE]
    assert await opens_admin(api, cookie)
    async with make_api(make_ctx(secret_key="rotated-" + "k" * 40)) as rotated:
        assert not await opens_admin(rotated, cookie)


CHANGES = {
    "disabled": {"active": False},
    "password": {"password": "a-new-password-1"},
    "role": {"role": "supervisor"},
    "scope": {"scope": "0102"},
}


@pytest.mark.parametrize("change", CHANGES)
async def test_admin_api_changes_end_the_users_sessions_and_tokens(api, change):
    await login(api, "dispatcher", "0101")
    cookie = api.client.cookies[SESSION_COOKIE]
    api.client.cookies.clear()
    await login(api, "dispatcher", "0101")  # a second browser
    dispatcher = user_id(api.ctx, "dispatcher-0101")
    issued = await api.client.post(
        "/api/v1/auth/token", json={"username": "dispatcher-0101", "password": PASSWORD}
    )
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert (await api.client.get("/api/v1/cases", headers=bearer)).status_code == 200
    assert len(records(api.ctx)) == 2

    answer = await api.client.patch(
        f"/api/v1/admin/users/{dispatcher}", json=CHANGES[change], headers=api.auth("admin")
    )
    assert answer.status_code == 200, answer.text
    assert records(api.ctx) == []
    api.client.cookies.clear()
    api.client.cookies.set(SESSION_COOKIE, cookie)
    assert (await api.client.get("/")).status_code == 303
    assert (await api.client.get("/api/v1/cases", headers=bearer)).status_code == 401


async def test_an_unchanged_user_keeps_their_sessions(api):
    await login(api, "dispatcher", "0101")
    dispatcher = user_id(api.ctx, "dispatcher-0101")
    same = {"active": True, "role": "dispatcher", "scope": "0101"}
    answer = await api.client.patch(
        f"/api/v1/admin/users/{dispatcher}", json=same, headers=api.auth("admin")
    )
    assert answer.status_code == 200 and len(records(api.ctx)) == 1
    assert (await api.client.get("/")).status_code == 200


async def test_disabling_on_the_admin_page_ends_the_sessions(make_ctx, make_api):
    ctx = make_ctx()
    async with make_api(ctx) as admin, make_api(ctx) as other:
        await login(other, "handler", "HW-01")
        csrf = await login(admin, "admin")
        handler = user_id(ctx, "handler-hw-01")
        await post(admin, f"/admin/users/{handler}/active", csrf, active="0")
        assert (await other.client.get("/")).status_code == 303
        assert [r.user_id for r in records(ctx)] == [user_id(ctx, "admin-00")]


async def test_disabling_a_user_revokes_their_tokens(api):
    await login(api, "operator")
    operator = user_id(api.ctx, "operator-00")
    issued = await api.client.post(
        "/api/v1/auth/token", json={"username": "operator-00", "password": PASSWORD}
    )
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    await api.client.patch(
        f"/api/v1/admin/users/{operator}", json={"active": False}, headers=api.auth("admin")
    )
    assert (await api.client.get("/api/v1/cases", headers=bearer)).status_code == 401
    await api.client.patch(
        f"/api/v1/admin/users/{operator}", json={"active": True}, headers=api.auth("admin")
    )
    # Enabling the user again does not bring the old token back.
    assert (await api.client.get("/api/v1/cases", headers=bearer)).status_code == 401
    with new_session(api.ctx.db) as session:
        rows = session.exec(select(ApiToken).where(ApiToken.user_id == operator)).all()
    assert [row.revoked_at is not None for row in rows] == [True]


async def test_idle_sessions_end_and_used_ones_do_not(make_ctx, make_api):
    ctx = make_ctx(session_idle_minutes=30)
    async with make_api(ctx) as api:
        await login(api, "supervisor")
        for _ in range(4):  # used every 29 minutes: alive for two hours
            ctx.clock.advance(minutes=29)
            assert (await api.client.get("/")).status_code == 200
        ctx.clock.advance(minutes=30)
        assert (await api.client.get("/")).status_code == 303
        assert records(ctx) == []  # an ended session is removed when it is next seen


async def test_sessions_end_at_their_absolute_expiry(make_ctx, make_api):
    ctx = make_ctx(session_max_hours=2)
    async with make_api(ctx) as api:
        await login(api, "supervisor")
        for _ in range(3):
            ctx.clock.advance(minutes=39)
            assert (await api.client.get("/")).status_code == 200
        ctx.clock.advance(minutes=3)  # 2 h after login, however busy
        assert (await api.client.get("/")).status_code == 303


async def test_last_seen_is_written_at_most_once_a_minute(api):
    await login(api, "supervisor")
    [first] = records(api.ctx)
    api.ctx.clock.advance(seconds=59)
    await api.client.get("/")
    assert records(api.ctx)[0].last_seen_at == first.last_seen_at
    api.ctx.clock.advance(seconds=1)
    await api.client.get("/")
    assert records(api.ctx)[0].last_seen_at == first.last_seen_at + timedelta(minutes=1)


async def test_logging_in_clears_sessions_that_ended(api):
    await login(api, "supervisor")
    api.ctx.clock.advance(hours=13)
    await login(api, "operator")
    assert [r.user_id for r in records(api.ctx)] == [user_id(api.ctx, "operator-00")]


async def test_the_cookie_is_secure_over_https(ctx):
    app = create_app(context=ctx)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://gridflow.test"
    ) as client:
        name = ensure_user(ctx, "operator", "00")
        form = await client.get("/login")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = await client.post(
            "/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf}
        )
        cookie = next(v for v in answer.headers.get_list("set-cookie") if "gf_session=" in v)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
