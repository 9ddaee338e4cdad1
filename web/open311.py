"""Open311 GeoReport v2 under /open311/v2 (JSON). Errors use the spec's shape,
``[{"code": <status>, "description": "..."}]``: 400 bad request, 403 bad api_key, 404 not found.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from adapters import open311
from engine.db import new_session
from engine.errors import Forbidden, GridflowError, InvalidInput, NotFound, Unauthorized
from engine.users.models import Principal
from engine.users.service import principal_for_token
from web import open311_models as models
from web.context import AppContext
from web.policy import OPEN311_FILERS

log = logging.getLogger("gridflow.open311")


def spec_error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


class Open311Route(APIRoute):
    """Renders every failure of these routes as the spec's error array."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except InvalidInput as exc:
                return spec_error(400, exc.message)
            except (Forbidden, Unauthorized) as exc:
                return spec_error(403, exc.message)
            except NotFound as exc:
                return spec_error(404, exc.message)
            except GridflowError as exc:
                return spec_error(400, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "bad request"}
                where = ".".join(str(p) for p in first["loc"] if p not in ("query", "path"))
                return spec_error(400, f"{where}: {first['msg']}")

        return route


router = APIRouter(
    prefix="/open311/v2", tags=["open311"], route_class=Open311Route, responses=models.ERRORS
)


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


async def _form(request: Request) -> dict[str, str]:
    """The POST fields: form-encoded as the spec says, or a JSON object."""
    body = await request.body()
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            raw = json.loads(body or b"{}")
        except ValueError as exc:
            raise InvalidInput("body", "not valid JSON") from exc
        if not isinstance(raw, dict):
            raise InvalidInput("body", "must be a JSON object")
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise InvalidInput("body", "must be UTF-8") from exc


def _filer(ctx: AppContext, api_key: str | None) -> Principal:
    if not api_key:
        raise Forbidden("api_key is required to submit a service request")
    with new_session(ctx.db) as session:
        try:
            principal = principal_for_token(session, api_key, ctx.clock.now())
        except Unauthorized as exc:
            raise Forbidden("api_key is not valid") from exc
    if principal.role not in OPEN311_FILERS:
        raise Forbidden("this api_key may not submit service requests")
    return principal


@router.get("/discovery.json", response_model=models.Discovery)
def discovery(request: Request) -> Any:
    ctx = _ctx(request)
    base = str(request.url_for("services")).removesuffix("/services.json")
    return open311.discovery(ctx.city, base, ctx.clock.now())


@router.get("/services.json", name="services", response_model=list[models.Service])
def services(request: Request) -> Any:
    ctx = _ctx(request)
    open311.check_jurisdiction(ctx.city, request.query_params.get("jurisdiction_id"))
    return open311.services(ctx.city)


@router.get("/services/{code}.json", response_model=models.ServiceDefinition)
def service_definition(code: str, request: Request) -> Any:
    ctx = _ctx(request)
    open311.check_jurisdiction(ctx.city, request.query_params.get("jurisdiction_id"))
    return open311.service_definition(ctx.city, code)


@router.post("/requests.json", status_code=201, response_model=list[models.Created])
async def post_request(request: Request) -> Any:
    ctx = _ctx(request)
    form = _query(request) | await _form(request)
    open311.check_jurisdiction(ctx.city, form.get("jurisdiction_id"))
    principal = _filer(ctx, form.get("api_key"))
    result = await run_in_threadpool(open311.file_request, ctx.cases, principal, form)
    notice = f"已受理，请凭编号 {result.case.id} 查询办理进度"
    body = [{"service_request_id": str(result.case.id), "service_notice": notice}]
    if form.get("account_id"):
        body[0]["account_id"] = form["account_id"]
    return JSONResponse(body, status_code=201)


@router.get("/requests.json", response_model=list[models.ServiceRequest])
def get_requests(request: Request) -> Any:
    ctx = _ctx(request)
    query = _query(request)
    open311.check_jurisdiction(ctx.city, query.get("jurisdiction_id"))
    city = ctx.city
    with new_session(ctx.db) as session:
        found = open311.find_requests(session, query, ctx.clock.now(), city)
        return [open311.request_view(session, c, city, ctx.workflow) for c in found]


@router.get("/requests/{request_id}.json", response_model=list[models.ServiceRequest])
def get_request(request_id: str, request: Request) -> Any:
    ctx = _ctx(request)
    open311.check_jurisdiction(ctx.city, request.query_params.get("jurisdiction_id"))
    with new_session(ctx.db) as session:
        case = open311.get_request(session, request_id)
        return [open311.request_view(session, case, ctx.city, ctx.workflow)]


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def unknown(rest: str) -> Any:
    if rest.endswith(".xml"):
        return spec_error(400, "only the JSON format is served here; use .json")
    return spec_error(404, f"no such resource: {rest}")
