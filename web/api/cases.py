"""Case routes: intake, batch intake, lists, one case, actions, audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from engine.cases import queries
from engine.cases.models import Case, CaseCreate, CaseEventPublic, CasePublic
from engine.errors import InvalidInput, NotFound, TooLarge
from engine.isotime import IsoDateTime
from engine.search import views as search
from engine.users.models import Principal
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal, DbSession, RowId

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


class CaseQuery(queries.CaseFilter):
    """The list's filters; times as ISO 8601 with their offset, as the schema says."""

    created_after: IsoDateTime | None = None
    created_before: IsoDateTime | None = None


class BatchIntake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CaseCreate] = Field(min_length=1)


class BatchItemResult(BaseModel):
    index: int
    id: int
    created: bool


class BatchResult(BaseModel):
    results: list[BatchItemResult]


class CaseList(BaseModel):
    items: list[CasePublic]
    total: int  # counted up to queries.COUNT_LIMIT; see total_capped
    total_capped: bool = False  # true: at least ``total`` cases match, counting stopped there
    limit: int
    offset: int
    next_cursor: str | None = None  # pass as ``cursor`` for the next page; None: last page
    matched_as: str | None = None  # what ``q`` was taken for: case_number|phone|ticket|text
    searched_newest: int | None = None  # short terms only: how many newest cases were searched


class ContactRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500, description="why you need the contact")


class Contact(BaseModel):
    reporter_name: str | None
    reporter_phone: str | None


