"""Case routes: intake, batch intake, lists, one case, actions, audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.cases import queries
from engine.cases.models import CaseCreate, CaseEventPublic, CasePublic
from engine.errors import NotFound, TooLarge
from engine.isotime import IsoDateTime
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
    total: int
    limit: int
    offset: int


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


def _one(ctx: AppContext, session: DbSession, principal: Principal, case_id: int) -> CasePublic:
    case = queries.get_visible(session, principal, case_id, ctx.city)
    return queries.public_view(session, principal, case, ctx.cases.allowed_actions(principal, case))


@router.post(
    "",
    status_code=201,
    response_model=CasePublic,
    responses={200: {"model": CasePublic, "description": "already filed: the existing case"}},
)
def file_case(
    data: CaseCreate, ctx: Ctx, session: DbSession, principal: CurrentPrincipal, response: Response
) -> CasePublic:
    """File a case. A repeat of the same ``(channel, external_id)`` returns the first (200)."""
    result = ctx.cases.intake(principal, data)  # refused (403) outside the caller's area
    if not result.created:
        response.status_code = 200
    case = result.case  # as written: the answer never denies a write that happened
    return queries.public_view(session, principal, case, ctx.cases.allowed_actions(principal, case))


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
) -> CaseList:
    """Cases the caller may see, newest first."""
    cases, total = queries.list_cases(session, principal, ctx.city, filters, limit, offset)
    co = queries.co_handlers(session, [c.id for c in cases if c.id is not None])
    items = [
        queries.present(
            c, principal, co.get(c.id or 0, []), ctx.cases.allowed_actions(principal, c)
        )
        for c in cases
    ]
    return CaseList(items=items, total=total, limit=limit, offset=offset)


# ":int": "/batch" is not a case id, so GET on it is a 405 (POST only), not a 422.
@router.get("/{case_id:int}", response_model=CasePublic)
def get_case(
    case_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> CasePublic:
    return _one(ctx, session, principal, case_id)


@router.post("/{case_id}/actions/{action}", response_model=CasePublic)
def act(
    case_id: RowId,
    action: str,
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> CasePublic:
    """Take an action on a case. An action not possible now is a 409 listing those that are;
    a name the workflow does not know is a 404."""
    if not any(t.action == action for t in ctx.cases.workflow.transitions):
        raise NotFound(f"unknown action {action!r}")
    payload: dict[str, Any] = dict(body.model_extra or {}) if body else {}
    ctx.cases.act(principal, case_id, action, payload, body.version if body else None)
    return _one(ctx, session, principal, case_id)


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
