"""The knowledge base (知识库, docs/KNOWLEDGE.md): articles and their review, search while
the operator types, answers at intake (直接答复) and flags that send an article back for
review. Administrators keep every article, a department's handlers their department's;
operators (and the other desks) read what is published and valid."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from engine.cases import queries
from engine.cases.models import CasePublic, CategoryCode, Phone, RecordingUrl
from engine.errors import NotFound
from engine.isotime import IsoDate
from engine.knowledge import answers, search, service
from engine.knowledge.models import (
    TEXT_MAX,
    TITLE_MAX,
    ArticleFields,
    FlagKind,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeFlag,
    join_codes,
    split_codes,
)
from engine.users.models import Principal
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal, DbSession, RowId

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])

Code = Annotated[str, Field(min_length=1, max_length=32)]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    question: str = Field(min_length=1, max_length=TEXT_MAX)
    answer: str = Field(min_length=1, max_length=answers.MAX_ANSWER)
    source: str = Field(default="", max_length=300, description="政策依据: the policy document")
    source_date: IsoDate | None = None
    categories: list[CategoryCode] = Field(default=[], max_length=20)
    departments: list[Code] = Field(default=[], max_length=20)
    valid_from: IsoDate | None = None
    review_by: IsoDate | None = None

    def fields(self) -> ArticleFields:
        values = self.model_dump()
        values["categories"] = join_codes(self.categories)
        values["departments"] = join_codes(self.departments)
        return ArticleFields.model_validate(values)


class ArticleCreate(ArticleIn):
    owner_department: Code | None = Field(
        default=None, description="administrators: the department that keeps it (handlers: theirs)"
    )


class ArticleEdit(ArticleIn):
    version: int | None = Field(default=None, ge=1, description="the version edited (409 if not)")


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class FlagOut(BaseModel):
    id: int
    article_id: int
    article_version: int
    case_id: int
    kind: str
    note: str
    raised_by: str
    raised_at: datetime
    resolved_at: datetime | None


class ArticleOut(BaseModel):
    id: int
    title: str
    question: str
    answer: str
    source: str
    source_date: date | None
    categories: list[str]
    departments: list[str]
    valid_from: date | None
    review_by: date | None
    owner_department: str | None
    status: str  # draft | in_review | published | expired (past review_by counts as expired)
    version: int
    needs_review: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    flags: list[FlagOut] = []  # open flags, on one article's own view
    # The version whose text operators read and answers cite (older than ``version`` while a
    # revision waits), and the revision itself (its keepers only).
    served_version: int | None = None
    revision: VersionOut | None = None


class ArticleList(BaseModel):
    items: list[ArticleOut]


class VersionOut(BaseModel):
    version: int
    status: str
    change: str
    note: str
    changed_by: str
    changed_at: datetime
    title: str
    question: str
    answer: str
    source: str
    source_date: date | None
    categories: list[str]
    departments: list[str]
    valid_from: date | None
    review_by: date | None


class SearchHit(BaseModel):
    id: int
    version: int
    title: str
    question: str
    answer: str
    source: str
    categories: list[str]
    score: int


class SearchResult(BaseModel):
    items: list[SearchHit]


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: int = Field(ge=1, le=2**31 - 1)
    article_id: int = Field(ge=1, le=2**31 - 1)
    kind: Literal["wrong", "outdated"]
    note: str = Field(min_length=2, max_length=500, description="what is wrong")


class AnswerIn(BaseModel):
    """A consultation answered on the phone (直接答复): recorded as a case closed at intake."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=4000, description="the caller's words")
    answer: str | None = Field(
        default=None, max_length=answers.MAX_ANSWER, description="omitted: the article's answer"
    )
    article_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    category: CategoryCode | None = None
    reporter_phone: Phone | None = None
    reporter_name: str | None = Field(default=None, max_length=50)
    call_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )
    recording_url: RecordingUrl | None = None
    grid_code: str | None = Field(default=None, min_length=1, max_length=32)


