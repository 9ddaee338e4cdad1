"""Security headers on every response, a CSP the pages live within (no inline script or
style in any template), HSTS and Secure cookies over HTTPS, X-Forwarded-* believed only from
trusted proxies, and /healthz's warnings for administrators only."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from page_support import login
from sqlmodel import select

from engine.db import new_session
from engine.users.lockout import LoginThrottle
from web.app import create_app
from web.security_headers import CSP, DOCS_CSP

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script element without src
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=, …
    re.compile(r"javascript:", re.I),
]


def client_for(ctx, base_url="http://gridflow.test", address="127.0.0.1"):
    app = create_app(context=ctx)
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


def assert_secured(response: httpx.Response, csp: str = CSP) -> None:
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-security-policy"] == csp
    assert "frame-ancestors 'none'" in csp


async def test_every_kind_of_response_carries_the_headers(api):
    await api.file()
    answers = [
        await api.client.get("/login"),  # page
        await api.client.get("/"),  # redirect to login
        await api.client.get("/static/gridflow.js"),  # static file
        await api.client.get("/healthz"),  # public JSON
        await api.client.get("/api/v1/cases"),  # 401
        await api.client.get("/api/v1/cases", headers=api.auth("admin")),  # API JSON
        await api.client.get("/api/v1/no-such-route"),  # 404
        await api.client.get("/open311/v2/services.json"),
        await api.client.get("/metrics"),
    ]
    await login(api, "supervisor")
    answers.append(await api.client.get("/board"))
    for answer in answers:
        assert_secured(answer)
        assert "strict-transport-security" not in answer.headers  # plain HTTP


def test_the_pages_csp_allows_no_inline_script_or_style():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CSP


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_has_inline_script_style_or_handlers(template):
    text = template.read_text(encoding="utf-8")
    found = [pattern.pattern for pattern in INLINE if pattern.search(text)]
    assert found == [], f"{template.relative_to(TEMPLATES)}: inline code the CSP blocks"


async def test_the_api_docs_get_their_own_relaxed_policy(api):
    for path in ("/docs", "/redoc"):
        answer = await api.client.get(path)
        assert answer.status_code == 200
        assert_secured(answer, DOCS_CSP)


async def test_https_gets_hsts(ctx):
    async with client_for(ctx, "https://gridflow.test") as client:
        answer = await client.get("/login")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in answer.headers["set-cookie"]


async def test_forwarded_headers_only_from_trusted_proxies(make_ctx):
    ctx = make_ctx(trusted_proxies=["10.0.0.0/8"])
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.9"}
    login = {"username": "nobody", "password": "wrong-password"}
    async with client_for(ctx, address="10.1.2.3") as proxy:
        page = await proxy.get("/login", headers=forwarded)
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert "Secure" in page.headers["set-cookie"]
        await proxy.post("/api/v1/auth/token", json=login, headers=forwarded)
    async with client_for(ctx, address="203.0.113.5") as stranger:
        page = await stranger.get("/login", headers=forwarded)
        assert "strict-transport-security" not in page.headers
        assert "Secure" not in page.headers["set-cookie"]
        await stranger.post("/api/v1/auth/token", json=login, headers=forwarded)
    with new_session(ctx.db) as session:
        keys = {row.key for row in session.exec(select(LoginThrottle))}
    # Throttled by the client the proxy names, and by the stranger's own address.
    assert {"addr:198.51.100.9", "addr:203.0.113.5"} <= keys
    assert "addr:10.1.2.3" not in keys


async def test_no_proxy_is_trusted_by_default(ctx):
    async with client_for(ctx, address="127.0.0.1") as local:
        page = await local.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in page.headers


async def test_healthz_tells_the_public_only_its_status(api):
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    for role in ("operator", "dispatcher", "supervisor"):
        answer = await api.client.get("/healthz", headers=api.auth(role))
        assert answer.json() == {"status": "ok"}, role
    bad = await api.client.get("/healthz", headers={"Authorization": "Bearer gf_forged"})
    assert bad.status_code == 200 and bad.json() == {"status": "ok"}
    admin = (await api.client.get("/healthz", headers=api.auth("admin"))).json()
    assert admin["status"] == "ok" and admin["city"] == "示范市"
    assert any("2027" in w for w in admin["warnings"])  # the calendar package stops at 2026


async def test_healthz_warnings_for_an_admins_page_session(api):
    await login(api, "admin")
    assert "warnings" in (await api.client.get("/healthz")).json()
    await login(api, "supervisor")
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
