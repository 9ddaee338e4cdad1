"""Writing knowledge-base articles: create, edit, review, publish, expire (docs/KNOWLEDGE.md).

Who keeps an article: administrators keep every article; a department's handlers keep the
articles their department owns (``access.may_keep``). Lifecycle::

    draft --submit--> in_review --publish--> published --expire--> expired
      ^                  |                        |                   |
      +-----reject-------+                      edit                  +--submit--> in_review
                                                  v
                          revision: draft --submit--> in_review --publish--> published
                                     ^                   |          (the new text serves)
                                     +------reject-------+

Editing a published article makes a **revision**: the new text is a version row (draft,
then in review) while the article row keeps the published text, which operators go on
finding and answers go on citing (``versions.served_version``) until a second person
publishes the revision. Withdrawing the article (expire) makes the pending revision its
text, hidden.

Publishing needs a second person: whoever submitted an article may not publish it. Every
change (including a status change) is a new version row with who and when. Operators see
an article only while it is published and valid (``access.visible_condition``); a published
article past its review date counts as expired and is listed for review until
``expire_due`` marks it so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.city.directory import CityDirectory
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.knowledge import grams
from engine.knowledge.access import READERS, may_keep
from engine.knowledge.flags import resolve_flags
from engine.knowledge.models import (
    ArticleFields,
    Change,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    Status,
    join_codes,
    split_codes,
)
from engine.knowledge.versions import FIELDS, Revision, as_fields, record, revision
from engine.users.models import Principal, Role

# ------------------------------------------------------------------ checks


def clean_fields(fields: ArticleFields, city: CityDirectory) -> ArticleFields:
    """Trimmed text, known category and department codes, dates in order."""
    values = fields.model_dump()
    for name in ("title", "question", "answer"):
        text = (values[name] or "").strip()
        if not text:
            raise InvalidInput(name, "must not be empty")
        values[name] = text
    values["source"] = (values.get("source") or "").strip()
    categories = split_codes(values.get("categories") or "")
    unknown = [c for c in categories if c not in city.categories]
    if unknown:
        raise InvalidInput("categories", f"unknown categories {unknown}")
    departments = split_codes(values.get("departments") or "")
    unknown = [d for d in departments if d not in city.departments]
    if unknown:
        raise InvalidInput("departments", f"unknown departments {unknown}")
    values["categories"], values["departments"] = join_codes(categories), join_codes(departments)
    if values["valid_from"] and values["review_by"] and values["review_by"] < values["valid_from"]:
        raise InvalidInput("review_by", "must not be before valid_from")
    return ArticleFields.model_validate(values)


# ------------------------------------------------------------------ writes


def create(
    session: Session,
    principal: Principal,
    fields: ArticleFields,
    city: CityDirectory,
    now: datetime,
    owner_department: str | None = None,
) -> KnowledgeArticle:
    """A new draft. A handler's article belongs to their department; an administrator may
    give it to a department (its handlers then keep it too)."""
    if principal.role is Role.handler:
        owner_department = principal.scope
    elif principal.role is not Role.admin:
        raise Forbidden(f"role '{principal.role}' may not write knowledge articles")
    if owner_department is not None and owner_department not in city.departments:
        raise InvalidInput("owner_department", f"unknown department {owner_department!r}")
    clean = clean_fields(fields, city)
    if owner_department and owner_department not in split_codes(clean.departments):
        clean.departments = join_codes([owner_department, *split_codes(clean.departments)])
    article = KnowledgeArticle(
        **clean.model_dump(),
        owner_department=owner_department,
        status=Status.draft,
        version=1,
        created_by=principal.name,
        created_at=now,
        updated_by=principal.name,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    grams.reindex(session, article)
    record(session, article, Change.create, principal, now)
    return article


def edit(
    session: Session,
    principal: Principal,
    article_id: int,
    fields: ArticleFields,
    city: CityDirectory,
    now: datetime,
    expected_version: int | None = None,
) -> KnowledgeArticle:
    """New text. A published article gets a revision (a draft version row): the published
    text keeps serving until the revision is reviewed and published. Any other article
    becomes a draft with the new text. Earlier versions stay as they were."""
    article = _kept(session, principal, article_id, expected_version)
    clean = clean_fields(fields, city)
    if article.owner_department and article.owner_department not in split_codes(clean.departments):
        clean.departments = join_codes([article.owner_department, *split_codes(clean.departments)])
    if article.status == Status.published:
        article.submitted_by = None
        text = Revision(clean, Status.draft)
        return _changed(session, article, Change.edit, principal, now, "", text)
    for name in FIELDS:
        setattr(article, name, getattr(clean, name))
    article.status = Status.draft
    article.submitted_by = None
    grams.reindex(session, article)
    return _changed(session, article, Change.edit, principal, now)


def submit(
    session: Session, principal: Principal, article_id: int, now: datetime, note: str = ""
) -> KnowledgeArticle:
    """Ask for review (a draft or a revision, or an expired article to be checked again)."""
    article = _kept(session, principal, article_id)
    pending = revision(session, article)
    if pending is not None:
        _require_status(pending.status, (Status.draft,), "submit", "revision")
        article.submitted_by = principal.name
        text = Revision(as_fields(pending), Status.in_review)
        return _changed(session, article, Change.submit, principal, now, note, text)
    _require_status(article.status, (Status.draft, Status.expired), "submit")
    article.status = Status.in_review
    article.submitted_by = principal.name
    return _changed(session, article, Change.submit, principal, now, note)


def publish(
    session: Session, principal: Principal, article_id: int, now: datetime, note: str = ""
) -> KnowledgeArticle:
    """The review passes: operators find it. A second person reviews: not its submitter.
    Open flags on the article are resolved by the publication."""
    article = _kept(session, principal, article_id)
    pending = revision(session, article)
    if pending is not None:
        _require_status(pending.status, (Status.in_review,), "publish", "revision")
    else:
        _require_status(article.status, (Status.in_review,), "publish")
    if article.submitted_by == principal.name:
        raise Forbidden("an article is published by a reviewer other than the one who submitted it")
    if pending is not None:
        _take_text(session, article, pending)  # the revision serves from now on
    article.status = Status.published
    resolve_flags(session, article.id, now)
    article.needs_review = False
    return _changed(session, article, Change.publish, principal, now, note)


def reject(
    session: Session, principal: Principal, article_id: int, now: datetime, note: str
) -> KnowledgeArticle:
    """The review fails: back to draft, with the reviewer's reason."""
    if not note.strip():
        raise InvalidInput("note", "say what must change")
    article = _kept(session, principal, article_id)
    pending = revision(session, article)
    if pending is not None:  # the revision goes back to its author; the published text stays
        _require_status(pending.status, (Status.in_review,), "reject", "revision")
        article.submitted_by = None
        text = Revision(as_fields(pending), Status.draft)
        return _changed(session, article, Change.reject, principal, now, note.strip(), text)
    _require_status(article.status, (Status.in_review,), "reject")
    article.status = Status.draft
    article.submitted_by = None
    return _changed(session, article, Change.reject, principal, now, note.strip())


