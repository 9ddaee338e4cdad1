"""The write walk (issue 18, "Done when"): every route that writes (POST, PUT, PATCH, DELETE)
of the API and the pages × every role and no credentials × a target inside and outside the
caller's scope. A refusal is a 401/403/404 (or what the entry names) and writes NOTHING: the
row count and contents of every table are the same before and after. Where the policy
(web/policy.py and the workflow's roles) allows it, the write succeeds and writes. Every
page write is also posted without the session's form token (a cross-site post): refused,
nothing written. Signing in, the one write made without credentials, has its own test.

Every write route the app serves needs an entry in WRITES: a new one fails
``test_every_write_route_is_walked`` until it says how to call it and who may.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from conftest import Api
from fastapi.routing import _iter_included_route_candidates
from sqlalchemy import Table, func, select, update
from sqlmodel import SQLModel

import engine.tables  # noqa: F401  (every table: the walk counts them all)
from engine.access import UNRESTRICTED
from engine.cases.workflow import standard_workflow
from engine.db import new_session
from engine.knowledge import lifecycle as knowledge
from engine.knowledge.models import ArticleFields
from engine.outbox.models import OutboxMessage
from engine.sla.models import CalendarOverride
from engine.timers.models import Timer
from engine.users.models import PERSON_ROLES, ApiToken, Principal, Role, User
from tests.dispatch_support import DEMO_RULES
from tests.intake_support import png
from tests.page_support import CSRF, PASSWORD, ensure_user, login
from web.policy import OPEN311_FILERS, PAGES, PUBLIC, ROUTES

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
CAMERAS = {"inside": "CAM-010101-01", "outside": "CAM-020101-01"}
SUCCESS = frozenset({200, 201, 204, 303})
REFUSED = frozenset({401, 403, 404})
counter = itertools.count(1)
# Rule tables that differ from the live one (activating the same table writes nothing).
CHANGED_RULES = DEMO_RULES.replace('department = "HW-01"', 'department = "CG-01"', 1)
OTHER_RULES = DEMO_RULES.replace('department = "HW-01"', 'department = "SJ-01"', 1)


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


def ticket(target: str) -> dict[str, Any]:
    return {
        "ticket_no": f"12345-walk-{next(counter)}",
        "content": "东坡路18号小区门口垃圾桶满溢三天无人清运",
        "category": "06008",
        "grid_code": GRIDS[target],
    }


async def grid_report(walk: Walk, role: Role | None, target: str) -> dict[str, Any]:
    lat, lng = GRID_POINTS[target]
    photo = await walk.photo(role) if role is not None else f"att:{'0' * 64}.png"
    return {"report_id": f"walk-{next(counter)}", "category": "09007", "lat": lat,
            "lng": lng, "photos": [photo], **text()}  # fmt: skip


def on(call: Callable[[Walk, str], Call]) -> Build:
    """A call that depends on the walk and the target only."""

    async def build(walk: Walk, role: Role | None, target: str) -> Call:
        return call(walk, target)

    return build


async def _grid_intake(walk: Walk, role: Role | None, target: str) -> Call:
    return Call("/api/v1/intake/grid", json=await grid_report(walk, role, target))


async def _attach(walk: Walk, role: Role | None, target: str) -> Call:
    """A photo into the inside case: inside, one's own upload; outside, the photo of a case
    out of one's scope (a reference learnt elsewhere)."""
    own = await walk.photo(role) if role is not None else walk.outside_photo
    photo = own if target == "inside" else walk.outside_photo
    body = {"note": "照片", "photos": [photo]}
    return Call(f"/api/v1/cases/{walk.inside}/actions/note", json=body)


async def _page_grid(walk: Walk, role: Role | None, target: str) -> Call:
    lat, lng = GRID_POINTS[target]
    files = {"photos": ("p.png", png(next(counter) + 500), "image/png")}
    data = {"category": "09007", "lat": lat, "lng": lng, **text()}
    return Call("/grid/report", data=data, files=files)


def video(target: str) -> dict[str, Any]:
    return {"alert_id": f"walk-{next(counter)}", "camera_id": CAMERAS[target],
            "event_type": "garbage_overflow", "confidence": 0.93,
            "occurred_at": "2026-03-02T09:00:00+08:00"}  # fmt: skip


