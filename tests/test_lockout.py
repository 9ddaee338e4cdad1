"""Login throttling per source address and per account: failures slow the guesser down with
growing delays, and never lock the account's owner out (engine.users.lockout)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from engine.db import new_session
from engine.users import lockout
from engine.users.lockout import LoginThrottle
from engine.users.models import Role, UserCreate
from engine.users.service import create_user
from web.app import create_app

PASSWORD = "correct-horse-9"
ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def users(ctx):
    with new_session(ctx.db) as session, session.begin():
        for name, role in (("wang", Role.dispatcher), ("root", Role.admin)):
            data = UserCreate(username=name, role=role, scope="0101", password=PASSWORD)
            create_user(session, data, ctx.city, ctx.clock.now())


@pytest.fixture
async def clients(ctx, users) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client per source address, on one app."""
    app = create_app(context=ctx)
    made = {}
    for address in (ATTACKER, OWNER):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        made[address] = httpx.AsyncClient(transport=transport, base_url="http://gridflow.test")
    yield made
    for client in made.values():
        await client.aclose()


async def token_login(client, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )


async def test_an_attacker_cannot_lock_the_admin_out(clients):
    attacker, owner = clients[ATTACKER], clients[OWNER]
    for _ in range(20):
        answer = await token_login(attacker, "root", "guess")
        if answer.status_code == 429:
            break
        assert answer.status_code == 401
    held = await token_login(attacker, "root", PASSWORD)  # even the right password
    assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1
    assert held.json()["error"]["code"] == "throttled"
    assert (await token_login(owner, "root", PASSWORD)).status_code == 200


async def test_the_accounts_delay_holds_every_address_that_failed_for_it(clients, ctx):
    attacker, owner = clients[ATTACKER], clients[OWNER]
    for _ in range(lockout.ACCOUNT_FREE):
        assert (await token_login(attacker, "wang", "guess")).status_code == 401
    assert (await token_login(owner, "wang", "typo")).status_code == 401  # the 6th: 1 s delay
    assert (await token_login(owner, "wang", PASSWORD)).status_code == 429
    ctx.clock.advance(seconds=1)
    assert (await token_login(owner, "wang", PASSWORD)).status_code == 200
    # The owner's success clears their address for the account; the attacker stays counted.
    assert (await token_login(attacker, "wang", "guess")).status_code == 401
    assert (await token_login(owner, "wang", PASSWORD)).status_code == 200
    assert (await token_login(attacker, "wang", PASSWORD)).status_code == 429


async def test_delays_double_up_to_the_cap(clients, ctx):
    attacker = clients[ATTACKER]
    for _ in range(lockout.ACCOUNT_FREE):
        await token_login(attacker, "wang", "guess")
    delays = []
    for _ in range(13):
        assert (await token_login(attacker, "wang", "guess")).status_code == 401
        held = await token_login(attacker, "wang", "guess")
        assert held.status_code == 429
        delays.append(int(held.headers["retry-after"]))
        ctx.clock.advance(seconds=delays[-1])
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


async def test_one_address_guessing_many_accounts_is_held_for_all(clients):
    attacker, owner = clients[ATTACKER], clients[OWNER]
    for n in range(lockout.ADDRESS_FREE + 1):
        assert (await token_login(attacker, f"nobody{n}", "guess")).status_code == 401
    assert (await token_login(attacker, "wang", PASSWORD)).status_code == 429
    assert (await token_login(owner, "wang", PASSWORD)).status_code == 200


async def test_counts_are_forgotten_a_day_after_the_last_failure(clients, ctx):
    attacker = clients[ATTACKER]
    for _ in range(lockout.ACCOUNT_FREE + 3):
        await token_login(attacker, "wang", "guess")
    assert (await token_login(attacker, "wang", PASSWORD)).status_code == 429
    ctx.clock.advance(hours=24, seconds=1)
    assert (await token_login(attacker, "wang", PASSWORD)).status_code == 200
    for _ in range(lockout.ACCOUNT_FREE):  # a fresh count: free failures again
        assert (await token_login(attacker, "wang", "guess")).status_code == 401


async def test_the_page_login_shares_the_counts(clients):
    attacker = clients[ATTACKER]
    for _ in range(lockout.ACCOUNT_FREE + 1):
        await token_login(attacker, "wang", "guess")
    form = await attacker.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    page = await attacker.post(
        "/login", data={"username": "wang", "password": PASSWORD, "csrf_token": csrf}
    )
    assert page.status_code == 429 and page.headers["retry-after"] == "1"
    assert "gf_session" not in page.headers.get("set-cookie", "")


async def test_counters_are_keyed_by_the_connecting_address(clients, ctx):
    await token_login(clients[ATTACKER], "wang", "guess")
    with new_session(ctx.db) as session:
        keys = {row.key for row in session.exec(select(LoginThrottle))}
    assert keys == {f"addr:{ATTACKER}", "user:wang", f"pair:{ATTACKER} wang"}
