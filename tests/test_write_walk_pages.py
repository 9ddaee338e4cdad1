"""The write walk of the pages (tests/write_walk_support.py says what a walk checks): the
case page's actions, intake, the grid worker's report, administration and the knowledge
base, by every role and none, inside and outside the caller's scope. Every page write is
also posted without the session's form token (a cross-site post): refused, nothing written.
Signing in, the one write made without credentials, has its own test (the API's token too).
A new page write route fails ``test_every_page_write_route_is_walked`` until PAGE_WRITES
says how to call it and who may."""

from __future__ import annotations

import httpx
import pytest

from engine.users.models import Role
from tests.db_snapshot import changed, snapshot
from tests.dispatch_support import DEMO_RULES
from tests.intake_support import png
from tests.page_support import CSRF, PASSWORD, ensure_user
from tests.write_walk_support import (
    ARTICLE,
    EVERYONE,
    GRID_POINTS,
    INTAKE,
    KEEPERS,
    NOTE,
    OP,
    ORDER,
    Call,
    G,
    Walk,
    Write,
    admin,
    answer,
    article,
    case_body,
    counter,
    new_user,
    on,
    opened_walk,
    send,
    text,
    unwalked,
    walk_routes,
)
from web.policy import PAGES

# A rule table that differs from the live one (activating the same table writes nothing).
OTHER_RULES = DEMO_RULES.replace('department = "HW-01"', 'department = "SJ-01"', 1)


async def _page_grid(walk: Walk, role: Role | None, target: str) -> Call:
    lat, lng = GRID_POINTS[target]
    files = {"photos": ("p.png", png(next(counter) + 500), "image/png")}
    data = {"category": "09007", "lat": lat, "lng": lng, **text()}
    return Call("/grid/report", data=data, files=files)


PAGE_WRITES: dict[tuple[str, str], list[Write]] = {
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
SIGN_IN = {("POST", "/login")}


@pytest.fixture
async def walk(make_ctx, make_api, tmp_path):
    async with opened_walk(make_ctx, make_api, tmp_path) as ready:
        yield ready


def test_every_page_write_route_is_walked(api):
    app = api.client._transport.app  # type: ignore[attr-defined]
    assert unwalked(app, PAGE_WRITES, SIGN_IN, pages=True) == [], (
        "add these write routes to PAGE_WRITES in tests/test_write_walk_pages.py "
        "(and to web/policy.py)"
    )


async def test_page_write_walk(walk):
    wrong = await walk_routes(walk, PAGE_WRITES)
    wrong += await without_the_form_token(walk)
    assert wrong == [], "\n".join(wrong)


async def without_the_form_token(walk: Walk) -> list[str]:
    """Every page write by a role the policy allows, on its own target, but without the
    session's form token (a cross-site post): refused, nothing written."""
    wrong = []
    for (method, template), entries in PAGE_WRITES.items():
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
