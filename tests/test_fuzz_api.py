"""Fuzz the whole OpenAPI schema with schemathesis: no 5xx, a 405 always carries ``Allow``,
what the schema forbids is refused, and every response is as documented.

Every operation is fuzzed (token revocation is left out: it would revoke the fuzzer's own
token) with its examples, the coverage phase (boundary values, wrong types, undeclared
methods) and a bounded number of generated cases, derandomized so a run is repeatable. Valid
requests the server refuses for what no schema can say (an unknown grid, a duplicate day) are
not counted against it. The app runs on its own demo-city database (built when this module is
imported: schemathesis reads the schema at collection time) with an admin token, so requests
reach real work, plus a pass without one.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import backends
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.config import SchemathesisConfig

from engine.clock import VirtualClock
from engine.db import new_session
from engine.settings import Settings
from engine.users.models import Role
from engine.users.service import issue_token
from web.app import create_app
from web.context import build_context

CHECKS = [
    not_a_server_error,
    unsupported_method,  # 405 for a method the path does not serve, with Allow
    negative_data_rejection,  # what the schema forbids is refused
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
REVOKE_TOKEN = "/api/v1/admin/tokens/{token_id}"
EXAMPLES = 6  # generated cases per operation, beyond its examples and coverage cases
HUGE = "26908088418958298841088"

_workdir = Path(tempfile.mkdtemp(prefix="gridflow-fuzz-"))
atexit.register(shutil.rmtree, _workdir, ignore_errors=True)
_context = build_context(
    Settings(
        database_url=backends.fresh_database(backends.demo_city_fill(DEMO_CITY)),
        city_dir=DEMO_CITY,
        attachments_dir=_workdir / "attachments",
        intake_rate_per_second=0,
        secret_key="fuzz-" + "k" * 40,
    ),
    VirtualClock(START),
)
with new_session(_context.db) as _session, _session.begin():
    _token = issue_token(_session, role=Role.admin, scope="00", now=START, ttl=timedelta(days=30))
ADMIN = {"Authorization": f"Bearer {_token}"}
APP = create_app(context=_context)

CONFIG = SchemathesisConfig.from_dict(
    {"seed": 18, "generation": {"deterministic": True, "max-examples": EXAMPLES}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    method="DELETE", path=REVOKE_TOKEN
)
BOUNDED = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@BOUNDED
def test_no_5xx_and_the_server_agrees_with_its_schema(case):
    case.call_and_validate(headers=ADMIN, checks=CHECKS)


@schema.parametrize()
@settings(BOUNDED, max_examples=2)
def test_without_token_nothing_breaks(case):
    case.call_and_validate(checks=[not_a_server_error, unsupported_method])


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://gridflow.test") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/api/v1/admin/outbox/{HUGE}/redeliver"),
        ("GET", f"/api/v1/cases/{HUGE}"),
        ("GET", f"/open311/v2/requests/{HUGE}.json"),
        ("GET", f"/open311/v2/requests.json?service_request_id={HUGE}"),
        ("POST", f"/api/v1/admin/incidents/{HUGE}/retry"),
    ],
)
async def test_an_id_past_the_columns_is_a_4xx(client, method, path):
    response = await client.request(method, path, headers=ADMIN)
    assert response.status_code in (400, 404, 422), response.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases?created_before=0.5",
        "/api/v1/cases?created_after=2026-03-02",  # no time and no offset
        "/api/v1/calendar/days?from=0&to=2026-03-02",
        "/api/v1/kpis?period_start=0",
    ],
)
async def test_dates_are_iso_text_only(client, path):
    response = await client.get(path, headers=ADMIN)
    assert response.status_code == 422, response.text


async def test_calendar_day_zero_is_refused(client):
    response = await client.put(
        "/api/v1/calendar/overrides/0", json={"kind": "holiday"}, headers=ADMIN
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "day"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/cases", {"GET", "POST"}),
        ("GET", "/api/v1/cases/batch", {"POST"}),
        ("GET", "/api/v1/rules/check", {"POST"}),
        ("POST", "/api/v1/rules", {"GET", "PUT"}),
        ("POST", "/api/v1/calendar/overrides/2026-10-01", {"PUT", "DELETE"}),
    ],
)
async def test_405_names_every_method_the_path_serves(client, method, path, allow):
    response = await client.request(method, path, headers=ADMIN)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) - {"HEAD"} == allow
