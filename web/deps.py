"""Typed FastAPI dependencies: the app context, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel import Session

from engine.db import new_session
from engine.errors import Forbidden, Unauthorized
from engine.users.models import Principal, Role
from engine.users.service import principal_for_token
from web.context import AppContext

# Row ids in paths: positive and within the id columns' range, so a fuzzed id is a 422 or 404.
MAX_ID = 2**31 - 1  # id columns are 32-bit integers on PostgreSQL
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def get_session(ctx: Ctx) -> Iterator[Session]:
    with new_session(ctx.db) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def get_principal(request: Request, ctx: Ctx) -> Principal:
    """The caller of this request, looked up once per request (the app-wide authorization
    and the route both ask)."""
    known = getattr(request.state, "principal", None)
    if known is not None:
        return known
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    with new_session(ctx.db) as session:
        principal = principal_for_token(session, token.strip(), ctx.clock.now())
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: CurrentPrincipal) -> Principal:
    if principal.role is not Role.admin:
        raise Forbidden("administrators only")
    return principal


Admin = Annotated[Principal, Depends(require_admin)]
