"""Every error leaves as ``{"error": {"code", "message", "details"}}``.

See docs/ARCHITECTURE.md#contracts."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Mount

from engine import errors
from engine.users.lockout import AccountLocked

log = logging.getLogger("gridflow.web")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


# Documented on every route, so clients (and the schema fuzzer) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in [
        (401, "missing, invalid or expired token"),
        (403, "the caller's role may not do this"),
        (404, "not found, or outside the caller's scope"),
        (409, "conflict: not allowed in the current state, or changed by someone else"),
        (413, "request too large"),
        (422, "invalid input: details name each field and reason"),
        (429, "rate limited: see Retry-After"),
    ]
}

STATUS = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Unauthorized: 401,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    AccountLocked: 429,
}


def error_response(
    status: int, code: str, message: str, details: Any = None, retry_after: int | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


def _status(exc: errors.GridflowError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def allowed_methods(request: Request, besides: BaseRoute | None = None) -> str:
    """Every method some route serves on this path (a 405's ``Allow``): the router stops at
    the first route matching the path, while another route may serve it too. ``besides``:
    a catch-all route left out."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Mount):  # static files: read only
            if route.matches(request.scope)[0] is not Match.NONE:
                methods |= {"GET", "HEAD"}
            continue
        for method in METHODS - methods:
            match, child = route.matches({**request.scope, "method": method})
            if match is Match.FULL and child.get("route", route) is not besides:
                methods.add(method)
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.GridflowError)
    async def domain_error(_: Request, exc: errors.GridflowError) -> JSONResponse:
        retry_after = getattr(exc, "retry_after", None)
        return error_response(_status(exc), exc.code, exc.message, exc.details, retry_after)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": _field(e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        message = "; ".join(f"{d['field']}: {d['reason']}" for d in details[:5])
        return error_response(422, "invalid_input", message, details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not valid JSON/UTF-8 or form data
            details = [{"field": "body", "reason": str(exc.detail)}]
            return error_response(422, "invalid_input", f"body: {exc.detail}", details)
        response = error_response(exc.status_code, f"http_{exc.status_code}", str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(request)
        return response

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value validation let through (out of range, NUL byte):
        # still the caller's input, so a 4xx, never a 500.
        log.warning("database refused a value on %s %s", request.method, request.url.path)
        message = "a value is out of range or not allowed"
        return error_response(422, "invalid_input", message, [{"field": "body", "reason": message}])

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; it has been logged")
