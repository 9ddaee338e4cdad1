"""Browser-test support (not a test module): a real uvicorn server on a fresh demo-city
database whose clock the test moves (a FileClock), and Debian's Chromium driven headless by
Playwright, one profile per person, every request recorded so the tests can check that none
leaves the server's origin."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import backends
import httpx
import pytest

from engine.city.directory import CityDirectory
from engine.city.loader import read_city
from engine.clock import FileClock, VirtualClock
from engine.db import make_engine, new_session
from engine.dispatch.rule_versions import LiveRules
from engine.settings import Settings
from engine.users.models import Role, UserCreate
from engine.users.service import create_user
from tests.test_pages_wording import raw_words, visible_text
from web.context import AppContext, build_context

ROOT = Path(__file__).resolve().parents[2]
DEMO_CITY = ROOT / "examples" / "demo_city"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DEMO_PASSWORD = "gridflow-demo"
SERVER_KEY = "browser-test-secret"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
# The widths every desk's walk is made at (issue 21): a phone, a laptop, a desktop screen.
WALK_SCREENS = [
    {"width": 360, "height": 740},
    {"width": 1366, "height": 900},
    {"width": 1920, "height": 1080},
]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def skip_unless_browser() -> None:
    """Browser scenarios run once, in the SQLite pass: the PostgreSQL pass runs the same
    pages through the plain page tests, and a second browser run would test no new code."""
    if os.environ.get("GRIDFLOW_TEST_DB", "sqlite") == "postgresql":
        pytest.skip("browser scenarios run in the SQLite pass only (same pages, same code)")
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def prepare_city(db_url: str, now: datetime) -> None:
    """The demo city's users (users.toml) and its rule table, as `gridflow init` makes them."""
    files = read_city(DEMO_CITY)
    db = make_engine(db_url)
    with new_session(db) as session, session.begin():
        city = CityDirectory.load(session)
        for row in files.users:
            data = UserCreate(
                username=row["username"], display_name=row.get("name", ""), role=Role(row["role"]),
                scope=row.get("scope"), password=files.demo_password or DEMO_PASSWORD,
            )  # fmt: skip
            create_user(session, data, city, now)
        if files.rules_text:
            LiveRules().activate(session, files.rules_text, city, "admin", now)
    db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``uvicorn web.app:create_app`` on a free loopback port, its time read from a file."""

    def __init__(self, db_url: str, workdir: Path, now: datetime) -> None:
        self.clock_file = workdir / "clock.txt"
        self.db_url, self.workdir, self.now = db_url, workdir, now
        FileClock.write(self.clock_file, now)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "GRIDFLOW_DATABASE_URL": db_url,
            "GRIDFLOW_CITY_DIR": str(DEMO_CITY),
            "GRIDFLOW_CLOCK_FILE": str(self.clock_file),
            "GRIDFLOW_SECRET_KEY": SERVER_KEY,
            "GRIDFLOW_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "GRIDFLOW_MODELS_DIR": str(workdir / "models"),
            "GRIDFLOW_INTAKE_RATE_PER_SECOND": "0",
        }
        cmd = [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        cmd += ["--timeout-graceful-shutdown", "2"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # readiness poll
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the server did not start")

    def set_time(self, when: datetime) -> None:
        FileClock.write(self.clock_file, when)
        self.now = when

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def running(db_url: str, workdir: Path, now: datetime) -> Iterator[Server]:
    prepare_city(db_url, now)
    server = Server(db_url, workdir, now)
    try:
        yield server
    finally:
        server.stop()


def screen_name(screen: dict[str, int]) -> str:
    return str(screen["width"])


_WALK_SERVER: list[Server] = []


def walk_server(tmp_path_factory) -> Server:
    """One server on a fresh demo-city database for every walk of the session (the walks'
    module fixtures ask for it): each walk makes its own cases and asserts on them by id,
    so the walks share the start-up (users' password hashes, the server) instead of paying
    it once per walk. Stopped, and its database dropped, when the test process ends."""
    skip_unless_browser()
    if not _WALK_SERVER:
        url = backends.fresh_database(backends.demo_city_fill(DEMO_CITY))
        atexit.register(backends.drop_database, url)
        prepare_city(url, START)
        server = Server(url, tmp_path_factory.mktemp("walks"), START)
        atexit.register(server.stop)  # registered last: runs first
        _WALK_SERVER.append(server)
    return _WALK_SERVER[0]


@contextmanager
def city_context(server: Server, name: str = "prepare") -> Iterator[AppContext]:
    """The server's city in this process at the server's time, to make a walk's cases
    through the case service, as the server would."""
    settings = Settings(
        database_url=server.db_url, city_dir=DEMO_CITY, secret_key=SERVER_KEY,
        models_dir=server.workdir / "models", instance_dir=server.workdir / f"instance-{name}",
    )  # fmt: skip
    ctx = build_context(settings, VirtualClock(server.now))
    try:
        yield ctx
    finally:
        ctx.db.dispose()


WALK_TIMEOUT_MS = 10_000  # a walk's step that has not happened by then will not happen


def walker(playwright, server: Server, name: str, screen: dict[str, int], **options) -> Person:
    """The person of a walk at one of WALK_SCREENS, their profile in the server's workdir."""
    person = Person(playwright, server, server.workdir, f"{name}-{screen_name(screen)}",
                    viewport=screen, **options)  # fmt: skip
    person.page.set_default_timeout(WALK_TIMEOUT_MS)
    return person


@contextmanager
def at_desk(
    server: Server, name: str, screen: dict[str, int], username: str, landing: str, **options
) -> Iterator[Person]:
    """A walk's person (:func:`walker`) signed in as ``username``, who lands on their desk's
    work page ``landing`` (not a welcome page); the browser closes after the walk."""
    from playwright.sync_api import sync_playwright  # as the tests import it: on use

    with sync_playwright() as playwright:
        person = walker(playwright, server, name, screen, **options)
        try:
            person.login(username)
            assert person.page.url.endswith(landing), person.page.url
            yield person
        finally:
            person.close()


class Person:
    """One person's browser: a Chromium profile of their own (fresh user-data dir)."""

    def __init__(self, playwright, server: Server, workdir: Path, name: str, **options) -> None:
        self.server, self.requests = server, []
        profile = workdir / f"profile-{name}"
        shutil.rmtree(profile, ignore_errors=True)
        self.context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            locale="zh-CN", timezone_id="Asia/Shanghai", **options,
        )  # fmt: skip
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)
        check_page(self.page)

    def visit(self, path: str, **scan) -> None:
        """Open a page of the walk and check it as every walked page is checked."""
        self.page.goto(self.server.url + path)
        check_desk(self.page, **scan)

    def login(self, username: str) -> None:
        self.page.goto(self.server.url + "/login")
        check_page(self.page)
        self.page.fill("#username", username)
        self.page.fill("#password", DEMO_PASSWORD)
        self.page.press("#password", "Enter")
        self.page.wait_for_url(lambda url: "/login" not in url)  # the role's work page
        check_page(self.page)

    def logout(self) -> None:
        self.page.get_by_role("button", name="退出").click()
        self.page.wait_for_url("**/login")

    def foreign_requests(self) -> list[str]:
        origin = urlsplit(self.server.url)
        return [
            url
            for url in self.requests
            if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
        ]

    def close(self) -> None:
        self.context.close()


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden' && !e.hidden)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id || e.outerHTML)"""


