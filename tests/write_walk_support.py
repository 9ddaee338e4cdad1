"""The write walk's machinery (issue 18, "Done when"; tests/test_write_walk_api.py and
tests/test_write_walk_pages.py walk the routes): every route that writes (POST, PUT, PATCH,
DELETE) × every role and no credentials × a target inside and outside the caller's scope. A
refusal is a 401/403/404 (or what the entry names) and writes NOTHING: the row count and
contents of every table are the same before and after. Where the policy (web/policy.py and
the workflow's roles) allows it, the write succeeds and writes.

Every write route the app serves needs an entry in API_WRITES or PAGE_WRITES: a new one
fails the area's ``test_every_*_write_route_is_walked`` until it says how to call it and who
may.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from conftest import Api
from fastapi.routing import _iter_included_route_candidates
from sqlalchemy import select, update

from engine.access import UNRESTRICTED
from engine.cases.workflow import standard_workflow
from engine.db import new_session
from engine.knowledge import lifecycle as knowledge
from engine.knowledge.models import ArticleFields
from engine.outbox.models import OutboxMessage
from engine.sla.models import CalendarOverride
from engine.timers.models import Timer
from engine.users.models import PERSON_ROLES, ApiToken, Principal, Role, User
from tests.db_snapshot import changed, snapshot
from tests.intake_support import png
from tests.page_support import PASSWORD, ensure_user, login
from web.policy import API_PATHS, PAGES, PUBLIC, ROUTES

OP, D, H, G, S, A = (
    Role.operator,
    Role.dispatcher,
    Role.handler,
    Role.grid_worker,
    Role.supervisor,
    Role.admin,
)
EVERYONE = frozenset(PERSON_ROLES)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Each role acts in its own scope; the inside case lies in all of them, the outside in none.
SCOPES = {OP: "0101", D: "0101", H: "HW-01", G: "01010101", S: "0101", A: "00"}
GRIDS = {"inside": "01010101", "outside": "02020101"}
POINTS = {"inside": ("30.3035", "120.12978"), "outside": ("30.30244", "120.17046")}
# A grid worker reports from their own grid (01010101) or from another district's.
GRID_POINTS = {"inside": (30.30333, 120.1096), "outside": (30.30244, 120.17046)}
SUCCESS = frozenset({200, 201, 204, 303})
REFUSED = frozenset({401, 403, 404})
counter = itertools.count(1)


def roles_for(action: str) -> frozenset[Role]:
    """The roles the workflow lets take ``action`` somewhere."""
    return frozenset(
        role for spec in standard_workflow().transitions if spec.action == action
        for role in spec.roles
    )  # fmt: skip


@dataclass
class Call:
    path: str
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    content: str | None = None
    api_key: bool = False  # Open311: the token goes in the form, not a header
    csrf: bool = True  # pages: send the session's form token
    scope: str | None = None  # pages: the session of this scope (CITY_WIDE_PAGES), if any


@dataclass
class Walk:
    api: Api
    inside: int
    outside: int
    spare: dict[str, list[int]]  # ids an admin's success uses up, by kind
    outside_photo: str
    pages: dict[tuple[Role, str], tuple[Api, str]] = field(default_factory=dict)  # client, CSRF

    def case(self, target: str) -> int:
        return self.inside if target == "inside" else self.outside

    async def photo(self, role: Role) -> str:
        files = {"file": ("p.png", png(next(counter) + 100), "image/png")}
        answer = await self.api.client.post(
            "/api/v1/attachments", files=files, headers=self.api.auth(role, SCOPES[role])
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["ref"]


Build = Callable[[Walk, Role | None, str], Awaitable[Call]]


@dataclass(frozen=True)
class Write:
    """How to call one write route, and who succeeds on the target inside their scope.

    ``scoped``: the target outside the caller's scope is refused to all but unrestricted
    roles. ``writes``: a success writes rows (a check or a suggestion does not).
    ``refused``: the answers that count as a refusal here."""

    build: Build
    ok: frozenset[Role | None]
    scoped: bool = True
    writes: bool = True
    refused: frozenset[int] = REFUSED


def text(**fields: Any) -> dict[str, Any]:
    return {"description": "小区门口垃圾堆积三天无人清理，气味很大", **fields}


def case_body(target: str) -> dict[str, Any]:
    return text(channel="hotline", category="06002", grid_code=GRIDS[target])


def on(call: Callable[[Walk, str], Call]) -> Build:
    """A call that depends on the walk and the target only."""

    async def build(walk: Walk, role: Role | None, target: str) -> Call:
        return call(walk, target)

    return build


def new_user() -> dict[str, Any]:
    return {"username": f"walk{next(counter)}", "role": "operator", "scope": "00",
            "password": PASSWORD}  # fmt: skip


def admin(call: Callable[[Walk, str], Call], writes: bool = True) -> list[Write]:
    """An administrator's write: no case scope, admins alone succeed."""
    return [Write(on(call), frozenset({A}), scoped=False, writes=writes)]


