"""The hotline operator's intake form: category search, grid picker, request type, urgency,
caller contact; likely duplicates (and the text router's suggestions) are shown before the
case is saved, then the case page. As the caller speaks, the form asks ``POST
/intake/suggest`` (debounced in web/static/gridflow.js) for the router's top-3 categories."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from engine import access
from engine.cases.models import Case, CaseCreate, Channel, RequestType, Urgency
from engine.city.models import Tier
from engine.classifier.text import case_text
from engine.db import new_session
from engine.errors import GridflowError, InvalidInput
from engine.search import views as search
from engine.users.models import Role
from web.deps import Ctx
from web.pages import sessions
from web.pages.form_errors import refusal_words, validation_words
from web.pages.i18n import MESSAGES, language
from web.pages.intake_support import FINAL, likely_duplicates
from web.pages.knowledge import call_popup
from web.pages.templating import PageUser
from web.pages.views import View, error_status, page, require_role

router = APIRouter(include_in_schema=False)

OPERATOR_MESSAGES: dict[str, dict[str, str]] = {
    "caller_history": {"zh": "来电人历史工单", "en": "The caller's earlier cases"},
    "caller_history_none": {"zh": "该号码暂无历史工单", "en": "No earlier cases from this number"},
    "caller_lookup": {"zh": "查来电历史", "en": "The caller's earlier cases"},
    "urge": {"zh": "记为催办", "en": "Record as an urge"},
    "urge_note": {"zh": "再次来电：{text}", "en": "Called again: {text}"},
}
MESSAGES.update(OPERATOR_MESSAGES)  # this page's own text, next to the others

INTAKE_ROLES = {Role.operator, Role.dispatcher, Role.admin}
FIELDS = (
    "category", "description", "address", "grid_code", "request_type", "urgency",
    "reporter_name", "reporter_phone", "external_id", "recording_url",
)  # fmt: skip
LEADING_CODE = re.compile(r"^\s*(\d+)")
CALLBACKS = 20
HISTORY = 10  # the caller's earlier cases shown
PHONE = re.compile(r"[0-9+\- ]{3,30}")
MAX_TEXT = 4000  # the description's maxlength; longer text is cut, not refused
MIN_SUGGEST_TEXT = 2  # characters before suggestions are worth asking for


def _code(text: str | None) -> str | None:
    """ "06002 垃圾堆积" → "06002" (the pickers show code and name)."""
    match = LEADING_CODE.match(text or "")
    return match.group(1) if match else None


def _form_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, status_code: int = 200, **values: Any
) -> Response:
    city = ctx.city
    grids = sorted((code, unit.name) for code, unit in city.units.items() if unit.tier is Tier.grid)
    values.setdefault("form", {})
    with new_session(ctx.db) as session:
        callbacks = _callbacks(session, user, ctx)
        history = caller_history(session, user, ctx, values["form"].get("reporter_phone"))
    return page(
        request, ctx, "operator/intake.html", user, status_code,
        categories=sorted(city.categories.values(), key=lambda c: c.code), grids=grids,
        request_types=list(RequestType), urgencies=list(Urgency), callbacks=callbacks,
        live_suggest=ctx.router.present(), history=history, final_states=FINAL, **values,
    )  # fmt: skip


def caller_history(
    session: Session, user: sessions.PageSession, ctx: Ctx, phone: str | None
) -> list[Case]:
    """The caller's earlier cases (来电历史), any state, the open ones first, each part newest
    first: what the pop-up shows beside a call, so a repeat call finds the case it is about
    at the top, and a second call about another topic sees the first."""
    principal = user.principal
    if not phone or not PHONE.fullmatch(phone) or not access.sees_contact(principal):
        return []
    try:
        same_caller = search.by_phone(principal, phone)
    except GridflowError:  # not a phone number after all
        return []
    query = (
        select(Case)
        .where(same_caller, access.case_scope(principal, ctx.city))
        .order_by(col(Case.state).in_(FINAL), col(Case.id).desc())  # False (open) first
        .limit(HISTORY)
    )
    return list(session.exec(query))


def _callbacks(session: Session, user: sessions.PageSession, ctx: Ctx) -> list[Case]:
    """Resolved cases waiting for a callback (回访) that the operator may see."""
    if "callback" not in ctx.workflow.actions_for("resolved", user.principal.role):
        return []
    query = (
        select(Case)
        .where(Case.state == "resolved", access.case_scope(user.principal, ctx.city))
        .order_by(col(Case.updated_at))
        .limit(CALLBACKS)
    )
    return list(session.exec(query))


@router.get("/intake", response_class=HTMLResponse)
def intake_form(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, INTAKE_ROLES)
    return _form_page(request, ctx, user, **call_popup(request))  # 来电弹屏


@router.get("/intake/caller-history", response_class=HTMLResponse)
def caller_history_part(
    request: Request,
    ctx: Ctx,
    user: PageUser,
    phone: Annotated[str, Query(max_length=30)] = "",
    text: Annotated[str, Query(max_length=MAX_TEXT)] = "",
) -> Response:
    """The intake page's 来电历史 alone, for the number being typed (gridflow.js asks as the
    operator types; without script, 查来电历史 posts the form). ``text``: what the caller says
    now, carried into a 催办 note."""
    require_role(user, INTAKE_ROLES)
    with new_session(ctx.db) as session:
        history = caller_history(session, user, ctx, phone)
    form = {"reporter_phone": phone, "description": text}
    return page(
        request, ctx, "operator/_caller_history.html", user, history=history, form=form,
        final_states=FINAL,
    )  # fmt: skip


def _case_data(form: dict[str, str]) -> CaseCreate:
    phone = form.get("reporter_phone")
    if phone and not PHONE.fullmatch(phone):
        raise InvalidInput("reporter_phone", f"{phone!r}: digits, spaces, + and - only")
    return CaseCreate(
        channel=Channel.hotline,
        category=_code(form.get("category")),
        description=form.get("description") or "",
        address=form.get("address") or None,
        grid_code=_code(form.get("grid_code")),
        request_type=form.get("request_type") or None,
        urgency=form.get("urgency") or None,
        reporter_name=form.get("reporter_name") or None,
        reporter_phone=form.get("reporter_phone") or None,
        external_id=form.get("external_id") or None,
        recording_url=form.get("recording_url") or None,  # from the call pop-up (来电弹屏)
    )


@router.post("/intake", response_class=HTMLResponse)
async def intake(request: Request, ctx: Ctx, user: PageUser) -> Response:
    """Check for likely duplicates first; save when there are none or the operator confirms."""
    principal = require_role(user, INTAKE_ROLES)
    posted = await request.form(max_files=0, max_fields=30)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    form = {name: str(posted.get(name) or "").strip() for name in FIELDS}
    if posted.get("history") == "1":  # 查来电历史: the caller's earlier cases, nothing saved
        return _form_page(request, ctx, user, form=form)
    try:
        data = _case_data(form)
    except ValidationError as exc:
        text = validation_words(exc, View(ctx, language(request)))
        if any(error["loc"][-1:] == ("recording_url",) for error in exc.errors()):
            form.pop("recording_url")  # a hidden field: the next save goes without it
        return _form_page(request, ctx, user, 422, form=form, error=text)
    except InvalidInput as exc:
        text = refusal_words(exc, View(ctx, language(request)))
        return _form_page(request, ctx, user, 422, form=form, error=text)
    asked = posted.get("suggest") == "1"
    if asked or posted.get("confirm") != "1":
        with new_session(ctx.db) as session:
            duplicates = likely_duplicates(
                session, principal, ctx.city, data.category, data.grid_code, data.reporter_phone
            )
        suggestions = await run_in_threadpool(ctx.router.suggest, case_text(data))
        if asked or duplicates or (suggestions and not data.category):
            return _form_page(
                request, ctx, user, form=form, duplicates=duplicates, suggestions=suggestions,
                asked=asked,
            )  # fmt: skip
    try:
        result = await run_in_threadpool(ctx.cases.intake, principal, data)
    except GridflowError as exc:  # nothing was written: outside the area is a 403
        text = refusal_words(exc, View(ctx, language(request)))
        return _form_page(request, ctx, user, error_status(exc), form=form, error=text)
    return RedirectResponse(f"/cases/{result.case.id}?done=register", status_code=303)


@dataclass(frozen=True)
class CallText:
    description: str
    address: str | None


@router.post("/intake/suggest", response_class=JSONResponse)
async def suggest(request: Request, ctx: Ctx, user: PageUser) -> Response:
    """The text router's top-3 categories for the call so far (the form's description and
    address), as JSON for the intake form: ``{"model": bool, "suggestions": [{"category",
    "label", "name", "name_en", "confidence"}]}``; ``model`` is false without a model."""
    require_role(user, INTAKE_ROLES)
    posted = await request.form(max_files=0, max_fields=5)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    description = str(posted.get("description") or "").strip()[:MAX_TEXT]
    address = str(posted.get("address") or "").strip()[:MAX_TEXT] or None
    model = ctx.router.get() is not None
    found = []
    if model and len(description) >= MIN_SUGGEST_TEXT:
        text = case_text(CallText(description, address))
        found = await run_in_threadpool(ctx.router.suggest, text) or []
    categories, items = ctx.city.categories, []
    for item in found:
        known = categories.get(item.category)
        name = known.name if known else ""
        items.append({
            "category": item.category, "label": f"{item.category} {name}".strip(), "name": name,
            "name_en": known.name_en if known else None, "confidence": item.confidence,
        })  # fmt: skip
    return JSONResponse({"model": model, "suggestions": items})