class ActionRequest(BaseModel):
    """The action's fields (see the workflow), and optionally the version you last saw."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    version: int | None = Field(default=None, ge=1)


def _case_answer(
    ctx: AppContext, principal: Principal, case: Case, status_code: int = 200
) -> Response:
    """The case as the caller may see it, serialized once, here in the worker thread: the
    write routes return it as is, so FastAPI neither validates the view again nor takes a
    second thread to do so (the routes still declare ``CasePublic`` for the OpenAPI)."""
    allowed = ctx.cases.allowed_actions(principal, case)
    with ctx.db.connect() as connection:  # the co-handlers: one read, no ORM session
        view = queries.public_view_on(connection, principal, case, allowed)
    body = CasePublic.__pydantic_serializer__.to_json(view, by_alias=True)  # as FastAPI does
    return Response(body, status_code, media_type="application/json")


def _one(ctx: AppContext, session: DbSession, principal: Principal, case_id: int) -> CasePublic:
    case = queries.get_visible(session, principal, case_id, ctx.city)
    return queries.public_view(session, principal, case, ctx.cases.allowed_actions(principal, case))


@router.post(
    "",
    status_code=201,
    response_model=CasePublic,
    responses={200: {"model": CasePublic, "description": "already filed: the existing case"}},
)
async def file_case(data: CaseCreate, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """File a case. A repeat of the same ``(channel, external_id)`` returns the first (200)."""
    return await run_in_threadpool(_file, ctx, principal, data)


def _file(ctx: AppContext, principal: Principal, data: CaseCreate) -> Response:
    result = ctx.cases.intake(principal, data)  # refused (403) outside the caller's area
    # As written: the answer never denies a write that happened.
    return _case_answer(ctx, principal, result.case, 201 if result.created else 200)


@router.post("/batch", response_model=BatchResult)
def file_batch(data: BatchIntake, ctx: Ctx, principal: CurrentPrincipal) -> BatchResult:
    """File many cases in one transaction: all are checked first; all or none are written."""
    if len(data.items) > ctx.settings.max_batch_size:
        raise TooLarge(f"at most {ctx.settings.max_batch_size} items per batch")
    results = ctx.cases.intake_batch(principal, data.items)
    return BatchResult(
        results=[
            BatchItemResult(index=i, id=r.case.id or 0, created=r.created)
            for i, r in enumerate(results)
        ]
    )


@router.get("", response_model=CaseList)
def list_cases(
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Annotated[CaseQuery, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the page before")
    ] = None,
    phone: Annotated[
        str | None, Query(max_length=40, description="the caller's phone, any spelling")
    ] = None,
    ticket: Annotated[str | None, Query(max_length=64, description="a 12345 ticket number")] = None,
) -> CaseList:
    """Cases the caller may see, newest first. ``phone`` and ``ticket`` look cases up
    exactly; ``q`` is one search box: a case number (``123``, ``#123``, ``案件123``) answers
    that case alone, a phone or ticket number its cases, other text searches description,
    address and result. Page on with ``cursor`` (``offset`` still works)."""
    if cursor is not None and offset:
        raise InvalidInput("offset", "cannot be combined with cursor")
    where = []
    if phone is not None:
        where.append(search.by_phone(principal, phone))
    if ticket is not None:
        where.append(search.by_ticket(ticket))
    understood = None
    if filters.q is not None and not filters.q.strip():
        filters = filters.model_copy(update={"q": None})  # an empty search box: the list
    if filters.q is not None:
        understood = search.understand(session, principal, ctx.city, filters.q)
        filters = filters.model_copy(update={"q": None})
        where += understood.where
    if understood is not None and understood.case is not None and cursor is None:
        cases, total = [understood.case], 1  # a case number: that case alone
    else:
        cases, total = queries.list_cases(
            session, principal, ctx.city, filters, limit, offset, cursor=cursor, where=where
        )
    co = queries.co_handlers(session, [c.id for c in cases if c.id is not None])
    items = [
        queries.present(
            c, principal, co.get(c.id or 0, []), ctx.cases.allowed_actions(principal, c)
        )
        for c in cases
    ]
    return CaseList(
        items=items,
        total=min(total, queries.COUNT_LIMIT),
        total_capped=total > queries.COUNT_LIMIT,
        limit=limit,
        offset=offset,
        next_cursor=queries.NEWEST_FIRST.next_cursor(cases, limit),
        matched_as=understood.kind if understood else None,
        searched_newest=understood.window if understood else None,
    )


# ":int": "/batch" is not a case id, so GET on it is a 405 (POST only), not a 422.
@router.get("/{case_id:int}", response_model=CasePublic)
def get_case(
    case_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> CasePublic:
    return _one(ctx, session, principal, case_id)


@router.post("/{case_id}/actions/{action}", response_model=CasePublic)
async def act(
    case_id: RowId,
    action: str,
    ctx: Ctx,
    principal: CurrentPrincipal,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> Response:
    """Take an action on a case. An action not possible now is a 409 listing those that are;
    a name the workflow does not know is a 404."""
    if not any(t.action == action for t in ctx.cases.workflow.transitions):
        raise NotFound(f"unknown action {action!r}")
    payload: dict[str, Any] = dict(body.model_extra or {}) if body else {}
    version = body.version if body else None
    return await run_in_threadpool(_act, ctx, principal, case_id, action, payload, version)


def _act(
    ctx: AppContext,
    principal: Principal,
    case_id: int,
    action: str,
    payload: dict[str, Any],
    version: int | None,
) -> Response:
    case = ctx.cases.act(principal, case_id, action, payload, version)
    # The case as the action's own transaction left it, not read again: the caller could
    # see it when acting, and the answer never denies a write that happened.
    return _case_answer(ctx, principal, case)


@router.post("/{case_id}/contact", response_model=Contact)
def reveal_contact(
    case_id: RowId, data: ContactRequest, ctx: Ctx, principal: CurrentPrincipal
) -> Contact:
    """The caller's unmasked name and phone, for roles that see them masked; audited."""
    case = ctx.cases.act(principal, case_id, "reveal_contact", {"reason": data.reason})
    return Contact(reporter_name=case.reporter_name, reporter_phone=case.reporter_phone)


@router.get("/{case_id}/events", response_model=list[CaseEventPublic])
def case_events(
    case_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> list[CaseEventPublic]:
    """The case's audit trail, oldest first."""
    queries.get_visible(session, principal, case_id, ctx.city)
    return [CaseEventPublic.model_validate(e) for e in queries.events(session, case_id)]
