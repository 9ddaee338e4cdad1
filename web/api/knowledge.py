"""The knowledge base (知识库, docs/KNOWLEDGE.md): articles and their review, search while
the operator types, answers at intake (直接答复) and flags that send an article back for
review. Administrators keep every article, a department's handlers their department's;
operators (and the other desks) read what is published and valid. The request and response
shapes are web/api/knowledge_models.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlmodel import Session

from engine.cases import queries
from engine.cases.models import CategoryCode
from engine.errors import NotFound
from engine.knowledge import answers, lifecycle, search, versions, views
from engine.knowledge.access import effective_status, local_today, may_keep
from engine.knowledge.flags import flag, open_flags
from engine.knowledge.models import (
    FlagKind,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeFlag,
    split_codes,
)
from web.api.knowledge_models import (
    AnswerIn,
    AnswerOut,
    ArticleCreate,
    ArticleEdit,
    ArticleList,
    ArticleOut,
    FlagIn,
    FlagOut,
    Note,
    SearchHit,
    SearchResult,
    VersionOut,
)
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal, DbSession, RowId

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])


def today(ctx: AppContext) -> date:
    return local_today(ctx.clock.now(), ctx.city.timezone)


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
        "status": effective_status(article, on),
        "flags": [FlagOut.model_validate(f, from_attributes=True) for f in flags or []],
    }
    if session is not None:
        pending = versions.revision(session, article)
        values["served_version"] = versions.served_version(session, article)
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
    rows = views.list_articles(session, principal, on, status, limit)
    return ArticleList(items=[article_out(a, on) for a in rows])


@router.post("/articles", status_code=201, response_model=ArticleOut)
def create_article(
    body: ArticleCreate, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """A new draft (a handler's belongs to their department)."""
    with session.begin():
        article = lifecycle.create(
            session, principal, body.fields(), ctx.city, ctx.clock.now(), body.owner_department
        )
        return article_out(article, today(ctx))


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get_article(
    article_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    on = today(ctx)
    article = views.get(session, principal, article_id, on)
    keeper = may_keep(principal, article.owner_department)
    flags = open_flags(session, article_id) if keeper else []
    return article_out(article, on, flags, session, keeper)


@router.put("/articles/{article_id}", response_model=ArticleOut)
def edit_article(
    article_id: RowId, body: ArticleEdit, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ArticleOut:
    """New text. A published article keeps serving its published text while the edit waits
    as a revision (``revision``) to be submitted, reviewed and published; any other article
    becomes a draft."""
    with session.begin():
        article = lifecycle.edit(
            session, principal, article_id, body.fields(), ctx.city, ctx.clock.now(), body.version
        )
        return article_out(article, today(ctx), session=session)


@router.get("/articles/{article_id}/versions", response_model=list[VersionOut])
def article_versions(
    article_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> list[VersionOut]:
    """Every change: who, when, what the article said after it."""
    return [_version_out(v) for v in views.versions(session, principal, article_id, today(ctx))]


@router.get("/articles/{article_id}/versions/{version}", response_model=VersionOut)
def article_version(
    article_id: RowId, version: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> VersionOut:
    """One version as it stood (e.g. the one a case's answer cites)."""
    views.get(session, principal, article_id, today(ctx))
    row = versions.version(session, article_id, version)
    if row is None:
        raise NotFound(f"article {article_id} has no version {version}")
    return _version_out(row)


# The review steps: POST /articles/{id}/submit, …/publish, …/reject, …/expire, with a note.
STEP_DOCS = {
    "submit": "Ask for review (a draft, or an expired article checked again).",
    "publish": "The review passes (by someone other than who submitted it); open flags are "
    "resolved.",
    "reject": "The review fails: back to draft; ``note`` says what must change.",
    "expire": "Withdraw a published article: operators stop finding it.",
}


def _add_step_route(what: str, doc: str) -> None:
    """The route of one review step, named ``<step>_article`` (its OpenAPI operation)."""
    take = lifecycle.STEPS[what]

    def step(
        article_id: RowId, body: Note, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
    ) -> ArticleOut:
        with session.begin():
            article = take(session, principal, article_id, ctx.clock.now(), body.note)
            return article_out(article, today(ctx), session=session)

    step.__name__ = step.__qualname__ = f"{what}_article"
    step.__doc__ = doc
    router.add_api_route(
        f"/articles/{{article_id}}/{what}", step, methods=["POST"], response_model=ArticleOut
    )


for _what, _doc in STEP_DOCS.items():
    _add_step_route(_what, _doc)


def _created_or_found(model: type[BaseModel], found: str) -> dict[str, Any]:
    """A POST that answers 201 when it creates, 200 (``found``) when it was done before."""
    return {
        "status_code": 201,
        "response_model": model,
        "responses": {200: {"model": model, "description": found}},
    }


def _say_found(response: Response, created: bool) -> None:
    if not created:
        response.status_code = 200


@router.get("/review", response_model=ArticleList)
def review_list(ctx: Ctx, session: DbSession, principal: CurrentPrincipal) -> ArticleList:
    """What waits for the caller: in review, expired or past review date, flagged."""
    on = today(ctx)
    return ArticleList(
        items=[article_out(a, on) for a in views.review_list(session, principal, on)]
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
                version=versions.served_version(session, h.article),
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


@router.post("/flags", **_created_or_found(FlagOut, "the same flag was raised before"))
def flag_article(
    body: FlagIn, ctx: Ctx, session: DbSession, principal: CurrentPrincipal, response: Response
) -> FlagOut:
    """From a case the caller may see: the article it was answered from (or any article) is
    wrong or out of date. The same article, kind and case again answers with the first flag."""
    with session.begin():
        queries.get_visible(session, principal, body.case_id, ctx.city)
        raised, new = flag(
            session,
            principal,
            body.article_id,
            answers.cited_version(session, body.case_id, body.article_id),
            body.case_id,
            FlagKind(body.kind),
            ctx.clock.now(),
            body.note,
        )
        _say_found(response, new)
        return FlagOut.model_validate(raised, from_attributes=True)


@router.post("/answers", **_created_or_found(AnswerOut, "this call id was recorded before"))
def answer_at_intake(
    body: AnswerIn, ctx: Ctx, session: DbSession, principal: CurrentPrincipal, response: Response
) -> AnswerOut:
    """直接答复: the call becomes a case closed at intake, with the answer and the cited
    article version in its audit trail."""
    answered = answers.answer_at_intake(
        ctx.cases, principal, answers.DirectAnswer(**body.model_dump()), today(ctx)
    )
    _say_found(response, answered.created)
    case = answered.case
    view = queries.public_view(session, principal, case, ctx.cases.allowed_actions(principal, case))
    return AnswerOut(
        case=view, article_id=answered.article_id, article_version=answered.article_version
    )