def expire(
    session: Session, principal: Principal, article_id: int, now: datetime, note: str = ""
) -> KnowledgeArticle:
    """Withdraw a published article (the policy changed): operators stop finding it."""
    article = _kept(session, principal, article_id)
    _require_status(article.status, (Status.published,), "expire")
    _withdraw(session, article)
    return _changed(session, article, Change.expire, principal, now, note)


# The review steps by the name the API and the pages take them by (all take a note).
Step = Callable[[Session, Principal, int, datetime, str], KnowledgeArticle]
STEPS: dict[str, Step] = {"submit": submit, "publish": publish, "reject": reject, "expire": expire}


def expire_due(session: Session, today: date, now: datetime) -> list[int]:
    """Mark every published article past its review date expired (by the system); returns
    their ids. Reading never depends on this having run (``access.visible_condition``)."""
    due = session.exec(
        select(KnowledgeArticle).where(
            col(KnowledgeArticle.status) == Status.published,
            col(KnowledgeArticle.review_by) < today,
        )
    ).all()
    system = Principal(name="system", role=Role.system)
    for article in due:
        _withdraw(session, article)
        _changed(session, article, Change.expire, system, now, "review date passed")
    return [a.id for a in due if a.id is not None]


# ------------------------------------------------------------------ helpers


def _withdraw(session: Session, article: KnowledgeArticle) -> None:
    """Published → expired; a pending revision becomes the (hidden) text to review next."""
    pending = revision(session, article)
    if pending is not None:
        _take_text(session, article, pending)
    article.status = Status.expired
    article.submitted_by = None


def _take_text(session: Session, article: KnowledgeArticle, text: KnowledgeArticleVersion) -> None:
    for name in FIELDS:
        setattr(article, name, getattr(text, name))
    grams.reindex(session, article)


def _kept(
    session: Session, principal: Principal, article_id: int, expected_version: int | None = None
) -> KnowledgeArticle:
    article = session.get(KnowledgeArticle, article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    if not may_keep(principal, article.owner_department):
        if principal.role in READERS and article.status == Status.published:
            raise Forbidden(
                f"article {article_id} is kept by {article.owner_department or 'administrators'}"
            )
        raise NotFound(f"article {article_id} not found")
    if expected_version is not None and expected_version != article.version:
        raise Conflict(
            f"article {article_id} is at version {article.version}, not {expected_version}",
            {"version": article.version},
        )
    return article


def _require_status(
    status: str, states: tuple[Status, ...], what: str, thing: str = "article"
) -> None:
    if status not in states:
        allowed = ", ".join(s.value for s in states)
        raise Conflict(
            f"cannot {what} a{'n' if thing[0] in 'aeiou' else ''} {thing} that is {status} "
            f"(only when {allowed})",
            {"status": status},
        )


def _changed(
    session: Session,
    article: KnowledgeArticle,
    change: Change,
    principal: Principal,
    now: datetime,
    note: str = "",
    text: Revision | None = None,
) -> KnowledgeArticle:
    """The next version: a new version row, of the article or of its revision (``text``)."""
    article.version += 1
    article.updated_by, article.updated_at = principal.name, now
    session.add(article)
    record(session, article, change, principal, now, note, text)
    try:
        session.flush()
    except IntegrityError as exc:  # another writer took this version number first
        raise Conflict(f"article {article.id} was changed meanwhile; reload it") from exc
    return article
