"""Users and tokens: argon2 password hashes; random bearer tokens stored as SHA-256 digests.

A token carries 256 random bits, so a fast digest is enough to store it safely and keeps
each authenticated request cheap; passwords are low-entropy and get argon2.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, event, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from engine.city.directory import CityDirectory
from engine.errors import InvalidInput, NotFound, Unauthorized
from engine.prepared import Prepared
from engine.settings import get_settings
from engine.users import lockout, token_cache
from engine.users.models import ApiToken, Principal, Role, User, UserCreate
from engine.users.sessions import end_user_sessions
from engine.users.token_cache import TokenCache

_log = logging.getLogger(__name__)
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("gridflow-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_scope(role: Role, scope: str | None, city: CityDirectory) -> str | None:
    """Validate a role's scope: a department for handlers, a unit for everyone else."""
    if role is Role.system:
        raise InvalidInput("role", "'system' is gridflow's own role")
    if role is Role.handler:
        if scope not in city.departments:
            raise InvalidInput("scope", f"a handler needs a department code, not {scope!r}")
        return scope
    if scope is None:
        return city.root
    if scope not in city.units:
        raise InvalidInput("scope", f"unknown unit {scope!r}")
    return scope


def create_user(session: Session, data: UserCreate, city: CityDirectory, now: datetime) -> User:
    if session.exec(select(User).where(User.username == data.username)).first():
        raise InvalidInput("username", f"user {data.username!r} already exists")
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        scope=check_scope(data.role, data.scope, city),
        password_hash=hash_password(data.password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate_password(
    session: Session, username: str, password: str, now: datetime, address: str
) -> User:
    """Check a password from a source address; repeated failures slow down that address and
    the account from the addresses that failed for it (``engine.users.lockout``)."""
    lockout.check_allowed(session, address, username, now)
    user = session.exec(select(User).where(User.username == username)).first()
    try:
        if user is None or not user.active:
            _hasher.verify(_DUMMY_HASH, password)  # same cost whether or not the user exists
            raise VerificationError
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        lockout.record_failure(session, address, username, now)
        raise Unauthorized("wrong username or password") from exc
    lockout.record_success(session, address, username)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, **options: Any) -> str:
    """Create a token and return it; only its digest is stored, so show it once.

    Takes ``issue_token_row``'s keyword options.
    """
    return issue_token_row(session, **options)[0]


def issue_token_row(
    session: Session,
    *,
    role: Role,
    scope: str | None,
    now: datetime,
    ttl: timedelta | None,
    label: str = "",
    user_id: int | None = None,
) -> tuple[str, ApiToken]:
    """``issue_token``, also returning the stored row (its id, expiry) for the caller to show."""
    if user_id is not None and session.get(User, user_id) is None:
        raise InvalidInput("user_id", f"user {user_id} does not exist")
    token = "gf_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_digest(token),
        label=label,
        role=role,
        scope=scope,
        user_id=user_id,
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    session.add(row)
    session.flush()
    return token, row


_TOKENS, _USERS = ApiToken.__table__, User.__table__  # type: ignore[attr-defined]
_TOKEN_LOOKUP = Prepared(
    select(  # type: ignore[call-overload]
        _TOKENS.c.id,
        _TOKENS.c.label,
        _TOKENS.c.role,
        _TOKENS.c.scope,
        _TOKENS.c.user_id,
        _TOKENS.c.expires_at,
        _TOKENS.c.revoked_at,
        _USERS.c.username,
        _USERS.c.active,
    )
    .select_from(_TOKENS.outerjoin(_USERS, _USERS.c.id == _TOKENS.c.user_id))
    .where(_TOKENS.c.token_hash == bindparam("digest"))
)


def principal_for_token(
    session: Session, token: str, now: datetime, cache: TokenCache | None = None
) -> Principal:
    """The caller a bearer token stands for: one indexed query (every API request asks), or
    none while ``cache`` holds the answer (``engine.users.token_cache``)."""
    digest = _digest(token)
    if cache is None:
        return _token_principal(session, digest, now)[0]
    return cache.principal(digest, now, lambda found: _token_principal(session, found, now))


def kept_principal(token: str, now: datetime, cache: TokenCache) -> Principal | None:
    """The caller ``token`` stands for when ``cache`` still holds it, else None: no
    database, so the web layer asks it on the event loop before it needs a thread."""
    return cache.kept(_digest(token), now)


def _token_principal(
    session: Session, digest: str, now: datetime
) -> tuple[Principal, datetime | None]:
    row = _TOKEN_LOOKUP.first(session.connection(), {"digest": digest})
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("invalid or revoked token")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise Unauthorized("token expired")
    name = row["label"] or f"token-{row['id']}"
    if row["user_id"] is not None:
        if row["username"] is None or not row["active"]:
            raise Unauthorized("the token's user is disabled")
        name = row["username"]
    principal = Principal(
        name=name, role=Role(row["role"]), scope=row["scope"], user_id=row["user_id"]
    )
    return principal, row["expires_at"]


_REVOKING = "gridflow.revoking_tokens"


def _revoking(session: Session) -> None:
    """This transaction revokes tokens: when it commits, kept answers of every process are
    stale (``engine.users.token_cache``); this process stops using them at once."""
    session.info[_REVOKING] = True
    token_cache.revoked(None)


@event.listens_for(OrmSession, "after_commit")
def _announce_revocation(session: OrmSession) -> None:
    if session.info.pop(_REVOKING, False):
        try:
            token_cache.revoked(get_settings().instance_dir)
        except OSError:  # committed all the same: other processes' answers last TTL at most
            _log.exception("could not announce a token revocation to other processes")


@event.listens_for(OrmSession, "after_rollback")
def _no_revocation(session: OrmSession) -> None:
    session.info.pop(_REVOKING, None)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(ApiToken.id)))  # type: ignore[arg-type]


def revoke_token(session: Session, token_id: int, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
        _revoking(session)
    return row


def update_user(
    session: Session,
    user_id: int,
    city: CityDirectory,
    *,
    now: datetime,
    active: bool | None = None,
    role: Role | None = None,
    scope: str | None = None,
    password: str | None = None,
) -> User:
    """Change a user. Disabling them or changing their password, role or scope ends all
    their page sessions and revokes their API tokens in the same transaction: whoever
    held those acted as the user as they were."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    before = (user.active, user.role, user.scope)
    if active is not None:
        user.active = active
    if role is not None or scope is not None:
        user.role = role or user.role
        user.scope = check_scope(user.role, scope if scope is not None else user.scope, city)
    if password is not None:
        user.password_hash = hash_password(password)
    session.add(user)
    if password is not None or not user.active or (user.active, user.role, user.scope) != before:
        end_user_access(session, user_id, now)
    return user


def end_user_access(session: Session, user_id: int, now: datetime) -> None:
    """End the user's page sessions and revoke their unrevoked API tokens."""
    end_user_sessions(session, user_id)
    _revoking(session)
    session.execute(
        update(_TOKENS)
        .where(_TOKENS.c.user_id == user_id, _TOKENS.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