def open311(path: str) -> Build:
    def call(walk: Walk, target: str) -> Call:
        lat, lng = POINTS[target]
        form = {"service_code": "06002", "lat": lat, "long": lng, "description": "walk"}
        return Call(path, data=form, api_key=True)

    return on(call)


def new_user() -> dict[str, Any]:
    return {"username": f"walk{next(counter)}", "role": "operator", "scope": "00",
            "password": PASSWORD}  # fmt: skip


def photo_file(seed: int) -> dict[str, Any]:
    return {"file": ("p.png", png(next(counter) + seed), "image/png")}


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


def article_step(step: str, state: str, **body: Any) -> list[Write]:
    call = lambda w, t: Call(f"/api/v1/knowledge/articles/{article(w, t, state)}/{step}", json=body)  # noqa: E731
    return [Write(on(call), KEEPERS)]


def answer(target: str) -> dict[str, Any]:
    return {"description": "社保卡丢了怎么补办", "answer": "到社保经办网点补办。",
            "category": "12005", "grid_code": GRIDS[target]}  # fmt: skip


FILERS, INTAKE = frozenset({OP, D, G, A}), frozenset({OP, D, A})
CITY_WIDE_PAGES = [(OP, "00")]  # page sessions some entries sign in with (Call.scope)
KEEPERS = frozenset({H, A})
NOTE = roles_for("note")
WRITES: dict[tuple[str, str], list[Write]] = {
    # ---------------------------------------------------------------- API: create
    ("POST", "/api/v1/cases"): [
        Write(on(lambda w, t: Call("/api/v1/cases", json=case_body(t))), FILERS)
    ],
    ("POST", "/api/v1/cases/batch"): [
        Write(on(lambda w, t: Call("/api/v1/cases/batch", json={"items": [case_body(t)]})), FILERS)
    ],
    ("POST", "/api/v1/intake/hotline"): [
        Write(on(lambda w, t: Call("/api/v1/intake/hotline", json=ticket(t))), INTAKE)
    ],
    ("POST", "/api/v1/intake/hotline/batch"): [
        Write(
            on(lambda w, t: Call("/api/v1/intake/hotline/batch", json={"tickets": [ticket(t)]})),
            INTAKE,
        )
    ],
    ("POST", "/api/v1/intake/video"): [
        Write(on(lambda w, t: Call("/api/v1/intake/video", json=video(t))), INTAKE)
    ],
    ("POST", "/api/v1/intake/grid"): [Write(_grid_intake, frozenset({G}))],
    ("POST", "/open311/v2/requests"): [Write(open311("/open311/v2/requests"), OPEN311_FILERS)],
    ("POST", "/open311/v2/requests.{format}"): [
        Write(open311("/open311/v2/requests.json"), OPEN311_FILERS)
    ],
    ("POST", "/open311/v2/{rest}"): [
        Write(on(lambda w, t: Call("/open311/v2/nothing-here")), frozenset(), scoped=False)
    ],
    # ---------------------------------------------------------------- API: act, upload, attach
    ("POST", "/api/v1/cases/{case_id}/actions/{action}"): [
        Write(
            on(lambda w, t: Call(f"/api/v1/cases/{w.case(t)}/actions/note", json={"note": "看"})),
            NOTE,
        ),
        Write(_attach, NOTE, refused=REFUSED | {422}),
    ],
    ("POST", "/api/v1/cases/{case_id}/contact"): [
        Write(
            on(lambda w, t: Call(f"/api/v1/cases/{w.case(t)}/contact", json={"reason": "回访"})),
            roles_for("reveal_contact"),
        )
    ],
    ("POST", "/api/v1/attachments"): [
        Write(on(lambda w, t: Call("/api/v1/attachments", files=photo_file(900))), EVERYONE, False)
    ],
    # ---------------------------------------------------------------- API: rules, calendar
    ("POST", "/api/v1/rules/check"): [
        Write(
            on(lambda w, t: Call("/api/v1/rules/check", content=DEMO_RULES)),
            frozenset({D, S, A}),
            scoped=False,
            writes=False,
        )
    ],
    ("PUT", "/api/v1/rules"): admin(lambda w, t: Call("/api/v1/rules", content=CHANGED_RULES)),
    ("PUT", "/api/v1/calendar/overrides/{day}"): admin(
        lambda w, t: Call("/api/v1/calendar/overrides/2027-10-08", json={"kind": "holiday"})
    ),
    ("PUT", "/api/v1/calendar/overrides"): admin(
        lambda w, t: Call(
            "/api/v1/calendar/overrides", json={"items": [{"day": "2027-10-09", "kind": "workday"}]}
        )
    ),
    ("DELETE", "/api/v1/calendar/overrides/{day}"): admin(
        lambda w, t: Call("/api/v1/calendar/overrides/2027-10-08")
    ),
    # ---------------------------------------------------------------- API: administration
    ("POST", "/api/v1/admin/users"): admin(
        lambda w, t: Call("/api/v1/admin/users", json=new_user())
    ),
    ("PATCH", "/api/v1/admin/users/{user_id}"): admin(
        lambda w, t: Call(f"/api/v1/admin/users/{w.spare['user'][0]}", json={"active": False})
    ),
    ("POST", "/api/v1/admin/tokens"): admin(
        lambda w, t: Call("/api/v1/admin/tokens", json={"role": "operator", "scope": "00"})
    ),
    ("DELETE", "/api/v1/admin/tokens/{token_id}"): admin(
        lambda w, t: Call(f"/api/v1/admin/tokens/{w.spare['token'][0]}")
    ),
    ("POST", "/api/v1/admin/incidents/{timer_id}/retry"): admin(
        lambda w, t: Call(f"/api/v1/admin/incidents/{w.spare['incident'][0]}/retry")
    ),
    ("POST", "/api/v1/admin/incidents/{timer_id}/dismiss"): admin(
        lambda w, t: Call(f"/api/v1/admin/incidents/{w.spare['incident'][1]}/dismiss")
    ),
    ("POST", "/api/v1/admin/outbox/{message_id}/redeliver"): admin(
        lambda w, t: Call(f"/api/v1/admin/outbox/{w.spare['dead'][0]}/redeliver")
    ),
    ("POST", "/api/v1/classifier/suggest"): [  # a question, not a write
        Write(
            on(lambda w, t: Call("/api/v1/classifier/suggest", json={"text": "垃圾满溢"})),
            INTAKE,
            False,
            False,
        )
    ],
    # ---------------------------------------------------------------- API: knowledge base
    ("POST", "/api/v1/knowledge/articles"): [
        Write(
            on(
                lambda w, t: Call(
                    "/api/v1/knowledge/articles", json=ARTICLE | {"categories": ["12005"]}
                )
            ),
            KEEPERS,
            False,
        )
    ],
    ("PUT", "/api/v1/knowledge/articles/{article_id}"): [
        Write(
            on(
                lambda w, t: Call(
                    f"/api/v1/knowledge/articles/{article(w, t)}",
                    json=ARTICLE | {"categories": ["12005"], "answer": "改了"},
                )
            ),
            KEEPERS,
        )
    ],
    ("POST", "/api/v1/knowledge/articles/{article_id}/submit"): article_step("submit", "draft"),
    ("POST", "/api/v1/knowledge/articles/{article_id}/publish"): article_step(
        "publish", "in_review"
    ),
    ("POST", "/api/v1/knowledge/articles/{article_id}/reject"): article_step(
        "reject", "in_review", note="依据过期"
    ),
    ("POST", "/api/v1/knowledge/articles/{article_id}/expire"): article_step("expire", "published"),
    ("POST", "/api/v1/knowledge/flags"): [
        Write(
            on(
                lambda w, t: Call(
                    "/api/v1/knowledge/flags",
                    json={
                        "case_id": w.case(t),
                        "article_id": article(w, "inside", "published"),
                        "kind": "wrong",
                        "note": "答复有误",
                    },
                )
            ),
            frozenset({D, H, S, A}),
        )
    ],
    ("POST", "/api/v1/knowledge/answers"): [
        Write(on(lambda w, t: Call("/api/v1/knowledge/answers", json=answer(t))), frozenset({OP}))
    ],
    # ---------------------------------------------------------------- pages
    ("POST", "/logout"): [Write(on(lambda w, t: Call("/logout")), EVERYONE, False)],
    ("POST", "/cases/{case_id}/act/{action}"): [
        Write(on(lambda w, t: Call(f"/cases/{w.case(t)}/act/note", data={"note": "看"})), NOTE)
    ],
    ("POST", "/intake"): [
        Write(on(lambda w, t: Call("/intake", data=case_body(t) | {"confirm": "1"})), INTAKE)
    ],
    ("POST", "/intake/suggest"): [
        Write(on(lambda w, t: Call("/intake/suggest", data=text())), INTAKE, False, False)
    ],
    ("POST", "/grid/report"): [Write(_page_grid, frozenset({G}))],
    ("POST", "/admin/users"): admin(lambda w, t: Call("/admin/users", data=new_user())),
    ("POST", "/admin/users/{user_id}/scope"): admin(
        lambda w, t: Call(f"/admin/users/{w.spare['user'][2]}/scope", data={"scope": "0101"})
    ),
    ("POST", "/admin/users/{user_id}/active"): admin(
        lambda w, t: Call(f"/admin/users/{w.spare['user'][1]}/active", data={"active": "0"})
    ),
    ("POST", "/admin/tokens"): admin(
        lambda w, t: Call("/admin/tokens", data={"role": "operator", "scope": "00"})
    ),
    ("POST", "/admin/tokens/{token_id}/revoke"): admin(
        lambda w, t: Call(f"/admin/tokens/{w.spare['token'][1]}/revoke")
    ),
    ("POST", "/admin/rules/check"): admin(
        lambda w, t: Call("/admin/rules/check", data={"text": DEMO_RULES}), writes=False
    ),
    ("POST", "/admin/rules/backtest"): admin(
        lambda w, t: Call("/admin/rules/backtest", data={"text": DEMO_RULES}), writes=False
    ),
    ("POST", "/admin/rules/activate"): admin(
        lambda w, t: Call("/admin/rules/activate", data={"text": OTHER_RULES})
    ),
    ("POST", "/admin/calendar"): admin(
        lambda w, t: Call("/admin/calendar", data={"day": "2027-10-10", "kind": "holiday"})
    ),
    ("POST", "/admin/calendar/{day}/delete"): admin(
        lambda w, t: Call("/admin/calendar/2027-10-10/delete")
    ),
    ("POST", "/admin/outbox/{message_id}/redeliver"): admin(
        lambda w, t: Call(f"/admin/outbox/{w.spare['dead'][1]}/redeliver")
    ),
    # The page's form has no grid: its case belongs to the city, so a city-wide operator
    # answers (a district operator is refused, nothing written: the API takes grid_code).
    ("POST", "/knowledge/answer"): [
        Write(
            on(lambda w, t: Call("/knowledge/answer", data=answer(t), scope="00")),
            frozenset({OP}),
            False,
        ),
        Write(on(lambda w, t: Call("/knowledge/answer", data=answer(t))), frozenset({OP})),
    ],
    ("POST", "/knowledge/new"): [
        Write(on(lambda w, t: Call("/knowledge/new", data=ARTICLE)), KEEPERS, False)
    ],
    ("POST", "/knowledge/{article_id}"): [
        Write(
            on(lambda w, t: Call(f"/knowledge/{article(w, t)}", data=ARTICLE | {"answer": "改了"})),
            KEEPERS,
        )
    ],
    ("POST", "/knowledge/{article_id}/{step}"): [
        Write(on(lambda w, t: Call(f"/knowledge/{article(w, t)}/submit")), KEEPERS)
    ],
    ("POST", "/admin/incidents/{timer_id}/{what}"): admin(
        lambda w, t: Call(f"/admin/incidents/{w.spare['incident'][2]}/retry")
    ),
}
# Signing in is walked by its own test below: it is the one write made without credentials.
SIGN_IN = {("POST", "/login"), ("POST", "/api/v1/auth/token")}