class AnswerOut(BaseModel):
    case: CasePublic
    article_id: int | None
    article_version: int | None


def today(ctx: AppContext) -> date:
    return service.local_today(ctx.clock.now(), ctx.city.timezone)


def article_out(
    article: KnowledgeArticle,
    on: date,
    flags: list[KnowledgeFlag] | None = None,
    session: Session | None = None,
    keeper: bool = True,
) -> ArticleOut:
    """``session``: also say which version serves and (to a ``keeper``) the revision."""
    values = article.model_dump()
    values |= {
        "categories": split_codes(article.categories),
        "departments": split_codes(article.departments),
        "status": service.effective_status(article, on),
        "flags": [FlagOut.model_validate(f, from_attributes=True) for f in flags or []],
    }
    if session is not None:
        pending = service.revision(session, article)
        values["served_version"] = service.served_version(session, article)
        values["revision"] = _version_out(pending) if pending and keeper else None
    return ArticleOut.model_validate(values)


def _version_out(row: KnowledgeArticleVersion) -> VersionOut:
    values = row.model_dump()
    values["categories"] = split_codes(row.categories)
    values["departments"] = split_codes(row.departments)
    return VersionOut.model_validate(values)


@router.get("/articles", response_model=ArticleList)
def list_articles(
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    status: Annotated[Literal["draft", "in_review", "published", "expired"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ArticleList:
    """Keepers: the articles they keep (administrators: all). Others: published, valid ones."""
    on = today(ctx)
    rows = service.list_articles(session, principal, on, status, limit)
    return ArticleList(items=[article_out(a, on) for a in rows])


@router.post("/articles", status_code=201, response_model=ArticleOut)
def create_article(
    body: ArticleCreate, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """A new draft (a handler's belongs to their department)."""
    with session.begin():
        article = service.create(
            session, principal, body.fields(), ctx.city, ctx.clock.now(), body.owner_department
        )
        return article_out(article, today(ctx))


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get_article(
    article_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    on = today(ctx)
    article = service.get(session, principal, article_id, on)
    keeper = service.may_keep(principal, article.owner_department)
    flags = service.open_flags(session, article_id) if keeper else []
    return article_out(article, on, flags, session, keeper)


@router.put("/articles/{article_id}", response_model=ArticleOut)
def edit_article(
    article_id: RowId, body: ArticleEdit, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """New text. A published article keeps serving its published text while the edit waits
    as a revision (``revision``) to be submitted, reviewed and published; any other article
    becomes a draft."""
    with session.begin():
        article = service.edit(
            session, principal, article_id, body.fields(), ctx.city, ctx.clock.now(), body.version
        )
        return article_out(article, today(ctx), session=session)


@router.get("/articles/{article_id}/versions", response_model=list[VersionOut])
def article_versions(
    article_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> list[VersionOut]:
    """Every change: who, when, what the article said after it."""
    return [_version_out(v) for v in service.versions(session, principal, article_id, today(ctx))]


@router.get("/articles/{article_id}/versions/{version}", response_model=VersionOut)
def article_version(
    article_id: RowId, version: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> VersionOut:
    """One version as it stood (e.g. the one a case's answer cites)."""
    service.get(session, principal, article_id, today(ctx))
    row = service.version(session, article_id, version)
    if row is None:
        raise NotFound(f"article {article_id} has no version {version}")
    return _version_out(row)


def _step(
    ctx: AppContext, session: DbSession, principal: Principal, article_id: int, what: str, note: str
) -> ArticleOut:
    step = {
        "submit": service.submit,
        "publish": service.publish,
        "reject": service.reject,
        "expire": service.expire,
    }[what]
    with session.begin():
        article = step(session, principal, article_id, ctx.clock.now(), note)
        return article_out(article, today(ctx), session=session)


@router.post("/articles/{article_id}/submit", response_model=ArticleOut)
def submit_article(
    article_id: RowId, body: Note, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """Ask for review (a draft, or an expired article checked again)."""
    return _step(ctx, session, principal, article_id, "submit", body.note)


@router.post("/articles/{article_id}/publish", response_model=ArticleOut)
def publish_article(
    article_id: RowId, body: Note, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """The review passes (by someone other than who submitted it); open flags are resolved."""
    return _step(ctx, session, principal, article_id, "publish", body.note)


@router.post("/articles/{article_id}/reject", response_model=ArticleOut)
def reject_article(
    article_id: RowId, body: Note, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """The review fails: back to draft; ``note`` says what must change."""
    return _step(ctx, session, principal, article_id, "reject", body.note)


@router.post("/articles/{article_id}/expire", response_model=ArticleOut)
def expire_article(
    article_id: RowId, body: Note, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """Withdraw a published article: operators stop finding it."""
    return _step(ctx, session, principal, article_id, "expire", body.note)


@router.get("/review", response_model=ArticleList)
def review_list(ctx: Ctx, session: DbSession, principal: CurrentPrincipal) -> ArticleList:
    """What waits for the caller: in review, expired or past review date, flagged."""
    on = today(ctx)
    return ArticleList(
        items=[article_out(a, on) for a in service.review_list(session, principal, on)]
    )


@router.get("/search", response_model=SearchResult)
def search_articles(
    ctx: Ctx,
    session: DbSession,
    _: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=search.MAX_QUERY)],
    category: Annotated[CategoryCode | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> SearchResult:
    """Published, valid articles best matching the caller's words; ``category`` (e.g. the
    classifier's suggestion) ranks that category's articles higher."""
    hits = search.search(session, q, today(ctx), category, limit)
    return SearchResult(
        items=[
            SearchHit(
                id=h.article.id or 0,
                version=service.served_version(session, h.article),
                title=h.article.title,
                question=h.article.question,
                answer=h.article.answer,
                source=h.article.source,
                categories=split_codes(h.article.categories),
                score=h.score,
            )
            for h in hits
        ]
    )


@router.post(
    "/flags",
    status_code=201,
    response_model=FlagOut,
    responses={200: {"model": FlagOut, "description": "the same flag was raised before"}},
)
def flag_article(
    body: FlagIn, ctx: Ctx, session: DbSession, principal: CurrentPrincipal, response: Response
) -> FlagOut:
    """From a case the caller may see: the article it was answered from (or any article) is
    wrong or out of date. The same article, kind and case again answers with the first flag."""
    with session.begin():
        queries.get_visible(session, principal, body.case_id, ctx.city)
        raised, new = service.flag(
            session,
            principal,
            body.article_id,
            answers.cited_version(session, body.case_id, body.article_id),
            body.case_id,
            FlagKind(body.kind),
            ctx.clock.now(),
            body.note,
        )
        if not new:
            response.status_code = 200
        return FlagOut.model_validate(raised, from_attributes=True)


@router.post(
    "/answers",
    status_code=201,
    response_model=AnswerOut,
    responses={200: {"model": AnswerOut, "description": "this call id was recorded before"}},
)
def answer_at_intake(
    body: AnswerIn, ctx: Ctx, session: DbSession, principal: CurrentPrincipal, response: Response
) -> AnswerOut:
    """直接答复: the call becomes a case closed at intake, with the answer and the cited
    article version in its audit trail."""
    answered = answers.answer_at_intake(
        ctx.cases, principal, answers.DirectAnswer(**body.model_dump()), today(ctx)
    )
    if not answered.created:
        response.status_code = 200
    case = answered.case
    view = queries.public_view(session, principal, case, ctx.cases.allowed_actions(principal, case))
    return AnswerOut(
        case=view, article_id=answered.article_id, article_version=answered.article_version
    )
