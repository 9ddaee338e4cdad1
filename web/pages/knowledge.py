"""Knowledge-base pages (知识库, docs/KNOWLEDGE.md): keepers (administrators, a department's
handlers) list, write, review and publish articles; the desks read published ones. The
intake form's panel (templates/knowledge/_panel.html, static/knowledge.js) finds articles
while the operator types and answers the call at intake (直接答复) in one step."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engine.db import new_session
from engine.errors import GridflowError, InvalidInput
from engine.knowledge import answers, lifecycle, search, versions, views
from engine.knowledge.access import (
    KEEPERS,
    READERS,
    effective_status,
    kept_condition,
    local_today,
    may_keep,
)
from engine.knowledge.flags import open_flags
from engine.knowledge.models import ArticleFields, split_codes
from engine.users.models import Role
from web.deps import Ctx, RowId
from web.pages import sessions
from web.pages.i18n import MESSAGES
from web.pages.messages_knowledge import KNOWLEDGE_MESSAGES
from web.pages.templating import PageUser, render
from web.pages.views import done, error_status, error_text, page, require_role

router = APIRouter(include_in_schema=False)

FORM_FIELDS = (
    "title", "question", "answer", "source", "source_date", "categories", "departments",
    "valid_from", "review_by",
)  # fmt: skip

MESSAGES.update(KNOWLEDGE_MESSAGES)  # the pages' own text, next to the others


CALL_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
PHONE = re.compile(r"^[0-9+\- ]{3,30}$")


def call_popup(request: Request) -> dict[str, Any]:
    """来电弹屏: what the phone system's ``/intake?phone=…&call_id=…&recording=…`` puts on
    the intake form: the caller's number, the call id (as the ticket number, so a resent
    call finds its case) and the recording URL for the knowledge panel. Malformed values are
    left out rather than refused: the operator is on the phone."""
    params = request.query_params
    phone = (params.get("phone") or "").strip()
    call_id = (params.get("call_id") or "").strip()
    recording = (params.get("recording") or params.get("recording_url") or "").strip()
    form: dict[str, str] = {}
    if PHONE.match(phone):
        form["reporter_phone"] = phone
    if CALL_ID.match(call_id):
        form["external_id"] = call_id
    values: dict[str, Any] = {"form": form} if form else {}
    if answers.RECORDING.match(recording) and len(recording) <= answers.MAX_RECORDING:
        values["recording_url"] = form["recording_url"] = recording  # a case keeps it either way
    return values


def _today(ctx: Ctx) -> date:
    return local_today(ctx.clock.now(), ctx.city.timezone)


def _query(request: Request) -> str:
    """The search box's words, cut to what a search reads."""
    return (request.query_params.get("q") or "").strip()[: search.MAX_QUERY]


def _given(form: dict[str, str], name: str) -> str | None:
    """A form field's trimmed text, None when left empty."""
    return (form.get(name) or "").strip() or None


def _optional_date(form: dict[str, str], name: str) -> date | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(name, "a date YYYY-MM-DD") from None


def _fields(form: dict[str, str]) -> ArticleFields:
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    for name in ("source_date", "valid_from", "review_by"):
        values[name] = _optional_date(form, name)
    for name in ("title", "question", "answer"):
        if not values[name]:
            raise InvalidInput(name, "must not be empty")
    if len(values["answer"]) > answers.MAX_ANSWER:
        raise InvalidInput("answer", f"at most {answers.MAX_ANSWER} characters")
    return ArticleFields.model_validate(values)


async def _form(
    request: Request, user: sessions.PageSession, roles: Iterable[Role]
) -> dict[str, str]:
    require_role(user, roles)
    posted = await request.form(max_files=0, max_fields=30)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    return {k: v for k, v in posted.items() if isinstance(v, str)}


def _list_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, review: bool = False, **values: Any
) -> Response:
    principal, on = user.principal, _today(ctx)
    status = request.query_params.get("status") or None
    q = _query(request)
    with new_session(ctx.db) as session:
        if review:
            rows = views.review_list(session, principal, on)
        elif q:
            hidden = principal.role in KEEPERS
            rows = [h.article for h in search.search(session, q, on, None, 50, hidden)]
            kept = kept_condition(principal)
            if hidden and kept is not None:
                rows = [a for a in rows if may_keep(principal, a.owner_department)]
        else:
            rows = views.list_articles(session, principal, on, status)
    return page(
        request, ctx, "knowledge/list.html", user, rows=rows, review=review, q=q, status=status,
        keeper=principal.role in KEEPERS, today=on, effective=effective_status,
        **values,
    )  # fmt: skip


@router.get("/knowledge", response_class=HTMLResponse)
def article_list(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, READERS)
    return _list_page(request, ctx, user)


@router.get("/knowledge/review", response_class=HTMLResponse)
def review_list(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, KEEPERS)
    return _list_page(request, ctx, user, review=True)


@router.get("/knowledge/new", response_class=HTMLResponse)
def new_article(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, KEEPERS)
    return page(request, ctx, "knowledge/edit.html", user, article=None, form={})


