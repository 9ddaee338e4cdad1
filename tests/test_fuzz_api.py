"""Fuzz the whole OpenAPI schema with schemathesis: no 5xx, every response as documented.

A bounded number of examples per operation keeps it inside CI's time. The app runs on its own
demo-city database (built when this module is imported: schemathesis reads the schema at
collection time) with an admin token, so requests reach real work, plus a pass without one.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import backends
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from engine.clock import VirtualClock
from engine.db import new_session
from engine.settings import Settings
from engine.users.models import Role
from engine.users.service import issue_token
from web.app import create_app
from web.context import build_context

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"

_workdir = Path(tempfile.mkdtemp(prefix="gridflow-fuzz-"))
atexit.register(shutil.rmtree, _workdir, ignore_errors=True)
_context = build_context(
    Settings(
        database_url=backends.fresh_database(backends.demo_city_fill(DEMO_CITY)),
        city_dir=DEMO_CITY,
        attachments_dir=_workdir / "attachments",
        intake_rate_per_second=0,
    ),
    VirtualClock(START),
)
with new_session(_context.db) as _session, _session.begin():
    _token = issue_token(_session, role=Role.admin, scope="00", now=START, ttl=timedelta(days=30))
ADMIN = {"Authorization": f"Bearer {_token}"}

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(context=_context))


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_responses_match_schema(case):
    case.call_and_validate(headers=ADMIN, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
def test_without_token_nothing_breaks(case):
    case.call_and_validate(checks=CHECKS)