def app_writes(app) -> set[tuple[str, str]]:
    found = set()
    for route in _iter_included_route_candidates(app.routes):
        path = getattr(route, "path_format", None)
        for method in (getattr(route, "methods", None) or set()) & WRITE_METHODS:
            found.add((method, path))
    return found


def test_every_write_route_is_walked(api):
    served = app_writes(api.client._transport.app)  # type: ignore[attr-defined]
    walked = set(WRITES) | SIGN_IN
    assert served - walked == set(), "add these write routes to WRITES in tests/test_write_walk.py"
    assert walked - served == set(), "these WRITES entries name routes the app no longer serves"
    unguarded = {key for key in served if key not in ROUTES and key not in PAGES}
    assert unguarded == set(), "add these routes to web/policy.py"


# ---------------------------------------------------------------- the database, all of it


def tables() -> list[Table]:
    return sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name)


STATIC = {"city_grid"}  # reference data no route writes (large polygons): counted only
_QUERIES: dict[str, list[tuple[str, str]]] = {}


def queries(dialect) -> list[tuple[str, str]]:
    """Each table's name and the SQL reading it in key order (compiled once per dialect)."""
    found = _QUERIES.get(dialect.name)
    if found is None:
        found = _QUERIES[dialect.name] = []
        for table in tables():
            keys = list(table.primary_key.columns) or list(table.columns)
            query = select(func.count()).select_from(table)
            if table.name not in STATIC:
                query = select(table).order_by(*keys)
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            found.append((table.name, sql))
    return found


