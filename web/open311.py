"""Open311 GeoReport v2 under /open311/v2, in XML (the default: no extension or ``.xml``) and
JSON (``.json``), with mySociety's ``servicerequestupdates`` extension that FixMyStreet polls.

Errors use the spec's shape in the asked format (``<errors><error><code/><description/>``
or ``[{"code": …, "description": …}]``): 400 bad request, 403 bad api_key, 404 not found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from adapters import open311
from adapters.open311_views import RequestViews, find_requests, find_updates
from engine.db import new_session
from engine.errors import Forbidden, GridflowError, InvalidInput, NotFound, Unauthorized
from engine.users.models import Principal
from engine.users.service import principal_for_token
from web import open311_models as models
from web.context import AppContext
from web.open311_format import Format, format_of, reply, spec_error, split_format
from web.policy import OPEN311_FILERS

AREA_MARGIN_M = 2000  # reports this far beyond the outermost grid are still taken


class Open311Route(APIRoute):
    """Renders every failure of these routes as the spec's errors, in the URL's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt = format_of(request)
            try:
                return await handler(request)
            except InvalidInput as exc:
                return spec_error(fmt, 400, exc.message)
            except (Forbidden, Unauthorized) as exc:
                return spec_error(fmt, 403, exc.message)
            except NotFound as exc:
                return spec_error(fmt, 404, exc.message)
            except GridflowError as exc:
                return spec_error(fmt, 400, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "bad request"}
                where = ".".join(str(p) for p in first["loc"] if p not in ("query", "path"))
                return spec_error(fmt, 400, f"{where}: {first['msg']}")

        return route


router = APIRouter(
    prefix="/open311/v2", tags=["open311"], route_class=Open311Route, responses=models.ERRORS
)


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _format(name: str) -> tuple[str, Format]:
    stem, fmt = split_format(name)
    if fmt is None:
        raise InvalidInput("format", f"{name!r}: only .xml and .json are served")
    return stem, fmt


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


def _area(ctx: AppContext) -> open311.Area | None:
    index = ctx.grids.index()
    if index is None or not len(index):
        return None
    return open311.Area.around(index.bounds, AREA_MARGIN_M)


def _jurisdiction(ctx: AppContext, request: Request) -> None:
    open311.check_jurisdiction(ctx.city, request.query_params.get("jurisdiction_id"))


def _views(ctx: AppContext, session: Any) -> RequestViews:
    return RequestViews(session, ctx.city, ctx.workflow, ctx.calendars.get(session))


XML = {200: {"content": {"text/xml": {}}, "description": "the reply (XML unless .json)"}}


# Each resource answers at `name` (XML), `name.xml` and `name.json`; the bare name is hidden
# from the OpenAPI document, which lists `name.{format}`.
def _resource(path: str, method: str = "GET", **options: Any) -> Callable[[Any], Any]:
    def register(endpoint: Any) -> Any:
        router.add_api_route(
            f"{path}.{{format}}", endpoint, methods=[method], responses=XML, **options
        )
        router.add_api_route(path, endpoint, methods=[method], include_in_schema=False)
        return endpoint

    return register


@_resource("/discovery", response_model=models.Discovery)
def discovery(request: Request, format: Format = "xml") -> Any:
    ctx = _ctx(request)
    base = str(request.url).split("/discovery", 1)[0].split("?", 1)[0]
    return reply(format, "discovery", open311.discovery(ctx.city, base, ctx.clock.now()))


@_resource("/services", response_model=list[models.Service])
def services(request: Request, format: Format = "xml") -> Any:
    ctx = _ctx(request)
    _jurisdiction(ctx, request)
    return reply(format, "services", open311.services(ctx.city))


@router.get("/services/{service_code}", response_model=models.ServiceDefinition, responses=XML)
def service_definition(service_code: str, request: Request) -> Any:
    """`services/{code}.xml` or `.json`: the attributes a request of the service may carry."""
    ctx = _ctx(request)
    code, fmt = _format(service_code)
    _jurisdiction(ctx, request)
    return reply(fmt, "service_definition", open311.service_definition(ctx.city, code))


@_resource("/requests", method="POST", status_code=201, response_model=list[models.Created])
async def post_request(request: Request, format: Format = "xml") -> Any:
    """Form-encoded fields as the spec names them, `attribute[code]` for the service's
    attributes; the reply carries the new request's id and its token."""
    ctx = _ctx(request)
    form = _query(request) | await _form(request)
    open311.check_jurisdiction(ctx.city, form.get("jurisdiction_id"))
    principal = _filer(ctx, form.get("api_key"))
    area = _area(ctx)
    result = await run_in_threadpool(open311.file_request, ctx.cases, principal, form, area)
    case = result.case
    created: dict[str, Any] = {
        "service_request_id": str(case.id),
        "token": case.external_id,
        "service_notice": f"已受理，请凭编号 {case.id} 查询办理进度",
    }
    if form.get("account_id"):
        created["account_id"] = form["account_id"]
    return reply(format, "requests", [created], status=201)


@_resource("/requests", response_model=list[models.ServiceRequest])
def get_requests(request: Request, format: Format = "xml") -> Any:
    ctx = _ctx(request)
    query = _query(request)
    open311.check_jurisdiction(ctx.city, query.get("jurisdiction_id"))
    with new_session(ctx.db) as session:
        found = find_requests(session, query, ctx.clock.now(), ctx.city)
        return reply(format, "requests", _views(ctx, session).rows(found))


@router.get("/requests/{request_id}", response_model=list[models.ServiceRequest], responses=XML)
def get_request(request_id: str, request: Request) -> Any:
    """`requests/{id}.xml` or `.json`: one request, as a list of one."""
    ctx = _ctx(request)
    number, fmt = _format(request_id)
    _jurisdiction(ctx, request)
    with new_session(ctx.db) as session:
        case = open311.get_request(session, number)
        return reply(fmt, "requests", _views(ctx, session).rows([case]))


@router.get("/tokens/{token}", response_model=list[models.TokenAnswer], responses=XML)
def get_token(token: str, request: Request) -> Any:
    """`tokens/{token}.xml` or `.json`: the request id a POST's token stands for."""
    ctx = _ctx(request)
    value, fmt = _format(token)
    _jurisdiction(ctx, request)
    with new_session(ctx.db) as session:
        case = open311.by_token(session, value)
        body = [{"service_request_id": str(case.id), "token": value}]
    return reply(fmt, "requests", body)


@_resource("/servicerequestupdates", response_model=list[models.RequestUpdate])
def get_updates(request: Request, format: Format = "xml") -> Any:
    """mySociety's extension: every change of status of the requests between start_date and
    end_date (default: the last day), oldest first."""
    ctx = _ctx(request)
    query = _query(request)
    open311.check_jurisdiction(ctx.city, query.get("jurisdiction_id"))
    with new_session(ctx.db) as session:
        updates = find_updates(session, query, ctx.clock.now(), ctx.city, ctx.workflow)
    return reply(format, "updates", updates)


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Any:
    return spec_error(format_of(request), 404, f"no such resource: {rest}")