def check_page(page) -> None:
    """Every visible field has a label; the page is Chinese text without mojibake."""
    assert page.evaluate(UNLABELLED) == [], page.url
    text = page.inner_text("body")
    assert "\ufffd" not in text and "Ã" not in text and "æ" not in text, page.url
    assert page.evaluate("document.documentElement.lang") in ("zh-CN", "en")


# The words of the demo rule table's row ids ("emergency-falling-objects"): the admin's own
# names for rows, which the rule page's findings and diff name the rows by.
RULE_ID_WORDS = tuple(
    sorted({word for rule_id in re.findall(r'^id = "(.+)"', (DEMO_CITY / "rules.toml").read_text(
        encoding="utf-8"), re.M) for word in re.findall(r"[A-Za-z]{3,}", rule_id)})
)  # fmt: skip
# What a person edits or reads as code (the rule table's text and its diff): not page words.
EDITED_CODE = re.compile(r"<(textarea|pre)\b.*?</\1>", re.S)


def zh_raw_words(page, allow: tuple[str, ...] = ()) -> list[str]:
    """What a zh-CN page shows that it must not (1wd-style limits, snake_case identifiers,
    ASCII words outside the allow-list of tests/test_pages_wording.py), in the page as the
    browser has it now (what its script added included); ``allow``: the page's data that
    looks like a code but is one (a username on the admin's user list)."""
    if page.evaluate("document.documentElement.lang") != "zh-CN":
        return []
    html = EDITED_CODE.sub(" ", page.content())
    return [word for word in raw_words(html) if word not in allow]


# Elements wider than the window (the page scrolls sideways), at most five, by tag#id.class.
OVERFLOWING = """() => document.documentElement.scrollWidth <= window.innerWidth ? [] :
  Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"""


def check_desk(page, allow: tuple[str, ...] = ()) -> None:
    """A page a walk visits: labelled fields and clean text (check_page), no raw code or
    English word on the zh-CN page, and axe-core finds no serious or critical violation."""
    check_page(page)
    words = zh_raw_words(page, allow)
    text = " ".join(visible_text(EDITED_CODE.sub(" ", page.content())).split())
    where = [text[max(0, text.find(w) - 40) : text.find(w) + 40] for w in words]
    assert not words, f"{page.url}: {where}"
    assert page.evaluate(OVERFLOWING) == [], (page.url, page.evaluate(OVERFLOWING))
    check_axe(page)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def photo(workdir: Path, name: str = "photo.png") -> Path:
    """A tiny PNG, its bytes told apart by ``name`` (after the image's end) so that two
    photos of one walk are two attachments, not one stored once."""
    path = workdir / name
    path.write_bytes(PNG if name == "photo.png" else PNG + name.encode())
    return path


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")) })); }"""


def check_axe(page, serious: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's accessibility check of the page as it is now (vendored, tests/browser/
    vendor): fails on a serious or critical violation; returns the lesser ones. Injected
    through the DevTools protocol (page.evaluate), which the page's CSP does not govern."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(AXE_RUN)
    bad = [v for v in violations if v["impact"] in serious]
    assert not bad, f"{page.url}: {bad}"
    return violations
