"""Who asks in `bench_reads.py`: a bearer token per API role, and a page user per role who
signs in through the login form as a person would (not a test)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from reads_store import CITY
from sqlmodel import select

from engine.city.loader import read_city
from engine.db import make_engine, new_session
from engine.history.generate import city_of
from engine.users.models import Role, User, UserCreate
from engine.users.service import create_user, issue_token

DISTRICT = "01"
DEPARTMENT = "HW-01"  # the handler's department
GRID = "01010101"  # the grid worker's grid
PASSWORD = "bench-reads-9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

API_ROLES = {
    "admin": (Role.admin, None),
    "supervisor_city": (Role.supervisor, "00"),
    "supervisor_district": (Role.supervisor, DISTRICT),
    "dispatcher": (Role.dispatcher, "00"),
    "operator": (Role.operator, "00"),
    "handler": (Role.handler, DEPARTMENT),
}
# A page user per desk: (role, scope, display name).
PAGE_USERS = {
    "operator": (Role.operator, "00", "压测话务"),
    "dispatcher": (Role.dispatcher, "00", "压测调度"),
    "handler": (Role.handler, DEPARTMENT, "压测承办"),
    "grid_worker": (Role.grid_worker, GRID, "压测网格员"),
    "supervisor": (Role.supervisor, "00", "压测督办"),
    "admin": (Role.admin, "00", "压测管理"),
}


def username(desk: str) -> str:
    return f"bench.{desk.replace('_', '')}"


def tokens(url: str) -> dict[str, dict[str, str]]:
    """A bearer header per API role; the page users made where missing."""
    db = make_engine(url)
    now = datetime.now(UTC)
    out = {}
    with new_session(db) as session, session.begin():
        for name, (role, scope) in API_ROLES.items():
            token = issue_token(session, role=role, scope=scope, now=now,
                                ttl=timedelta(days=1), label=f"bench-{name}")  # fmt: skip
            out[name] = {"Authorization": f"Bearer {token}"}
        city = None
        for desk, (role, scope, name) in PAGE_USERS.items():
            if session.exec(select(User).where(User.username == username(desk))).first():
                continue
            city = city or city_of(read_city(CITY))
            user = UserCreate(username=username(desk), display_name=name, role=role,
                              scope=scope, password=PASSWORD)  # fmt: skip
            create_user(session, user, city, now)
    db.dispose()
    return out


def signed_in(base_url: str, desk: str) -> httpx.Client:
    """A client with the desk's page session (its cookies), signed in by the login form."""
    client = httpx.Client(base_url=base_url, timeout=120)
    form = client.get("/login")
    token = CSRF.search(form.text)
    assert token is not None, "no login form"
    answer = client.post("/login", data={"username": username(desk), "password": PASSWORD,
                                         "csrf_token": token[1]})  # fmt: skip
    assert answer.status_code == 303, answer.text[:300]
    return client
