"""The grid page's service worker (web/static/grid_sw.js): served under /grid with the
scopes it is registered for allowed, to anyone (code, no data), and its list of kept files
is every file the page loads."""

from __future__ import annotations

import re

import pytest
from dispatch_support import activate
from page_support import login

from web.pages.grid import SERVICE_WORKER


@pytest.fixture
async def pages(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


def kept_files() -> set[str]:
    script = SERVICE_WORKER.read_text(encoding="utf-8")
    listed = re.search(r"var ASSETS = \[(.*?)\];", script, re.S)
    assert listed, "grid_sw.js lists its files in ASSETS"
    return set(re.findall(r'"(/static/[^"]+)"', listed.group(1)))


async def test_the_worker_script_is_served_for_the_grid_and_login_scopes(pages):
    answer = await pages.client.get("/grid/sw.js")  # no login: the /login copy updates too
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["service-worker-allowed"] == "/"
    assert answer.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "caches" in answer.text


async def test_the_worker_keeps_every_file_the_page_loads(pages):
    await login(pages, "grid_worker", "01010101")
    page = (await pages.client.get("/grid")).text
    loaded = set(re.findall(r'(?:src|href)="(/static/[^"?]+)"', page))
    assert "/static/grid_offline.js" in loaded
    assert loaded == kept_files()
    for path in kept_files():
        assert (await pages.client.get(path)).status_code == 200, path
