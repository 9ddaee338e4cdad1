"""The rule table page: the active version and history, upload a candidate (text or file),
check it (problems by row and field, warnings), see its diff against the live table, and
activate it (hot reload for every process)."""

from __future__ import annotations

import difflib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from engine.db import new_session
from engine.dispatch import rule_versions as store
from engine.errors import GridflowError
from engine.users.models import Role
from web.deps import Ctx
from web.pages import sessions
from web.pages.admin_backtest import MAX_CASES, run_backtest
from web.pages.people import display_names
from web.pages.rule_messages import finding_words, problem_words, target_words
from web.pages.templating import PageUser
from web.pages.views import error_text, page, require_role

router = APIRouter(include_in_schema=False)

MAX_TEXT = 1_000_000


def _rules_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, status_code: int = 200, **values: object
) -> Response:
    with new_session(ctx.db) as session:
        active = store.active_record(session)
        versions = store.history(session)
        who = [r.created_by for r in versions] + ([active.activated_by] if active else [])
        names = display_names(session, who)  # people by name, not username
    return page(
        request, ctx, "admin/rules.html", user, status_code, active=active, versions=versions,
        names=names,
        problem_words=problem_words, finding_words=finding_words, target_words=target_words,
        bt_max=MAX_CASES, **values,
    )  # fmt: skip


async def _candidate(request: Request, user: sessions.PageSession) -> str:
    require_role(user, {Role.admin})
    posted = await request.form(max_files=1, max_fields=5)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    upload = posted.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_TEXT + 1)
        text = raw.decode("utf-8", errors="replace")
    else:
        text = str(posted.get("text") or "")
    return text[:MAX_TEXT]


@router.get("/admin/rules", response_class=HTMLResponse)
def rules(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, {Role.admin})
    return _rules_page(request, ctx, user)


@router.post("/admin/rules/check", response_class=HTMLResponse)
async def check(request: Request, ctx: Ctx, user: PageUser) -> Response:
    text = await _candidate(request, user)
    table, problems, findings = store.inspect(text, ctx.city)
    with new_session(ctx.db) as session:
        active = store.active_record(session)
    live = active.text if active is not None else ""
    diff = list(
        difflib.unified_diff(
            live.splitlines(), text.splitlines(), "active", "candidate", n=2, lineterm=""
        )
    )
    return _rules_page(
        request, ctx, user, 200 if not problems else 422, text=text, problems=problems,
        findings=findings, diff=diff, ok=not problems and table is not None,
        version=table.version if table is not None else None,
    )  # fmt: skip


@router.post("/admin/rules/activate", response_class=HTMLResponse)
async def activate(request: Request, ctx: Ctx, user: PageUser) -> Response:
    text = await _candidate(request, user)
    try:
        with new_session(ctx.db) as session, session.begin():
            done = ctx.rules.activate(session, text, ctx.city, user.principal.name, ctx.clock.now())
        ctx.rules.accepted(done)
    except GridflowError as exc:
        return _rules_page(request, ctx, user, 422, text=text, error=error_text(exc))
    return _rules_page(request, ctx, user, activated=done.table.version)


@router.post("/admin/rules/backtest", response_class=HTMLResponse)
async def backtest(request: Request, ctx: Ctx, user: PageUser) -> Response:
    """Replay the recent closed cases against the posted table (nothing is written); a table
    with problems is shown with them, in words, and not replayed."""
    text = await _candidate(request, user)
    table, problems, findings = store.inspect(text, ctx.city)
    if problems or table is None:
        return _rules_page(
            request, ctx, user, 422, text=text, problems=problems, findings=findings,
            ok=False, version=table.version if table is not None else None,
        )  # fmt: skip
    with new_session(ctx.db) as session:
        report = run_backtest(session, table, ctx.city, ctx.clock.now())
    return _rules_page(
        request, ctx, user, text=text, problems=[], findings=findings, ok=True,
        version=table.version, backtest=report,
    )  # fmt: skip
