"""Knowledge-base pages (知识库, docs/KNOWLEDGE.md): keepers (administrators, a department's
handlers) list, write, review and publish articles; the desks read published ones. The
intake form's panel (templates/knowledge/_panel.html, static/knowledge.js) finds articles
while the operator types and answers the call at intake (直接答复) in one step."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engine.cases.models import RECORDING_URL_PATTERN
from engine.db import new_session
from engine.errors import GridflowError, InvalidInput
from engine.knowledge import answers, search, service
from engine.knowledge.models import ArticleFields, split_codes
from engine.users.models import Role
from web.deps import Ctx, RowId
from web.pages import sessions
from web.pages.i18n import MESSAGES
from web.pages.templating import PageUser, render
from web.pages.views import done, error_status, error_text, page, require_role

router = APIRouter(include_in_schema=False)

KEEPERS = {Role.admin, Role.handler}
READERS = set(service.READERS)
STEPS = {
    "submit": service.submit,
    "publish": service.publish,
    "reject": service.reject,
    "expire": service.expire,
}
FORM_FIELDS = (
    "title", "question", "answer", "source", "source_date", "categories", "departments",
    "valid_from", "review_by",
)  # fmt: skip

KNOWLEDGE_MESSAGES: dict[str, dict[str, str]] = {
    "kb_title": {"zh": "知识库", "en": "Knowledge base"},
    "kb_new": {"zh": "新建知识", "en": "New article"},
    "kb_review": {"zh": "待审核 / 待复审", "en": "To review"},
    "kb_all": {"zh": "全部知识", "en": "All articles"},
    "kb_search": {"zh": "搜索知识库", "en": "Search the knowledge base"},
    "kb_search_hint": {
        "zh": "输入来电人的问题，匹配的知识会显示在下方",
        "en": "Type the caller's question; matching articles appear below",
    },
    "kb_none": {"zh": "没有匹配的知识", "en": "No matching article"},
    "kb_f_title": {"zh": "标题", "en": "Title"},
    "kb_f_question": {"zh": "问题", "en": "Question"},
    "kb_f_answer": {"zh": "答复口径", "en": "Answer"},
    "kb_f_source": {"zh": "政策依据", "en": "Policy source"},
    "kb_f_source_date": {"zh": "政策日期", "en": "Policy date"},
    "kb_f_categories": {
        "zh": "事项分类（代码，空格分隔）",
        "en": "Categories (codes, space-separated)",
    },
    "kb_f_departments": {
        "zh": "相关部门（代码，空格分隔）",
        "en": "Departments (codes, space-separated)",
    },
    "kb_f_valid_from": {"zh": "生效日期", "en": "Valid from"},
    "kb_f_review_by": {"zh": "复审日期", "en": "Review by"},
    "kb_f_note": {"zh": "审核意见", "en": "Review note"},
    "kb_owner": {"zh": "维护部门", "en": "Kept by"},
    "kb_owner_admin": {"zh": "管理员", "en": "Administrators"},
    "kb_status": {"zh": "状态", "en": "Status"},
    "kb_version": {"zh": "版本", "en": "Version"},
    "kb_updated": {"zh": "更新", "en": "Updated"},
    "kb_versions": {"zh": "修订记录", "en": "Versions"},
    "kb_flags": {"zh": "待处理的反馈", "en": "Open flags"},
    "kb_needs_review": {"zh": "需复审", "en": "Needs review"},
    "kb_status_draft": {"zh": "草稿", "en": "Draft"},
    "kb_status_in_review": {"zh": "待审核", "en": "In review"},
    "kb_status_published": {"zh": "已发布", "en": "Published"},
    "kb_status_expired": {"zh": "已失效", "en": "Expired"},
    "kb_change_create": {"zh": "新建", "en": "Created"},
    "kb_change_edit": {"zh": "修改", "en": "Edited"},
    "kb_change_submit": {"zh": "提交审核", "en": "Submitted"},
    "kb_change_publish": {"zh": "审核发布", "en": "Published"},
    "kb_change_reject": {"zh": "退回修改", "en": "Sent back"},
    "kb_change_expire": {"zh": "失效", "en": "Expired"},
    "kb_flag_wrong": {"zh": "答复有误", "en": "Wrong"},
    "kb_flag_outdated": {"zh": "已过时", "en": "Out of date"},
    "kb_flag_repeat_call": {"zh": "答复后重复来电", "en": "Repeat call after the answer"},
    "kb_save": {"zh": "保存", "en": "Save"},
    "kb_edit_note": {
        "zh": "修改已发布的知识会生成待审核的修订稿；审核发布前，话务员仍看到现行版本。",
        "en": "Editing a published article makes a revision to review; until it is published, "
        "operators keep reading the current version.",
    },
    "kb_revision": {"zh": "待审核修订稿", "en": "Revision waiting for review"},
    "kb_revision_note": {
        "zh": "话务员目前看到的是版本 {served}；此修订稿审核发布后才会替换。",
        "en": "Operators read version {served}; this revision replaces it once published.",
    },
    "kb_use": {"zh": "用此答复", "en": "Answer with this"},
    "kb_full": {"zh": "查看全文", "en": "Full text"},
    "kb_answer_title": {"zh": "直接答复（即时办结）", "en": "Answer at intake"},
    "kb_answer_hint": {
        "zh": "来电人满意答复时，登记并当场办结；需要部门处理时请按上方表单正常登记。",
        "en": "When the answer settles the call it is recorded and closed now; if the caller "
        "needs a department, file the case with the form above.",
    },
    "kb_answer_text": {"zh": "答复内容", "en": "Answer given"},
    "kb_answer_article": {"zh": "引用知识", "en": "From article"},
    "kb_answer_submit": {"zh": "直接答复并办结", "en": "Answer and close"},
    "kb_from": {"zh": "出自", "en": "Source"},
    "act_kb_saved": {"zh": "保存", "en": "Save"},
    "act_kb_submit": {"zh": "提交审核", "en": "Submit for review"},
    "act_kb_publish": {"zh": "审核通过并发布", "en": "Approve and publish"},
    "act_kb_reject": {"zh": "退回修改", "en": "Send back"},
    "act_kb_expire": {"zh": "设为失效", "en": "Withdraw"},
    "act_answer_at_intake": {"zh": "直接答复", "en": "Answer at intake"},
    "f_recording_url": {"zh": "通话录音", "en": "Call recording"},
    "recording_listen": {"zh": "收听录音", "en": "Listen to the recording"},
    "recording_kept": {
        "zh": "本次通话录音将随案件保存",
        "en": "The call's recording is kept with the case",
    },
}
MESSAGES.update(KNOWLEDGE_MESSAGES)  # the pages' own text, next to the others


CALL_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
PHONE = re.compile(r"^[0-9+\- ]{3,30}$")
RECORDING = re.compile(RECORDING_URL_PATTERN)  # and at most RECORDING_MAX characters
RECORDING_MAX = 300


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
    if RECORDING.match(recording) and len(recording) <= RECORDING_MAX:
        values["recording_url"] = form["recording_url"] = recording  # a case keeps it either way
    return values


def _today(ctx: Ctx) -> date:
    return service.local_today(ctx.clock.now(), ctx.city.timezone)


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


async def _form(request: Request, user: sessions.PageSession, roles: set[Role]) -> dict[str, str]:
    require_role(user, roles)
    posted = await request.form(max_files=0, max_fields=30)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    return {k: v for k, v in posted.items() if isinstance(v, str)}


def _list_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, review: bool = False, **values: Any
) -> Response:
    principal, on = user.principal, _today(ctx)
    status = request.query_params.get("status") or None
    q = (request.query_params.get("q") or "").strip()[: search.MAX_QUERY]
    with new_session(ctx.db) as session:
        if review:
            rows = service.review_list(session, principal, on)
        elif q:
            hidden = principal.role in KEEPERS
            rows = [h.article for h in search.search(session, q, on, None, 50, hidden)]
            kept = service.kept_condition(principal)
            if hidden and kept is not None:
                rows = [a for a in rows if service.may_keep(principal, a.owner_department)]
        else:
            rows = service.list_articles(session, principal, on, status)
    return page(
        request, ctx, "knowledge/list.html", user, rows=rows, review=review, q=q, status=status,
        keeper=principal.role in KEEPERS, today=on, effective=service.effective_status,
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
            article = service.create(
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
    q = (request.query_params.get("q") or "").strip()[: search.MAX_QUERY]
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
            answer=(form.get("answer") or "").strip() or None,
            article_id=int(article) if article else None,
            category=category,
            reporter_phone=(form.get("reporter_phone") or "").strip() or None,
            reporter_name=(form.get("reporter_name") or "").strip() or None,
            call_id=(form.get("call_id") or form.get("external_id") or "").strip() or None,
            recording_url=(form.get("recording_url") or "").strip() or None,
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
        article = service.get(session, principal, article_id, on)
        keeper = service.may_keep(principal, article.owner_department)
        versions = service.versions(session, principal, article_id, on) if keeper else []
        flags = service.open_flags(session, article_id) if keeper else []
        pending = service.revision(session, article) if keeper else None
        served = service.served_version(session, article)
    return page(
        request, ctx, "knowledge/article.html", user, status_code, article=article,
        keeper=keeper, versions=versions, flags=flags, shown=service.effective_status(article, on),
        codes=split_codes, revision=pending, served=served, **values,
    )  # fmt: skip


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
            service.edit(
                session, user.principal, article_id, _fields(form), ctx.city, ctx.clock.now(),
                int(version) if version.isdigit() else None,
            )  # fmt: skip
    except GridflowError as exc:
        return _article_page(
            request, ctx, user, article_id, error_status(exc), error=error_text(exc)
        )
    return done(f"/knowledge/{article_id}", "kb_saved")


@router.post("/knowledge/{article_id}/{step}", response_class=HTMLResponse)
async def article_step(
    article_id: RowId, step: str, request: Request, ctx: Ctx, user: PageUser
) -> Response:
    form = await _form(request, user, KEEPERS)
    try:
        if step not in STEPS:
            raise InvalidInput("step", f"one of {sorted(STEPS)}")
        with new_session(ctx.db) as session, session.begin():
            STEPS[step](session, user.principal, article_id, ctx.clock.now(), form.get("note", ""))
    except GridflowError as exc:
        return _article_page(
            request, ctx, user, article_id, error_status(exc), error=error_text(exc)
        )
    return done(f"/knowledge/{article_id}", f"kb_{step}")
