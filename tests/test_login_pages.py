"""Page login: signed HttpOnly SameSite session cookie, CSRF on every form, throttling."""

from __future__ import annotations

import re

import pytest

from engine.db import new_session
from engine.users.models import Role, UserCreate
from engine.users.service import create_user

PASSWORD = "correct-horse-9"


@pytest.fixture
def user(ctx):
    with new_session(ctx.db) as session, session.begin():
        data = UserCreate(
            username="wang", display_name="王调度", role=Role.dispatcher, scope="0101",
            password=PASSWORD,
        )  # fmt: skip
        create_user(session, data, ctx.city, ctx.clock.now())


async def login_form(api, **params):
    page = await api.client.get("/login", params=params)
    assert page.status_code == 200
    return page, re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]


async def post_login(api, password, csrf, **extra):
    form = {"username": "wang", "password": password, "csrf_token": csrf} | extra
    return await api.client.post("/login", data=form)


async def test_login_sets_a_safe_cookie_and_shows_home(api, user):
    page, csrf = await login_form(api)
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    response = await post_login(api, PASSWORD, csrf, next="/")
    assert response.status_code == 303 and response.headers["location"] == "/dispatch"
    cookie = response.headers["set-cookie"]
    assert "gf_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await api.client.get("/")
    assert home.status_code == 200 and "欢迎，王调度" in home.text and "调度员" in home.text
    assert "东湖区 › 湖滨街道" in home.text and "0101" not in home.text  # the scope by name


@pytest.mark.parametrize(
    ("role", "scope", "page"),
    [
        ("operator", "00", "/intake"),
        ("dispatcher", "0101", "/dispatch"),
        ("handler", "HW-01", "/inbox"),
        ("grid_worker", "01010101", "/grid"),
        ("supervisor", "00", "/board"),
        ("admin", None, "/admin"),
    ],
)
async def test_each_role_lands_on_its_work_page(api, role, scope, page):
    with new_session(api.ctx.db) as session, session.begin():
        data = UserCreate(
            username=f"u-{role}", display_name="某人", role=Role(role), scope=scope,
            password=PASSWORD,
        )  # fmt: skip
        create_user(session, data, api.ctx.city, api.ctx.clock.now())
    _, csrf = await login_form(api)
    form = {"username": f"u-{role}", "password": PASSWORD, "csrf_token": csrf}
    response = await api.client.post("/login", data=form)
    assert response.status_code == 303 and response.headers["location"] == page
    assert (await api.client.get(page)).status_code == 200
    _, csrf = await login_form(api, next="/cases")
    form |= {"csrf_token": csrf, "next": "/cases"}
    asked = await api.client.post("/login", data=form)
    assert asked.headers["location"] == "/cases"  # the page that asked for the login wins


async def test_pages_redirect_to_login_and_never_offsite(api, user):
    response = await api.client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/"
    _, csrf = await login_form(api)
    response = await post_login(api, PASSWORD, csrf, next="//evil.example/x")
    assert response.headers["location"] == "/dispatch"  # the work page, never offsite


async def test_wrong_passwords_are_slowed_down_not_locked(api, user):
    _, csrf = await login_form(api)
    for _ in range(6):  # the account's free failures, then the first delay
        response = await post_login(api, "wrong-password", csrf)
        assert response.status_code == 401 and "用户名或密码错误" in response.text
    held = await post_login(api, PASSWORD, csrf)
    assert held.status_code == 429 and "秒后再试" in held.text
    assert held.headers["retry-after"] == "1"
    api_login = await api.client.post(
        "/api/v1/auth/token", json={"username": "wang", "password": PASSWORD}
    )
    assert api_login.status_code == 429 and api_login.headers["retry-after"] == "1"
    api.ctx.clock.advance(seconds=1)
    assert (await post_login(api, PASSWORD, csrf)).status_code == 303


async def test_form_posts_need_the_csrf_token(api, user):
    await login_form(api)
    assert (await post_login(api, PASSWORD, "forged")).status_code == 403
    _, csrf = await login_form(api)
    assert (await post_login(api, PASSWORD, csrf)).status_code == 303
    assert (await api.client.post("/logout", data={"csrf_token": "forged"})).status_code == 403
    home = await api.client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)[1]
    out = await api.client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await api.client.get("/")).status_code == 303


async def test_english_is_available(api, user):
    page = await api.client.get("/login", params={"lang": "en"})
    assert "Log in" in page.text and 'lang="en"' in page.text
    assert "gf_lang=en" in page.headers["set-cookie"]


async def test_disabled_user_loses_the_session(api, user, ctx):
    _, csrf = await login_form(api)
    await post_login(api, PASSWORD, csrf)
    from sqlmodel import select

    from engine.users.models import User

    with new_session(ctx.db) as session, session.begin():
        session.exec(select(User).where(User.username == "wang")).one().active = False
    assert (await api.client.get("/")).status_code == 303


async def test_static_assets_are_served_by_the_app(api):
    css = await api.client.get("/static/gridflow.css")
    assert css.status_code == 200 and "PingFang SC" in css.text
