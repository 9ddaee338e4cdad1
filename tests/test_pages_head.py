"""HEAD on every page answers as GET does, with no body (web/pages/head_requests.py): the
same status, the same type and length, the same refusal for a role the policy does not list,
the same redirect to the login page without a session. The API keeps FastAPI's own answer."""

from __future__ import annotations

from page_support import login

from engine.users.models import Role
from web.policy import PAGES, PUBLIC

# Parameterless GET pages (the event stream never ends, so it is asked for its headers only).
STREAMS = {"/board/stream"}
SCOPES = {Role.handler: "HW-01", Role.grid_worker: "01010101"}
PLAIN = sorted(path for method, path in PAGES if method == "GET" and "{" not in path)


def allowed_role(path: str) -> Role | None:
    roles = PAGES[("GET", path)]
    if roles is PUBLIC:
        return None
    return Role.admin if Role.admin in roles else sorted(roles)[0]


async def same_answer(api, path: str) -> None:
    head = await api.client.head(path)
    assert head.content == b"", path
    if path in STREAMS:
        assert head.status_code == 200 and "text/event-stream" in head.headers["content-type"]
        return
    get = await api.client.get(path)
    assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
    assert head.headers.get("content-type") == get.headers.get("content-type"), path
    if "content-length" in get.headers:
        assert head.headers["content-length"] == get.headers["content-length"], path
    if get.is_redirect:
        assert head.headers["location"] == get.headers["location"], path


async def test_head_answers_like_get_on_every_page(api):
    """Every parameterless GET page, as a role the policy lets in (one sign-in per role)."""
    by_role: dict[Role | None, list[str]] = {}
    for path in PLAIN:
        by_role.setdefault(allowed_role(path), []).append(path)
    assert len(PLAIN) > 15 and "/dispatch" in PLAIN and "/admin/rules" in PLAIN
    for role, paths in by_role.items():
        if role is not None:
            await login(api, role.value, SCOPES.get(role, "00"))
        for path in paths:
            await same_answer(api, path)


async def test_head_without_a_session_is_sent_to_log_in_and_a_wrong_role_refused(api):
    head = await api.client.head("/dispatch")
    assert head.status_code == 303 and head.headers["location"].startswith("/login")
    await login(api, "grid_worker", "01010101")
    refused = await api.client.head("/admin")
    assert refused.status_code == (await api.client.get("/admin")).status_code == 403
    assert refused.content == b""


async def test_head_on_a_case_page_and_the_api_keeps_its_own_answer(api):
    case = await api.file()
    await login(api, "admin")
    await same_answer(api, f"/cases/{case['id']}")
    assert (await api.client.head("/cases/999999")).status_code == 404
    listed = await api.client.head("/api/v1/cases", headers=api.auth("admin"))
    assert listed.status_code == 405  # the API: FastAPI's GET routes, as before