# Knowledge articles: kept by the target's department (a handler of HW-01 keeps the inside
# one); each attempt gets a fresh article in the state its step needs.
OWNERS = {"inside": "HW-01", "outside": "HW-02"}
WRITER = Principal("walk-writer", Role.admin, "00")
REVIEWER = Principal("walk-reviewer", Role.admin, "00")
ARTICLE = {"title": "社保卡丢失如何补办", "question": "社保卡丢了怎么办？",
           "answer": "携带身份证到社保经办网点补办。", "categories": "12005"}  # fmt: skip
STEPS_TO = {"draft": (), "in_review": ("submit",), "published": ("submit", "publish")}


def article(walk: Walk, target: str, state: str = "draft") -> int:
    ctx, now = walk.api.ctx, walk.api.ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        made = knowledge.create(
            session, WRITER, ArticleFields(**ARTICLE), ctx.city, now, OWNERS[target]
        )
        for step in STEPS_TO[state]:
            who = REVIEWER if step == "publish" else WRITER  # reviewed by another
            getattr(knowledge, step)(session, who, made.id, now)
        assert made.id is not None
        return made.id


def answer(target: str) -> dict[str, Any]:
    return {"description": "社保卡丢了怎么补办", "answer": "到社保经办网点补办。",
            "category": "12005", "grid_code": GRIDS[target]}  # fmt: skip


INTAKE = frozenset({OP, D, A})
CITY_WIDE_PAGES = [(OP, "00")]  # page sessions some entries sign in with (Call.scope)
KEEPERS = frozenset({H, A})
NOTE = roles_for("note")


def app_writes(app) -> set[tuple[str, str]]:
    found = set()
    for route in _iter_included_route_candidates(app.routes):
        path = getattr(route, "path_format", None)
        for method in (getattr(route, "methods", None) or set()) & WRITE_METHODS:
            found.add((method, path))
    return found


def unwalked(app, walked: dict, sign_in: set, pages: bool) -> list[str]:
    """What the area's table (``walked``, the API's or the pages') misses or names wrongly,
    and any of its routes without a line in web/policy.py."""
    served = {key for key in app_writes(app) if (not key[1].startswith(API_PATHS)) is pages}
    listed = set(walked) | sign_in
    wrong = [f"not walked: {key}" for key in sorted(served - listed)]
    wrong += [f"no longer served: {key}" for key in sorted(listed - served)]
    return wrong + [
        f"not in web/policy.py: {key}"
        for key in sorted(served)
        if key not in ROUTES and key not in PAGES
    ]


# ---------------------------------------------------------------- the walk


@asynccontextmanager
async def opened_walk(make_ctx, make_api, tmp_path) -> AsyncIterator[Walk]:
    ctx = make_ctx(
        attachments_dir=tmp_path / "photos",
        intake_rate_per_second=0,
    )
    async with make_api(ctx) as api:
        yield await prepare(api)


async def prepare(api: Api) -> Walk:
    inside = await api.file(grid_code=GRIDS["inside"], reporter_phone="13800001111")
    outside = await api.file(grid_code=GRIDS["outside"], description="另一个区的案件")
    for case, department in ((inside, "HW-01"), (outside, "HW-02")):
        if case["state"] != "assigned":
            answer = await api.act(case["id"], "dispatch", "dispatcher", department=department)
            assert answer.status_code == 200, answer.text
    # a size no other photo of the walk has: bytes of its own (png varies 256 colours only)
    files = {"file": ("p.png", png(4242, size=3), "image/png")}
    upload = await api.client.post(
        "/api/v1/attachments", files=files, headers=api.auth("grid_worker", "02020101")
    )
    outside_photo = upload.json()["ref"]
    noted = await api.act(outside["id"], "note", "grid_worker", "02020101", note="照片",
                          photos=[outside_photo])  # fmt: skip
    assert noted.status_code == 200, noted.text
    spare = prepare_targets(api)
    walk = Walk(api, inside["id"], outside["id"], spare, outside_photo)
    for role in PERSON_ROLES:  # tokens and page sessions exist before anything is counted
        api.auth(role, SCOPES[role])
        walk.pages[role, SCOPES[role]] = await page_client(api, role, SCOPES[role])
    for role, scope in CITY_WIDE_PAGES:
        walk.pages[role, scope] = await page_client(api, role, scope)
    return walk


