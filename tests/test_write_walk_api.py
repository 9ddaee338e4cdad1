"""The write walk of the API (tests/write_walk_support.py says what a walk checks): intake
of every channel, Open311, case actions, uploads, the rules, the calendar, administration
and the knowledge base, each by every role and none, inside and outside the caller's scope.
A new API write route fails ``test_every_api_write_route_is_walked`` until API_WRITES says
how to call it and who may."""

from __future__ import annotations

from typing import Any

import pytest

from engine.users.models import Role
from tests.dispatch_support import DEMO_RULES
from tests.intake_support import png
from tests.write_walk_support import (
    ARTICLE,
    EVERYONE,
    GRID_POINTS,
    GRIDS,
    INTAKE,
    KEEPERS,
    NOTE,
    OP,
    POINTS,
    REFUSED,
    A,
    Build,
    Call,
    D,
    G,
    H,
    S,
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
    roles_for,
    text,
    unwalked,
    walk_routes,
)
from web.policy import OPEN311_FILERS

CAMERAS = {"inside": "CAM-010101-01", "outside": "CAM-020101-01"}
# A rule table that differs from the live one (activating the same table writes nothing).
CHANGED_RULES = DEMO_RULES.replace('department = "HW-01"', 'department = "CG-01"', 1)


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


async def _grid_intake(walk: Walk, role: Role | None, target: str) -> Call:
    return Call("/api/v1/intake/grid", json=await grid_report(walk, role, target))


async def _attach(walk: Walk, role: Role | None, target: str) -> Call:
    """A photo into the inside case: inside, one's own upload; outside, the photo of a case
    out of one's scope (a reference learnt elsewhere)."""
    own = await walk.photo(role) if role is not None else walk.outside_photo
    photo = own if target == "inside" else walk.outside_photo
    body = {"note": "照片", "photos": [photo]}
    return Call(f"/api/v1/cases/{walk.inside}/actions/note", json=body)


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


def photo_file(seed: int) -> dict[str, Any]:
    return {"file": ("p.png", png(next(counter) + seed), "image/png")}


def article_step(step: str, state: str, **body: Any) -> list[Write]:
    call = lambda w, t: Call(f"/api/v1/knowledge/articles/{article(w, t, state)}/{step}", json=body)  # noqa: E731
    return [Write(on(call), KEEPERS)]


FILERS = frozenset({OP, D, G, A})
API_WRITES: dict[tuple[str, str], list[Write]] = {
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
}
SIGN_IN = {("POST", "/api/v1/auth/token")}  # tests/test_write_walk_pages.py signs in


@pytest.fixture
async def walk(make_ctx, make_api, tmp_path):
    async with opened_walk(make_ctx, make_api, tmp_path) as ready:
        yield ready


def test_every_api_write_route_is_walked(api):
    app = api.client._transport.app  # type: ignore[attr-defined]
    assert unwalked(app, API_WRITES, SIGN_IN, pages=False) == [], (
        "add these write routes to API_WRITES in tests/test_write_walk_api.py "
        "(and to web/policy.py)"
    )


async def test_api_write_walk(walk):
    wrong = await walk_routes(walk, API_WRITES)
    assert wrong == [], "\n".join(wrong)
