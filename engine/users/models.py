"""Users and API tokens. Passwords are argon2 hashes; tokens are stored as SHA-256 digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime


class Role(StrEnum):
    operator = "operator"  # 12345 hotline operator: files cases
    dispatcher = "dispatcher"  # a command center's dispatcher
    handler = "handler"  # a department's case handler
    grid_worker = "grid_worker"  # 网格员: reports and verifies on site
    supervisor = "supervisor"  # watches SLAs and KPIs of a unit subtree
    admin = "admin"  # keeps rules, calendars, users
    system = "system"  # gridflow itself (timers, auto-dispatch); never given to a person


PERSON_ROLES = [r for r in Role if r is not Role.system]


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user or a token, with the role and scope they act under."""

    name: str
    role: Role
    scope: str | None = None  # a unit code, or a department code for handlers
    user_id: int | None = None


SYSTEM = Principal(name="system", role=Role.system)


class UserBase(SQLModel):
    username: str = Field(unique=True, index=True, min_length=2, max_length=50)
    display_name: str = Field(default="", max_length=100)
    role: Role
    scope: str | None = Field(default=None, max_length=32)


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class UserCreate(UserBase):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=8, max_length=200)


class UserPublic(UserBase):
    id: int
    active: bool


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    label: str = Field(default="", max_length=100)
    role: Role
    scope: str | None = Field(default=None, max_length=32)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
