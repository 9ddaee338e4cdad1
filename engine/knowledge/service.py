"""Writing and reading knowledge-base articles (docs/KNOWLEDGE.md).

Who keeps an article: administrators keep every article; a department's handlers keep the
articles their department owns. Lifecycle::

    draft --submit--> in_review --publish--> published --expire--> expired
      ^                  |                        |                   |
      +-----reject-------+                      edit                  +--submit--> in_review
                                                  v
                          revision: draft --submit--> in_review --publish--> published
                                     ^                   |          (the new text serves)
                                     +------reject-------+

Editing a published article makes a **revision**: the new text is a version row (draft,
then in review) while the article row keeps the published text, which operators go on
finding and answers go on citing (``served_version``) until a second person publishes the
revision. Withdrawing the article (expire) makes the pending revision its text, hidden.

Publishing needs a second person: whoever submitted an article may not publish it. Every
change (including a status change) is a new version row with who and when. Operators see
an article only while it is published and valid (``valid_from`` reached, ``review_by`` not
passed); a published article past its review date counts as expired and is listed for
review until ``expire_due`` marks it so.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.city.directory import CityDirectory
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.knowledge import grams
from engine.knowledge.models import (
    ArticleFields,
    Change,
    FlagKind,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeFlag,
    Status,
    join_codes,
    split_codes,
)
from engine.users.models import Principal, Role

# Who may read published articles (and search them).
READERS = frozenset({Role.operator, Role.dispatcher, Role.handler, Role.supervisor, Role.admin})
KEEPERS = frozenset({Role.admin, Role.handler})
_FIELDS = tuple(ArticleFields.model_fields)


# ------------------------------------------------------------------ who may do what


def may_keep(principal: Principal, owner_department: str | None) -> bool:
    """Administrators keep every article; a handler the articles of their own department."""
    if principal.role is Role.admin:
        return True
    return (
        principal.role is Role.handler
        and owner_department is not None
        and (owner_department == principal.scope)
    )


def visible_condition(today: date) -> ColumnElement[bool]:
    """Published and valid on ``today``: what operators find."""
    return and_(
        col(KnowledgeArticle.status) == Status.published,
        or_(col(KnowledgeArticle.valid_from).is_(None), col(KnowledgeArticle.valid_from) <= today),
        or_(col(KnowledgeArticle.review_by).is_(None), col(KnowledgeArticle.review_by) >= today),
    )


def is_visible(article: KnowledgeArticle, today: date) -> bool:
    return (
        article.status == Status.published
        and (article.valid_from is None or article.valid_from <= today)
        and (article.review_by is None or article.review_by >= today)
    )


def effective_status(article: KnowledgeArticle, today: date) -> str:
    """The status a person is shown: a published article past its review date is expired."""
    if article.status == Status.published and article.review_by and article.review_by < today:
        return Status.expired
    return article.status


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
    _version(session, article, Change.create, principal, now)
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
        return _changed(session, article, Change.edit, principal, now, text=clean, status="draft")
    for name in _FIELDS:
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
        return _changed(
            session, article, Change.submit, principal, now, note, as_fields(pending), "in_review"
        )
    _require(article, (Status.draft, Status.expired), "submit")
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
        _require(article, (Status.in_review,), "publish")
    if article.submitted_by == principal.name:
        raise Forbidden("an article is published by a reviewer other than the one who submitted it")
    if pending is not None:
        _take_text(session, article, pending)  # the revision serves from now on
    article.status = Status.published
    _resolve_flags(session, article.id, now)
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
        text = as_fields(pending)
        return _changed(
            session, article, Change.reject, principal, now, note.strip(), text, "draft"
        )
    _require(article, (Status.in_review,), "reject")
    article.status = Status.draft
    article.submitted_by = None
    return _changed(session, article, Change.reject, principal, now, note.strip())


def expire(
    session: Session, principal: Principal, article_id: int, now: datetime, note: str = ""
) -> KnowledgeArticle:
    """Withdraw a published article (the policy changed): operators stop finding it."""
    article = _kept(session, principal, article_id)
    _require(article, (Status.published,), "expire")
    _withdraw(session, article)
    return _changed(session, article, Change.expire, principal, now, note)


def expire_due(session: Session, today: date, now: datetime) -> list[int]:
    """Mark every published article past its review date expired (by the system); returns
    their ids. Reading never depends on this having run (``visible_condition``)."""
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


def _withdraw(session: Session, article: KnowledgeArticle) -> None:
    """Published → expired; a pending revision becomes the (hidden) text to review next."""
    pending = revision(session, article)
    if pending is not None:
        _take_text(session, article, pending)
    article.status = Status.expired
    article.submitted_by = None


def _take_text(session: Session, article: KnowledgeArticle, text: KnowledgeArticleVersion) -> None:
    for name in _FIELDS:
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


def _require(article: KnowledgeArticle, states: tuple[Status, ...], what: str) -> None:
    _require_status(article.status, states, what)


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
    text: ArticleFields | None = None,
    status: str | None = None,
) -> KnowledgeArticle:
    """A new version row; ``text`` and ``status``: a revision's, instead of the article's."""
    article.version += 1
    article.updated_by, article.updated_at = principal.name, now
    session.add(article)
    _version(session, article, change, principal, now, note, text, status)
    try:
        session.flush()
    except IntegrityError as exc:  # another writer took this version number first
        raise Conflict(f"article {article.id} was changed meanwhile; reload it") from exc
    return article


def _version(
    session: Session,
    article: KnowledgeArticle,
    change: Change,
    principal: Principal,
    now: datetime,
    note: str = "",
    text: ArticleFields | None = None,
    status: str | None = None,
) -> None:
    assert article.id is not None
    source = text if text is not None else article
    session.add(
        KnowledgeArticleVersion(
            **{name: getattr(source, name) for name in _FIELDS},
            article_id=article.id,
            version=article.version,
            status=status or article.status,
            change=change,
            note=note[:500],
            changed_by=principal.name,
            changed_at=now,
        )
    )


# ------------------------------------------------------------------ flags


def flag(
    session: Session,
    principal: Principal,
    article_id: int,
    article_version: int | None,
    case_id: int,
    kind: FlagKind,
    now: datetime,
    note: str = "",
) -> tuple[KnowledgeFlag, bool]:
    """Mark an article for review from a case (the caller has checked the case is theirs).
    The same article, kind and case again returns the first flag; the bool: raised now."""
    article = session.get(KnowledgeArticle, article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    found = session.exec(
        select(KnowledgeFlag).where(
            col(KnowledgeFlag.article_id) == article_id,
            col(KnowledgeFlag.kind) == kind,
            col(KnowledgeFlag.case_id) == case_id,
        )
    ).first()
    if found is not None:
        return found, False
    raised = KnowledgeFlag(
        article_id=article_id,
        article_version=article_version or article.version,
        case_id=case_id,
        kind=kind,
        note=note.strip()[:500],
        raised_by=principal.name,
        raised_at=now,
    )
    session.add(raised)
    article.needs_review = True
    session.add(article)
    session.flush()
    return raised, True


def _resolve_flags(session: Session, article_id: int | None, now: datetime) -> None:
    for open_flag in session.exec(
        select(KnowledgeFlag).where(
            col(KnowledgeFlag.article_id) == article_id, col(KnowledgeFlag.resolved_at).is_(None)
        )
    ):
        open_flag.resolved_at = now
        session.add(open_flag)


# ------------------------------------------------------------------ reads


def get(session: Session, principal: Principal, article_id: int, today: date) -> KnowledgeArticle:
    """An article as the caller may see it: keepers see theirs in any status, readers only
    published and valid ones (anything else is a 404)."""
    article = session.get(KnowledgeArticle, article_id)
    if article is None or not (
        may_keep(principal, article.owner_department)
        or (principal.role in READERS and is_visible(article, today))
    ):
        raise NotFound(f"article {article_id} not found")
    return article


def versions(
    session: Session, principal: Principal, article_id: int, today: date
) -> list[KnowledgeArticleVersion]:
    get(session, principal, article_id, today)
    return list(
        session.exec(
            select(KnowledgeArticleVersion)
            .where(col(KnowledgeArticleVersion.article_id) == article_id)
            .order_by(col(KnowledgeArticleVersion.version))
        )
    )


def revision(session: Session, article: KnowledgeArticle) -> KnowledgeArticleVersion | None:
    """The edit of a published article waiting to be reviewed (a draft or in review), if
    any: the newest version row, while the article row keeps the published text."""
    if article.status != Status.published or article.id is None:
        return None
    newest = version(session, article.id, article.version)
    if newest is not None and newest.status in (Status.draft, Status.in_review):
        return newest
    return None


def served_version(session: Session, article: KnowledgeArticle) -> int:
    """The version whose text operators read (and an answer cites): the article's own, or
    while a revision waits, the version that published the text still serving."""
    if revision(session, article) is None or article.id is None:
        return article.version
    published = session.exec(
        select(func.max(KnowledgeArticleVersion.version)).where(
            col(KnowledgeArticleVersion.article_id) == article.id,
            col(KnowledgeArticleVersion.change) == Change.publish,
        )
    ).one()
    return int(published or article.version)


def version(session: Session, article_id: int, number: int) -> KnowledgeArticleVersion | None:
    return session.exec(
        select(KnowledgeArticleVersion).where(
            col(KnowledgeArticleVersion.article_id) == article_id,
            col(KnowledgeArticleVersion.version) == number,
        )
    ).first()


def kept_condition(principal: Principal) -> ColumnElement[bool] | None:
    """The articles the caller keeps (None: all of them, for administrators)."""
    if principal.role is Role.admin:
        return None
    if principal.role is Role.handler and principal.scope:
        return col(KnowledgeArticle.owner_department) == principal.scope
    return col(KnowledgeArticle.id) < 0  # keeps none


def list_articles(
    session: Session,
    principal: Principal,
    today: date,
    status: str | None = None,
    limit: int = 200,
) -> list[KnowledgeArticle]:
    """Keepers: the articles they keep (any status). Readers: published and valid ones."""
    query = select(KnowledgeArticle)
    if principal.role in KEEPERS:
        kept = kept_condition(principal)
        if kept is not None:
            query = query.where(kept)
        if status is not None:
            query = query.where(col(KnowledgeArticle.status) == status)
    else:
        query = query.where(visible_condition(today))
    query = query.order_by(col(KnowledgeArticle.updated_at).desc()).limit(limit)
    return list(session.exec(query))


def review_list(session: Session, principal: Principal, today: date) -> list[KnowledgeArticle]:
    """What waits for a keeper: articles (or revisions) in review, expired (or past their
    review date), and flagged ones. The newest version row says whether a revision of a
    published article is in review."""
    newest = and_(
        col(KnowledgeArticleVersion.article_id) == col(KnowledgeArticle.id),
        col(KnowledgeArticleVersion.version) == col(KnowledgeArticle.version),
    )
    query = (
        select(KnowledgeArticle)
        .join(KnowledgeArticleVersion, newest, isouter=True)
        .where(
            or_(
                col(KnowledgeArticleVersion.status) == Status.in_review,
                col(KnowledgeArticle.status).in_([Status.in_review, Status.expired]),
                and_(
                    col(KnowledgeArticle.status) == Status.published,
                    col(KnowledgeArticle.review_by) < today,
                ),
                col(KnowledgeArticle.needs_review).is_(True),
            )
        )
    )
    kept = kept_condition(principal)
    if kept is not None:
        query = query.where(kept)
    return list(session.exec(query.order_by(col(KnowledgeArticle.updated_at)).limit(500)))


def open_flags(session: Session, article_id: int) -> list[KnowledgeFlag]:
    return list(
        session.exec(
            select(KnowledgeFlag)
            .where(
                col(KnowledgeFlag.article_id) == article_id,
                col(KnowledgeFlag.resolved_at).is_(None),
            )
            .order_by(col(KnowledgeFlag.id))
        )
    )


def as_fields(article: Any) -> ArticleFields:
    return ArticleFields.model_validate({name: getattr(article, name) for name in _FIELDS})


def local_today(now: datetime, timezone: str) -> date:
    """The city's date at ``now``: validity and review dates are city days."""
    return now.astimezone(ZoneInfo(timezone)).date()