def snapshot(ctx) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows (an UPDATE shows too)."""
    found = {}
    with ctx.db.connect() as conn:
        for name, sql in queries(conn.dialect):
            rows = conn.exec_driver_sql(sql).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            found[name] = (len(rows), digest)
    return found


def changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


# ---------------------------------------------------------------- the walk


@pytest.fixture
async def walk(make_ctx, make_api, tmp_path):
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
    files = {"file": ("p.png", png(4242), "image/png")}
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


async def test_write_walk(walk):
    """One walk over every route (one database: signing in each role is costly), each
    route's findings named; admins go last on each route, as their success may use up the
    route's target."""
    wrong: list[str] = []
    for key in sorted(WRITES):
        wrong += await walk_route(walk, key)
    wrong += await without_the_form_token(walk)
    assert wrong == [], "\n".join(wrong)


async def walk_route(walk: Walk, key: tuple[str, str]) -> list[str]:
    method, template = key
    wrong: list[str] = []
    for index, entry in enumerate(WRITES[key]):
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


async def without_the_form_token(walk: Walk) -> list[str]:
    """Every page write by a role the policy allows, on its own target, but without the
    session's form token (a cross-site post): refused, nothing written."""
    wrong = []
    for (method, template), entries in WRITES.items():
        if (method, template) not in PAGES:
            continue
        entry = entries[0]
        for role in [r for r in ORDER if r is not None and r in entry.ok]:
            call = await entry.build(walk, role, "inside")
            call.csrf = False
            before = snapshot(walk.api.ctx)
            answer = await send(walk, method, template, role, call)
            written = changed(before, snapshot(walk.api.ctx))
            if answer.status_code != 403 or written:
                wrong.append(f"no form token: {template} {role}: {answer.status_code}, {written}")
    return wrong


async def test_signing_in_writes_only_a_session(api):
    """The two writes made without credentials: a right password writes a token (API) or a
    page session, a forged sign-in (no form token) nothing, a wrong password only its
    throttle count."""
    ctx = api.ctx
    username = ensure_user(ctx, "dispatcher", "0101")
    before = snapshot(ctx)
    right = await api.client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert right.status_code == 200 and changed(before, snapshot(ctx)) == ["api_token"]
    browser = httpx.AsyncClient(transport=api.client._transport, base_url="http://gridflow.test")
    form = await browser.get("/login")
    token = CSRF.search(form.text)[1]
    before = snapshot(ctx)
    forged = await browser.post("/login", data={"username": username, "password": PASSWORD})
    assert forged.status_code == 403 and changed(before, snapshot(ctx)) == []
    signed = await browser.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303 and changed(before, snapshot(ctx)) == ["page_session"]
    before = snapshot(ctx)
    wrong = await api.client.post(
        "/api/v1/auth/token", json={"username": username, "password": "not-it-at-all"}
    )
    assert wrong.status_code == 401
    assert changed(before, snapshot(ctx)) == ["login_throttle"]
