"""Helpers for the page tests (not a test module): users per role, logging in, form tokens."""

from __future__ import annotations

import re

from sqlmodel import select

from engine.db import new_session
from engine.users.models import Role, User, UserCreate
from engine.users.service import create_user

PASSWORD = "page-tests-9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# A 1×1 PNG: the smallest photo the attachment store accepts.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def ensure_user(ctx, role: str, scope: str | None, name: str | None = None) -> str:
    username = name or f"{role}-{scope or 'all'}".lower()
    with new_session(ctx.db) as session, session.begin():
        if session.exec(select(User).where(User.username == username)).first() is None:
            data = UserCreate(
                username=username, display_name=f"测试{role}", role=Role(role), scope=scope,
                password=PASSWORD,
            )  # fmt: skip
            create_user(session, data, ctx.city, ctx.clock.now())
    return username


async def login(api, role: str, scope: str | None = "00", name: str | None = None) -> str:
    """Log the client in as a user of ``role`` and ``scope``; return the session's CSRF token."""
    username = ensure_user(api.ctx, role, scope, name)
    api.client.cookies.clear()
    form = await api.client.get("/login")
    token = CSRF.search(form.text)[1]
    answer = await api.client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    home = await api.client.get("/")
    assert home.status_code == 200
    return CSRF.search(home.text)[1]


async def post(api, path: str, csrf: str, files=None, **fields):
    """A page form post (multipart when ``files`` are given)."""
    data = {"csrf_token": csrf, **fields}
    return await api.client.post(path, data=data, files=files)


def file_hotline(ctx, description: str = "小区门口垃圾堆积三天无人清理", **fields) -> int:
    """A hotline case filed straight through the case service (grid 01010101, 06002)."""
    from engine.cases.models import CaseCreate
    from engine.users.models import Principal

    data = {"channel": "hotline", "category": "06002", "grid_code": "01010101"} | fields
    operator = Principal("operator", Role.operator, "00")
    result = ctx.cases.intake(operator, CaseCreate(description=description, **data))
    assert result.case.id is not None
    return result.case.id
