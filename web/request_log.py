"""A request id on every request and log line, and JSON logs for a log collector.

Every response carries ``X-Request-ID``: the one the reverse proxy sent (nginx:
``proxy_set_header X-Request-ID $request_id``) when it is a sane token, else a new one. The
id is kept for the request's duration in a context variable, and :class:`RequestIdFilter`
puts it on every log record made meanwhile (the access line, a handled error, a warning).

``GRIDFLOW_LOG_FORMAT=json`` makes every line of the server's log (uvicorn's access and error
logs, gridflow's own) one JSON object: ``time`` (UTC), ``level``, ``logger``, ``message``,
``request_id``, and for the access log ``client``, ``method``, ``path``, ``status``. Secrets
never reach it: messages and paths pass through :func:`web.log_redaction.redact` (Open311's
``api_key``), and the headers (Authorization, cookies) are never logged at all.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from web.asgi_headers import Headers, editing_headers
from web.log_redaction import redact

HEADER = "x-request-id"
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "gridflow")
request_id: ContextVar[str | None] = ContextVar("gridflow_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestId:
    """Pure ASGI middleware: sets the request id for the request and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", []) if k == HEADER.encode()), b"")
        text = given.decode("latin-1")
        rid = text if ACCEPTED_ID.match(text) else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id.set(rid)

        def echo(headers: Headers) -> Headers:
            kept = [(k, v) for k, v in headers if k.lower() != HEADER.encode()]
            return [*kept, (HEADER.encode(), rid.encode())]

        await self.app(scope, receive, editing_headers(send, echo))
        # Reset only on success: an unhandled error goes on to the server error handler
        # outside this middleware, whose log line should still name the request.
        request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None outside a request) on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; uvicorn's access records get their fields by name."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            out |= {
                "client": str(client),
                "method": str(method),
                "path": redact(str(path)),
                "http_version": str(version),
                "status": int(status) if str(status).isdigit() else status,
            }
        if record.exc_info:
            out["exception"] = redact("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(out, ensure_ascii=False, default=str)


def _has_filter(target: logging.Filterer) -> bool:
    return any(isinstance(f, RequestIdFilter) for f in target.filters)


def configure(log_format: str) -> None:
    """Idempotent. Every handler gets the request id filter; with ``json`` every handler
    of the server's loggers gets the JSON formatter, and gridflow's own loggers (which have
    none under uvicorn's logging config) a stderr handler of their own."""
    handlers: list[logging.Handler] = []
    for name in LOGGERS:
        handlers += logging.getLogger(name).handlers
    if log_format == "json":
        own = logging.getLogger("gridflow")
        if not own.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(sys.stderr)
            own.addHandler(handler)
            own.setLevel(logging.INFO)
            handlers.append(handler)
    for handler in handlers:
        if not _has_filter(handler):
            handler.addFilter(RequestIdFilter())
        if log_format == "json" and not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())


def install(app: FastAPI, log_format: str) -> None:
    app.add_middleware(RequestId)
    configure(log_format)
