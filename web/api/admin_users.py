"""Administrators manage users and API tokens; a new token is shown once, its digest kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from engine.errors import InvalidInput
from engine.users.models import PERSON_ROLES, Role, User, UserCreate, UserPublic
from engine.users.service import (
    check_scope,
    create_user,
    issue_token_row,
    list_tokens,
    revoke_token,
    update_user,
)
from web.deps import MAX_ID, Admin, Ctx, DbSession, RowId

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    role: Role | None = None
    scope: str | None = Field(default=None, max_length=32)
    password: str | None = Field(default=None, min_length=8, max_length=200)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    scope: str | None = Field(default=None, max_length=32)
    label: str = Field(default="", max_length=100)
    days: int = Field(default=365, ge=0, le=3650, description="lifetime; 0 = never expires")
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class TokenPublic(BaseModel):
    id: int
    label: str
    role: Role
    scope: str | None
    user_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenPublic):
    token: str = Field(description="shown once: store it now")


def _check_person_role(role: Role) -> None:
    if role not in PERSON_ROLES:
        raise InvalidInput("role", f"must be one of {[r.value for r in PERSON_ROLES]}")


@router.get("/users", response_model=list[UserPublic])
def users(_: Admin, session: DbSession) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.id))))


@router.post("/users", status_code=201, response_model=UserPublic)
def add_user(data: UserCreate, _: Admin, ctx: Ctx, session: DbSession) -> User:
    _check_person_role(data.role)
    user = create_user(session, data, ctx.city, ctx.clock.now())
    session.commit()
    return user


@router.patch("/users/{user_id}", response_model=UserPublic)
def change_user(user_id: RowId, data: UserUpdate, _: Admin, ctx: Ctx, session: DbSession) -> User:
    if data.role is not None:
        _check_person_role(data.role)
    changes = data.model_dump(exclude_unset=True)
    user = update_user(session, user_id, ctx.city, now=ctx.clock.now(), **changes)
    session.commit()
    session.refresh(user)
    return user


@router.get("/tokens", response_model=list[TokenPublic])
def tokens(_: Admin, session: DbSession) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t, from_attributes=True) for t in list_tokens(session)]


@router.post("/tokens", status_code=201, response_model=TokenIssued)
def add_token(data: TokenCreate, _: Admin, ctx: Ctx, session: DbSession) -> TokenIssued:
    _check_person_role(data.role)
    scope = check_scope(data.role, data.scope, ctx.city)
    now = ctx.clock.now()
    ttl = timedelta(days=data.days) if data.days else None
    token, row = issue_token_row(
        session,
        role=data.role,
        scope=scope,
        now=now,
        ttl=ttl,
        label=data.label,
        user_id=data.user_id,
    )
    session.commit()
    shown = TokenPublic.model_validate(row, from_attributes=True)
    return TokenIssued(token=token, **shown.model_dump())


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke(token_id: RowId, _: Admin, ctx: Ctx, session: DbSession) -> TokenPublic:
    row = revoke_token(session, token_id, ctx.clock.now())
    session.commit()
    return TokenPublic.model_validate(row, from_attributes=True)
