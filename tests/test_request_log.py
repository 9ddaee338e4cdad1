"""Every response carries X-Request-ID (the proxy's when sane, else a new one), every log line
made during the request carries it, and GRIDFLOW_LOG_FORMAT=json makes each line one JSON
object, with api_key never in it."""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys

import httpx
import pytest
from fastapi import APIRouter

from web.app import create_app
from web.request_log import JsonFormatter, RequestIdFilter, configure, request_id


@pytest.fixture
def restore_logging():
    names = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "gridflow")
    saved = {
        n: (
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


async def test_every_response_has_a_request_id(api):
    first = await api.client.get("/healthz")
    second = await api.client.get("/api/v1/no-such-route")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]


async def test_the_proxys_id_is_kept_when_sane_and_replaced_when_not(api):
    kept = await api.client.get("/healthz", headers={"X-Request-ID": "nginx-7f3a.42"})
    assert kept.headers["x-request-id"] == "nginx-7f3a.42"
    for bad in ("a b", "x" * 200, "<script>", "id\u00e9".encode()):
        answer = await api.client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])


async def test_log_lines_during_a_request_carry_its_id(ctx, caplog):
    app = create_app(context=ctx)
    router = APIRouter()

    @router.get("/api/v1/boom")
    def boom() -> None:
        logging.getLogger("gridflow.test").warning("about to fail")
        raise RuntimeError("boom")

    app.include_router(router)
    from web import policy

    policy.ROUTES[("GET", "/api/v1/boom")] = policy.PUBLIC
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            with caplog.at_level(logging.INFO):
                caplog.handler.addFilter(RequestIdFilter())  # as configure() does for handlers
                answer = await client.get("/api/v1/boom", headers={"X-Request-ID": "req-1"})
    finally:
        del policy.ROUTES[("GET", "/api/v1/boom")]
    assert answer.status_code == 500
    mine = [r for r in caplog.records if r.name.startswith("gridflow")]
    assert [r.getMessage() for r in mine] == [
        "about to fail",
        "unhandled error on GET /api/v1/boom",
    ]
    assert {r.request_id for r in mine} == {"req-1"}


def test_json_lines_name_the_request_and_hide_api_key():
    token = request_id.set("req-9")
    try:
        access = logging.LogRecord(
            "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
            ("10.0.0.5:5123", "POST", "/open311/v2/requests.xml?api_key=gf_secret&x=1", "1.1", 201),
            None,
        )  # fmt: skip
        line = json.loads(JsonFormatter().format(access))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req-9" and line["level"] == "info"
    assert (line["method"], line["status"], line["client"]) == ("POST", 201, "10.0.0.5:5123")
    assert line["path"] == "/open311/v2/requests.xml?api_key=[redacted]&x=1"
    assert "gf_secret" not in json.dumps(line)
    assert line["time"].endswith("+00:00")

    try:
        raise ValueError("api_key=gf_secret in a traceback")
    except ValueError:
        failed = logging.LogRecord(
            "gridflow.web", logging.ERROR, __file__, 1, "x", (), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(failed))
    assert line["request_id"] is None and "ValueError" in line["exception"]
    assert "gf_secret" not in line["exception"]


def test_json_format_is_applied_to_uvicorns_handlers(restore_logging):
    from uvicorn.config import LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)  # as `gridflow serve` starts
    configure("text")
    handlers = logging.getLogger("uvicorn.access").handlers + logging.getLogger("uvicorn").handlers
    assert handlers and not any(isinstance(h.formatter, JsonFormatter) for h in handlers)
    configure("json")
    configure("json")  # idempotent
    for handler in handlers:
        assert isinstance(handler.formatter, JsonFormatter)
        assert sum(isinstance(f, RequestIdFilter) for f in handler.filters) == 1


def test_an_unknown_log_format_is_refused(monkeypatch):
    from pydantic import ValidationError

    from engine.settings import Settings

    with pytest.raises(ValidationError, match="log_format"):
        Settings(log_format="xml")
