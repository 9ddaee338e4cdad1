"""A bearer token's principal is kept briefly by each process, and every revocation ends it at
once: a token revoked, its user disabled, their role changed, a revocation in another
process; an expiry still counts on every request. An action answers with the case as its
own transaction left it."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from engine.db import new_session
from web.deps import token_cache

CASES = "/api/v1/cases"


async def login(api, username: str, password: str) -> dict[str, str]:
    found = await api.client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert found.status_code == 200, found.text
    return {"Authorization": f"Bearer {found.json()['token']}"}


async def new_user(api, role: str = "dispatcher", scope: str = "0101") -> tuple[int, dict]:
    made = await api.client.post(
        "/api/v1/admin/users",
        json={"username": f"u.{role}", "role": role, "scope": scope, "password": "s3cret-pass"},
        headers=api.auth("admin"),
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], await login(api, f"u.{role}", "s3cret-pass")


async def status(api, headers) -> int:
    return (await api.client.get(CASES, headers=headers)).status_code


async def new_token(api, **fields) -> tuple[int, dict[str, str]]:
    created = await api.client.post(
        "/api/v1/admin/tokens", json={"role": "operator"} | fields, headers=api.auth("admin")
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], {"Authorization": f"Bearer {created.json()['token']}"}


async def test_a_token_is_looked_up_once_then_kept(api, ctx):
    _, headers = await new_token(api)
    cache = token_cache(ctx)
    misses = cache.misses
    for _ in range(3):
        assert await status(api, headers) == 200
    assert cache.misses == misses + 1  # the database was asked once


async def test_revoking_a_token_ends_it_at_once(api, ctx):
    token_id, headers = await new_token(api)
    assert await status(api, headers) == 200
    assert await status(api, headers) == 200  # kept
    revoked = await api.client.delete(f"/api/v1/admin/tokens/{token_id}", headers=api.auth("admin"))
    assert revoked.status_code == 200
    response = await api.client.get(CASES, headers=headers)
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


async def test_disabling_a_user_or_changing_their_role_ends_their_tokens_at_once(api, ctx):
    admin = api.auth("admin")
    user_id, headers = await new_user(api)
    assert await status(api, headers) == 200
    assert await status(api, headers) == 200
    off = await api.client.patch(
        f"/api/v1/admin/users/{user_id}", json={"active": False}, headers=admin
    )
    assert off.status_code == 200
    assert await status(api, headers) == 401

    user_id, headers = await new_user(api, role="supervisor", scope="01")
    assert await status(api, headers) == 200
    changed = await api.client.patch(
        f"/api/v1/admin/users/{user_id}", json={"role": "operator"}, headers=admin
    )
    assert changed.status_code == 200
    assert await status(api, headers) == 401  # a token of the supervisor they were


async def test_a_revocation_in_another_process_ends_what_this_one_kept(api, ctx):
    token_id, headers = await new_token(api)
    assert await status(api, headers) == 200
    # Revoked behind this process's back (as another process's transaction would, before it
    # tells the others): this process still holds the answer it read.
    with new_session(ctx.db) as session, session.begin():
        session.execute(
            text("UPDATE api_token SET revoked_at = created_at WHERE id = :id"), {"id": token_id}
        )
    assert await status(api, headers) == 200
    # The other process tells every process of the instance, through the instance folder.
    script = "import sys; from pathlib import Path; from engine.users.token_cache import "
    script += "revoked; revoked(Path(sys.argv[1]))"
    instance = str(ctx.settings.instance_dir)
    subprocess.run([sys.executable, "-c", script, instance], check=True)
    assert await status(api, headers) == 401


async def test_an_expired_token_is_refused_though_kept(api, ctx):
    _, headers = await new_token(api, days=1)
    assert await status(api, headers) == 200
    ctx.clock.advance(days=1, seconds=1)
    response = await api.client.get(CASES, headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


async def test_an_action_answers_with_the_case_as_its_transaction_left_it(api):
    case = await api.file()
    acted = await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    if acted.status_code == 409:  # dispatched by a rule already: redispatch instead
        acted = await api.act(case["id"], "redispatch", "dispatcher", department="HW-01")
    assert acted.status_code == 200, acted.text
    again = await api.client.get(f"{CASES}/{case['id']}", headers=api.auth("dispatcher"))
    assert acted.json() == again.json()
