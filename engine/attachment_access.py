"""Who may see a stored photo: exactly those who can see a case that refers to it, and the
person who uploaded it until it is attached to a case.

Two small tables hold what that needs, so no question ever scans the audit trail:

* ``attachment_upload``: who uploaded which reference (one row per uploader: the same bytes
  uploaded twice give one reference), and when it was first attached;
* ``attachment_case``: reference → the cases whose events carry it, kept by the write path
  (``AttachmentHook``, in the case's own transaction), its primary key the index by reference.

Attaching is a write like any other: a reference goes into a case only from someone who may
see it (its uploader, or someone who sees a case it is already attached to). Anyone else is
told it is not an uploaded photo, the same answer as for a reference never stored, so a
reference learnt elsewhere neither opens the photo nor reveals that it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import exists, insert, select, update
from sqlmodel import Field, Session, SQLModel, col

from engine.access import case_scope
from engine.attachments import REF_PREFIX
from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.db import UTCDateTime
from engine.errors import InvalidInput
from engine.users.models import Principal

NOT_UPLOADED = "not an uploaded photo (POST /api/v1/attachments) or an http(s) URL"


class AttachmentUpload(SQLModel, table=True):
    __tablename__ = "attachment_upload"

    ref: str = Field(primary_key=True, max_length=80)
    uploader: str = Field(primary_key=True, max_length=200)  # see ``uploader_key``
    uploaded_at: datetime = Field(sa_type=UTCDateTime)
    attached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AttachmentCase(SQLModel, table=True):
    __tablename__ = "attachment_case"

    ref: str = Field(primary_key=True, max_length=80)
    case_id: int = Field(primary_key=True)
    attached_at: datetime = Field(sa_type=UTCDateTime)


def uploader_key(principal: Principal) -> str:
    """A person by their user id; a token without a user by its name, role and scope."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"token:{principal.role}:{principal.scope or ''}:{principal.name}"[:200]


def record_upload(session: Session, principal: Principal, ref: str, now: datetime) -> None:
    """``principal`` uploaded ``ref``: they may see it until it is attached (an upload of
    bytes already attached counts afresh: the uploader holds them anyway)."""
    key = uploader_key(principal)
    row = session.get(AttachmentUpload, (ref, key))
    if row is None:
        session.add(AttachmentUpload(ref=ref, uploader=key, uploaded_at=now))
    else:
        row.uploaded_at, row.attached_at = now, None


def may_see(session: Session, principal: Principal, ref: str, city: CityDirectory) -> bool:
    """Whether ``principal`` may see the photo ``ref``: its uploader until it is attached,
    or anyone who can see a case that refers to it (``engine.access`` scopes)."""
    pending = select(AttachmentUpload.ref).where(
        AttachmentUpload.ref == ref,
        AttachmentUpload.uploader == uploader_key(principal),
        col(AttachmentUpload.attached_at).is_(None),
    )
    if session.execute(pending).first() is not None:
        return True
    cases = (
        select(AttachmentCase.case_id)
        .join(Case, col(Case.id) == AttachmentCase.case_id)
        .where(AttachmentCase.ref == ref, case_scope(principal, city))
    )
    return bool(session.execute(select(exists(cases))).scalar())


def may_attach(session: Session, principal: Principal, ref: str, city: CityDirectory) -> bool:
    """Whether ``principal`` may put ``ref`` into a case: they may see it, or nobody has
    claimed it yet (a photo a page form stored in this same request: its reference was never
    shown to anyone, so only who holds the bytes can name it)."""
    if may_see(session, principal, ref, city):
        return True
    uploads = select(AttachmentUpload.ref).where(AttachmentUpload.ref == ref)
    cases = select(AttachmentCase.ref).where(AttachmentCase.ref == ref)
    claimed = select(exists(uploads) | exists(cases))
    return not session.execute(claimed).scalar()


def attached_refs(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field name with index, reference) of every stored-photo reference in ``data``."""
    for name, value in data.items():
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str) and item.startswith(REF_PREFIX):
                    yield f"{name}[{index}]", item


class AttachmentHook:
    """Refuses a photo the actor may not see and indexes the case's photos, in the case's
    transaction (docs/ARCHITECTURE.md#the-write-path)."""

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        found = list(attached_refs(change.data))
        if not found:
            return ()
        session, case = change.session, change.case
        assert case.id is not None
        refs = list(dict.fromkeys(ref for _, ref in found))
        seen = set()
        for field, ref in found:
            if ref not in seen and not may_attach(session, change.principal, ref, change.city):
                raise InvalidInput(field, NOT_UPLOADED)
            seen.add(ref)
        known = select(AttachmentCase.ref).where(
            AttachmentCase.case_id == case.id, col(AttachmentCase.ref).in_(refs)
        )
        stored = set(session.execute(known).scalars())
        new = [{"ref": r, "case_id": case.id, "attached_at": change.now} for r in refs]
        new = [row for row in new if row["ref"] not in stored]
        if new:  # statements, not ORM objects: the case row is written by the case core alone
            session.execute(insert(AttachmentCase), new)
        first = (
            update(AttachmentUpload)
            .where(col(AttachmentUpload.ref).in_(refs), col(AttachmentUpload.attached_at).is_(None))
            .values(attached_at=change.now)
        )
        session.execute(first)
        return ()