@router.post("/knowledge/new", response_class=HTMLResponse)
async def create_article(request: Request, ctx: Ctx, user: PageUser) -> Response:
    form = await _form(request, user, KEEPERS)
    try:
        owner = form.get("owner_department", "").strip() or None
        with new_session(ctx.db) as session, session.begin():
            article = lifecycle.create(
                session, user.principal, _fields(form), ctx.city, ctx.clock.now(), owner
            )
            article_id = article.id
    except GridflowError as exc:
        return page(
            request, ctx, "knowledge/edit.html", user, error_status(exc), article=None, form=form,
            error=error_text(exc),
        )  # fmt: skip
    return done(f"/knowledge/{article_id}", "kb_saved")


@router.get("/knowledge/panel", response_class=HTMLResponse)
def panel_results(request: Request, ctx: Ctx, user: PageUser) -> Response:
    """The intake panel's results (a fragment the panel's script puts in place)."""
    require_role(user, READERS)
    q = _query(request)
    category = (request.query_params.get("category") or "").strip()[:5]
    category = category if category.isdigit() and len(category) == 5 else None
    hits: list[search.Hit] = []
    if q:
        with new_session(ctx.db) as session:
            hits = search.search(session, q, _today(ctx), category, 5)
    return render(request, "knowledge/_results.html", page=user, hits=hits, q=q)


@router.post("/knowledge/answer", response_class=HTMLResponse)
async def answer_call(request: Request, ctx: Ctx, user: PageUser) -> Response:
    """直接答复 from the intake page: the call is recorded as a case closed at intake."""
    form = await _form(request, user, {Role.operator})
    try:
        article = form.get("article_id", "").strip()
        if article and not article.isdigit():
            raise InvalidInput("article_id", "an article number")
        category = (form.get("category") or "").strip()[:5] or None  # "12005 政策咨询"
        call = answers.DirectAnswer(
            description=(form.get("description") or "").strip(),
            answer=_given(form, "answer"),
            article_id=int(article) if article else None,
            category=category,
            reporter_phone=_given(form, "reporter_phone"),
            reporter_name=_given(form, "reporter_name"),
            call_id=(form.get("call_id") or form.get("external_id") or "").strip() or None,
            recording_url=_given(form, "recording_url"),
            grid_code=(form.get("grid_code") or "").strip().split(" ")[0] or None,  # "code name"
        )
        if not call.description:
            raise InvalidInput("description", "must not be empty")
        answered = answers.answer_at_intake(ctx.cases, user.principal, call, _today(ctx))
    except (GridflowError, ValueError) as exc:
        text = error_text(exc) if isinstance(exc, GridflowError) else str(exc)
        status = error_status(exc) if isinstance(exc, GridflowError) else 422
        return page(request, ctx, "knowledge/answer_failed.html", user, status, error=text)
    return done(f"/cases/{answered.case.id}", "answer_at_intake")


def _article_page(
    request: Request,
    ctx: Ctx,
    user: sessions.PageSession,
    article_id: int,
    status_code: int = 200,
    **values: Any,
) -> Response:
    principal, on = user.principal, _today(ctx)
    with new_session(ctx.db) as session:
        article = views.get(session, principal, article_id, on)
        keeper = may_keep(principal, article.owner_department)
        history = views.versions(session, principal, article_id, on) if keeper else []
        flags = open_flags(session, article_id) if keeper else []
        pending = versions.revision(session, article) if keeper else None
        served = versions.served_version(session, article)
    return page(
        request, ctx, "knowledge/article.html", user, status_code, article=article,
        keeper=keeper, versions=history, flags=flags, shown=effective_status(article, on),
        codes=split_codes, revision=pending, served=served, **values,
    )  # fmt: skip


def _article_failed(
    request: Request, ctx: Ctx, user: sessions.PageSession, article_id: int, exc: GridflowError
) -> Response:
    """The article's page again, saying why the change was refused."""
    return _article_page(request, ctx, user, article_id, error_status(exc), error=error_text(exc))


@router.get("/knowledge/{article_id}", response_class=HTMLResponse)
def article_page(article_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, READERS)
    return _article_page(request, ctx, user, article_id)


@router.post("/knowledge/{article_id}", response_class=HTMLResponse)
async def edit_article(article_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    form = await _form(request, user, KEEPERS)
    try:
        version = form.get("version", "")
        with new_session(ctx.db) as session, session.begin():
            lifecycle.edit(
                session, user.principal, article_id, _fields(form), ctx.city, ctx.clock.now(),
                int(version) if version.isdigit() else None,
            )  # fmt: skip
    except GridflowError as exc:
        return _article_failed(request, ctx, user, article_id, exc)
    return done(f"/knowledge/{article_id}", "kb_saved")


@router.post("/knowledge/{article_id}/{step}", response_class=HTMLResponse)
async def article_step(
    article_id: RowId, step: str, request: Request, ctx: Ctx, user: PageUser
) -> Response:
    form = await _form(request, user, KEEPERS)
    try:
        take = lifecycle.STEPS.get(step)
        if take is None:
            raise InvalidInput("step", f"one of {sorted(lifecycle.STEPS)}")
        with new_session(ctx.db) as session, session.begin():
            take(session, user.principal, article_id, ctx.clock.now(), form.get("note", ""))
    except GridflowError as exc:
        return _article_failed(request, ctx, user, article_id, exc)
    return done(f"/knowledge/{article_id}", f"kb_{step}")
