"""The big screen's optional tile server (city.toml ``[board] tile_url``): refused at load
with the key named when it is unusable; when set, the board page passes it to the map and
allows its origin in ``img-src``, and only the board page, only then. Also: 最新督办 on the
big screen names the category, not its code."""

from __future__ import annotations

import json
import shutil
from html import unescape
from pathlib import Path

import pytest
from dispatch_support import activate
from page_support import file_hotline, login
from test_pages_wording import raw_words

from engine.city.loader import read_city, store_city
from engine.city.tiles import tile_layer
from engine.db import new_session
from web.cli import main
from web.security_headers import CSP

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
TILES = "https://tiles.example.gov.cn:8443/osm/{z}/{x}/{y}.png"


def with_board(city: Path, lines: str) -> Path:
    with (city / "city.toml").open("a", encoding="utf-8") as toml:
        toml.write("\n[board]\n" + lines + "\n")
    return city


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO, tmp_path / "city"))


def test_a_tile_url_is_optional():
    assert tile_layer({}) is None
    assert tile_layer({"board": {"tile_url": ""}}) is None
    tiles = tile_layer({"board": {"tile_url": TILES, "tile_attribution": " © 示范市 "}})
    assert tiles is not None and tiles.url == TILES and tiles.attribution == "© 示范市"
    assert tiles.origin == "https://tiles.example.gov.cn:8443"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://tiles.example.gov.cn/{z}/{x}/{y}.png", "must be an http:// or https:// URL"),
        ("tiles.example.gov.cn/{z}/{x}/{y}.png", "must be an http:// or https:// URL"),
        ("https://tiles.example.gov.cn/{z}/{x}.png", "missing {y}"),
        ("https://{s}.tiles.example.gov.cn/{z}/{x}/{y}.png", "no {s} subdomains"),
        ("https://tiles.example.gov.cn/{z}/{x}/{y}{r}.png", "unknown placeholder {r}"),
        ("https://u:p@tiles.example.gov.cn/{z}/{x}/{y}.png", "user name or password"),
        ("https://tiles.example.gov.cn; script-src */{z}/{x}/{y}", "must not contain spaces"),
    ],
)
def test_an_unusable_tile_url_is_refused_naming_the_key(city, capsys, url, reason):
    with_board(city, f'tile_url = "{url}"')
    assert main(["config", "check", str(city)]) == 1
    out = capsys.readouterr().out
    assert "city.toml line" in out and "field 'board.tile_url'" in out, out
    assert reason in out, out


def test_a_misspelled_board_key_and_a_number_are_refused(city, capsys):
    with_board(city, f'tile_ulr = "{TILES}"\ntile_attribution = 3')
    assert main(["config", "check", str(city)]) == 1
    out = capsys.readouterr().out
    assert "field 'board.tile_ulr': unknown setting (known: tile_url, tile_attribution)" in out


def test_a_good_tile_url_passes_the_check(city, capsys):
    with_board(city, f'tile_url = "{TILES}"\ntile_attribution = "© 示范市规划局"')
    assert main(["config", "check", str(city)]) == 0, capsys.readouterr().out


@pytest.fixture
async def tiled(make_ctx, make_api, city):
    ctx = make_ctx()
    files = read_city(with_board(city, f'tile_url = "{TILES}"\ntile_attribution = "<b>©</b>"'))
    with new_session(ctx.db) as session, session.begin():
        store_city(session, files)  # as `gridflow init` does
    ctx.reload_city()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


@pytest.fixture
async def plain(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


async def test_the_board_allows_the_city_tile_server_only_when_configured(tiled):
    await login(tiled, "supervisor")
    board = await tiled.client.get("/board")
    policy = board.headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.example.gov.cn:8443;" in policy
    assert policy.replace(" https://tiles.example.gov.cn:8443", "") == CSP  # nothing else
    assert f'data-tile-url="{TILES}"' in board.text
    assert 'data-tile-attribution="&lt;b&gt;©&lt;/b&gt;"' in board.text  # text, not markup
    other = await tiled.client.get("/cases")
    assert other.headers["content-security-policy"] == CSP  # the board page only


async def test_without_a_tile_server_the_board_keeps_the_strict_policy(plain):
    await login(plain, "supervisor")
    board = await plain.client.get("/board")
    assert board.headers["content-security-policy"] == CSP
    assert "data-tile-url" not in board.text
    assert "/static/vendor/leaflet/leaflet.js" in board.text
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in board.text
    for path in (
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/static/vendor/leaflet.markercluster/MarkerCluster.css",
        "/static/vendor/leaflet/LICENSE",
        "/static/vendor/leaflet.markercluster/MIT-LICENCE.txt",
    ):
        assert (await plain.client.get(path)).status_code == 200, path


async def test_latest_escalations_name_the_category(plain, clock):
    file_hotline(plain.ctx)  # category 06002 暴露垃圾
    clock.advance(minutes=90)
    plain.ctx.sweeper.sweep(clock.now())  # escalated: on the big screen's 最新督办
    await login(plain, "supervisor")
    data = (await plain.client.get("/board/data.json")).json()
    assert [e["category"] for e in data["escalations"]] == ["暴露垃圾"]
    data = (await plain.client.get("/board/data.json", params={"lang": "en"})).json()
    assert [e["category"] for e in data["escalations"]] == ["Exposed garbage"]


async def test_the_big_screen_in_chinese_shows_no_raw_code_or_english(plain, clock):
    """The page as rendered, and the words its script writes into the map and the lists
    (the labels it is given and data.json's names), pass the zh-CN scan."""
    file_hotline(plain.ctx)
    clock.advance(minutes=90)
    plain.ctx.sweeper.sweep(clock.now())
    await login(plain, "supervisor")
    html = (await plain.client.get("/board")).text
    assert raw_words(html) == []
    labels = json.loads(unescape(html.split('data-labels="')[1].split('"')[0]))
    assert labels["bs_zoom_in"] == "放大" and labels["bs_cluster"] == "个案件"
    assert raw_words(" ".join(labels.values())) == []
    data = (await plain.client.get("/board/data.json")).json()
    shown = [e[key] for e in data["escalations"] for key in ("category", "unit", "overdue")]
    assert shown and raw_words(" ".join(shown)) == []
    grids = (await plain.client.get("/board/grids.json")).json()["features"]
    assert raw_words(" ".join(f["properties"]["name"] for f in grids)) == []
