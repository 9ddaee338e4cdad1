"""Typed FastAPI dependencies: the app context, a database session, the caller."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Annotated
from weakref import WeakKeyDictionary

from fastapi import Depends, Path, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from engine.db import MAX_ID, new_session
from engine.errors import Forbidden, Unauthorized
from engine.users.models import Principal, Role
from engine.users.service import kept_principal, principal_for_token
from engine.users.token_cache import TokenCache
from web.context import AppContext

# Row ids in paths: positive and within the id columns' range, so a fuzzed id is a 422 or 404.
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def get_session(ctx: Ctx) -> AsyncIterator[Session]:
    """A session for the request (async: making and closing one needs no thread)."""
    with new_session(ctx.db) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


async def get_principal(request: Request, ctx: Ctx) -> Principal:
    """The caller of this request, looked up once per request (the app-wide authorization
    and the route both ask): on the event loop while this process keeps the token's answer
    (a digest and a ``stat``), else in a worker thread, as that reads the database."""
    known = getattr(request.state, "principal", None)
    if known is None:
        known = kept_principal(bearer_token(request), ctx.clock.now(), token_cache(ctx))
        if known is None:
            known = await run_in_threadpool(principal_of, request, ctx)
        request.state.principal = known
    return known


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    return token.strip()


def principal_of(request: Request, ctx: AppContext) -> Principal:
    """The bearer token's principal, kept briefly by this process and dropped at once by any
    revocation (engine/users/token_cache.py); the database is asked only when not kept."""
    token = bearer_token(request)
    with new_session(ctx.db) as session:  # a session costs nothing until it is used
        return principal_for_token(session, token, ctx.clock.now(), token_cache(ctx))


_CACHES: WeakKeyDictionary[Engine, TokenCache] = WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def token_cache(ctx: AppContext) -> TokenCache:
    """The token cache of ``ctx``'s database in this process."""
    found = _CACHES.get(ctx.db)
    if found is None:
        with _CACHES_LOCK:
            found = _CACHES.get(ctx.db)
            if found is None:
                found = _CACHES[ctx.db] = TokenCache(ctx.settings.instance_dir)
    return found


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    if principal.role is not Role.admin:
        raise Forbidden("administrators only")
    return principal


Admin = Annotated[Principal, Depends(require_admin)]
