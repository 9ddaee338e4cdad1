"""Shared fixtures: a demo-city database per test (copied from a template built once), a
virtual clock, the app, and an async HTTP client with tokens per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import backends
import httpx
import pytest

from engine.clock import VirtualClock
from engine.db import new_session
from engine.settings import Settings
from engine.users.models import Role
from engine.users.service import issue_token
from web.app import create_app
from web.context import AppContext, build_context

DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
# Monday 2026-03-02 09:00 in Asia/Shanghai: inside working hours, no holiday near.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


# Test tiers (markers registered in pyproject.toml), given here in one place by file or test:
# `browser` drives Chromium; `slow` spawns processes, fuzzes or simulates; `postgres` needs
# several processes on one PostgreSQL database and is skipped in the SQLite pass.
# `make check` runs what is neither browser nor slow, on SQLite.
TIERS: dict[str, tuple[str, ...]] = {
    "browser/": ("browser",),
    "test_crash_safety.py": ("slow",),
    "test_fuzz_api.py": ("slow",),
    "test_multiprocess.py": ("slow", "postgres"),
    "test_simulation.py": ("slow",),
    "test_step_group.py::test_a_simulation_is_the_same_with_and_without_grouping": ("slow",),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.removeprefix("tests/")
        for prefix, markers in TIERS.items():
            if nodeid.startswith(prefix):
                for marker in markers:
                    item.add_marker(marker)
        if item.get_closest_marker("postgres") and backends.BACKEND != "postgresql":
            item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass"))


@pytest.fixture(autouse=True)
def instance_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own instance folder (key files), never the checkout's var/."""
    path = tmp_path / "instance"
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(path))
    return path


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def db_url() -> Iterator[str]:
    """A fresh demo-city database on the suite's backend (see tests/backends.py)."""
    url = backends.fresh_database(backends.demo_city_fill(DEMO_CITY))
    yield url
    backends.drop_database(url)


@pytest.fixture
def make_ctx(
    db_url: str, clock: VirtualClock, tmp_path: Path
) -> Iterator[Callable[..., AppContext]]:
    """Build the test's context with settings overridden, e.g. ``make_ctx(intake_burst=3)``.
    The text router's models directory is the test's own (empty: no router unless a test
    saves a model there), never the checkout's var/models."""
    made: list[AppContext] = []

    def make(**overrides: object) -> AppContext:
        fields = {"database_url": db_url, "city_dir": DEMO_CITY, "secret_key": "test-secret"}
        fields["models_dir"] = tmp_path / "models"
        fields["instance_dir"] = tmp_path / "instance"
        made.append(build_context(Settings(**(fields | overrides)), clock))
        return made[-1]

    yield make
    for context in made:
        context.db.dispose()


@pytest.fixture
def ctx(make_ctx: Callable[..., AppContext]) -> AppContext:
    return make_ctx()


class Api:
    """An async client with a token per (role, scope), minted on first use."""

    def __init__(self, client: httpx.AsyncClient, ctx: AppContext) -> None:
        self.client, self.ctx = client, ctx
        self._tokens: dict[tuple[str, str | None], str] = {}

    def auth(self, role: str, scope: str | None = "00") -> dict[str, str]:
        key = (role, scope)
        if key not in self._tokens:
            with new_session(self.ctx.db) as session, session.begin():
                self._tokens[key] = issue_token(
                    session,
                    role=Role(role),
                    scope=scope,
                    now=self.ctx.clock.now(),
                    ttl=timedelta(days=1),
                    label=f"{role}@{scope}",
                )
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def file(self, role: str = "operator", scope: str | None = "00", **fields) -> dict:
        body = {
            "channel": "hotline",
            "category": "06002",
            "description": "小区门口垃圾堆积三天无人清理，气味很大",
            "grid_code": "01010101",
        } | fields
        response = await self.client.post(
            "/api/v1/cases", json=body, headers=self.auth(role, scope)
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def act(
        self, case_id: int, action: str, role: str, scope: str | None = "00", **data
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/cases/{case_id}/actions/{action}", json=data, headers=self.auth(role, scope)
        )


@asynccontextmanager
async def serve(ctx: AppContext) -> AsyncIterator[Api]:
    """An ``Api`` on a fresh app over ``ctx`` (the app's lifespan is not started)."""
    app = create_app(context=ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gridflow.test") as client:
        yield Api(client, ctx)


@pytest.fixture
def make_api() -> Callable[[AppContext], AbstractAsyncContextManager[Api]]:
    return serve


@pytest.fixture
async def api(ctx: AppContext) -> AsyncIterator[Api]:
    async with serve(ctx) as client:
        yield client
