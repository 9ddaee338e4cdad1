"""The API docs work on an intranet: /docs and /redoc load Swagger UI and ReDoc from the app's
own static files, reference no URL outside the app, and run no inline script."""

from __future__ import annotations

import re

import pytest

from web.security_headers import DOCS_CSP

URL = re.compile(r"""(?:src|href|url|spec-url)\s*[=:]\s*["']?([^"'\s>)]+)""", re.I)
ABSOLUTE = re.compile(r"""(?:https?:)?//[^\s"'<>]+""", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_reference_nothing_outside_the_app(api, path):
    page = await api.client.get(path)
    assert page.status_code == 200
    html = page.text
    assert ABSOLUTE.findall(html) == []  # no http(s):// nor protocol-relative URL
    assert INLINE_SCRIPT.search(html) is None
    referenced = URL.findall(html)
    assert referenced, "the page loads its assets"
    for url in referenced:
        assert url.startswith("/"), url
        if url.startswith("/static/"):
            asset = await api.client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 0


async def test_swagger_ui_is_started_by_a_static_script_without_the_online_validator(api):
    page = (await api.client.get("/docs")).text
    assert 'data-openapi-url="/openapi.json"' in page
    init = await api.client.get("/static/vendor/swagger-init.js")
    assert "validatorUrl: null" in init.text
    assert ABSOLUTE.findall(init.text) == []


async def test_the_docs_policy_allows_scripts_from_the_app_only(api):
    answer = await api.client.get("/docs")
    assert answer.headers["content-security-policy"] == DOCS_CSP
    directives = dict(part.strip().split(" ", 1) for part in DOCS_CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert "http" not in DOCS_CSP


async def test_the_docs_stay_out_of_the_openapi_schema(api):
    schema = (await api.client.get("/openapi.json")).json()
    assert "/docs" not in schema["paths"] and "/redoc" not in schema["paths"]
