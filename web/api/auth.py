"""Exchange a username and password for a bearer token (scripts and API clients)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from engine.users.service import authenticate_password, issue_token
from web.deps import Ctx, DbSession
from web.proxies import client_address

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str
    role: str
    scope: str | None
    expires_at: str


@router.post("/token", response_model=TokenOut)
def login(data: Login, request: Request, ctx: Ctx, session: DbSession) -> TokenOut:
    """A token valid for 12 hours, acting as the user with their role and scope. Repeated
    failures are slowed down per address and per account (429 with Retry-After)."""
    now = ctx.clock.now()
    user = authenticate_password(
        session, data.username, data.password, now, client_address(request)
    )
    ttl = timedelta(hours=12)
    token = issue_token(
        session, role=user.role, scope=user.scope, now=now, ttl=ttl, user_id=user.id
    )
    session.commit()
    return TokenOut(
        token=token, role=user.role, scope=user.scope, expires_at=(now + ttl).isoformat()
    )