def prepare_targets(api: Api) -> dict[str, list[int]]:
    """Rows only an admin's success uses up: users, tokens, incidents, dead letters."""
    ctx = api.ctx
    users = [ensure_user(ctx, "operator", "00", f"spare{n}") for n in range(3)]
    for _ in range(2):
        api.auth("operator", f"spare-{next(counter)}")  # a token each (never used)
    with new_session(ctx.db) as session, session.begin():
        user_ids = list(session.execute(select(User.id).where(User.username.in_(users))).scalars())
        token_ids = list(
            session.execute(select(ApiToken.id).order_by(ApiToken.id.desc())).scalars()
        )[:2]
        timers = list(session.execute(select(Timer.id).order_by(Timer.id)).scalars())[:3]
        session.execute(update(Timer).where(Timer.id.in_(timers)).values(status="incident"))
        now = ctx.clock.now()
        for day in (date(2027, 10, 8), date(2027, 10, 10)):  # for the deletes
            session.add(CalendarOverride(day=day, kind="holiday", updated_at=now))
        dead = []
        for n in range(2):
            row = OutboxMessage(
                message_id=f"walk-dead-{n}", case_id=1, event_seq=1, destination="hotline",
                url="https://hotline.invalid/", kind="dispatch", body="{}", status="dead",
                attempts=8, next_attempt_at=now, created_at=now,
            )  # fmt: skip
            session.add(row)
            session.flush()
            dead.append(row.id)
    assert len(user_ids) == len(timers) == 3 and len(token_ids) == 2
    return {"user": user_ids, "token": token_ids, "incident": timers, "dead": dead}


async def page_client(api: Api, role: Role, scope: str) -> tuple[Api, str]:
    """A browser of its own (own cookie jar) signed in as ``role``."""
    client = httpx.AsyncClient(transport=api.client._transport, base_url=str(api.client.base_url))
    browser = Api(client, api.ctx)
    csrf = await login(browser, role, scope)
    return browser, csrf


async def send(walk: Walk, method: str, template: str, role: Role | None, call: Call):
    page = (method, template) in PAGES
    if page:
        if role is None:
            client = httpx.AsyncClient(
                transport=walk.api.client._transport, base_url=str(walk.api.client.base_url)
            )
            csrf = ""
        else:
            wanted = (role, call.scope or SCOPES[role])  # other roles: their usual one
            browser, csrf = walk.pages.get(wanted) or walk.pages[role, SCOPES[role]]
            client = browser.client
        data = dict(call.data or {})
        if call.csrf and csrf:
            data["csrf_token"] = csrf
        return await client.request(method, call.path, data=data, files=call.files,
                                    follow_redirects=False)  # fmt: skip
    headers = walk.api.auth(role, SCOPES[role]) if role is not None else {}
    if call.api_key:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        form = dict(call.data or {}) | ({"api_key": token} if token else {})
        return await walk.api.client.post(call.path, data=form)
    if call.content is not None:
        headers = headers | {"Content-Type": "text/plain; charset=utf-8"}
        return await walk.api.client.request(method, call.path, content=call.content,
                                             headers=headers)  # fmt: skip
    return await walk.api.client.request(method, call.path, json=call.json, files=call.files,
                                         headers=headers)  # fmt: skip


def expected(method: str, template: str, entry: Write, role: Role | None, target: str) -> bool:
    """Whether the policy lets ``role`` succeed on ``target``."""
    table = PAGES if (method, template) in PAGES else ROUTES
    roles = table[(method, template)]
    if role is None:
        return False  # no credentials: nothing here is public beyond a refusal
    if roles is not PUBLIC and role not in roles:
        return False
    if target == "outside" and entry.scoped and role not in UNRESTRICTED:
        return False
    return role in entry.ok


ORDER: list[Role | None] = [None, *[r for r in PERSON_ROLES if r is not A], A]  # admin last


async def walk_routes(walk: Walk, writes: dict[tuple[str, str], list[Write]]) -> list[str]:
    """One walk over every route of ``writes`` (one database: signing in each role is
    costly), each route's findings named; admins go last on each route, as their success may
    use up the route's target."""
    wrong: list[str] = []
    for key in sorted(writes):
        wrong += await walk_route(walk, key, writes[key])
    return wrong


async def walk_route(walk: Walk, key: tuple[str, str], entries: list[Write]) -> list[str]:
    method, template = key
    wrong: list[str] = []
    for index, entry in enumerate(entries):
        for role, target in itertools.product(ORDER, ("inside", "outside")):
            if target == "outside" and not entry.scoped:
                continue
            call = await entry.build(walk, role, target)
            before = snapshot(walk.api.ctx)
            answer = await send(walk, method, template, role, call)
            after = snapshot(walk.api.ctx)
            status, written = answer.status_code, changed(before, after)
            where = f"{method} {template} #{index} {role or 'anonymous'} {target}: {status}"
            assert status < 500, f"{where} {answer.text[:300]}"
            if expected(method, template, entry, role, target):
                if status not in SUCCESS or (entry.writes and not written):
                    wrong.append(f"{where} should succeed (wrote {written}) {answer.text[:200]}")
            else:
                codes = entry.refused | ({303} if key in PAGES and role is None else set())
                if status not in codes or written:
                    wrong.append(f"{where} should be refused, wrote {written} {answer.text[:200]}")
                if key in PAGES and role is None and status == 303:
                    assert answer.headers["location"].startswith("/login"), where
            if key == ("POST", "/logout") and role is not None and status in SUCCESS:
                walk.pages[role, SCOPES[role]] = await page_client(walk.api, role, SCOPES[role])
    return wrong
